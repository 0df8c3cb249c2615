/*
 * Schema creation and in-place migration.
 *
 * restd records every field it created in `_restd_fields` (model, field,
 * type, target), so it knows the restd type behind each column (a date and a
 * string are both TEXT to SQLite). At open the app file is compared with
 * that record:
 *   - a new model or field is created (ALTER TABLE ADD COLUMN, link table);
 *   - a recorded field or model that the app no longer has, or whose type or
 *     target changed, is destructive: restd refuses to start and says what
 *     would be lost, so no data disappears because of an edit to a file.
 * Indexes follow the file both ways (an index is never data).
 * Everything runs in one transaction: a failed migration changes nothing.
 */
#include <stdio.h>
#include <string.h>

#include "app/types.h"
#include "store/authdb.h"
#include "store/mfadb.h"
#include "store/store_int.h"

static const char *sql_type(const app_field *f) { return type_desc_of(f->type)->sql_type; }

static long long count_rows(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* A computed field is a VIRTUAL generated column: computed when read, so
 * it is served, filtered and sorted like any column and never stale, and
 * ALTER TABLE ADD COLUMN can add it to a table that has rows. A NULL part
 * reads as "" (SQLite's || would make the whole value NULL). */
static void computed_expr(buf *b, const app_field *f)
{
    for (size_t i = 0; i < f->n_computed; i++) {
        const app_concat_part *p = &f->computed[i];
        if (i)
            buf_puts(b, " || ");
        if (p->field) {
            buf_printf(b, "coalesce(\"%s\", '')", p->field->name);
            continue;
        }
        buf_putc(b, '\'');
        for (const char *c = p->literal; *c; c++) {
            if (*c == '\'')
                buf_putc(b, '\'');
            buf_putc(b, *c);
        }
        buf_putc(b, '\'');
    }
}

static void computed_ddl(buf *b, const app_field *f)
{
    buf_puts(b, " GENERATED ALWAYS AS (");
    computed_expr(b, f);
    buf_puts(b, ") VIRTUAL");
}

/* What _restd_fields records of a field: its type and target, or for a
 * computed field "computed" and its SQL expression, so that a changed
 * expression is seen (and the column rebuilt; it holds no data). */
static const char *recorded_type(const app_field *f)
{
    return f->computed ? "computed" : app_type_name(f->type);
}

static const char *recorded_target(const app_field *f, buf *tmp)
{
    if (!f->computed)
        return f->ref ? f->ref->name : NULL;
    buf_reset(tmp);
    computed_expr(tmp, f);
    return buf_cstr(tmp);
}

static void column_ddl(buf *b, const app_field *f)
{
    buf_printf(b, "\"%s\" %s", f->name, sql_type(f));
    if (f->type == FT_REF)
        buf_printf(b, " REFERENCES \"%s\"(\"id\")", f->ref->name);
    if (f->computed)
        computed_ddl(b, f);
}

static bool create_model(sqlite3 *db, const app_model *m, buf *sql)
{
    buf_reset(sql);
    buf_printf(sql, "CREATE TABLE \"%s\" (\"id\" TEXT PRIMARY KEY NOT NULL", m->name);
    for (size_t i = 0; i < m->n_fields; i++) {
        if (m->fields[i].type == FT_REF_LIST)
            continue;
        buf_puts(sql, ", ");
        column_ddl(sql, &m->fields[i]);
    }
    buf_puts(sql, ", \"created_at\" TEXT NOT NULL, \"updated_at\" TEXT NOT NULL) STRICT");
    return store__exec(db, buf_cstr(sql)) == SQLITE_OK;
}

static bool create_link(sqlite3 *db, const app_model *m, const app_field *f, buf *sql)
{
    /* Rows of the owner take their links with them; a target still linked
     * cannot be deleted (restrict), like a plain reference. */
    buf_reset(sql);
    buf_printf(sql,
               "CREATE TABLE IF NOT EXISTS \"%s\" ("
               "\"owner\" TEXT NOT NULL REFERENCES \"%s\"(\"id\") ON DELETE CASCADE, "
               "\"target\" TEXT NOT NULL REFERENCES \"%s\"(\"id\"), "
               "PRIMARY KEY (\"owner\", \"target\")) STRICT",
               f->link_table, m->name, f->ref->name);
    if (store__exec(db, buf_cstr(sql)) != SQLITE_OK)
        return false;
    buf_reset(sql);
    buf_printf(sql, "CREATE INDEX IF NOT EXISTS \"ix_%s__target\" ON \"%s\"(\"target\")",
               f->link_table, f->link_table);
    return store__exec(db, buf_cstr(sql)) == SQLITE_OK;
}

static bool record_field(sqlite3 *db, const app_model *m, const app_field *f, buf *tmp)
{
    const char *target = recorded_target(f, tmp);
    sqlite3_stmt *st = NULL;
    bool ok = sqlite3_prepare_v2(db,
                                 "INSERT OR REPLACE INTO _restd_fields(model, field, type, target)"
                                 " VALUES (?1, ?2, ?3, ?4)",
                                 -1, &st, NULL) == SQLITE_OK;
    if (ok) {
        sqlite3_bind_text(st, 1, m->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, f->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, recorded_type(f), -1, SQLITE_STATIC);
        if (target)
            sqlite3_bind_text(st, 4, target, -1, SQLITE_STATIC);
        ok = sqlite3_step(st) == SQLITE_DONE;
    }
    sqlite3_finalize(st);
    return ok;
}

/* Compare what the database holds with the app; collect every destructive
 * difference in msg. */
static void find_losses(sqlite3 *db, const app *ap, buf *msg)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT model, field, type, coalesce(target, '') FROM _restd_fields"
                               " ORDER BY model, field",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    char sql[512];
    char missing_model[128] = "";
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *mn = (const char *)sqlite3_column_text(st, 0);
        const char *fn = (const char *)sqlite3_column_text(st, 1);
        const char *ty = (const char *)sqlite3_column_text(st, 2);
        const char *tg = (const char *)sqlite3_column_text(st, 3);
        const app_model *m = app_model_by_name(ap, mn);
        if (!m) {
            if (strcmp(missing_model, mn) != 0) {
                snprintf(missing_model, sizeof missing_model, "%s", mn);
                snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", mn);
                buf_printf(msg,
                           "model '%s' is in the database (%lld rows) but not in the app file;"
                           " starting would drop it\n",
                           mn, count_rows(db, sql));
            }
            continue;
        }
        const app_field *f = app_field_by_name(m, fn);
        if (strcmp(ty, "computed") == 0)
            continue; /* derived values: nothing stored is lost */
        if (f && strcmp(recorded_type(f), ty) == 0 &&
            strcmp(f->ref ? f->ref->name : "", tg) == 0)
            continue;
        if (strcmp(ty, "ref_list") == 0)
            snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s__%s\"", mn, fn);
        else
            snprintf(sql, sizeof sql, "SELECT count(\"%s\") FROM \"%s\"", fn, mn);
        long long n = count_rows(db, sql);
        if (!f)
            buf_printf(msg,
                       "field '%s.%s' (%s) is in the database but not in the app file;"
                       " starting would drop its %lld stored values\n",
                       mn, fn, ty, n);
        else
            buf_printf(msg,
                       "field '%s.%s' changes from %s%s%s to %s%s%s;"
                       " starting would convert or drop its %lld stored values\n",
                       mn, fn, ty, *tg ? " of " : "", tg, recorded_type(f),
                       f->ref ? " of " : "", f->ref ? f->ref->name : "", n);
    }
    sqlite3_finalize(st);
}

