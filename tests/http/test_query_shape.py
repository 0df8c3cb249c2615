"""Sorting, field selection, expensive fields, nested collections and API
versions (docs/query.md). One module server; every test scopes its reads
to a category it owns, so the tests do not depend on each other.
"""
import pytest

from harness import detail_of, problem, validation
from query_helpers import (NOVENDOR_APP, OTHERVENDOR_APP, SHOP_APP, assert_pag, bad_param,
                           create_full, get_list, ids, ok, pag, random_uuid, sort_rows, walk_cursor)


@pytest.fixture(scope="module")
def shop(module_server):
    return module_server(SHOP_APP)


SORT = [
    dict(name="delta", price=5.0, qty=3, active=True, kind="b", released="2026-02-01",
         notes="n-d", barcode="B4", meta={"x": [1, "y"]}, seen_at="2026-02-01T08:00:00Z",
         sku="00000000-0000-4000-8000-0000000000d4"),
    dict(name="alpha", price=2.5, qty=7, active=False, kind="a", released="2026-01-01", notes="n-a"),
    dict(name="charlie", price=5.0, qty=1, active=True, kind="c", released="2025-06-30"),
    dict(name="bravo", price=10.0, qty=3, active=False, kind="a", released="2026-02-01",
         notes="n-b"),
    dict(name="echo", price=2.5, qty=9, active=True, kind="b", released="2024-12-31"),
    dict(name="foxtrot", price=7.25, qty=3, active=True, kind="a", released="2026-03-15"),
    dict(name="golf", price=5.0, qty=0, active=False, kind="c", released="2026-02-01"),
    dict(name="hotel", price=-1.0, qty=7, active=True, kind="b", released="2026-01-01"),
]


@pytest.fixture(scope="module")
def sortset(shop):
    cat = shop.create("categories", {"name": "sort"})["id"]
    other = shop.create("categories", {"name": "sort-tag"})["id"]
    rows = []
    for i, b in enumerate(SORT):
        body = dict(b, category=cat)
        if i == 0:
            body["tags"] = [cat, other]
        rows.append(create_full(shop, "products", body))
    return cat, rows


def in_cat(cat, **params):
    return dict(params, category=cat, limit=100)


# -- sorting ----------------------------------------------------------------------------------

SORT_SPECS = ["name", "-name", "price", "-price", "qty", "-qty", "kind,-qty", "-kind,name",
              "released", "-released", "active", "-active", "-price,name", "kind,price,-name",
              "qty,-released,name", "id", "-id", "created_at", "-created_at", "category",
              "-category"]


@pytest.mark.parametrize("spec", SORT_SPECS)
def test_order_by(shop, sortset, spec):
    cat, rows = sortset
    got, _ = get_list(shop, "products", in_cat(cat, order_by=spec))
    assert [r["name"] for r in got] == [r["name"] for r in sort_rows(rows, spec)], spec


def test_default_order_is_creation_order(shop, sortset):
    cat, rows = sortset
    got, _ = get_list(shop, "products", in_cat(cat))
    assert ids(got) == ids(rows)


def test_order_by_updated_at(shop):
    cat = shop.create("categories", {"name": "upd"})["id"]
    rows = [shop.create("products", {"name": f"u{i}", "category": cat}) for i in range(4)]
    ok(shop.patch(f"products/{rows[1]['id']}", json={"qty": 1}))
    got, _ = get_list(shop, "products", in_cat(cat, order_by="updated_at"))
    assert [r["name"] for r in got] == ["u0", "u2", "u3", "u1"]
    got, _ = get_list(shop, "products", in_cat(cat, order_by="-updated_at"))
    assert [r["name"] for r in got] == ["u1", "u3", "u2", "u0"]


@pytest.mark.parametrize("spec,limit", [("kind", 3), ("-price", 3), ("qty,name", 5),
                                        ("-active", 2)])
