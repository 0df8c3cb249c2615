/*
 * The SQLite store: connections, reads, and the writer thread with group
 * commit. See store.h for the contract.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "app/types.h"
#include "store/store_int.h"
#include "util/dt.h"
#include "util/log.h"

struct store {
    char *path;
    const app *app;
    row_fmt fmt;
    sqlite3 *wdb; /* the writer's connection; used by the writer thread only */
    stmt_cache *wcache;
    pthread_t writer;
    workq q; /* writes waiting for, or inside, a batch */
    unsigned long revocations; /* atomic; see store_revocations */
    long long stats_at; /* store__mono_ms of the last statistics check; writer thread */
};

/* Filtered totals are a count(*) over the matching rows; paging through
 * one filter asks for the same count again and again. A small direct-mapped
 * cache per connection keeps recent ones, keyed by the count's SQL and
 * bound values and valid only for the database version it was counted at
 * (PRAGMA data_version, read inside the same read transaction: any commit
 * by the writer invalidates every entry, so a total is never stale). */
#define COUNT_CACHE 64
typedef struct count_entry {
    char *key; /* heap */
    long long dv;
    long long n;
} count_entry;

struct store_conn {
    store *s;
    sqlite3 *db;
    stmt_cache *cache;
    count_entry counts[COUNT_CACHE];
    arena *sql;               /* SQL text per model, built once */
    sqlite3_stmt **get_stmt;  /* GET by id per model: the hot path skips the cache lookup */
    sqlite3_stmt **get_scoped; /* the same under the model's scope, prepared on first use */
    sqlite3_stmt **get_role;   /* under its role_in: 4 per model (own role may read, scope applies) */
};

static void *writer_main(void *arg);

static int open_db(const char *path, int flags, sqlite3 **out)
{
    int rc = sqlite3_open_v2(path, out, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_extended_result_codes(*out, 1);
    sqlite3_busy_timeout(*out, RD_BUSY_TIMEOUT_MS);
    /* Keep hostile queries small: no huge strings or deep expressions
     * can be built from bound values anyway, but cap them regardless. */
    sqlite3_limit(*out, SQLITE_LIMIT_LENGTH, RD_MAX_BODY_CEILING + 1024);
    return store__exec(*out, "PRAGMA foreign_keys = ON");
}

static void make_key(char *out, size_t cap, const char *snake, key_case kc)
{
    if (!app_convert_case(snake, kc, out, cap))
        snprintf(out, cap, "%s", snake);
}

store *store_open(const char *path, const app *ap, char **msg)
{
    store *s = xcalloc(1, sizeof *s);
    s->path = xstrdup(path);
    s->app = ap;
    s->fmt.ds = ap->dates;
    s->fmt.blank_as_null = ap->blank_as_null;
    make_key(s->fmt.id_key, sizeof s->fmt.id_key, "id", ap->payload_case);
    make_key(s->fmt.created_key, sizeof s->fmt.created_key, "created_at", ap->payload_case);
    make_key(s->fmt.updated_key, sizeof s->fmt.updated_key, "updated_at", ap->payload_case);
    *msg = NULL;
    int rc = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &s->wdb);
    if (rc == SQLITE_OK)
        rc = store__exec(s->wdb, "PRAGMA journal_mode = WAL");
    if (rc == SQLITE_OK)
        rc = store__exec(s->wdb, "PRAGMA synchronous = FULL");
    if (rc == SQLITE_OK)
        rc = store__exec(s->wdb, "SELECT count(*) FROM sqlite_master");
    if (rc != SQLITE_OK) {
        char tmp[512];
        snprintf(tmp, sizeof tmp, "cannot open database %s: %s", path,
                 s->wdb ? sqlite3_errmsg(s->wdb) : sqlite3_errstr(rc));
        *msg = xstrdup(tmp);
        sqlite3_close(s->wdb);
        free(s->path);
        free(s);
        return NULL;
    }
    *msg = store__migrate(s->wdb, ap);
    if (*msg) {
        sqlite3_close(s->wdb);
        free(s->path);
        free(s);
        return NULL;
    }
    /* Before any read connection opens, so each loads the statistics
     * (a database filled by another program gets them here). */
    store__stats_refresh(s->wdb);
    s->stats_at = store__mono_ms();
    s->wcache = store__cache_new(s->wdb);
    workq_init(&s->q, RD_MAX_WRITE_QUEUE);
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
        *msg = xstrdup("cannot start the writer thread");
        store__cache_free(s->wcache);
        sqlite3_close(s->wdb);
        free(s->path);
        free(s);
        return NULL;
    }
    return s;
}

