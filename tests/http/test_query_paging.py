"""Paging (docs/query.md, "Paging"): limit/offset and their bounds, the
X-Pagination-* headers, envelope=true, totals with and without filters,
keyset cursors, and page=N for apps with `lists.paging: page`.

The module server holds 250 products (item000..item249, qty = i,
kind = "abc"[i % 3], active = i even) and nothing else; tests that write
use their own function-scoped server.
"""
import pytest

from harness import detail_of, problem
from query_helpers import (NEXT_CURSOR, PAGE_APP, SHOP_APP, assert_pag, bad_param, get_list, ids,
                           ok, pag, walk_cursor)

N = 250


@pytest.fixture(scope="module")
def shop(module_server):
    return module_server(SHOP_APP)


@pytest.fixture(scope="module")
def rows(shop):
    out = []
    for i in range(N):
        out.append(shop.create("products", {"name": f"item{i:03d}", "qty": i, "kind": "abc"[i % 3],
                                            "price": i / 2, "active": i % 2 == 0}))
    return out


def rid(rows, pred=lambda r: True):
    return [r["id"] for r in rows if pred(r)]


# -- limit / offset / headers ---------------------------------------------------------------

def test_default_limit_and_headers(shop, rows):
    got, r = get_list(shop, "products")
    assert ids(got) == rid(rows)[:20]
    assert_pag(r, 20, 0, 20, N)


def test_limit_offset_window(shop, rows):
    got, r = get_list(shop, "products", params={"limit": 7, "offset": 10})
    assert ids(got) == rid(rows)[10:17]
    assert_pag(r, 7, 10, 7, N)


def test_last_partial_page(shop, rows):
    got, r = get_list(shop, "products", params={"limit": 30, "offset": 240})
    assert ids(got) == rid(rows)[240:]
    assert_pag(r, 30, 240, 10, N)


def test_offset_only_uses_default_limit(shop, rows):
    got, r = get_list(shop, "products", params={"offset": 5})
    assert ids(got) == rid(rows)[5:25]
    assert_pag(r, 20, 5, 20, N)


def test_offset_past_the_end(shop, rows):
    got, r = get_list(shop, "products", params={"offset": 1000})
    assert got == []
    assert_pag(r, 20, 1000, 0, N)


def test_limit_bounds_accepted(shop, rows):
    got, r = get_list(shop, "products", params={"limit": 100})
    assert ids(got) == rid(rows)[:100]
    assert_pag(r, 100, 0, 100, N)
    got, r = get_list(shop, "products", params={"limit": 1, "offset": 0})
    assert ids(got) == rid(rows)[:1]
    assert_pag(r, 1, 0, 1, N)


def test_offset_walk_returns_every_row_once_in_order(shop, rows):
    seen = []
    for off in range(0, N, 100):
        got, r = get_list(shop, "products", params={"limit": 100, "offset": off})
        assert pag(r)["Returned"] == str(len(got))
        seen += ids(got)
    assert seen == rid(rows)


@pytest.mark.parametrize("value", ["0", "101", "1000", "-1", "abc", "1.5", "", "1e2",
                                   "99999999999999999999", "0x10", "10 "])
def test_bad_limit_is_400(shop, rows, value):
    bad_param(shop.get("products", params={"limit": value}), "limit", shop)


@pytest.mark.parametrize("value", ["-1", "x", "1.5", "", "1e3", "99999999999999999999999"])
def test_bad_offset_is_400(shop, rows, value):
    bad_param(shop.get("products", params={"offset": value}), "offset", shop)


def test_page_param_not_taken_by_offset_app(shop, rows):
    bad_param(shop.get("products", params={"page": "1"}), "page", shop)


# -- totals ---------------------------------------------------------------------------------

