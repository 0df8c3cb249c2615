/*
 * Zou's create rules for projects and persons, for apps/kitsu (`routes:
 * zou`): what Zou's POST data/projects and POST data/persons do beyond the
 * generic create.
 *
 * - A project without project_status_id gets the "Open" project status,
 *   made (colour #000000) when there is none, as Zou's
 *   get_or_create_open_status does. A tvshow project gets its first
 *   episode, "E01", and the answer names it in first_episode_id (Zou's
 *   post_creation).
 * - A person may be posted with a password (gazu's new_person always sends
 *   the key, null unless given): null is ignored; a string is hashed with
 *   argon2id on the hashing pool and stored as the account's credential
 *   (the auth tables, as `restd user add` stores it), never in the row and
 *   never served.
 *
 * Each step after the first is its own write (the status, then the
 * project, then the episode; the person, then the credential), as Zou's
 * are; the row itself is made by the generic POST (ext_post), so
 * validation, error shapes, rights and Location are the generic ones.
 */
#include <sodium.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/authn.h"
#include "api/authz.h"
#include "api/ext.h"
#include "auth/pwhash.h"
#include "json/jin.h"
#include "json/jw.h"
#include "store/authdb.h"
#include "util/log.h"
#include "zou_int.h"

/* The body kept across a write: JSON text in the request arena, so no heap
 * object outlives a request the client dropped. */
static const char *keep_text(rq *r, const json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    const char *kept = arena_strdup(r->a, text ? text : "{}");
    free(text);
    return kept;
}

static json_t *parse_kept(rq *r, const char *text)
{
    const char *msg = NULL;
    json_t *body = jin_parse(text, strlen(text), r->a, &msg);
    if (!body)
        problem_send(r, RD_INTERNAL, NULL, NULL);
    return body;
}

/* The Location of a new row of the model called name, as POST gives it. */
static void location(rq *r, const char *name, const char *id)
{
    const app_model *m = app_model_by_name(r->app, name);
    if (m && id)
        rq_header(r, "location", arena_printf(r->a, "%s/%s/%s", r->app->base_path, m->route, id));
}

/* ---- projects ----------------------------------------------------------- */

/* A project being made: its body until it is written, then its row and id
 * while its first episode is made. */
typedef struct newproj {
    const char *body;
    const char *id;
    buf row;
} newproj;

/* The id of the project status called name, or NULL. */
static const char *status_id(rq *r, const app_model *ps, const char *name)
{
    fterm t = ext_eq(r, zou__field(ps, "name"), name);
    store_query q = {.terms = &t, .n_terms = 1, .limit = 1};
    const char **ids;
    size_t n = 0;
    return store_values(r->conn, ps, &q, NULL, r->a, &ids, &n) == RD_OK && n ? ids[0] : NULL;
}

/* Answer the project, with first_episode_id when there is one. */
static void send_project(rq *r, const newproj *p, const char *episode)
{
    buf *b = ext_buf(r);
    bool ok = buf_append(b, p->row.data, p->row.len);
    if (episode && ok && b->len > 2) {
        b->len--; /* reopen the row's object */
        ok = buf_printf(b, ",\"first_episode_id\":\"%s\"}", episode);
    }
    if (!ok) {
        problem_send(r, RD_INTERNAL, NULL, NULL);
        return;
    }
    location(r, "project", p->id);
    ext_send(r, 201, b);
}

static void episode_made(rq *r, store_write *w, void *ctx)
{
    const newproj *p = ctx;
    /* The project is made either way: a failed episode leaves it without
     * one, as a failed post_creation leaves Zou's. */
    send_project(r, p, w->err == RD_OK ? w->new_id : NULL);
}

/* Make the episode E01 of the project, with the Episode entity type. */
static void make_episode(rq *r, newproj *p, const char *type_id)
{
    const app_model *ent = zou__model(r, "entity");
    if (!ent)
        return;
    json_t *eb = json_pack("{s:s, s:s, s:s}", "name", "E01", "project_id", p->id, "entity_type_id", type_id);
    if (r->user_id)
        json_object_set_new(eb, "created_by", json_string(r->user_id));
    ext_create_then(r, ent, eb, episode_made, p);
    json_decref(eb);
}

