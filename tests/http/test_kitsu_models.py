"""The Kitsu app (apps/kitsu): Zou's data models on the generic CRUD routes.

Groundwork only: no auth and no Zou-specific routes. Checks that the app
file loads, and that a handful of models (project-status, persons,
projects with a team, entity-types, entities, task-types, task-status,
tasks with assignees) answer POST/GET/PUT/DELETE, Kitsu-style paged and
filtered lists, naive dates and Zou-shaped errors.
"""
import itertools
import re
import uuid

import pytest

from harness import REPO, UUID_RE, restd_check
from kitsu_helpers import kitsu_server

KITSU_DIR = REPO / "apps" / "kitsu"
KITSU_APP = (KITSU_DIR / "app.yaml").read_text()

NAIVE_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
PAGE_KEYS = {"data", "total", "nb_pages", "limit", "offset", "page"}

_seq = itertools.count(1)


def uniq(prefix="x"):
    return f"{prefix}{next(_seq)}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def kitsu(module_server):
    srv = kitsu_server(module_server, KITSU_APP)
    assert srv.base.endswith("/api/data"), srv.base
    return srv


def assert_zou_error(r, status):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"].split(";")[0].strip() == "application/json", r.headers
    body = r.json()
    assert body["error"] is True, body
    assert isinstance(body["message"], str) and body["message"], body
    return body


def assert_row(row):
    assert UUID_RE.match(row["id"]), row
    assert NAIVE_DATETIME_RE.match(row["created_at"]), row["created_at"]
    assert NAIVE_DATETIME_RE.match(row["updated_at"]), row["updated_at"]


def crud_cycle(srv, route, body, change):
    """POST 201, GET, PUT (the fetched row sent back, as gazu does), DELETE."""
    r = srv.post(route, json=body)
    assert r.status_code == 201, (r.status_code, r.text)
    row = r.json()
    assert_row(row)
    for k, v in body.items():
        assert row[k] == v, (k, row[k], v)

    r = srv.get(f"{route}/{row['id']}")
    assert r.status_code == 200, r.text
    assert r.json() == row

    new = dict(row)
    new.update(change)
    r = srv.put(f"{route}/{row['id']}", json=new)
    assert r.status_code == 200, r.text
    updated = r.json()
    for k, v in change.items():
        assert updated[k] == v, (k, updated[k], v)
    assert srv.get(f"{route}/{row['id']}").json() == updated

    r = srv.delete(f"{route}/{row['id']}")
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_zou_error(srv.get(f"{route}/{row['id']}"), 404)
    return row


# -- the app file ----------------------------------------------------------------

