"""Zou's own routes (apps/kitsu, `routes: zou`) limit a non-admin caller
exactly as the generic routes do: a row outside the caller's project
scope is a 404 as if missing (or absent from a list), embedded rows and
lists follow the same scope, and a write needs the caller's effective role
in that project (project_person_link overrides included).

An admin builds two projects; "art" is a plain user in P1's team only,
"lead" is a user in P1's team with a manager override on P1. Every test
runs twice: on apps/kitsu as shipped (comments and time spents are
admin-only there, so those routes refuse a user with 403 as the generic
ones do), and with comments and time spents open to every signed-in user,
so the task scope they follow is what limits them.
"""
import functools
import uuid

import pytest

import auth_helpers
from harness import assert_no_sanitizer_report
from kitsu_helpers import add_person, has_auth, kitsu_app_yaml, kitsu_server, seeded

D = "/api/data"
A = "/api/actions"
PASS = "zou scope password 42"
DAY = "2026-11-20"


# A signed-in person: requests carry its bearer token.
Caller = functools.partial(auth_helpers.Caller, login="/api/auth/login", password=PASS)


def ok(r, status=200):
    assert r.status_code == status, (r.status_code, r.text)
    return r.json() if r.content else None


def ids(rows):
    rows = rows if isinstance(rows, list) else rows["data"]
    return {row["id"] for row in rows}


def uniq(p):
    return f"{p}-{uuid.uuid4().hex[:6]}"


OPEN = '    access: {read: ["*"], write: ["*"]}\n'


def opened(app_yaml):
    """apps/kitsu with comments and time spents readable and writable by
    every signed-in user."""
    for model, route in (("comment", "comments"), ("time_spent", "time-spents")):
        head = f"  {model}:\n    route: {route}\n"
        assert head in app_yaml and f"{head}    access:" not in app_yaml, model
        app_yaml = app_yaml.replace(head, head + OPEN)
    return app_yaml


@pytest.fixture(scope="module", params=["shipped", "open"])
def w(module_server, request):
    app_yaml = kitsu_app_yaml()
    if not has_auth(app_yaml):
        pytest.skip("apps/kitsu has no auth section")
    if request.param == "open":
        app_yaml = opened(app_yaml)
    srv = kitsu_server(seeded(module_server), app_yaml)
    for email in ("art@zs.io", "lead@zs.io", "far@zs.io"):
        add_person(srv, email, role="user", password=PASS)
    people = {p["email"]: p["id"] for p in ok(srv.get(f"{D}/persons")) if p.get("email")}
    ns = type("W", (), {})()
    ns.srv, ns.people, ns.variant = srv, people, request.param
    ns.art, ns.lead = Caller(srv, "art@zs.io"), Caller(srv, "lead@zs.io")
    ns.task_type = ok(srv.post(f"{D}/task-types", json={"name": uniq("Anim"), "for_entity": "Shot"}), 201)["id"]
    ns.asset_task_type = ok(srv.post(f"{D}/task-types", json={"name": uniq("Model"), "for_entity": "Asset"}),
                            201)["id"]
    ns.status = ok(srv.get(f"{D}/task-status"))[0]["id"]
    ns.asset_type = ok(srv.get(f"{D}/asset-types"))[0]["id"]
    ns.p = {}
    teams = {1: [people["art@zs.io"], people["lead@zs.io"]], 2: [people["far@zs.io"]]}
    for n in (1, 2):
        x = type("P", (), {})()
        x.id = ok(srv.post(f"{D}/projects", json={"name": uniq(f"ScopeP{n}"), "team": teams[n]}), 201)["id"]
        x.ep = ok(srv.post(f"{D}/projects/{x.id}/episodes", json={"name": "E01"}), 201)["id"]
        x.seq = ok(srv.post(f"{D}/projects/{x.id}/sequences", json={"name": "SQ01", "episode_id": x.ep}), 201)["id"]
        x.shot = ok(srv.post(f"{D}/projects/{x.id}/shots", json={"name": "SH01", "sequence_id": x.seq}), 201)["id"]
        x.asset = ok(srv.post(f"{D}/projects/{x.id}/asset-types/{ns.asset_type}/assets/new",
                              json={"name": uniq("Prop")}), 201)["id"]
        x.task = ok(srv.post(f"{D}/tasks", json={"entity_id": x.shot, "task_type_id": ns.task_type,
                                                 "project_id": x.id}), 201)["id"]
        x.asset_task = ok(srv.post(f"{D}/entities/{x.asset}/tasks",
                                   json={"task_type_ids": [ns.asset_task_type]}), 201)[0]["id"]
        ok(srv.put(f"{A}/persons/{teams[n][0]}/assign", json={"task_ids": [x.task]}))
        ok(srv.post(f"{A}/tasks/{x.task}/comment", json={"task_status_id": ns.status, "comment": f"c{n}"}), 201)
        ok(srv.post(f"{A}/tasks/{x.task}/time-spents/{DAY}/persons/{teams[n][0]}", json={"duration": 60}), 201)
        ok(srv.post(f"{D}/projects/{x.id}/settings/task-types", json={"task_type_id": ns.task_type}), 201)
        ns.p[n] = x
    ok(srv.post(f"{D}/project-person-links",
                json={"project_id": ns.p[1].id, "person_id": people["lead@zs.io"], "role": "manager"}), 201)
    return ns


