"""Zou-compatible writes and error documents, as app-file switches:
errors: zou (400s with Zou's messages, "Malformed ID."), put: merge,
create_only, conventions.ref_lists: lenient, computed fields (concat), and
Zou's delete conflicts. apps/kitsu uses them all; small apps check each key
alone, that the defaults stay strict, and that bad app files are refused
with file:line:col."""
import itertools
import re
import subprocess
import uuid

import pytest

from harness import UUID_RE, problem, restd_bin, sanitizer_env, validation
from kitsu_helpers import kitsu_server

_seq = itertools.count(1)


def uniq(prefix="x"):
    return f"{prefix}{next(_seq)}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def kitsu(module_server):
    return kitsu_server(module_server)


def zou_error(r, status, message=None):
    """Assert a Zou error document; return it."""
    assert r.status_code == status, (r.request.method, r.request.url, r.status_code, r.text)
    assert r.headers["Content-Type"].split(";")[0].strip() == "application/json", r.headers
    body = r.json()
    assert body["error"] is True, body
    assert isinstance(body["message"], str) and body["message"], body
    if message is not None:
        assert body["message"] == message, body
    for leak in ("SQLITE", "sqlite", "constraint failed", "UNIQUE constraint"):
        assert leak not in r.text, r.text
    return body


def zou_validation(r):
    """A Zou 400 validation error; returns {field: message}."""
    body = zou_error(r, 400, "Validation error.")
    errs = body["data"]["errors"]
    assert isinstance(errs, list) and errs, body
    for e in errs:
        assert set(e) == {"field", "message"}, e
        assert isinstance(e["message"], str) and e["message"], e
    return {e["field"]: e["message"] for e in errs}


def person(srv, **kw):
    body = {"first_name": "Ada", "last_name": uniq("L"), "email": f"{uniq('p')}@example.com"}
    body.update(kw)
    return srv.create("persons", body)


def project(srv, **kw):
    body = {"name": uniq("Proj")}
    body.update(kw)
    return srv.create("projects", body)


# -- 1. error mapping --------------------------------------------------------

def test_validation_is_400_with_field_list(kitsu):
    errs = zou_validation(kitsu.post("task-status", json={"name": "x"}))
    assert {"short_name", "color"} <= set(errs), errs
    assert "required" in errs["short_name"], errs
    # A bad enum value and a bad type, both reported.
    errs = zou_validation(kitsu.post("persons", json={"first_name": "a", "last_name": "b",
                                                      "role": "boss", "active": "yes"}))
    assert {"role", "active"} <= set(errs), errs


def test_unique_conflict_is_400_with_zou_message(kitsu):
    name = uniq("Dup")
    project(kitsu, name=name)
    zou_error(kitsu.post("projects", json={"name": name}), 400,
              "A record with the same unique values already exists.")
    # The same on another model and through a PUT.
    body = {"name": uniq("Dep"), "color": "#000000"}
    kitsu.create("departments", body)
    other = kitsu.create("departments", {"name": uniq("Dep"), "color": "#000000"})
    zou_error(kitsu.put(f"departments/{other['id']}", json={"name": body["name"]}), 400,
              "A record with the same unique values already exists.")


def test_missing_reference_is_400(kitsu):
    bogus = str(uuid.uuid4())
    body = zou_error(kitsu.post("projects", json={"name": uniq("P"), "project_status_id": bogus}), 400)
    assert body["message"].startswith("A referenced record does not exist"), body
    assert "project_status_id" in body["message"] and bogus in body["message"], body


def test_malformed_id_is_400_and_missing_row_404(kitsu):
    for method in ("GET", "PUT", "DELETE"):
        kw = {"json": {"name": "x"}} if method == "PUT" else {}
        zou_error(kitsu.request(method, "projects/not-a-uuid", **kw), 400, "Malformed ID.")
        zou_error(kitsu.request(method, "projects/1234", **kw), 400, "Malformed ID.")
    zou_error(kitsu.get(f"projects/{uuid.uuid4()}"), 404)
    zou_error(kitsu.put(f"projects/{uuid.uuid4()}", json={"fps": "24"}), 404)
    zou_error(kitsu.delete(f"projects/{uuid.uuid4()}"), 404)


def test_other_statuses_keep_zou_shape(kitsu):
    zou_error(kitsu.get("no-such-route"), 404)
    r = kitsu.request("PATCH", "projects")  # collection: GET, HEAD, POST only
    zou_error(r, 405)
    zou_error(kitsu.get("projects", headers={"Accept": "text/html"}), 400)


