/*
 * Every SQL statement restd runs is built here, from model identifiers only;
 * values are always bound parameters (role names of the app file, checked
 * identifiers, are the one kind of literal: see roles_in). Also the per-connection statement
 * cache (SQL text -> prepared statement) and the row emitter shared by reads
 * and by the writer (which renders the row it just wrote).
 */
#include <stdio.h>
#include <string.h>

#include "app/types.h"
#include "store/store_int.h"
#include "util/dt.h"
#include "util/log.h"

/* ---- statement cache ------------------------------------------------- */

/* Open addressing on the FNV-1a hash of the SQL text. When the table is
 * three-quarters full (a client cycling through many filter shapes), every
 * statement that is not pinned is finalized and the table rebuilt: simple,
 * bounded, and rare. */
#define CACHE_SLOTS 512

typedef struct slot {
    char *sql;
    sqlite3_stmt *st;
    bool pinned; /* handed out for the connection's lifetime: never evicted */
} slot;

struct stmt_cache {
    sqlite3 *db;
    size_t used;
    slot slots[CACHE_SLOTS];
};

stmt_cache *store__cache_new(sqlite3 *db)
{
    stmt_cache *c = xcalloc(1, sizeof *c);
    c->db = db;
    return c;
}

static void cache_clear(stmt_cache *c)
{
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        if (c->slots[i].sql) {
            sqlite3_finalize(c->slots[i].st);
            free(c->slots[i].sql);
            c->slots[i].sql = NULL;
            c->slots[i].st = NULL;
        }
    }
    c->used = 0;
}

void store__cache_free(stmt_cache *c)
{
    if (!c)
        return;
    cache_clear(c);
    free(c);
}

static size_t fnv(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void insert(stmt_cache *c, char *sql, sqlite3_stmt *st, bool pinned)
{
    size_t i = fnv(sql) % CACHE_SLOTS;
    while (c->slots[i].sql)
        i = (i + 1) % CACHE_SLOTS;
    c->slots[i] = (slot){.sql = sql, .st = st, .pinned = pinned};
    c->used++;
}

static void evict_unpinned(stmt_cache *c)
{
    slot keep[CACHE_SLOTS];
    size_t n = 0;
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        slot *s = &c->slots[i];
        if (s->sql && s->pinned) {
            keep[n++] = *s;
        } else if (s->sql) {
            sqlite3_finalize(s->st);
            free(s->sql);
        }
        *s = (slot){0};
    }
    c->used = 0;
    for (size_t i = 0; i < n; i++)
        insert(c, keep[i].sql, keep[i].st, true);
}

static sqlite3_stmt *lookup(stmt_cache *c, const char *sql, bool pin)
{
    size_t i = fnv(sql) % CACHE_SLOTS;
    for (size_t n = 0; n < CACHE_SLOTS && c->slots[i].sql; n++, i = (i + 1) % CACHE_SLOTS) {
        if (strcmp(c->slots[i].sql, sql) == 0) {
            c->slots[i].pinned |= pin;
            return c->slots[i].st;
        }
    }
    if (c->used >= CACHE_SLOTS * 3 / 4)
        evict_unpinned(c);
    if (c->used >= CACHE_SLOTS * 3 / 4) {
        log_error("msg=\"statement cache full of pinned statements\"");
        return NULL;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        log_error("msg=prepare_failed err=\"%s\"", sqlite3_errmsg(c->db));
        sqlite3_finalize(st);
        return NULL;
    }
    insert(c, xstrdup(sql), st, pin);
    return st;
}

sqlite3_stmt *store__stmt(stmt_cache *c, const char *sql) { return lookup(c, sql, false); }

sqlite3_stmt *store__stmt_pinned(stmt_cache *c, const char *sql) { return lookup(c, sql, true); }

int store__exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* ---- builders -------------------------------------------------------- */

/* Columns: id, each field (ref_list as a JSON array subquery), created_at,
 * updated_at. The emitter below reads them in the same order. A ref_list
 * that omit leaves out is a NULL column: its link lookup would run for
 * every row only to be dropped. */
static const char *select_cols(arena *a, const app_model *m, const bool *omit)
{
    buf b;
    buf_init(&b, a, 1 << 20);
    buf_puts(&b, "t.\"id\"");
    for (size_t i = 0; i < m->n_fields; i++) {
        const app_field *f = &m->fields[i];
        if (f->type == FT_REF_LIST && omit && omit[i])
            buf_puts(&b, ", NULL");
        else if (f->type == FT_REF_LIST)
            buf_printf(&b,
                       ", (SELECT json_group_array(\"target\") FROM (SELECT \"target\" FROM \"%s\""
                       " WHERE \"owner\" = t.\"id\" ORDER BY rowid))",
                       f->link_table);
        else
            buf_printf(&b, ", t.\"%s\"", f->name);
    }
    buf_puts(&b, ", t.\"created_at\", t.\"updated_at\"");
    return b.data;
}