def test_check_app_ok():
    p = restd_check(KITSU_DIR, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "ok" in p.stdout, p.stdout


def test_health_and_routes_exist(kitsu):
    r = kitsu.get("/health")
    assert r.status_code == 200, r.text
    for route in ["persons", "organisations", "studios", "departments", "project-status",
                  "projects", "entity-types", "entities", "task-types", "task-status",
                  "tasks", "comments", "time-spents", "day-offs", "file-status",
                  "output-types", "preview-files", "working-files", "attachment-files",
                  "asset-instances", "playlists", "events", "notifications",
                  "search-filters", "search-filter-groups", "news", "milestones",
                  "subscriptions", "entity-links", "plugins", "budgets", "budget-entries",
                  "salary-scales", "schedule-items", "metadata-descriptors", "softwares",
                  "hardware-items", "output-files", "custom-actions", "status-automations",
                  "chats", "chat-messages", "preview-background-files", "project-templates",
                  "production-schedule-versions",
                  "production-schedule-version-task-links"]:
        r = kitsu.get(route)
        assert r.status_code == 200, (route, r.status_code, r.text)
        assert isinstance(r.json(), list), (route, r.text[:200])


# -- settings models -------------------------------------------------------------

def test_project_status_crud(kitsu):
    crud_cycle(kitsu, "project-status", {"name": uniq("Open")[:20], "color": "#000000"},
               {"color": "#ffffff"})


def test_entity_types_crud(kitsu):
    row = crud_cycle(kitsu, "entity-types", {"name": uniq("Prop")[:30]},
                     {"short_name": "PRP", "description": "props"})
    assert row["archived"] is False
    assert row["task_types"] == []


def test_task_types_crud(kitsu):
    row = crud_cycle(kitsu, "task-types", {"name": uniq("Modeling")[:40], "for_entity": "Asset"},
                     {"color": "#123456", "priority": 3})
    assert row["color"] == "#FFFFFF"
    assert row["priority"] == 1
    assert row["allow_timelog"] is True
    assert row["department_id"] is None


def test_task_status_crud_and_defaults(kitsu):
    short = uuid.uuid4().hex[:8]
    row = crud_cycle(kitsu, "task-status", {"name": "Work in progress", "short_name": short,
                                            "color": "#3273dc"},
                     {"is_wip": True})
    assert row["is_done"] is False
    assert row["is_default"] is False
    assert row["is_retake"] is False
    assert row["is_artist_allowed"] is True
    assert row["is_client_allowed"] is True
    assert row["for_concept"] is False
    assert row["priority"] == 1


def test_task_status_short_name_unique(kitsu):
    short = uuid.uuid4().hex[:8]
    kitsu.create("task-status", {"name": "a", "short_name": short, "color": "#000000"})
    r = kitsu.post("task-status", json={"name": "b", "short_name": short, "color": "#000000"})
    assert_zou_error(r, 400)


# -- projects and people ---------------------------------------------------------

def person(srv, **kw):
    body = {"first_name": "Ada", "last_name": uniq("L"), "email": f"{uniq('p')}@example.com"}
    body.update(kw)
    return srv.create("persons", body)


def test_person_defaults(kitsu):
    p = person(kitsu)
    assert_row(p)
    assert p["role"] == "user"
    assert p["contract_type"] == "open-ended"
    assert p["active"] is True
    assert p["is_bot"] is False
    assert p["timezone"] == "Europe/Paris"
    assert p["locale"] == "en_US"
    assert p["departments"] == []
    r = kitsu.post("persons", json={"first_name": "x", "last_name": "y", "role": "boss"})
    assert_zou_error(r, 400)


def test_projects_with_team(kitsu):
    a, b, c = person(kitsu), person(kitsu), person(kitsu)
    status = kitsu.create("project-status", {"name": uniq("St")[:20], "color": "#00ff00"})
    name = uniq("Agent 327")
    r = kitsu.post("projects", json={"name": name, "team": [a["id"], b["id"]],
                                     "project_status_id": status["id"],
                                     "asset_types": [], "task_types": [], "task_statuses": []})
    assert r.status_code == 201, r.text
    proj = r.json()
    assert_row(proj)
    assert sorted(proj["team"]) == sorted([a["id"], b["id"]])
    assert proj["project_status_id"] == status["id"]
    # Zou's defaults.
    assert proj["fps"] == "25"
    assert proj["ratio"] == "16:9"
    assert proj["resolution"] == "1920x1080"
    assert proj["production_type"] == "short"
    assert proj["production_style"] == "2d3d"
    assert proj["homepage"] == "assets"
    assert proj["nb_episodes"] == 0
    assert proj["data"] is None

    got = kitsu.get(f"projects/{proj['id']}").json()
    assert got == proj

    # Members filter (a ref_list filters by member), paged the Kitsu way.
    r = kitsu.get("projects", params={"team": c["id"], "page": 1})
    assert r.status_code == 200, r.text
    assert r.json()["data"] == [] and r.json()["total"] == 0

    # PUT the fetched row back with a changed fps; the team is Zou's
    # create-only key (its own routes manage it), so a new one is ignored.
    new = dict(got)
    new["team"] = [b["id"], c["id"]]
    new["fps"] = "24"
    new["production_type"] = "tvshow"
    r = kitsu.put(f"projects/{proj['id']}", json=new)
    assert r.status_code == 200, r.text
    upd = r.json()
    assert sorted(upd["team"]) == sorted([a["id"], b["id"]])
    assert upd["fps"] == "24" and upd["production_type"] == "tvshow"

    r = kitsu.get("projects", params={"team": b["id"], "page": 1})
    body = r.json()
    assert set(body) == PAGE_KEYS, body.keys()
    assert [p["id"] for p in body["data"]] == [proj["id"]]

    # A bad enum value is refused, in Zou's error shape.
    bad = dict(upd)
    bad["production_style"] = "oil-painting"
    assert_zou_error(kitsu.put(f"projects/{proj['id']}", json=bad), 400)

    # Unique project name.
    assert_zou_error(kitsu.post("projects", json={"name": name}), 400)

    r = kitsu.delete(f"projects/{proj['id']}")
    assert r.status_code == 204, r.text
    assert_zou_error(kitsu.get(f"projects/{proj['id']}"), 404)


# -- entities and tasks ----------------------------------------------------------

@pytest.fixture(scope="module")
def prod(kitsu):
    """A project with an asset type, a task type, two statuses and two people."""
    proj = kitsu.create("projects", {"name": uniq("prod")})
    asset_type = kitsu.create("entity-types", {"name": uniq("Char")[:30]})
    shot_type = kitsu.create("entity-types", {"name": uniq("Shot")[:30]})
    task_type = kitsu.create("task-types", {"name": uniq("Rig")[:40], "for_entity": "Asset"})
    todo = kitsu.create("task-status", {"name": "Todo", "short_name": uuid.uuid4().hex[:8],
                                        "color": "#f5f5f5", "is_default": True})
    wip = kitsu.create("task-status", {"name": "WIP", "short_name": uuid.uuid4().hex[:8],
                                       "color": "#3273dc", "is_wip": True})
    people = [person(kitsu), person(kitsu)]
    return dict(project=proj, asset_type=asset_type, shot_type=shot_type,
                task_type=task_type, todo=todo, wip=wip, people=people)


def entity(srv, prod, name=None, **kw):
    body = {"name": name or uniq("asset"), "project_id": prod["project"]["id"],
            "entity_type_id": prod["asset_type"]["id"], "data": {}}
    body.update(kw)
    return srv.create("entities", body)


def test_entities_crud_and_refs(kitsu, prod):
    row = crud_cycle(kitsu, "entities",
                     {"name": uniq("Bob"), "project_id": prod["project"]["id"],
                      "entity_type_id": prod["asset_type"]["id"],
                      "data": {"frame_in": 1, "frame_out": 24}},
                     {"description": "the hero", "nb_frames": 24, "status": "complete"})
    assert row["status"] == "running"
    assert row["canceled"] is False
    assert row["is_shared"] is False
    assert row["parent_id"] is None

    # project_id and entity_type_id are required references to existing rows.
    r = kitsu.post("entities", json={"name": "x", "project_id": prod["project"]["id"]})
    body = assert_zou_error(r, 400)
    assert "entity_type_id" in r.text, body
    r = kitsu.post("entities", json={"name": "x", "project_id": str(uuid.uuid4()),
                                     "entity_type_id": prod["asset_type"]["id"]})
    assert_zou_error(r, 400)


def test_entities_filtered_page(kitsu, prod):
    other = kitsu.create("projects", {"name": uniq("other")})
    mine = [entity(kitsu, prod) for _ in range(3)]
    entity(kitsu, prod, entity_type_id=prod["shot_type"]["id"])
    entity(kitsu, prod, project_id=other["id"])

    r = kitsu.get("entities", params={"project_id": prod["project"]["id"],
                                      "entity_type_id": prod["asset_type"]["id"],
                                      "page": 1, "limit": 2})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == PAGE_KEYS, body.keys()
    assert body["page"] == 1 and body["limit"] == 2 and body["offset"] == 0
    assert body["total"] >= 3
    assert body["nb_pages"] == (body["total"] + 1) // 2
    assert len(body["data"]) == 2
    for row in body["data"]:
        assert row["project_id"] == prod["project"]["id"]
        assert row["entity_type_id"] == prod["asset_type"]["id"]

    r = kitsu.get("entities", params={"project_id": prod["project"]["id"],
                                      "entity_type_id": prod["asset_type"]["id"],
                                      "page": 2, "limit": 2})
    page2 = r.json()
    assert page2["page"] == 2 and page2["offset"] == 2
    ids = {e["id"] for e in body["data"]} | {e["id"] for e in page2["data"]}
    assert {e["id"] for e in mine} <= ids

    # Without page: a plain array, as Zou answers.
    r = kitsu.get("entities", params={"project_id": other["id"]})
    assert isinstance(r.json(), list) and len(r.json()) == 1


def test_entity_unique_name_in_project_type_parent(kitsu, prod):
    # Zou's entity_uc is (name, project_id, entity_type_id, parent_id). As in
    # PostgreSQL, a NULL parent never collides: the constraint bites only
    # under a parent (shots of one sequence), and so it does here.
    seq = entity(kitsu, prod, entity_type_id=prod["shot_type"]["id"])
    name = uniq("sh")
    body = {"name": name, "project_id": prod["project"]["id"],
            "entity_type_id": prod["shot_type"]["id"], "parent_id": seq["id"]}
    kitsu.create("entities", body)
    assert_zou_error(kitsu.post("entities", json=body), 400)
    # Same name under another type, or with no parent, is accepted.
    entity(kitsu, prod, name=name, parent_id=seq["id"])
    entity(kitsu, prod, name=name, entity_type_id=prod["shot_type"]["id"])
    entity(kitsu, prod, name=name, entity_type_id=prod["shot_type"]["id"])


def test_tasks_with_assignees(kitsu, prod):
    asset = entity(kitsu, prod)
    a, b = prod["people"]
    body = {"name": "main", "project_id": prod["project"]["id"],
            "entity_id": asset["id"], "task_type_id": prod["task_type"]["id"],
            "task_status_id": prod["todo"]["id"], "assignees": [a["id"]],
            "assigner_id": b["id"]}
    r = kitsu.post("tasks", json=body)
    assert r.status_code == 201, r.text
    task = r.json()
    assert_row(task)
    assert task["assignees"] == [a["id"]]
    assert task["difficulty"] == 3 and task["priority"] == 0
    assert task["duration"] == 0 and task["retake_count"] == 0
    assert task["start_date"] is None

    # Same (name, project, task type, entity): Zou's task_uc.
    assert_zou_error(kitsu.post("tasks", json=body), 400)

    got = kitsu.get(f"tasks/{task['id']}").json()
    assert got == task
    new = dict(got)
    new["assignees"] = [a["id"], b["id"]]
    new["task_status_id"] = prod["wip"]["id"]
    new["due_date"] = "2026-03-01T14:05:09"
    new["difficulty"] = 5
    r = kitsu.put(f"tasks/{task['id']}", json=new)
    assert r.status_code == 200, r.text
    upd = r.json()
    assert sorted(upd["assignees"]) == sorted([a["id"], b["id"]])
    assert upd["task_status_id"] == prod["wip"]["id"]
    assert upd["due_date"] == "2026-03-01T14:05:09"

    # difficulty is 1..5 (Zou's check_difficulty).
    bad = dict(upd)
    bad["difficulty"] = 6
    assert_zou_error(kitsu.put(f"tasks/{task['id']}", json=bad), 400)

    # Filtered lists, as gazu builds them.
    r = kitsu.get("tasks", params={"name": "main", "task_type_id": prod["task_type"]["id"],
                                   "entity_id": asset["id"]})
    assert [t["id"] for t in r.json()] == [task["id"]]
    r = kitsu.get("tasks", params={"task_status_id": prod["wip"]["id"],
                                   "assignees": b["id"], "page": 1})
    body = r.json()
    assert set(body) == PAGE_KEYS
    assert body["total"] == 1 and body["nb_pages"] == 1
    assert body["data"][0]["id"] == task["id"]

    r = kitsu.delete(f"tasks/{task['id']}")
    assert r.status_code == 204
    assert_zou_error(kitsu.get(f"tasks/{task['id']}"), 404)


# -- errors ----------------------------------------------------------------------

def test_errors_in_zou_shape(kitsu):
    assert_zou_error(kitsu.get(f"projects/{uuid.uuid4()}"), 404)
    assert_zou_error(kitsu.get("no-such-route"), 404)
    body = assert_zou_error(kitsu.post("task-status", json={"name": "x"}), 400)
    fields = {e["field"] for e in body["data"]["errors"]}
    assert {"short_name", "color"} <= fields, body
    assert_zou_error(kitsu.post("projects", data="{", headers={"Content-Type": "application/json"}),
                     400)
    assert_zou_error(kitsu.get("projects", params={"project_status_id": "not-an-id"}), 400)
    assert_zou_error(kitsu.get("projects", params={"page": "0"}), 400)
    assert_zou_error(kitsu.get("projects", params={"page": 1, "limit": 5001}), 400)
