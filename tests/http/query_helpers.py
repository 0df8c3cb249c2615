"""Helpers for the query-feature HTTP tests (docs/query.md): the apps they
serve, pagination-header checks, 400 checks that the detail names the
parameter, and a Python model of the filter / sort semantics used to
compute the expected rows (always compared in order).

Imports only harness.py; the fixtures come from conftest.py.
"""
import re
import uuid

from harness import detail_of, problem

# The app of the brief, plus three fields (uuid, json, datetime) so every
# type row of the operator table can be exercised.
SHOP_APP = """\
app:
  name: shop
  vendor: shop
  base_path: /api
  versions: [1, 2]
  lists: {default_limit: 20, max_limit: 100, paging: offset, stored_filter_ttl: 3600}
models:
  category:
    route: categories
    fields:
      name: {type: string, required: true, unique: true}
  product:
    route: products
    nested_under: [category]
    fields:
      name: {type: string, required: true}
      price: {type: number}
      qty: {type: integer}
      active: {type: boolean, default: true}
      kind: {type: enum, values: [a, b, c]}
      released: {type: date}
      category: {type: ref, model: category}
      tags: {type: ref_list, model: category}
      notes: {type: text, expensive: true}
      barcode: {type: string, since: 2}
      sku: {type: uuid}
      meta: {type: json}
      seen_at: {type: datetime}
    indexes: [{fields: [kind]}]
  legacy:
    route: legacy-items
    until: 2
    fields: {label: {type: string}}
"""

# Stored filters expire after 1 s.
SHOP_APP_TTL1 = SHOP_APP.replace("stored_filter_ttl: 3600", "stored_filter_ttl: 1")
assert SHOP_APP_TTL1 != SHOP_APP

# Kitsu-style paging (page=N).
PAGE_APP = """\
app:
  name: kitsu
  base_path: /api
  lists: {default_limit: 20, max_limit: 100, paging: page}
models:
  entity:
    route: entities
    fields:
      name: {type: string, required: true}
      n: {type: integer}
"""

# No `vendor:` key: the vendor type is the app's name.
NOVENDOR_APP = """\
app:
  name: acme
  base_path: /api
  versions: [1, 2, 3]
models:
  thing:
    route: things
    fields:
      label: {type: string}
      color: {type: string, since: 3}
"""

# A vendor that differs from the name.
OTHERVENDOR_APP = """\
app:
  name: acme
  vendor: widgetco
  base_path: /api
  versions: [1, 2]
models:
  thing:
    route: things
    fields:
      label: {type: string}
"""

PAG_HEADERS = ("Limit", "Offset", "Returned", "Total")
NEXT_CURSOR = "X-Pagination-Next-Cursor"


def ids(rows):
    assert isinstance(rows, list), f"expected a JSON array, got {rows!r:.300}"
    return [r["id"] for r in rows]


def ok(r, status=200):
    assert r.status_code == status, (
        f"{r.request.method} {r.request.url} -> {r.status_code} (expected {status}): {r.text[:800]}")
    return r


def get_list(srv, path, params=None, **kw):
    """GET a list; assert 200 and a JSON array; return (rows, response)."""
    r = ok(srv.get(path, params=params, **kw))
    body = r.json()
    assert isinstance(body, list), f"GET {r.request.url}: body is not an array: {r.text[:300]}"
    return body, r


def create_full(srv, route, body, **kw):
    """POST, then the row as GET by id returns it (every field, expensive
    ones included: the reference representation of a row)."""
    r = srv.post(route, json=body, **kw)
    assert r.status_code == 201, f"POST {route} {body!r} -> {r.status_code} {r.text[:500]}"
    return ok(srv.get(f"{route}/{r.json()['id']}", **kw)).json()


def pag(r):
    return {k: r.headers.get(f"X-Pagination-{k}") for k in PAG_HEADERS}


def assert_pag(r, limit, offset, returned, total):
    want = {"Limit": limit, "Offset": offset, "Returned": returned, "Total": total}
    got = pag(r)
    exp = {k: (None if v is None else str(v)) for k, v in want.items()}
    assert got == exp, f"GET {r.request.url}: pagination headers {got} != {exp}"


