"""Per-holder role overrides (docs/auth.md, "Per-holder roles"): inside a
project, the role of the caller's override row (Zou's
project_person_link.role) replaces the caller's own role, for reads and
writes, in lists and their totals, single rows, updates, deletes, nested
lists and creates. Against the real binary; users are made with the CLI."""
import pytest

from auth_helpers import Caller, add_user
from harness import problem, restd_check
from kitsu_helpers import add_person, has_auth, kitsu_app_yaml, kitsu_server

APP = """
app:
  name: roles
  base_path: /api
  lists: {paging: page}
auth:
  users: person
  login_field: email
  role_field: role
  routes: {login: /auth/login}
  superusers: [admin]
models:
  person:
    route: persons
    access: {read: ["*"], write: []}
    fields:
      email: {type: string, required: true, unique: true}
      role: {type: enum, values: [admin, manager, supervisor, user, client], default: user}
  project:
    route: projects
    access:
      read: ["*"]
      write: [manager]
      scope: {member: team}
      role_in: {model: project_role, holder: project_id, user: person_id, role: role}
    fields:
      name: {type: string, required: true}
      team: {type: ref_list, model: person}
  project_role:
    route: project-roles
    access: {read: ["*"], write: []}
    fields:
      project_id: {type: ref, model: project, required: true}
      person_id: {type: ref, model: person, required: true}
      role: {type: enum, values: [admin, manager, supervisor, user, client]}
    indexes:
      - {fields: [project_id, person_id], unique: true}
  task:
    route: tasks
    nested_under: [project]
    access:
      read: [manager, supervisor, user]
      write: [manager]
      scope: {via: project_id, member: team}
      role_in: {model: project_role, holder: project_id, user: person_id, role: role}
    fields:
      title: {type: string, required: true}
      project_id: {type: ref, model: project, required: true}
"""


def made(r):
    assert r.status_code == 201, r.text
    return r.json()["id"]


def rows(r):
    assert r.status_code == 200, r.text
    body = r.json()
    return body if isinstance(body, list) else body["data"]


def titles(r):
    return sorted(t["title"] for t in rows(r))


PEOPLE = [("root@x.io", "admin"), ("art@x.io", "user"), ("boss@x.io", "manager"),
          ("plain@x.io", "user"), ("cli@x.io", "client"), ("nullm@x.io", "manager")]


@pytest.fixture(scope="module")
def w(module_server):
    """Projects P1, P2 (everyone on both teams) and P3 (no team); tasks in
    each. art (user) is manager on P1, boss (manager) is user on P1, cli
    (client) is user on P1, nullm (manager) has a row without a role on
    P1, root (admin) is user on P1; plain (user) has no override."""
    srv = module_server(APP)
    for email, role in PEOPLE:
        add_user(srv, email, role)
    ns = type("W", (), {})()
    ns.srv = srv
    for email, _ in PEOPLE:
        setattr(ns, email.split("@")[0], Caller(srv, email))
    ids = {p["email"]: p["id"] for p in rows(ns.root.get("persons"))}
    team = [ids[e] for e, _ in PEOPLE if e != "root@x.io"]
    ns.p1 = made(ns.root.post("projects", json={"name": "P1", "team": team}))
    ns.p2 = made(ns.root.post("projects", json={"name": "P2", "team": team}))
    ns.p3 = made(ns.root.post("projects", json={"name": "P3", "team": []}))
    ns.t1 = [made(ns.root.post("tasks", json={"title": f"a{i}", "project_id": ns.p1})) for i in range(4)]
    ns.t2 = [made(ns.root.post("tasks", json={"title": f"b{i}", "project_id": ns.p2})) for i in range(3)]
    ns.t3 = [made(ns.root.post("tasks", json={"title": f"c{i}", "project_id": ns.p3})) for i in range(2)]
    for email, role in [("art@x.io", "manager"), ("boss@x.io", "user"), ("cli@x.io", "user"),
                        ("nullm@x.io", None), ("root@x.io", "user")]:
        made(ns.root.post("project-roles", json={"project_id": ns.p1, "person_id": ids[email], "role": role}))
    ns.ids = ids
    return ns