void store_close(store *s)
{
    if (!s)
        return;
    workq_stop(&s->q);
    pthread_join(s->writer, NULL);
    store__cache_free(s->wcache);
    store__exec(s->wdb, "PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_close(s->wdb);
    workq_fini(&s->q);
    free(s->path);
    free(s);
}

store_conn *store_conn_open(store *s)
{
    store_conn *c = xcalloc(1, sizeof *c);
    c->s = s;
    if (open_db(s->path, SQLITE_OPEN_READWRITE, &c->db) != SQLITE_OK) {
        log_error("msg=\"cannot open read connection\" err=\"%s\"", sqlite3_errmsg(c->db));
        sqlite3_close(c->db);
        free(c);
        return NULL;
    }
    store__exec(c->db, "PRAGMA query_only = 1");
    /* Map the file for reads: a GET then copies pages from the page cache
     * instead of a pread per page (about 16% of a GET's CPU here). Only
     * address space: the kernel pages it in on demand. */
    store__exec(c->db, "PRAGMA mmap_size = 1073741824");
    c->cache = store__cache_new(c->db);
    c->sql = arena_new();
    c->get_stmt = arena_zalloc(c->sql, s->app->n_models * sizeof *c->get_stmt);
    c->get_scoped = arena_zalloc(c->sql, s->app->n_models * sizeof *c->get_scoped);
    c->get_role = arena_zalloc(c->sql, s->app->n_models * 4 * sizeof *c->get_role);
    for (size_t i = 0; i < s->app->n_models; i++)
        c->get_stmt[i] = store__stmt_pinned(c->cache, store__sql_get(c->sql, &s->app->models[i]));
    return c;
}

void store_conn_close(store_conn *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < COUNT_CACHE; i++)
        free(c->counts[i].key);
    store__cache_free(c->cache);
    sqlite3_close(c->db);
    arena_free(c->sql);
    free(c);
}

stmt_cache *store__conn_cache(store_conn *c) { return c->cache; }

static size_t model_index(const store *s, const app_model *m) { return (size_t)(m - s->app->models); }

/* Run a one-row select of a model's columns and emit it. */
static rd_err get_row(sqlite3_stmt *st, const app_model *m, const row_fmt *rf, const char *id,
                      const bool *omit, const char *type_name, jw *w)
{
    if (!st)
        return RD_INTERNAL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    rd_err e = RD_OK;
    if (rc == SQLITE_ROW)
        store__emit_row_as(st, m, rf, omit, type_name, w);
    else if (rc == SQLITE_DONE)
        e = RD_NOT_FOUND;
    else
        e = RD_UNAVAILABLE;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
}

rd_err store_get(store_conn *c, const app_model *m, const char *id, const bool *omit, jw *w)
{
    return store_get_as(c, m, id, NULL, omit, NULL, w);
}

rd_err store_get_as(store_conn *c, const app_model *m, const char *id, const store_scope *scope_user,
                    const bool *omit, const char *type_name, jw *w)
{
    size_t i = model_index(c->s, m);
    scope_kind k = store__scope_kind(m, scope_user, false);
    if (k == SCOPE_NONE)
        return get_row(c->get_stmt[i], m, &c->s->fmt, id, omit, type_name, w);
    /* the statement depends only on the model and these two flags */
    sqlite3_stmt **slot = k == SCOPE_ROW ? &c->get_scoped[i]
                                         : &c->get_role[i * 4 + scope_user->read * 2 + scope_user->row];
    if (!*slot)
        *slot = store__stmt_pinned(c->cache, store__sql_get_scoped(c->sql, m, scope_user, false));
    sqlite3_stmt *st = *slot;
    if (st)
        sqlite3_bind_text(st, 2, scope_user->user, -1, SQLITE_STATIC);
    return get_row(st, m, &c->s->fmt, id, omit, type_name, w);
}

/* The cache key of a filtered count: its SQL and every bound value. */
static char *count_key(arena *a, const char *sql, const store_query *q)
{
    buf b;
    buf_init(&b, a, 1 << 22);
    buf_puts(&b, sql);
    if (q->scope_user) /* two callers' scoped totals differ (the flags are in the SQL) */
        buf_printf(&b, "\x1fu%s", q->scope_user->user);
    for (size_t i = 0; i < q->n_terms; i++) {
        const fterm *t = &q->terms[i];
        for (size_t k = 0; k < t->n; k++) {
            const sqlval *v = &t->vals[k];
            switch (v->kind) {
            case SV_INT:
                buf_printf(&b, "\x1fi%lld", (long long)v->i);
                break;
            case SV_REAL:
                buf_printf(&b, "\x1fr%.17g", v->d);
                break;
            case SV_TEXT:
                buf_printf(&b, "\x1ft%zu:", v->n);
                buf_append(&b, v->s, v->n);
                break;
            default:
                buf_puts(&b, "\x1fn");
            }
        }
    }
    return b.len < b.max ? (char *)buf_cstr(&b) : NULL;
}

