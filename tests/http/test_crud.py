"""CRUD, row shape, list/filter/paging, conflicts, key conventions."""
import itertools
import threading
import time
import uuid

import pytest
import requests

from harness import (DATE_RE, DATETIME_RE, PERSON_KEYS, PROJECT_KEYS, TASK_KEYS, UUID_RE,
                     detail_of, problem, validation)

_seq = itertools.count(1)


def uniq(prefix="x"):
    return f"{prefix}{next(_seq)}-{uuid.uuid4().hex[:8]}"


def person(demo, **kw):
    body = {"email": f"{uniq('p')}@example.com", "full_name": "Pat Doe"}
    body.update(kw)
    return demo.create("persons", body)


def project(demo, **kw):
    body = {"name": uniq("proj")}
    body.update(kw)
    return demo.create("projects", body)


def task(demo, project_id, **kw):
    body = {"title": uniq("t"), "project": project_id}
    body.update(kw)
    return demo.create("tasks", body)


def check_row_meta(row, keys):
    assert list(row.keys()) == keys, f"row keys/order {list(row.keys())} != {keys}"
    assert UUID_RE.match(row["id"]), row["id"]
    assert DATETIME_RE.match(row["created_at"]), row["created_at"]
    assert DATETIME_RE.match(row["updated_at"]), row["updated_at"]


# -- create / read ------------------------------------------------------------

def test_post_person_defaults_location_and_shape(demo):
    email = f"{uniq('ann')}@example.com"
    r = demo.post("persons", json={"email": email, "full_name": "Ann Example"})
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"].split(";")[0].strip() == "application/json"
    row = r.json()
    check_row_meta(row, PERSON_KEYS)
    assert row["email"] == email
    assert row["full_name"] == "Ann Example"
    assert row["role"] == "user"
    assert row["active"] is True
    # Location: the contract says "{base_path}/{route}/{id}"; an absolute URL
    # with that path is equally valid HTTP, so accept both forms.
    loc = r.headers.get("Location")
    assert loc in (f"/api/persons/{row['id']}", f"{demo.url}/api/persons/{row['id']}"), loc
    g = demo.get(f"persons/{row['id']}")
    assert g.status_code == 200
    assert g.json() == row


def test_post_project_all_fields_round_trip(demo):
    owner = person(demo)
    m1, m2 = person(demo), person(demo)
    ext = str(uuid.uuid4())
    settings = {"a": [1, 2.5, None, True, "x"], "b": {"c": "é ✓ 😀"}, "n": -7}
    body = {
        "name": uniq("Full"), "code": "ABC1", "description": "line1\nline2 — ünïcode 😀",
        "budget": 1234.5, "priority": 2, "status": "closed", "owner": owner["id"],
        "members": [m1["id"], m2["id"]], "starts_on": "2026-03-01",
        "due_at": "2026-03-01T14:05:09+02:00", "settings": settings, "archived": True,
        "external_id": ext,
    }
    r = demo.post("projects", json=body)
    assert r.status_code == 201, r.text
    row = r.json()
    check_row_meta(row, PROJECT_KEYS)
    for k in ("name", "code", "description", "budget", "priority", "status", "owner",
              "starts_on", "settings", "archived", "external_id"):
        assert row[k] == body[k], (k, row[k], body[k])
    # ref_list order: the contract does not say; compare as sets.
    assert sorted(row["members"]) == sorted([m1["id"], m2["id"]])
    assert row["due_at"] == "2026-03-01T12:05:09.000000Z"
    assert demo.get(f"projects/{row['id']}").json() == row


def test_optional_fields_present_as_null(demo):
    row = project(demo)
    check_row_meta(row, PROJECT_KEYS)
    for k in ("code", "description", "budget", "owner", "starts_on", "due_at", "settings",
              "external_id"):
        assert k in row and row[k] is None, (k, row)
    # An empty ref_list: "[]" or null are both readings of "no value".
    assert row["members"] in ([], None)
    assert row["priority"] == 3
    assert row["status"] == "open"
    assert row["archived"] is False


def test_task_defaults_and_refs(demo):
    p = project(demo)
    a = person(demo)
    t = task(demo, p["id"], assignee=a["id"])
    check_row_meta(t, TASK_KEYS)
    assert t["project"] == p["id"] and t["assignee"] == a["id"] and t["done"] is False