static bool table_exists(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = NULL;
    bool yes = false;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", -1,
                           &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        yes = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return yes;
}

/* Whether the field is recorded; *rebuild when it is, but as a computed
 * column other than the one the app wants now (a changed expression, or a
 * computed field made stored): such a column holds no data, so it is
 * dropped and added again. */
static bool field_recorded(sqlite3 *db, const app_model *m, const app_field *f, buf *tmp, bool *rebuild)
{
    sqlite3_stmt *st = NULL;
    bool yes = false;
    *rebuild = false;
    if (sqlite3_prepare_v2(db, "SELECT type, coalesce(target, '') FROM _restd_fields WHERE model = ?1 AND field = ?2",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, m->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, f->name, -1, SQLITE_STATIC);
        yes = sqlite3_step(st) == SQLITE_ROW;
        if (yes && strcmp((const char *)sqlite3_column_text(st, 0), "computed") == 0) {
            const char *want = recorded_target(f, tmp);
            *rebuild = !f->computed || strcmp((const char *)sqlite3_column_text(st, 1), want ? want : "") != 0;
        }
    }
    sqlite3_finalize(st);
    return yes;
}

/* The indexes a model wants: declared ones, one unique index per unique
 * field, one per reference (for filters and for the FK check on delete). */
static bool want_index(const app_model *m, const char *name, buf *tmp)
{
    for (size_t i = 0; i < m->n_indexes; i++)
        if (strcmp(m->indexes[i].name, name) == 0)
            return true;
    for (size_t i = 0; i < m->n_fields; i++) {
        const app_field *f = &m->fields[i];
        buf_reset(tmp);
        if (f->unique)
            buf_printf(tmp, "ux_%s__%s", m->name, f->name);
        else if (f->type == FT_REF)
            buf_printf(tmp, "ix_%s__%s", m->name, f->name);
        else
            continue;
        if (strcmp(buf_cstr(tmp), name) == 0)
            return true;
    }
    return false;
}