# -- a global user who is manager on P1 ------------------------------------

def test_user_with_manager_override_writes_that_project_only(w):
    r = w.art.put(f"tasks/{w.t1[0]}", json={"title": "a0", "project_id": w.p1})
    assert r.status_code == 200, r.text
    assert w.art.patch(f"tasks/{w.t1[1]}", json={"title": "a1"}).status_code == 200
    # P2: the user reads it (own role, team) but may not write it
    assert w.art.get(f"tasks/{w.t2[0]}").status_code == 200
    problem(w.art.patch(f"tasks/{w.t2[0]}", json={"title": "no"}), 403)
    problem(w.art.delete(f"tasks/{w.t2[0]}"), 403)
    assert w.root.get(f"tasks/{w.t2[0]}").json()["title"] == "b0"
    # P3: neither on the team nor overridden: hidden
    problem(w.art.patch(f"tasks/{w.t3[0]}", json={"title": "no"}), 404)


def test_user_with_manager_override_creates_only_in_that_project(w):
    tid = made(w.art.post("tasks", json={"title": "new1", "project_id": w.p1}))
    problem(w.art.post("tasks", json={"title": "new2", "project_id": w.p2}), 403)
    problem(w.art.post("tasks", json={"title": "new3", "project_id": w.p3}), 403)
    # nested create through the parent
    nid = made(w.art.post(f"projects/{w.p1}/tasks", json={"title": "nested1"}))
    problem(w.art.post(f"projects/{w.p2}/tasks", json={"title": "nested2"}), 403)
    # moving a P1 task into P2 is writing in P2
    problem(w.art.patch(f"tasks/{tid}", json={"project_id": w.p2}), 403)
    assert w.root.get(f"tasks/{tid}").json()["project_id"] == w.p1
    assert w.art.delete(f"tasks/{tid}").status_code == 204
    assert w.art.delete(f"tasks/{nid}").status_code == 204
    assert w.root.get(f"tasks/{tid}").status_code == 404


def test_override_on_the_holder_model_itself(w):
    # project has role_in with the row as its own holder
    assert w.art.patch(f"projects/{w.p1}", json={"name": "P1"}).status_code == 200
    problem(w.art.patch(f"projects/{w.p2}", json={"name": "P2x"}), 403)
    # a new project is in no holder where art is manager
    problem(w.art.post("projects", json={"name": "P9", "team": [w.ids["art@x.io"]]}), 403)
    assert all(p["name"] != "P9" for p in rows(w.root.get("projects")))


# -- a global manager who is a user on P1 ------------------------------------

def test_manager_with_user_override_loses_writes_there(w):
    assert w.boss.get(f"tasks/{w.t1[2]}").status_code == 200  # a user may read
    problem(w.boss.patch(f"tasks/{w.t1[2]}", json={"title": "no"}), 403)
    problem(w.boss.delete(f"tasks/{w.t1[2]}"), 403)
    problem(w.boss.post("tasks", json={"title": "no", "project_id": w.p1}), 403)
    problem(w.boss.post(f"projects/{w.p1}/tasks", json={"title": "no"}), 403)
    problem(w.boss.patch(f"projects/{w.p1}", json={"name": "no"}), 403)
    # elsewhere the global role holds
    assert w.boss.patch(f"tasks/{w.t2[1]}", json={"title": "b1"}).status_code == 200
    tid = made(w.boss.post("tasks", json={"title": "boss2", "project_id": w.p2}))
    assert w.boss.delete(f"tasks/{tid}").status_code == 204
    # and moving a P2 task into P1 is writing in P1
    problem(w.boss.patch(f"tasks/{w.t2[1]}", json={"project_id": w.p1}), 403)