@pytest.mark.parametrize("value", [
    0, -1, 12345678901, 1.25, "str", "", True, False, [], {}, [1, [2, [3]]],
    {"k": {"nested": [None, {"x": "y"}]}}, "\u00e9\u2603\U0001F600", "quote\" back\\slash"])
def test_json_field_round_trips_any_value(demo, value):
    row = project(demo, settings=value)
    assert row["settings"] == value
    assert type(row["settings"]) is type(value)
    assert demo.get(f"projects/{row['id']}").json()["settings"] == value


def test_datetime_offsets_converted_to_utc(demo):
    cases = {
        "2026-03-01T00:30:00-05:00": "2026-03-01T05:30:00.000000Z",
        "2026-01-01T01:00:00.5+02:00": "2025-12-31T23:00:00.500000Z",
        "2026-03-01T14:05:09.123456Z": "2026-03-01T14:05:09.123456Z",
    }
    for given, want in cases.items():
        row = project(demo, due_at=given)
        assert row["due_at"] == want, (given, row["due_at"])


def test_ids_and_timestamps_in_body_are_ignored(demo):
    fake = "00000000-0000-4000-8000-000000000000"
    r = demo.post("persons", json={"id": fake, "email": f"{uniq('ig')}@x.org", "full_name": "I",
                                   "created_at": "2000-01-01T00:00:00.000000Z",
                                   "updated_at": "2000-01-01T00:00:00.000000Z"})
    assert r.status_code == 201, r.text
    row = r.json()
    assert row["id"] != fake
    assert not row["created_at"].startswith("2000-")
    assert not row["updated_at"].startswith("2000-")
    assert demo.get(f"persons/{fake}").status_code == 404


def test_ids_are_unique_lowercase(demo):
    ids = {person(demo)["id"] for _ in range(10)}
    assert len(ids) == 10
    assert all(UUID_RE.match(i) for i in ids)


def test_uuid_path_case_insensitive_or_404(demo):
    # Reading: an upper-case spelling of an existing id is either the same
    # row or 404, never a 5xx or another row.
    p = person(demo)
    r = demo.get(f"persons/{p['id'].upper()}")
    assert r.status_code in (200, 404), r.text
    if r.status_code == 200:
        assert r.json()["id"] == p["id"]


# -- update ---------------------------------------------------------------------

def test_put_replaces_whole_row(demo):
    owner = person(demo)
    row = project(demo, description="d", budget=10, priority=5, status="closed",
                  owner=owner["id"], code="AB", settings={"a": 1}, archived=True)
    time.sleep(0.01)
    new_name = uniq("Put")
    r = demo.put(f"projects/{row['id']}", json={"name": new_name})
    assert r.status_code == 200, r.text
    got = r.json()
    check_row_meta(got, PROJECT_KEYS)
    assert got["id"] == row["id"]
    assert got["name"] == new_name
    for k in ("code", "description", "budget", "owner", "settings", "starts_on", "due_at"):
        assert got[k] is None, (k, got)
    assert got["priority"] == 3 and got["status"] == "open" and got["archived"] is False
    assert got["members"] in ([], None)
    assert got["created_at"] == row["created_at"]
    assert got["updated_at"] != row["updated_at"] and got["updated_at"] > row["updated_at"]
    assert demo.get(f"projects/{row['id']}").json() == got


def test_put_requires_required_fields(demo):
    row = project(demo)
    errs = validation(demo.put(f"projects/{row['id']}", json={"priority": 2}), demo)
    assert set(errs) == {"name"}, errs
    assert demo.get(f"projects/{row['id']}").json() == row


def test_put_ignores_id_in_body(demo):
    row = person(demo)
    other = str(uuid.uuid4())
    r = demo.put(f"persons/{row['id']}", json={"id": other, "email": row["email"],
                                               "full_name": "Changed"})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == row["id"]
    assert demo.get(f"persons/{other}").status_code == 404


def test_patch_changes_only_given_keys(demo):
    owner = person(demo)
    row = project(demo, description="keep me", budget=5.5, owner=owner["id"], code="KEEP")
    time.sleep(0.01)
    r = demo.patch(f"projects/{row['id']}", json={"priority": 1, "status": "closed"})
    assert r.status_code == 200, r.text
    got = r.json()
    expect = dict(row, priority=1, status="closed")
    for k in PROJECT_KEYS:
        if k != "updated_at":
            assert got[k] == expect[k], (k, got[k], expect[k])
    assert got["updated_at"] > row["updated_at"]
    assert got["created_at"] == row["created_at"]


