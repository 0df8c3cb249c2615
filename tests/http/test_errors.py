"""Error contract: validation (422), malformed JSON (400), 404/405/409/413/415,
problem documents and what they must never contain."""
import json
import uuid

import pytest

from harness import (detail_of, http_request_bytes, problem, send_with_early_reply,
                     validation)

H_JSON = {"Content-Type": "application/json"}


def post_raw(srv, route, data, ctype="application/json"):
    headers = {"Content-Type": ctype} if ctype is not None else {}
    return srv.post(route, data=data, headers=headers)


@pytest.fixture(scope="module")
def ids(demo):
    """A person and a project to hang refs and item URLs on."""
    p = demo.create("persons", {"email": "errors-owner@example.com", "full_name": "Owner"})
    pr = demo.create("projects", {"name": "errors-project"})
    return {"person": p["id"], "project": pr["id"]}


# -- 422 validation --------------------------------------------------------------

def test_empty_object_reports_required_name(demo):
    errs = validation(demo.post("projects", json={}), demo)
    assert set(errs) == {"name"}, errs


def test_empty_object_reports_every_required_field(demo):
    errs = validation(demo.post("tasks", json={}), demo)
    assert set(errs) == {"title", "project"}, errs
    errs = validation(demo.post("persons", json={}), demo)
    assert set(errs) == {"email", "full_name"}, errs


def test_every_failing_field_is_reported(demo):
    r = demo.post("projects", json={"name": 5, "priority": 9, "code": "x", "bogus": 1})
    errs = validation(r, demo)
    assert set(errs) == {"name", "priority", "code", "bogus"}, errs


def test_many_failures_at_once(demo, ids):
    r = demo.post("projects", json={
        "name": "", "code": "lower", "budget": -0.5, "priority": 1.5, "status": "maybe",
        "owner": "nope", "members": "nope", "starts_on": "2026-02-30", "due_at": "soon",
        "archived": "yes", "external_id": "not-a-uuid", "x": None})
    errs = validation(r, demo)
    # name "" is a valid string of length 0 unless the server treats it as
    # missing; either way everything else must be listed.
    assert set(errs) - {"name"} == {"code", "budget", "priority", "status", "owner", "members",
                                    "starts_on", "due_at", "archived", "external_id", "x"}, errs


