"""Stored filters (docs/query.md, "Stored filters"): POST {base}/{route}/filter
stores a filter (scalar = equality, array = any of, object = operators),
GET on its Location lists the rows and takes the paging, sorting and field
parameters; bad bodies are a 422 naming every bad key; unknown and expired
ids are 404; filters survive a restart.
"""
import re
import time

import pytest

from harness import problem, validation
from query_helpers import (load_products, NEXT_CURSOR, SHOP_APP, SHOP_APP_TTL1, assert_pag, bad_param,
                           get_list, ids, like, location_ok, ok, random_uuid, subst,
                           walk_cursor)

PRODUCTS = [
    dict(name="Widget", price=9.99, qty=5, kind="a", released="2026-01-15", category="<X>",
         tags=["<X>", "<Y>"], notes="first"),                                              # 0
    dict(name="widget mini", price=4.5, qty=12, kind="b", released="2026-02-01",
         category="<X>", tags=["<Y>"]),                                                    # 1
    dict(name="Gadget", price=19.0, qty=0, active=False, kind="c", released="2025-12-31",
         category="<Y>", notes="third"),                                                   # 2
    dict(name="gizmo", tags=["<Z>"]),                                                      # 3
    dict(name="a,b", price=1.0, qty=3, kind="a", category="<Z>", tags=["<X>"]),            # 4
    dict(name="a"),                                                                        # 5
    dict(name="b"),                                                                        # 6
    dict(name="Zed", price=9.99, qty=12, kind="a", released="2026-01-16", category="<Y>",
         barcode="Z-1"),                                                                   # 7
]


@pytest.fixture(scope="module")
def shop(module_server):
    return module_server(SHOP_APP)


@pytest.fixture(scope="module")
def data(shop):
    return load_products(shop, PRODUCTS)


def store(srv, body, route="products", **kw):
    """POST a stored filter; check 201, {"id"} and Location; return its path."""
    r = srv.post(f"{route}/filter", json=body, **kw)
    assert r.status_code == 201, f"POST {route}/filter {body!r} -> {r.status_code} {r.text[:600]}"
    b = r.json()
    assert isinstance(b, dict) and set(b) == {"id"}, b
    fid = b["id"]
    assert isinstance(fid, str) and fid, b
    path = f"{srv.base_path}/{route}/filter/{fid}"
    loc = r.headers.get("Location")
    assert location_ok(loc, srv, path), f"Location {loc!r}, expected {path!r}"
    return path


def tags(r):
    return r["tags"] or []


def nn(v):
    return v is not None


def strip_notes(r):
    return {k: v for k, v in r.items() if k != "notes"}