@pytest.mark.parametrize("kw", [
    {},                                                          # no body, no Content-Type
    {"data": b"", "headers": {"Content-Type": "application/json"}},
    {"data": b"{", "headers": {"Content-Type": "application/json"}},
    {"data": b"name=x", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
])
def test_missing_or_bad_body_is_400(kitsu, kw):
    zou_error(kitsu.post("projects", **kw), 400)
    p = project(kitsu)
    zou_error(kitsu.put(f"projects/{p['id']}", **kw), 400)


@pytest.mark.parametrize("body", [b"[]", b'"x"', b"1", b"null", b'[{"name": "a"}]'])
def test_non_object_body_is_400(kitsu, body):
    zou_validation(kitsu.post("projects", data=body, headers={"Content-Type": "application/json"}))


# -- 2. POST strictness, PUT merge ----------------------------------------------

def test_post_unknown_key_names_it(kitsu):
    r = kitsu.post("projects", json={"name": uniq("P"), "x": 1})
    zou_error(r, 400, "'x' is an invalid keyword argument for project")
    r = kitsu.post("projects", json={"name": uniq("P"), "type": "Project"})
    zou_error(r, 400, "'type' is an invalid keyword argument for project")
    # Nothing was written.
    assert kitsu.get("projects", params={"name": "x"}).json() == []


def test_post_strips_server_keys(kitsu):
    chosen = str(uuid.uuid4())
    body = {"name": uniq("P"), "id": chosen, "created_at": "2001-01-01T00:00:00",
            "updated_at": "2001-01-01T00:00:00"}
    r = kitsu.post("projects", json=body)
    assert r.status_code == 201, r.text
    row = r.json()
    assert UUID_RE.match(row["id"]) and row["id"] != chosen, row
    assert not row["created_at"].startswith("2001"), row
    zou_error(kitsu.get(f"projects/{chosen}"), 404)


def test_put_is_a_partial_update(kitsu):
    p = project(kitsu, fps="30", ratio="4:3")
    r = kitsu.put(f"projects/{p['id']}", json={"fps": "24"})
    assert r.status_code == 200, r.text
    upd = r.json()
    assert upd["fps"] == "24" and upd["ratio"] == "4:3" and upd["name"] == p["name"], upd
    assert kitsu.get(f"projects/{p['id']}").json() == upd
    # An empty object changes nothing but the update stamp.
    r = kitsu.put(f"projects/{p['id']}", json={})
    assert r.status_code == 200, r.text
    assert r.json()["fps"] == "24"


def test_put_ignores_unknown_and_protected_keys(kitsu):
    p = project(kitsu)
    other = project(kitsu)
    got = kitsu.get(f"projects/{p['id']}").json()
    sent = dict(got, type="Project", relations=True, nonsense={"a": 1}, fps="12",
                id=other["id"], created_at="2001-01-01T00:00:00", updated_at="2001-01-01T00:00:00")
    r = kitsu.put(f"projects/{p['id']}", json=sent)
    assert r.status_code == 200, r.text
    upd = r.json()
    assert upd["id"] == p["id"] and upd["fps"] == "12", upd
    assert upd["created_at"] == got["created_at"], upd
    assert "type" not in upd or upd["type"] == "Project", upd
    assert kitsu.get(f"projects/{other['id']}").json()["fps"] == other["fps"]


def test_put_still_validates_the_fields_it_takes(kitsu):
    p = project(kitsu)
    errs = zou_validation(kitsu.put(f"projects/{p['id']}", json={"production_style": "oil", "type": "P"}))
    assert set(errs) == {"production_style"}, errs
    errs = zou_validation(kitsu.put(f"projects/{p['id']}", json={"name": None}))
    assert "name" in errs, errs
    assert kitsu.get(f"projects/{p['id']}").json()["production_style"] == p["production_style"]


def test_create_only_keys_are_set_on_post_and_ignored_on_put(kitsu):
    a, b = person(kitsu), person(kitsu)
    p1 = project(kitsu, team=[a["id"]])
    p2 = project(kitsu)
    assert p1["team"] == [a["id"]]
    # team (projects) is create-only.
    r = kitsu.put(f"projects/{p1['id']}", json={"team": [b["id"]], "fps": "50"})
    assert r.status_code == 200, r.text
    assert r.json()["team"] == [a["id"]] and r.json()["fps"] == "50"
    # project_id is create-only wherever a model has it.
    et = kitsu.create("entity-types", {"name": uniq("Char")})
    ent = kitsu.create("entities", {"name": "hero", "project_id": p1["id"], "entity_type_id": et["id"]})
    assert ent["project_id"] == p1["id"]
    r = kitsu.put(f"entities/{ent['id']}", json={"project_id": p2["id"], "description": "moved?"})
    assert r.status_code == 200, r.text
    assert r.json()["project_id"] == p1["id"] and r.json()["description"] == "moved?"
    # A create-only value is still checked on POST.
    zou_validation(kitsu.post("entities", json={"name": "x", "project_id": "nope",
                                                "entity_type_id": et["id"]}))


# -- 3. ref_list leniency ----------------------------------------------------------

def test_ref_list_accepts_objects_and_drops_unknown_ids(kitsu):
    a, b = person(kitsu), person(kitsu)
    ghost = str(uuid.uuid4())
    p = project(kitsu, team=[{"id": a["id"]}, b["id"], ghost, {"id": a["id"].upper()}])
    assert sorted(p["team"]) == sorted([a["id"], b["id"]]), p
    dept = kitsu.create("departments", {"name": uniq("Dep"), "color": "#000000"})
    c = person(kitsu, departments=[{"id": dept["id"], "name": dept["name"], "type": "Department"}])
    assert c["departments"] == [dept["id"]]
    r = kitsu.put(f"persons/{c['id']}", json={"departments": [ghost]})
    assert r.status_code == 200, r.text
    assert r.json()["departments"] == []


@pytest.mark.parametrize("bad", [["nope"], [{"name": "x"}], [{"id": 5}], [[]], "not-a-list",
                                 {"id": "x"}])
def test_ref_list_bad_items_still_refused(kitsu, bad):
    errs = zou_validation(kitsu.post("projects", json={"name": uniq("P"), "team": bad}))
    assert "team" in errs, errs


# -- 4. computed fields ---------------------------------------------------------------

def test_full_name_is_computed_filterable_and_sortable(kitsu):
    last = uniq("Lovelace")
    p = person(kitsu, first_name="Ada", last_name=last)
    assert p["full_name"] == f"Ada {last}", p
    r = kitsu.get("persons", params={"full_name": f"Ada {last}"})
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()] == [p["id"]]
    # It follows its parts.
    r = kitsu.put(f"persons/{p['id']}", json={"first_name": "Augusta"})
    assert r.status_code == 200 and r.json()["full_name"] == f"Augusta {last}", r.text
    # A client value is ignored on PUT (merge), refused on POST.
    r = kitsu.put(f"persons/{p['id']}", json={"full_name": "Someone Else"})
    assert r.status_code == 200 and r.json()["full_name"] == f"Augusta {last}", r.text
    errs = zou_validation(kitsu.post("persons", json={"first_name": "a", "last_name": "b",
                                                      "full_name": "a b"}))
    assert "read-only" in errs["full_name"], errs