const char *store__sql_select_cols(arena *a, const app_model *m)
{
    return select_cols(a, m, NULL);
}

const char *store__sql_get(arena *a, const app_model *m)
{
    return arena_printf(a, "SELECT %s FROM \"%s\" AS t WHERE t.\"id\" = ?1",
                        store__sql_select_cols(a, m), m->name);
}

/* The scope condition on the row named `row` (an alias or a quoted table
 * name), with the user at placeholder ph. On the holder row itself
 * (holder_row, or a scope without via) it tests the row's own member
 * links or owner column; otherwise the row its via reference names. It is
 * written as `column IN (rows of this user)` so the planner may start from
 * the user (the link table's target index, the owner column's index) and
 * walk the reference's index, instead of testing every row of a big table. */
static void scope_cond(buf *b, const app_scope *sc, const char *row, const char *ph, bool holder_row)
{
    bool direct = holder_row || !sc->via;
    const char *idcol = direct ? "id" : sc->via->name;
    if (sc->owner && direct)
        buf_printf(b, "%s.\"%s\" = %s", row, sc->owner->name, ph);
    else if (sc->owner)
        buf_printf(b, "%s.\"%s\" IN (SELECT s.\"id\" FROM \"%s\" s WHERE s.\"%s\" = %s)", row, idcol,
                   sc->holder->name, sc->owner->name, ph);
    else
        buf_printf(b, "%s.\"%s\" IN (SELECT s.\"owner\" FROM \"%s\" s WHERE s.\"target\" = %s)", row, idcol,
                   sc->member->link_table, ph);
}

scope_kind store__scope_kind(const app_model *m, const store_scope *sc, bool write)
{
    if (!sc)
        return SCOPE_NONE;
    bool own = write ? sc->write : sc->read;
    /* a caller without overrides whose own role may keeps today's
     * statement; one whose own role may not can only be granted by an
     * override (the per-request check let it through on one) */
    if (m->access.role_in && (sc->held || !own))
        return SCOPE_ROLE;
    return sc->row && m->access.scope ? SCOPE_ROW : SCOPE_NONE;
}

/* The roles of list as an SQL condition on the override's role column
 * `col`: "*" is any role. Role names are [a-z][a-z0-9_]* (the loader
 * checks), so they are written as literals: the statement stays one per
 * model and mode. */
static void roles_in(buf *b, const char *col, const char *const *roles, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(roles[i], "*") == 0) {
            buf_printf(b, "%s IS NOT NULL", col);
            return;
        }
    if (n == 0) {
        buf_puts(b, "0");
        return;
    }
    buf_printf(b, "%s IN (", col);
    for (size_t i = 0; i < n; i++)
        buf_printf(b, "%s'%s'", i ? ", " : "", roles[i]);
    buf_putc(b, ')');
}

/* That override row o has a role that counts: not null and not a
 * superuser role (those are global only, so such a row overrides nothing). */
static void override_set(buf *b, const app_role_in *ri)
{
    buf_printf(b, "o.\"%s\" IS NOT NULL", ri->role->name);
    if (ri->n_global) {
        buf_printf(b, " AND o.\"%s\" NOT IN (", ri->role->name);
        for (size_t i = 0; i < ri->n_global; i++)
            buf_printf(b, "%s'%s'", i ? ", " : "", ri->global[i]);
        buf_putc(b, ')');
    }
}

/* The per-holder role condition (SCOPE_ROLE) on the row named `row`:
 * (own role may AND scope AND no override in the holder) OR an override
 * there may. holder_row: `row` is a row of the holder model (a create's
 * via target), tested by its id; the scope is then tested only when it
 * goes through the same via (the row written is checked again after). */
