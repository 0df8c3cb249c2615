#!/usr/bin/python3
"""A realistic studio session driven by the real Kitsu client, gazu.

Runs gazu (from its public source tree, never part of this repository)
against a restd serving apps/kitsu, step by step, the way a studio's
pipeline script would: log in, set up a project with its asset types, task
types and statuses, a team, assets, episodes, sequences and shots, tasks;
assign, comment, log time; list and filter everything; update and delete;
refresh the token; log out. Each step asserts what gazu returns.

A step that fails is reported and the session goes on (a later step that
needs what the failed one should have made fails too, saying so), so one
run shows every step that works and every one that does not.

Environment:
  GAZU_SRC       path of gazu's source tree (the directory holding gazu/);
                 unset or missing: prints "skipped" and exits 77.
  KITSU_HOST     API root, default http://127.0.0.1:8080/api.
  KITSU_EMAIL, KITSU_PASSWORD   the admin account (defaults: the ones
                 tests/http/kitsu_helpers.py creates, so the golden file
                 replays there).
  STUDIO_RECORD  path: write every HTTP exchange there as golden cases
                 (tests/gazu/golden.py explains the format).
  STUDIO_META    JSON merged into the golden file's header (run.sh adds
                 the restd commit).

Exit status: 0 when every step passed, 1 otherwise, 77 when skipped.
"""
import json
import os
import sys
import traceback

GAZU_SRC = os.environ.get("GAZU_SRC", "")
if not GAZU_SRC or not os.path.isfile(os.path.join(GAZU_SRC, "gazu", "__init__.py")):
    print("skipped: set GAZU_SRC to gazu's source tree (the directory holding gazu/)")
    sys.exit(77)
sys.path.insert(0, GAZU_SRC)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import requests  # noqa: E402

import gazu  # noqa: E402
from golden import Recorder  # noqa: E402

HOST = os.environ.get("KITSU_HOST", "http://127.0.0.1:8080/api")
EMAIL = os.environ.get("KITSU_EMAIL", "admin@example.com")
PASSWORD = os.environ.get("KITSU_PASSWORD", "kitsu admin password 42")
RECORD = os.environ.get("STUDIO_RECORD")

recorder = Recorder()
_send = requests.Session.send


def _recording_send(self, prep, **kw):
    resp = _send(self, prep, **kw)
    recorder.capture(prep, resp)
    return resp


requests.Session.send = _recording_send


class Missing(Exception):
    """A step needs something an earlier step failed to make."""


S = {}  # what the steps made, by name


def need(*names):
    for n in names:
        if S.get(n) is None:
            raise Missing(f"needs '{n}', which an earlier step did not make")
    return [S[n] for n in names]


def eq(got, want, what):
    assert got == want, f"{what}: got {got!r}, expected {want!r}"


def ids(rows):
    return [r["id"] for r in rows]


def names(rows):
    return sorted(r["name"] for r in rows)


TYPED = []  # (Zou class name, row) for every row row_of saw: the step row_types checks them


def row_of(v, type_name, **want):
    """A row gazu returned: a dict with a string id and the fields in want.
    Its Zou "type" is checked once for all rows by the step row_types, so that
    one missing key does not hide what else works."""
    assert isinstance(v, dict), f"expected a {type_name} dict, got {v!r:.200}"
    assert isinstance(v.get("id"), str) and len(v["id"]) == 36, f"{type_name}: bad id in {v!r:.200}"
    TYPED.append((type_name, v))
    for k, x in want.items():
        eq(v.get(k), x, f"{type_name}.{k}")
    return v


# ---------------------------------------------------------------- steps
STEPS = []


def step(fn):
    STEPS.append(fn)
    return fn


@step
def api_root():
    assert gazu.client.host_is_up(), "HEAD /api did not answer 200"
    v = gazu.client.get_api_version()
    assert isinstance(v, str) and v, f"version: {v!r}"


@step
def log_in():
    tokens = gazu.log_in(EMAIL, PASSWORD)
    eq(tokens.get("login"), True, "login")
    for k in ("access_token", "refresh_token"):  # opaque to gazu: it only sends them back
        assert isinstance(tokens.get(k), str) and len(tokens[k]) >= 16, f"{k}: {tokens.get(k)!r}"
    row_of(tokens.get("user"), "Person", email=EMAIL, role="admin")
    S["me"] = tokens["user"]