static size_t key_hash(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static rd_err step_count(sqlite3_stmt *st, long long *out)
{
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? RD_OK : RD_UNAVAILABLE;
}

/* Runs inside the caller's read transaction. */
static rd_err count_rows(store_conn *c, const app_model *m, const store_query *q, arena *a, long long *out)
{
    sqlite3_stmt *st;
    if (q->n_terms == 0 && !q->scope_user) {
        /* kept by triggers in the same transaction as every insert/delete */
        st = store__stmt(c->cache, "SELECT n FROM _restd_counts WHERE model = ?1");
        if (!st)
            return RD_INTERNAL;
        sqlite3_bind_text(st, 1, m->name, -1, SQLITE_STATIC);
        return step_count(st, out);
    }
    const char *sql = store__sql_count(a, m, q);
    sqlite3_stmt *dvs = store__stmt(c->cache, "PRAGMA data_version");
    long long dv = -1;
    if (dvs && step_count(dvs, &dv) != RD_OK)
        dv = -1;
    char *key = dv >= 0 ? count_key(a, sql, q) : NULL;
    count_entry *ce = key ? &c->counts[key_hash(key) % COUNT_CACHE] : NULL;
    if (ce && ce->key && ce->dv == dv && strcmp(ce->key, key) == 0) {
        *out = ce->n;
        return RD_OK;
    }
    st = store__stmt(c->cache, sql);
    if (!st)
        return RD_INTERNAL;
    store_query nq = *q;
    nq.keyset = false;
    store__bind_where(st, m, &nq);
    rd_err e = step_count(st, out);
    if (e == RD_OK && ce) {
        free(ce->key);
        ce->key = xstrdup(key);
        ce->dv = dv;
        ce->n = *out;
    }
    return e;
}

rd_err store_list(store_conn *c, const app_model *m, const store_query *q, arena *a, jw *w,
                  store_page *page)
{
    *page = (store_page){0};
    store_query sq = *q;
    if (store__scope_kind(m, q->scope_user, false) == SCOPE_NONE)
        sq.scope_user = NULL; /* no condition: the plain statements and the row count */
    q = &sq;
    /* One read transaction, so the total and the page agree. */
    store__exec(c->db, "BEGIN");
    rd_err e = q->count ? count_rows(c, m, q, a, &page->total) : RD_OK;
    sqlite3_stmt *st = e == RD_OK ? store__stmt(c->cache, store__sql_list(a, m, q)) : NULL;
    if (!st) {
        store__exec(c->db, "COMMIT");
        return e != RD_OK ? e : RD_INTERNAL;
    }
    int idx = store__bind_where(st, m, q);
    /* keyset: one row more than the page tells whether another follows */
    sqlite3_bind_int64(st, idx++, q->keyset ? q->limit + 1 : q->limit);
    sqlite3_bind_int64(st, idx, q->keyset ? 0 : q->offset);
    int col_rowid = (int)m->n_fields + 3;
    jw_arr_begin(w);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (page->returned == q->limit) {
            page->more = true;
            break;
        }
        store__emit_row_as(st, m, &c->s->fmt, q->omit, q->type_name, w);
        page->next_after = sqlite3_column_int64(st, col_rowid);
        page->returned++;
    }
    jw_arr_end(w);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    store__exec(c->db, "COMMIT");
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? RD_OK : RD_UNAVAILABLE;
}

rd_err store_values(store_conn *c, const app_model *m, const store_query *q, const app_field *f, arena *a,
                    const char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int col = f ? (int)(f - m->fields) + 1 : 0;
    if (f && (f < m->fields || f >= m->fields + m->n_fields || f->type == FT_REF_LIST))
        return RD_INTERNAL;
    sqlite3_stmt *st = store__stmt(c->cache, store__sql_list(a, m, q));
    if (!st)
        return RD_INTERNAL;
    int idx = store__bind_where(st, m, q);
    sqlite3_bind_int64(st, idx++, q->limit);
    sqlite3_bind_int64(st, idx, q->offset);
    const char **v = arena_alloc(a, (size_t)(q->limit > 0 ? q->limit : 1) * sizeof *v);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && (long long)*n < q->limit) {
        if (sqlite3_column_type(st, col) == SQLITE_NULL)
            continue;
        v[(*n)++] = arena_strndup(a, (const char *)sqlite3_column_text(st, col),
                                  (size_t)sqlite3_column_bytes(st, col));
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    *out = v;
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? RD_OK : RD_UNAVAILABLE;
}

rd_err store_history(store_conn *c, const app_model *m, const char *id, size_t cap, arena *a,
                     store_version **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store__stmt(c->cache, "SELECT id, at, actor, body FROM (SELECT id, at, actor, body, rowid"
                                             " AS r FROM _restd_history WHERE model = ?1 AND row_id = ?2"
                                             " ORDER BY at DESC, r DESC LIMIT ?3) ORDER BY at, r");
    if (!st)
        return RD_INTERNAL;
    sqlite3_bind_text(st, 1, m->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)cap);
    store_version *v = arena_alloc(a, (cap ? cap : 1) * sizeof *v);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < cap) {
        store_version *x = &v[(*n)++];
        x->id = arena_strdup(a, (const char *)sqlite3_column_text(st, 0));
        x->at = arena_strdup(a, (const char *)sqlite3_column_text(st, 1));
        x->actor = sqlite3_column_type(st, 2) == SQLITE_NULL
                       ? NULL
                       : arena_strdup(a, (const char *)sqlite3_column_text(st, 2));
        x->body_len = (size_t)sqlite3_column_bytes(st, 3);
        x->body = arena_strndup(a, (const char *)sqlite3_column_text(st, 3), x->body_len);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    *out = v;
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? RD_OK : RD_UNAVAILABLE;
}