static void role_cond(buf *b, const app_model *m, const store_scope *sc, bool write, const char *row,
                      const char *ph, bool holder_row)
{
    const app_role_in *ri = m->access.role_in;
    const app_scope *scp = sc->row ? m->access.scope : NULL;
    const char *hcol = holder_row || !ri->via ? "id" : ri->via->name;
    const app_access *acc = &m->access;
    buf_putc(b, '(');
    if (write ? sc->write : sc->read) {
        buf_putc(b, '(');
        if (scp && !holder_row) {
            scope_cond(b, scp, row, ph, false);
            buf_puts(b, " AND ");
        } else if (scp && scp->via && scp->via == ri->via) {
            scope_cond(b, scp, row, ph, true);
            buf_puts(b, " AND ");
        }
        buf_printf(b,
                   "(%s.\"%s\" IS NULL OR %s.\"%s\" NOT IN (SELECT o.\"%s\" FROM \"%s\" o WHERE o.\"%s\" = %s "
                   "AND o.\"%s\" IS NOT NULL AND ",
                   row, hcol, row, hcol, ri->holder->name, ri->model->name, ri->user->name, ph, ri->holder->name);
        override_set(b, ri);
        buf_puts(b, "))) OR ");
    }
    buf_printf(b, "%s.\"%s\" IN (SELECT o.\"%s\" FROM \"%s\" o WHERE o.\"%s\" = %s AND ", row, hcol,
               ri->holder->name, ri->model->name, ri->user->name, ph);
    override_set(b, ri);
    buf_puts(b, " AND ");
    char col[RD_MAX_NAME + 8];
    snprintf(col, sizeof col, "o.\"%s\"", ri->role->name);
    roles_in(b, col, write ? acc->write : acc->read, write ? acc->n_write : acc->n_read);
    buf_puts(b, "))");
}

/* The condition of kind k (not SCOPE_NONE) for caller sc. */
static void caller_cond(buf *b, const app_model *m, const store_scope *sc, scope_kind k, bool write,
                        const char *row, const char *ph)
{
    if (k == SCOPE_ROLE)
        role_cond(b, m, sc, write, row, ph, false);
    else
        scope_cond(b, m->access.scope, row, ph, false);
}

const char *store__sql_get_scoped(arena *a, const app_model *m, const store_scope *sc, bool write)
{
    buf b;
    buf_init(&b, a, 1 << 20);
    buf_puts(&b, store__sql_get(a, m));
    buf_puts(&b, " AND ");
    caller_cond(&b, m, sc, store__scope_kind(m, sc, write), write, "t", "?2");
    return b.data;
}

const char *store__sql_exists_scoped(arena *a, const app_model *m, const store_scope *sc, bool write)
{
    buf b;
    buf_init(&b, a, 1 << 20);
    buf_printf(&b, "SELECT 1 FROM \"%s\" AS t WHERE t.\"id\" = ?1 AND ", m->name);
    caller_cond(&b, m, sc, store__scope_kind(m, sc, write), write, "t", "?2");
    return b.data;
}

const char *store__sql_holder_in(arena *a, const app_model *m)
{
    const app_scope *sc = m->access.scope;
    buf b;
    buf_init(&b, a, 1 << 20);
    buf_printf(&b, "SELECT 1 FROM \"%s\" AS t WHERE t.\"id\" = ?1 AND ", sc->holder->name);
    scope_cond(&b, sc, "t", "?2", true);
    return b.data;
}

const char *store__sql_role_holder_in(arena *a, const app_model *m, const store_scope *sc)
{
    const app_role_in *ri = m->access.role_in;
    buf b;
    buf_init(&b, a, 1 << 20);
    buf_printf(&b, "SELECT 1 FROM \"%s\" AS t WHERE t.\"id\" = ?1 AND ", ri->holder->ref->name);
    role_cond(&b, m, sc, true, "t", "?2", true);
    return b.data;
}

const char *store__sql_role_held(arena *a, const app_model *m, const char *const *roles, size_t n)
{
    const app_role_in *ri = m->access.role_in;
    buf b;
    buf_init(&b, a, 1 << 20);
    buf_printf(&b, "SELECT 1 FROM \"%s\" o WHERE o.\"%s\" = ?1 AND o.\"%s\" IS NOT NULL AND ", ri->model->name,
               ri->user->name, ri->holder->name);
    override_set(&b, ri);
    if (n) {
        buf_puts(&b, " AND ");
        roles_in(&b, arena_printf(a, "o.\"%s\"", ri->role->name), roles, n);
    }
    buf_puts(&b, " LIMIT 1");
    return b.data;
}

/* SQL after the column for each operator. List operators get their
 * "(?, ?, ...)" appended. */
static const char *const op_sql[FOP__COUNT] = {
    [FOP_EQ] = " = ?",        [FOP_NE] = " <> ?",      [FOP_LT] = " < ?",
    [FOP_LE] = " <= ?",       [FOP_GT] = " > ?",       [FOP_GE] = " >= ?",
    [FOP_IN] = " IN ",        [FOP_NIN] = " NOT IN ",  [FOP_LIKE] = " GLOB ?",
    [FOP_ILIKE] = " LIKE ? ESCAPE '\\'",              [FOP_NLIKE] = " NOT GLOB ?",
};