def test_override_without_a_role_keeps_the_global_role(w):
    assert w.nullm.patch(f"tasks/{w.t1[3]}", json={"title": "a3"}).status_code == 200
    assert w.nullm.patch(f"tasks/{w.t2[2]}", json={"title": "b2"}).status_code == 200


def test_superusers_stay_global(w):
    assert w.root.patch(f"tasks/{w.t1[3]}", json={"title": "a3"}).status_code == 200
    assert len(rows(w.root.get("tasks"))) >= 9


# -- reads, lists and totals -------------------------------------------------

def test_lists_and_totals_follow_the_effective_role(w):
    # art: user (team) on P1 and P2, no right on P3
    assert [t for t in titles(w.art.get("tasks")) if t[0] in "abc"] == \
        ["a0", "a1", "a2", "a3", "b0", "b1", "b2"]
    body = w.art.get("tasks?page=1&limit=2").json()
    assert body["total"] == 7 and body["nb_pages"] == 4
    assert w.art.get(f"tasks?page=1&project_id={w.p3}").json()["total"] == 0
    # a client may read no task, except in P1 where the override says user
    r = w.cli.get("tasks?page=1")
    assert r.json()["total"] == 4
    assert sorted(t["project_id"] for t in r.json()["data"]) == [w.p1] * 4
    assert w.cli.get(f"tasks/{w.t1[0]}").status_code == 200
    hidden = problem(w.cli.get(f"tasks/{w.t2[0]}"), 404)
    missing = problem(w.cli.get("tasks/0190a000-0000-7000-8000-000000000000"), 404)
    assert hidden["title"] == missing["title"]
    assert w.cli.get(f"projects/{w.p1}/tasks").status_code == 200
    assert len(rows(w.cli.get(f"projects/{w.p1}/tasks"))) == 4
    # the client may not write even in P1 (user there may not)
    problem(w.cli.patch(f"tasks/{w.t1[0]}", json={"title": "no"}), 403)


def test_cursor_pages_and_filters_follow_the_effective_role(w):
    seen = []
    r = w.cli.get("tasks?limit=3&cursor=start")
    while True:
        assert r.status_code == 200, r.text
        seen += [t["title"] for t in rows(r)]
        nxt = r.headers.get("X-Pagination-Next-Cursor")
        if not nxt:
            break
        r = w.cli.get(f"tasks?limit=3&cursor={nxt}")
    assert sorted(seen) == ["a0", "a1", "a2", "a3"]
    # a filter cannot reach out of what the role allows
    assert w.cli.get(f"tasks?page=1&project_id={w.p2}").json()["total"] == 0
    assert w.cli.get(f"tasks?page=1&title=a2").json()["total"] == 1
    assert w.cli.get(f"tasks?page=1&title=b2").json()["total"] == 0


def test_callers_without_overrides_are_unchanged(w):
    assert titles(w.plain.get("tasks")) == ["a0", "a1", "a2", "a3", "b0", "b1", "b2"]
    assert w.plain.get("tasks?page=1").json()["total"] == 7
    p = problem(w.plain.patch(f"tasks/{w.t1[0]}", json={"title": "no"}), 403)
    assert "write access to tasks" in p["detail"]
    problem(w.plain.get(f"tasks/{w.t3[0]}"), 404)


def test_override_changes_take_effect_at_once(w):
    rid = made(w.root.post("project-roles", json={"project_id": w.p2, "person_id": w.ids["plain@x.io"],
                                                  "role": "manager"}))
    assert w.plain.patch(f"tasks/{w.t2[0]}", json={"title": "b0"}).status_code == 200
    problem(w.plain.patch(f"tasks/{w.t1[0]}", json={"title": "no"}), 403)
    assert w.root.delete(f"project-roles/{rid}").status_code == 204
    problem(w.plain.patch(f"tasks/{w.t2[0]}", json={"title": "no"}), 403)


