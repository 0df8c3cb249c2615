"""Zou's routes outside the generic CRUD (apps/kitsu, `routes: zou`), the
row type names, and the seed rows, against the real binary.

Shapes are Zou 1.0.67's as gazu calls them (shared reference
kitsu-zou-contract.md, sections 2-3). The server serves apps/kitsu with its
seed.json; kitsu_server signs the session in as an admin once the app has
an auth section.
"""
import itertools
import json
import uuid

import pytest

from harness import REPO, assert_no_sanitizer_report, restd_check
from kitsu_helpers import ADMIN_EMAIL, add_person, has_auth, kitsu_server, seeded, sign_in

KITSU_DIR = REPO / "apps" / "kitsu"
KITSU_APP = (KITSU_DIR / "app.yaml").read_text()
D = "/api/data"
A = "/api/actions"
MISSING = "0190a000-0000-7000-8000-000000000000"

_seq = itertools.count(1)


def uniq(prefix="x"):
    return f"{prefix}{next(_seq)}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def zou(module_server):
    return kitsu_server(seeded(module_server), KITSU_APP)


def ok(r, status=200):
    assert r.status_code == status, (r.status_code, r.text)
    return r.json() if r.content else None


def zou_error(r, status, message=None):
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert body["error"] is True, body
    if message is not None:
        assert body["message"] == message, body
    return body


def by_name(rows):
    return {r["name"]: r for r in rows}


def new_project(srv, **kw):
    return ok(srv.post(f"{D}/projects", json={"name": uniq("Proj"), **kw}), 201)


def asset_type_id(srv, name="Character"):
    return by_name(ok(srv.get(f"{D}/asset-types")))[name]["id"]


def new_asset(srv, pid, tid=None, **kw):
    tid = tid or asset_type_id(srv)
    body = {"name": uniq("Asset"), "data": {}, "is_shared": False, **kw}
    return ok(srv.post(f"{D}/projects/{pid}/asset-types/{tid}/assets/new", json=body), 201)


def new_task_type(srv, for_entity="Asset"):
    return ok(srv.post(f"{D}/task-types", json={"name": uniq("TT")[:40], "for_entity": for_entity}), 201)


def new_person(srv):
    return ok(srv.post(f"{D}/persons", json={"first_name": "Ada", "last_name": uniq("L"),
                                             "email": f"{uniq('p')}@example.com"}), 201)


@pytest.fixture(scope="module")
def shot_tree(zou):
    """A project with an episode, a sequence in it and a shot in that."""
    p = new_project(zou)
    ep = ok(zou.post(f"{D}/projects/{p['id']}/episodes", json={"name": "E01"}), 201)
    sq = ok(zou.post(f"{D}/projects/{p['id']}/sequences", json={"name": "SQ01", "episode_id": ep["id"]}), 201)
    sh = ok(zou.post(f"{D}/projects/{p['id']}/shots",
                     json={"name": "SH010", "sequence_id": sq["id"], "nb_frames": 48,
                           "data": {"frame_in": 1, "frame_out": 48}}), 201)
    return dict(project=p, episode=ep, sequence=sq, shot=sh)


# -- root ----------------------------------------------------------------------

def test_root_get_and_head(zou):
    for path in ("/api", "/api/"):
        assert ok(zou.get(path)) == {"api": "Zou", "version": "1.0.67"}
    r = zou.request("HEAD", "/api")
    assert r.status_code == 200 and r.content == b""


def test_root_is_open_without_token(zou):
    import requests
    r = requests.get(zou.url + "/api", timeout=10)
    assert r.status_code == 200 and r.json()["api"] == "Zou"


# -- seed rows -----------------------------------------------------------------

def test_seed_data(zou):
    assert {"Open", "Closed"} <= set(by_name(ok(zou.get(f"{D}/project-status"))))
    assert sorted(by_name(ok(zou.get(f"{D}/asset-types")))) == ["Character", "Environment", "FX", "Prop"]
    names = set(by_name(ok(zou.get(f"{D}/entity-types"))))
    assert {"Episode", "Sequence", "Shot", "Edit"} <= names
    statuses = {s["short_name"]: s for s in ok(zou.get(f"{D}/task-status"))}
    assert {"todo", "wip", "wfa", "retake", "done", "ready"} <= set(statuses)
    assert statuses["todo"]["is_default"] is True
    assert [s["short_name"] for s in statuses.values() if s["is_default"]] == ["todo"]
    assert statuses["done"]["is_done"] is True and statuses["retake"]["is_retake"] is True


def test_seed_written_once(server):
    srv = kitsu_server(seeded(server), KITSU_APP)
    ok(srv.post(f"{D}/project-status", json={"name": "Extra", "color": "#123456"}), 201)
    srv.restart()
    if has_auth(KITSU_APP):  # a fresh token after the restart
        srv.session.headers["Authorization"] = "Bearer " + sign_in(srv)["access_token"]
    names = [s["name"] for s in ok(srv.get(f"{D}/project-status"))]
    assert sorted(names) == ["Closed", "Extra", "Open"]


def seed_check(tmp_path, seed_text):
    (tmp_path / "app.yaml").write_text(KITSU_APP)
    (tmp_path / "seed.json").write_text(seed_text)
    return restd_check(tmp_path, timeout=30)


@pytest.mark.parametrize("seed,needle", [
    ('{"nope": []}', "'nope' is not a model of the app"),
    ('{"project_status": {}}', "'project_status' must hold a list of rows"),
    ('{"project_status": [{"name": "Open"}]}', "project_status row 1: color"),
    ('[1, 2]', "must be an object"),
    ('{"project_status": [', "seed.json"),
])
def test_seed_file_problems(tmp_path, seed, needle):
    p = seed_check(tmp_path, seed)
    assert p.returncode == 1, p.stdout + p.stderr
    assert needle in p.stderr, p.stderr


def test_seed_file_ok_in_check(tmp_path):
    p = seed_check(tmp_path, (KITSU_DIR / "seed.json").read_text())
    assert p.returncode == 0, p.stderr


def test_seed_refused_rows_stop_the_start(server, tmp_path):
    seed = '{"project_status": [{"name": "Same", "color": "#000000"}, {"name": "Same", "color": "#000000"}]}'
    srv = server(KITSU_APP, start=False)
    (srv.app_dir / "seed.json").write_text(seed)
    srv.spawn()
    assert srv.wait_exit(20) == 1
    srv._stopped = srv.proc  # exited by itself, as it should: checked here
    text = srv.stderr_text(run_only=True)
    assert_no_sanitizer_report(text)
    assert "cannot write the seed rows" in text and "project_status" in text, text
    # nothing of it was kept: a good seed file then starts the server
    (srv.app_dir / "seed.json").write_text('{"project_status": [{"name": "Same", "color": "#000000"}]}')
    srv.start()
    if has_auth(KITSU_APP):
        add_person(srv, ADMIN_EMAIL, role="admin")
        srv.session.headers["Authorization"] = "Bearer " + sign_in(srv)["access_token"]
    assert [s["name"] for s in ok(srv.get(f"{D}/project-status"))] == ["Same"]


# -- the "type" key ------------------------------------------------------------

