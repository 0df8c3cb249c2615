"""Zou-compatible list queries (docs/query.md, "Lenient lists").

Against apps/kitsu, which switches every setting on: Python booleans in
boolean filters, unknown parameter names ignored, `limit` without `page`
ignored (a whole list), many-to-many ids only with `relations=true`,
`name=` matching case-insensitively, JSON lists (`?id=["a","b"]`) and the
page-mode order (updated_at desc, created_at desc, id). A small app shows
each setting off and on, so the strict default of other apps is pinned too.
"""
import itertools
import json
import subprocess
import uuid

import pytest

from harness import restd_bin, problem, sanitizer_env
from kitsu_helpers import kitsu_server

_seq = itertools.count(1)


def uniq(prefix="x"):
    return f"{prefix}{next(_seq)}-{uuid.uuid4().hex[:6]}"


def zou_400(r, *needles):
    assert r.status_code == 400, (r.request.url, r.status_code, r.text[:500])
    body = r.json()
    assert body["error"] is True, body
    for n in needles:
        assert n in body["message"], (n, body)
    return body


def ok_list(r):
    assert r.status_code == 200, (r.request.url, r.status_code, r.text[:500])
    body = r.json()
    assert isinstance(body, list), body
    return body


@pytest.fixture(scope="module")
def kitsu(module_server):
    return kitsu_server(module_server)


@pytest.fixture(scope="module")
def people(kitsu):
    """Two humans and a bot, with a tag shared by this module only."""
    tag = uuid.uuid4().hex[:8]
    human = kitsu.create("persons", {"first_name": "Ann", "last_name": tag, "email": f"ann-{tag}@x.org"})
    other = kitsu.create("persons", {"first_name": "Bob", "last_name": tag, "email": f"bob-{tag}@x.org"})
    bot = kitsu.create("persons", {"first_name": "Robo", "last_name": tag, "is_bot": True,
                                   "email": f"bot-{tag}@x.org"})
    return {"tag": tag, "human": human, "other": other, "bot": bot}


@pytest.fixture(scope="module")
def prod(kitsu, people):
    """A project with a team, an asset type, a task type and status, and
    three tasks: t1 assigned to Ann, t2 to Ann and Bob, t3 to nobody."""
    project = kitsu.create("projects", {"name": uniq("Big Buck"),
                                        "team": [people["human"]["id"], people["other"]["id"]]})
    etype = kitsu.create("entity-types", {"name": uniq("Character")})
    ttype = kitsu.create("task-types", {"name": uniq("Modeling"), "for_entity": "Asset"})
    status = kitsu.create("task-status", {"name": uniq("Todo"), "short_name": uniq("td"),
                                          "color": "#f5f5f5"})
    asset = kitsu.create("entities", {"name": uniq("Bunny"), "project_id": project["id"],
                                      "entity_type_id": etype["id"]})
    base = {"project_id": project["id"], "entity_id": asset["id"], "task_type_id": ttype["id"],
            "task_status_id": status["id"]}
    ann, bob = people["human"]["id"], people["other"]["id"]
    t1 = kitsu.create("tasks", {**base, "name": "t1", "assignees": [ann]})
    t2 = kitsu.create("tasks", {**base, "name": "t2", "assignees": [ann, bob]})
    t3 = kitsu.create("tasks", {**base, "name": "t3", "assignees": []})
    return {"project": project, "asset": asset, "tasks": [t1, t2, t3], "base": base}


# -- 1. Python booleans -------------------------------------------------------

@pytest.mark.parametrize("word,expect_bot", [
    ("True", True), ("False", False), ("true", True), ("FALSE", False), ("yes", True),
    ("No", False), ("on", True), ("OFF", False), ("1", True), ("0", False), ("t", True),
    ("F", False), ("Y", True), ("n", False),
])
def test_boolean_filter_takes_strtobool_words(kitsu, people, word, expect_bot):
    rows = ok_list(kitsu.get("persons", params={"last_name": people["tag"], "is_bot": word}))
    names = sorted(r["first_name"] for r in rows)
    assert names == (["Robo"] if expect_bot else ["Ann", "Bob"]), (word, names)


