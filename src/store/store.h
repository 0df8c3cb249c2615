/*
 * Storage on SQLite. One `store` per process: it owns the database path, the
 * schema check/migration done at open, and the writer thread that commits
 * every write (group commit). Reads go through a `store_conn`, one per event
 * loop thread, so a GET never waits for a lock or a thread hop.
 *
 * Durability: WAL with synchronous=FULL, so COMMIT returns only after the
 * WAL is synced; a write's completion callback runs only after its COMMIT
 * returned. Concurrent writes share one transaction and one sync.
 *
 * SQL text is built only in store/ (sql.c); values are always bound.
 */
#ifndef RESTD_STORE_H
#define RESTD_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/validate.h"
#include "app/app.h"
#include "json/jw.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/workq.h"

typedef struct store store;
typedef struct store_conn store_conn;

/*
 * Open (creating if needed) the database at path, bring its schema in line
 * with app (creating tables, adding columns and indexes), and start the
 * writer thread. A destructive change (a field or model dropped or
 * retyped) is refused. On failure returns NULL and sets *msg to a heap
 * string (caller frees) that says what is wrong.
 */
store *store_open(const char *path, const app *app, char **msg);
/* Finish queued writes, stop the writer thread, checkpoint and close. */
void store_close(store *s);

/* A read connection for the calling thread; use it from that thread only. */
store_conn *store_conn_open(store *s);
void store_conn_close(store_conn *c);

/* GET one row as JSON into w, leaving out the fields omit marks (NULL:
 * none). RD_NOT_FOUND when absent. */
rd_err store_get(store_conn *c, const app_model *m, const char *id, const bool *omit, jw *w);

/* Row scopes (m->access.scope) and per-holder roles (m->access.role_in;
 * docs/auth.md "Row scopes", "Per-holder roles"). Wherever the store takes
 * a `scope_user`, NULL means the caller reaches every row and the plain
 * statements run; otherwise the condition for that caller is part of the
 * statement's WHERE, so a row outside it is simply not there. The API
 * layer decides (api/authz.h) what applies; the store picks the statement:
 * a caller who holds no override rows, or a model without role_in, gets
 * the scope condition alone (today's statements); otherwise a row is
 * reached when the caller's own role may (read or write, by statement)
 * and the scope lets it and the caller has no override in the row's
 * holder, or when the caller's override there is a role that may. */
typedef struct store_scope {
    const char *user; /* the caller's id ("" reaches no row of a scope) */
    bool row;         /* the model's scope limits this caller (not a superuser, not exempt) */
    bool read, write; /* the caller's own role may read / write the model */
    bool held;        /* the caller holds a row with a role in the model's role_in */
} store_scope;

/* store_get, limited to the rows scope_user reaches (NULL: every row),
 * with the row's "type" set to type_name (NULL: the model's). */
rd_err store_get_as(store_conn *c, const app_model *m, const char *id, const store_scope *scope_user,
                    const bool *omit, const char *type_name, jw *w);

/* Filter operators (docs/query.md); the SQL for each is in store/sql.c. */
typedef enum fop {
    FOP_EQ, FOP_NE, FOP_LT, FOP_LE, FOP_GT, FOP_GE, FOP_IN, FOP_NIN,
    FOP_LIKE, FOP_ILIKE, FOP_NLIKE, FOP_NULL, FOP__COUNT
} fop;

/* One term: field op values. FOP_NULL has one SV_INT value (1: IS NULL,
 * 0: IS NOT NULL). LIKE-family values are already SQL patterns. */
typedef struct fterm {
    const app_field *field; /* a model field, or a meta field (id, created_at, updated_at) */
    fop op;
    const sqlval *vals;
    size_t n;
    bool nocase; /* EQ/NE/IN/NIN on text: compare ignoring ASCII case (field key `filter: ilike`) */
} fterm;

typedef struct sortkey {
    const app_field *field;
    bool desc;
} sortkey;