@step
def current_user():
    row_of(gazu.client.get_current_user(), "Person", email=EMAIL)


@step
def seed_project_status():
    eq(sorted(s["name"] for s in gazu.project.all_project_status()), ["Closed", "Open"],
       "project statuses")


@step
def seed_task_status():
    shorts = {s["short_name"] for s in gazu.task.all_task_statuses()}
    assert {"todo", "wip", "wfa", "retake", "done", "ready"} <= shorts, f"task statuses: {shorts}"
    # Zou seeds two default statuses (todo, and neutral for concepts): any with is_default.
    S["default_status"] = row_of(gazu.task.get_default_task_status(), "TaskStatus", is_default=True)
    S["wip"] = row_of(gazu.task.get_task_status_by_short_name("wip"), "TaskStatus", short_name="wip")


@step
def seed_asset_types():
    assert {"Character", "Prop", "Environment", "FX"} <= set(names(gazu.asset.all_asset_types()))
    # By name gazu asks data/entity-types, whose rows Zou types "EntityType".
    S["character"] = row_of(gazu.asset.get_asset_type_by_name("Character"), "EntityType",
                            name="Character")


@step
def new_project():
    p = gazu.project.new_project("Bunny Run", "tvshow")
    row_of(p, "Project", name="Bunny Run", production_type="tvshow", production_style="2d3d")
    assert isinstance(p.get("first_episode_id"), str), "a tvshow has no first_episode_id"
    S["project"] = p
    again = gazu.project.new_project("Bunny Run", "tvshow")  # by name: the same project
    eq(again["id"], p["id"], "new_project twice")


@step
def get_project():
    (p,) = need("project")
    eq(gazu.project.get_project(p["id"])["name"], "Bunny Run", "get_project")
    assert p["id"] in ids(gazu.project.all_projects()), "all_projects misses the project"


@step
def get_project_by_name():
    (p,) = need("project")
    eq(gazu.project.get_project_by_name("bunny run")["id"], p["id"], "get_project_by_name (any case)")


@step
def all_open_projects():
    (p,) = need("project")
    assert p["id"] in ids(gazu.project.all_open_projects()), "all_open_projects misses the project"


@step
def new_asset_type():
    t = gazu.asset.new_asset_type("Vehicle")
    eq(t.get("name"), "Vehicle", "asset type name")
    S["vehicle"] = t
    eq(gazu.asset.get_asset_type_by_name("Vehicle")["id"], t["id"], "get_asset_type_by_name")


@step
def get_asset_type():
    (t,) = need("vehicle")
    row_of(gazu.asset.get_asset_type(t["id"]), "AssetType", name="Vehicle")


@step
def new_task_types():
    m = gazu.task.new_task_type("Modeling", color="#3273dc", for_entity="Asset")
    row_of(m, "TaskType", name="Modeling", for_entity="Asset", color="#3273dc")
    a = gazu.task.new_task_type("Animation", color="#22d160", for_entity="Shot")
    row_of(a, "TaskType", name="Animation", for_entity="Shot")
    S["modeling"], S["animation"] = m, a
    assert {"Modeling", "Animation"} <= set(names(gazu.task.all_task_types()))


@step
def get_task_type_by_name():
    (m,) = need("modeling")
    eq(gazu.task.get_task_type_by_name("modeling")["id"], m["id"], "get_task_type_by_name (any case)")


@step
def new_task_status():
    s = gazu.task.new_task_status("Pending Review", "pndr", "#aabbcc")
    row_of(s, "TaskStatus", name="Pending Review", short_name="pndr", color="#aabbcc", is_default=False)
    S["pndr"] = s
    eq(gazu.task.get_task_status(s["id"])["short_name"], "pndr", "get_task_status")
    eq(gazu.task.get_task_status_by_name("Pending Review")["id"], s["id"], "get_task_status_by_name")


