"""Planner statistics (docs/decisions.md §13): restd analyses a table that
was filled behind its back (a bulk load, a restore) when it opens the
database, so the planner starts from the selective index; a table under
the threshold is left alone; the server answers with the loaded rows."""
import sqlite3

APP = """\
app:
  name: stats
  base_path: /api
models:
  item:
    route: items
    fields:
      kind: {type: string}
      category: {type: string}
    indexes:
      - fields: [kind]
      - fields: [category]
  note:
    route: notes
    fields:
      body: {type: string}
      tag: {type: string}
    indexes:
      - fields: [tag]
"""

ROWS = 3000


def _load(db_path):
    """ROWS items: kind has two values, category 100 (30 rows each)."""
    con = sqlite3.connect(db_path)
    with con:
        con.executemany(
            "INSERT INTO item (id, kind, category, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            [(f"00000000-0000-7000-8000-{i:012d}", "ab"[i % 2], f"c{i % 100:02d}",
              "2024-01-01T00:00:00.000000Z", "2024-01-01T00:00:00.000000Z") for i in range(ROWS)])
        con.execute("INSERT INTO note (id, body, tag, created_at, updated_at) VALUES "
                    "('00000000-0000-7000-8000-000000000001', 'x', 't', "
                    "'2024-01-01T00:00:00.000000Z', '2024-01-01T00:00:00.000000Z')")
    con.close()


def _stat_tables(db_path):
    con = sqlite3.connect(db_path)
    try:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
            return {}
        return {t: n for t, n in con.execute(
            "SELECT tbl, max(CAST(stat AS INTEGER)) FROM sqlite_stat1 WHERE idx IS NOT NULL GROUP BY tbl")}
    finally:
        con.close()


def test_open_analyzes_a_loaded_table(server):
    srv = server(APP, workers=1)
    assert srv.get("/api/items").status_code == 200
    srv.stop()
    assert _stat_tables(srv.db_path) == {}  # a fresh, empty database: nothing to analyse
    _load(srv.db_path)
    srv.start()
    stats = _stat_tables(srv.db_path)
    assert stats.get("item") == ROWS
    assert "note" not in stats  # one row: under the threshold
    assert "msg=analyzed table=item rows=3000" in srv.stderr_text(run_only=True)
    # With these statistics SQLite starts from the selective index.
    con = sqlite3.connect(srv.db_path)
    plan = " ".join(r[3] for r in con.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM item WHERE kind = 'a' AND category = 'c04'"))
    con.close()
    assert "ix_item__category" in plan, plan
    r = srv.get("/api/items?kind=b&category=c07&limit=100")
    assert r.status_code == 200
    body = r.json()
    rows = body["data"] if isinstance(body, dict) else body
    assert len(rows) == 30  # rows i % 100 == 7 are all odd, so all of kind b
    assert {(x["kind"], x["category"]) for x in rows} == {("b", "c07")}
    # A second start finds nothing stale and analyses nothing.
    srv.restart()
    assert "msg=analyzed" not in srv.stderr_text(run_only=True)
    assert _stat_tables(srv.db_path).get("item") == ROWS


PAGED_APP = """\
app:
  name: paged
  base_path: /api
  lists:
    paging: page
    page_order: [-updated_at, -created_at, id]
models:
  project:
    route: projects
    fields:
      name: {type: string}
  task:
    route: tasks
    fields:
      name: {type: string}
      project_id: {type: ref, model: project}
    indexes:
      - fields: [project_id, updated_at, created_at]
"""


def test_an_index_may_name_the_row_columns_for_the_page_order(server):
    """created_at/updated_at may be index fields, so a filtered page in the
    page order reads the index in order instead of sorting the filter's rows."""
    srv = server(PAGED_APP, workers=1)
    p = srv.create("projects", {"name": "P"})
    made = [srv.create("tasks", {"name": f"t{i}", "project_id": p["id"]})["id"] for i in range(5)]
    page = srv.get(f"tasks?project_id={p['id']}&page=1&limit=2").json()
    assert [t["id"] for t in page["data"]] == made[::-1][:2] and page["total"] == 5
    srv.stop()
    con = sqlite3.connect(srv.db_path)
    try:
        names = {n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "ix_task__project_id_updated_at_created_at" in names
        plan = " ".join(row[-1] for row in con.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM task WHERE project_id = ? "
            "ORDER BY updated_at DESC, created_at DESC LIMIT 2", (p["id"],)))
        assert "ix_task__project_id_updated_at_created_at" in plan and "TEMP B-TREE" not in plan, plan
    finally:
        con.close()