def test_type_on_rows(zou):
    rows = ok(zou.get(f"{D}/task-status"))
    assert rows and all(r["type"] == "TaskStatus" for r in rows)
    p = new_project(zou)
    assert p["type"] == "Project"
    assert ok(zou.get(f"{D}/projects/{p['id']}"))["type"] == "Project"
    assert ok(zou.get(f"{D}/project-status"))[0]["type"] == "ProjectStatus"
    # fields= keeps it, as Zou's serializer does
    for row in ok(zou.get(f"{D}/task-status?fields=name")):
        assert set(row) == {"id", "type", "name"}, row
    # a fetched row goes back with its "type"
    p["description"] = "sent back whole"
    assert ok(zou.put(f"{D}/projects/{p['id']}", json=p))["description"] == "sent back whole"


def type_check(tmp_path, app_yaml):
    (tmp_path / "app.yaml").write_text(app_yaml)
    return restd_check(tmp_path, timeout=30)


APP_HEAD = "app:\n  name: t\n  conventions: {type_names: pascal}\n"


def test_type_names_derived_and_checked(tmp_path, server):
    srv = server(APP_HEAD + "models:\n  api_event:\n    fields: {name: {type: string}}\n"
                 "  task_status:\n    type_name: Status\n    fields: {name: {type: string}}\n")
    assert ok(srv.post("api_event", json={"name": "a"}), 201)["type"] == "ApiEvent"
    assert ok(srv.post("task_status", json={"name": "a"}), 201)["type"] == "Status"
    assert ok(srv.get("api_event"))[0]["type"] == "ApiEvent"
    p = type_check(tmp_path, APP_HEAD + "models:\n  m:\n    fields: {type: {type: string}}\n")
    assert p.returncode == 1 and "field keyed 'type'" in p.stderr, p.stderr
    p = type_check(tmp_path, "app: {name: t}\nmodels:\n  m:\n    type_name: 'no spaces'\n"
                             "    fields: {a: {type: string}}\n")
    assert p.returncode == 1 and "type_name: 'no spaces' must match" in p.stderr, p.stderr
    p = type_check(tmp_path, "app: {name: t, conventions: {type_names: camel}}\nmodels:\n  m:\n"
                             "    fields: {a: {type: string}}\n")
    assert p.returncode == 1 and "type_names must be one of none, pascal" in p.stderr, p.stderr


def test_no_type_without_type_names(server):
    srv = server("app: {name: t}\nmodels:\n  m:\n    fields: {a: {type: string}}\n")
    row = ok(srv.post("m", json={"a": "x"}), 201)
    assert "type" not in row
    r = srv.post("m", json={"a": "x", "type": "M"})
    assert r.status_code == 422, r.text


def test_unknown_route_set_is_refused(tmp_path):
    p = type_check(tmp_path, "app: {name: t, routes: nosuch}\nmodels:\n  m:\n    fields: {a: {type: string}}\n")
    assert p.returncode == 1 and "no route set 'nosuch'" in p.stderr, p.stderr


# -- asset types and assets ------------------------------------------------------

def test_asset_type_item(zou):
    tid = asset_type_id(zou, "Prop")
    row = ok(zou.get(f"{D}/asset-types/{tid}"))
    assert row["type"] == "AssetType" and row["name"] == "Prop"
    shot_type = by_name(ok(zou.get(f"{D}/entity-types?name=Shot")))["Shot"]["id"]
    zou_error(zou.get(f"{D}/asset-types/{shot_type}"), 404)
    zou_error(zou.get(f"{D}/asset-types/{MISSING}"), 404)
    zou_error(zou.get(f"{D}/asset-types/not-an-id"), 400, "Malformed ID.")


def test_asset_lifecycle(zou):
    p = new_project(zou)
    tid = asset_type_id(zou)
    a = new_asset(zou, p["id"], tid, description="a hero", extra_key="ignored")
    assert a["type"] == "Asset" and a["project_id"] == p["id"] and a["entity_type_id"] == tid
    assert a["description"] == "a hero" and a["data"] == {} and "extra_key" not in a
    assert ok(zou.get(f"{D}/assets/{a['id']}")) == a
    all_ids = {x["id"] for x in ok(zou.get(f"{D}/assets/all"))}
    assert a["id"] in all_ids
    assert [x["id"] for x in ok(zou.get(f"{D}/assets/all?project_id={p['id']}"))] == [a["id"]]
    assert [x["id"] for x in ok(zou.get(f"{D}/projects/{p['id']}/assets"))] == [a["id"]]
    assert [x["id"] for x in ok(zou.get(f"{D}/projects/{p['id']}/asset-types/{tid}/assets"))] == [a["id"]]
    used = ok(zou.get(f"{D}/projects/{p['id']}/asset-types"))
    assert [(x["id"], x["type"]) for x in used] == [(tid, "AssetType")]
    r = zou.delete(f"{D}/assets/{a['id']}")
    assert r.status_code == 204, r.text
    zou_error(zou.get(f"{D}/assets/{a['id']}"), 404)
    zou_error(zou.delete(f"{D}/assets/{a['id']}"), 404)


def test_asset_episode_is_its_source(zou, shot_tree):
    p, ep = shot_tree["project"], shot_tree["episode"]
    a = new_asset(zou, p["id"], episode_id=ep["id"])
    assert a["source_id"] == ep["id"]
    assert [x["id"] for x in ok(zou.get(f"{D}/assets/all?episode_id={ep['id']}"))] == [a["id"]]


def test_asset_errors(zou, shot_tree):
    p = new_project(zou)
    tid = asset_type_id(zou)
    url = f"{D}/projects/{p['id']}/asset-types/{tid}/assets/new"
    zou_error(zou.post(f"{D}/projects/{MISSING}/asset-types/{tid}/assets/new", json={"name": "x"}), 404)
    zou_error(zou.post(f"{D}/projects/{p['id']}/asset-types/{MISSING}/assets/new", json={"name": "x"}), 404)
    zou_error(zou.post(f"{D}/projects/nope/asset-types/{tid}/assets/new", json={"name": "x"}), 400, "Malformed ID.")
    zou_error(zou.post(url, json=["x"]), 400)
    zou_error(zou.post(url, data="{", headers={"content-type": "application/json"}), 400)
    zou_error(zou.post(url, json={"name": "x", "episode_id": "zz"}), 400, "Malformed ID.")
    zou_error(zou.post(url, json={"name": "x", "episode_id": MISSING}), 404)
    r = zou.post(url, json={"description": "no name"})
    assert r.status_code in (400, 422), r.text  # a missing name is a validation error
    # assets/<id> of something that is not an asset
    zou_error(zou.get(f"{D}/assets/{shot_tree['shot']['id']}"), 404)
    zou_error(zou.delete(f"{D}/assets/{shot_tree['shot']['id']}"), 404)
    zou_error(zou.get(f"{D}/assets/bad"), 400, "Malformed ID.")
    zou_error(zou.get(f"{D}/projects/{MISSING}/assets"), 404)


# -- episodes, sequences, shots ------------------------------------------------

