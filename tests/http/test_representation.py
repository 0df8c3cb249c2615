"""Per-app representation settings: key case, compact dates in and out,
blank fields as null (docs/query.md, "Representation settings")."""
import pytest

APP = """
app:
  name: rep
  base_path: /api
  conventions: {payload_keys: snake, dates: compact, blank_as_null: true}
models:
  doc:
    route: docs
    fields:
      title: {type: string, required: true}
      summary: {type: text}
      kind: {type: enum, values: [a, b]}
      valid_from: {type: date}
      reviewed_at: {type: datetime}
      pages: {type: integer}
"""


@pytest.fixture(scope="module")
def rep(module_server):
    return module_server(APP)


def test_blank_strings_are_null_in_and_out(rep):
    r = rep.post("docs", json={"title": "T", "summary": "", "kind": "", "valid_from": ""})
    assert r.status_code == 201, r.text
    row = r.json()
    assert row["summary"] is None and row["kind"] is None and row["valid_from"] is None
    got = rep.get(f"docs/{row['id']}").json()
    assert got["summary"] is None and got["kind"] is None


def test_blank_required_field_is_refused(rep):
    r = rep.post("docs", json={"title": ""})
    assert r.status_code == 422
    assert list(r.json()["errors"]) == ["title"]


def test_blank_is_not_null_for_numbers(rep):
    r = rep.post("docs", json={"title": "N", "pages": ""})
    assert r.status_code == 422
    assert "pages" in r.json()["errors"]


def test_compact_dates_round_trip_and_filter(rep):
    r = rep.post("docs", json={"title": "D", "valid_from": "20260301", "reviewed_at": "20260301140509"})
    assert r.status_code == 201, r.text
    row = r.json()
    assert row["valid_from"] == "20260301"
    assert row["reviewed_at"] == "20260301140509"
    assert row["created_at"].isdigit() and len(row["created_at"]) == 14
    got = rep.get("docs", params={"valid_from": "20260301"}).json()
    assert [d["id"] for d in got] == [row["id"]]
    r = rep.post("docs", json={"title": "E", "valid_from": "2026-03-01"})
    assert r.status_code == 422
    assert "valid_from" in r.json()["errors"]
    r = rep.get("docs", params={"valid_from": "2026-03-01"})
    assert r.status_code == 400