def generic_read(caller, route):
    """The status the generic list of route answers caller (200 or 403):
    Zou's routes over the same rows must refuse exactly when it does."""
    st = caller.get(f"{D}/{route}").status_code
    assert st in (200, 403), st
    return st


def generic_write(caller, route):
    """201 (allowed: the empty body is refused, 400 under Zou's error
    style or 422) or 403."""
    st = caller.post(f"{D}/{route}", json={}).status_code
    assert st in (400, 403, 422), st
    return 403 if st == 403 else 201


def item_paths(p):
    """Every Zou item route that takes an id, for project p's rows."""
    return [
        f"{D}/shots/{p.shot}", f"{D}/assets/{p.asset}", f"{D}/sequences/{p.seq}", f"{D}/episodes/{p.ep}",
        f"{D}/sequences/{p.seq}/shots", f"{D}/episodes/{p.ep}/sequences", f"{D}/episodes/{p.ep}/shots",
        f"{D}/tasks/{p.task}/full", f"{D}/tasks/{p.task}/comments",
        f"{D}/shots/{p.shot}/tasks", f"{D}/assets/{p.asset}/tasks", f"{D}/entities/{p.shot}/tasks",
        f"{D}/projects/{p.id}/assets", f"{D}/projects/{p.id}/shots", f"{D}/projects/{p.id}/sequences",
        f"{D}/projects/{p.id}/episodes", f"{D}/projects/{p.id}/tasks", f"{D}/projects/{p.id}/asset-types",
        f"{D}/projects/{p.id}/task-types", f"{D}/projects/{p.id}/team",
        f"{D}/projects/{p.id}/settings/task-types", f"{D}/projects/{p.id}/settings/asset-types",
        f"{D}/projects/{p.id}/settings/task-status",
        f"{D}/projects/{p.id}/asset-types/{p.asset}/assets",
        f"{A}/tasks/{p.task}/time-spents", f"{A}/tasks/{p.task}/time-spents/{DAY}",
        f"{D}/edits/{p.shot}/versions",
    ]


def test_every_item_route_hides_the_other_project(w):
    # a model the caller may not read at all is 403 first, as the generic
    # nested routes answer; otherwise the other project's row is missing
    comments, times = generic_read(w.art, "comments"), generic_read(w.art, "time-spents")
    for path in item_paths(w.p[2]):
        r = w.art.get(path)
        refused = comments if path.endswith("/comments") else times if "/time-spents" in path else 200
        if refused == 403:
            assert r.status_code == 403, (path, r.status_code, r.text)
            continue
        assert r.status_code == 404 or (r.status_code == 200 and r.json() == []), (path, r.status_code, r.text)
        assert r.json()["error"] is True if r.status_code == 404 else True
    # the admin reaches every one of them (the 404s above are not a bad path)
    for path in item_paths(w.p[2]):
        if path.endswith("/versions") or "/asset-types/" in path and path.endswith("/assets"):
            continue
        assert w.srv.get(path).status_code == 200, path
    assert_no_sanitizer_report(w.srv.stderr_text())