/* After the entity type Episode was made (or found taken meanwhile). */
static void episode_type_made(rq *r, store_write *w, void *ctx)
{
    newproj *p = ctx;
    const char *tid = w->err == RD_OK || w->err == RD_CONFLICT ? zou__type_id(r, "Episode") : NULL;
    if (tid)
        make_episode(r, p, tid);
    else
        send_project(r, p, NULL);
}

static void project_made(rq *r, store_write *w, void *ctx)
{
    newproj *p = ctx;
    if (w->err != RD_OK) {
        ext_error(r, w);
        return;
    }
    p->id = arena_strdup(r->a, w->new_id);
    buf_init(&p->row, r->a, RD_MAX_RESPONSE);
    buf_append(&p->row, w->body.data, w->body.len);
    const char *msg = NULL;
    json_t *row = jin_parse(w->body.data, w->body.len, r->a, &msg);
    bool tvshow = row && zou__str_of(row, "production_type") && strcmp(zou__str_of(row, "production_type"), "tvshow") == 0;
    json_decref(row);
    if (!tvshow) {
        send_project(r, p, NULL);
        return;
    }
    const char *tid = zou__type_id(r, "Episode");
    if (tid) {
        make_episode(r, p, tid);
        return;
    }
    const app_model *et = zou__model(r, "entity_type");
    if (!et)
        return;
    json_t *tb = json_pack("{s:s}", "name", "Episode");
    ext_create_then(r, et, tb, episode_type_made, p);
    json_decref(tb);
}

static void create_project(rq *r, newproj *p, const char *status)
{
    const app_model *pm = zou__model(r, "project");
    json_t *body = pm ? parse_kept(r, p->body) : NULL;
    if (!body)
        return;
    if (status)
        json_object_set_new(body, "project_status_id", json_string(status));
    ext_post(r, pm, body, project_made, p);
    json_decref(body);
}

/* After the status Open was made (or found taken: made meanwhile). */
static void open_made(rq *r, store_write *w, void *ctx)
{
    const app_model *ps = zou__model(r, "project_status");
    if (!ps)
        return;
    const char *st = w->err == RD_OK ? w->new_id : w->err == RD_CONFLICT ? status_id(r, ps, "Open") : NULL;
    if (!st) {
        ext_error(r, w);
        return;
    }
    create_project(r, ctx, st);
}

/* POST data/projects: the generic create, with the Open status by default
 * and a tvshow's first episode. */
static void h_new_project(rq *r, const char *const *caps)
{
    const app_model *pm = zou__model(r, "project"), *ps = pm ? zou__model(r, "project_status") : NULL;
    if (!ps || (r->app->auth && !authz_allowed(r, pm, true)))
        return;
    json_t *body = ext_json(r);
    if (!body)
        return;
    if (!json_is_object(body)) { /* refused as the generic POST refuses it */
        ext_post(r, pm, body, NULL, NULL);
        json_decref(body);
        return;
    }
    bool has_status = json_object_get(body, "project_status_id") != NULL;
    newproj *p = arena_zalloc(r->a, sizeof *p);
    p->body = keep_text(r, body);
    json_decref(body);
    if (has_status) { /* Zou keeps what is given, null included */
        create_project(r, p, NULL);
        return;
    }
    const char *open = status_id(r, ps, "Open");
    if (open) {
        create_project(r, p, open);
        return;
    }
    json_t *sb = json_pack("{s:s, s:s}", "name", "Open", "color", "#000000");
    ext_create_then(r, ps, sb, open_made, p);
    json_decref(sb);
}

/* ---- persons ------------------------------------------------------------ */

/* A person posted with a password: the password until it is hashed, the
 * body until the row is written, the row until the credential is. */
typedef struct newperson {
    pwjob hash;
    authdb_job job; /* the credential write's ctx */
    char *pw;
    size_t pw_len;
    const char *body;
    buf row;
} newperson;

static void credential_stored(rq *r, store_write *w)
{
    newperson *p = (newperson *)((char *)w->ctx - offsetof(newperson, job));
    if (w->err != RD_OK) {
        /* the row stands without a password: the person cannot sign in
         * until one is set (restd user passwd) */
        log_warn("msg=\"person made, password not stored\" person=%s", p->job.user_id);
        problem_send(r, w->err, "The person was created but the password could not be stored.", NULL);
        return;
    }
    location(r, "person", p->job.user_id);
    ext_send(r, 201, &p->row);
}