@pytest.mark.parametrize("word", ["maybe", "2", "tru", "", "yess", "True "])
def test_bad_boolean_is_400_naming_the_parameter(kitsu, word):
    zou_400(kitsu.get("persons", params={"is_bot": word}), "is_bot")


def test_gazu_person_by_email(kitsu, people):
    # gazu.person.get_person_by_email: GET data/persons?email=...&is_bot=False
    rows = ok_list(kitsu.get("persons", params={"email": people["human"]["email"], "is_bot": "False"}))
    assert [r["id"] for r in rows] == [people["human"]["id"]]


# -- 2. unknown names, limit without page ---------------------------------------

def test_unknown_parameters_are_ignored(kitsu, people):
    base = ok_list(kitsu.get("persons", params={"last_name": people["tag"]}))
    assert len(base) == 3
    noisy = ok_list(kitsu.get("persons", params={"last_name": people["tag"], "nope": "1",
                                                 "nickname": "x", "include_data": "true",
                                                 "type": "Person"}))
    assert noisy == base


def test_known_field_with_bad_operator_or_value_still_400(kitsu):
    zou_400(kitsu.get("persons", params={"first_name[bogus]": "x"}), "first_name")
    zou_400(kitsu.get("persons", params={"studio_id": "not-a-uuid"}), "studio_id")
    zou_400(kitsu.get("persons", params={"page": "x"}), "page")


def test_limit_and_offset_without_page_are_ignored(kitsu, people):
    q = {"last_name": people["tag"]}
    rows = ok_list(kitsu.get("persons", params=q))
    assert len(rows) == 3
    for extra in ({"limit": "1"}, {"offset": "2"}, {"limit": "abc"}, {"limit": "1", "offset": "1"}):
        assert ok_list(kitsu.get("persons", params={**q, **extra})) == rows, extra


def test_bare_list_is_whole_past_the_default_limit(kitsu):
    # default_limit is 100; without page a list has every row (up to max_limit)
    tag = uuid.uuid4().hex[:8]
    for i in range(105):
        kitsu.create("departments", {"name": f"d{i}-{tag}", "color": "#000000"})
    rows = ok_list(kitsu.get("departments", params={"limit": "5"}))
    assert len([r for r in rows if r["name"].endswith(tag)]) == 105


def test_limit_with_page_still_counts(kitsu, people):
    r = kitsu.get("persons", params={"last_name": people["tag"], "page": 1, "limit": 2})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["limit"] == 2 and len(body["data"]) == 2 and body["total"] == 3
    zou_400(kitsu.get("persons", params={"page": 1, "limit": "abc"}), "limit")
    zou_400(kitsu.get("persons", params={"page": 1, "limit": 5001}), "limit")


# -- 3. relations ------------------------------------------------------------------

def test_ref_lists_left_out_of_lists_without_relations(kitsu, prod):
    q = {"project_id": prod["project"]["id"]}
    rows = ok_list(kitsu.get("tasks", params=q))
    assert len(rows) == 3
    for row in rows:
        assert "assignees" not in row, row
        assert row["name"] in ("t1", "t2", "t3")
    for word in ("true", "True", "1", "yes"):
        rows = ok_list(kitsu.get("tasks", params={**q, "relations": word}))
        got = {r["name"]: sorted(r["assignees"]) for r in rows}
        want = {t["name"]: sorted(t["assignees"]) for t in prod["tasks"]}
        assert got == want, word
    for word in ("false", "False", "0"):
        rows = ok_list(kitsu.get("tasks", params={**q, "relations": word}))
        assert all("assignees" not in r for r in rows), word


def test_relations_in_pages_and_single_get(kitsu, prod):
    body = kitsu.get("projects", params={"id": prod["project"]["id"], "page": 1}).json()
    assert "team" not in body["data"][0]
    body = kitsu.get("projects", params={"id": prod["project"]["id"], "page": 1,
                                         "relations": "True"}).json()
    assert sorted(body["data"][0]["team"]) == sorted(prod["project"]["team"])
    one = kitsu.get(f"projects/{prod['project']['id']}").json()
    assert sorted(one["team"]) == sorted(prod["project"]["team"])
    assert "asset_types" in one and "task_types" in one