def test_superuser_role_as_override_counts_as_none(w):
    """Zou: admin is a global role only. art (user) given "admin" on P2
    keeps its own role there: reads (team), no writes."""
    rid = made(w.root.post("project-roles", json={"project_id": w.p2, "person_id": w.ids["art@x.io"],
                                                  "role": "admin"}))
    try:
        assert w.art.get(f"tasks/{w.t2[0]}").status_code == 200
        problem(w.art.patch(f"tasks/{w.t2[0]}", json={"title": "no"}), 403)
        assert w.art.get("tasks?page=1").json()["total"] == 7
        # the manager override on P1 still holds
        assert w.art.patch(f"tasks/{w.t1[0]}", json={"title": "a0"}).status_code == 200
    finally:
        assert w.root.delete(f"project-roles/{rid}").status_code == 204


def test_override_rows_are_admin_written(w):
    problem(w.art.post("project-roles", json={"project_id": w.p2, "person_id": w.ids["art@x.io"],
                                              "role": "manager"}), 403)
    # one row per project and person
    r = w.root.post("project-roles", json={"project_id": w.p1, "person_id": w.ids["art@x.io"], "role": "user"})
    assert r.status_code in (400, 409), r.text


# -- the app file ---------------------------------------------------------------

BAD = [
    ("role_in: {model: nope, holder: project_id, user: person_id, role: role}", "there is no model 'nope'"),
    ("role_in: {model: project_role, holder: role, user: person_id, role: role}",
     "must be a ref"),
    ("role_in: {model: project_role, holder: project_id, user: project_id, role: role}",
     "must be a ref to person"),
    ("role_in: {model: project_role, holder: project_id, user: person_id, role: project_id}",
     "must be a string or an enum"),
    ("role_in: {model: project_role, holder: project_id, user: person_id}", "role"),
    ("role_in: {model: project_role, holder: project_id, user: person_id, role: role, x: 1}", "x"),
    ("role_in: [1]", "role_in"),
]


@pytest.mark.parametrize("line,needle", BAD)
def test_bad_role_in_is_refused_at_load(tmp_path, line, needle):
    app = APP.replace("      role_in: {model: project_role, holder: project_id, user: person_id, role: role}\n"
                      "    fields:\n      title:",
                      f"      {line}\n    fields:\n      title:")
    assert app != APP
    (tmp_path / "app.yaml").write_text(app)
    r = restd_check(tmp_path)
    assert r.returncode != 0
    assert needle in r.stderr + r.stdout, r.stderr


def test_role_in_holder_needs_a_via(tmp_path):
    app = APP.replace("      scope: {via: project_id, member: team}\n      role_in:", "      role_in:")
    (tmp_path / "app.yaml").write_text(app)
    r = restd_check(tmp_path)
    assert r.returncode != 0 and "give `via`" in r.stderr + r.stdout, r.stderr
    ok = app.replace("role: role}\n    fields:\n      title:", "role: role, via: project_id}\n    fields:\n      title:")
    (tmp_path / "app.yaml").write_text(ok)
    r = restd_check(tmp_path)
    assert r.returncode == 0, r.stderr + r.stdout


# -- apps/kitsu: Zou's project_person_link.role ----------------------------------

KPASS = "kitsu role password 42"