rd_err store_exists(store_conn *c, const app_model *m, const char *id, arena *a)
{
    return store_exists_as(c, m, id, NULL, a);
}

rd_err store_exists_as(store_conn *c, const app_model *m, const char *id, const store_scope *scope_user,
                       arena *a)
{
    bool scoped = store__scope_kind(m, scope_user, false) != SCOPE_NONE;
    sqlite3_stmt *st = store__stmt(
        c->cache, scoped ? store__sql_exists_scoped(a, m, scope_user, false) : store__sql_exists(a, m));
    if (!st)
        return RD_INTERNAL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (scoped)
        sqlite3_bind_text(st, 2, scope_user->user, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW ? RD_OK : rc == SQLITE_DONE ? RD_NOT_FOUND : RD_UNAVAILABLE;
}

rd_err store_role_held(store_conn *c, const app_model *m, const char *user, const char *const *roles, size_t n,
                       arena *a)
{
    if (!m->access.role_in)
        return RD_NOT_FOUND;
    sqlite3_stmt *st = store__stmt(c->cache, store__sql_role_held(a, m, roles, n));
    if (!st)
        return RD_INTERNAL;
    sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW ? RD_OK : rc == SQLITE_DONE ? RD_NOT_FOUND : RD_UNAVAILABLE;
}

rd_err store_filter_get(store_conn *c, const app_model *m, const char *id, const char *owner, arena *a,
                        const char **json)
{
    sqlite3_stmt *st = store__stmt(c->cache, "SELECT body FROM _restd_filters WHERE id = ?1 AND model = ?2"
                                             " AND owner IS ?3 AND expires_at > ?4");
    if (!st)
        return RD_INTERNAL;
    char now[DT_DATETIME_LEN + 1];
    dt_now(now);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
    if (owner)
        sqlite3_bind_text(st, 3, owner, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    rd_err e = rc == SQLITE_ROW ? RD_OK : rc == SQLITE_DONE ? RD_NOT_FOUND : RD_UNAVAILABLE;
    if (e == RD_OK)
        *json = arena_strndup(a, (const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
}

rd_err store_health(store *s)
{
    /* A fresh connection, so a database that vanished or broke since start
     * shows up here even though the long-lived connections hold it open. */
    sqlite3 *db = NULL;
    rd_err e = RD_UNAVAILABLE;
    if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK &&
        store__exec(db, "SELECT count(*) FROM _restd_fields") == SQLITE_OK)
        e = RD_OK;
    sqlite3_close(db);
    return e;
}

/* ---- writes ---------------------------------------------------------- */

rd_err store_submit(store *s, store_write *w)
{
    w->err = RD_OK;
    w->detail = NULL;
    w->conflict = SC_NONE;
    return workq_push(&s->q, &w->link) ? RD_OK : RD_UNAVAILABLE;
}

unsigned long store_revocations(const store *s) { return __atomic_load_n(&s->revocations, __ATOMIC_ACQUIRE); }

static store_write *job_of(workq_link *l) { return (store_write *)((char *)l - offsetof(store_write, link)); }

/* UUIDv7 (RFC 9562): a millisecond timestamp then random bits, so new rows
 * land at the right-hand end of the primary-key B-tree. */
static void new_uuid(char out[37])
{
    static _Thread_local unsigned char pool[1024];
    static _Thread_local size_t used = sizeof pool;
    if (used + 10 > sizeof pool) {
        if (getrandom(pool, sizeof pool, 0) != (ssize_t)sizeof pool)
            abort(); /* the kernel's CSPRNG does not fail for <= 256 bytes... nor here */
        used = 0;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    unsigned char b[16];
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    memcpy(b + 6, pool + used, 10);
    used += 10;
    b[6] = (unsigned char)(0x70 | (b[6] & 0x0f));
    b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

void store_new_id(char out[37]) { new_uuid(out); }

typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
} waiter;

static void wake(store_write *w)
{
    waiter *wt = w->user;
    pthread_mutex_lock(&wt->mu);
    wt->done = true;
    pthread_cond_signal(&wt->cv);
    pthread_mutex_unlock(&wt->mu);
}

rd_err store_submit_wait(store *s, store_write *w)
{
    waiter wt = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    w->done = wake;
    w->user = &wt;
    rd_err e = store_submit(s, w);
    if (e != RD_OK)
        return e;
    pthread_mutex_lock(&wt.mu);
    while (!wt.done)
        pthread_cond_wait(&wt.cv, &wt.mu);
    pthread_mutex_unlock(&wt.mu);
    return w->err;
}

static bool row_exists(store *s, const app_model *m, const char *id, arena *a)
{
    sqlite3_stmt *st = store__stmt(s->wcache, store__sql_exists(a, m));
    if (!st)
        return false;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    bool yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return yes;
}

/* Whether the statement sql, with ?1 = id and ?2 = user (when not NULL),
 * finds a row. */
static bool scoped_hit(store *s, const char *sql, const char *id, const char *user)
{
    sqlite3_stmt *st = store__stmt(s->wcache, sql);
    if (!st)
        return false;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (user)
        sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
    bool yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return yes;
}

/* References are checked before the write so a 409 can name the field;
 * the foreign keys remain the guarantee. */
static bool check_refs(store *s, store_write *w)
{
    const rowvals *v = &w->vals;
    for (size_t i = 0; i < v->n; i++) {
        const app_field *f = v->fields[i];
        if (f->type != FT_REF || v->vals[i].kind != SV_TEXT)
            continue;
        if (!row_exists(s, f->ref, v->vals[i].s, w->a)) {
            w->err = RD_CONFLICT;
            w->conflict = SC_MISSING;
            w->detail = arena_printf(w->a, "%s: there is no %s with id %s", f->error_name,
                                     f->ref->name, v->vals[i].s);
            return false;
        }
    }
    for (size_t i = 0; i < v->n_lists; i++) {
        reflist *l = &v->lists[i];
        size_t kept = 0;
        for (size_t k = 0; k < l->n; k++) {
            if (row_exists(s, l->field->ref, l->ids[k], w->a)) {
                l->ids[kept++] = l->ids[k];
            } else if (!w->lenient_lists) {
                w->err = RD_CONFLICT;
                w->conflict = SC_MISSING;
                w->detail = arena_printf(w->a, "%s: there is no %s with id %s",
                                         l->field->error_name, l->field->ref->name, l->ids[k]);
                return false;
            }
        }
        l->n = kept; /* lenient: the ids naming no row are dropped, as Zou does */
    }
    return true;
}

/* Replace the links of each list given. A statement from the cache is used
 * up before the next lookup, which may evict it. */
static bool write_links(store *s, store_write *w, const char *id)
{
    for (size_t i = 0; i < w->vals.n_lists; i++) {
        const reflist *l = &w->vals.lists[i];
        if (l->op == REFLIST_REMOVE) {
            sqlite3_stmt *st = store__stmt(
                s->wcache, arena_printf(w->a, "DELETE FROM \"%s\" WHERE \"owner\" = ?1 AND \"target\" = ?2",
                                        l->field->link_table));
            for (size_t k = 0; st && k < l->n; k++) {
                sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 2, l->ids[k], -1, SQLITE_STATIC);
                int rc = sqlite3_step(st);
                sqlite3_reset(st);
                if (rc != SQLITE_DONE)
                    return false;
            }
            if (!st)
                return false;
            sqlite3_clear_bindings(st);
            continue;
        }
        sqlite3_stmt *st;
        int rc;
        if (l->op != REFLIST_ADD) { /* ADD keeps the links there */
            st = store__stmt(s->wcache,
                             arena_printf(w->a, "DELETE FROM \"%s\" WHERE \"owner\" = ?1", l->field->link_table));
            if (!st)
                return false;
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            rc = sqlite3_step(st);
            sqlite3_reset(st);
            if (rc != SQLITE_DONE)
                return false;
        }
        st = store__stmt(s->wcache,
                         arena_printf(w->a, "INSERT OR IGNORE INTO \"%s\" (\"owner\", \"target\") VALUES (?1, ?2)",
                                      l->field->link_table));
        if (!st)
            return false;
        for (size_t k = 0; k < l->n; k++) {
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, l->ids[k], -1, SQLITE_STATIC);
            rc = sqlite3_step(st);
            sqlite3_reset(st);
            if (rc != SQLITE_DONE)
                return false;
        }
        sqlite3_clear_bindings(st);
    }
    return true;
}

/* Name the unique constraint SQLite reports ("UNIQUE constraint failed:
 * model.field"), without passing SQLite's text to the client. */
static void unique_detail(store *s, store_write *w)
{
    const char *msg = sqlite3_errmsg(s->wdb);
    const char *dot = strrchr(msg, '.');
    const app_field *f = dot ? app_field_by_name(w->model, dot + 1) : NULL;
    w->err = RD_CONFLICT;
    w->conflict = SC_UNIQUE;
    if (f && !strchr(dot, ','))
        w->detail = arena_printf(w->a, "%s: another %s already has this value (unique constraint ux_%s__%s)",
                                 f->error_name, w->model->name, w->model->name, f->name);
    else
        w->detail = arena_printf(w->a, "another %s already has these values", w->model->name);
}

/* After a refused delete, find who still points at the row. */
static void referrer_detail(store *s, store_write *w)
{
    const app *ap = s->app;
    w->err = RD_CONFLICT;
    w->conflict = SC_REFERENCED;
    for (size_t i = 0; i < ap->n_models; i++) {
        const app_model *m = &ap->models[i];
        for (size_t k = 0; k < m->n_fields; k++) {
            const app_field *f = &m->fields[k];
            if ((f->type != FT_REF && f->type != FT_REF_LIST) || f->ref != w->model)
                continue;
            const char *sql = f->type == FT_REF
                                  ? arena_printf(w->a, "SELECT 1 FROM \"%s\" WHERE \"%s\" = ?1 LIMIT 1", m->name, f->name)
                                  : arena_printf(w->a, "SELECT 1 FROM \"%s\" WHERE \"target\" = ?1 LIMIT 1", f->link_table);
            sqlite3_stmt *st = store__stmt(s->wcache, sql);
            if (!st)
                continue;
            sqlite3_bind_text(st, 1, w->id, -1, SQLITE_STATIC);
            bool hit = sqlite3_step(st) == SQLITE_ROW;
            sqlite3_reset(st);
            if (hit) {
                w->detail = arena_printf(w->a, "this %s is still referenced by %s.%s", w->model->name,
                                         m->name, f->name);
                return;
            }
        }
    }
    w->detail = arena_printf(w->a, "this %s is still referenced", w->model->name);
}

static void sql_failed(store *s, store_write *w, int rc)
{
    int prim = rc & 0xff;
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        unique_detail(s, w);
    } else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
        if (w->op == STORE_DELETE)
            referrer_detail(s, w);
        else {
            w->err = RD_CONFLICT;
            w->conflict = SC_MISSING;
            w->detail = arena_strdup(w->a, "a referenced row does not exist");
        }
    } else if (prim == SQLITE_CONSTRAINT) {
        w->err = RD_CONFLICT;
        w->conflict = SC_OTHER;
        w->detail = arena_strdup(w->a, "the write violates a constraint");
    } else if (prim == SQLITE_BUSY || prim == SQLITE_IOERR || prim == SQLITE_FULL || prim == SQLITE_READONLY) {
        w->err = RD_UNAVAILABLE;
        w->detail = arena_strdup(w->a, "the database cannot take writes right now");
        log_error("msg=write_failed rc=%d err=\"%s\"", rc, sqlite3_errmsg(s->wdb));
    } else {
        w->err = RD_INTERNAL;
        log_error("msg=write_failed rc=%d err=\"%s\"", rc, sqlite3_errmsg(s->wdb));
    }
}

