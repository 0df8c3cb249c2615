"""Filters on list routes (docs/query.md, "Filters"): every operator on every
type it fits, typed values, comma lists, ref_list membership, AND, and the
400s (unknown field/operator, operator not fitting the type, malformed
value, repeated parameter, more than 32 filters or 1,000 list values).

One server, seeded once; no test writes, so every expectation is computed
from the seed by the Python model in query_helpers and compared in order
(creation order is the default order).
"""
import pytest

from harness import detail_of, problem
from query_helpers import (load_products, SHOP_APP, assert_names_param, bad_param, create_full, get_list, ids,
                           like, pag, subst)

U1 = "0a1b2c3d-0000-4000-8000-000000000001"
U2 = "0a1b2c3d-0000-4000-8000-000000000002"
U3 = "ffffffff-0000-4000-8000-000000000003"
NOBODY = "7e57ab1e-0000-4000-8000-00000000dead"

# name, then the other fields; <X>/<Y>/<Z> are category ids.
PRODUCTS = [
    dict(name="Widget", price=9.99, qty=5, active=True, kind="a", released="2026-01-15",
         category="<X>", tags=["<X>", "<Y>"], notes="blue widget", barcode="W-001", sku=U1,
         meta={"k": 1}, seen_at="2026-01-15T10:00:00Z"),                                   # 0
    dict(name="widget mini", price=4.5, qty=12, active=True, kind="b", released="2026-02-01",
         category="<X>", tags=["<Y>"], notes="small one", sku=U2,
         seen_at="2026-02-01T00:00:00Z"),                                                  # 1
    dict(name="Gadget", price=19.0, qty=0, active=False, kind="c", released="2025-12-31",
         category="<Y>", tags=[], barcode="G-1", meta=[1, 2],
         seen_at="2025-12-31T23:59:59Z"),                                                  # 2
    dict(name="gizmo", active=True, tags=["<Z>"], notes="no price"),                       # 3
    dict(name="a,b", price=1.0, qty=3, kind="a", released="2026-03-01", category="<Z>",
         tags=["<X>"]),                                                                    # 4
    dict(name="a"),                                                                        # 5
    dict(name="b"),                                                                        # 6
    dict(name="back\\slash", price=2.0, qty=7, active=False, kind="b", released="2026-03-02",
         category="<Y>"),                                                                  # 7
    dict(name="100%_off", price=100.0, qty=100, kind="a", released="2026-01-15",
         category="<X>"),                                                                  # 8
    dict(name="100xyoff", price=100.5, qty=-3, kind="c", category="<Y>",
         tags=["<X>", "<Z>"]),                                                             # 9
    dict(name="WIDGET LARGE", price=30.0, qty=2, kind="b", released="2026-06-30",
         category="<X>"),                                                                  # 10
    dict(name="\u00dcn\u00efcode w\u00efdget", price=-0.5, qty=5, kind="a",
         released="2024-02-29"),                                                           # 11
    dict(name="quote'name", price=0.0, qty=1, active=False, kind="c", category="<Z>",
         sku=U3),                                                                          # 12
    dict(name="Zed", price=9.99, qty=12, kind="a", released="2026-01-16", category="<Y>"),  # 13
    dict(name="arr[0]?", qty=9223372036854775807, price=1e300),                            # 14
    dict(name="min", qty=-9223372036854775808),                                            # 15
]


@pytest.fixture(scope="module")
def shop(module_server):
    return module_server(SHOP_APP)


@pytest.fixture(scope="module")
def data(shop):
    return load_products(shop, PRODUCTS)


def tags(r):
    return r["tags"] or []


def nn(v):
    return v is not None