# -- 5. delete conflicts -------------------------------------------------------------

def test_delete_of_a_referenced_row_is_400(kitsu):
    status = kitsu.create("project-status", {"name": uniq("S")[:20], "color": "#00ff00"})
    p = project(kitsu, project_status_id=status["id"])
    body = zou_error(kitsu.delete(f"project-status/{status['id']}"), 400)
    assert "still refer" in body["message"] and "project.project_status_id" in body["message"], body
    a = person(kitsu)
    project(kitsu, team=[a["id"]])
    zou_error(kitsu.delete(f"persons/{a['id']}"), 400)
    assert kitsu.delete(f"projects/{p['id']}").status_code == 204
    assert kitsu.delete(f"project-status/{status['id']}").status_code == 204


# -- the keys in a small app, and the defaults ----------------------------------------

SMALL = """\
app:
  name: small
  base_path: /api
  conventions: {errors: problem}
models:
  member:
    route: members
    fields:
      first: {type: string, required: true}
      last: {type: string}
      age: {type: integer}
      label: {type: string, computed: {concat: ["<", first, "|", last, "|", age, ">"]}}
  group:
    route: groups
    put: merge
    fields:
      name: {type: string, required: true}
      owner: {type: ref, model: member, create_only: true}
      size: {type: integer, default: 1}
      members: {type: ref_list, model: member}
"""


@pytest.fixture(scope="module")
def small(module_server):
    return module_server(SMALL)