def test_patch_null_clears_optional_field(demo):
    row = project(demo, description="x", budget=3)
    r = demo.patch(f"projects/{row['id']}", json={"description": None})
    assert r.status_code == 200, r.text
    assert r.json()["description"] is None and r.json()["budget"] == 3


def test_patch_null_on_required_field_is_422(demo):
    row = project(demo)
    errs = validation(demo.patch(f"projects/{row['id']}", json={"name": None}), demo)
    assert set(errs) == {"name"}, errs
    assert demo.get(f"projects/{row['id']}").json()["name"] == row["name"]


def test_patch_empty_object_keeps_row(demo):
    row = person(demo)
    r = demo.patch(f"persons/{row['id']}", json={})
    assert r.status_code == 200, r.text
    got = r.json()
    assert {k: v for k, v in got.items() if k != "updated_at"} == \
           {k: v for k, v in row.items() if k != "updated_at"}


def test_patch_members_replaces_list(demo):
    a, b, c = person(demo), person(demo), person(demo)
    row = project(demo, members=[a["id"], b["id"]])
    r = demo.patch(f"projects/{row['id']}", json={"members": [c["id"]]})
    assert r.status_code == 200, r.text
    assert r.json()["members"] == [c["id"]]
    # b is no longer referenced and can be deleted; c is.
    assert demo.delete(f"persons/{b['id']}").status_code == 204
    problem(demo.delete(f"persons/{c['id']}"), 409, demo)


def test_validation_errors_leave_row_unchanged(demo):
    row = project(demo, priority=4)
    errs = validation(demo.patch(f"projects/{row['id']}",
                                 json={"priority": 2, "budget": -1}), demo)
    assert set(errs) == {"budget"}, errs
    assert demo.get(f"projects/{row['id']}").json() == row


# -- delete ---------------------------------------------------------------------

def test_delete_then_404(demo):
    row = person(demo)
    r = demo.delete(f"persons/{row['id']}")
    assert r.status_code == 204
    assert r.content == b""
    problem(demo.get(f"persons/{row['id']}"), 404, demo)
    problem(demo.delete(f"persons/{row['id']}"), 404, demo)
    problem(demo.patch(f"persons/{row['id']}", json={"full_name": "x"}), 404, demo)
    problem(demo.put(f"persons/{row['id']}", json={"email": "a@b.c", "full_name": "x"}), 404, demo)


def test_delete_project_with_tasks_is_409_and_kept(demo):
    p = project(demo)
    t = task(demo, p["id"])
    body = problem(demo.delete(f"projects/{p['id']}"), 409, demo)
    detail_of(body)
    assert demo.get(f"projects/{p['id']}").status_code == 200
    assert demo.get(f"tasks/{t['id']}").json() == t
    assert demo.delete(f"tasks/{t['id']}").status_code == 204
    assert demo.delete(f"projects/{p['id']}").status_code == 204


def test_delete_person_in_members_is_409_and_kept(demo):
    a = person(demo)
    p = project(demo, members=[a["id"]])
    problem(demo.delete(f"persons/{a['id']}"), 409, demo)
    assert demo.get(f"persons/{a['id']}").json() == a
    assert demo.get(f"projects/{p['id']}").json()["members"] == [a["id"]]


def test_delete_person_who_owns_project_is_409(demo):
    # Reading: a plain ref ("owner") protects its target like task.project does.
    a = person(demo)
    project(demo, owner=a["id"])
    problem(demo.delete(f"persons/{a['id']}"), 409, demo)
    assert demo.get(f"persons/{a['id']}").status_code == 200


def test_delete_person_assigned_to_task_is_409(demo):
    a = person(demo)
    p = project(demo)
    task(demo, p["id"], assignee=a["id"])
    problem(demo.delete(f"persons/{a['id']}"), 409, demo)
    assert demo.get(f"persons/{a['id']}").status_code == 200


# -- conflicts --------------------------------------------------------------------

