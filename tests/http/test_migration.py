"""Schema migration across restarts: additive changes apply, destructive
ones refuse to start with a message naming model and field, and data
survives all of it."""
import re
import time

import pytest

from harness import DEMO_APP, StartError, assert_no_sanitizer_report

ADDED = DEMO_APP.replace(
    "      active: {type: boolean, default: true}\n",
    "      active: {type: boolean, default: true}\n"
    "      phone: {type: string, max_length: 30}\n"
    "      nickname: {type: string, default: none}\n",
) + """\
  note:
    route: notes
    fields:
      body: {type: text, required: true}
      author: {type: ref, model: person}
"""

REMOVED_FIELD = ADDED.replace("      description: {type: text}\n", "")
CHANGED_TYPE = ADDED.replace("      budget: {type: number, min: 0}\n",
                             "      budget: {type: string}\n")
REMOVED_MODEL = ADDED[:ADDED.index("  note:\n")]


def expect_refusal(srv, app_yaml, model, field, timeout=10):
    srv.write_app(app_yaml)
    srv.spawn()
    rc = srv.wait_exit(timeout)
    if rc is None:
        srv._hard_kill()
        pytest.fail(f"serve kept running with an incompatible app ({model}.{field})")
    text = srv.stderr_text(run_only=True)
    assert_no_sanitizer_report(text)
    assert rc != 0, text
    assert model in text and field in text, f"message does not name {model}/{field}:\n{text}"
    return text


def test_migration_add_then_refuse_destructive_then_restore(server):
    srv = server(DEMO_APP)
    owner = srv.create("persons", {"email": "mig@example.com", "full_name": "Mig", "role": "admin"})
    proj = srv.create("projects", {"name": "mig-proj", "description": "keep", "budget": 12.5,
                                   "owner": owner["id"], "members": [owner["id"]],
                                   "starts_on": "2026-01-02", "settings": {"k": [1, 2]}})
    task = srv.create("tasks", {"title": "mig-task", "project": proj["id"]})
    srv.stop(defer=True)

    # 1. Additive: a new model and new optional fields.
    srv.restart(ADDED)
    p = srv.get(f"persons/{owner['id']}").json()
    assert p["phone"] is None, p
    # Reading: a new field with a default reads as null or the default for old rows.
    assert p["nickname"] in (None, "none"), p
    assert list(p.keys()) == ["id", "email", "full_name", "role", "active", "phone", "nickname",
                              "created_at", "updated_at"], list(p.keys())
    assert {k: v for k, v in p.items() if k not in ("phone", "nickname")} == owner
    assert srv.get(f"projects/{proj['id']}").json() == proj
    assert srv.get(f"tasks/{task['id']}").json() == task
    n = srv.create("notes", {"body": "hello", "author": owner["id"]})
    p2 = srv.create("persons", {"email": "mig2@example.com", "full_name": "M2", "phone": "+33 1"})
    assert p2["phone"] == "+33 1" and p2["nickname"] == "none"
    srv.stop(defer=True)

    # 2. Destructive changes refuse to start.
    expect_refusal(srv, REMOVED_FIELD, "project", "description")
    expect_refusal(srv, CHANGED_TYPE, "project", "budget")

    # 3. Restoring the file starts fine, and the data is intact.
    srv.restart(ADDED)
    assert srv.get(f"projects/{proj['id']}").json() == proj
    assert srv.get(f"notes/{n['id']}").json() == n
    assert srv.get(f"persons/{p2['id']}").json() == p2
    assert srv.get(f"tasks/{task['id']}").json() == task
    assert len(srv.get("persons").json()) == 2


def test_refusal_is_quick_and_leaves_db_usable(server):
    srv = server(DEMO_APP)
    srv.create("projects", {"name": "q", "budget": 3})
    srv.stop(defer=True)
    t0 = time.monotonic()
    expect_refusal(srv, DEMO_APP.replace("      budget: {type: number, min: 0}\n",
                                         "      budget: {type: integer}\n"), "project", "budget")
    assert time.monotonic() - t0 < 10
    srv.restart(DEMO_APP)
    assert srv.get("projects", params={"name": "q"}).json()[0]["budget"] == 3


def test_new_required_field_without_default_on_existing_rows(server):
    # Not spelled out by the contract. Reading: old rows cannot satisfy a new
    # required field with no default, so serve either refuses (naming it) or
    # starts; it must never crash or corrupt data.
    srv = server(DEMO_APP)
    t = srv.create("tasks", {"title": "x", "project": srv.create("projects", {"name": "r"})["id"]})
    srv.stop(defer=True)
    srv.write_app(DEMO_APP.replace("      done: {type: boolean, default: false}\n",
                                   "      done: {type: boolean, default: false}\n"
                                   "      weight: {type: integer, required: true}\n"))
    try:
        srv.start()
        started = True
    except StartError:
        started = False
        text = srv.stderr_text(run_only=True)
        assert "task" in text and "weight" in text, text
    if started:
        # Once added, the column is part of the schema: the old row reads
        # with the new field null, and going back would be a removal.
        got = srv.get(f"tasks/{t['id']}")
        assert got.status_code == 200, got.text
        assert got.json()["weight"] is None
        assert {k: v for k, v in got.json().items() if k != "weight"} == t
        srv.stop(defer=True)
    else:
        srv.restart(DEMO_APP)
        assert srv.get(f"tasks/{t['id']}").json() == t


def test_removed_model_is_refused_or_kept(server):
    # Reading: dropping a whole model is destructive like dropping a field;
    # serve refuses naming the model. (If it starts, the data must survive.)
    srv = server(ADDED)
    n = srv.create("notes", {"body": "b"})
    srv.stop(defer=True)
    srv.write_app(REMOVED_MODEL)
    srv.spawn()
    rc = srv.wait_exit(5)
    text = srv.stderr_text(run_only=True)
    if rc is None:
        srv.write_app(ADDED)  # still running: the model was kept in the db
        srv.stop(defer=True)
    else:
        assert rc != 0
        assert "note" in text, text
    srv.restart(ADDED)
    assert srv.get(f"notes/{n['id']}").json() == n


def test_check_does_not_need_db(tmp_path):
    # `check` validates the file only; it must pass for the migrated app too.
    import subprocess
    from harness import restd_bin, sanitizer_env
    d = tmp_path / "app"
    d.mkdir()
    (d / "app.yaml").write_text(ADDED)
    p = subprocess.run([restd_bin(), "check", "--app", str(d)], capture_output=True, text=True,
                       env=sanitizer_env(), timeout=10)
    assert p.returncode == 0, p.stderr
    assert re.search(r"error", p.stderr, re.I) is None, p.stderr