def test_shot_tree(zou, shot_tree):
    p, ep, sq, sh = (shot_tree[k] for k in ("project", "episode", "sequence", "shot"))
    assert (ep["type"], sq["type"], sh["type"]) == ("Episode", "Sequence", "Shot")
    assert sq["parent_id"] == ep["id"] and sh["parent_id"] == sq["id"]
    assert sh["nb_frames"] == 48 and sh["data"] == {"frame_in": 1, "frame_out": 48}
    pid = p["id"]
    assert [x["id"] for x in ok(zou.get(f"{D}/projects/{pid}/episodes"))] == [ep["id"]]
    assert [x["id"] for x in ok(zou.get(f"{D}/projects/{pid}/sequences"))] == [sq["id"]]
    assert [x["id"] for x in ok(zou.get(f"{D}/projects/{pid}/shots"))] == [sh["id"]]
    assert ep["id"] in {x["id"] for x in ok(zou.get(f"{D}/episodes"))}
    assert [x["id"] for x in ok(zou.get(f"{D}/sequences?episode_id={ep['id']}"))] == [sq["id"]]
    assert [x["id"] for x in ok(zou.get(f"{D}/shots/all?sequence_id={sq['id']}&name=SH010"))] == [sh["id"]]
    assert ok(zou.get(f"{D}/shots/all?sequence_id={sq['id']}&name=SH999")) == []
    assert ok(zou.get(f"{D}/shots/{sh['id']}")) == sh
    assert ok(zou.get(f"{D}/sequences/{sq['id']}"))["type"] == "Sequence"
    assert ok(zou.get(f"{D}/episodes/{ep['id']}"))["type"] == "Episode"
    zou_error(zou.get(f"{D}/shots/{sq['id']}"), 404)
    zou_error(zou.get(f"{D}/shots/xyz"), 400, "Malformed ID.")
    # shots and sequences are not assets
    assert sh["id"] not in {x["id"] for x in ok(zou.get(f"{D}/assets/all"))}
    # the generic entity route still serves them, typed Entity
    assert ok(zou.get(f"{D}/entities/{sh['id']}"))["type"] == "Entity"


def test_shot_paging_and_delete(zou, shot_tree):
    p, sq = shot_tree["project"], shot_tree["sequence"]
    extra = ok(zou.post(f"{D}/projects/{p['id']}/shots", json={"name": "SH020", "sequence_id": sq["id"]}), 201)
    page = ok(zou.get(f"{D}/projects/{p['id']}/shots?page=1&limit=1"))
    assert page["total"] == 2 and len(page["data"]) == 1 and page["data"][0]["type"] == "Shot"
    assert zou.delete(f"{D}/shots/{extra['id']}").status_code == 204
    zou_error(zou.get(f"{D}/shots/{extra['id']}"), 404)
    zou_error(zou.delete(f"{D}/shots/{sq['id']}"), 404)


def test_shot_errors(zou, shot_tree):
    pid = shot_tree["project"]["id"]
    zou_error(zou.post(f"{D}/projects/{pid}/shots", json={"name": "x", "sequence_id": MISSING}), 404)
    zou_error(zou.post(f"{D}/projects/{pid}/shots", json={"name": "x", "sequence_id": "bad"}), 400, "Malformed ID.")
    zou_error(zou.post(f"{D}/projects/{pid}/shots", json={"name": "x", "sequence_id": 7}), 400)
    zou_error(zou.post(f"{D}/projects/{MISSING}/episodes", json={"name": "E"}), 404)
    zou_error(zou.post(f"{D}/projects/{pid}/sequences", data="nope", headers={"content-type": "application/json"}),
              400)
    # errors: zou answers a wrong media type with 400 (gazu raises on it)
    r = zou.post(f"{D}/projects/{pid}/episodes", data="{}", headers={"content-type": "text/plain"})
    assert r.status_code == 400 and r.json()["error"] is True, r.text


def test_entity_types_made_on_first_use(server):
    srv = kitsu_server(server, KITSU_APP)  # no seed: no Episode type yet
    assert ok(srv.get(f"{D}/entity-types?name=Episode")) == []
    p = new_project(srv)
    ep = ok(srv.post(f"{D}/projects/{p['id']}/episodes", json={"name": "E01"}), 201)
    types = ok(srv.get(f"{D}/entity-types?name=Episode"))
    assert len(types) == 1 and ep["entity_type_id"] == types[0]["id"]
    ok(srv.post(f"{D}/projects/{p['id']}/episodes", json={"name": "E02"}), 201)
    assert len(ok(srv.get(f"{D}/entity-types?name=Episode"))) == 1
    # without any of the other kinds, every entity type is an asset type
    assert ok(srv.get(f"{D}/shots/all")) == []


# -- projects ------------------------------------------------------------------

def test_projects_open(zou):
    statuses = by_name(ok(zou.get(f"{D}/project-status")))
    opened = new_project(zou, project_status_id=statuses["Open"]["id"])
    closed = new_project(zou, project_status_id=statuses["Closed"]["id"])
    ids = {p["id"] for p in ok(zou.get(f"{D}/projects/open"))}
    assert opened["id"] in ids and closed["id"] not in ids
    # the generic item route is still there beside the static segment
    assert ok(zou.get(f"{D}/projects/{closed['id']}"))["id"] == closed["id"]
    zou_error(zou.get(f"{D}/projects/open/nothing"), 404)


SETTINGS = [
    ("settings/asset-types", "asset_type_id", "asset_types", "entity-types", {"name": None}, "AssetType"),
    ("settings/task-types", "task_type_id", "task_types", "task-types", {"name": None, "for_entity": "Asset"},
     "TaskType"),
    ("settings/task-status", "task_status_id", "task_statuses", "task-status",
     {"name": None, "short_name": None, "color": "#000000"}, "TaskStatus"),
    ("team", "person_id", "team", "persons", None, "Person"),
]


@pytest.mark.parametrize("sub,key,field,route,body,typ", SETTINGS, ids=[s[0] for s in SETTINGS])
def test_project_lists(zou, sub, key, field, route, body, typ):
    p = new_project(zou)
    if body is None:
        item = new_person(zou)
    else:
        item = ok(zou.post(f"{D}/{route}", json={k: (uniq("s")[:10] if v is None else v)
                                                  for k, v in body.items()}), 201)
    url = f"{D}/projects/{p['id']}/{sub}"
    assert ok(zou.get(url)) == []
    proj = ok(zou.post(url, json={key: item["id"]}), 201)
    assert proj["id"] == p["id"] and proj[field] == [item["id"]]
    listed = ok(zou.get(url))
    assert [(x["id"], x["type"]) for x in listed] == [(item["id"], typ)]
    assert ok(zou.post(url, json={key: item["id"]}), 201)[field] == [item["id"]]  # no duplicate
    r = zou.delete(f"{url}/{item['id']}")
    assert r.status_code == 204 and r.content == b""
    assert ok(zou.get(url)) == []
    zou_error(zou.delete(f"{url}/{item['id']}"), 404)
    zou_error(zou.post(url, json={key: MISSING}), 404)
    zou_error(zou.post(url, json={key: "bad"}), 400, "Malformed ID.")
    zou_error(zou.post(url, json={}), 400)
    zou_error(zou.get(f"{D}/projects/{MISSING}/{sub}"), 404)
    zou_error(zou.delete(f"{url}/bad"), 400, "Malformed ID.")


def test_project_task_types_and_tasks(zou):
    p = new_project(zou)
    tt = new_task_type(zou)
    ok(zou.post(f"{D}/projects/{p['id']}/settings/task-types", json={"task_type_id": tt["id"], "priority": 1}), 201)
    assert [x["id"] for x in ok(zou.get(f"{D}/projects/{p['id']}/task-types"))] == [tt["id"]]
    a = new_asset(zou, p["id"])
    task = ok(zou.post(f"{D}/tasks", json={"project_id": p["id"], "entity_id": a["id"], "task_type_id": tt["id"]}),
              201)
    assert [x["id"] for x in ok(zou.get(f"{D}/projects/{p['id']}/tasks"))] == [task["id"]]
    zou_error(zou.get(f"{D}/projects/{MISSING}/tasks"), 404)