def _mentions(detail, word):
    """word appears quoted or bracketed (so 'in' does not match 'invalid')."""
    if len(word) > 3:
        return word in detail
    return re.search(r"[\[\]'\"`\s=(]%s[\]'\"`\s)=,:.]" % re.escape(word), " " + detail + " ") is not None


def assert_names_param(detail, param):
    """The detail names the parameter: either as written (`price[like]`) or,
    for `field[op]`, both the field and the operator."""
    if param in detail:
        return
    m = re.fullmatch(r"([^\[\]]+)\[([^\[\]]+)\]", param)
    if m and m.group(1) in detail and _mentions(detail, m.group(2)):
        return
    raise AssertionError(f"400 detail does not name the parameter {param!r}: {detail!r}")


def bad_param(r, param, srv=None):
    """400 problem whose detail names `param`; returns the detail."""
    d = detail_of(problem(r, 400, srv))
    assert_names_param(d, param)
    return d


# -- the filter semantics of docs/query.md, in Python -------------------------------------

_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def ascii_lower(s):
    return s.translate(_ASCII_LOWER)


def like(value, pattern, ci=False):
    """`*` matches any run of characters; nothing else is special; whole value."""
    if value is None:
        return False
    if ci:
        value, pattern = ascii_lower(value), ascii_lower(pattern)
    rx = "^" + ".*".join(re.escape(p) for p in pattern.split("*")) + "$"
    return re.match(rx, value, re.S) is not None


def sort_rows(rows, spec):
    """rows in creation order; spec like "-price,name": the expected order,
    creation order breaking ties (Python's sort is stable)."""
    out = list(rows)
    for key in reversed(spec.split(",")):
        desc = key.startswith("-")
        k = key[1:] if desc else key
        # reverse=True keeps equal keys in their original order (stable),
        # so ties stay in creation order for descending keys too.
        out.sort(key=lambda r: r[k], reverse=desc)
    return out


def walk_cursor(srv, path, params=None, headers=None, max_pages=200):
    """Follow cursors from cursor=start; returns the list of responses."""
    params = dict(params or {})
    pages = []
    cur = "start"
    seen = set()
    while True:
        r = ok(srv.get(path, params=dict(params, cursor=cur), headers=headers))
        assert isinstance(r.json(), list), r.text[:300]
        pages.append(r)
        nxt = r.headers.get(NEXT_CURSOR)
        if nxt is None:
            return pages
        assert nxt and nxt != "start", f"bad next cursor {nxt!r}"
        assert nxt not in seen, f"cursor {nxt!r} handed out twice"
        seen.add(nxt)
        cur = nxt
        assert len(pages) < max_pages, "cursor walk does not end"


def random_uuid():
    return str(uuid.uuid4())


def subst(v, ctx):
    """Replace <NAME> placeholders with ids from ctx (strings, lists, dicts)."""
    if isinstance(v, str):
        for k, val in ctx.items():
            if isinstance(val, str):
                v = v.replace(f"<{k}>", val)
        return v
    if isinstance(v, list):
        return [subst(x, ctx) for x in v]
    if isinstance(v, tuple):
        return tuple(subst(x, ctx) for x in v)
    if isinstance(v, dict):
        return {subst(k, ctx): subst(x, ctx) for k, x in v.items()}
    return v


def load_products(shop, products):
    """Categories X, Y, Z and then each product body with "<X>"-style
    placeholders filled; returns (ctx of ids by name, created rows)."""
    ctx = {}
    for key in ("X", "Y", "Z"):
        ctx[key] = shop.create("categories", {"name": f"cat-{key.lower()}"})["id"]
    rows = []
    for i, body in enumerate(products):
        row = create_full(shop, "products", subst(body, ctx))
        ctx[f"P{i}"] = row["id"]
        rows.append(row)
    return ctx, rows


def location_ok(loc, srv, path):
    """Location as the path the spec names, or the same as an absolute URL."""
    return loc in (path, srv.url + path)