@pytest.fixture(scope="module")
def kitsu(module_server):
    app_yaml = kitsu_app_yaml()
    if not has_auth(app_yaml):
        pytest.skip("apps/kitsu has no auth section")
    srv = kitsu_server(module_server, app_yaml)
    for email, role in [("art@k.io", "user"), ("boss@k.io", "manager")]:
        add_person(srv, email, role=role, password=KPASS)
    ns = type("K", (), {})()
    ns.srv = srv
    ns.art = Caller(srv, "art@k.io", login="/api/auth/login", password=KPASS)
    ns.boss = Caller(srv, "boss@k.io", login="/api/auth/login", password=KPASS)
    people = {p["email"]: p["id"] for p in srv.get("/api/data/persons").json() if p.get("email")}
    team = [people["art@k.io"], people["boss@k.io"]]

    def post(path, body):
        r = srv.post("/api/data/" + path, json=body)
        assert r.status_code == 201, r.text
        return r.json()["id"]
    ns.p1 = post("projects", {"name": "RolesP1", "team": team})
    ns.p2 = post("projects", {"name": "RolesP2", "team": team})
    ns.etype = post("entity-types", {"name": "RolesType"})
    ns.e1 = [post("entities", {"name": f"e1-{i}", "project_id": ns.p1, "entity_type_id": ns.etype})
             for i in range(3)]
    ns.e2 = [post("entities", {"name": f"e2-{i}", "project_id": ns.p2, "entity_type_id": ns.etype})
             for i in range(2)]
    post("project-person-links", {"project_id": ns.p1, "person_id": people["art@k.io"], "role": "manager"})
    post("project-person-links", {"project_id": ns.p1, "person_id": people["boss@k.io"], "role": "user"})
    ns.people = people
    return ns


def test_kitsu_artist_manager_on_one_project(kitsu):
    k = kitsu
    r = k.art.put(f"/api/data/entities/{k.e1[0]}", json={"description": "by the override"})
    assert r.status_code == 200, r.text
    assert r.json()["description"] == "by the override"
    r = k.art.put(f"/api/data/entities/{k.e2[0]}", json={"description": "no"})
    assert r.status_code == 403, r.text
    assert r.json()["error"] is True
    r = k.art.post("/api/data/entities", json={"name": "e1-new", "project_id": k.p1, "entity_type_id": k.etype})
    assert r.status_code == 201, r.text
    assert k.art.delete(f"/api/data/entities/{r.json()['id']}").status_code == 204
    r = k.art.post("/api/data/entities", json={"name": "e2-new", "project_id": k.p2, "entity_type_id": k.etype})
    assert r.status_code == 403, r.text


def test_kitsu_manager_who_is_user_on_one_project(kitsu):
    k = kitsu
    assert k.boss.get(f"/api/data/entities/{k.e1[1]}").status_code == 200
    assert k.boss.put(f"/api/data/entities/{k.e1[1]}", json={"description": "no"}).status_code == 403
    assert k.boss.delete(f"/api/data/entities/{k.e1[1]}").status_code == 403
    r = k.boss.put(f"/api/data/entities/{k.e2[1]}", json={"description": "manager here"})
    assert r.status_code == 200, r.text


def test_kitsu_totals_and_override_rows_admin_only(kitsu):
    k = kitsu
    body = k.art.get(f"/api/data/entities?page=1&entity_type_id={k.etype}").json()
    assert body["total"] == 5
    body = k.art.get(f"/api/data/entities?page=1&limit=2&project_id={k.p1}").json()
    assert body["total"] == 3 and body["nb_pages"] == 2
    r = k.art.post("/api/data/project-person-links",
                   json={"project_id": k.p2, "person_id": k.people["art@k.io"], "role": "manager"})
    assert r.status_code == 403, r.text
    links = k.art.get("/api/data/project-person-links").json()
    assert sorted(link["role"] for link in links) == ["manager", "user"]


def test_kitsu_history_follows_the_row_scope(kitsu):
    """An entity's kept versions are served only to callers who reach the
    entity: outsiders get the same 404 as for the row itself."""
    k = kitsu
    add_person(k.srv, "outsider@k.io", role="user", password=KPASS)
    out = Caller(k.srv, "outsider@k.io", login="/api/auth/login", password=KPASS)
    assert k.art.get(f"/api/data/entities/{k.e1[2]}/history").status_code == 200
    assert out.get(f"/api/data/entities/{k.e1[2]}").status_code == 404
    r = out.get(f"/api/data/entities/{k.e1[2]}/history")
    assert r.status_code == 404, r.text
    assert k.srv.get(f"/api/data/entities/{k.e1[2]}/history").status_code == 200  # the admin