static void person_made(rq *r, store_write *w, void *ctx)
{
    newperson *p = ctx;
    if (w->err != RD_OK) {
        ext_error(r, w);
        return;
    }
    buf_init(&p->row, r->a, RD_MAX_RESPONSE);
    buf_append(&p->row, w->body.data, w->body.len);
    p->job.ap = r->app;
    p->job.now = (long long)time(NULL);
    p->job.user_id = arena_strdup(r->a, w->new_id);
    p->job.password_hash = p->hash.new_hash;
    store_write *cw = arena_zalloc(r->a, sizeof *cw);
    cw->op = STORE_RUN;
    cw->run = authdb_set_password;
    cw->ctx = &p->job;
    ext_submit(r, cw, credential_stored);
}

static void password_hashed(rq *r, pwjob *j)
{
    newperson *p = (newperson *)((char *)j - offsetof(newperson, hash)); /* j->user is rq_hash's */
    sodium_memzero(p->pw, p->pw_len);
    if (j->err != RD_OK || !j->ok) {
        problem_send(r, RD_UNAVAILABLE, "the server is busy; retry shortly", NULL);
        return;
    }
    const app_model *person = zou__model(r, "person");
    json_t *body = person ? parse_kept(r, p->body) : NULL;
    if (!body)
        return;
    ext_post(r, person, body, person_made, p);
    json_decref(body);
}

/* POST data/persons: the generic create, and the password (when one is
 * given) hashed and stored as the account's credential. */
static void h_new_person(rq *r, const char *const *caps)
{
    const app_model *person = zou__model(r, "person");
    if (!person || (r->app->auth && !authz_allowed(r, person, true)))
        return;
    json_t *body = ext_json(r);
    if (!body)
        return;
    json_t *pw = json_incref(json_object_get(body, "password"));
    json_object_del(body, "password");
    if (!pw || json_is_null(pw)) { /* also a body that is not an object: refused as POST refuses it */
        json_decref(pw);
        ext_post(r, person, body, NULL, NULL);
        json_decref(body);
        return;
    }
    const char *why = NULL;
    size_t len = json_string_length(pw), chars = 0;
    const char *s = json_string_value(pw);
    for (size_t i = 0; s && i < len; i++)
        chars += ((unsigned char)s[i] & 0xc0) != 0x80; /* characters, as Zou's len() */
    if (!r->app->auth)
        why = "This app keeps no passwords (it has no auth section).";
    else if (!s)
        why = "password must be a string or null.";
    else if (chars < (size_t)r->app->auth->min_password)
        why = "Password is too short.";
    else if (len > PWHASH_MAX_PASSWORD)
        why = "Password is too long.";
    if (why) {
        json_decref(pw);
        json_decref(body);
        problem_send(r, RD_BAD_REQUEST, why, NULL);
        return;
    }
    newperson *p = arena_zalloc(r->a, sizeof *p);
    p->pw_len = len;
    p->pw = arena_alloc(r->a, len + 1);
    memcpy(p->pw, s, len);
    p->pw[len] = '\0';
    /* the JSON copy of the password goes now; only the arena copy is
     * hashed, and wiped once it is */
    sodium_memzero((char *)s, len);
    json_decref(pw);
    p->body = keep_text(r, body);
    json_decref(body);
    p->hash.password = p->pw;
    p->hash.password_len = p->pw_len;
    p->hash.work = pwjob_hash;
    if (rq_hash(r, &p->hash, password_hashed) != RD_OK) {
        sodium_memzero(p->pw, p->pw_len);
        problem_send(r, RD_UNAVAILABLE, "the server is busy; retry shortly", NULL);
    }
}

/* ---- routes ---------------------------------------------------------------- */

#define D "/api/data"
static const ext_route routes[] = {
    {M_POST, D "/projects", h_new_project},
    {M_POST, D "/persons", h_new_person},
};
#undef D

const ext_table zou__create_routes = {routes, sizeof routes / sizeof routes[0]};