@step
def project_settings():
    p, v, m, a, s = need("project", "vehicle", "modeling", "animation", "pndr")
    gazu.project.add_asset_type(p, v)
    gazu.project.add_task_type(p, m, 1)
    gazu.project.add_task_type(p, a, 2)
    gazu.project.add_task_status(p, s)
    got = set(ids(gazu.project.get_project_task_types(p)))
    assert {m["id"], a["id"]} <= got, f"project task types: {got}"
    got = set(ids(gazu.project.get_project_task_statuses(p)))
    assert s["id"] in got, f"project task statuses: {got}"


@step
def new_person():
    ada = gazu.person.new_person("Ada", "Lovelace", "ada@example.com", desktop_login="ada")
    row_of(ada, "Person", first_name="Ada", last_name="Lovelace", email="ada@example.com", role="user")
    S["ada"] = ada
    eq(gazu.person.get_person(ada["id"])["email"], "ada@example.com", "get_person")
    assert ada["id"] in ids(gazu.person.all_persons()), "all_persons misses Ada"


@step
def get_person_by():
    (ada,) = need("ada")
    eq(gazu.person.get_person_by_email("ada@example.com")["id"], ada["id"], "get_person_by_email")
    eq(gazu.person.get_person_by_desktop_login("ada")["id"], ada["id"], "get_person_by_desktop_login")


@step
def team():
    p, ada = need("project", "ada")
    gazu.project.add_person_to_team(p, ada)
    assert ada["id"] in ids(gazu.project.get_team(p)), "get_team misses Ada"


@step
def new_assets():
    p, c, v = need("project", "character", "vehicle")
    hero = gazu.asset.new_asset(p, c, "Hero", "The bunny who runs")
    row_of(hero, "Asset", name="Hero", description="The bunny who runs", project_id=p["id"],
           entity_type_id=c["id"])
    truck = gazu.asset.new_asset(p, v, "Truck", extra_data={"wheels": 6})
    row_of(truck, "Asset", name="Truck", data={"wheels": 6})
    S["hero"], S["truck"] = hero, truck


@step
def list_assets():
    p, c, v, hero = need("project", "character", "vehicle", "hero")
    eq(names(gazu.asset.all_assets_for_project(p)), ["Hero", "Truck"], "all_assets_for_project")
    eq(names(gazu.asset.all_assets_for_project_and_type(p, v)), ["Truck"], "…_and_type")
    assert {c["id"], v["id"]} <= set(ids(gazu.asset.all_asset_types_for_project(p)))
    eq(gazu.asset.get_asset(hero["id"])["name"], "Hero", "get_asset")
    eq(gazu.asset.get_asset_by_name(p, "Hero")["id"], hero["id"], "get_asset_by_name")


@step
def new_episode_sequence():
    (p,) = need("project")
    ep = gazu.shot.new_episode(p, "EP01")
    row_of(ep, "Episode", name="EP01", project_id=p["id"])
    sq = gazu.shot.new_sequence(p, "SQ01", episode=ep)
    row_of(sq, "Sequence", name="SQ01", parent_id=ep["id"])
    S.update(ep=ep, sq=sq)


@step
def new_shots():
    p, sq = need("project", "sq")
    sh1 = gazu.shot.new_shot(p, sq, "SH010", nb_frames=48, frame_in=1, frame_out=48)
    row_of(sh1, "Shot", name="SH010", parent_id=sq["id"], nb_frames=48)
    sh2 = gazu.shot.new_shot(p, sq, "SH020", nb_frames=24, frame_in=49, frame_out=72)
    row_of(sh2, "Shot", name="SH020")
    S.update(sh1=sh1, sh2=sh2)


@step
def list_shots():
    p, ep, sq, sh1 = need("project", "ep", "sq", "sh1")
    assert ep["id"] in ids(gazu.shot.all_episodes_for_project(p)), "all_episodes_for_project"
    eq(names(gazu.shot.all_sequences_for_project(p)), ["SQ01"], "all_sequences_for_project")
    eq(names(gazu.shot.all_shots_for_project(p)), ["SH010", "SH020"], "all_shots_for_project")
    eq(names(gazu.shot.all_shots_for_sequence(sq)), ["SH010", "SH020"], "all_shots_for_sequence")
    eq(gazu.shot.get_shot_by_name(sq, "SH010")["id"], sh1["id"], "get_shot_by_name")
    eq(gazu.shot.get_shot(sh1["id"])["nb_frames"], 48, "get_shot")
    eq(gazu.shot.get_sequence_by_name(p, "SQ01", episode=ep)["id"], sq["id"], "get_sequence_by_name")