def test_fields_can_name_a_ref_list(kitsu, prod):
    rows = ok_list(kitsu.get("tasks", params={"project_id": prod["project"]["id"],
                                              "fields": "name,assignees"}))
    assert all(set(r) >= {"id", "name", "assignees"} for r in rows), rows
    assert all("description" not in r for r in rows)


def test_bad_relations_is_400(kitsu):
    zou_400(kitsu.get("tasks", params={"relations": "maybe"}), "relations")


# -- 4. name= ignores case ----------------------------------------------------------

def test_name_filter_ignores_case(kitsu):
    name = uniq("Mixed_Case%Name")
    p = kitsu.create("projects", {"name": name})
    for variant in (name, name.upper(), name.lower()):
        rows = ok_list(kitsu.get("projects", params={"name": variant}))
        assert [r["id"] for r in rows] == [p["id"]], variant
    # it is equality: no wildcards, % and _ are literal
    for pattern in (name[:-2], name.replace("_", "x"), name.replace("%", "xyz"), "%", "_%", name + "%"):
        assert ok_list(kitsu.get("projects", params={"name": pattern})) == [], pattern
    # an explicit operator keeps its own meaning
    assert ok_list(kitsu.get("projects", params={"name[eq]": name.upper()})) == []
    assert [r["id"] for r in ok_list(kitsu.get("projects", params={"name[eq]": name}))] == [p["id"]]


def test_stored_filter_bare_name_ignores_case(kitsu, prod):
    name = prod["project"]["name"]
    for body, want in (({"name": name.upper()}, [prod["project"]["id"]]),
                       ({"name": [name.lower(), "nope"]}, [prod["project"]["id"]]),
                       ({"name": {"eq": name.upper()}}, [])):
        r = kitsu.post("projects/filter", json=body)
        assert r.status_code == 201, r.text
        rows = ok_list(kitsu.get(f"projects/filter/{r.json()['id']}"))
        assert [x["id"] for x in rows] == want, body


def test_gazu_lookups_by_name(kitsu, prod):
    # get_task_type_by_name, get_asset_type_by_name, get_project_by_name
    ttype = kitsu.get(f"task-types/{prod['base']['task_type_id']}").json()
    rows = ok_list(kitsu.get("task-types", params={"name": ttype["name"].lower(), "for_entity": "Asset"}))
    assert [r["id"] for r in rows] == [ttype["id"]]
    rows = ok_list(kitsu.get("projects", params={"name": prod["project"]["name"].swapcase()}))
    assert [r["id"] for r in rows] == [prod["project"]["id"]]


def test_name_json_list_ignores_case(kitsu):
    a = kitsu.create("task-types", {"name": uniq("Anim"), "for_entity": "Shot"})
    b = kitsu.create("task-types", {"name": uniq("Comp"), "for_entity": "Shot"})
    rows = ok_list(kitsu.get("task-types", params={"name": json.dumps([a["name"].upper(), b["name"].lower()])}))
    assert sorted(r["id"] for r in rows) == sorted([a["id"], b["id"]])


# -- 5. JSON lists -------------------------------------------------------------------

def test_json_id_list_means_in(kitsu, prod):
    t1, t2, t3 = prod["tasks"]
    rows = ok_list(kitsu.get("tasks", params={"id": json.dumps([t1["id"], t3["id"]])}))
    assert sorted(r["id"] for r in rows) == sorted([t1["id"], t3["id"]])
    rows = ok_list(kitsu.get("tasks", params={"project_id": json.dumps([prod["project"]["id"]])}))
    assert len(rows) == 3
    rows = ok_list(kitsu.get("tasks", params={"id[in]": json.dumps([t2["id"]])}))
    assert [r["id"] for r in rows] == [t2["id"]]
    rows = ok_list(kitsu.get("tasks", params={"project_id": prod["project"]["id"],
                                              "id[nin]": json.dumps([t2["id"]])}))
    assert sorted(r["id"] for r in rows) == sorted([t1["id"], t3["id"]])
    # other scalar types: integers, booleans
    rows = ok_list(kitsu.get("tasks", params={"project_id": prod["project"]["id"], "difficulty": "[3, 4]"}))
    assert len(rows) == 3