def test_every_item_route_still_serves_the_own_project(w):
    p = w.p[1]
    comments, times = generic_read(w.art, "comments"), generic_read(w.art, "time-spents")
    assert (comments, times) == ((200, 200) if w.variant == "open" else (comments, times))
    for path in item_paths(p):
        r = w.art.get(path)
        if path.endswith("/versions") or "/asset-types/" in path and path.endswith("/assets"):
            continue  # not an edit / not an asset type: 404 for admin too
        want = comments if path.endswith("/comments") else times if "/time-spents" in path else 200
        assert r.status_code == want, (path, r.status_code, r.text)
    assert ok(w.art.get(f"{D}/shots/{p.shot}"))["id"] == p.shot
    assert ids(ok(w.art.get(f"{D}/sequences/{p.seq}/shots"))) == {p.shot}
    full = ok(w.art.get(f"{D}/tasks/{p.task}/full"))
    assert full["project"]["id"] == p.id and full["entity"]["id"] == p.shot
    assert full["persons"] and all("email" not in x for x in full["persons"])
    if comments == 200:
        assert [c["text"] for c in ok(w.art.get(f"{D}/tasks/{p.task}/comments"))][-1] == "c1"
    if times == 200:
        assert ok(w.art.get(f"{A}/tasks/{p.task}/time-spents"))["total"] >= 60


def test_lists_leave_out_the_other_project(w):
    p1, p2 = w.p[1], w.p[2]
    for path, mine, theirs in [
        (f"{D}/shots/all", p1.shot, p2.shot), (f"{D}/assets/all", p1.asset, p2.asset),
        (f"{D}/sequences", p1.seq, p2.seq), (f"{D}/episodes", p1.ep, p2.ep),
        (f"{D}/projects/open", p1.id, p2.id), (f"{D}/user/projects/open", p1.id, p2.id),
    ]:
        got = ids(ok(w.art.get(path)))
        assert mine in got and theirs not in got, path
    ctx = ok(w.art.get(f"{D}/user/context"))
    assert {x["id"] for x in ctx["projects"]} == {p1.id}
    # persons come with the non-admin field subset, as /data/persons serves them
    assert ctx["persons"] and all("email" not in x for x in ctx["persons"])
    assert ids(ok(w.art.get(f"{D}/user/tasks"))) == {p1.task}


def test_another_persons_rows_follow_the_scope(w):
    far = w.people["far@zs.io"]
    assert ok(w.art.get(f"{D}/persons/{far}/tasks")) == []
    assert ok(w.art.get(f"{D}/persons/{far}/done-tasks")) == []
    r = w.art.get(f"{D}/persons/{far}/time-spents?start_date=2026-11-01&end_date=2026-11-30")
    assert r.status_code == generic_read(w.art, "time-spents"), r.text
    if r.status_code == 200:
        assert r.json() == [] or r.json().get("data") == [], r.text
    # the admin sees both
    assert ids(ok(w.srv.get(f"{D}/persons/{far}/tasks"))) == {w.p[2].task}
    got = ok(w.srv.get(f"{D}/persons/{far}/time-spents?start_date=2026-11-01&end_date=2026-11-30"))
    assert len(got if isinstance(got, list) else got["data"]) == 1
    art = w.people["art@zs.io"]
    if generic_read(w.art, "time-spents") == 200:
        got = ok(w.art.get(f"{D}/persons/{art}/time-spents?start_date=2026-11-01&end_date=2026-11-30"))
        assert len(got if isinstance(got, list) else got["data"]) == 1
    # the admin's view of the same person's rows, for contrast
    got = ok(w.srv.get(f"{D}/persons/{art}/time-spents?start_date=2026-11-01&end_date=2026-11-30"))
    assert len(got if isinstance(got, list) else got["data"]) == 1