TOTALS = [
    ({}, lambda r: True),
    ({"kind": "a"}, lambda r: r["kind"] == "a"),
    ({"kind": "b"}, lambda r: r["kind"] == "b"),
    ({"qty[ge]": "200"}, lambda r: r["qty"] >= 200),
    ({"qty[lt]": "10", "kind": "a"}, lambda r: r["qty"] < 10 and r["kind"] == "a"),
    ({"active": "true"}, lambda r: r["active"]),
    ({"kind[in]": "b,c", "active": "false"}, lambda r: r["kind"] in "bc" and not r["active"]),
    ({"name": "nope"}, lambda r: False),
    ({"name[like]": "item2*"}, lambda r: r["name"].startswith("item2")),
]


@pytest.mark.parametrize("params,pred", TOTALS, ids=[str(p) or "none" for p, _ in TOTALS])
def test_total_matches_the_data(shop, rows, params, pred):
    want = rid(rows, pred)
    got, r = get_list(shop, "products", params=dict(params, limit=3))
    assert ids(got) == want[:3]
    assert_pag(r, 3, 0, min(3, len(want)), len(want))
    # and the whole filtered list, read in pages, is exactly those rows
    seen = []
    for off in range(0, max(len(want), 1), 100):
        got, r = get_list(shop, "products", params=dict(params, limit=100, offset=off))
        assert pag(r)["Total"] == str(len(want))
        seen += ids(got)
    assert seen == want


def test_filtered_window_headers(shop, rows):
    want = rid(rows, lambda r: r["kind"] == "b")
    assert len(want) == 83
    got, r = get_list(shop, "products", params={"kind": "b", "limit": 10, "offset": 80})
    assert ids(got) == want[80:]
    assert_pag(r, 10, 80, 3, 83)


def test_total_follows_inserts_deletes_and_restart(server):
    srv = server(SHOP_APP)
    cat = srv.create("categories", {"name": "c0"})["id"]
    made = [srv.create("products", {"name": f"p{i}", "kind": "ab"[i % 2], "category": cat})
            for i in range(6)]
    _, r = get_list(srv, "products")
    assert_pag(r, 20, 0, 6, 6)
    for i in (1, 4):
        ok(srv.delete(f"products/{made[i]['id']}"), 204)
    left = [m for i, m in enumerate(made) if i not in (1, 4)]
    got, r = get_list(srv, "products")
    assert ids(got) == ids(left)
    assert_pag(r, 20, 0, 4, 4)
    got, r = get_list(srv, "products", params={"kind": "b"})
    left_b = [m["id"] for m in left if m["kind"] == "b"]
    assert len(left_b) == 2
    assert ids(got) == left_b
    assert_pag(r, 20, 0, 2, 2)
    # failed writes do not move the counter: a 422 and a 409 (unique name)
    assert srv.post("products", json={"price": 1}).status_code == 422
    assert srv.post("categories", json={"name": "c0"}).status_code == 409
    assert srv.post("products", json={"name": "bad-ref", "category": made[0]["id"]}).status_code \
        in (409, 422)
    _, r = get_list(srv, "products")
    assert_pag(r, 20, 0, 4, 4)
    _, r = get_list(srv, "categories")
    assert_pag(r, 20, 0, 1, 1)
    # a delete refused (409: still referenced) does not move it either
    assert srv.delete(f"categories/{cat}").status_code == 409
    _, r = get_list(srv, "categories")
    assert_pag(r, 20, 0, 1, 1)
    srv.restart()
    got, r = get_list(srv, "products")
    assert ids(got) == ids(left)
    assert_pag(r, 20, 0, 4, 4)
    srv.create("products", {"name": "after-restart"})
    _, r = get_list(srv, "products", params={"limit": 1})
    assert_pag(r, 1, 0, 1, 5)


# -- envelope -------------------------------------------------------------------------------