# -- tasks ---------------------------------------------------------------------

def statuses(srv):
    return {s["short_name"]: s for s in ok(srv.get(f"{D}/task-status"))}


def test_new_task_rules(zou, shot_tree):
    p = new_project(zou)
    a = new_asset(zou, p["id"])
    tt = new_task_type(zou)
    body = {"project_id": p["id"], "entity_id": a["id"], "task_type_id": tt["id"], "assignees": []}
    t = ok(zou.post(f"{D}/tasks", json=body), 201)
    assert t["name"] == "main" and t["type"] == "Task"
    assert t["task_status_id"] == statuses(zou)["todo"]["id"]
    zou_error(zou.post(f"{D}/tasks", json=body), 400, "Task already exists.")
    other = ok(zou.post(f"{D}/tasks", json={**body, "name": "second"}), 201)
    assert other["name"] == "second"
    shot_tt = new_task_type(zou, "Shot")
    zou_error(zou.post(f"{D}/tasks", json={**body, "task_type_id": shot_tt["id"]}), 400,
              "Task type of the task does not match entity type.")
    zou_error(zou.post(f"{D}/tasks", json={**body, "task_type_id": MISSING}), 404)
    zou_error(zou.post(f"{D}/tasks", json={**body, "entity_id": MISSING}), 404)
    zou_error(zou.post(f"{D}/tasks", json={**body, "entity_id": "bad"}), 400, "Malformed ID.")
    zou_error(zou.post(f"{D}/tasks", json={"project_id": p["id"], "entity_id": a["id"]}), 400)
    sh = shot_tree["shot"]
    st = ok(zou.post(f"{D}/tasks", json={"project_id": sh["project_id"], "entity_id": sh["id"],
                                         "task_type_id": shot_tt["id"]}), 201)
    assert st["entity_id"] == sh["id"]
    # GET data/tasks is still the generic list
    assert t["id"] in {x["id"] for x in ok(zou.get(f"{D}/tasks?entity_id={a['id']}"))}


def test_entity_tasks(zou, shot_tree):
    p = new_project(zou)
    a = new_asset(zou, p["id"])
    t1, t2 = new_task_type(zou), new_task_type(zou)
    url = f"{D}/entities/{a['id']}/tasks"
    made = ok(zou.post(url, json={"task_type_ids": [t1["id"], t2["id"]]}), 201)
    assert sorted(x["task_type_id"] for x in made) == sorted([t1["id"], t2["id"]])
    assert all(x["name"] == "main" and x["entity_id"] == a["id"] and x["project_id"] == p["id"] for x in made)
    assert ok(zou.post(url, json={"task_type_ids": [t1["id"]]}), 201) == []  # already there
    assert sorted(x["id"] for x in ok(zou.get(f"{D}/assets/{a['id']}/tasks"))) == sorted(x["id"] for x in made)
    assert len(ok(zou.get(url))) == 2
    zou_error(zou.post(url, json={"task_type_ids": [MISSING]}), 404)
    zou_error(zou.post(url, json={"task_type_ids": ["bad"]}), 400, "Malformed ID.")
    zou_error(zou.post(url, json={"task_type_ids": "x"}), 400)
    zou_error(zou.post(url, json={"task_type_ids": [t1["id"]] * 201}), 400)
    zou_error(zou.post(f"{D}/entities/{MISSING}/tasks", json={"task_type_ids": []}), 404)
    zou_error(zou.get(f"{D}/shots/{MISSING}/tasks"), 404)
    assert ok(zou.get(f"{D}/shots/{shot_tree['shot']['id']}/tasks")) is not None


def test_task_full(zou, shot_tree):
    sh, sq, ep = shot_tree["shot"], shot_tree["sequence"], shot_tree["episode"]
    tt = new_task_type(zou, "Shot")
    person = new_person(zou)
    t = ok(zou.post(f"{D}/tasks", json={"project_id": sh["project_id"], "entity_id": sh["id"],
                                        "task_type_id": tt["id"], "assignees": [person["id"]],
                                        "assigner_id": person["id"]}), 201)
    full = ok(zou.get(f"{D}/tasks/{t['id']}/full"))
    assert full["id"] == t["id"] and full["type"] == "Task"
    assert full["entity"]["id"] == sh["id"] and full["entity_type"]["name"] == "Shot"
    assert full["project"]["id"] == sh["project_id"] and full["task_type"]["id"] == tt["id"]
    assert full["task_status"]["short_name"] == "todo"
    assert [x["id"] for x in full["persons"]] == [person["id"]] and full["assigner"]["id"] == person["id"]
    assert full["sequence"]["id"] == sq["id"] and full["episode"]["id"] == ep["id"]
    assert full["is_subscribed"] is False
    zou_error(zou.get(f"{D}/tasks/{MISSING}/full"), 404)
    zou_error(zou.get(f"{D}/tasks/bad/full"), 400, "Malformed ID.")


# -- actions -------------------------------------------------------------------

@pytest.fixture
def task(zou):
    p = new_project(zou)
    a = new_asset(zou, p["id"])
    tt = new_task_type(zou)
    return ok(zou.post(f"{D}/tasks", json={"project_id": p["id"], "entity_id": a["id"], "task_type_id": tt["id"]}),
              201)


def test_comment(zou, task):
    st = statuses(zou)
    person = new_person(zou)
    url = f"{A}/tasks/{task['id']}/comment"
    c = ok(zou.post(url, json={"task_status_id": st["wip"]["id"], "comment": "started", "checklist": [],
                               "links": [], "for_client": False, "person_id": person["id"]}), 201)
    assert c["type"] == "Comment" and c["text"] == "started" and c["object_id"] == task["id"]
    assert c["object_type"] == "Task" and c["task_status"]["short_name"] == "wip"
    assert c["person"]["id"] == person["id"]
    after = ok(zou.get(f"{D}/tasks/{task['id']}"))
    assert after["task_status_id"] == st["wip"]["id"] and after["last_comment_date"]
    assert after["real_start_date"] and after["retake_count"] == 0
    ok(zou.post(url, json={"task_status_id": st["retake"]["id"], "person_id": person["id"]}), 201)
    ok(zou.post(url, json={"task_status_id": st["retake"]["id"], "person_id": person["id"]}), 201)
    ok(zou.post(url, json={"task_status_id": st["done"]["id"], "person_id": person["id"]}), 201)
    after = ok(zou.get(f"{D}/tasks/{task['id']}"))
    assert after["retake_count"] == 1 and after["done_date"] and after["task_status_id"] == st["done"]["id"]
    # a refused status changes nothing: the comment and the status go together
    zou_error(zou.post(url, json={"task_status_id": MISSING, "comment": "x", "person_id": person["id"]}), 404)
    zou_error(zou.post(url, json={"comment": "x", "person_id": person["id"]}), 400)
    zou_error(zou.post(url, json={"task_status_id": "bad", "person_id": person["id"]}), 400, "Malformed ID.")
    zou_error(zou.post(f"{A}/tasks/{MISSING}/comment", json={"task_status_id": st["wip"]["id"]}), 404)
    assert len(ok(zou.get(f"{D}/comments?object_id={task['id']}"))) == 4