static void placeholders(buf *b, size_t n)
{
    buf_putc(b, '(');
    for (size_t i = 0; i < n; i++)
        buf_puts(b, i ? ", ?" : "?");
    buf_putc(b, ')');
}

/* WHERE for the scope, the terms and the keyset position. Parameters
 * are plain `?`, bound in order by store__bind_where; the caller is ?1,
 * first, so the role condition may name it more than once. */
static void where(buf *b, const app_model *m, const store_query *q)
{
    scope_kind k = store__scope_kind(m, q->scope_user, false);
    bool scoped = k != SCOPE_NONE;
    if (scoped) {
        buf_puts(b, " WHERE ");
        caller_cond(b, m, q->scope_user, k, false, "t", "?1");
    }
    for (size_t i = 0; i < q->n_terms; i++) {
        const fterm *t = &q->terms[i];
        buf_puts(b, i || scoped ? " AND " : " WHERE ");
        if (t->field->type == FT_REF_LIST) {
            /* membership through the link table */
            if (t->op == FOP_NULL)
                buf_printf(b, "%sEXISTS (SELECT 1 FROM \"%s\" l WHERE l.\"owner\" = t.\"id\")",
                           t->vals[0].i ? "NOT " : "", t->field->link_table);
            else {
                buf_printf(b, "EXISTS (SELECT 1 FROM \"%s\" l WHERE l.\"owner\" = t.\"id\" AND l.\"target\" IN ",
                           t->field->link_table);
                placeholders(b, t->n);
                buf_putc(b, ')');
            }
            continue;
        }
        char col[RD_MAX_NAME + 8];
        snprintf(col, sizeof col, "t.\"%s\"", t->field->name);
        if (t->op == FOP_NULL) {
            buf_printf(b, "%s IS %sNULL", col, t->vals[0].i ? "" : "NOT ");
            continue;
        }
        buf_puts(b, col);
        if (t->nocase)
            buf_puts(b, " COLLATE NOCASE");
        buf_puts(b, op_sql[t->op]);
        if (t->op == FOP_IN || t->op == FOP_NIN)
            placeholders(b, t->n);
    }
    if (q->keyset)
        buf_puts(b, q->n_terms || scoped ? " AND t.rowid > ?" : " WHERE t.rowid > ?");
}

int store__bind_where(sqlite3_stmt *st, const app_model *m, const store_query *q)
{
    int idx = 1;
    if (store__scope_kind(m, q->scope_user, false) != SCOPE_NONE) /* as where() wrote it */
        sqlite3_bind_text(st, idx++, q->scope_user->user, -1, SQLITE_STATIC);
    for (size_t i = 0; i < q->n_terms; i++) {
        const fterm *t = &q->terms[i];
        if (t->op == FOP_NULL)
            continue;
        for (size_t k = 0; k < t->n; k++)
            sqlval_bind(st, idx++, &t->vals[k]);
    }
    if (q->keyset)
        sqlite3_bind_int64(st, idx++, q->after);
    return idx;
}

const char *store__sql_list(arena *a, const app_model *m, const store_query *q)
{
    buf b;
    buf_init(&b, a, 1 << 20);
    buf_printf(&b, "SELECT %s, t.rowid FROM \"%s\" AS t", select_cols(a, m, q->omit), m->name);
    where(&b, m, q);
    /* rowid order is creation order, and an index on a filter column
     * already holds rowids in order, so a default page needs no sort. */
    buf_puts(&b, " ORDER BY ");
    for (size_t i = 0; i < q->n_sort; i++)
        buf_printf(&b, "t.\"%s\"%s, ", q->sort[i].field->name, q->sort[i].desc ? " DESC" : "");
    buf_puts(&b, "t.rowid LIMIT ? OFFSET ?");
    return b.data;
}

const char *store__sql_count(arena *a, const app_model *m, const store_query *q)
{
    buf b;
    buf_init(&b, a, 1 << 20);
    store_query nq = *q;
    nq.keyset = false; /* the total counts the whole filtered list */
    buf_printf(&b, "SELECT count(*) FROM \"%s\" AS t", m->name);
    where(&b, m, &nq);
    return b.data;
}