def test_envelope_shape(shop, rows):
    r = ok(shop.get("products", params={"envelope": "true"}))
    assert r.headers["Content-Type"].split(";")[0].strip() == "application/json"
    body = r.json()
    assert isinstance(body, dict), f"envelope=true gave a bare array: {r.text[:200]}"
    assert set(body) == {"data", "pagination"}, body.keys()
    assert ids(body["data"]) == rid(rows)[:20]
    assert body["pagination"] == {"limit": 20, "offset": 0, "returned": 20, "total": N}


def test_envelope_with_filters_limit_offset(shop, rows):
    want = rid(rows, lambda r: r["kind"] == "c")
    body = ok(shop.get("products", params={"envelope": "true", "kind": "c", "limit": 5,
                                           "offset": 80})).json()
    assert ids(body["data"]) == want[80:]
    assert body["pagination"] == {"limit": 5, "offset": 80, "returned": 3, "total": len(want)}
    for k in ("limit", "offset", "returned", "total"):
        assert type(body["pagination"][k]) is int, body["pagination"]


def test_envelope_empty(shop, rows):
    body = ok(shop.get("products", params={"envelope": "true", "name": "nope"})).json()
    assert body == {"data": [], "pagination": {"limit": 20, "offset": 0, "returned": 0,
                                               "total": 0}}


def test_envelope_rows_equal_bare_rows(shop, rows):
    bare, _ = get_list(shop, "products", params={"limit": 10, "offset": 3})
    env = ok(shop.get("products", params={"limit": 10, "offset": 3, "envelope": "true"})).json()
    assert env["data"] == bare


def test_envelope_false_is_a_bare_array(shop, rows):
    got, r = get_list(shop, "products", params={"envelope": "false", "limit": 2})
    assert ids(got) == rid(rows)[:2]
    assert_pag(r, 2, 0, 2, N)


@pytest.mark.parametrize("value", ["yes", "1", "TRUE", ""])
def test_bad_envelope_is_400(shop, rows, value):
    bad_param(shop.get("products", params={"envelope": value}), "envelope", shop)


# -- keyset cursors -------------------------------------------------------------------------

def test_cursor_walk_every_row_once_in_creation_order(shop, rows):
    pages = walk_cursor(shop, "products", {"limit": 50})
    assert [len(p.json()) for p in pages] == [50, 50, 50, 50, 50], \
        "250 rows at 50 a page are 5 pages; the 5th is the last and has no next cursor"
    seen = [i for p in pages for i in ids(p.json())]
    assert seen == rid(rows)
    assert len(set(seen)) == N
    for p in pages[:-1]:
        assert p.headers.get(NEXT_CURSOR)
    assert NEXT_CURSOR not in pages[-1].headers


def test_cursor_pages_carry_pagination_headers(shop, rows):
    pages = walk_cursor(shop, "products", {"limit": 50})
    for p in pages:
        h = pag(p)
        assert None not in h.values(), f"every list response has the 4 headers: {h}"
        assert h["Limit"] == "50" and h["Returned"] == str(len(p.json())) and h["Total"] == str(N), h


def test_cursor_default_limit(shop, rows):
    r = ok(shop.get("products", params={"cursor": "start"}))
    assert ids(r.json()) == rid(rows)[:20]
    assert r.headers.get(NEXT_CURSOR)
    r2 = ok(shop.get("products", params={"cursor": r.headers[NEXT_CURSOR]}))
    assert ids(r2.json()) == rid(rows)[20:40]


def test_cursor_max_limit_pages(shop, rows):
    pages = walk_cursor(shop, "products", {"limit": 100})
    assert [len(p.json()) for p in pages] == [100, 100, 50]
    assert [i for p in pages for i in ids(p.json())] == rid(rows)