def test_actions_on_the_other_projects_tasks_are_404(w):
    p2, art = w.p[2], w.people["art@zs.io"]
    before = ok(w.srv.get(f"{D}/tasks/{p2.task}/comments"))
    for method, path, body in [
        ("post", f"{A}/tasks/{p2.task}/comment", {"task_status_id": w.status, "comment": "no"}),
        ("post", f"{A}/tasks/{p2.task}/time-spents/{DAY}/persons/{art}", {"duration": 5}),
        ("post", f"{A}/tasks/{p2.task}/time-spents/{DAY}/persons/{art}/add", {"duration": 5}),
        ("post", f"{D}/entities/{p2.shot}/tasks", {"task_type_ids": [w.task_type]}),
        ("post", f"{D}/tasks", {"entity_id": p2.shot, "task_type_id": w.task_type, "name": "x"}),
        ("post", f"{D}/projects/{p2.id}/sequences", {"name": "SQ99", "episode_id": p2.ep}),
        ("post", f"{D}/projects/{p2.id}/team", {"person_id": art}),
        ("delete", f"{D}/shots/{p2.shot}", None),
        ("delete", f"{D}/assets/{p2.asset}", None),
    ]:
        r = getattr(w.art, method)(path, json=body) if body is not None else getattr(w.art, method)(path)
        assert r.status_code in (403, 404), (path, r.status_code, r.text)
    # a plain user cannot assign anyone, in either project
    assert w.art.put(f"{A}/persons/{art}/assign", json={"task_ids": [p2.task]}).status_code in (403, 404)
    assert ok(w.srv.get(f"{D}/tasks/{p2.task}/comments")) == before
    assert ok(w.srv.get(f"{D}/shots/{p2.shot}"))["id"] == p2.shot
    assert ok(w.srv.get(f"{A}/tasks/{p2.task}/time-spents"))["total"] == 60


def test_user_acts_on_own_projects_tasks(w):
    """The routes answer as the generic ones for the same model: comments
    and time spents need the model's write right (the app file decides),
    and inside the own project the row scope lets them through."""
    p1, art = w.p[1], w.people["art@zs.io"]
    r = w.art.post(f"{A}/tasks/{p1.task}/comment", json={"task_status_id": w.status, "comment": "mine"})
    assert r.status_code == generic_write(w.art, "comments"), r.text
    if r.status_code == 201:
        assert r.json()["text"] == "mine"
    r = w.art.post(f"{A}/tasks/{p1.task}/time-spents/{DAY}/persons/{art}/add", json={"duration": 30})
    assert r.status_code == generic_write(w.art, "time-spents"), r.text
    if r.status_code == 201:
        assert ok(w.srv.get(f"{A}/tasks/{p1.task}/time-spents"))["total"] == 90
    # the user's own role may not write shots, even in its project
    assert w.art.post(f"{D}/projects/{p1.id}/sequences", json={"name": "SQ77", "episode_id": p1.ep}).status_code == 403


def test_manager_by_override_writes_in_that_project_only(w):
    p1, p2 = w.p[1], w.p[2]
    far = w.people["far@zs.io"]
    # assign: the person joins the P1 task and P1's team
    got = ok(w.lead.put(f"{A}/persons/{far}/assign", json={"task_ids": [p1.task]}))
    assert [t["id"] for t in got] == [p1.task] and far in got[0]["assignees"]
    assert far in {x["id"] for x in ok(w.srv.get(f"{D}/projects/{p1.id}/team"))}
    # the same route on a P2 task: not found, nothing written
    r = w.lead.put(f"{A}/persons/{far}/assign", json={"task_ids": [p2.task]})
    assert r.status_code == 404, r.text
    # a P1 sequence made through Zou's route; none in P2
    ok(w.lead.post(f"{D}/projects/{p1.id}/sequences", json={"name": "SQ02", "episode_id": p1.ep}), 201)
    assert w.lead.post(f"{D}/projects/{p2.id}/sequences", json={"name": "SQ02"}).status_code == 404
    # a plain user's override-free role still cannot write in P1
    assert w.art.put(f"{A}/persons/{far}/assign", json={"task_ids": [p1.task]}).status_code == 403
    assert_no_sanitizer_report(w.srv.stderr_text())