static int bind_and_step(sqlite3_stmt *st, const char *id, const char *now, const rowvals *v)
{
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
    for (size_t i = 0; i < v->n; i++)
        sqlval_bind(st, (int)i + 3, &v->vals[i]);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        rc = sqlite3_reset(st); /* the extended code of the failure */
    else
        sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* A row the caller may not write under per-holder roles: RD_DENIED when
 * the caller may still read it (it is no secret), else RD_NOT_FOUND as
 * for a missing row. Runs only on that failure path. */
static bool not_writable(store *s, store_write *w, const store_scope *su, const char *id)
{
    const app_model *m = w->model;
    bool seen = store__scope_kind(m, su, false) == SCOPE_NONE
                    ? row_exists(s, m, id, w->a)
                    : scoped_hit(s, store__sql_exists_scoped(w->a, m, su, false), id, su->user);
    w->err = seen ? RD_DENIED : RD_NOT_FOUND;
    if (seen)
        w->detail = arena_printf(w->a, "you may not change this %s", m->name);
    return false;
}

/* For a scoped write that sets the scope's via reference (role_in's,
 * under per-holder roles): the row it names must be in the caller's scope,
 * or one where the caller may write (RD_DENIED otherwise). */
static bool via_in_scope(store *s, store_write *w, const store_scope *su, scope_kind k)
{
    const app_model *m = w->model;
    const app_field *via = k == SCOPE_ROLE ? m->access.role_in->via : m->access.scope->via;
    if (!via)
        return true;
    for (size_t i = 0; i < w->vals.n; i++) {
        if (w->vals.fields[i] != via)
            continue;
        const sqlval *v = &w->vals.vals[i];
        const char *sql =
            k == SCOPE_ROLE ? store__sql_role_holder_in(w->a, m, su) : store__sql_holder_in(w->a, m);
        if (v->kind == SV_TEXT && scoped_hit(s, sql, v->s, su->user))
            return true;
        w->err = RD_DENIED;
        w->detail = arena_printf(w->a, "%s: you may not reach that %s", via->error_name, via->ref->name);
        return false;
    }
    return true;
}

/* Run a cached write statement once and leave it ready for its next use;
 * a failure is reported on w. */
static bool step_write(store *s, store_write *w, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return sql_failed(s, w, rc), false;
    return true;
}

/* A stored filter: expired ones are swept in the same transaction. */
static bool save_filter(store *s, store_write *w, const char *now)
{
    char *nid = arena_alloc(w->a, 37);
    new_uuid(nid);
    w->new_id = nid;
    char exp[DT_DATETIME_LEN + 1];
    dt_add_seconds(now, w->ttl, exp);
    sqlite3_stmt *st = store__stmt(s->wcache, "DELETE FROM _restd_filters WHERE expires_at <= ?1");
    if (!st)
        return w->err = RD_INTERNAL, false;
    sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    st = store__stmt(s->wcache, "INSERT INTO _restd_filters (id, model, owner, body, expires_at)"
                                " VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!st || rc != SQLITE_DONE)
        return w->err = RD_INTERNAL, false;
    sqlite3_bind_text(st, 1, nid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, w->model->name, -1, SQLITE_STATIC);
    if (w->owner)
        sqlite3_bind_text(st, 3, w->owner, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, w->filter_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, exp, -1, SQLITE_STATIC);
    return step_write(s, w, st);
}

/* A model with history: the row as just answered, kept as a version. */
static bool keep_version(store *s, store_write *w, const char *id, const char *now)
{
    sqlite3_stmt *st = store__stmt(s->wcache, "INSERT INTO _restd_history (id, model, row_id, at, actor, body)"
                                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st)
        return w->err = RD_INTERNAL, false;
    char vid[37];
    new_uuid(vid);
    sqlite3_bind_text(st, 1, vid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, w->model->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
    if (w->actor)
        sqlite3_bind_text(st, 5, w->actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, w->body.data, (int)w->body.len, SQLITE_STATIC);
    return step_write(s, w, st);
}

/* One job inside the batch transaction. On failure w->err is set; the
 * caller rolls back to the job's savepoint. */
/* A CREATE with match terms: if a row matches, the job becomes a PATCH of
 * it with w->upd (and add_field's value added to the row's). */
static bool resolve_match(store *s, store_write *w)
{
    const app_model *m = w->model;
    store_query q = {.terms = w->match, .n_terms = w->n_match, .limit = 1};
    sqlite3_stmt *st = store__stmt(s->wcache, store__sql_list(w->a, m, &q));
    if (!st)
        return w->err = RD_INTERNAL, false;
    int idx = store__bind_where(st, m, &q);
    sqlite3_bind_int64(st, idx++, 1);
    sqlite3_bind_int64(st, idx, 0);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        w->id = arena_strdup(w->a, (const char *)sqlite3_column_text(st, 0));
        int col = w->add_field ? (int)(w->add_field - m->fields) + 1 : -1;
        for (size_t i = 0; col > 0 && i < w->upd.n; i++) {
            if (w->upd.fields[i] != w->add_field)
                continue;
            sqlval *v = &w->upd.vals[i];
            if (v->kind == SV_REAL)
                v->d += sqlite3_column_double(st, col);
            else if (v->kind == SV_INT)
                v->i += sqlite3_column_int64(st, col);
        }
        w->op = STORE_PATCH;
        w->vals = w->upd;
        w->matched = true;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sql_failed(s, w, rc), false;
    return true;
}

static bool run_job(store *s, store_write *w)
{
    const app_model *m = w->model;
    char now[DT_DATETIME_LEN + 1];
    dt_now(now);
    if (w->op == STORE_CREATE && w->n_match && !resolve_match(s, w))
        return false;
    const char *id = w->id;
    int rc;
    /* the scope or role_in, when it limits this caller (store.h, store_write).
     * Whether the caller holds overrides is read again here, in the write's
     * transaction, so an override given since the request was read (a
     * manager made "user" in a project) is not missed. */
    store_scope held_now;
    const store_scope *wsc = w->scope_user;
    if (m && wsc && m->access.role_in) {
        held_now = *wsc;
        held_now.held = scoped_hit(s, store__sql_role_held(w->a, m, NULL, 0), wsc->user, NULL);
        wsc = &held_now;
    }
    scope_kind sk = m ? store__scope_kind(m, wsc, true) : SCOPE_NONE;
    const store_scope *su = sk != SCOPE_NONE ? wsc : NULL;
    if (w->op == STORE_DELETE) {
        sqlite3_stmt *st =
            store__stmt(s->wcache, su ? store__sql_delete_scoped(w->a, m, su) : store__sql_delete(w->a, m));
        if (!st)
            return w->err = RD_INTERNAL, false;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (su)
            sqlite3_bind_text(st, 2, su->user, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? SQLITE_DONE : sqlite3_reset(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return sql_failed(s, w, rc), false;
        if (sqlite3_changes(s->wdb) == 0)
            return sk == SCOPE_ROLE ? not_writable(s, w, su, id) : (w->err = RD_NOT_FOUND, false);
        return true;
    }
    if (w->op == STORE_FILTER_SAVE)
        return save_filter(s, w, now);
    if (w->op == STORE_RUN)
        return w->run(s->wdb, w);
    if (w->op == STORE_MULTI) {
        if (w->once) {
            sqlite3_stmt *st = store__stmt(s->wcache, "INSERT OR IGNORE INTO _restd_once (key, done_at) VALUES (?1, ?2)");
            if (!st)
                return w->err = RD_INTERNAL, false;
            sqlite3_bind_text(st, 1, w->once, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
            if (!step_write(s, w, st))
                return false;
            if (sqlite3_changes(s->wdb) == 0) {
                w->skipped = true;
                return true;
            }
        }
        for (size_t i = 0; i < w->n_steps; i++) {
            store_write *step = w->steps[i];
            step->a = w->a;
            step->err = RD_OK;
            if (step->op == STORE_RUN || step->op == STORE_MULTI || step->op == STORE_FILTER_SAVE ||
                !run_job(s, step)) {
                w->err = step->err != RD_OK ? step->err : RD_INTERNAL;
                w->detail = step->detail;
                w->failed_step = i;
                return false;
            }
        }
        return true;
    }
    if (w->op == STORE_CREATE) {
        char *nid = arena_alloc(w->a, 37);
        new_uuid(nid);
        id = w->new_id = nid;
    } else if (su ? !scoped_hit(s, store__sql_exists_scoped(w->a, m, su, true), id, su->user)
                  : !row_exists(s, m, id, w->a)) {
        return sk == SCOPE_ROLE ? not_writable(s, w, su, id) : (w->err = RD_NOT_FOUND, false);
    }
    /* A via reference outside the caller's scope is refused before the
     * references are checked, so a missing and a hidden target answer
     * alike. */
    if (su && !via_in_scope(s, w, su, sk))
        return false;
    if (!check_refs(s, w))
        return false;
    const char *sql = w->op == STORE_CREATE ? store__sql_insert(w->a, m, &w->vals)
                      : su                  ? store__sql_update_scoped(w->a, m, &w->vals, su)
                                            : store__sql_update(w->a, m, &w->vals);
    sqlite3_stmt *st = store__stmt(s->wcache, sql);
    if (!st)
        return w->err = RD_INTERNAL, false;
    if (su && w->op != STORE_CREATE)
        sqlite3_bind_text(st, (int)w->vals.n + 3, su->user, -1, SQLITE_STATIC);
    rc = bind_and_step(st, id, now, &w->vals);
    if (rc != SQLITE_DONE)
        return sql_failed(s, w, rc), false;
    if (w->op != STORE_CREATE && sqlite3_changes(s->wdb) == 0)
        return w->err = RD_NOT_FOUND, false;
    if (!write_links(s, w, id))
        return sql_failed(s, w, sqlite3_extended_errcode(s->wdb)), false;
    /* The row as written must still be one the caller reaches (a team
     * that leaves its writer out, an owner that is someone else). */
    if (su && !scoped_hit(s, store__sql_exists_scoped(w->a, m, su, true), id, su->user)) {
        w->err = RD_DENIED;
        w->detail = arena_printf(w->a, "the %s would be outside what you may reach", m->name);
        return false;
    }
    /* Render the row as it now stands, inside the transaction. */
    jw jwr;
    buf_init(&w->body, w->a, RD_MAX_RESPONSE);
    jw_init(&jwr, &w->body);
    st = store__stmt(s->wcache, store__sql_get(w->a, m));
    rd_err e = get_row(st, m, &s->fmt, id, w->omit, w->type_name, &jwr);
    if (e != RD_OK || !jw_ok(&jwr))
        return w->err = RD_INTERNAL, false;
    return !m->history || keep_version(s, w, id, now);
}

static void run_batch(store *s, workq_link *batch)
{
    if (store__exec(s->wdb, "BEGIN IMMEDIATE") != SQLITE_OK) {
        log_error("msg=begin_failed err=\"%s\"", sqlite3_errmsg(s->wdb));
        for (workq_link *l = batch; l; l = l->next) {
            store_write *w = job_of(l);
            w->err = RD_UNAVAILABLE;
            w->detail = "the database cannot take writes right now";
        }
        return;
    }
    for (workq_link *l = batch; l; l = l->next) {
        store_write *w = job_of(l);
        store__exec(s->wdb, "SAVEPOINT job");
        if (!run_job(s, w))
            store__exec(s->wdb, "ROLLBACK TO job");
        store__exec(s->wdb, "RELEASE job");
    }
    /* COMMIT returns after the WAL is synced (synchronous=FULL): only then
     * do the callers hear of success. */
    int rc = store__exec(s->wdb, "COMMIT");
    if (rc != SQLITE_OK) {
        log_error("msg=commit_failed err=\"%s\"", sqlite3_errmsg(s->wdb));
        store__exec(s->wdb, "ROLLBACK");
        for (workq_link *l = batch; l; l = l->next) {
            store_write *w = job_of(l);
            if (w->err == RD_OK) {
                w->err = RD_UNAVAILABLE;
                w->detail = "the database cannot take writes right now";
            }
        }
    }
}

static void *writer_main(void *arg)
{
    store *s = arg;
    workq_link *batch;
    while ((batch = workq_take(&s->q, RD_MAX_BATCH))) {
        run_batch(s, batch);
        /* committed (or rolled back) before anyone hears: a reader that
         * sees the new generation finds the revocation in the database */
        for (workq_link *l = batch; l; l = l->next) {
            if (job_of(l)->revokes) {
                __atomic_add_fetch(&s->revocations, 1, __ATOMIC_RELEASE);
                break;
            }
        }
        size_t n = 0;
        for (workq_link *l = batch, *next; l; l = next, n++) {
            next = l->next; /* done() hands the job back: read the link first */
            store_write *w = job_of(l);
            w->done(w);
        }
        workq_done(&s->q, n);
        /* After the callers heard: a refresh delays only the next batch. */
        if (store__mono_ms() - s->stats_at >= RD_STATS_CHECK_SEC * 1000LL) {
            store__stats_refresh(s->wdb);
            s->stats_at = store__mono_ms();
        }
    }
    return NULL; /* stopped and drained */
}