CASES = [
    # scalar: equality, typed by the field
    ("scalar_string", {"name": "Widget"}, lambda r, c: r["name"] == "Widget"),
    ("scalar_string_comma_is_literal", {"name": "a,b"}, lambda r, c: r["name"] == "a,b"),
    ("scalar_integer", {"qty": 12}, lambda r, c: r["qty"] == 12),
    ("scalar_integer_zero", {"qty": 0}, lambda r, c: r["qty"] == 0),
    ("scalar_number", {"price": 9.99}, lambda r, c: r["price"] == 9.99),
    ("scalar_number_integral", {"price": 19}, lambda r, c: r["price"] == 19.0),
    ("scalar_boolean", {"active": False}, lambda r, c: r["active"] is False),
    ("scalar_enum", {"kind": "a"}, lambda r, c: r["kind"] == "a"),
    ("scalar_date", {"released": "2026-01-15"}, lambda r, c: r["released"] == "2026-01-15"),
    ("scalar_ref", {"category": "<X>"}, lambda r, c: r["category"] == c["X"]),
    ("scalar_id", {"id": "<P2>"}, lambda r, c: r["id"] == c["P2"]),
    ("scalar_ref_list_member", {"tags": "<X>"}, lambda r, c: c["X"] in tags(r)),
    ("scalar_barcode_v2", {"barcode": "Z-1"}, lambda r, c: r["id"] == c["P7"]),
    # array: any of
    ("array_string", {"name": ["Widget", "Gadget", "nope"]},
     lambda r, c: r["name"] in ("Widget", "Gadget")),
    ("array_string_commas_not_split", {"name": ["a,b", "Zed"]},
     lambda r, c: r["name"] in ("a,b", "Zed")),
    ("array_integer", {"qty": [5, 0]}, lambda r, c: r["qty"] in (5, 0)),
    ("array_enum", {"kind": ["b", "c"]}, lambda r, c: r["kind"] in ("b", "c")),
    ("array_id", {"id": ["<P0>", "<P4>", "<P6>"]},
     lambda r, c: r["id"] in (c["P0"], c["P4"], c["P6"])),
    ("array_ref", {"category": ["<Y>", "<Z>"]}, lambda r, c: r["category"] in (c["Y"], c["Z"])),
    ("array_ref_list_any_member", {"tags": ["<Y>", "<Z>"]},
     lambda r, c: c["Y"] in tags(r) or c["Z"] in tags(r)),
    ("array_single", {"name": ["Zed"]}, lambda r, c: r["name"] == "Zed"),
    ("array_ref_list_row_holding_both", {"tags": ["<X>", "<Y>"]},
     lambda r, c: c["X"] in tags(r) or c["Y"] in tags(r)),
    # object: operators
    ("op_ge", {"qty": {"ge": 3}}, lambda r, c: nn(r["qty"]) and r["qty"] >= 3),
    ("op_range", {"qty": {"gt": 0, "lt": 12}}, lambda r, c: nn(r["qty"]) and 0 < r["qty"] < 12),
    ("op_lt_number", {"price": {"lt": 9.99}}, lambda r, c: nn(r["price"]) and r["price"] < 9.99),
    ("op_date_range", {"released": {"ge": "2026-01-15", "lt": "2026-02-01"}},
     lambda r, c: nn(r["released"]) and "2026-01-15" <= r["released"] < "2026-02-01"),
    ("op_eq", {"qty": {"eq": 12}}, lambda r, c: r["qty"] == 12),
    ("op_ne_drops_null", {"kind": {"ne": "a"}}, lambda r, c: nn(r["kind"]) and r["kind"] != "a"),
    ("op_in", {"kind": {"in": ["a", "b"]}}, lambda r, c: r["kind"] in ("a", "b")),
    ("op_in_string_no_split", {"name": {"in": ["a,b"]}}, lambda r, c: r["name"] == "a,b"),
    ("op_nin", {"kind": {"nin": ["a"], "null": False}},
     lambda r, c: nn(r["kind"]) and r["kind"] != "a"),
    ("op_like", {"name": {"like": "W*"}}, lambda r, c: like(r["name"], "W*")),
    ("op_ilike", {"name": {"ilike": "widget*"}}, lambda r, c: like(r["name"], "widget*", True)),
    ("op_nlike", {"name": {"nlike": "*idget*"}}, lambda r, c: not like(r["name"], "*idget*")),
    ("op_null_true", {"price": {"null": True}}, lambda r, c: r["price"] is None),
    ("op_null_false", {"price": {"null": False}}, lambda r, c: r["price"] is not None),
    ("op_ref_list_in", {"tags": {"in": ["<X>", "<Z>"]}},
     lambda r, c: c["X"] in tags(r) or c["Z"] in tags(r)),
    ("op_id_in", {"id": {"in": ["<P1>", "<P3>"]}}, lambda r, c: r["id"] in (c["P1"], c["P3"])),
    # several keys: AND (the shape of the spec's example)
    ("and_example_shape", {"id": ["<P0>", "<P1>", "<P2>"], "name": "Gadget", "qty": {"ge": 0}},
     lambda r, c: r["id"] == c["P2"]),
    ("and_three", {"kind": "a", "price": {"lt": 9.99}, "active": True},
     lambda r, c: r["kind"] == "a" and nn(r["price"]) and r["price"] < 9.99 and r["active"]),
    ("and_contradiction", {"qty": {"gt": 5, "lt": 5}}, lambda r, c: False),
    ("values_are_data", {"name": "' OR '1'='1"}, lambda r, c: False),
    ("values_are_data_like", {"name": {"like": "*' OR 1=1 --"}}, lambda r, c: False),
]