@pytest.mark.parametrize("field,value", [
    ("name", 5), ("name", True), ("name", ["a"]), ("name", {"a": 1}), ("name", None),
    ("name", "n" * 81),
    ("code", "x"), ("code", "ABCDEFGHI"), ("code", "1AB"), ("code", 12),
    ("description", 7),
    ("budget", "12"), ("budget", -1), ("budget", True),
    ("priority", "3"), ("priority", 1.5), ("priority", 0), ("priority", 6), ("priority", True),
    ("priority", 9223372036854775807),
    ("status", "maybe"), ("status", 1), ("status", "OPEN"),
    ("owner", "not-a-uuid"), ("owner", 5),
    ("members", "x"), ("members", [5]), ("members", ["not-a-uuid"]), ("members", {"a": 1}),
    ("starts_on", "2026-02-30"), ("starts_on", "2026-13-01"), ("starts_on", "2026-3-1"),
    ("starts_on", 20260301), ("starts_on", "2026-03-01T00:00:00Z"), ("starts_on", "2025-02-29"),
    ("due_at", "not a date"), ("due_at", "2026-02-30T10:00:00Z"), ("due_at", "2026-03-01T25:00:00Z"),
    ("due_at", 1700000000),
    ("archived", "yes"), ("archived", 1), ("archived", "true"), ("archived", 0),
    ("external_id", "1234"), ("external_id", 5), ("external_id", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"),
])
def test_wrong_value_is_422_naming_field(demo, field, value):
    body = {"name": f"wv-{uuid.uuid4().hex}"}
    body[field] = value
    errs = validation(demo.post("projects", json=body), demo)
    assert set(errs) == {field}, errs


@pytest.mark.parametrize("field,value", [
    ("code", "AB"), ("code", "Z1234567"), ("budget", 0), ("budget", 0.01), ("priority", 1),
    ("priority", 5), ("starts_on", "2024-02-29"), ("due_at", "2026-03-01T10:00:00Z"),
    ("description", ""), ("settings", None),
])
def test_boundary_values_accepted(demo, field, value):
    body = {"name": f"bv-{uuid.uuid4().hex}", field: value}
    r = demo.post("projects", json=body)
    assert r.status_code == 201, r.text
    if field != "due_at":
        assert r.json()[field] == value


def test_max_length_counts_characters(demo):
    # Reading: max_length is in characters, so 80 two-byte characters fit.
    r = demo.post("projects", json={"name": "é" * 80})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "é" * 80
    errs = validation(demo.post("projects", json={"name": "é" * 81}), demo)
    assert set(errs) == {"name"}


def test_long_string_within_body_limit_is_422(demo):
    errs = validation(demo.post("projects", json={"name": "n" * 60000}), demo)
    assert set(errs) == {"name"}, errs
    errs = validation(demo.post("persons", json={"email": "e" * 255 + "@x", "full_name": "f" * 121}),
                      demo)
    assert set(errs) == {"email", "full_name"}, errs


def test_unknown_fields_keyed_by_name(demo):
    errs = validation(demo.post("persons", json={"email": "uk@example.com", "full_name": "U",
                                                 "is_admin": True, "Email": "x"}), demo)
    assert set(errs) == {"is_admin", "Email"}, errs
    assert demo.get("persons", params={"email": "uk@example.com"}).json() == []


def test_unknown_field_in_patch_and_put(demo, ids):
    errs = validation(demo.patch(f"persons/{ids['person']}", json={"password_hash": "x"}), demo)
    assert set(errs) == {"password_hash"}
    errs = validation(demo.put(f"persons/{ids['person']}",
                               json={"email": "a@b.c", "full_name": "x", "role2": "admin"}), demo)
    assert set(errs) == {"role2"}


def test_patch_wrong_types_all_reported(demo, ids):
    errs = validation(demo.patch(f"projects/{ids['project']}",
                                 json={"priority": "high", "archived": "no", "budget": -3}), demo)
    assert set(errs) == {"priority", "archived", "budget"}, errs


@pytest.mark.parametrize("raw", [b"[]", b"[{\"name\": \"x\"}]", b"5", b"\"str\"", b"null", b"true"])
def test_body_not_an_object_is_422_dollar(demo, raw):
    errs = validation(post_raw(demo, "projects", raw), demo)
    assert "$" in errs, errs


def test_body_not_an_object_on_put_and_patch(demo, ids):
    errs = validation(demo.put(f"projects/{ids['project']}", data=b"[]", headers=H_JSON), demo)
    assert "$" in errs
    errs = validation(demo.patch(f"projects/{ids['project']}", data=b"[1]", headers=H_JSON), demo)
    assert "$" in errs


# -- 400 malformed JSON ----------------------------------------------------------------

def nested(depth):
    return b'{"name":"deep","settings":' + b"[" * depth + b"]" * depth + b"}"


MALFORMED = {
    "truncated": b'{"name": "a"',
    "truncated_string": b'{"name": "a',
    "trailing_garbage": b'{"name": "a"} x',
    "two_objects": b'{"name": "a"}{"name": "b"}',
    "invalid_utf8": b'{"name": "\xff\xfe"}',
    "overlong_utf8": b'{"name": "\xc0\xaf"}',
    "utf8_surrogate_bytes": b'{"name": "\xed\xa0\x80"}',
    "nul_escape": b'{"name": "a\\u0000b"}',
    "raw_nul": b'{"name": "a\x00b"}',
    "lone_surrogate_escape": b'{"name": "\\ud800"}',
    "duplicate_keys": b'{"name": "a", "name": "b"}',
    "duplicate_keys_nested": b'{"name": "a", "settings": {"k": 1, "k": 2}}',
    "deep_40": nested(40),
    "deep_5000": nested(5000),
    "int_beyond_64_bits": b'{"name": "a", "priority": 99999999999999999999}',
    "negative_int_beyond_64_bits": b'{"name": "a", "priority": -99999999999999999999}',
    "empty": b"",
    "whitespace_only": b"   \n ",
    "single_quotes": b"{'name': 'a'}",
    "trailing_comma": b'{"name": "a",}',
    "nan": b'{"name": "a", "budget": NaN}',
    "infinity": b'{"name": "a", "budget": Infinity}',
    "comment": b'{"name": "a" /* c */}',
    "bare_word": b"hello",
    "control_char_in_string": b'{"name": "a\x01b"}',
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_json_is_400(demo, case):
    r = post_raw(demo, "projects", MALFORMED[case])
    problem(r, 400, demo)


def test_malformed_json_on_put_and_patch(demo, ids):
    problem(demo.put(f"projects/{ids['project']}", data=b'{"name":', headers=H_JSON), 400, demo)
    problem(demo.patch(f"projects/{ids['project']}", data=b'{"a":1,"a":2}', headers=H_JSON), 400,
            demo)


def test_moderate_nesting_is_fine(demo):
    r = post_raw(demo, "projects", b'{"name":"nest20","settings":' + b"[" * 20 + b"]" * 20 + b"}")
    assert r.status_code == 201, r.text
    v = r.json()["settings"]
    depth = 0
    while isinstance(v, list):
        depth += 1
        v = v[0] if v else None
    assert depth == 20


def test_int64_edges(demo):
    # 2^63-1 is valid JSON for the parser, but over max 5 -> 422, not 400.
    errs = validation(post_raw(demo, "projects", b'{"name":"i64","priority":9223372036854775807}'),
                      demo)
    assert set(errs) == {"priority"}
    problem(post_raw(demo, "projects", b'{"name":"i64","priority":18446744073709551616}'), 400, demo)


def test_malformed_json_leaves_no_row(demo):
    post_raw(demo, "persons", b'{"email": "mal@example.com", "full_name": "M"} trailing')
    assert demo.get("persons", params={"email": "mal@example.com"}).json() == []


# -- 415 ---------------------------------------------------------------------------------

GOOD = json.dumps({"name": "ct"}).encode()


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   None, "multipart/form-data; boundary=x", "application/xml",
                                   "application/jsonx", "json"])