def test_computed_concat_with_null_parts_and_literals(small):
    m = small.create("members", {"first": "O'Brien"})
    assert m["label"] == "<O'Brien||>", m
    m2 = small.create("members", {"first": "a", "last": "b", "age": 7})
    assert m2["label"] == "<a|b|7>", m2
    r = small.get("members", params={"order_by": "-label", "label[like]": "<*"})
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()] == [m2["id"], m["id"]]
    # Strict PUT (replace): a client value for a computed field is refused.
    errs = validation(small.put(f"members/{m['id']}", json={"first": "z", "label": "x"}))
    assert "label" in errs, errs
    r = small.put(f"members/{m['id']}", json={"first": "z"})
    assert r.status_code == 200 and r.json()["label"] == "<z||>", r.text


def test_model_put_merge_and_create_only_in_problem_style(small):
    owner = small.create("members", {"first": "o"})
    other = small.create("members", {"first": "p"})
    g = small.create("groups", {"name": "g", "owner": owner["id"], "size": 3})
    r = small.put(f"groups/{g['id']}", json={"name": "h", "owner": other["id"], "type": "Group"})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "h" and r.json()["owner"] == owner["id"] and r.json()["size"] == 3
    # Members stay strict here: objects and unknown ids are refused.
    validation(small.put(f"groups/{g['id']}", json={"members": [{"id": owner["id"]}]}))
    r = small.put(f"groups/{g['id']}", json={"members": [str(uuid.uuid4())]})
    problem(r, 409)
    # Problem style keeps 404 for a malformed id, 409 for a referenced delete.
    problem(small.get("groups/not-a-uuid"), 404)
    problem(small.delete(f"members/{owner['id']}"), 409)
    # The other model still replaces on PUT: a missing required field is a 422.
    errs = validation(small.put(f"members/{other['id']}", json={"last": "x"}))
    assert "first" in errs, errs
    # And strict POST keeps listing unknown keys as validation errors.
    errs = validation(small.post("groups", json={"name": "x", "colour": "red"}))
    assert "colour" in errs, errs


def test_computed_field_added_to_a_table_with_rows(server):
    before = SMALL.replace(
        '      label: {type: string, computed: {concat: ["<", first, "|", last, "|", age, ">"]}}\n', "")
    srv = server(before)
    m = srv.create("members", {"first": "Ada", "last": "L"})
    assert "label" not in m
    srv.restart(SMALL)
    assert srv.get(f"members/{m['id']}").json()["label"] == "<Ada|L|>"
    # A changed expression rebuilds the column.
    srv.restart(SMALL.replace('["<", first, "|", last, "|", age, ">"]', '[last, ", ", first]'))
    assert srv.get(f"members/{m['id']}").json()["label"] == "L, Ada"
    # A computed field made stored keeps working (empty until written).
    srv.restart(SMALL.replace(
        '      label: {type: string, computed: {concat: ["<", first, "|", last, "|", age, ">"]}}\n',
        "      label: {type: string}\n"))
    assert srv.get(f"members/{m['id']}").json()["label"] is None
    r = srv.put(f"members/{m['id']}", json={"first": "Ada", "label": "kept"})
    assert r.status_code == 200 and r.json()["label"] == "kept", r.text


def test_computed_field_over_a_field_added_with_it(server):
    before = SMALL.replace(LABEL, "")
    srv = server(before)
    m = srv.create("members", {"first": "Ada"})
    # The computed field is declared before the new field it reads.
    srv.restart(before.replace("      age: {type: integer}\n",
                               "      age: {type: integer}\n"
                               "      tag: {type: string, computed: {concat: [first, \"'/\", nick]}}\n"
                               "      nick: {type: string, default: none}\n"))
    assert srv.get(f"members/{m['id']}").json()["tag"] == "Ada'/"
    r = srv.patch(f"members/{m['id']}", json={"nick": "A"})
    assert r.status_code == 200 and r.json()["tag"] == "Ada'/A", r.text
    assert [x["id"] for x in srv.get("members", params={"tag": "Ada'/A"}).json()] == [m["id"]]


def test_stored_field_made_computed_is_refused(server):
    stored = SMALL.replace(
        '      label: {type: string, computed: {concat: ["<", first, "|", last, "|", age, ">"]}}\n',
        "      label: {type: string}\n")
    srv = server(stored)
    srv.create("members", {"first": "a", "label": "precious"})
    srv.stop()
    srv.write_app(SMALL)
    srv.spawn()
    rc = srv.wait_exit(15)
    if rc is None:
        srv._hard_kill()
    srv._stopped = srv.proc  # its exit is checked here
    assert rc not in (None, 0), "serve started and would have dropped stored values"
    text = srv.stderr_text(run_only=True)
    assert "member" in text and "label" in text, text
    srv.write_app(stored)
    srv.start()
    assert srv.get("members").json()[0]["label"] == "precious"


