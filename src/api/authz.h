/*
 * Rights that depend on the row and the caller, beyond authn_allowed's
 * per-model read/write lists: the model's row scope (access.scope) and
 * the per-role field subsets (access.fields). docs/auth.md, "Row scopes"
 * and "Field subsets", describes the behaviour.
 *
 * Every function is cheap when nothing applies (an app without auth, a
 * model without scope or subsets, a superuser): it returns at once, so
 * those requests keep the plain statements.
 */
#ifndef RESTD_AUTHZ_H
#define RESTD_AUTHZ_H

#include <stdbool.h>

#include "app/app.h"
#include "http/rq.h"
#include "store/store.h"

/* Whether role is one of the app's superusers (every right, every row,
 * every field). */
bool authz_superuser(const app_auth *au, const char *role);

/* What limits this caller's rows of m, for the store's scope_user: the
 * row scope and the per-holder roles (store.h, store_scope); NULL when
 * every row is reachable (no auth, neither scope nor role_in, a superuser,
 * an exempt role without overrides that may read and write). Looks up
 * once whether the caller holds overrides of m's role_in. In r->a. */
const store_scope *authz_scope_user(rq *r, const app_model *m);

/* authn_allowed (the model's read or write list), or else an override of
 * m's role_in whose role is in that list, held in some holder: the
 * statements then reach only the rows the caller's role there allows.
 * Sends the refusal (authn_allowed's) and returns false otherwise. The
 * generic routes and the app-route building blocks (ext.h) use it, with
 * the scope in their statements. */
bool authz_allowed(rq *r, const app_model *m, bool write);

/* base (an omit mask, or NULL) with the fields the caller's role is not
 * served of m also left out; base itself when no subset applies. In r->a. */
const bool *authz_omit(rq *r, const app_model *m, const bool *base);

/* The first filter term (from index `from` on) or sort key of q that
 * names a field the caller may not filter or sort on (one it is not
 * served, unless access.fields says otherwise), or NULL when there is none;
 * *is_sort says which kind it was. The caller answers as it does for an
 * unknown field, so a hidden field does not show through. */
const app_field *authz_hidden_term(rq *r, const app_model *m, const store_query *q, size_t from, bool *is_sort);

#endif