@pytest.mark.parametrize("body,pred", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_stored_filter_lists_matching_rows(shop, data, body, pred):
    ctx, rows = data
    path = store(shop, subst(body, ctx))
    got, r = get_list(shop, path, {"limit": 100})
    want = [strip_notes(x) for x in rows if pred(x, ctx)]
    assert got == want, body
    assert_pag(r, 100, 0, len(want), len(want))


def test_stored_filter_equals_the_query_string_filter(shop, data):
    ctx, rows = data
    path = store(shop, {"kind": "a", "qty": {"ge": 5}})
    stored, rs = get_list(shop, path)
    direct, rd = get_list(shop, "products", {"kind": "a", "qty[ge]": "5"})
    assert stored == direct
    assert [rs.headers.get(f"X-Pagination-{k}") for k in ("Limit", "Offset", "Returned", "Total")] \
        == [rd.headers.get(f"X-Pagination-{k}") for k in ("Limit", "Offset", "Returned", "Total")]


@pytest.fixture(scope="module")
def kind_a(shop, data):
    ctx, rows = data
    want = [x for x in rows if x["kind"] == "a"]  # Widget, a,b, Zed
    assert len(want) == 3
    return store(shop, {"kind": "a"}), want


def test_stored_filter_default_page(shop, kind_a):
    path, want = kind_a
    got, r = get_list(shop, path)
    assert got == [strip_notes(x) for x in want]
    assert_pag(r, 20, 0, 3, 3)


def test_stored_filter_limit_offset(shop, kind_a):
    path, want = kind_a
    got, r = get_list(shop, path, {"limit": 2})
    assert ids(got) == ids(want[:2])
    assert_pag(r, 2, 0, 2, 3)
    got, r = get_list(shop, path, {"limit": 2, "offset": 2})
    assert ids(got) == ids(want[2:])
    assert_pag(r, 2, 2, 1, 3)


def test_stored_filter_order_by(shop, kind_a):
    path, want = kind_a
    got, _ = get_list(shop, path, {"order_by": "-name"})
    assert [g["name"] for g in got] == ["a,b", "Zed", "Widget"]  # byte order: 'a' > 'Z' > 'W'
    got, _ = get_list(shop, path, {"order_by": "-price,name"})
    assert [g["name"] for g in got] == ["Widget", "Zed", "a,b"]


def test_stored_filter_fields(shop, kind_a):
    path, want = kind_a
    got, _ = get_list(shop, path, {"fields": "name"})
    assert got == [{"id": x["id"], "name": x["name"]} for x in want]


def test_stored_filter_include_expensive(shop, kind_a):
    path, want = kind_a
    got, _ = get_list(shop, path, {"include_notes": "true"})
    assert got == want


def test_stored_filter_envelope(shop, kind_a):
    path, want = kind_a
    body = ok(shop.get(path, params={"envelope": "true", "limit": 1, "offset": 1})).json()
    assert body == {"data": [strip_notes(want[1])],
                    "pagination": {"limit": 1, "offset": 1, "returned": 1, "total": 3}}


def test_stored_filter_cursor(shop, kind_a):
    path, want = kind_a
    pages = walk_cursor(shop, path, {"limit": 2})
    assert [len(p.json()) for p in pages] == [2, 1]
    assert [i for p in pages for i in ids(p.json())] == ids(want)
    assert NEXT_CURSOR not in pages[-1].headers


@pytest.mark.parametrize("param,value", [("limit", "101"), ("limit", "0"), ("offset", "-1"),
                                         ("order_by", "bogus"), ("fields", "bogus"),
                                         ("cursor", "garbage!!"), ("bogus", "1"),
                                         ("envelope", "maybe"), ("include_notes", "yes")])
def test_stored_filter_get_parameters_are_checked(shop, data, param, value):
    path = store(shop, {"kind": "b"})
    bad_param(shop.get(path, params={param: value}), param, shop)


def test_stored_filter_cursor_conflicts(shop, data):
    path = store(shop, {"kind": "b"})
    problem(shop.get(path, params={"cursor": "start", "offset": "1"}), 400, shop)
    problem(shop.get(path, params={"cursor": "start", "order_by": "name"}), 400, shop)


def test_stored_filter_is_evaluated_when_read(shop, data):
    # It stores the condition, not the rows: a row made later shows up.
    name = f"late-{random_uuid()}"
    path = store(shop, {"name": name}, route="categories")
    got, r = get_list(shop, path)
    assert got == []
    assert_pag(r, 20, 0, 0, 0)
    row = shop.create("categories", {"name": name})
    got, r = get_list(shop, path)
    assert got == [row]
    assert_pag(r, 20, 0, 1, 1)


# -- unknown, foreign, expired ids ------------------------------------------------------------

@pytest.mark.parametrize("fid", ["5b0c0e1e-0000-4000-8000-00000000abcd", "nope", "x" * 300, "0",
                                 "start"], ids=lambda v: v if len(v) < 40 else f"long{len(v)}")
def test_unknown_id_is_404(shop, data, fid):
    problem(shop.get(f"products/filter/{fid}"), 404, shop)


def test_id_of_another_routes_filter_is_404(shop, data):
    path = store(shop, {"name": "Widget"})
    fid = path.rsplit("/", 1)[1]
    ok(shop.get(path))
    problem(shop.get(f"categories/filter/{fid}"), 404, shop)


def test_filter_expires_after_ttl(server):
    srv = server(SHOP_APP_TTL1)
    row = srv.create("products", {"name": "p"})
    path = store(srv, {"name": "p"})
    got, _ = get_list(srv, path)
    assert ids(got) == [row["id"]]
    time.sleep(2.2)
    problem(srv.get(path), 404, srv)
    problem(srv.get(path, params={"limit": 5}), 404, srv)
    # new filters still work
    path2 = store(srv, {"name": "p"})
    assert ids(get_list(srv, path2)[0]) == [row["id"]]


def test_filter_survives_restart(server):
    srv = server(SHOP_APP)
    a = srv.create("products", {"name": "keep", "qty": 2})
    srv.create("products", {"name": "drop", "qty": 9})
    path = store(srv, {"qty": {"lt": 5}})
    before, _ = get_list(srv, path)
    assert ids(before) == [a["id"]]
    srv.restart()
    after, r = get_list(srv, path)
    assert after == before
    assert_pag(r, 20, 0, 1, 1)
    srv.stop()
    srv.start()
    assert get_list(srv, path)[0] == before


@pytest.mark.parametrize("raw", [b"[]", b'[{"name": "x"}]', b"5", b'"name"', b"null", b"true"])
def test_body_not_an_object_is_422(shop, data, raw):
    r = shop.post("products/filter", data=raw, headers={"Content-Type": "application/json"})
    errs = validation(r, shop)
    assert "$" in errs, errs


@pytest.mark.parametrize("raw", [b'{"name": "a"', b'{"name": "a", "name": "b"}', b"",
                                 b"{'name': 'a'}"])
def test_malformed_json_is_400(shop, data, raw):
    r = shop.post("products/filter", data=raw, headers={"Content-Type": "application/json"})
    problem(r, 400, shop)


# -- 422: every bad key -----------------------------------------------------------------------
# These run on a server of their own (vshop): a server bug in the 422 path
# must not take the other stored-filter tests down with it.

@pytest.fixture(scope="module")
def vshop(module_server):
    srv = module_server(SHOP_APP)
    return srv, {"X": srv.create("categories", {"name": "cat-x"})["id"]}


def field_of(key):
    """errors key -> the filter key it is about ('qty', 'qty.gt', 'qty[gt]', 'qty/in' ...)."""
    return re.split(r"[.\[/]", key, maxsplit=1)[0]


BAD = [
    ("unknown_field", "bogus", 1),
    ("unknown_field_case", "Name", "x"),
    ("integer_from_text", "qty", "abc"),
    ("integer_from_fraction", "qty", 1.5),
    ("integer_from_bool", "qty", True),
    ("integer_op_text", "qty", {"gt": "abc"}),
    ("integer_array_bad_member", "qty", [1, "x"]),
    ("nin_needs_array", "qty", {"nin": 5}),
    ("too_many_values", "qty", list(range(1001))),
    ("boolean_from_text", "active", "yes"),
    ("boolean_gt", "active", {"gt": True}),
    ("number_like", "price", {"like": "x"}),
    ("number_from_text", "price", "cheap"),
    ("null_needs_boolean", "price", {"null": "yes"}),
    ("date_month_13", "released", "2026-13-01"),
    ("enum_unknown_value", "kind", "z"),
    ("enum_array_bad_member", "kind", ["a", "z"]),
    ("in_needs_array", "kind", {"in": "a"}),
    ("enum_lt", "kind", {"lt": "b"}),
    ("ref_not_an_id", "category", "nope"),
    ("unknown_operator", "name", {"foo": "x"}),
    ("ref_list_ne", "tags", {"ne": "<X>"}),
    ("ref_list_nin", "tags", {"nin": ["<X>"]}),
    ("json_eq", "meta", 1),
    ("json_op_eq", "meta", {"eq": 1}),
    ("id_not_a_uuid", "id", "nope"),
    ("datetime_malformed", "seen_at", "yesterday"),
]


@pytest.mark.parametrize("key,value", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_key_is_422_naming_it(vshop, key, value):
    shop, ctx = vshop
    body = {key: subst(value, ctx), "notes": {"like": "*"}}  # plus one good key
    errs = validation(shop.post("products/filter", json=body), shop)
    assert {field_of(k) for k in errs} == {key}, errs


def test_every_bad_key_is_listed(vshop):
    shop, ctx = vshop
    bad = {"bogus": 1, "Name": "x", "qty": "abc", "active": {"gt": True},
           "price": {"like": "x"}, "released": "2026-13-01", "kind": "z", "category": "nope",
           "tags": {"ne": ctx["X"]}, "meta": 1, "id": "nope", "seen_at": "yesterday",
           "sku": {"in": "not-a-list"}}
    good = {"name": "ok", "notes": {"like": "*"}, "barcode": "B"}
    errs = validation(shop.post("products/filter", json=dict(good, **bad)), shop)
    assert {field_of(k) for k in errs} == set(bad), errs
    for k, msgs in errs.items():
        assert all(m.strip() for m in msgs)


def test_bad_body_stores_nothing_usable(vshop):
    shop, _ = vshop
    r = shop.post("products/filter", json={"qty": "abc"})
    validation(r, shop)
    assert "Location" not in r.headers


# -- versions ---------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["header", "query", "accept"])
def test_v1_filter_on_v2_field_is_422(vshop, how):
    shop, _ = vshop
    kw = {"header": {"headers": {"X-Api-Version": "1"}},
          "query": {"params": {"api-version": "1"}},
          "accept": {"headers": {"Accept": "application/vnd.shop.api+json+api-version=1"}}}[how]
    errs = validation(shop.post("products/filter", json={"barcode": "Z-1", "name": "Zed"}, **kw),
                      shop)
    assert {field_of(k) for k in errs} == {"barcode"}, errs