@step
def episode_children():
    p, ep, sq = need("project", "ep", "sq")
    eq(names(gazu.shot.all_sequences_for_episode(ep)), ["SQ01"], "all_sequences_for_episode")
    eq(names(gazu.shot.all_shots_for_episode(ep)), ["SH010", "SH020"], "all_shots_for_episode")
    eq(gazu.shot.get_episode_by_name(p, "EP01")["id"], ep["id"], "get_episode_by_name")
    # a tvshow's first episode, made with the project
    first = row_of(gazu.shot.get_episode_by_name(p, "E01"), "Episode", name="E01", project_id=p["id"])
    eq(first["id"], p.get("first_episode_id"), "first_episode_id")
    eq(gazu.task.all_tasks_for_sequence(sq), [], "all_tasks_for_sequence")
    eq(gazu.task.all_tasks_for_episode(ep), [], "all_tasks_for_episode")


@step
def new_tasks():
    hero, m, sh1, a, wip = need("hero", "modeling", "sh1", "animation", "wip")
    t1 = gazu.task.new_task(hero, m)  # the default status, name "main"
    row_of(t1, "Task", name="main", entity_id=hero["id"], task_type_id=m["id"])
    t2 = gazu.task.new_task(sh1, a, task_status=wip)
    row_of(t2, "Task", entity_id=sh1["id"], task_status_id=wip["id"])
    S["t1"], S["t2"] = t1, t2


@step
def list_tasks():
    p, hero, sh1, m, t1, t2 = need("project", "hero", "sh1", "modeling", "t1", "t2")
    eq(ids(gazu.task.all_tasks_for_asset(hero)), [t1["id"]], "all_tasks_for_asset")
    eq(ids(gazu.task.all_tasks_for_shot(sh1)), [t2["id"]], "all_tasks_for_shot")
    eq(sorted(ids(gazu.task.all_tasks_for_project(p))), sorted([t1["id"], t2["id"]]),
       "all_tasks_for_project")
    eq(gazu.task.get_task_by_entity(hero, m)["id"], t1["id"], "get_task_by_entity")


@step
def get_task_full():
    (t1,) = need("t1")
    full = gazu.task.get_task(t1["id"])
    eq(full["task_type"]["name"], "Modeling", "get_task: task_type")
    if S.get("default_status"):
        eq(full["task_status"]["id"], S["default_status"]["id"], "get_task: the default task_status")
    eq(full["entity"]["name"], "Hero", "get_task: entity")


@step
def assign():
    t1, ada = need("t1", "ada")
    gazu.task.assign_task(t1, ada)
    eq(gazu.task.get_task(t1["id"])["assignees"], [ada["id"]], "assignees after assign_task")
    assert t1["id"] in ids(gazu.task.all_tasks_for_person(ada)), "all_tasks_for_person"


@step
def comment():
    t1, wip = need("t1", "wip")
    c = gazu.task.add_comment(t1, wip, "First blocking pass, please review")
    row_of(c, "Comment", object_id=t1["id"], text="First blocking pass, please review")
    eq(c["task_status"]["id"], wip["id"], "comment task_status")
    eq(gazu.task.get_task(t1["id"])["task_status_id"], wip["id"], "status after the comment")
    assert c["id"] in ids(gazu.task.all_comments_for_task(t1)), "all_comments_for_task"
    S["comment"] = c


@step
def comment_reads():
    t1, c, wip = need("t1", "comment", "wip")
    last = gazu.task.get_last_comment_for_task(t1)
    eq(last["id"], c["id"], "get_last_comment_for_task")
    eq((last["person"]["id"], last["task_status"]["short_name"]), (S["me"]["id"], "wip"),
       "the comment's person and task_status")
    row_of(gazu.task.get_comment(c["id"]), "Comment", text="First blocking pass, please review")
    c2 = gazu.task.start_task(t1)  # a comment to wip, by the caller
    row_of(c2, "Comment", task_status_id=wip["id"])
    eq(ids(gazu.task.all_comments_for_task(t1)), [c2["id"], c["id"]], "comments, newest first")
    gazu.task.remove_comment(c2)
    eq(ids(gazu.task.all_comments_for_task(t1)), [c["id"]], "remove_comment")