def test_unique_email_409_names_field(demo):
    a = person(demo)
    r = demo.post("persons", json={"email": a["email"], "full_name": "Dup"})
    d = detail_of(problem(r, 409, demo))
    assert "email" in d, d
    # The same through PATCH and PUT on another row.
    b = person(demo)
    d = detail_of(problem(demo.patch(f"persons/{b['id']}", json={"email": a["email"]}), 409, demo))
    assert "email" in d, d
    d = detail_of(problem(demo.put(f"persons/{b['id']}",
                                   json={"email": a["email"], "full_name": "B"}), 409, demo))
    assert "email" in d, d
    assert demo.get(f"persons/{b['id']}").json() == b


def test_unique_project_name_409(demo):
    p = project(demo)
    d = detail_of(problem(demo.post("projects", json={"name": p["name"]}), 409, demo))
    assert "name" in d, d


def test_patch_same_unique_value_on_same_row_ok(demo):
    a = person(demo)
    r = demo.patch(f"persons/{a['id']}", json={"email": a["email"], "full_name": "Same"})
    assert r.status_code == 200, r.text


def test_ref_to_missing_row_409_names_field(demo):
    missing = str(uuid.uuid4())
    r = demo.post("tasks", json={"title": "orphan", "project": missing})
    d = detail_of(problem(r, 409, demo))
    assert "project" in d, d
    p = project(demo)
    r = demo.post("tasks", json={"title": "x", "project": p["id"], "assignee": missing})
    d = detail_of(problem(r, 409, demo))
    assert "assignee" in d, d


def test_ref_list_to_missing_row_409_names_field(demo):
    a = person(demo)
    r = demo.post("projects", json={"name": uniq("m"), "members": [a["id"], str(uuid.uuid4())]})
    d = detail_of(problem(r, 409, demo))
    assert "members" in d, d


def test_ref_to_wrong_model_409(demo):
    # A person id is not a project id.
    a = person(demo)
    r = demo.post("tasks", json={"title": "x", "project": a["id"]})
    d = detail_of(problem(r, 409, demo))
    assert "project" in d, d


def test_failed_create_leaves_nothing(demo):
    p = project(demo)
    before = demo.get(f"tasks?project={p['id']}").json()
    demo.post("tasks", json={"title": "x", "project": p["id"], "assignee": str(uuid.uuid4())})
    assert demo.get(f"tasks?project={p['id']}").json() == before


# -- list / filter / paging -----------------------------------------------------------

def test_list_in_creation_order_and_filters(demo):
    p = project(demo)
    a = person(demo)
    ts = [task(demo, p["id"], done=(i % 2 == 0), assignee=a["id"] if i < 2 else None)
          for i in range(5)]
    r = demo.get("tasks", params={"project": p["id"]})
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0].strip() == "application/json"
    assert r.json() == ts
    assert demo.get("tasks", params={"project": p["id"], "done": "true"}).json() == \
        [t for t in ts if t["done"]]
    assert demo.get("tasks", params={"project": p["id"], "done": "false"}).json() == \
        [t for t in ts if not t["done"]]
    assert demo.get("tasks", params={"assignee": a["id"]}).json() == ts[:2]
    assert demo.get("tasks", params={"title": ts[3]["title"]}).json() == [ts[3]]
    assert demo.get("tasks", params={"project": p["id"], "limit": 2}).json() == ts[:2]
    assert demo.get("tasks", params={"project": p["id"], "limit": 2, "offset": 2}).json() == ts[2:4]
    assert demo.get("tasks", params={"project": p["id"], "offset": 4}).json() == ts[4:]
    assert demo.get("tasks", params={"project": p["id"], "offset": 5}).json() == []
    assert demo.get("tasks", params={"project": p["id"], "offset": 1000000}).json() == []


def test_list_orders_by_created_at_then_id(demo):
    p = project(demo)
    ts = [task(demo, p["id"]) for _ in range(8)]
    got = demo.get("tasks", params={"project": p["id"]}).json()
    keys = [(t["created_at"], t["id"]) for t in got]
    assert keys == sorted(keys)
    assert [t["id"] for t in got] == [t["id"] for t in ts]


