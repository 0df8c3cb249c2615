"""Totals: `total=false` skips the count, and a cached filtered count never
outlives a write (docs/query.md, "How the total is computed")."""
import pytest

from harness import detail_of
from query_helpers import SHOP_APP, get_list


@pytest.fixture(scope="module")
def shop(module_server):
    srv = module_server(SHOP_APP)
    for i in range(12):
        srv.create("products", {"name": f"t{i}", "kind": "ab"[i % 2]})
    return srv


def test_total_false_drops_the_header_and_nulls_the_envelope(shop):
    got, r = get_list(shop, "products", params={"kind": "a", "total": "false"})
    assert len(got) == 6
    assert "X-Pagination-Total" not in r.headers
    assert r.headers["X-Pagination-Returned"] == "6"
    r = shop.get("products", params={"kind": "a", "total": "false", "envelope": "true"})
    assert r.status_code == 200
    assert r.json()["pagination"]["total"] is None
    assert r.json()["pagination"]["returned"] == 6


@pytest.mark.parametrize("value", ["no", "1", "", "TRUE"])
def test_bad_total_is_400(shop, value):
    r = shop.get("products", params={"total": value})
    assert r.status_code == 400
    assert "total" in detail_of(r.json())


def test_cached_filtered_count_follows_writes(shop):
    # the same filtered page twice: the second answer may come from the cache
    for _ in range(2):
        _, r = get_list(shop, "products", params={"kind": "b", "limit": 2})
        assert r.headers["X-Pagination-Total"] == "6"
    made = shop.create("products", {"name": "t-new", "kind": "b"})
    _, r = get_list(shop, "products", params={"kind": "b", "limit": 2})
    assert r.headers["X-Pagination-Total"] == "7"
    assert shop.delete(f"products/{made['id']}").status_code == 204
    _, r = get_list(shop, "products", params={"kind": "b", "limit": 2})
    assert r.headers["X-Pagination-Total"] == "6"
    # a write to another model also invalidates (any commit does), and the
    # count stays right
    shop.create("categories", {"name": "c-x"})
    _, r = get_list(shop, "products", params={"kind": "b", "limit": 2})
    assert r.headers["X-Pagination-Total"] == "6"