@pytest.mark.parametrize("params,pred,sizes", [
    ({"kind": "b", "limit": 50}, lambda r: r["kind"] == "b", [50, 33]),
    ({"qty[ge]": "100", "active": "true", "limit": 17},
     lambda r: r["qty"] >= 100 and r["active"], [17] * 4 + [7]),
    ({"name[like]": "item1*", "limit": 30}, lambda r: r["name"].startswith("item1"), [30] * 3 + [10]),
    ({"qty[lt]": "7"}, lambda r: r["qty"] < 7, [7]),
], ids=["kind_b", "qty_ge_active", "like", "one_page"])
def test_cursor_walk_with_filters(shop, rows, params, pred, sizes):
    pages = walk_cursor(shop, "products", params)
    assert [len(p.json()) for p in pages] == sizes
    assert [i for p in pages for i in ids(p.json())] == rid(rows, pred)
    assert NEXT_CURSOR not in pages[-1].headers
    for p in pages:
        assert pag(p)["Total"] == str(len(rid(rows, pred)))


def test_cursor_empty_result(shop, rows):
    r = ok(shop.get("products", params={"cursor": "start", "name": "nope"}))
    assert r.json() == []
    assert NEXT_CURSOR not in r.headers


def test_cursor_in_envelope(shop, rows):
    seen, cur, pages = [], "start", 0
    while True:
        body = ok(shop.get("products", params={"cursor": cur, "limit": 80, "envelope": "true"})).json()
        assert set(body) == {"data", "pagination"}, body.keys()
        pages += 1
        seen += ids(body["data"])
        nxt = body["pagination"].get("next_cursor")
        if not nxt:
            break
        assert isinstance(nxt, str)
        cur = nxt
        assert pages < 10
    assert pages == 4
    assert seen == rid(rows)
    # the envelope's cursor is the header's cursor
    r = ok(shop.get("products", params={"cursor": "start", "limit": 80}))
    body = ok(shop.get("products", params={"cursor": "start", "limit": 80, "envelope": "true"})).json()
    assert body["pagination"]["next_cursor"] == r.headers[NEXT_CURSOR]


def test_cursor_passed_back_as_is(shop, rows):
    # "pass it back as cursor=...": pasting the header value into the URL works.
    r = ok(shop.get("products?cursor=start&limit=60"))
    seen = ids(r.json())
    while NEXT_CURSOR in r.headers:
        r = ok(shop.get(f"products?limit=60&cursor={r.headers[NEXT_CURSOR]}"))
        seen += ids(r.json())
    assert seen == rid(rows)


@pytest.mark.parametrize("extra", [{"offset": "10"}, {"offset": "0"}, {"order_by": "name"},
                                   {"order_by": "-qty"}],
                         ids=["offset10", "offset0", "order_by", "order_by_desc"])
def test_cursor_start_with_offset_or_order_by_is_400(shop, rows, extra):
    r = shop.get("products", params=dict(extra, cursor="start"))
    d = detail_of(problem(r, 400, shop))
    (other,) = extra
    assert "cursor" in d or other in d, d


def test_real_cursor_with_offset_or_order_by_is_400(shop, rows):
    cur = ok(shop.get("products", params={"cursor": "start", "limit": 5})).headers[NEXT_CURSOR]
    for extra in ({"offset": "5"}, {"order_by": "qty"}):
        d = detail_of(problem(shop.get("products", params=dict(extra, cursor=cur)), 400, shop))
        (other,) = extra
        assert "cursor" in d or other in d, d


@pytest.mark.parametrize("value", ["garbage!!", "", "START", "start2", "start ", "x" * 2000,
                                   "\u00e9t\u00e9", "{}", "null"],
                         ids=["garbage", "empty", "START", "start2", "start_space", "long",
                              "unicode", "braces", "null"])
def test_malformed_cursor_is_400(shop, rows, value):
    bad_param(shop.get("products", params={"cursor": value}), "cursor", shop)


def test_cursor_with_limit_over_max_is_400(shop, rows):
    bad_param(shop.get("products", params={"cursor": "start", "limit": "101"}), "limit", shop)