def test_comment_is_atomic(zou, task):
    st = statuses(zou)
    person = new_person(zou)
    # a comment field the model refuses: neither the comment nor the status is written
    r = zou.post(f"{A}/tasks/{task['id']}/comment",
                 json={"task_status_id": st["done"]["id"], "comment": "x", "person_id": person["id"],
                       "for_client": "not a boolean"})
    assert r.status_code in (400, 422), r.text
    assert ok(zou.get(f"{D}/tasks/{task['id']}"))["task_status_id"] == task["task_status_id"]
    assert ok(zou.get(f"{D}/comments?object_id={task['id']}")) == []


def test_assign(zou, task):
    person = new_person(zou)
    tasks = ok(zou.put(f"{A}/persons/{person['id']}/assign", json={"task_ids": [task["id"]]}))
    assert [(t["id"], t["assignees"]) for t in tasks] == [(task["id"], [person["id"]])]
    team = ok(zou.get(f"{D}/projects/{task['project_id']}/team"))
    assert person["id"] in [p["id"] for p in team]
    again = ok(zou.put(f"{A}/persons/{person['id']}/assign", json={"task_ids": [task["id"]]}))
    assert again[0]["assignees"] == [person["id"]]
    other = new_person(zou)
    zou_error(zou.put(f"{A}/persons/{other['id']}/assign", json={"task_ids": [task["id"], MISSING]}), 404)
    assert ok(zou.get(f"{D}/tasks/{task['id']}"))["assignees"] == [person["id"]]
    zou_error(zou.put(f"{A}/persons/{MISSING}/assign", json={"task_ids": [task["id"]]}), 404)
    zou_error(zou.put(f"{A}/persons/{person['id']}/assign", json={"task_ids": ["bad"]}), 400)
    zou_error(zou.put(f"{A}/persons/{person['id']}/assign", json={}), 400)


def test_time_spents(zou, task):
    person = new_person(zou)
    url = f"{A}/tasks/{task['id']}/time-spents/2026-03-02/persons/{person['id']}"
    ts = ok(zou.post(url, json={"duration": 120}), 201)
    assert ts["duration"] == 120 and ts["date"] == "2026-03-02" and ts["type"] == "TimeSpent"
    assert ok(zou.post(url, json={"duration": 60}), 201)["duration"] == 60
    added = ok(zou.post(url + "/add", json={"duration": 30}), 201)
    assert added["duration"] == 90 and added["id"] == ts["id"]
    assert len(ok(zou.get(f"{D}/time-spents?task_id={task['id']}"))) == 1
    zou_error(zou.post(f"{A}/tasks/{task['id']}/time-spents/2026-02-30/persons/{person['id']}",
                       json={"duration": 1}), 400)
    zou_error(zou.post(f"{A}/tasks/{task['id']}/time-spents/yesterday/persons/{person['id']}",
                       json={"duration": 1}), 400)
    zou_error(zou.post(url, json={"duration": -1}), 400)
    zou_error(zou.post(url, json={"duration": "1"}), 400)
    zou_error(zou.post(f"{A}/tasks/{task['id']}/time-spents/2026-03-02/persons/{MISSING}", json={"duration": 1}),
              404)
    zou_error(zou.post(f"{A}/tasks/{MISSING}/time-spents/2026-03-02/persons/{person['id']}", json={"duration": 1}),
              404)


# -- the signed-in user ----------------------------------------------------------

@pytest.mark.parametrize("path", ["user/projects/open", "user/tasks", "user/done-tasks", "user/context"])
def test_user_routes(zou, path):
    r = zou.get(f"{D}/{path}")
    if not has_auth(KITSU_APP):
        zou_error(r, 401)
        return
    body = ok(r)
    if path == "user/context":
        assert {"projects", "asset_types", "task_types", "task_status", "persons"} <= set(body)
    else:
        assert isinstance(body, list)


# -- routing -----------------------------------------------------------------------

def test_method_not_allowed(zou):
    r = zou.put(f"{D}/assets/all", json={})
    assert r.status_code == 405 and "GET" in r.headers["allow"], (r.status_code, r.headers)
    r = zou.post(f"{D}/asset-types", json={})
    assert r.status_code == 405, r.text


def test_unknown_routes_still_404(zou):
    zou_error(zou.get(f"{D}/nothing-here"), 404)
    zou_error(zou.get("/api/actions/nothing"), 404)


# -- row history and edit versions -----------------------------------------------

def test_row_history(server, tmp_path):
    srv = server("app: {name: t}\nmodels:\n  doc:\n    history: true\n    fields: {title: {type: string}}\n"
                 "  note:\n    fields: {title: {type: string}}\n")
    d = ok(srv.post("doc", json={"title": "one"}), 201)
    ok(srv.patch(f"doc/{d['id']}", json={"title": "two"}))
    ok(srv.put(f"doc/{d['id']}", json={"title": "three"}))
    h = ok(srv.get(f"doc/{d['id']}/history"))
    assert [v["row"]["title"] for v in h] == ["one", "two", "three"]
    assert all(v["actor"] is None and v["at"] and v["row"]["id"] == d["id"] for v in h)
    assert len({v["id"] for v in h}) == 3
    assert srv.delete(f"doc/{d['id']}").status_code == 204
    assert len(ok(srv.get(f"doc/{d['id']}/history"))) == 3  # kept after the delete
    assert srv.get(f"doc/{MISSING}/history").status_code == 404
    assert srv.post(f"doc/{d['id']}/history", json={}).status_code == 405
    n = ok(srv.post("note", json={"title": "x"}), 201)
    assert srv.get(f"note/{n['id']}/history").status_code == 404  # no history for this model
    p = type_check(tmp_path, "app: {name: t}\nmodels:\n  m:\n    history: maybe\n    fields: {a: {type: string}}\n")
    assert p.returncode == 1 and "history" in p.stderr, p.stderr


def test_edit_versions(zou):
    p = new_project(zou)
    edit_type = by_name(ok(zou.get(f"{D}/entity-types?name=Edit")))["Edit"]["id"]
    e = ok(zou.post(f"{D}/entities", json={"name": "cut v1", "project_id": p["id"], "entity_type_id": edit_type,
                                           "data": {"length": 10}}), 201)
    ok(zou.patch(f"{D}/entities/{e['id']}", json={"name": "cut v2", "data": {"length": 12}}))
    vs = ok(zou.get(f"{D}/edits/{e['id']}/versions"))
    assert [(v["name"], v["data"]) for v in vs] == [("cut v2", {"length": 12}), ("cut v1", {"length": 10})]
    assert all(v["type"] == "EntityVersion" and v["entity_id"] == e["id"] for v in vs)
    assert len(ok(zou.get(f"{D}/entities/{e['id']}/history"))) == 2
    a = new_asset(zou, p["id"])
    zou_error(zou.get(f"{D}/edits/{a['id']}/versions"), 404)
    zou_error(zou.get(f"{D}/edits/{MISSING}/versions"), 404)
    zou_error(zou.get(f"{D}/edits/bad/versions"), 400, "Malformed ID.")