def test_sorted_offset_pages_are_stable(shop, sortset, spec, limit):
    cat, rows = sortset
    want = [r["name"] for r in sort_rows(rows, spec)]
    seen = []
    for off in range(0, len(rows), limit):
        got, r = get_list(shop, "products", dict(category=cat, order_by=spec, limit=limit,
                                                 offset=off))
        assert_pag(r, limit, off, len(got), len(rows))
        seen += [x["name"] for x in got]
    assert seen == want


def test_order_by_with_filters(shop, sortset):
    cat, rows = sortset
    got, _ = get_list(shop, "products", in_cat(cat, order_by="-name", kind="a"))
    assert [r["name"] for r in got] == ["foxtrot", "bravo", "alpha"]
    got, _ = get_list(shop, "products", in_cat(cat, order_by="price,-name", **{"qty[ge]": "3"}))
    assert [r["name"] for r in got] == ["hotel", "echo", "alpha", "delta", "foxtrot", "bravo"]


@pytest.mark.parametrize("value", ["bogus", "-bogus", "name,bogus", "--name", "tags", "-tags",
                                   "meta", "Name", "", "name,", ",name", "name,,qty",
                                   "name desc"])
def test_bad_order_by_is_400(shop, sortset, value):
    bad_param(shop.get("products", params={"order_by": value}), "order_by", shop)


# -- fields -----------------------------------------------------------------------------------

@pytest.mark.parametrize("sel", ["name,price", "name", "id", "price,name", "id,qty",
                                 "tags,meta,seen_at", "kind,released,active,category,sku"])
def test_fields_selects_columns_plus_id(shop, sortset, sel):
    cat, rows = sortset
    got, r = get_list(shop, "products", in_cat(cat, fields=sel))
    names = set(sel.split(",")) | {"id"}
    assert ids(got) == ids(rows)
    for g, full in zip(got, rows):
        assert set(g) == names, (sel, g)
        assert g == {k: full[k] for k in names}
    assert_pag(r, 100, 0, len(rows), len(rows))


def test_fields_with_order_by_filter_limit(shop, sortset):
    cat, rows = sortset
    got, _ = get_list(shop, "products", dict(category=cat, fields="name", order_by="-name",
                                             limit=3))
    assert got == [{"id": r["id"], "name": r["name"]} for r in sort_rows(rows, "-name")[:3]]


def test_fields_in_envelope(shop, sortset):
    cat, rows = sortset
    body = ok(shop.get("products", params=in_cat(cat, fields="qty", envelope="true"))).json()
    assert body["data"] == [{"id": r["id"], "qty": r["qty"]} for r in rows]
    assert body["pagination"]["total"] == len(rows)


@pytest.mark.parametrize("value", ["bogus", "name,bogus", "Name", "name,price,zzz"])
def test_fields_unknown_is_400(shop, sortset, value):
    bad_param(shop.get("products", params={"fields": value}), "fields", shop)


# -- expensive fields -------------------------------------------------------------------------

def test_expensive_field_left_out_of_lists(shop, sortset):
    cat, rows = sortset
    got, _ = get_list(shop, "products", in_cat(cat))
    assert ids(got) == ids(rows)
    for g, full in zip(got, rows):
        assert "notes" not in g, g
        assert g == {k: v for k, v in full.items() if k != "notes"}


def test_include_puts_expensive_field_back(shop, sortset):
    cat, rows = sortset
    got, _ = get_list(shop, "products", in_cat(cat, include_notes="true"))
    assert got == rows  # notes included, null where unset
    assert [g["notes"] for g in got] == [b.get("notes") for b in SORT]


def test_include_false_leaves_it_out(shop, sortset):
    cat, rows = sortset
    got, _ = get_list(shop, "products", in_cat(cat, include_notes="false"))
    assert all("notes" not in g for g in got)


def test_single_resource_has_every_field(shop, sortset):
    cat, rows = sortset
    for full, src in zip(rows[:3], SORT):
        g = ok(shop.get(f"products/{full['id']}")).json()
        assert g["notes"] == src.get("notes"), g
        assert g["barcode"] == src.get("barcode"), g