@step
def time_spent():
    t1, ada = need("t1", "ada")
    ts = gazu.task.set_time_spent(t1, ada, "2024-05-06", 120)
    eq(ts.get("duration"), 120, "set_time_spent")
    ts = gazu.task.add_time_spent(t1, ada, "2024-05-06", 30)
    eq(ts.get("duration"), 150, "add_time_spent")
    got = gazu.task.get_time_spent(t1, "2024-05-06")
    assert isinstance(got, dict) and got.get("total") == 150, f"get_time_spent: {got!r:.300}"
    assert ada["id"] in got, f"get_time_spent has no entry for Ada: {sorted(got)}"


@step
def time_spents_range():
    t1, ada = need("t1", "ada")
    rows = gazu.person.get_time_spents_range(ada["id"], "2024-05-01", "2024-05-31")
    eq([(r["task_id"], r["date"], r["duration"]) for r in rows], [(t1["id"], "2024-05-06", 150)],
       "get_time_spents_range")
    eq(gazu.person.get_time_spents_range(ada["id"], "2024-05-07", "2024-06-30"), [],
       "get_time_spents_range after the day")
    eq(gazu.task.all_done_tasks_for_person(ada), [], "all_done_tasks_for_person")


@step
def filter_collections():
    p, t1, t2 = need("project", "t1", "t2")
    eq(sorted(ids(gazu.client.fetch_all("tasks", {"project_id": p["id"]}))),
       sorted([t1["id"], t2["id"]]), "tasks?project_id=")
    rows = gazu.client.fetch_all("tasks", {"project_id": p["id"]}, paginated=True, limit=1)
    eq(sorted(ids(rows)), sorted([t1["id"], t2["id"]]), "paginated tasks, one a page")
    eq(gazu.client.fetch_one("projects", p["id"])["name"], "Bunny Run", "fetch_one")


@step
def filter_by_name_any_case():
    p, hero = need("project", "hero")
    eq(ids(gazu.client.fetch_all("entities", {"project_id": p["id"], "name": "hero"})), [hero["id"]],
       "entities?name= (any case)")


@step
def filter_python_booleans():
    (me,) = need("me")
    eq(ids(gazu.client.fetch_all("persons", {"is_bot": False, "email": EMAIL})), [me["id"]],
       "persons?is_bot=False")
    eq(gazu.client.fetch_first("task-status", {"is_default": True})["is_default"], True,
       "task-status?is_default=True")


@step
def update_project():
    (p,) = need("project")
    p = gazu.project.get_project(p["id"])
    p["description"] = "A bunny, running"
    gazu.project.update_project(p)  # PUTs the whole row back, as fetched
    eq(gazu.project.get_project(p["id"])["description"], "A bunny, running", "update_project")


@step
def update_task_type():
    (m,) = need("modeling")
    gazu.task.update_task_type({"id": m["id"], "color": "#ff3860"})  # one key: a partial PUT
    eq(gazu.task.get_task_type(m["id"])["color"], "#ff3860", "update_task_type")


@step
def update_entities():
    hero, sh1 = need("hero", "sh1")
    gazu.asset.update_asset({"id": hero["id"], "description": "The hero bunny"})
    eq(gazu.asset.get_asset(hero["id"])["description"], "The hero bunny", "update_asset")
    gazu.shot.update_shot_data(sh1, {"frame_out": 60})
    eq(gazu.shot.get_shot(sh1["id"])["data"].get("frame_out"), 60, "update_shot_data")


@step
def update_shot():
    (sh1,) = need("sh1")
    shot = gazu.shot.get_shot(sh1["id"])
    shot["description"] = "The opening shot"
    gazu.shot.update_shot(shot)  # PUTs the whole row back, as fetched
    eq(gazu.shot.get_shot(sh1["id"])["description"], "The opening shot", "update_shot")


@step
def update_task_and_person():
    t1, ada = need("t1", "ada")
    gazu.task.update_task({"id": t1["id"], "priority": 2, "duration": 480})
    eq(gazu.task.get_task(t1["id"])["priority"], 2, "update_task")
    gazu.person.update_person({"id": ada["id"], "phone": "+33 1 23 45 67 89"})
    eq(gazu.person.get_person(ada["id"])["phone"], "+33 1 23 45 67 89", "update_person")