def test_filter_scalar_types(demo):
    tag = uniq("F")
    o = person(demo)
    a = project(demo, name=tag + "a", budget=12.5, priority=1, status="closed", owner=o["id"],
                starts_on="2026-05-04", archived=True, code="FA")
    b = project(demo, name=tag + "b", budget=99, priority=5, code="FB")
    assert demo.get("projects", params={"name": tag + "a"}).json() == [a]
    assert demo.get("projects", params={"owner": o["id"]}).json() == [a]
    assert demo.get("projects", params={"code": "FB"}).json()[-1] == b
    for params in ({"budget": "12.5"}, {"priority": "1"}, {"status": "closed"},
                   {"starts_on": "2026-05-04"}, {"archived": "true"}):
        got = demo.get("projects", params=dict(params, name=tag + "a"))
        assert got.status_code == 200, (params, got.text)
        assert got.json() == [a], params
        got = demo.get("projects", params=dict(params, name=tag + "b"))
        assert got.json() == [], params
    assert demo.get("projects", params={"priority": "5", "name": tag + "b"}).json() == [b]
    assert demo.get("projects", params={"budget": "99", "name": tag + "b"}).json() == [b]


def test_filter_values_are_data_not_sql(demo):
    for v in ("' OR '1'='1", "x\" OR 1=1 --", "%", "_", "*", "a'||'b", "\\"):
        r = demo.get("persons", params={"email": v})
        assert r.status_code == 200, (v, r.text)
        assert r.json() == [], v
    p = person(demo, full_name="100% _real_")
    assert demo.get("persons", params={"full_name": "100% _real_",
                                       "email": p["email"]}).json() == [p]
    assert demo.get("persons", params={"full_name": "100%"}).json() == []


def test_default_limit_100_max_1000(demo):
    p = project(demo)
    ids = [task(demo, p["id"])["id"] for _ in range(105)]
    got = demo.get("tasks", params={"project": p["id"]}).json()
    assert [t["id"] for t in got] == ids[:100]
    got = demo.get("tasks", params={"project": p["id"], "limit": 1000}).json()
    assert [t["id"] for t in got] == ids
    got = demo.get("tasks", params={"project": p["id"], "limit": 1, "offset": 104}).json()
    assert [t["id"] for t in got] == ids[104:]


@pytest.mark.parametrize("param,value", [
    ("limit", "0"), ("limit", "1001"), ("limit", "-1"), ("limit", "abc"), ("limit", ""),
    ("limit", "1.5"), ("limit", "99999999999999999999999"), ("offset", "-1"), ("offset", "x"),
    ("offset", "1e3"), ("bogus", "1"), ("priority", "abc"), ("priority", "1.5"),
    ("budget", "cheap"), ("archived", "maybe"), ("archived", "2"), ("status", "bogus"),
    ("owner", "not-a-uuid"), ("starts_on", "2026-02-30"), ("due_at", "yesterday"),
    ("members", "not-a-uuid"), ("settings", "{}"),
])
def test_bad_list_parameter_is_400_naming_it(demo, param, value):
    # Reading: members (ref_list) and settings (json) are not scalar fields,
    # so they are not filterable and count as unknown parameters.
    r = demo.get("projects", params={param: value})
    d = detail_of(problem(r, 400, demo))
    assert param in d, d


def test_unknown_filter_param_is_400(demo):
    r = demo.get("persons", params={"password": "x"})
    assert "password" in detail_of(problem(r, 400, demo))


def test_limit_bounds_accepted(demo):
    for v in ("1", "1000"):
        r = demo.get("persons", params={"limit": v})
        assert r.status_code == 200, (v, r.text)
        assert len(r.json()) <= int(v)
    assert demo.get("persons", params={"offset": "0"}).status_code == 200


# -- concurrency -------------------------------------------------------------------------