def test_json_list_with_paging(kitsu, prod):
    ids = [t["id"] for t in prod["tasks"]]
    body = kitsu.get("tasks", params={"id": json.dumps(ids), "page": 1, "limit": 2}).json()
    assert body["total"] == 3 and len(body["data"]) == 2


@pytest.mark.parametrize("value,needle", [
    ("[", "JSON list"),
    ('["a"', "JSON list"),
    ("[1]", "id"),
    ("[null]", "id"),
    ('[["0190a2b4-1111-7000-8000-000000000001"]]', "id"),
    ('[{"id": "0190a2b4-1111-7000-8000-000000000001"}]', "id"),
    ('["not-a-uuid"]', "id"),
    ("[]", "id"),
    ('["0190a2b4-1111-7000-8000-000000000001"] x', "JSON list"),
    ("[" * 200 + "]" * 200, "JSON list"),
    ("[1e999]", "id"),
    ("[99999999999999999999999]", "JSON list"),
    ('["\\u0000"]', "JSON list"),
    ('{"a": 1}', "id"),
])
def test_bad_json_list_is_400_naming_the_parameter(kitsu, value, needle):
    body = zou_400(kitsu.get("tasks", params={"id": value}), needle)
    assert "'id'" in body["message"], body


def test_json_list_is_bounded(kitsu):
    ids = [str(uuid.UUID(int=i + 1)) for i in range(1001)]
    zou_400(kitsu.get("tasks", params={"id": json.dumps(ids)}), "1000")
    rows = ok_list(kitsu.get("tasks", params={"id": json.dumps(ids[:1000])}))
    assert rows == []


def test_json_list_with_a_single_value_operator_is_literal(kitsu):
    # name[eq] (an explicit operator) takes the text as it is: the way to
    # match a name that starts with '['
    p = kitsu.create("projects", {"name": "[WIP] " + uniq("p")})
    rows = ok_list(kitsu.get("projects", params={"name[eq]": p["name"]}))
    assert [r["id"] for r in rows] == [p["id"]]
    zou_400(kitsu.get("projects", params={"name": p["name"]}), "name")
    # like, ne and the other one-value operators never read a JSON list
    rows = ok_list(kitsu.get("projects", params={"name[like]": "[WIP]*", "id": p["id"]}))
    assert [r["id"] for r in rows] == [p["id"]]
    rows = ok_list(kitsu.get("projects", params={"name[ne]": '["x"]', "id": p["id"]}))
    assert [r["id"] for r in rows] == [p["id"]]


# -- 6. page order -----------------------------------------------------------------------

def test_page_order_is_updated_desc(kitsu):
    tag = uuid.uuid4().hex[:6]
    rows = [kitsu.create("task-status", {"name": f"ord-{tag}-{i}", "short_name": f"{tag}{i}",
                                         "color": "#000000"}) for i in range(4)]
    upd = kitsu.put(f"task-status/{rows[1]['id']}", json={**{k: v for k, v in rows[1].items()
                                                             if k not in ("id", "created_at", "updated_at", "type")},
                                                          "color": "#ffffff"})
    assert upd.status_code == 200, upd.text
    ids = [r["id"] for r in rows]
    q = {"id": json.dumps(ids)}
    page = kitsu.get("task-status", params={**q, "page": 1}).json()["data"]
    # the updated one first, then the others newest first
    assert [r["id"] for r in page] == [ids[1], ids[3], ids[2], ids[0]]
    stamps = [(r["updated_at"], r["created_at"]) for r in page]
    assert stamps == sorted(stamps, reverse=True)
    # order_by wins over the page order; a bare list keeps creation order
    page = kitsu.get("task-status", params={**q, "page": 1, "order_by": "name"}).json()["data"]
    assert [r["id"] for r in page] == ids
    assert [r["id"] for r in ok_list(kitsu.get("task-status", params=q))] == ids
    # page 2 of 2 continues the same order
    p2 = kitsu.get("task-status", params={**q, "page": 2, "limit": 3}).json()
    assert [r["id"] for r in p2["data"]] == [ids[0]] and p2["nb_pages"] == 2