def test_expensive_left_out_of_envelope_rows(shop, sortset):
    cat, rows = sortset
    body = ok(shop.get("products", params=in_cat(cat, envelope="true"))).json()
    assert all("notes" not in g for g in body["data"])
    body = ok(shop.get("products", params=in_cat(cat, envelope="true",
                                                 include_notes="true"))).json()
    assert body["data"] == rows


def test_expensive_field_still_filters(shop, sortset):
    cat, rows = sortset
    got, _ = get_list(shop, "products", in_cat(cat, **{"notes[like]": "n-*"}))
    assert ids(got) == [r["id"] for r in rows if r["notes"]]
    assert all("notes" not in g for g in got)


@pytest.mark.parametrize("param,value", [("include_notes", "yes"), ("include_notes", "1"),
                                         ("include_notes", ""), ("include_notes", "TRUE"),
                                         ("include_bogus", "true"), ("include_", "true")])
def test_bad_include_is_400(shop, sortset, param, value):
    bad_param(shop.get("products", params={param: value}), param, shop)


# -- nested collections -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def nest(shop):
    a = shop.create("categories", {"name": "nest-a"})["id"]
    b = shop.create("categories", {"name": "nest-b"})["id"]
    e = shop.create("categories", {"name": "nest-empty"})["id"]
    mine = {a: [], b: []}
    for i in range(5):  # interleaved with B's rows and an uncategorised one
        mine[a].append(create_full(shop, "products", {"name": f"a{i}", "category": a, "qty": i,
                                                      "kind": "ab"[i % 2],
                                                      "notes": f"note a{i}"}))
        if i < 2:
            mine[b].append(create_full(shop, "products", {"name": f"b{i}", "category": b}))
        if i == 2:
            shop.create("products", {"name": "loose"})
    return a, b, e, mine


def test_nested_list_is_the_parents_rows(shop, nest):
    a, b, e, mine = nest
    for cat in (a, b):
        got, r = get_list(shop, f"categories/{cat}/products")
        assert ids(got) == ids(mine[cat])
        assert_pag(r, 20, 0, len(mine[cat]), len(mine[cat]))
        assert all("notes" not in g for g in got)
        assert got == [{k: v for k, v in m.items() if k != "notes"} for m in mine[cat]]


def test_nested_list_of_childless_parent_is_empty(shop, nest):
    a, b, e, mine = nest
    got, r = get_list(shop, f"categories/{e}/products")
    assert got == []
    assert_pag(r, 20, 0, 0, 0)


def _nested(nest):
    a, b, e, mine = nest
    return f"categories/{a}/products", mine[a]


def test_nested_list_filters_and_sorts(shop, nest):
    path, rows = _nested(nest)
    got, r = get_list(shop, path, {"kind": "a"})
    assert ids(got) == [m["id"] for m in rows if m["kind"] == "a"]
    assert_pag(r, 20, 0, 3, 3)
    got, _ = get_list(shop, path, {"qty[gt]": "1", "order_by": "-qty"})
    assert [g["name"] for g in got] == ["a4", "a3", "a2"]


def test_nested_list_limit_offset_envelope(shop, nest):
    path, rows = _nested(nest)
    got, r = get_list(shop, path, {"limit": 2, "offset": 2})
    assert ids(got) == ids(rows[2:4])
    assert_pag(r, 2, 2, 2, 5)
    body = ok(shop.get(path, params={"envelope": "true", "limit": 3})).json()
    assert ids(body["data"]) == ids(rows[:3])
    assert body["pagination"] == {"limit": 3, "offset": 0, "returned": 3, "total": 5}


def test_nested_list_cursor(shop, nest):
    path, rows = _nested(nest)
    pages = walk_cursor(shop, path, {"limit": 2})
    assert [len(p.json()) for p in pages] == [2, 2, 1]
    assert [i for p in pages for i in ids(p.json())] == ids(rows)