def test_64_concurrent_posts(demo):
    p = project(demo)
    results = [None] * 64
    barrier = threading.Barrier(64)

    def worker(i):
        try:
            barrier.wait(timeout=10)
            r = requests.post(demo.base + "/tasks", json={"title": f"c{i}", "project": p["id"]},
                              timeout=30)
            results[i] = (r.status_code, r.json() if r.status_code == 201 else r.text)
        except Exception as e:  # noqa: BLE001
            results[i] = ("exc", repr(e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    bad = [(i, r) for i, r in enumerate(results) if r is None or r[0] != 201]
    assert not bad, bad[:5]
    ids = {r[1]["id"] for r in results}
    assert len(ids) == 64
    listed = demo.get("tasks", params={"project": p["id"], "limit": 1000}).json()
    assert {t["id"] for t in listed} == ids
    assert len(listed) == 64
    assert sorted(t["title"] for t in listed) == sorted(f"c{i}" for i in range(64))


# -- conventions -----------------------------------------------------------------------------

CAMEL_APP = """\
app:
  name: camelapp
  base_path: /v1
  health_path: /healthz
  conventions: {payload_keys: camel, error_keys: camel, dates: iso8601, errors: problem}
models:
  person:
    route: people
    fields:
      full_name: {type: string, required: true}
      starts_on: {type: date}
      is_lead: {type: boolean, default: false}
"""

PASCAL_APP = CAMEL_APP.replace("camelapp", "pascalapp").replace(
    "payload_keys: camel, error_keys: camel", "payload_keys: pascal, error_keys: pascal")

MIXED_APP = CAMEL_APP.replace("camelapp", "mixedapp").replace(
    "payload_keys: camel, error_keys: camel", "payload_keys: camel, error_keys: snake")


def test_camel_case_payload_and_error_keys(module_server):
    srv = module_server(CAMEL_APP)
    r = srv.post("people", json={"fullName": "Cam El", "startsOn": "2026-01-02"})
    assert r.status_code == 201, r.text
    row = r.json()
    assert row["fullName"] == "Cam El" and row["startsOn"] == "2026-01-02"
    assert row["isLead"] is False
    assert "full_name" not in row and "starts_on" not in row
    # Reading: the key convention applies to the server's keys too.
    assert list(row.keys()) == ["id", "fullName", "startsOn", "isLead", "createdAt", "updatedAt"]
    assert r.headers["Location"].endswith(f"/v1/people/{row['id']}")
    # Snake keys are unknown fields in a camel app.
    errs = validation(srv.post("people", json={"full_name": "x"}), srv)
    assert set(errs) == {"fullName", "full_name"}, errs
    errs = validation(srv.post("people", json={"fullName": 3, "startsOn": "x"}), srv)
    assert set(errs) == {"fullName", "startsOn"}, errs
    assert srv.get("people", params={"isLead": "false"}).json() == [row]


def test_pascal_case_payload_keys(module_server):
    srv = module_server(PASCAL_APP)
    r = srv.post("people", json={"FullName": "Pas Cal", "StartsOn": "2026-01-02"})
    assert r.status_code == 201, r.text
    row = r.json()
    assert row["FullName"] == "Pas Cal" and row["StartsOn"] == "2026-01-02" and row["IsLead"] is False
    errs = validation(srv.post("people", json={"StartsOn": "2026-02-30"}), srv)
    assert set(errs) == {"FullName", "StartsOn"}, errs


def test_error_keys_independent_of_payload_keys(module_server):
    srv = module_server(MIXED_APP)
    errs = validation(srv.post("people", json={"startsOn": "nope"}), srv)
    assert set(errs) == {"full_name", "starts_on"}, errs


READONLY_APP = """\
app:
  name: roapp
  base_path: /api
  health_path: /health
models:
  ticket:
    route: tickets
    fields:
      title: {type: string, required: true}
      state: {type: string, read_only: true, default: new}
      note: {type: string}
"""


def test_read_only_field(module_server):
    srv = module_server(READONLY_APP)
    row = srv.create("tickets", {"title": "a"})
    assert row["state"] == "new" and row["note"] is None
    errs = validation(srv.post("tickets", json={"title": "b", "state": "done"}), srv)
    assert set(errs) == {"state"}, errs
    errs = validation(srv.patch(f"tickets/{row['id']}", json={"state": "done"}), srv)
    assert set(errs) == {"state"}, errs
    errs = validation(srv.put(f"tickets/{row['id']}", json={"title": "c", "state": "x"}), srv)
    assert set(errs) == {"state"}, errs
    assert srv.get(f"tickets/{row['id']}").json() == row


def test_no_base_path_string_default_max_length(module_server):
    app = READONLY_APP.replace("  base_path: /api\n", "").replace("roapp", "nobase")
    srv = module_server(app)
    ok = srv.post("/tickets", json={"title": "x" * 255})
    assert ok.status_code == 201, ok.text
    assert ok.json()["title"] == "x" * 255
    errs = validation(srv.post("/tickets", json={"title": "x" * 256}), srv)
    assert set(errs) == {"title"}, errs