def check(tmp_path, text):
    d = tmp_path / "app"
    d.mkdir(exist_ok=True)
    (d / "app.yaml").write_text(text)
    p = subprocess.run([restd_bin(), "check", "--app", str(d)], capture_output=True, text=True,
                       timeout=60, env=sanitizer_env())
    return p.returncode, p.stdout + p.stderr, f"{d}/app.yaml"


LABEL = '      label: {type: string, computed: {concat: ["<", first, "|", last, "|", age, ">"]}}\n'


@pytest.mark.parametrize("line,expect", [
    ('      label: {type: string, computed: {concat: [first, nobody]}}\n', "no field 'nobody'"),
    ('      label: {type: string, computed: {concat: [first, label]}}\n', "cannot be a part"),
    ('      label: {type: string, computed: {concat: ["a", "b"]}}\n', "at least one part must be a field"),
    ('      label: {type: string, computed: {concat: []}}\n', "between 1 and"),
    ('      label: {type: string, computed: {concat: first}}\n', "concat"),
    ('      label: {type: string, computed: {join: [first]}}\n', "join"),
    ('      label: {type: string, computed: [first]}\n', "computed"),
    ('      label: {type: integer, computed: {concat: [first]}}\n', "not allowed for type integer"),
    ('      label: {type: string, default: x, computed: {concat: [first]}}\n', "default cannot be given"),
    ('      label: {type: string, required: true, computed: {concat: [first]}}\n',
     "required cannot be given"),
    ('      label: {type: string, computed: {concat: [first, {a: 1}]}}\n', "concat"),
    ('      label: {type: string, computed: {concat: [first, "a\\0b"]}}\n', "NUL"),
    ('      label: {type: string, computed: {concat: [first, "' + "x" * 300 + '"]}}\n', "at most 255"),
])
def test_bad_computed_fields_are_refused_with_positions(tmp_path, line, expect):
    rc, out, path = check(tmp_path, SMALL.replace(LABEL, line))
    assert rc == 1, out
    assert re.search(re.escape(path) + r":12:\d+: ", out), out
    assert expect in out, out


@pytest.mark.parametrize("old,new,expect", [
    ("    put: merge\n", "    put: patch\n", "put must be one of replace, merge"),
    ("{errors: problem}", "{errors: problem, put: sometimes}", "put must be one of"),
    ("{errors: problem}", "{errors: problem, ref_lists: loose}", "ref_lists must be one of strict, lenient"),
    ("create_only: true", "create_only: maybe", "create_only"),
])
def test_bad_write_keys_are_refused(tmp_path, old, new, expect):
    assert old in SMALL
    rc, out, path = check(tmp_path, SMALL.replace(old, new))
    assert rc == 1, out
    assert re.search(re.escape(path) + r":\d+:\d+: ", out) and expect in out, out


def test_kitsu_app_checks(tmp_path):
    from kitsu_helpers import KITSU_DIR
    p = subprocess.run([restd_bin(), "check", "--app", str(KITSU_DIR)], capture_output=True, text=True,
                       timeout=60, env=sanitizer_env())
    assert p.returncode == 0, p.stdout + p.stderr


VERSIONED = """\
app:
  name: versioned
  base_path: /api
  versions: [1, 2]
  conventions: {put: merge}
models:
  doc:
    route: docs
    fields:
      title: {type: string, required: true}
      badge: {type: string, since: 2}
"""


def test_merge_ignores_fields_of_another_version(server):
    srv = server(VERSIONED)
    d = srv.create("docs", {"title": "t", "badge": "b"})
    v1 = {"X-Api-Version": "1"}
    r = srv.put(f"docs/{d['id']}", json={"title": "u", "badge": "changed"}, headers=v1)
    assert r.status_code == 200, r.text
    assert "badge" not in r.json() and r.json()["title"] == "u"
    assert srv.get(f"docs/{d['id']}").json()["badge"] == "b"
    r = srv.put(f"docs/{d['id']}", json={"badge": "new"})
    assert r.status_code == 200 and r.json()["badge"] == "new", r.text
    # PATCH keeps refusing a field of another version.
    validation(srv.patch(f"docs/{d['id']}", json={"badge": "x"}, headers=v1))