def test_nested_list_fields(shop, nest):
    path, rows = _nested(nest)
    got, _ = get_list(shop, path, {"fields": "name"})
    assert got == [{"id": m["id"], "name": m["name"]} for m in rows]


def test_nested_list_include_expensive(shop, nest):
    path, rows = _nested(nest)
    got, _ = get_list(shop, path, {"include_notes": "true"})
    assert got == rows


def test_nested_list_rejects_bad_parameters(shop, nest):
    a, b, e, mine = nest
    path = f"categories/{a}/products"
    d = bad_param(shop.get(path, params={"bogus": "1"}), "bogus", shop)
    assert "unknown query parameter 'bogus'" in d
    bad_param(shop.get(path, params={"qty": "abc"}), "qty", shop)
    bad_param(shop.get(path, params={"limit": "101"}), "limit", shop)
    bad_param(shop.get(path, params={"order_by": "tags"}), "order_by", shop)


def test_nested_create_sets_the_reference(shop):
    cat = shop.create("categories", {"name": "nest-post"})["id"]
    before = shop.create("products", {"name": "flat", "category": cat})
    r = ok(shop.post(f"categories/{cat}/products", json={"name": "via-parent", "qty": 3}), 201)
    row = r.json()
    assert row["category"] == cat
    assert row["name"] == "via-parent" and row["qty"] == 3
    assert ok(shop.get(f"products/{row['id']}")).json()["category"] == cat
    got, r = get_list(shop, f"categories/{cat}/products")
    assert ids(got) == [before["id"], row["id"]]
    assert_pag(r, 20, 0, 2, 2)
    # validation still applies
    errs = validation(shop.post(f"categories/{cat}/products", json={"qty": "x"}), shop)
    assert set(errs) == {"name", "qty"}, errs


@pytest.mark.parametrize("parent", ["5b0c0e1e-0000-4000-8000-00000000abcd", "not-a-uuid",
                                    "00000000-0000-0000-0000-000000000000"])
def test_nested_unknown_parent_is_404(shop, parent):
    problem(shop.get(f"categories/{parent}/products"), 404, shop)
    name = f"orphan-{random_uuid()}"
    problem(shop.post(f"categories/{parent}/products", json={"name": name}), 404, shop)
    got, _ = get_list(shop, "products", {"name": name})
    assert got == [], "a POST to an unknown parent created a row"


def test_parent_of_another_model_is_404(shop, sortset):
    # The parent id must be a category: a product id is an unknown parent.
    cat, rows = sortset
    problem(shop.get(f"categories/{rows[0]['id']}/products"), 404, shop)


def test_undeclared_nesting_is_404(shop, nest):
    a, b, e, mine = nest
    p = mine[a][0]["id"]
    problem(shop.get(f"products/{p}/categories"), 404, shop)
    problem(shop.get(f"categories/{a}/legacy-items"), 404, shop)
    problem(shop.get(f"categories/{a}/categories"), 404, shop)


# -- versions ---------------------------------------------------------------------------------

V1_WAYS = {
    "accept": {"headers": {"Accept": "application/vnd.shop.api+json+api-version=1"}},
    "header": {"headers": {"X-Api-Version": "1"}},
    "query": {"params": {"api-version": "1"}},
}
V2_WAYS = {
    "accept": {"headers": {"Accept": "application/vnd.shop.api+json+api-version=2"}},
    "header": {"headers": {"X-Api-Version": "2"}},
    "query": {"params": {"api-version": "2"}},
    "default": {},
}


def vget(srv, path, way, params=None):
    kw = {k: dict(v) for k, v in way.items()}
    kw["params"] = dict(kw.get("params", {}), **(params or {}))
    return srv.get(path, **kw)


def vreq(srv, method, path, way, **kw):
    w = {k: dict(v) for k, v in way.items()}
    w["params"] = dict(w.get("params", {}), **kw.pop("params", {}))
    w["headers"] = dict(w.get("headers", {}), **kw.pop("headers", {}))
    return srv.request(method, path, **w, **kw)