def test_non_json_content_type_is_415(demo, ctype, ids):
    problem(post_raw(demo, "projects", GOOD, ctype), 415, demo)
    problem(demo.put(f"projects/{ids['project']}", data=GOOD,
                     headers={"Content-Type": ctype} if ctype else {}), 415, demo)
    problem(demo.patch(f"projects/{ids['project']}", data=GOOD,
                       headers={"Content-Type": ctype} if ctype else {}), 415, demo)
    assert demo.get("projects", params={"name": "ct"}).json() == []


@pytest.mark.parametrize("ctype", ["application/json; charset=utf-8", "application/json;charset=UTF-8",
                                   "Application/JSON", "application/merge-patch+json",
                                   "application/vnd.restd+json", "application/problem+json"])
def test_json_content_types_accepted(demo, ctype):
    name = f"ct-{uuid.uuid4().hex}"
    r = post_raw(demo, "projects", json.dumps({"name": name}).encode(), ctype)
    assert r.status_code == 201, (ctype, r.status_code, r.text)
    r2 = demo.patch(f"projects/{r.json()['id']}", data=b'{"priority": 4}',
                    headers={"Content-Type": ctype})
    assert r2.status_code == 200, (ctype, r2.text)
    assert r2.json()["priority"] == 4


# -- 404 -----------------------------------------------------------------------------------

@pytest.mark.parametrize("item", [
    str(uuid.uuid4()), "abc", "1", "0", "-1", "00000000-0000-0000-0000-000000000000",
    "%27%20OR%20%271%27%3D%271", "x" * 300, "%00", "%2e%2e", "..%2f..%2fetc%2fpasswd",
    "12345678-1234-1234-1234-1234567890123",
])
def test_unknown_or_malformed_id_is_404(demo, item):
    for method, kw in (("GET", {}), ("DELETE", {}), ("PATCH", {"json": {"full_name": "x"}}),
                       ("PUT", {"json": {"email": "nf@example.com", "full_name": "x"}})):
        r = demo.request(method, f"persons/{item}", **kw)
        problem(r, 404, demo)
    assert demo.get("persons", params={"email": "nf@example.com"}).json() == []