def test_cursor_survives_deletes_and_sees_new_rows(server):
    # Keyset: the next page starts after the last row seen, even when that
    # row is gone; rows created meanwhile come last (creation order).
    srv = server(SHOP_APP)
    made = [srv.create("products", {"name": f"k{i}"}) for i in range(12)]
    r = ok(srv.get("products", params={"cursor": "start", "limit": 5}))
    assert ids(r.json()) == ids(made[:5])
    cur = r.headers[NEXT_CURSOR]
    for gone in (made[4], made[5]):
        ok(srv.delete(f"products/{gone['id']}"), 204)
    late = srv.create("products", {"name": "late"})
    pages = [r]
    while NEXT_CURSOR in pages[-1].headers:
        pages.append(ok(srv.get("products", params={"cursor": pages[-1].headers[NEXT_CURSOR],
                                                    "limit": 5})))
        assert len(pages) < 10
    seen = [i for p in pages for i in ids(p.json())]
    assert seen == ids(made[:5]) + ids(made[6:]) + [late["id"]]
    assert cur  # the first cursor stayed valid across the deletes (used above)


# -- page=N (lists.paging: page) ------------------------------------------------------------

@pytest.fixture(scope="module")
def kitsu(module_server):
    srv = module_server(PAGE_APP)
    made = [srv.create("entities", {"name": f"e{i:02d}", "n": i}) for i in range(45)]
    return srv, made


PAGE_KEYS = {"data", "total", "nb_pages", "limit", "offset", "page"}


@pytest.mark.parametrize("params,lo,hi,total,nb_pages,limit,offset,page", [
    ({"page": "1"}, 0, 20, 45, 3, 20, 0, 1),
    ({"page": "2"}, 20, 40, 45, 3, 20, 20, 2),
    ({"page": "3"}, 40, 45, 45, 3, 20, 40, 3),
    ({"page": "2", "limit": "10"}, 10, 20, 45, 5, 10, 10, 2),
    ({"page": "1", "limit": "100"}, 0, 45, 45, 1, 100, 0, 1),
    ({"page": "5", "limit": "9"}, 36, 45, 45, 5, 9, 36, 5),
    ({"page": "4"}, 45, 45, 45, 3, 20, 60, 4),
], ids=["p1", "p2", "p3_partial", "p2_limit10", "all_in_one", "exact_last", "past_end"])
def test_page_mode(kitsu, params, lo, hi, total, nb_pages, limit, offset, page):
    srv, made = kitsu
    body = ok(srv.get("entities", params=params)).json()
    assert isinstance(body, dict) and set(body) == PAGE_KEYS, body
    assert ids(body["data"]) == ids(made[lo:hi])
    assert {k: body[k] for k in PAGE_KEYS - {"data"}} == {
        "total": total, "nb_pages": nb_pages, "limit": limit, "offset": offset, "page": page}


def test_page_mode_with_filter(kitsu):
    srv, made = kitsu
    body = ok(srv.get("entities", params={"page": "1", "n[ge]": "40", "limit": "2"})).json()
    assert ids(body["data"]) == ids(made[40:42])
    assert (body["total"], body["nb_pages"], body["page"], body["offset"]) == (5, 3, 1, 0)
    body = ok(srv.get("entities", params={"page": "1", "n": "999"})).json()
    assert body["data"] == [] and body["total"] == 0


def test_page_mode_without_page_is_a_plain_list(kitsu):
    srv, made = kitsu
    got, r = get_list(srv, "entities")
    assert ids(got) == ids(made[:20])
    assert_pag(r, 20, 0, 20, 45)


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5", ""])
def test_bad_page_is_400(kitsu, value):
    srv, _ = kitsu
    bad_param(srv.get("entities", params={"page": value}), "page", srv)


def test_repeated_page_is_400(kitsu):
    srv, _ = kitsu
    bad_param(srv.get("entities", params=[("page", "1"), ("page", "2")]), "page", srv)