@pytest.fixture(scope="module")
def vdata(shop):
    cat = shop.create("categories", {"name": "versions"})["id"]
    with_bc = create_full(shop, "products", {"name": "with-barcode", "category": cat,
                                             "barcode": "BC-9"})
    without = create_full(shop, "products", {"name": "no-barcode", "category": cat})
    return cat, with_bc, without


def _version(r):
    return r.headers.get("X-Api-Version")


@pytest.mark.parametrize("way", sorted(V1_WAYS))
def test_v1_list_hides_barcode(shop, vdata, way):
    cat, with_bc, without = vdata
    r = ok(vget(shop, "products", V1_WAYS[way], {"category": cat}))
    assert _version(r) == "1"
    assert ids(r.json()) == [with_bc["id"], without["id"]]
    for row in r.json():
        assert "barcode" not in row, row


@pytest.mark.parametrize("way", sorted(V1_WAYS))
def test_v1_single_get_hides_barcode(shop, vdata, way):
    cat, with_bc, without = vdata
    r = ok(vget(shop, f"products/{with_bc['id']}", V1_WAYS[way]))
    assert _version(r) == "1"
    assert r.json() == {k: v for k, v in with_bc.items() if k != "barcode"}


@pytest.mark.parametrize("way", sorted(V2_WAYS))
def test_v2_served_and_barcode_present(shop, vdata, way):
    cat, with_bc, without = vdata
    w = V2_WAYS[way]
    r = ok(vget(shop, "products", w, {"category": cat}))
    assert _version(r) == "2"
    assert [row["barcode"] for row in r.json()] == ["BC-9", None]
    r = ok(vget(shop, f"products/{with_bc['id']}", w))
    assert _version(r) == "2"
    assert r.json()["barcode"] == "BC-9"


@pytest.mark.parametrize("way", sorted(V1_WAYS))
def test_barcode_unknown_in_v1_parameters(shop, vdata, way):
    cat, with_bc, without = vdata
    w = V1_WAYS[way]
    d = bad_param(vget(shop, "products", w, {"barcode": "BC-9"}), "barcode", shop)
    assert "unknown query parameter 'barcode'" in d, d
    bad_param(vget(shop, "products", w, {"barcode[null]": "false"}), "barcode", shop)
    bad_param(vget(shop, "products", w, {"order_by": "barcode"}), "order_by", shop)
    bad_param(vget(shop, "products", w, {"fields": "name,barcode"}), "fields", shop)


@pytest.mark.parametrize("way", sorted(V2_WAYS))
def test_barcode_usable_in_v2_parameters(shop, vdata, way):
    cat, with_bc, without = vdata
    w = V2_WAYS[way]
    r = ok(vget(shop, "products", w, {"barcode": "BC-9"}))
    assert ids(r.json()) == [with_bc["id"]]
    r = ok(vget(shop, "products", w, {"category": cat, "order_by": "-name"}))
    assert ids(r.json()) == [with_bc["id"], without["id"]]  # "with-barcode" > "no-barcode"
    r = ok(vget(shop, "products", w, {"category": cat, "order_by": "barcode"}))
    assert ids(r.json()) in ([with_bc["id"], without["id"]], [without["id"], with_bc["id"]])
    r = ok(vget(shop, "products", w, {"category": cat, "fields": "barcode"}))
    assert r.json() == [{"id": with_bc["id"], "barcode": "BC-9"}, {"id": without["id"], "barcode": None}]


@pytest.fixture
def vrow(shop):
    cat = shop.create("categories", {"name": f"version-writes-{random_uuid()}"})["id"]
    return cat, create_full(shop, "products", {"name": "bc-row", "category": cat, "barcode": "BC-7"})


V1 = V1_WAYS["header"]


