/*
 * Query-planner statistics: when and what the writer ANALYZEs.
 *
 * Without sqlite_stat1 SQLite guesses that every index is equally
 * selective, and on a table with a low-cardinality index (entity_type_id:
 * two values over 100,000 shots) beside a selective one (project_id: 50
 * values) it may walk the wrong one, ten times slower (docs/performance.md,
 * the Kitsu benchmark). PRAGMA optimize does not help here on SQLite 3.40:
 * it only looks at tables the planner used on the same connection, and our
 * reads run on other, query_only connections. So the writer decides itself
 * (docs/decisions.md §13): a table with an index gets a full ANALYZE when
 * it has no statistics and at least RD_STATS_MIN_ROWS rows, or when its row
 * count has doubled or halved since the statistics were taken. Doubling
 * makes the work amortised constant per inserted row. analysis_limit is
 * left at 0 (exact): with a limit, 3.40 reads only the first N entries of
 * each index, so every column looks as if it had N rows per value and the
 * wrong index wins again.
 *
 * Runs on the writer connection only: at open (before the read connections
 * open, so they load the new statistics), and from the writer thread
 * between batches (store.c). A reader keeps the statistics it loaded with
 * the schema; a refresh therefore also bumps the schema cookie (a table
 * created and dropped in the same transaction), so each read connection
 * reloads the schema, and the new statistics, at its next statement.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rd_limits.h"
#include "store/store_int.h"
#include "util/log.h"

long long store__mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Rows now: the trigger-kept counter of a model table (one indexed read),
 * else count(*) (link tables; they are scanned by ANALYZE anyway). */
static long long table_rows(sqlite3 *db, const char *table)
{
    sqlite3_stmt *st = NULL;
    long long n = -1;
    if (sqlite3_prepare_v2(db, "SELECT n FROM _restd_counts WHERE model = ?1", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (n >= 0)
        return n;
    char *sql = sqlite3_mprintf("SELECT count(*) FROM \"%w\"", table);
    if (sql && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_free(sql);
    return n;
}

/* Rows when the statistics were taken: the first number of each index's
 * stat1 line is the index's entry count (a partial index has fewer, so the
 * largest); -1 when the table has none. */
static long long stat_rows(sqlite3 *db, bool have_stat1, const char *table)
{
    if (!have_stat1)
        return -1;
    sqlite3_stmt *st = NULL;
    long long n = -1;
    if (sqlite3_prepare_v2(db,
                           "SELECT max(CAST(stat AS INTEGER)) FROM sqlite_stat1"
                           " WHERE tbl = ?1 AND idx IS NOT NULL",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
            n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return n;
}

/* Whether a table with `now` rows and statistics taken at `then` rows (-1:
 * none) needs a fresh ANALYZE. */
bool store__stats_stale(long long now, long long then)
{
    if (now < 0)
        return false;
    if (then < 0)
        return now >= RD_STATS_MIN_ROWS;
    if (now < RD_STATS_MIN_ROWS && then < RD_STATS_MIN_ROWS)
        return false; /* small either way: the estimates hardly matter */
    return now >= 2 * then || 2 * now <= then;
}

static bool analyze_table(sqlite3 *db, const char *table, long long rows, long long then)
{
    char *sql = sqlite3_mprintf("ANALYZE \"%w\"", table);
    long long t0 = store__mono_ms();
    int rc = sql ? store__exec(db, sql) : SQLITE_NOMEM;
    sqlite3_free(sql);
    if (rc != SQLITE_OK) {
        log_warn("msg=analyze_failed table=%s err=\"%s\"", table, sqlite3_errmsg(db));
        return false;
    }
    log_info("msg=analyzed table=%s rows=%lld before=%lld ms=%lld", table, rows, then,
             store__mono_ms() - t0);
    return true;
}

int store__stats_refresh(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    /* Tables with at least one index; restd's own bookkeeping included
     * (the history and filter tables are looked up by index too). */
    if (sqlite3_prepare_v2(db,
                           "SELECT t.name, EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1')"
                           " FROM sqlite_master t WHERE t.type = 'table' AND t.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
                           " AND EXISTS (SELECT 1 FROM sqlite_master i WHERE i.type = 'index' AND i.tbl_name = t.name)"
                           " ORDER BY t.name",
                           -1, &st, NULL) != SQLITE_OK) {
        log_warn("msg=stats_check_failed err=\"%s\"", sqlite3_errmsg(db));
        return -1;
    }
    /* Collect first: ANALYZE must not run under an open statement. */
    size_t n = 0, cap = 0;
    char **names = NULL;
    bool have_stat1 = false;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            names = xrealloc(names, cap * sizeof *names);
        }
        names[n++] = xstrdup((const char *)sqlite3_column_text(st, 0));
        have_stat1 = sqlite3_column_int(st, 1) != 0;
    }
    sqlite3_finalize(st);
    int done = 0;
    bool open = false;
    for (size_t i = 0; i < n; i++) {
        long long now = table_rows(db, names[i]);
        long long then = stat_rows(db, have_stat1, names[i]);
        if (!store__stats_stale(now, then))
            continue;
        if (!open && store__exec(db, "BEGIN IMMEDIATE") != SQLITE_OK)
            break;
        open = true;
        if (analyze_table(db, names[i], now, then))
            done++;
    }
    if (open) {
        /* Any schema change bumps the cookie; this one leaves nothing behind. */
        if (done > 0 && (store__exec(db, "CREATE TABLE _restd_stats_epoch (x)") != SQLITE_OK ||
                         store__exec(db, "DROP TABLE _restd_stats_epoch") != SQLITE_OK))
            log_warn("msg=stats_epoch_failed err=\"%s\"", sqlite3_errmsg(db));
        if (store__exec(db, "COMMIT") != SQLITE_OK) {
            log_warn("msg=stats_commit_failed err=\"%s\"", sqlite3_errmsg(db));
            store__exec(db, "ROLLBACK");
            done = -1;
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return done;
}