@pytest.mark.parametrize("path", ["/api/nope", "/api/nope/1", "/nope", "/api/persons/x/y",
                                  "/api/persons/%s/extra" % uuid.uuid4(), "/api/Persons",
                                  "/apipersons", "/health/x"])
def test_unknown_route_is_404_problem(demo, path):
    problem(demo.get(path), 404, demo)


def test_unknown_route_post_is_404(demo):
    problem(demo.post("/api/nope", json={"a": 1}), 404, demo)


# -- 405 -------------------------------------------------------------------------------------

def allow_set(r):
    a = r.headers.get("Allow")
    assert a, f"405 without Allow header: {dict(r.headers)}"
    return {m.strip() for m in a.split(",")}


@pytest.mark.parametrize("method", ["DELETE", "PUT", "PATCH"])
def test_collection_wrong_method_405(demo, method):
    r = demo.request(method, "persons", json={"email": "m@x.y", "full_name": "m"})
    problem(r, 405, demo)
    # HEAD is served wherever GET is, so Allow lists it; order carries no meaning.
    assert allow_set(r) == {"GET", "HEAD", "POST"}, r.headers.get("Allow")


def test_item_post_405(demo, ids):
    r = demo.post(f"persons/{ids['person']}", json={"email": "m@x.y", "full_name": "m"})
    problem(r, 405, demo)
    assert allow_set(r) == {"GET", "HEAD", "PUT", "PATCH", "DELETE"}, r.headers.get("Allow")
    assert demo.get("persons", params={"email": "m@x.y"}).json() == []


def test_unknown_method_on_collection_405(demo):
    r = demo.request("BREW", "persons")
    assert r.status_code in (405, 501), r.status_code
    if r.status_code == 405:
        problem(r, 405, demo)
        assert allow_set(r) == {"GET", "HEAD", "POST"}


# -- 413 -------------------------------------------------------------------------------------

def test_body_over_limit_413_and_alive(demo):
    big = json.dumps({"name": "big", "description": "d" * 70000}).encode()
    head = http_request_bytes("POST", "/api/projects", demo.port, big,
                              {"Content-Type": "application/json"})
    status, _, body = send_with_early_reply(demo.port, head, big)
    assert status == 413, (status, body[:300])
    demo.assert_alive()
    assert demo.get("projects", params={"name": "big"}).json() == []


def test_huge_content_length_413_and_alive(demo):
    head = http_request_bytes("POST", "/api/projects", demo.port, None,
                              {"Content-Type": "application/json",
                               "Content-Length": "1000000000000"})
    status, _, body = send_with_early_reply(demo.port, head, b"{" * 1000, timeout=5)
    assert status == 413, (status, body[:300])
    demo.assert_alive()


def test_body_over_limit_413_via_requests(demo):
    # The same through a normal client; a reset after the 413 is tolerated.
    import requests
    big = json.dumps({"name": "big2", "description": "d" * 200000}).encode()
    try:
        r = requests.post(demo.base + "/projects", data=big, headers=H_JSON, timeout=10)
    except requests.ConnectionError:
        r = None
    if r is not None:
        assert r.status_code == 413, (r.status_code, r.text[:300])
        if r.headers.get("Content-Type", "").startswith("application/problem+json"):
            problem(r, 413, demo)
    demo.assert_alive()
    assert demo.get("projects", params={"name": "big2"}).json() == []


def test_body_exactly_at_limit_not_413(demo):
    # 65536 bytes of valid JSON: over no limit; the name is too long -> 422.
    head = b'{"description":"'
    tail = b'"}'
    body = head + b"d" * (65536 - len(head) - len(tail)) + tail
    assert len(body) == 65536
    errs = validation(post_raw(demo, "projects", body), demo)
    assert set(errs) == {"name"}, errs


# -- 409 shapes --------------------------------------------------------------------------------

def test_conflict_documents_are_clean(demo):
    a = demo.create("persons", {"email": "conf@example.com", "full_name": "C"})
    body = problem(demo.post("persons", json={"email": "conf@example.com", "full_name": "D"}),
                   409, demo)
    assert "email" in detail_of(body)
    body = problem(demo.post("tasks", json={"title": "t", "project": str(uuid.uuid4())}), 409,
                   demo)
    assert "project" in detail_of(body)
    assert demo.get(f"persons/{a['id']}").status_code == 200