typedef struct store_query {
    const fterm *terms;
    size_t n_terms;
    const sortkey *sort; /* then creation order */
    size_t n_sort;
    long long limit;
    long long offset;
    bool keyset;      /* creation order from `after` (a rowid; 0 = start) */
    long long after;
    const bool *omit; /* per field of the model, then created_at, updated_at: leave it out; NULL = none */
    bool count;       /* compute the total */
    const store_scope *scope_user; /* only rows this caller reaches (reads); NULL: every row */
    const char *type_name; /* "type" of each row; NULL: the model's type_name */
} store_query;

typedef struct store_page {
    long long total; /* when counted */
    long long returned;
    bool more;            /* keyset: another page follows */
    long long next_after; /* keyset: cursor of the next page */
} store_page;

/* A list as a JSON array into w; paging facts into *page. */
rd_err store_list(store_conn *c, const app_model *m, const store_query *q, arena *a, jw *w,
                  store_page *page);

/* The values of field f (NULL: the id) of the rows q selects, at most
 * q->limit (> 0) of them, as arena strings into *out; NULL values are
 * skipped. f may not be a ref_list. For app routes that need ids to build
 * a further query (api/ext.h). */
rd_err store_values(store_conn *c, const app_model *m, const store_query *q, const app_field *f, arena *a,
                    const char ***out, size_t *n);

/* One kept version of a row (models with `history: true`): written by
 * every create, replace and patch, inside the write's transaction. */
typedef struct store_version {
    const char *id;    /* the version's own id */
    const char *at;    /* canonical UTC datetime of the write */
    const char *actor; /* the writer's user id, or NULL */
    const char *body;  /* the row as it was answered, JSON */
    size_t body_len;
} store_version;

/* The versions of row id of m, oldest first, at most cap of the newest,
 * into *out (arena). */
rd_err store_history(store_conn *c, const app_model *m, const char *id, size_t cap, arena *a,
                     store_version **out, size_t *n);

/* Whether a row exists (read connection). */
rd_err store_exists(store_conn *c, const app_model *m, const char *id, arena *a);
/* Whether a row exists that scope_user reaches (NULL: store_exists). */
rd_err store_exists_as(store_conn *c, const app_model *m, const char *id, const store_scope *scope_user,
                       arena *a);
/* Whether user holds a row of m's role_in whose role is one of roles
 * (n > 0; "*": any role), or any role at all when n is 0. */
rd_err store_role_held(store_conn *c, const app_model *m, const char *user, const char *const *roles, size_t n,
                       arena *a);

/* A stored filter's JSON text for (model, id) if it has not expired and
 * belongs to owner (NULL: no owner); RD_NOT_FOUND otherwise. */
rd_err store_filter_get(store_conn *c, const app_model *m, const char *id, const char *owner, arena *a,
                        const char **json);

/* 200 when the database file can be opened and read now. */
rd_err store_health(store *s);

typedef enum store_op {
    STORE_CREATE,
    STORE_REPLACE,
    STORE_PATCH,
    STORE_DELETE,
    STORE_FILTER_SAVE, /* stored filter: filter_json for model, owner; expires after ttl */
    STORE_RUN,         /* run(db, w) inside the batch: for writes outside the models (auth) */
    STORE_MULTI        /* steps[0..n_steps) in order, all or none: a multi-row write */
} store_op;

/*
 * A write. The caller fills the inputs, store_submit queues it, and the
 * writer thread runs it inside a batch transaction and, once the batch is
 * committed and synced (or failed), calls done(w) ON THE WRITER THREAD.
 * done must only hand the job back to its owner (e.g. post it to an event
 * loop). Everything the job points to, and its arena, must stay alive and
 * untouched by others until done runs.
 */
/* What a RD_CONFLICT was about, for error styles that word them apart
 * (Zou answers each with its own message). */
typedef enum store_conflict {
    SC_NONE,
    SC_UNIQUE,     /* a unique value or index is taken */
    SC_MISSING,    /* a reference names a row that does not exist */
    SC_REFERENCED, /* a delete of a row something still refers to */
    SC_OTHER       /* another constraint */
} store_conflict;