# (id, params, predicate(row, ctx))
CASES = [
    # -- equality, typed by the field --
    ("eq_string", {"name": "Widget"}, lambda r, c: r["name"] == "Widget"),
    ("eq_op_string", {"name[eq]": "Widget"}, lambda r, c: r["name"] == "Widget"),
    ("eq_string_case_sensitive", {"name": "widget"}, lambda r, c: False),
    ("eq_string_comma_is_literal", {"name": "a,b"}, lambda r, c: r["name"] == "a,b"),
    ("eq_op_string_comma_is_literal", {"name[eq]": "a,b"}, lambda r, c: r["name"] == "a,b"),
    ("eq_string_backslash_literal", {"name": "back\\slash"},
     lambda r, c: r["name"] == "back\\slash"),
    ("eq_string_unicode", {"name": "\u00dcn\u00efcode w\u00efdget"},
     lambda r, c: r["name"].startswith("\u00dc")),
    ("eq_string_quote", {"name": "quote'name"}, lambda r, c: r["name"] == "quote'name"),
    ("eq_text", {"notes": "small one"}, lambda r, c: r["id"] == c["P1"]),
    ("eq_integer", {"qty": "5"}, lambda r, c: r["qty"] == 5),
    ("eq_integer_negative", {"qty": "-3"}, lambda r, c: r["qty"] == -3),
    ("eq_integer_zero", {"qty": "0"}, lambda r, c: r["qty"] == 0),
    ("eq_integer_comma_any_of", {"qty": "5,12"}, lambda r, c: r["qty"] in (5, 12)),
    ("eq_integer_int64_max", {"qty": "9223372036854775807"},
     lambda r, c: r["qty"] == 9223372036854775807),
    ("eq_integer_int64_min", {"qty": "-9223372036854775808"},
     lambda r, c: r["qty"] == -9223372036854775808),
    ("le_integer_int64_max", {"qty[le]": "9223372036854775807"}, lambda r, c: nn(r["qty"])),
    ("eq_number_exponent", {"price": "1e300"}, lambda r, c: r["price"] == 1e300),
    ("eq_op_integer_comma_any_of", {"qty[eq]": "0,100"}, lambda r, c: r["qty"] in (0, 100)),
    ("eq_op_enum_comma_any_of", {"kind[eq]": "b,c"}, lambda r, c: r["kind"] in ("b", "c")),
    ("eq_op_ref_comma_any_of", {"category[eq]": "<Y>,<Z>"},
     lambda r, c: r["category"] in (c["Y"], c["Z"])),
    ("eq_op_uuid_comma_any_of", {"sku[eq]": f"{U2},{U3}"}, lambda r, c: r["sku"] in (U2, U3)),
    ("eq_op_id_comma_any_of", {"id[eq]": "<P2>,<P9>"}, lambda r, c: r["id"] in (c["P2"], c["P9"])),
    ("eq_number", {"price": "9.99"}, lambda r, c: r["price"] == 9.99),
    ("eq_number_integral_form", {"price": "19"}, lambda r, c: r["price"] == 19.0),
    ("eq_number_negative", {"price": "-0.5"}, lambda r, c: r["price"] == -0.5),
    ("eq_number_zero", {"price": "0"}, lambda r, c: r["price"] == 0.0),
    ("eq_boolean_true", {"active": "true"}, lambda r, c: r["active"] is True),
    ("eq_boolean_false", {"active": "false"}, lambda r, c: r["active"] is False),
    ("eq_enum", {"kind": "a"}, lambda r, c: r["kind"] == "a"),
    ("eq_enum_comma_any_of", {"kind": "a,c"}, lambda r, c: r["kind"] in ("a", "c")),
    ("eq_date", {"released": "2026-01-15"}, lambda r, c: r["released"] == "2026-01-15"),
    ("eq_date_leap_day", {"released": "2024-02-29"}, lambda r, c: r["released"] == "2024-02-29"),
    ("eq_datetime_z", {"seen_at": "2026-01-15T10:00:00Z"}, lambda r, c: r["id"] == c["P0"]),
    ("eq_datetime_other_offset", {"seen_at": "2026-01-15T12:00:00+02:00"},
     lambda r, c: r["id"] == c["P0"]),
    ("eq_ref", {"category": "<X>"}, lambda r, c: r["category"] == c["X"]),
    ("eq_ref_comma_any_of", {"category": "<X>,<Z>"},
     lambda r, c: r["category"] in (c["X"], c["Z"])),
    ("eq_ref_unknown_id_matches_nothing", {"category": NOBODY}, lambda r, c: False),
    ("eq_uuid", {"sku": U1}, lambda r, c: r["sku"] == U1),
    ("eq_uuid_comma_any_of", {"sku": f"{U1},{U3}"}, lambda r, c: r["sku"] in (U1, U3)),
    ("eq_id", {"id": "<P3>"}, lambda r, c: r["id"] == c["P3"]),
    ("eq_id_comma_any_of", {"id": "<P3>,<P7>"}, lambda r, c: r["id"] in (c["P3"], c["P7"])),
    ("eq_barcode_v2_default", {"barcode": "W-001"}, lambda r, c: r["id"] == c["P0"]),
    # -- ne: null rows are not returned --
    ("ne_string", {"name[ne]": "Widget"}, lambda r, c: r["name"] != "Widget"),
    ("ne_integer_drops_null", {"qty[ne]": "5"}, lambda r, c: nn(r["qty"]) and r["qty"] != 5),
    ("ne_number_drops_null", {"price[ne]": "9.99"},
     lambda r, c: nn(r["price"]) and r["price"] != 9.99),
    ("ne_boolean", {"active[ne]": "true"}, lambda r, c: r["active"] is False),
    ("ne_enum_drops_null", {"kind[ne]": "a"}, lambda r, c: nn(r["kind"]) and r["kind"] != "a"),
    ("ne_date_drops_null", {"released[ne]": "2026-01-15"},
     lambda r, c: nn(r["released"]) and r["released"] != "2026-01-15"),
    ("ne_ref_drops_null", {"category[ne]": "<X>"},
     lambda r, c: nn(r["category"]) and r["category"] != c["X"]),
    ("ne_uuid_drops_null", {"sku[ne]": U1}, lambda r, c: nn(r["sku"]) and r["sku"] != U1),
    ("ne_id", {"id[ne]": "<P0>"}, lambda r, c: r["id"] != c["P0"]),
    ("ne_datetime_drops_null", {"seen_at[ne]": "2026-01-15T10:00:00Z"},
     lambda r, c: nn(r["seen_at"]) and r["id"] != c["P0"]),
    # -- in --
    ("in_string", {"name[in]": "Widget,Gadget,nope"},
     lambda r, c: r["name"] in ("Widget", "Gadget")),
    ("in_string_single", {"name[in]": "Gadget"}, lambda r, c: r["name"] == "Gadget"),
    ("in_string_escaped_comma", {"name[in]": "a\\,b,Zed"},
     lambda r, c: r["name"] in ("a,b", "Zed")),
    ("in_string_escaped_backslash", {"name[in]": "back\\\\slash"},
     lambda r, c: r["name"] == "back\\slash"),
    ("in_integer", {"qty[in]": "0,7,100"}, lambda r, c: r["qty"] in (0, 7, 100)),
    ("in_number", {"price[in]": "1,2.0,100.5"}, lambda r, c: r["price"] in (1.0, 2.0, 100.5)),
    ("in_boolean", {"active[in]": "false"}, lambda r, c: r["active"] is False),
    ("in_enum", {"kind[in]": "b,c"}, lambda r, c: r["kind"] in ("b", "c")),
    ("in_date", {"released[in]": "2026-03-01,2024-02-29"},
     lambda r, c: r["released"] in ("2026-03-01", "2024-02-29")),
    ("in_datetime", {"seen_at[in]": "2026-02-01T00:00:00Z,2025-12-31T23:59:59Z"},
     lambda r, c: r["id"] in (c["P1"], c["P2"])),
    ("in_ref", {"category[in]": "<Y>,<Z>"}, lambda r, c: r["category"] in (c["Y"], c["Z"])),
    ("in_uuid", {"sku[in]": f"{U2},{U3}"}, lambda r, c: r["sku"] in (U2, U3)),
    ("in_id", {"id[in]": "<P1>,<P2>"}, lambda r, c: r["id"] in (c["P1"], c["P2"])),
    ("in_text", {"notes[in]": "small one,no price"}, lambda r, c: r["id"] in (c["P1"], c["P3"])),
    # -- nin (on non-null values: the spec says nothing about nulls for nin) --
    ("nin_string", {"name[nin]": "Widget,Gadget"},
     lambda r, c: r["name"] not in ("Widget", "Gadget")),
    ("nin_string_escaped_comma", {"name[nin]": "a\\,b"}, lambda r, c: r["name"] != "a,b"),
    ("nin_integer", {"qty[nin]": "5,12", "qty[null]": "false"},
     lambda r, c: nn(r["qty"]) and r["qty"] not in (5, 12)),
    ("nin_enum", {"kind[nin]": "a", "kind[null]": "false"},
     lambda r, c: nn(r["kind"]) and r["kind"] != "a"),
    ("nin_ref", {"category[nin]": "<X>", "category[null]": "false"},
     lambda r, c: nn(r["category"]) and r["category"] != c["X"]),
    ("nin_id", {"id[nin]": "<P0>,<P1>"}, lambda r, c: r["id"] not in (c["P0"], c["P1"])),
    ("nin_boolean", {"active[nin]": "true"}, lambda r, c: r["active"] is False),
    # -- lt le gt ge (null never compares) --
    ("lt_integer", {"qty[lt]": "5"}, lambda r, c: nn(r["qty"]) and r["qty"] < 5),
    ("le_integer", {"qty[le]": "5"}, lambda r, c: nn(r["qty"]) and r["qty"] <= 5),
    ("gt_integer", {"qty[gt]": "5"}, lambda r, c: nn(r["qty"]) and r["qty"] > 5),
    ("ge_integer", {"qty[ge]": "5"}, lambda r, c: nn(r["qty"]) and r["qty"] >= 5),
    ("range_integer_two_ops_one_field", {"qty[gt]": "0", "qty[lt]": "12"},
     lambda r, c: nn(r["qty"]) and 0 < r["qty"] < 12),
    ("lt_number", {"price[lt]": "9.99"}, lambda r, c: nn(r["price"]) and r["price"] < 9.99),
    ("ge_number", {"price[ge]": "19"}, lambda r, c: nn(r["price"]) and r["price"] >= 19),
    ("gt_number_negative", {"price[gt]": "-1"}, lambda r, c: nn(r["price"]) and r["price"] > -1),
    ("le_number_fraction", {"price[le]": "4.5"}, lambda r, c: nn(r["price"]) and r["price"] <= 4.5),
    ("lt_date", {"released[lt]": "2026-01-15"},
     lambda r, c: nn(r["released"]) and r["released"] < "2026-01-15"),
    ("ge_date", {"released[ge]": "2026-03-01"},
     lambda r, c: nn(r["released"]) and r["released"] >= "2026-03-01"),
    ("le_date", {"released[le]": "2024-02-29"},
     lambda r, c: nn(r["released"]) and r["released"] <= "2024-02-29"),
    ("gt_datetime", {"seen_at[gt]": "2026-01-15T10:00:00Z"}, lambda r, c: r["id"] == c["P1"]),
    ("le_datetime_fraction", {"seen_at[le]": "2026-01-15T10:00:00.000000Z"},
     lambda r, c: r["id"] in (c["P0"], c["P2"])),
    ("lt_datetime_offset", {"seen_at[lt]": "2026-01-15T11:00:00+01:00"},
     lambda r, c: r["id"] == c["P2"]),
    ("lt_string_binary", {"name[lt]": "b"}, lambda r, c: r["name"] < "b"),
    ("ge_string", {"name[ge]": "w"}, lambda r, c: r["name"] >= "w"),
    ("gt_text_drops_null", {"notes[gt]": "n"}, lambda r, c: nn(r["notes"]) and r["notes"] > "n"),
    ("lt_uuid", {"sku[lt]": U3}, lambda r, c: nn(r["sku"]) and r["sku"] < U3),
    ("lt_id", {"id[lt]": "<P5>"}, lambda r, c: r["id"] < c["P5"]),
    ("ge_id", {"id[ge]": "<P12>"}, lambda r, c: r["id"] >= c["P12"]),
    # -- like / ilike / nlike: only * is special, whole value --
    ("like_prefix_case_sensitive", {"name[like]": "Wid*"}, lambda r, c: like(r["name"], "Wid*")),
    ("like_suffix", {"name[like]": "*dget"}, lambda r, c: like(r["name"], "*dget")),
    ("like_infix", {"name[like]": "*idg*"}, lambda r, c: like(r["name"], "*idg*")),
    ("like_without_star_is_whole_value", {"name[like]": "Widg"}, lambda r, c: False),
    ("like_exact", {"name[like]": "Widget"}, lambda r, c: r["name"] == "Widget"),
    ("like_percent_underscore_literal", {"name[like]": "100%_off"},
     lambda r, c: r["name"] == "100%_off"),
    ("like_percent_is_not_a_wildcard", {"name[like]": "100%"}, lambda r, c: False),
    ("like_underscore_is_not_a_wildcard", {"name[like]": "_"}, lambda r, c: False),
    ("like_question_mark_is_not_a_wildcard", {"name[like]": "?"}, lambda r, c: False),
    ("like_brackets_are_not_a_class", {"name[like]": "[ab]"}, lambda r, c: False),
    ("like_star_in_middle", {"name[like]": "100*off"}, lambda r, c: like(r["name"], "100*off")),
    ("like_star_alone", {"name[like]": "*"}, lambda r, c: True),
    ("like_star_matches_empty_run", {"name[like]": "Widget*"}, lambda r, c: r["name"] == "Widget"),
    ("like_glob_specials_literal", {"name[like]": "arr[0]?"}, lambda r, c: r["name"] == "arr[0]?"),
    ("like_glob_specials_with_star", {"name[like]": "*[0]*"}, lambda r, c: r["name"] == "arr[0]?"),
    ("ilike_glob_specials_literal", {"name[ilike]": "ARR[0]?"},
     lambda r, c: r["name"] == "arr[0]?"),
    # backslash is an ordinary character in like patterns (only * is special)
    ("like_backslash_literal", {"name[like]": "back\\s*"}, lambda r, c: r["name"] == "back\\slash"),
    ("like_backslash_exact", {"name[like]": "back\\slash"}, lambda r, c: r["name"] == "back\\slash"),
    ("like_backslash_then_star", {"name[like]": "back\\*"}, lambda r, c: r["name"] == "back\\slash"),
    ("ilike_backslash_literal", {"name[ilike]": "BACK\\SLASH"},
     lambda r, c: r["name"] == "back\\slash"),
    ("like_unicode", {"name[like]": "\u00dcn\u00ef*"}, lambda r, c: r["id"] == c["P11"]),
    ("like_enum", {"kind[like]": "b"}, lambda r, c: r["kind"] == "b"),
    ("like_enum_star", {"kind[like]": "*"}, lambda r, c: nn(r["kind"])),
    ("like_text", {"notes[like]": "*widget*"}, lambda r, c: r["id"] == c["P0"]),
    ("like_uuid", {"sku[like]": "0a1b2c3d-*"}, lambda r, c: r["sku"] in (U1, U2)),
    ("like_id", {"id[like]": "<P0>"}, lambda r, c: r["id"] == c["P0"]),
    ("ilike_prefix", {"name[ilike]": "widget*"},
     lambda r, c: like(r["name"], "widget*", ci=True)),
    ("ilike_folds_ascii_only", {"name[ilike]": "\u00fcn\u00efcode*"}, lambda r, c: False),
    ("ilike_folds_the_ascii_letters", {"name[ilike]": "\u00dcN\u00efCODE W*"},
     lambda r, c: r["id"] == c["P11"]),
    ("ilike_percent_literal", {"name[ilike]": "100%_OFF"}, lambda r, c: r["name"] == "100%_off"),
    ("ilike_enum", {"kind[ilike]": "A"}, lambda r, c: r["kind"] == "a"),
    ("ilike_uuid", {"sku[ilike]": "0A1B2C3D-*"}, lambda r, c: r["sku"] in (U1, U2)),
    ("ilike_text", {"notes[ilike]": "BLUE*"}, lambda r, c: r["id"] == c["P0"]),
    ("nlike_string", {"name[nlike]": "*idget*"}, lambda r, c: not like(r["name"], "*idget*")),
    ("nlike_case_sensitive", {"name[nlike]": "w*"}, lambda r, c: not like(r["name"], "w*")),
    ("nlike_enum", {"kind[nlike]": "a", "kind[null]": "false"},
     lambda r, c: nn(r["kind"]) and r["kind"] != "a"),
    ("nlike_uuid", {"sku[nlike]": "0a1b*", "sku[null]": "false"}, lambda r, c: r["sku"] == U3),
    # -- null: every type --
    ("null_true_number", {"price[null]": "true"}, lambda r, c: r["price"] is None),
    ("null_false_number", {"price[null]": "false"}, lambda r, c: r["price"] is not None),
    ("null_true_integer", {"qty[null]": "true"}, lambda r, c: r["qty"] is None),
    ("null_true_enum", {"kind[null]": "true"}, lambda r, c: r["kind"] is None),
    ("null_true_ref", {"category[null]": "true"}, lambda r, c: r["category"] is None),
    ("null_false_date", {"released[null]": "false"}, lambda r, c: r["released"] is not None),
    ("null_true_text", {"notes[null]": "true"}, lambda r, c: r["notes"] is None),
    ("null_true_json", {"meta[null]": "true"}, lambda r, c: r["meta"] is None),
    ("null_false_json", {"meta[null]": "false"}, lambda r, c: r["meta"] is not None),
    ("null_false_uuid", {"sku[null]": "false"}, lambda r, c: r["sku"] is not None),
    ("null_true_datetime", {"seen_at[null]": "true"}, lambda r, c: r["seen_at"] is None),
    ("null_true_required_string", {"name[null]": "true"}, lambda r, c: False),
    ("null_false_boolean", {"active[null]": "false"}, lambda r, c: True),
    ("null_false_id", {"id[null]": "false"}, lambda r, c: True),
    ("null_false_barcode", {"barcode[null]": "false"}, lambda r, c: r["barcode"] is not None),
    # -- ref_list: by member --
    ("ref_list_member", {"tags": "<X>"}, lambda r, c: c["X"] in tags(r)),
    ("ref_list_member_eq", {"tags[eq]": "<Y>"}, lambda r, c: c["Y"] in tags(r)),
    ("ref_list_in_any", {"tags[in]": "<Y>,<Z>"},
     lambda r, c: c["Y"] in tags(r) or c["Z"] in tags(r)),
    ("ref_list_unknown_member", {"tags": NOBODY}, lambda r, c: False),
    # row 0 holds both X and Y: it must come back once, and count once
    ("ref_list_in_row_holding_both", {"tags[in]": "<X>,<Y>"},
     lambda r, c: c["X"] in tags(r) or c["Y"] in tags(r)),
    ("ref_list_two_member_filters", {"tags": "<X>", "tags[in]": "<Y>,<Z>"},
     lambda r, c: c["X"] in tags(r) and (c["Y"] in tags(r) or c["Z"] in tags(r))),
    # -- several filters: AND --
    ("and_three_types", {"kind": "a", "active": "true", "price[lt]": "50"},
     lambda r, c: r["kind"] == "a" and r["active"] and nn(r["price"]) and r["price"] < 50),
    ("and_ref_and_ilike", {"category": "<X>", "name[ilike]": "*widget*"},
     lambda r, c: r["category"] == c["X"] and like(r["name"], "*widget*", ci=True)),
    ("and_contradiction", {"qty[gt]": "5", "qty[lt]": "5"}, lambda r, c: False),
    ("and_ref_list_and_enum", {"tags": "<X>", "kind": "c"},
     lambda r, c: c["X"] in tags(r) and r["kind"] == "c"),
    # -- values are data, never SQL --
    ("sql_in_eq_value", {"name": "' OR '1'='1"}, lambda r, c: False),
    ("sql_in_like_value", {"name[like]": "*' OR 1=1 --"}, lambda r, c: False),
    ("sql_in_in_list", {"name[in]": "x') OR ('1'='1"}, lambda r, c: False),
    ("sql_in_ilike_value", {"name[ilike]": "%' OR name LIKE '%"}, lambda r, c: False),
]