def test_v1_body_with_barcode_is_422(shop, vrow):
    cat, mine = vrow
    errs = validation(vreq(shop, "POST", "products", V1, json={"name": "v1-bc", "barcode": "x"}),
                      shop)
    assert set(errs) == {"barcode"}, errs
    errs = validation(vreq(shop, "PATCH", f"products/{mine['id']}", V1, json={"barcode": "y"}),
                      shop)
    assert set(errs) == {"barcode"}, errs
    assert ok(shop.get(f"products/{mine['id']}")).json()["barcode"] == "BC-7"


def test_v1_create_response_hides_barcode(shop, vrow):
    cat, mine = vrow
    r = ok(vreq(shop, "POST", "products", V1, json={"name": "v1-made", "category": cat}), 201)
    assert _version(r) == "1"
    assert "barcode" not in r.json(), r.json()
    assert ok(shop.get(f"products/{r.json()['id']}")).json()["barcode"] is None


def test_v1_patch_keeps_v2_field(shop, vrow):
    cat, mine = vrow
    r = ok(vreq(shop, "PATCH", f"products/{mine['id']}", V1, json={"qty": 4}))
    assert _version(r) == "1"
    assert r.json()["qty"] == 4
    assert ok(shop.get(f"products/{mine['id']}")).json()["barcode"] == "BC-7"


def test_v1_patch_response_hides_barcode(shop, vrow):
    cat, mine = vrow
    r = ok(vreq(shop, "PATCH", f"products/{mine['id']}", V1, json={"qty": 5}))
    assert "barcode" not in r.json(), r.json()


def test_v2_create_with_barcode(shop, vrow):
    cat, mine = vrow
    r = ok(shop.post("products", json={"name": "v2-made", "category": cat, "barcode": "Z"}), 201)
    assert _version(r) == "2" and r.json()["barcode"] == "Z"


@pytest.mark.parametrize("way", sorted(V1_WAYS))
def test_legacy_route_exists_in_v1(shop, way):
    w = V1_WAYS[way]
    r = ok(vreq(shop, "POST", "legacy-items", w, json={"label": f"old-{way}"}), 201)
    assert _version(r) == "1"
    item = r.json()
    assert item["label"] == f"old-{way}"
    r = ok(vget(shop, "legacy-items", w, {"label": f"old-{way}"}))
    assert _version(r) == "1"
    assert r.json() == [item]
    assert pag(r)["Total"] == "1"
    assert ok(vget(shop, f"legacy-items/{item['id']}", w)).json() == item
    # gone in version 2, whichever way it is asked for
    for w2 in V2_WAYS.values():
        r = vget(shop, "legacy-items", w2)
        problem(r, 404, shop)
        assert _version(r) == "2"
        problem(vget(shop, f"legacy-items/{item['id']}", w2), 404, shop)
        problem(vreq(shop, "POST", "legacy-items", w2, json={"label": "new"}), 404, shop)


def test_every_response_carries_the_version(shop, vdata):
    cat, with_bc, without = vdata
    checks = [
        shop.get("products", params={"category": cat}),
        shop.get(f"products/{with_bc['id']}"),
        shop.get(f"products/{random_uuid()}"),             # 404
        shop.get("products", params={"qty": "abc"}),        # 400
        shop.post("products", json={"qty": "x"}),           # 422
        shop.get("legacy-items"),                           # 404 route (v2)
        shop.get(f"categories/{cat}/products"),
        shop.post("products/filter", json={"name": "x"}),
    ]
    made = ok(shop.post("products", json={"name": "tmp"}), 201)
    checks += [made, shop.patch(f"products/{made.json()['id']}", json={"qty": 1}),
               shop.delete(f"products/{made.json()['id']}")]
    for r in checks:
        assert _version(r) == "2", (r.request.method, r.request.url, r.status_code, r.headers)
    for r in (shop.get("products", headers={"X-Api-Version": "1"}, params={"category": cat}),
              shop.get(f"products/{random_uuid()}", headers={"X-Api-Version": "1"}),
              shop.get("products", headers={"X-Api-Version": "1"}, params={"barcode": "x"})):
        assert _version(r) == "1", (r.request.url, r.status_code, r.headers)


