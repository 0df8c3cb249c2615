/*
 * Planner statistics (store/stats.c): the staleness rule, and on a real
 * SQLite file that a refresh analyses only the tables that need it and
 * that a read connection opened before the refresh plans with the new
 * statistics (the schema cookie bump), and that store_open analyses a
 * table loaded behind restd's back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/app.h"
#include "rd_limits.h"
#include "store/store_int.h"

static void test_stale_rule(void **state)
{
    (void)state;
    assert_false(store__stats_stale(-1, -1));                    /* no count */
    assert_false(store__stats_stale(RD_STATS_MIN_ROWS - 1, -1));  /* small, none */
    assert_true(store__stats_stale(RD_STATS_MIN_ROWS, -1));       /* big enough, none */
    assert_false(store__stats_stale(1999, 1000));                 /* grew, not doubled */
    assert_true(store__stats_stale(2000, 1000));                  /* doubled */
    assert_false(store__stats_stale(501, 1000));                  /* shrank, not halved */
    assert_true(store__stats_stale(500, 1000));                   /* halved */
    assert_true(store__stats_stale(0, 1000000));                  /* emptied */
    assert_false(store__stats_stale(10, 300));                    /* small either way */
}

static void exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err);
}

/* The index the planner picks for a filter on both columns. The query runs
 * first: a connection notices a changed schema cookie (and reloads the
 * schema with its statistics) when a statement starts reading, which
 * EXPLAIN QUERY PLAN alone never does. */
static const char *plan(sqlite3 *db, char *out, size_t cap)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE p = 3 AND k = 1", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN SELECT * FROM t WHERE p = 3 AND k = 1", -1, &st,
                                        NULL),
                     SQLITE_OK);
    out[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
    return out;
}

static long long one(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    long long n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
}

static void test_refresh_reaches_readers(void **state)
{
    (void)state;
    char dir[] = "/tmp/restd-stats-XXXXXX", path[256], txt[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/db", dir);
    sqlite3 *w, *r;
    assert_int_equal(sqlite3_open(path, &w), SQLITE_OK);
    exec(w, "PRAGMA journal_mode = WAL");
    exec(w, "CREATE TABLE t (id INTEGER PRIMARY KEY, p INTEGER, k INTEGER)");
    exec(w, "CREATE INDEX ik ON t(k)");
    exec(w, "CREATE INDEX ip ON t(p)");
    exec(w, "CREATE TABLE small (id INTEGER PRIMARY KEY, v INTEGER)");
    exec(w, "CREATE INDEX iv ON small(v)");
    exec(w, "INSERT INTO small (v) VALUES (1), (2), (3)");
    /* 2,000 rows all of p = 0: p looks useless, k (two values) better */
    exec(w, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)"
            " INSERT INTO t (p, k) SELECT 0, i % 2 FROM n");
    assert_int_equal(store__stats_refresh(w), 1); /* t only: small is below RD_STATS_MIN_ROWS */
    assert_int_equal(one(w, "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'small'"), 0);
    assert_int_equal(store__stats_refresh(w), 0); /* nothing changed: nothing to do */

    assert_int_equal(sqlite3_open_v2(path, &r, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_non_null(strstr(plan(r, txt, sizeof txt), "INDEX ik"));

    /* 8,000 more rows over 50 values of p: now p is the selective one */
    exec(w, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 8000)"
            " INSERT INTO t (p, k) SELECT i % 50, i % 2 FROM n");
    long long cookie = one(r, "PRAGMA schema_version");
    assert_int_equal(store__stats_refresh(w), 1);
    assert_int_equal(one(w, "SELECT max(CAST(stat AS INTEGER)) FROM sqlite_stat1 WHERE tbl = 't'"), 10000);
    /* the open reader sees the new statistics without reconnecting */
    assert_true(one(r, "PRAGMA schema_version") > cookie);
    assert_non_null(strstr(plan(r, txt, sizeof txt), "INDEX ip"));
    assert_int_equal(one(w, "SELECT count(*) FROM sqlite_master WHERE name = '_restd_stats_epoch'"), 0);
    sqlite3_close(r);
    sqlite3_close(w);
    snprintf(txt, sizeof txt, "rm -rf %s", dir);
    assert_int_equal(system(txt), 0);
}

/* A database filled by another program (a bulk load, a restore) gets its
 * statistics when restd opens it, counted by restd's row counter. */
static void test_open_analyzes(void **state)
{
    (void)state;
    char dir[] = "/tmp/restd-stats-XXXXXX", path[256], cmd[300];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/app.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("app:\n  name: t\nmodels:\n  item:\n    fields:\n"
          "      category: {type: string}\n    indexes:\n      - fields: [category]\n",
          f);
    fclose(f);
    char *errs = NULL;
    app *ap = app_load(dir, &errs);
    assert_non_null(ap);
    snprintf(path, sizeof path, "%s/db", dir);
    char *msg = NULL;
    store *s = store_open(path, ap, &msg);
    assert_non_null(s);
    store_close(s);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(one(db, "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"), 0);
    exec(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)"
             " INSERT INTO item (id, category, created_at, updated_at)"
             " SELECT printf('id-%d', i), printf('c%d', i % 7), '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z'"
             " FROM n");
    s = store_open(path, ap, &msg);
    assert_non_null(s);
    store_close(s);
    assert_int_equal(one(db, "SELECT max(CAST(stat AS INTEGER)) FROM sqlite_stat1 WHERE tbl = 'item'"), 3000);
    sqlite3_close(db);
    app_free(ap);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stale_rule),
        cmocka_unit_test(test_refresh_reaches_readers),
        cmocka_unit_test(test_open_analyzes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