def test_concurrent_list_additions_all_count(zou):
    """Each addition is applied inside its own write, not read and written
    back whole: additions racing on one project all land."""
    from concurrent.futures import ThreadPoolExecutor
    import requests
    p = new_project(zou)
    people = [new_person(zou)["id"] for _ in range(8)]
    headers = dict(zou.session.headers)

    def add(pid):
        return requests.post(f"{zou.url}{D}/projects/{p['id']}/team", json={"person_id": pid},
                             headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(8) as ex:
        assert list(ex.map(add, people)) == [201] * 8
    assert sorted(ok(zou.get(f"{D}/projects/{p['id']}"))["team"]) == sorted(people)


def test_episode_sequence_shot_reused_by_name(zou, shot_tree):
    p, ep, sq, sh = (shot_tree[k] for k in ("project", "episode", "sequence", "shot"))
    pid = p["id"]
    assert ok(zou.post(f"{D}/projects/{pid}/episodes", json={"name": "E01"}), 201)["id"] == ep["id"]
    assert ok(zou.post(f"{D}/projects/{pid}/sequences", json={"name": "SQ01", "episode_id": ep["id"]}),
              201)["id"] == sq["id"]
    again = ok(zou.post(f"{D}/projects/{pid}/shots", json={"name": "SH010", "sequence_id": sq["id"]}), 201)
    assert again["id"] == sh["id"] and again["type"] == "Shot"
    # the same name without the parent is another sequence
    loose = ok(zou.post(f"{D}/projects/{pid}/sequences", json={"name": "SQ01"}), 201)
    assert loose["id"] != sq["id"] and loose["parent_id"] is None
    assert ok(zou.post(f"{D}/projects/{pid}/sequences", json={"name": "SQ01"}), 201)["id"] == loose["id"]
    # assets are always new rows
    tid = asset_type_id(zou)
    a1 = new_asset(zou, pid, tid, name="Twin")
    a2 = new_asset(zou, pid, tid, name="Twin")
    assert a1["id"] != a2["id"]


def test_links_must_be_of_the_project_and_kind(zou, shot_tree):
    other = new_project(zou)
    sq, ep, sh = shot_tree["sequence"], shot_tree["episode"], shot_tree["shot"]
    zou_error(zou.post(f"{D}/projects/{other['id']}/shots", json={"name": "x", "sequence_id": sq["id"]}), 404)
    zou_error(zou.post(f"{D}/projects/{other['id']}/sequences", json={"name": "x", "episode_id": ep["id"]}), 404)
    pid = shot_tree["project"]["id"]
    zou_error(zou.post(f"{D}/projects/{pid}/shots", json={"name": "x", "sequence_id": sh["id"]}), 404)
    zou_error(zou.post(f"{D}/projects/{pid}/sequences", json={"name": "x", "episode_id": sq["id"]}), 404)


# -- hostile input -----------------------------------------------------------------

ROUTES = [
    ("GET", "/api/data/asset-types/{x}"), ("GET", "/api/data/assets/{x}"), ("DELETE", "/api/data/assets/{x}"),
    ("GET", "/api/data/shots/{x}"), ("DELETE", "/api/data/shots/{x}"), ("GET", "/api/data/sequences/{x}"),
    ("GET", "/api/data/episodes/{x}"), ("GET", "/api/data/projects/{x}/assets"),
    ("GET", "/api/data/projects/{x}/asset-types"), ("GET", "/api/data/projects/{x}/asset-types/{x}/assets"),
    ("POST", "/api/data/projects/{x}/asset-types/{x}/assets/new"), ("POST", "/api/data/projects/{x}/episodes"),
    ("POST", "/api/data/projects/{x}/sequences"), ("POST", "/api/data/projects/{x}/shots"),
    ("GET", "/api/data/projects/{x}/tasks"), ("GET", "/api/data/projects/{x}/task-types"),
    ("POST", "/api/data/projects/{x}/settings/asset-types"),
    ("DELETE", "/api/data/projects/{x}/settings/task-status/{x}"), ("POST", "/api/data/projects/{x}/team"),
    ("DELETE", "/api/data/projects/{x}/team/{x}"), ("GET", "/api/data/assets/{x}/tasks"),
    ("POST", "/api/data/entities/{x}/tasks"), ("POST", "/api/data/tasks"), ("GET", "/api/data/tasks/{x}/full"),
    ("POST", "/api/actions/tasks/{x}/comment"), ("PUT", "/api/actions/persons/{x}/assign"),
    ("POST", "/api/actions/tasks/{x}/time-spents/{x}/persons/{x}"),
    ("POST", "/api/actions/tasks/{x}/time-spents/{x}/persons/{x}/add"), ("GET", "/api/data/edits/{x}/versions"),
    ("POST", "/api/data/projects"), ("POST", "/api/data/persons"), ("GET", "/api/data/sequences/{x}/shots"),
    ("GET", "/api/data/episodes/{x}/sequences"), ("GET", "/api/data/episodes/{x}/shots"),
    ("GET", "/api/data/sequences/{x}/tasks"), ("GET", "/api/data/tasks/{x}/comments"),
    ("GET", "/api/actions/tasks/{x}/time-spents"), ("GET", "/api/actions/tasks/{x}/time-spents/{x}"),
    ("GET", "/api/data/persons/{x}/tasks"), ("GET", "/api/data/persons/{x}/done-tasks"),
    ("GET", "/api/data/persons/{x}/time-spents?start_date={x}&end_date={x}"),
]
JUNK_SEGMENTS = ["0", "%00", "x" * 3000, MISSING.upper(), "2026-13-45", "..", "%2F", "%E2%82%AC", "{}"]
JUNK_BODIES = ['', 'null', '[]', '"x"', '{"name": 1, "sequence_id": [], "episode_id": {}}',
               '{"task_type_ids": [1, null, {}], "task_ids": "x", "duration": 1e400}',
               '{"person_id": null, "asset_type_id": 5, "task_status_id": true}',
               '[' * 200 + ']' * 200, '{"a": "\\ud800"}', '{"name": "' + "n" * 100000 + '"}']


def test_hostile_paths_and_bodies(zou, shot_tree):
    real = {"project": shot_tree["project"]["id"], "shot": shot_tree["shot"]["id"]}
    n = 0
    for method, pattern in ROUTES:
        for seg in JUNK_SEGMENTS + [real["project"], real["shot"]]:
            path = pattern.replace("{x}", seg)
            bodies = JUNK_BODIES if method in ("POST", "PUT") else [None]
            for body in bodies:
                r = zou.request(method, path, data=body, headers={"content-type": "application/json"})
                assert r.status_code < 500, (method, path, body and body[:80], r.status_code, r.text[:300])
                if r.status_code >= 400 and r.content:
                    assert r.json()["error"] is True
                n += 1
    assert n > 500
    zou.assert_alive()


def test_concurrent_time_additions_all_count(zou, task):
    """The day's row is found or made by the writer: racing additions all
    count, and only one row is made."""
    from concurrent.futures import ThreadPoolExecutor
    import requests
    person = new_person(zou)
    url = f"{zou.url}{A}/tasks/{task['id']}/time-spents/2026-04-01/persons/{person['id']}/add"
    headers = dict(zou.session.headers)

    def add(_):
        r = requests.post(url, json={"duration": 5}, headers=headers, timeout=30)
        return r.status_code if r.status_code == 201 else (r.status_code, r.text)

    with ThreadPoolExecutor(8) as ex:
        assert list(ex.map(add, range(16))) == [201] * 16
    rows = ok(zou.get(f"{D}/time-spents?task_id={task['id']}"))
    assert [r["duration"] for r in rows] == [80]


# -- Zou's create rules: projects and persons ------------------------------------

def test_new_project_is_open_by_default(zou):
    st = by_name(ok(zou.get(f"{D}/project-status")))
    p = new_project(zou)
    assert p["project_status_id"] == st["Open"]["id"] and "first_episode_id" not in p
    assert p["id"] in {x["id"] for x in ok(zou.get(f"{D}/projects/open"))}
    closed = new_project(zou, project_status_id=st["Closed"]["id"])  # a given status is kept
    assert closed["project_status_id"] == st["Closed"]["id"]
    zou_error(zou.post(f"{D}/projects", json={"name": uniq("P"), "project_status_id": MISSING}), 400)
    zou_error(zou.post(f"{D}/projects", json={"production_type": "short"}), 400)  # no name
    zou_error(zou.post(f"{D}/projects", json={"name": p["name"]}), 400)  # taken
    zou_error(zou.post(f"{D}/projects", data="[]", headers={"content-type": "application/json"}), 400)
    # GET data/projects is still the generic list
    assert p["id"] in {x["id"] for x in ok(zou.get(f"{D}/projects"))}


def test_new_tvshow_gets_a_first_episode(zou):
    p = new_project(zou, production_type="tvshow")
    eps = ok(zou.get(f"{D}/projects/{p['id']}/episodes"))
    assert [(e["name"], e["type"], e["id"]) for e in eps] == [("E01", "Episode", p["first_episode_id"])]
    assert ok(zou.get(f"{D}/projects/{p['id']}"))["production_type"] == "tvshow"
    # a refused tvshow makes no episode
    before = len(ok(zou.get(f"{D}/episodes")))
    zou_error(zou.post(f"{D}/projects", json={"name": p["name"], "production_type": "tvshow"}), 400)
    assert len(ok(zou.get(f"{D}/episodes"))) == before


def test_open_status_made_when_missing(server):
    srv = kitsu_server(server, KITSU_APP)  # no seed: no project status at all
    assert ok(srv.get(f"{D}/project-status")) == []
    p1 = new_project(srv)
    (st,) = ok(srv.get(f"{D}/project-status"))
    assert (st["name"], st["color"], st["id"]) == ("Open", "#000000", p1["project_status_id"])
    p2 = new_project(srv, production_type="tvshow")  # the Episode type is made too
    assert p2["project_status_id"] == st["id"] and p2["first_episode_id"]
    assert len(ok(srv.get(f"{D}/project-status"))) == 1
    assert [t["name"] for t in ok(srv.get(f"{D}/entity-types?name=Episode"))] == ["Episode"]


def person_body(**kw):
    return {"first_name": "Grace", "last_name": uniq("H"), "email": f"{uniq('g')}@example.com", "phone": "",
            "role": "user", "desktop_login": "", "departments": [], "active": True,
            "contract_type": "open-ended", **kw}


def test_new_person_password_null_is_ignored(zou):
    """gazu's new_person always sends the key, null unless given."""
    body = person_body(password=None)
    p = ok(zou.post(f"{D}/persons", json=body), 201)
    assert p["type"] == "Person" and p["email"] == body["email"] and "password" not in p
    if has_auth(KITSU_APP):  # no password: no sign-in
        r = zou.post("/api/auth/login", json={"email": body["email"], "password": "anything at all"})
        assert r.status_code == 400, r.text


def test_new_person_password_is_hashed_and_signs_in(zou):
    if not has_auth(KITSU_APP):
        zou_error(zou.post(f"{D}/persons", json=person_body(password="a password 12")), 400)
        return
    pw = "grace's password 12"
    body = person_body(password=pw)
    r = zou.post(f"{D}/persons", json=body)
    p = ok(r, 201)
    assert pw not in r.text and "password" not in p
    listed = zou.get(f"{D}/persons?email={body['email']}")
    assert pw not in listed.text and "argon2" not in listed.text and ok(listed)[0]["id"] == p["id"]
    tokens = sign_in(zou, body["email"], pw)
    assert tokens["user"]["id"] == p["id"]
    r = zou.post("/api/auth/login", json={"email": body["email"], "password": pw + "x"})
    assert r.status_code == 400, r.text


@pytest.mark.parametrize("pw,message", [
    ("short", "Password is too short."),
    (12345678, "password must be a string or null."),
    (["a long password"], "password must be a string or null."),
    ("p" * 1025, "Password is too long."),
])
def test_new_person_bad_password(zou, pw, message):
    body = person_body(password=pw)
    if not has_auth(KITSU_APP):
        message = None
    zou_error(zou.post(f"{D}/persons", json=body), 400, message)
    assert ok(zou.get(f"{D}/persons?email={body['email']}")) == []


def test_new_person_refused_row_stores_no_credential(zou):
    if not has_auth(KITSU_APP):
        return
    body = person_body(password="a fine password 1")
    del body["first_name"]
    zou_error(zou.post(f"{D}/persons", json=body), 400)
    assert ok(zou.get(f"{D}/persons?email={body['email']}")) == []
    ok(zou.post(f"{D}/persons", json=person_body(email=body["email"], password=None)), 201)
    r = zou.post("/api/auth/login", json={"email": body["email"], "password": "a fine password 1"})
    assert r.status_code == 400, r.text
    dup = person_body(email=body["email"], password="another password 1")  # email taken
    zou_error(zou.post(f"{D}/persons", json=dup), 400)


# -- children of sequences and episodes ---------------------------------------------

def test_sequence_and_episode_children(zou, shot_tree):
    ep, sq, sh = shot_tree["episode"], shot_tree["sequence"], shot_tree["shot"]
    shots = ok(zou.get(f"{D}/sequences/{sq['id']}/shots"))
    assert [(x["id"], x["type"]) for x in shots] == [(sh["id"], "Shot")]
    seqs = ok(zou.get(f"{D}/episodes/{ep['id']}/sequences"))
    assert [(x["id"], x["type"]) for x in seqs] == [(sq["id"], "Sequence")]
    assert [x["id"] for x in ok(zou.get(f"{D}/episodes/{ep['id']}/shots"))] == [sh["id"]]
    assert [x["name"] for x in ok(zou.get(f"{D}/sequences/{sq['id']}/shots?name=sh010"))] == ["SH010"]
    # another episode's rows are not these
    p = shot_tree["project"]["id"]
    ep2 = ok(zou.post(f"{D}/projects/{p}/episodes", json={"name": uniq("E")}), 201)
    assert ok(zou.get(f"{D}/episodes/{ep2['id']}/shots")) == []
    assert ok(zou.get(f"{D}/episodes/{ep2['id']}/sequences")) == []
    # the path entity must be of the right kind
    zou_error(zou.get(f"{D}/sequences/{sh['id']}/shots"), 404)
    zou_error(zou.get(f"{D}/episodes/{sq['id']}/sequences"), 404)
    zou_error(zou.get(f"{D}/episodes/{MISSING}/shots"), 404)
    zou_error(zou.get(f"{D}/sequences/bad/shots"), 400, "Malformed ID.")


def test_sequence_and_episode_tasks(zou, shot_tree):
    sq, ep = shot_tree["sequence"], shot_tree["episode"]
    tt = new_task_type(zou, "Sequence")
    t = ok(zou.post(f"{D}/tasks", json={"project_id": sq["project_id"], "entity_id": sq["id"],
                                        "task_type_id": tt["id"]}), 201)
    assert [x["id"] for x in ok(zou.get(f"{D}/sequences/{sq['id']}/tasks"))] == [t["id"]]
    assert ok(zou.get(f"{D}/episodes/{ep['id']}/tasks")) == []
    zou_error(zou.get(f"{D}/sequences/{MISSING}/tasks"), 404)


# -- a task's comments and time spents -----------------------------------------------

def test_task_comments(zou, task):
    st = statuses(zou)
    person = new_person(zou)
    url = f"{D}/tasks/{task['id']}/comments"
    assert ok(zou.get(url)) == []
    for status, text in (("wip", "first"), ("wfa", "second"), ("retake", "third")):
        ok(zou.post(f"{A}/tasks/{task['id']}/comment",
                    json={"task_status_id": st[status]["id"], "comment": text, "person_id": person["id"]}), 201)
    got = ok(zou.get(url))
    assert [c["text"] for c in got] == ["third", "second", "first"]  # newest first
    c = got[0]
    assert c["type"] == "Comment" and c["object_id"] == task["id"] and c["attachment_files"] == []
    assert c["person"] == {"id": person["id"], "first_name": "Ada", "last_name": person["last_name"],
                           "has_avatar": False}
    rt = st["retake"]
    assert c["task_status"] == {"id": rt["id"], "name": rt["name"], "short_name": "retake", "color": rt["color"]}
    zou_error(zou.get(f"{D}/tasks/{MISSING}/comments"), 404)
    zou_error(zou.get(f"{D}/tasks/bad/comments"), 400, "Malformed ID.")


def test_task_time_spents_read(zou, task):
    a, b = new_person(zou), new_person(zou)
    base = f"{A}/tasks/{task['id']}/time-spents"
    assert ok(zou.get(base)) == {"total": 0}
    ok(zou.post(f"{base}/2026-05-04/persons/{a['id']}", json={"duration": 120}), 201)
    ok(zou.post(f"{base}/2026-05-04/persons/{b['id']}", json={"duration": 60}), 201)
    ok(zou.post(f"{base}/2026-05-05/persons/{a['id']}", json={"duration": 30}), 201)
    day = ok(zou.get(f"{base}/2026-05-04"))
    assert day["total"] == 180 and set(day) == {"total", a["id"], b["id"]}
    assert [(x["duration"], x["date"], x["type"]) for x in day[a["id"]]] == [(120, "2026-05-04", "TimeSpent")]
    every = ok(zou.get(base))
    assert every["total"] == 210 and sorted(x["duration"] for x in every[a["id"]]) == [30, 120]
    assert ok(zou.get(f"{base}/2026-05-06")) == {"total": 0}
    zou_error(zou.get(f"{base}/2026-02-30"), 400, "Wrong date format.")
    zou_error(zou.get(f"{base}/someday"), 400, "Wrong date format.")
    zou_error(zou.get(f"{A}/tasks/{MISSING}/time-spents/2026-05-04"), 404)


# -- a person's tasks -------------------------------------------------------------

def test_person_tasks(zou, task):
    st = statuses(zou)
    person = new_person(zou)
    assert ok(zou.get(f"{D}/persons/{person['id']}/tasks")) == []
    ok(zou.put(f"{A}/persons/{person['id']}/assign", json={"task_ids": [task["id"]]}))
    assert [t["id"] for t in ok(zou.get(f"{D}/persons/{person['id']}/tasks"))] == [task["id"]]
    assert ok(zou.get(f"{D}/persons/{person['id']}/done-tasks")) == []
    ok(zou.post(f"{A}/tasks/{task['id']}/comment", json={"task_status_id": st["done"]["id"],
                                                          "person_id": person["id"]}), 201)
    assert ok(zou.get(f"{D}/persons/{person['id']}/tasks")) == []
    assert [t["id"] for t in ok(zou.get(f"{D}/persons/{person['id']}/done-tasks"))] == [task["id"]]
    zou_error(zou.get(f"{D}/persons/{MISSING}/tasks"), 404)
    zou_error(zou.get(f"{D}/persons/bad/done-tasks"), 400, "Malformed ID.")


def test_person_time_spents_range(zou, task):
    person, other = new_person(zou), new_person(zou)
    base = f"{A}/tasks/{task['id']}/time-spents"
    for day, who, d in (("2026-06-01", person, 60), ("2026-06-15", person, 30), ("2026-07-01", person, 10),
                        ("2026-06-15", other, 99)):
        ok(zou.post(f"{base}/{day}/persons/{who['id']}", json={"duration": d}), 201)
    url = f"{D}/persons/{person['id']}/time-spents"
    rows = ok(zou.get(url, params={"start_date": "2026-06-01", "end_date": "2026-06-30"}))
    assert sorted((r["date"], r["duration"], r["type"]) for r in rows) == [("2026-06-01", 60, "TimeSpent"),
                                                                            ("2026-06-15", 30, "TimeSpent")]
    # both ends are included
    rows = ok(zou.get(url, params={"start_date": "2026-06-15", "end_date": "2026-07-01"}))
    assert sorted(r["duration"] for r in rows) == [10, 30]
    assert ok(zou.get(url, params={"start_date": "2026-07-02", "end_date": "2026-07-01"})) == []
    for params in ({}, {"start_date": "2026-06-01"}, {"start_date": "2026-06-31", "end_date": "2026-07-01"},
                   {"start_date": "June", "end_date": "2026-07-01"}):
        zou_error(zou.get(url, params=params), 400, "Wrong date format.")
    zou_error(zou.get(f"{D}/persons/{MISSING}/time-spents",
                      params={"start_date": "2026-06-01", "end_date": "2026-06-30"}), 404)


def test_new_project_and_person_keep_the_generic_post_rules(zou):
    """The Kitsu create routes run the generic POST (ext_post): Zou's
    unknown-key refusal, lenient ref lists, Location."""
    for route, body in (("projects", {"name": uniq("P"), "x": 1}), ("persons", person_body(x=1)),
                        ("persons", person_body(x=1, password="a fine password 1"))):
        zou_error(zou.post(f"{D}/{route}", json=body), 400,
                  f"'x' is an invalid keyword argument for {route[:-1]}")
    for route in ("projects", "persons"):
        zou_error(zou.post(f"{D}/{route}", data="[1]", headers={"content-type": "application/json"}), 400,
                  "Validation error.")
    dept = ok(zou.post(f"{D}/departments", json={"name": uniq("Dep"), "color": "#000000"}), 201)
    ghost = str(uuid.uuid4())
    pw = "a fine password 1" if has_auth(KITSU_APP) else None
    r = zou.post(f"{D}/persons", json=person_body(password=pw, departments=[{"id": dept["id"]}, ghost]))
    p = ok(r, 201)
    assert p["departments"] == [dept["id"]]
    assert r.headers["location"].endswith("/api/data/persons/" + p["id"])
    r = zou.post(f"{D}/persons", json=person_body(password=None))
    assert r.headers["location"].endswith("/api/data/persons/" + ok(r, 201)["id"])
    for kind in ("short", "tvshow"):
        pr = zou.post(f"{D}/projects", json={"name": uniq("P"), "team": [p["id"], ghost], "production_type": kind})
        assert ok(pr, 201)["team"] == [p["id"]]
        assert pr.headers["location"].endswith("/api/data/projects/" + pr.json()["id"])