const char *store__sql_insert(arena *a, const app_model *m, const rowvals *v)
{
    buf b;
    buf_init(&b, a, 1 << 20);
    buf_printf(&b, "INSERT INTO \"%s\" (\"id\", \"created_at\", \"updated_at\"", m->name);
    for (size_t i = 0; i < v->n; i++)
        buf_printf(&b, ", \"%s\"", v->fields[i]->name);
    buf_puts(&b, ") VALUES (?1, ?2, ?2");
    for (size_t i = 0; i < v->n; i++)
        buf_printf(&b, ", ?%zu", i + 3);
    buf_putc(&b, ')');
    return b.data;
}

const char *store__sql_update(arena *a, const app_model *m, const rowvals *v)
{
    buf b;
    buf_init(&b, a, 1 << 20);
    buf_printf(&b, "UPDATE \"%s\" SET \"updated_at\" = ?2", m->name);
    for (size_t i = 0; i < v->n; i++)
        buf_printf(&b, ", \"%s\" = ?%zu", v->fields[i]->name, i + 3);
    buf_puts(&b, " WHERE \"id\" = ?1");
    return b.data;
}

const char *store__sql_update_scoped(arena *a, const app_model *m, const rowvals *v, const store_scope *sc)
{
    buf b;
    buf_init(&b, a, 1 << 20);
    buf_puts(&b, store__sql_update(a, m, v));
    buf_puts(&b, " AND ");
    caller_cond(&b, m, sc, store__scope_kind(m, sc, true), true, arena_printf(a, "\"%s\"", m->name),
                arena_printf(a, "?%zu", v->n + 3));
    return b.data;
}

const char *store__sql_delete_scoped(arena *a, const app_model *m, const store_scope *sc)
{
    buf b;
    buf_init(&b, a, 1 << 20);
    buf_puts(&b, store__sql_delete(a, m));
    buf_puts(&b, " AND ");
    caller_cond(&b, m, sc, store__scope_kind(m, sc, true), true, arena_printf(a, "\"%s\"", m->name), "?2");
    return b.data;
}

const char *store__sql_delete(arena *a, const app_model *m)
{
    return arena_printf(a, "DELETE FROM \"%s\" WHERE \"id\" = ?1", m->name);
}

const char *store__sql_exists(arena *a, const app_model *m)
{
    return arena_printf(a, "SELECT 1 FROM \"%s\" WHERE \"id\" = ?1", m->name);
}

/* ---- row emitter ----------------------------------------------------- */

static void emit_text(sqlite3_stmt *st, int col, jw *w)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        jw_null(w);
        return;
    }
    const char *s = (const char *)sqlite3_column_text(st, col);
    jw_str(w, s, (size_t)sqlite3_column_bytes(st, col));
}

static void emit_stamp(sqlite3_stmt *st, int col, date_style ds, jw *w)
{
    char out[40];
    const char *s = (const char *)sqlite3_column_text(st, col);
    size_t n = s ? dt_format_datetime(s, (size_t)sqlite3_column_bytes(st, col), ds, out) : 0;
    if (n)
        jw_str(w, out, n);
    else
        jw_null(w);
}

void store__emit_row(sqlite3_stmt *st, const app_model *m, const row_fmt *rf, const bool *omit, jw *w)
{
    store__emit_row_as(st, m, rf, omit, NULL, w);
}

void store__emit_row_as(sqlite3_stmt *st, const app_model *m, const row_fmt *rf, const bool *omit,
                        const char *type_name, jw *w)
{
    date_style ds = rf->ds;
    jw_obj_begin(w);
    jw_keyz(w, rf->id_key);
    emit_text(st, 0, w);
    if (!type_name)
        type_name = m->type_name;
    if (type_name) { /* like id, never left out by fields= */
        jw_keyz(w, "type");
        jw_strz(w, type_name);
    }
    for (size_t i = 0; i < m->n_fields; i++) {
        const app_field *f = &m->fields[i];
        if (omit && omit[i])
            continue;
        jw_keyz(w, f->json_name);
        if (rf->blank_as_null && sqlite3_column_type(st, (int)i + 1) == SQLITE_TEXT &&
            sqlite3_column_bytes(st, (int)i + 1) == 0) {
            jw_null(w); /* stored before the app asked for blank_as_null */
            continue;
        }
        type_desc_of(f->type)->emit(f, st, (int)i + 1, ds, w);
    }
    int c = (int)m->n_fields + 1;
    if (!omit || !omit[m->n_fields]) {
        jw_keyz(w, rf->created_key);
        emit_stamp(st, c, ds, w);
    }
    if (!omit || !omit[m->n_fields + 1]) {
        jw_keyz(w, rf->updated_key);
        emit_stamp(st, c + 1, ds, w);
    }
    jw_obj_end(w);
}