# -- 7. fields= --------------------------------------------------------------------------

@pytest.mark.parametrize("sel,keys", [
    ("type", {"id"}),
    ("id,name", {"id", "name"}),
    ("name,nope,type", {"id", "name"}),
    ("nope", {"id"}),
])
def test_fields_ignores_unknown_names(kitsu, prod, sel, keys):
    rows = ok_list(kitsu.get("projects", params={"id": prod["project"]["id"], "fields": sel}))
    assert len(rows) == 1
    # another branch adds a per-row "type"; it may be there, nothing else may
    assert set(rows[0]) - {"type"} == keys, rows[0]


# -- 8. relation keys filter by membership -------------------------------------------------

def test_assignees_membership(kitsu, prod, people):
    ann, bob = people["human"]["id"], people["other"]["id"]
    t1, t2, t3 = prod["tasks"]
    names = lambda rows: sorted(r["name"] for r in rows)  # noqa: E731
    q = {"project_id": prod["project"]["id"]}
    assert names(ok_list(kitsu.get("tasks", params={**q, "assignees": ann}))) == ["t1", "t2"]
    assert names(ok_list(kitsu.get("tasks", params={**q, "assignees": bob}))) == ["t2"]
    assert names(ok_list(kitsu.get("tasks", params={**q, "assignees": json.dumps([bob])}))) == ["t2"]
    assert names(ok_list(kitsu.get("tasks", params={**q, "assignees": json.dumps([ann, bob])}))) == ["t1", "t2"]
    rows = ok_list(kitsu.get("tasks", params={**q, "assignees": bob, "relations": "True", "nope": "x"}))
    assert [r["assignees"] for r in rows] == [t2["assignees"]]
    body = kitsu.get("tasks", params={**q, "assignees": ann, "page": 1}).json()
    assert body["total"] == 2
    assert names(ok_list(kitsu.get("projects", params={"team": bob, "id": prod["project"]["id"]}))) == \
        [prod["project"]["name"]]
    zou_400(kitsu.get("tasks", params={"assignees": "[1]"}), "assignees")
    zou_400(kitsu.get("tasks", params={"assignees": "not-an-id"}), "assignees")


# -- every setting off and on, in a small app ---------------------------------------------

SMALL = """
app:
  name: zq
  lists:
    paging: page
{lists}models:
  tag:
    route: tags
    fields:
      name: {{type: string{filter}}}
  item:
    route: items
    fields:
      name: {{type: string{filter}}}
      flag: {{type: boolean}}
      tags: {{type: ref_list, model: tag}}
"""

LENIENT = """    unknown_params: ignore
    unpaged: whole
    relations: on_request
    json_lists: true
    page_order: [-updated_at, id]
"""


def small_app(lenient):
    return SMALL.format(lists=LENIENT if lenient else "", filter=", filter: ilike" if lenient else "")


@pytest.fixture(scope="module", params=[False, True], ids=["strict", "lenient"])
def small(module_server, request):
    srv = module_server(small_app(request.param))
    tag = srv.create("tags", {"name": "t"})
    items = [srv.create("items", {"name": f"Item{i}", "flag": i % 2 == 0, "tags": [tag["id"]]})
             for i in range(3)]
    srv.items, srv.tag, srv.lenient = items, tag, request.param
    return srv


def test_small_unknown_params(small):
    r = small.get("items", params={"nope": "1"})
    if small.lenient:
        assert len(r.json()) == 3
    else:
        assert "nope" in problem(r, 400)["detail"]
    r = small.get("items", params={"fields": "name,nope"})
    if small.lenient:
        assert all(set(x) == {"id", "name"} for x in r.json())
    else:
        problem(r, 400)


def test_small_unpaged(small):
    r = small.get("items", params={"limit": "1"})
    assert r.status_code == 200
    assert len(r.json()) == (3 if small.lenient else 1)
    r = small.get("items", params={"limit": "x"})
    if small.lenient:
        assert len(r.json()) == 3
    else:
        problem(r, 400)