@pytest.mark.parametrize("accept", [
    "application/json", "*/*", "application/*", "application/vnd.shop.api+json",
    "text/html, application/json;q=0.5", "application/json; charset=utf-8",
    "text/html;q=0.9, */*;q=0.1",
])
def test_acceptable_accept_headers_serve_latest(shop, vdata, accept):
    cat, with_bc, without = vdata
    r = ok(shop.get("products", params={"category": cat}, headers={"Accept": accept}))
    assert _version(r) == "2"
    assert r.json()[0]["barcode"] == "BC-9"


@pytest.mark.parametrize("accept", [
    "text/html", "text/plain", "application/xml", "image/png", "text/*",
    "application/vnd.other.api+xml", "application/vnd.other.api+json+api-version=1",
    "application/json;q=0", "text/html, application/xhtml+xml", "application/vnd.shop.api+xml",
])
def test_unacceptable_accept_is_406(shop, vdata, accept):
    cat, with_bc, without = vdata
    problem(shop.get("products", params={"category": cat}, headers={"Accept": accept}), 406, shop)
    problem(shop.get(f"products/{with_bc['id']}", headers={"Accept": accept}), 406, shop)


@pytest.mark.parametrize("value", ["3", "0", "x", "-1", "1.5", ""])
def test_unknown_version_in_accept_is_400(shop, vdata, value):
    r = shop.get("products", headers={"Accept": f"application/vnd.shop.api+json+api-version={value}"})
    d = detail_of(problem(r, 400, shop))
    assert "version" in d.lower(), d


@pytest.mark.parametrize("value", ["3", "0", "abc", "-1", "1.5", "99999999999999999999"])
def test_unknown_version_in_header_is_400(shop, vdata, value):
    r = shop.get("products", headers={"X-Api-Version": value})
    d = detail_of(problem(r, 400, shop))
    assert "version" in d.lower(), d


@pytest.mark.parametrize("value", ["3", "0", "abc", "-1", "", "1.5"])
def test_unknown_version_in_query_is_400(shop, vdata, value):
    bad_param(shop.get("products", params={"api-version": value}), "api-version", shop)


def test_unknown_version_on_every_kind_of_route(shop, vdata):
    cat, with_bc, without = vdata
    h = {"X-Api-Version": "9"}
    problem(shop.get(f"products/{with_bc['id']}", headers=h), 400, shop)
    problem(shop.post("products", json={"name": "v9"}, headers=h), 400, shop)
    problem(shop.get(f"categories/{cat}/products", headers=h), 400, shop)
    problem(shop.get("legacy-items", params={"api-version": "9"}), 400, shop)
    got, _ = get_list(shop, "products", {"name": "v9"})
    assert got == []


def test_vendor_defaults_to_app_name(server):
    srv = server(NOVENDOR_APP)
    t = srv.create("things", {"label": "l", "color": "red"})
    assert t["color"] == "red"
    for v in ("1", "2"):
        r = ok(srv.get("things", headers={"Accept": f"application/vnd.acme.api+json+api-version={v}"}))
        assert _version(r) == v
        assert ids(r.json()) == [t["id"]] and "color" not in r.json()[0], r.json()
    r = ok(srv.get("things"))
    assert _version(r) == "3" and r.json()[0]["color"] == "red"
    problem(srv.get("things", headers={"Accept": "application/vnd.acme.api+json+api-version=4"}),
            400, srv)
    problem(srv.get("things", headers={"Accept": "application/vnd.shop.api+json+api-version=1"}),
            406, srv)


def test_explicit_vendor_replaces_name(server):
    srv = server(OTHERVENDOR_APP)
    r = ok(srv.get("things", headers={"Accept": "application/vnd.widgetco.api+json+api-version=1"}))
    assert _version(r) == "1"
    problem(srv.get("things", headers={"Accept": "application/vnd.acme.api+json+api-version=1"}),
            406, srv)