typedef struct store_write store_write;
struct store_write {
    /* in */
    store_op op;
    const app_model *model;
    const char *id; /* REPLACE/PATCH/DELETE */
    rowvals vals;   /* CREATE/REPLACE/PATCH */
    const bool *omit; /* fields left out of the rendered row (API version); NULL: none */
    const char *type_name;   /* "type" of the rendered row; NULL: the model's type_name */
    const char *actor;       /* who writes (the caller's user id), kept with a history version; or NULL */
    const char *filter_json; /* FILTER_SAVE */
    const char *owner;       /* FILTER_SAVE: NULL when anonymous */
    long long ttl;           /* FILTER_SAVE: seconds */
    /* CREATE/REPLACE/PATCH/DELETE: the caller the model's scope or role_in
     * limits, or NULL. The UPDATE/DELETE carries the condition (write
     * rights; a row outside it is RD_NOT_FOUND), and a row written must be
     * inside it afterwards (its `via` reference checked first): otherwise
     * RD_DENIED. */
    const store_scope *scope_user;
    /* RUN: called on the writer thread inside the batch transaction (under
     * its own savepoint); returns false with w->err/detail set to roll the
     * job back. SQL for it lives in store/ (authdb.c). */
    bool (*run)(sqlite3 *db, store_write *w);
    void *ctx; /* RUN: the caller's inputs and outputs */
    bool revokes; /* RUN: may revoke access tokens (bumps store_revocations once committed) */
    bool lenient_lists; /* ref_list ids naming no row are dropped instead of refused */
    /* MULTI: model writes (CREATE, REPLACE, PATCH, DELETE) run in order
     * inside this job's savepoint; the first failure rolls them all back
     * and is this job's error (its step index in failed_step). Each
     * step's outputs (new_id, body) are set; a step's arena is this job's. */
    store_write **steps;
    size_t n_steps;
    size_t failed_step; /* MULTI, out */
    const char *once;   /* MULTI: run only if no job with this key ever ran on this database */
    /* CREATE: when match terms are given, a row they select is changed
     * instead, with upd as a PATCH (decided on the writer thread, so two
     * racing writes cannot both create); a numeric add_field of upd adds
     * its value to the row's. matched (out) tells which happened. */
    const fterm *match;
    size_t n_match;
    rowvals upd;
    const app_field *add_field;
    bool matched;
    bool skipped;       /* MULTI, out: `once` had run already; nothing was written */
    arena *a;       /* for the outputs */
    void (*done)(store_write *w);
    void *user;
    /* out */
    rd_err err;         /* RD_OK, RD_NOT_FOUND, RD_CONFLICT, RD_DENIED, RD_UNAVAILABLE, RD_INTERNAL */
    const char *detail; /* arena; for errors */
    store_conflict conflict; /* for RD_CONFLICT: its kind */
    const char *new_id; /* CREATE: the id given to the row */
    buf body;           /* the row as JSON after the write (not for DELETE) */
    /* private */
    workq_link link;
};

/* How many batches that could revoke access tokens this process has
 * committed: a reader that saw a token unrevoked at generation g needs to
 * look again only when this moved. Revocations by another process (the
 * CLI) are not counted here. Thread-safe. */
unsigned long store_revocations(const store *s);

/* Queue w. Never blocks on the disk. Returns RD_UNAVAILABLE (and does not
 * queue) when the queue is full or the store is closing. */
rd_err store_submit(store *s, store_write *w);

/* Submit w and wait for it (not from an event loop: it blocks until the
 * writer committed). For start-up work such as seeding. Returns w->err. */
rd_err store_submit_wait(store *s, store_write *w);

/* A new row id as the store makes them (UUIDv7, lower case), for rows a
 * STORE_RUN job inserts (API keys). Any thread. */
void store_new_id(char out[37]);

#endif