def test_small_relations(small):
    r = small.get("items", params={"relations": "true"})
    if small.lenient:
        assert all(x["tags"] == [small.tag["id"]] for x in r.json())
        assert all("tags" not in x for x in small.get("items").json())
    else:
        problem(r, 400)
        assert all(x["tags"] == [small.tag["id"]] for x in small.get("items").json())
    assert small.get(f"items/{small.items[0]['id']}").json()["tags"] == [small.tag["id"]]


def test_small_name_and_json_lists(small):
    r = small.get("items", params={"name": "ITEM1"})
    assert len(r.json()) == (1 if small.lenient else 0)
    ids = [small.items[0]["id"], small.items[2]["id"]]
    r = small.get("items", params={"id": json.dumps(ids)})
    if small.lenient:
        assert sorted(x["id"] for x in r.json()) == sorted(ids)
    else:
        assert "id" in problem(r, 400)["detail"]


def test_small_booleans_everywhere(small):
    # Python booleans are engine-wide, not a setting
    assert len(small.get("items", params={"flag": "True"}).json()) == 2
    assert len(small.get("items", params={"flag": "no"}).json()) == 1


def test_small_page_order(small):
    it = small.items
    r = small.patch(f"items/{it[0]['id']}", json={"name": "Item0b"})
    assert r.status_code == 200, r.text
    data = small.get("items", params={"page": 1}).json()["data"]
    got = [x["id"] for x in data]
    if small.lenient:
        assert got[0] == it[0]["id"]
    else:
        assert got == [x["id"] for x in it]


# -- the app file -------------------------------------------------------------------------

BAD_APPS = [
    ("    unpaged: whole\n", "", "paging: offset", "unpaged: whole needs paging: page"),
    ("    page_order: [-updated_at]\n", "", "paging: offset", "page_order needs paging: page"),
    ("    page_order: [-name]\n", "", "paging: page", "'-name' is not id, created_at or updated_at"),
    ("    page_order: [id, -id]\n", "", "paging: page", "id is listed twice"),
    ("    page_order: []\n", "", "paging: page", "page_order: list 1 to 3"),
    ("    unknown_params: maybe\n", "", "paging: page", "unknown_params must be one of reject, ignore"),
    ("    relations: sometimes\n", "", "paging: page", "relations must be one of always, on_request"),
    ("    json_lists: yes\n", "", "paging: page", "json_lists"),
    ("", ", filter: like", "paging: page", "filter: must be eq or ilike"),
]


@pytest.mark.parametrize("lists,filter_,paging,needle", BAD_APPS)
def test_app_file_errors(tmp_path, lists, filter_, paging, needle):
    text = SMALL.format(lists=lists, filter=filter_).replace("paging: page", paging)
    (tmp_path / "app.yaml").write_text(text)
    p = subprocess.run([restd_bin(), "check", "--app", str(tmp_path)], capture_output=True, text=True,
                       timeout=30, env=sanitizer_env())
    assert p.returncode != 0, p.stdout
    assert needle in p.stdout + p.stderr, p.stdout + p.stderr


def test_app_file_filter_on_a_non_text_field(tmp_path):
    text = SMALL.format(lists="", filter="").replace("flag: {type: boolean}",
                                                     "flag: {type: boolean, filter: ilike}")
    (tmp_path / "app.yaml").write_text(text)
    p = subprocess.run([restd_bin(), "check", "--app", str(tmp_path)], capture_output=True, text=True,
                       timeout=30, env=sanitizer_env())
    assert p.returncode != 0 and "filter is not allowed for type boolean" in p.stdout + p.stderr


def test_app_file_relations_key_is_reserved(tmp_path):
    text = SMALL.format(lists="    relations: on_request\n", filter="").replace(
        "flag: {type: boolean}", "relations: {type: boolean}")
    (tmp_path / "app.yaml").write_text(text)
    p = subprocess.run([restd_bin(), "check", "--app", str(tmp_path)], capture_output=True, text=True,
                       timeout=30, env=sanitizer_env())
    assert p.returncode != 0 and "payload key 'relations'" in p.stdout + p.stderr