@pytest.mark.parametrize("params,pred", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_filter(shop, data, params, pred):
    ctx, rows = data
    p = subst(params, ctx)
    want = [r["id"] for r in rows if pred(r, ctx)]
    got, r = get_list(shop, "products", params=dict(p, limit=100))
    assert ids(got) == want, f"filter {p}"
    assert pag(r)["Total"] == str(len(want)), f"filter {p}: total {pag(r)}"


def test_seed_shape_sanity(shop, data):
    # Guards the model above: the unfiltered list is the seed in creation order.
    ctx, rows = data
    got, _ = get_list(shop, "products", params={"limit": 100})
    assert ids(got) == [r["id"] for r in rows]
    assert all(r["notes"] is None or isinstance(r["notes"], str) for r in rows)


def test_filtered_rows_are_whole_rows(shop, data):
    # A filtered list holds the same rows as GET by id (less the expensive field).
    ctx, rows = data
    got, _ = get_list(shop, "products", params={"kind": "a", "limit": 100})
    want = [dict((k, v) for k, v in r.items() if k != "notes") for r in rows if r["kind"] == "a"]
    assert got == want


def test_filter_totals_match_matches(shop, data):
    ctx, rows = data
    for params, n in (({"kind": "a"}, sum(r["kind"] == "a" for r in rows)),
                      ({"qty[ge]": "5"}, sum(r["qty"] is not None and r["qty"] >= 5 for r in rows)),
                      ({"tags": ctx["X"]}, sum(ctx["X"] in tags(r) for r in rows)),
                      ({"name": "nope"}, 0)):
        got, r = get_list(shop, "products", params=dict(params, limit=2))
        assert len(got) == min(2, n)
        assert pag(r)["Total"] == str(n), (params, pag(r))
        assert pag(r)["Returned"] == str(min(2, n)), (params, pag(r))


def test_raw_brackets_and_commas_in_url(shop, data):
    # The same filters written without percent-encoding give the same rows.
    ctx, rows = data
    raw, _ = get_list(shop, "products?qty[in]=5,12&name[like]=*i*&limit=100")
    enc, _ = get_list(shop, "products", params={"qty[in]": "5,12", "name[like]": "*i*",
                                                "limit": 100})
    want = [r["id"] for r in rows if r["qty"] in (5, 12) and like(r["name"], "*i*")]
    assert ids(raw) == ids(enc) == want
    raw, _ = get_list(shop, "products?name[in]=a%5C,b,Zed&limit=100")  # a\,b: one value
    assert ids(raw) == [r["id"] for r in rows if r["name"] in ("a,b", "Zed")]
    raw, _ = get_list(shop, f"products?category={ctx['X']},{ctx['Z']}&limit=100")
    assert ids(raw) == [r["id"] for r in rows if r["category"] in (ctx["X"], ctx["Z"])]


# -- 400s -------------------------------------------------------------------------------------

@pytest.mark.parametrize("param", ["bogus", "Name", "NAME", "created", "category_id", "tag"])
def test_unknown_field_is_400_with_the_documented_message(shop, data, param):
    r = shop.get("products", params={param: "1"})
    d = bad_param(r, param, shop)
    assert f"unknown query parameter '{param}'" in d, d


def test_unknown_field_with_operator_is_400(shop, data):
    d = detail_of(problem(shop.get("products", params={"bogus[eq]": "1"}), 400, shop))
    assert "bogus" in d, d


@pytest.mark.parametrize("param,value,named", [
    ("qty[foo]", "1", "qty[foo]"),
    ("name[regex]", "x", "name[regex]"),
    ("name[between]", "a,b", "name[between]"),
    ("qty[]", "1", "qty"),
    ("qty[gt", "1", "qty[gt"),
    ("qty[gt][lt]", "1", "qty"),
    ("qty[not]", "1", "qty[not]"),
    ("price[eq ]", "1", "price"),
])
def test_unknown_operator_is_400(shop, data, param, value, named):
    d = detail_of(problem(shop.get("products", params={param: value}), 400, shop))
    assert_names_param(d, named)


# operator that does not fit the field's type
UNFIT = [
    ("active[gt]", "1"), ("active[gt]", "true"), ("active[lt]", "true"), ("active[ge]", "false"),
    ("active[like]", "t*"), ("active[ilike]", "t*"), ("active[nlike]", "t*"),
    ("price[like]", "x"), ("price[ilike]", "1*"), ("price[nlike]", "1*"),
    ("qty[like]", "1*"), ("released[like]", "2026*"), ("seen_at[ilike]", "2026*"),
    ("kind[lt]", "b"), ("kind[ge]", "a"),
    ("category[gt]", "<X>"), ("category[like]", "*"),
    ("tags[ne]", "<X>"), ("tags[nin]", "<X>"), ("tags[lt]", "<X>"), ("tags[like]", "*"),
    ("meta", "1"), ("meta[eq]", "1"), ("meta[ne]", "1"), ("meta[in]", "1,2"),
    ("meta[nin]", "1"), ("meta[lt]", "1"), ("meta[like]", "*"),
]


@pytest.mark.parametrize("param,value", UNFIT, ids=[f"{p}={v}" for p, v in UNFIT])
def test_operator_not_fitting_type_is_400(shop, data, param, value):
    ctx, _ = data
    bad_param(shop.get("products", params={param: subst(value, ctx)}), param, shop)


MALFORMED = [
    ("qty", "abc"), ("qty", "1.5"), ("qty", ""), ("qty", "1e3"), ("qty", "0x10"),
    ("qty", "99999999999999999999"), ("qty", "5,x"), ("qty", "5,"), ("qty[in]", "1,abc"),
    ("qty[gt]", "abc"), ("qty[le]", "1.5"),
    ("price", "abc"), ("price", "1,2"), ("price", "inf"), ("price", "nan"), ("price", ""),
    ("price", "0x10"), ("price", "1e400"), ("qty", "9223372036854775808"),
    ("price[gt]", "x"), ("price[in]", "1,x"),
    ("active", "maybe"), ("active", "2"), ("active", "truthy"), ("active", ""),
    ("kind", "z"), ("kind", "A"), ("kind", "a,z"), ("kind[in]", "a,z"), ("kind[ne]", "d"),
    ("released", "2026-13-01"), ("released", "2026-02-30"), ("released", "2026-1-5"),
    ("released", "20260115"), ("released[gt]", "tomorrow"), ("released[in]", "2026-01-15,x"),
    ("seen_at", "yesterday"), ("seen_at", "2026-01-15"), ("seen_at[lt]", "2026-01-15T25:00:00Z"),
    ("category", "not-a-uuid"), ("category", "<X>,nope"), ("category[in]", "nope"),
    ("sku", "nope"), ("sku[lt]", "nope"),
    ("id", "nope"), ("id[in]", "<P0>,nope"), ("id[gt]", "12"),
    ("tags", "nope"), ("tags[in]", "<X>,nope"),
    ("price[null]", "yes"), ("price[null]", "1"), ("price[null]", ""), ("name[null]", "maybe"),
    ("meta[null]", "TRUE"),
]


@pytest.mark.parametrize("param,value", MALFORMED, ids=[f"{p}={v}" for p, v in MALFORMED])
def test_malformed_value_is_400(shop, data, param, value):
    ctx, _ = data
    bad_param(shop.get("products", params={param: subst(value, ctx)}), param, shop)


REPEATED = [
    ("qty", ["1", "2"]), ("qty[gt]", ["1", "2"]), ("name", ["Widget", "Widget"]),
    ("limit", ["5", "5"]), ("offset", ["0", "1"]), ("order_by", ["name", "qty"]),
    ("fields", ["name", "price"]), ("envelope", ["true", "true"]), ("cursor", ["start", "start"]),
    ("include_notes", ["true", "true"]), ("api-version", ["2", "2"]),
]


@pytest.mark.parametrize("param,values", REPEATED, ids=[p for p, _ in REPEATED])
def test_repeated_parameter_is_400(shop, data, param, values):
    bad_param(shop.get("products", params=[(param, v) for v in values]), param, shop)


# 39 distinct filter parameters, all valid on their own.
_MANY = ([(f"name[{op}]", "m") for op in ("eq", "ne", "lt", "le", "gt", "ge", "like", "ilike",
                                         "nlike")] + [("name[in]", "m"), ("name[nin]", "m"),
                                                      ("name[null]", "false")]
         + [(f"qty[{op}]", "1") for op in ("eq", "ne", "in", "nin", "lt", "le", "gt", "ge")]
         + [("qty[null]", "false")]
         + [(f"price[{op}]", "1") for op in ("eq", "ne", "in", "nin", "lt", "le", "gt", "ge")]
         + [("price[null]", "false")]
         + [(f"released[{op}]", "2026-01-01") for op in ("eq", "ne", "in", "nin", "lt", "le",
                                                         "gt", "ge")]
         + [("released[null]", "false")])


def test_32_filters_allowed(shop, data):
    assert len(_MANY) >= 33
    r = shop.get("products", params=_MANY[:32])
    assert r.status_code == 200, r.text
    assert r.json() == []


def test_33_filters_is_400(shop, data):
    r = shop.get("products", params=_MANY[:33])
    bad_param(r, _MANY[32][0], shop)  # the detail names the filter that is one too many


def test_plus_in_query_is_a_space(shop, data):
    ctx, rows = data
    got, _ = get_list(shop, "products?name=WIDGET+LARGE")
    assert ids(got) == [r["id"] for r in rows if r["name"] == "WIDGET LARGE"]
    got, _ = get_list(shop, "products?name[like]=WIDGET+*&limit=100")
    assert ids(got) == [r["id"] for r in rows if r["name"] == "WIDGET LARGE"]


def test_parameter_without_value(shop, data):
    bad_param(shop.get("products?limit"), "limit", shop)
    bad_param(shop.get("products?qty"), "qty", shop)
    d = bad_param(shop.get("products?bogus"), "bogus", shop)
    assert "unknown query parameter 'bogus'" in d


@pytest.mark.parametrize("param", ["qty[in]", "qty[nin]", "qty"])
def test_1000_list_values_allowed(shop, data, param):
    ctx, rows = data
    values = ",".join(str(i) for i in range(1000))
    got, _ = get_list(shop, "products", params={param: values, "limit": 100})
    if param == "qty[nin]":
        want = [r["id"] for r in rows if r["qty"] is not None and not 0 <= r["qty"] < 1000]
    else:
        want = [r["id"] for r in rows if r["qty"] is not None and 0 <= r["qty"] < 1000]
    assert ids(got) == want


@pytest.mark.parametrize("param", ["qty[in]", "qty[nin]", "qty", "name[in]"])
def test_1001_list_values_is_400(shop, data, param):
    values = ",".join(str(i) for i in range(1001))
    bad_param(shop.get("products", params={param: values}), param, shop)


# -- the app's conventions: payload keys and date formats ------------------------------------

CONV_APP = """\
app:
  name: conv
  base_path: /api
  conventions: {payload_keys: camel, dates: compact}
models:
  event:
    route: events
    fields:
      title_text: {type: string, required: true}
      starts_on: {type: date}
      seen_at: {type: datetime}
      unit_price: {type: number}
      internal_notes: {type: text, expensive: true}
"""


@pytest.fixture(scope="module")
def conv(module_server):
    srv = module_server(CONV_APP)
    rows = [create_full(srv, "events", b) for b in (
        {"titleText": "e0", "startsOn": "20260301", "seenAt": "20260301140509", "unitPrice": 1.5,
         "internalNotes": "n0"},
        {"titleText": "e1", "startsOn": "20260315", "seenAt": "20260315000000", "unitPrice": 3},
        {"titleText": "e2"},
    )]
    return srv, rows


@pytest.mark.parametrize("params,want", [
    ({"startsOn": "20260301"}, [0]),
    ({"startsOn[gt]": "20260301"}, [1]),
    ({"startsOn[in]": "20260301,20260315"}, [0, 1]),
    ({"seenAt": "20260301140509"}, [0]),
    ({"seenAt[lt]": "20260315000000"}, [0]),
    ({"unitPrice[ge]": "2"}, [1]),
    ({"titleText[like]": "e*", "startsOn[null]": "true"}, [2]),
    ({"id": "<0>"}, [0]),
])
def test_filters_use_payload_keys_and_app_dates(conv, params, want):
    srv, rows = conv
    p = {k: v.replace("<0>", rows[0]["id"]) for k, v in params.items()}
    got, _ = get_list(srv, "events", p)
    assert ids(got) == [rows[i]["id"] for i in want]


@pytest.mark.parametrize("param,value", [
    ("startsOn", "2026-03-01"), ("seenAt", "2026-03-01T14:05:09Z"), ("startsOn[gt]", "2026-03-01"),
    ("seenAt", "2026-03-01T14:05:09"),
])
def test_iso_dates_rejected_when_app_uses_compact(conv, param, value):
    srv, _ = conv
    bad_param(srv.get("events", params={param: value}), param, srv)


@pytest.mark.parametrize("param", ["unit_price", "starts_on", "title_text", "created_at[gt]"])
def test_snake_names_are_not_payload_keys(conv, param):
    srv, _ = conv
    r = srv.get("events", params={param: "1"})
    d = detail_of(problem(r, 400, srv))
    assert param.split("[")[0] in d, d


def test_order_by_and_include_use_payload_keys(conv):
    srv, rows = conv
    got, _ = get_list(srv, "events", {"order_by": "-unitPrice", "unitPrice[null]": "false"})
    assert ids(got) == [rows[1]["id"], rows[0]["id"]]
    got, _ = get_list(srv, "events", {"order_by": "-createdAt"})
    assert ids(got) == [r["id"] for r in reversed(rows)]
    bad_param(srv.get("events", params={"order_by": "unit_price"}), "order_by", srv)
    got, _ = get_list(srv, "events", {"include_internalNotes": "true"})
    assert [g["internalNotes"] for g in got] == ["n0", None, None]
    got, _ = get_list(srv, "events")
    assert all("internalNotes" not in g for g in got)
    bad_param(srv.get("events", params={"include_internal_notes": "true"}),
              "include_internal_notes", srv)


def test_fields_use_payload_keys(conv):
    srv, rows = conv
    got, _ = get_list(srv, "events", {"fields": "titleText,unitPrice"})
    assert got == [{"id": r["id"], "titleText": r["titleText"], "unitPrice": r["unitPrice"]}
                   for r in rows]
    bad_param(srv.get("events", params={"fields": "title_text"}), "fields", srv)


def test_stored_filter_uses_payload_keys_and_app_dates(conv):
    srv, rows = conv
    r = srv.post("events/filter", json={"startsOn": {"ge": "20260315"}})
    assert r.status_code == 201, r.text
    got, _ = get_list(srv, f"events/filter/{r.json()['id']}")
    assert ids(got) == [rows[1]["id"]]