/* Drop the named indexes, stopping at the first that fails. */
static bool drop_indexes(sqlite3 *db, const char *const *names, size_t n, buf *sql)
{
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        buf_reset(sql);
        buf_printf(sql, "DROP INDEX \"%s\"", names[i]);
        ok = store__exec(db, buf_cstr(sql)) == SQLITE_OK;
    }
    return ok;
}

static bool sync_indexes(sqlite3 *db, const app_model *m, buf *sql, buf *err)
{
    arena *a = arena_new();
    buf tmp;
    buf_init(&tmp, a, 4096);
    bool ok = true;
    /* Drop indexes of ours the file no longer asks for. */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1"
                           " AND (name LIKE 'ix\\_%' ESCAPE '\\' OR name LIKE 'ux\\_%' ESCAPE '\\')",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, m->name, -1, SQLITE_STATIC);
        const char *drop[RD_MAX_INDEXES + RD_MAX_FIELDS];
        size_t n = 0;
        while (sqlite3_step(st) == SQLITE_ROW && n < sizeof drop / sizeof drop[0]) {
            const char *name = (const char *)sqlite3_column_text(st, 0);
            if (!want_index(m, name, &tmp))
                drop[n++] = arena_strdup(a, name);
        }
        sqlite3_finalize(st);
        ok = drop_indexes(db, drop, n, sql);
    }
    for (size_t i = 0; i < m->n_fields && ok; i++) {
        const app_field *f = &m->fields[i];
        if (!f->unique && f->type != FT_REF)
            continue;
        buf_reset(sql);
        buf_printf(sql, "CREATE %sINDEX IF NOT EXISTS \"%s_%s__%s\" ON \"%s\"(\"%s\")",
                   f->unique ? "UNIQUE " : "", f->unique ? "ux" : "ix", m->name, f->name, m->name,
                   f->name);
        if (store__exec(db, buf_cstr(sql)) != SQLITE_OK) {
            buf_printf(err, "cannot make '%s.%s' unique: stored rows already repeat a value\n",
                       m->name, f->name);
            ok = false;
        }
    }
    for (size_t i = 0; i < m->n_indexes && ok; i++) {
        const app_index *ix = &m->indexes[i];
        buf_reset(sql);
        buf_printf(sql, "CREATE %sINDEX IF NOT EXISTS \"%s\" ON \"%s\"(", ix->unique ? "UNIQUE " : "",
                   ix->name, m->name);
        for (size_t k = 0; k < ix->n_fields; k++)
            buf_printf(sql, "%s\"%s\"", k ? ", " : "", ix->fields[k]->name);
        buf_putc(sql, ')');
        if (store__exec(db, buf_cstr(sql)) != SQLITE_OK) {
            buf_printf(err, "cannot create index '%s': stored rows violate it\n", ix->name);
            ok = false;
        }
    }
    arena_free(a);
    return ok;
}