@step
def departments():
    d = gazu.person.new_department("Layout", color="#00ff00")
    row_of(d, "Department", name="Layout", color="#00ff00")
    eq(gazu.person.new_department("Layout")["id"], d["id"], "new_department twice")
    eq(gazu.person.get_department_by_name("Layout")["id"], d["id"], "get_department_by_name")
    assert d["id"] in ids(gazu.person.all_departments()), "all_departments misses Layout"


@step
def person_with_password_and_removal():
    tmp = gazu.person.new_person("Tim", "Porary", "tim@example.com", password="tim's password 12")
    row_of(tmp, "Person", email="tim@example.com")
    assert "password" not in tmp, "the answer has the password"
    gazu.person.remove_person(tmp)
    eq(gazu.person.get_person_by_email("tim@example.com"), None, "remove_person")


@step
def delete_task():
    p, t2 = need("project", "t2")
    gazu.task.remove_task(t2)
    assert t2["id"] not in ids(gazu.client.fetch_all("tasks", {"project_id": p["id"]})), "remove_task"


@step
def delete_shot_and_asset():
    p, sh2, truck = need("project", "sh2", "truck")
    gazu.shot.remove_shot(sh2, force=True)
    eq(names(gazu.shot.all_shots_for_project(p)), ["SH010"], "remove_shot")
    gazu.asset.remove_asset(truck, force=True)
    eq(names(gazu.asset.all_assets_for_project(p)), ["Hero"], "remove_asset")


@step
def row_types():
    """Zou puts "type": "<ClassName>" on every row; gazu's callers branch on it."""
    bad = [f"{want} row {v.get('id')} has type {v.get('type')!r}" for want, v in TYPED
           if v.get("type") != want]
    assert not bad, f"{len(bad)} of {len(TYPED)} rows: " + "; ".join(bad[:4])


@step
def refresh_token():
    need("me")
    old = gazu.client.default_client.access_token
    tokens = gazu.refresh_access_token()
    assert isinstance(tokens.get("access_token"), str) and len(tokens["access_token"]) >= 16, tokens
    assert tokens["access_token"] != old, "the refreshed token is the old one"
    row_of(gazu.client.get_current_user(), "Person", email=EMAIL)


@step
def close_project():
    (p,) = need("project")
    gazu.project.close_project(p)
    assert p["id"] not in ids(gazu.project.all_open_projects()), "closed project still open"
    assert p["id"] in ids(gazu.project.all_projects()), "closed project gone from all_projects"


@step
def log_out():
    need("me")
    eq(gazu.log_out(), {}, "log_out")
    try:
        gazu.client.get_current_user()
    except gazu.exception.NotAuthenticatedException:
        return
    raise AssertionError("get_current_user after log_out did not answer 401")


def main():
    gazu.set_host(HOST)
    failed = []
    for fn in STEPS:
        recorder.step = fn.__name__
        try:
            fn()
        except Missing as e:
            failed.append(fn.__name__)
            recorder.end_step(fn.__name__, False, f"skipped: {e}")
            print(f"SKIP {fn.__name__}: {e}")
            continue
        except Exception as e:  # a gazu exception or a failed assertion: report, go on
            failed.append(fn.__name__)
            msg = f"{type(e).__name__}: {e}"
            recorder.end_step(fn.__name__, False, msg[:300])
            print(f"FAIL {fn.__name__}: {msg[:300]}")
            if os.environ.get("STUDIO_TRACE"):
                traceback.print_exc()
            continue
        recorder.end_step(fn.__name__, True)
        print(f"ok   {fn.__name__}")
    n = len(STEPS)
    print(f"{n - len(failed)} of {n} steps passed" + (f"; failed: {' '.join(failed)}" if failed else ""))
    if RECORD:
        meta = {"gazu": gazu.__version__, "email": EMAIL}
        meta.update(json.loads(os.environ.get("STUDIO_META", "{}")))
        g = recorder.golden(meta)
        with open(RECORD, "w") as f:
            json.dump(g, f, indent=1, ensure_ascii=False)
            f.write("\n")
        print(f"recorded {len(g['exchanges'])} exchanges into {RECORD}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
