/*
 * Shared between the files of store/ only: the statement cache and the SQL
 * builders. Nothing outside store/ includes this.
 */
#ifndef RESTD_STORE_INT_H
#define RESTD_STORE_INT_H

#include <sqlite3.h>

#include "store/store.h"

/* A prepared-statement cache keyed by SQL text, one per connection. */
typedef struct stmt_cache stmt_cache;
stmt_cache *store__cache_new(sqlite3 *db);
void store__cache_free(stmt_cache *c);
/* A reset, unbound statement for sql, prepared once; NULL on a prepare
 * error (logged). Valid until the cache is freed; reset it after use. */
sqlite3_stmt *store__stmt(stmt_cache *c, const char *sql);
/* Like store__stmt, but the statement is never evicted: for callers that
 * keep the pointer for the connection's lifetime. */
sqlite3_stmt *store__stmt_pinned(stmt_cache *c, const char *sql);

/* The statement cache of a read connection (authdb.c reads through it). */
stmt_cache *store__conn_cache(store_conn *c);

/* SQL text, allocated from a. Identifiers come from the model only. */
const char *store__sql_select_cols(arena *a, const app_model *m);
const char *store__sql_get(arena *a, const app_model *m);
const char *store__sql_list(arena *a, const app_model *m, const store_query *q);
const char *store__sql_count(arena *a, const app_model *m, const store_query *q);
/* Bind the values of store__sql_list/_count's WHERE; returns the next index. */
int store__bind_where(sqlite3_stmt *st, const app_model *m, const store_query *q);
const char *store__sql_insert(arena *a, const app_model *m, const rowvals *v);
const char *store__sql_update(arena *a, const app_model *m, const rowvals *v);
const char *store__sql_delete(arena *a, const app_model *m);
const char *store__sql_exists(arena *a, const app_model *m);
/* Which condition limits caller sc on m for a read or a write (store.h,
 * store_scope): none, the row scope alone, or the per-holder roles. */
typedef enum scope_kind { SCOPE_NONE, SCOPE_ROW, SCOPE_ROLE } scope_kind;
scope_kind store__scope_kind(const app_model *m, const store_scope *sc, bool write);
/* The scoped twins (store__scope_kind not SCOPE_NONE): the caller's
 * condition joins the WHERE with the user bound at ?2 (get, exists,
 * delete), at ?(v->n + 3) (update), or at ?1 before the plain `?` of
 * list/count (see store__bind_where). sql_holder_in checks that row ?1 of
 * the scope's holder model is in the scope of user ?2 (a `via` value);
 * sql_role_holder_in that caller ?2 may write in holder row ?1 (role_in's
 * via value); sql_role_held that user ?1 holds an override among roles. */
const char *store__sql_get_scoped(arena *a, const app_model *m, const store_scope *sc, bool write);
const char *store__sql_exists_scoped(arena *a, const app_model *m, const store_scope *sc, bool write);
const char *store__sql_update_scoped(arena *a, const app_model *m, const rowvals *v, const store_scope *sc);
const char *store__sql_delete_scoped(arena *a, const app_model *m, const store_scope *sc);
const char *store__sql_role_holder_in(arena *a, const app_model *m, const store_scope *sc);
const char *store__sql_role_held(arena *a, const app_model *m, const char *const *roles, size_t n);
const char *store__sql_holder_in(arena *a, const app_model *m);

/* How rows are written: the app's date style and the server-maintained keys
 * in the payload key case. */
typedef struct row_fmt {
    date_style ds;
    bool blank_as_null;
    char id_key[8], created_key[16], updated_key[16];
} row_fmt;

/* Write one row (the columns of store__sql_select_cols) as a JSON object. */
void store__emit_row(sqlite3_stmt *st, const app_model *m, const row_fmt *rf, const bool *omit, jw *w);
/* The same, with "type" set to type_name (NULL: the model's type_name). */
void store__emit_row_as(sqlite3_stmt *st, const app_model *m, const row_fmt *rf, const bool *omit,
                        const char *type_name, jw *w);

/* Bring the schema in line with the app (schema.c). Returns NULL or a heap
 * message. Runs on the writer connection before the writer thread starts. */
char *store__migrate(sqlite3 *db, const app *app);

/* Planner statistics (stats.c), on the writer connection only: ANALYZE
 * each indexed table that has none and at least RD_STATS_MIN_ROWS rows, or
 * whose row count doubled or halved since; then bump the schema cookie so
 * read connections load them. Returns the tables analysed, or -1 when
 * the commit failed (logged, rolled back); a table whose ANALYZE fails is
 * logged and skipped. Holds the write lock while it runs. */
int store__stats_refresh(sqlite3 *db);
/* The rule above: `then` is the row count at the last ANALYZE, -1 none. */
bool store__stats_stale(long long now, long long then);
/* A monotonic clock in milliseconds. */
long long store__mono_ms(void);

/* Execute a statement without results; returns the sqlite3 code. */
int store__exec(sqlite3 *db, const char *sql);

#endif