/* Drop a column (a computed one: no data) with the indexes that cover it,
 * which SQLite would not drop it under; sync_indexes makes them again. */
static bool drop_column(sqlite3 *db, const app_model *m, const app_field *f, buf *sql)
{
    arena *a = arena_new();
    const char *drop[RD_MAX_INDEXES + RD_MAX_FIELDS];
    size_t n = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT DISTINCT il.name FROM pragma_index_list(?1) AS il,"
                           " pragma_index_info(il.name) AS ii WHERE ii.name = ?2 AND il.origin = 'c'",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, m->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, f->name, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW && n < sizeof drop / sizeof drop[0])
            drop[n++] = arena_strdup(a, (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    bool ok = drop_indexes(db, drop, n, sql);
    arena_free(a);
    buf_reset(sql);
    buf_printf(sql, "ALTER TABLE \"%s\" DROP COLUMN \"%s\"", m->name, f->name);
    return ok && store__exec(db, buf_cstr(sql)) == SQLITE_OK;
}

/* The row counter behind unfiltered list totals: seeded once from the
 * table, then kept by triggers inside every insert's and delete's own
 * transaction. Model names are [a-z0-9_], safe in a literal. */
static bool counter(sqlite3 *db, const app_model *m, buf *sql)
{
    buf_reset(sql);
    buf_printf(sql,
               "INSERT INTO _restd_counts (model, n) SELECT '%s', (SELECT count(*) FROM \"%s\")"
               " WHERE NOT EXISTS (SELECT 1 FROM _restd_counts WHERE model = '%s')",
               m->name, m->name, m->name);
    if (store__exec(db, buf_cstr(sql)) != SQLITE_OK)
        return false;
    static const char *const ev[2][2] = {{"ins", "INSERT"}, {"del", "DELETE"}};
    for (int i = 0; i < 2; i++) {
        buf_reset(sql);
        buf_printf(sql,
                   "CREATE TRIGGER IF NOT EXISTS \"_restd_count_%s_%s\" AFTER %s ON \"%s\""
                   " BEGIN UPDATE _restd_counts SET n = n %c 1 WHERE model = '%s'; END",
                   ev[i][0], m->name, ev[i][1], m->name, i ? '-' : '+', m->name);
        if (store__exec(db, buf_cstr(sql)) != SQLITE_OK)
            return false;
    }
    return true;
}

char *store__migrate(sqlite3 *db, const app *ap)
{
    buf msg, sql, tmp;
    buf_init(&msg, NULL, 1 << 20);
    buf_init(&sql, NULL, 1 << 20);
    buf_init(&tmp, NULL, 1 << 20);
    bool ok = store__exec(db, "BEGIN IMMEDIATE") == SQLITE_OK;
    ok = ok && store__exec(db, "CREATE TABLE IF NOT EXISTS _restd_fields ("
                               "model TEXT NOT NULL, field TEXT NOT NULL, type TEXT NOT NULL,"
                               " target TEXT, PRIMARY KEY (model, field)) STRICT") == SQLITE_OK;
    ok = ok && store__exec(db, "CREATE TABLE IF NOT EXISTS _restd_counts ("
                               "model TEXT PRIMARY KEY NOT NULL, n INTEGER NOT NULL) STRICT") == SQLITE_OK;
    ok = ok && store__exec(db, "CREATE TABLE IF NOT EXISTS _restd_filters ("
                               "id TEXT PRIMARY KEY NOT NULL, model TEXT NOT NULL, owner TEXT,"
                               " body TEXT NOT NULL, expires_at TEXT NOT NULL) STRICT") == SQLITE_OK;
    ok = ok && store__exec(db, "CREATE INDEX IF NOT EXISTS _restd_filters_exp ON _restd_filters(expires_at)") ==
                   SQLITE_OK;
    /* one-time jobs done on this database (an app's seed rows) */
    /* versions of the rows of models with `history: true` */
    ok = ok && store__exec(db, "CREATE TABLE IF NOT EXISTS _restd_history ("
                               "id TEXT PRIMARY KEY NOT NULL, model TEXT NOT NULL, row_id TEXT NOT NULL,"
                               " at TEXT NOT NULL, actor TEXT, body TEXT NOT NULL) STRICT") == SQLITE_OK;
    ok = ok && store__exec(db, "CREATE INDEX IF NOT EXISTS _restd_history_row ON _restd_history(model, row_id, at)") ==
                   SQLITE_OK;
    ok = ok && store__exec(db, "CREATE TABLE IF NOT EXISTS _restd_once ("
                               "key TEXT PRIMARY KEY NOT NULL, done_at TEXT NOT NULL) STRICT") == SQLITE_OK;
    if (ok)
        find_losses(db, ap, &msg);
    if (ok && msg.len) {
        buf_puts(&msg, "restore the app file, or move the data out and drop it by hand");
        store__exec(db, "ROLLBACK");
        buf_fini(&sql);
        buf_fini(&tmp);
        return msg.data;
    }
    for (size_t i = 0; i < ap->n_models && ok; i++) {
        const app_model *m = &ap->models[i];
        bool fresh = !table_exists(db, m->name);
        if (fresh)
            ok = create_model(db, m, &sql);
        /* Stored fields first: a computed column added below may read a
         * column added in the same start. */
        for (size_t k = 0; k < 2 * m->n_fields && ok; k++) {
            const app_field *f = &m->fields[k % m->n_fields];
            if ((f->computed != NULL) != (k >= m->n_fields))
                continue;
            bool rebuild = false;
            bool add = !fresh && f->type != FT_REF_LIST && (!field_recorded(db, m, f, &tmp, &rebuild) || rebuild);
            if (rebuild)
                ok = drop_column(db, m, f, &sql);
            if (ok && add) {
                buf_reset(&sql);
                buf_printf(&sql, "ALTER TABLE \"%s\" ADD COLUMN ", m->name);
                column_ddl(&sql, f);
                ok = store__exec(db, buf_cstr(&sql)) == SQLITE_OK;
            }
            if (ok && f->type == FT_REF_LIST)
                ok = create_link(db, m, f, &sql);
            if (ok)
                ok = record_field(db, m, f, &tmp);
        }
        if (ok)
            ok = sync_indexes(db, m, &sql, &msg);
        if (ok)
            ok = counter(db, m, &sql);
    }
    if (ok && ap->auth)
        ok = store__auth_schema(db, ap) && store__mfa_schema(db, ap); /* mfadb.c */
    if (ok)
        ok = store__exec(db, "COMMIT") == SQLITE_OK;
    if (!ok) {
        if (!msg.len)
            buf_printf(&msg, "schema migration failed: %s", sqlite3_errmsg(db));
        store__exec(db, "ROLLBACK");
        buf_fini(&sql);
        buf_fini(&tmp);
        return msg.data;
    }
    buf_fini(&sql);
    buf_fini(&tmp);
    buf_fini(&msg);
    return NULL;
}
