"""Golden cases: the HTTP exchanges of the gazu studio session, replayed.

tests/gazu/studio.py drives the real Kitsu client, gazu, against apps/kitsu
and records every exchange into golden/kitsu_studio.json (format in
tests/gazu/golden.py). This module replays that file against a fresh
apps/kitsu server, without gazu, and compares every response of the steps
that passed when it was recorded ("checked": true):

- the status exactly, and the kind of body (JSON, text, empty);
- JSON structure exactly: the same keys in every object, the same list
  lengths and order, the same JSON types (true is not 1, 1 is not 1.0);
- stable values exactly;
- "{{name}}": an id (UUID) or a token (access_token_N, refresh_token_N,
  token_N: a JWT or an opaque string); the first sighting binds it, every
  later one must be the same value, and two names never share one value;
  an object key "{{name}}" is the bound value, or binds to a key of the
  answer that no other key of the golden object names;
- "{{~datetime:tsN}}": any datetime of the recorded shapes (rebinds tsN,
  which a later request may echo as "{{tsN}}"); "{{~date}}": any date.

Exchanges of steps that failed at recording are still sent, in order, so
the server's state matches the recording, but their answers are not
asserted; they bind variables only when they match in full.

Re-recording (after an engine change that alters the wire on purpose):
    make build
    GAZU_SRC=/path/to/gazu-1.1.12 tests/gazu/run.sh --record
then review `git diff tests/http/golden/kitsu_studio.json` and commit it.
"""
import copy
import json
import re
from pathlib import Path

import pytest
import requests

from kitsu_helpers import has_auth, kitsu_app_yaml, kitsu_server, seeded

GOLDEN = Path(__file__).resolve().parent / "golden" / "kitsu_studio.json"
FORMAT = "restd-golden/1"
PLACEHOLDER = re.compile(r"\{\{([^{}]+)\}\}")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_REPORTED = 20


TOKEN = r"[A-Za-z0-9._~+/=-]{16,}"  # access and refresh tokens: JWTs or opaque strings


def _value_re(name):
    return TOKEN if name.startswith(("token_", "access_token_", "refresh_token_")) else UUID


class Unbound(Exception):
    pass


class Bindings:
    """Variable name -> value, with the rules of the module docstring."""

    def __init__(self):
        self.vars = {}

    def copy(self):
        b = Bindings()
        b.vars = dict(self.vars)
        return b

    def fill(self, s):
        """A request string with every {{name}} replaced by its value."""
        def rep(m):
            name = m.group(1)
            if name not in self.vars:
                raise Unbound(name)
            return self.vars[name]
        return PLACEHOLDER.sub(rep, s)

    def fill_json(self, v):
        if isinstance(v, dict):
            return {k: self.fill_json(x) for k, x in v.items()}
        if isinstance(v, list):
            return [self.fill_json(x) for x in v]
        if isinstance(v, str):
            return self.fill(v)
        return v

    def match_str(self, want, got, where, errs):
        if PLACEHOLDER.search(want) is None:
            if want != got:
                errs.append(f"{where}: {got!r}, expected {want!r}")
            return
        m = PLACEHOLDER.fullmatch(want)
        if m and m.group(1).startswith("~"):
            kind, _, name = m.group(1)[1:].partition(":")
            pat = {"datetime": DATETIME, "date": DATE}.get(kind)
            if pat is None:
                errs.append(f"{where}: unknown pattern {want!r} in the golden file")
            elif not pat.match(got):
                errs.append(f"{where}: {got!r} is not a {kind}")
            elif name:
                self.vars[name] = got  # timestamps rebind: a later request may echo the latest
            return
        # Literal text around {{name}} parts: bound names must reappear as is,
        # new ones are captured with the shape of an id or a token.
        parts, new, pos = [], [], 0
        for m in PLACEHOLDER.finditer(want):
            parts.append(re.escape(want[pos:m.start()]))
            name = m.group(1)
            if name in self.vars:
                parts.append(re.escape(self.vars[name]))
            elif name in new:
                parts.append(f"(?P={_group(name)})")
            else:
                new.append(name)
                parts.append(f"(?P<{_group(name)}>{_value_re(name)})")
            pos = m.end()
        parts.append(re.escape(want[pos:]))
        mm = re.fullmatch("".join(parts), got)
        if mm is None:
            errs.append(f"{where}: {got!r} does not match {want!r} "
                        f"(bound: { {n: self.vars[n] for n in PLACEHOLDER.findall(want) if n in self.vars} })")
            return
        taken = {v: n for n, v in self.vars.items() if not n.startswith("ts_")}
        for name in new:
            val = mm.group(_group(name))
            if val in taken:
                errs.append(f"{where}: {name} is {val}, the value of {taken[val]} already")
            self.vars[name] = val

    def bind_keys(self, want, got):
        """want with its "{{name}}" keys replaced by their values: a bound
        name by its value, a new one by a key of got that no other key of
        want names (in order), which it binds."""
        out, pending = {}, []
        for k, x in want.items():
            m = PLACEHOLDER.fullmatch(k)
            if m is None:
                out[k] = x
            elif m.group(1) in self.vars:
                out[self.vars[m.group(1)]] = x
            else:
                pending.append((m.group(1), k, x))
        free = [k for k in got if k not in out and re.fullmatch(_value_re(pending[0][0]) if pending else UUID, k)]
        for (name, k, x), g in zip(pending, free):
            self.vars[name] = g
            out[g] = x
        for name, k, x in pending[len(free):]:
            out[k] = x  # reported as missing
        return out

    def match(self, want, got, where, errs):
        if isinstance(want, dict):
            if not isinstance(got, dict):
                errs.append(f"{where}: {_jtype(got)}, expected an object")
                return
            want = self.bind_keys(want, got)
            missing = [k for k in want if k not in got]
            extra = [k for k in got if k not in want]
            if missing:
                errs.append(f"{where}: keys missing: {missing}")
            if extra:
                errs.append(f"{where}: unexpected keys: {extra}")
            for k in want:
                if k in got:
                    self.match(want[k], got[k], f"{where}.{k}", errs)
        elif isinstance(want, list):
            if not isinstance(got, list):
                errs.append(f"{where}: {_jtype(got)}, expected an array")
            elif len(want) != len(got):
                errs.append(f"{where}: {len(got)} items, expected {len(want)}")
            else:
                for i, (w, g) in enumerate(zip(want, got)):
                    self.match(w, g, f"{where}[{i}]", errs)
        elif isinstance(want, str):
            if not isinstance(got, str):
                errs.append(f"{where}: {_jtype(got)} {got!r}, expected a string")
            else:
                self.match_str(want, got, where, errs)
        elif _jtype(want) != _jtype(got) or want != got:
            errs.append(f"{where}: {_jtype(got)} {got!r}, expected {_jtype(want)} {want!r}")


def _group(name):
    return "v_" + re.sub(r"\W", "_", name)


def _jtype(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    return "array" if isinstance(v, list) else "object"


def body_of(resp):
    if not resp.content:
        return "empty", None
    if "json" in resp.headers.get("Content-Type", ""):
        try:
            return "json", resp.json()
        except ValueError:
            pass
    return "text", resp.text


def compare(ex, status, kind, body, b):
    """Mismatches of one answer against its golden exchange; binds into b."""
    errs = []
    if status != ex["status"]:
        errs.append(f"status {status}, expected {ex['status']}")
    if kind != ex["kind"]:
        errs.append(f"body is {kind}, expected {ex['kind']}")
    elif kind == "json":
        b.match(ex["response"], body, "body", errs)
    elif kind == "text":
        b.match_str(ex["response"], body, "body", errs)
    return errs


def send(base, session, ex, b):
    url = base + b.fill(ex["path"])
    params = [(k, b.fill(v)) for k, v in ex["query"]]
    headers = {"Authorization": b.fill(ex["auth"])} if ex["auth"] else {}
    kw = {}
    if ex["request"] is not None:
        kw["json"] = b.fill_json(ex["request"])
    return session.request(ex["method"], url, params=params, headers=headers, timeout=10,
                           allow_redirects=False, **kw)


def replay(base, golden):
    """Replay every exchange in order; returns the mismatches of checked ones."""
    b = Bindings()
    session = requests.Session()  # no signed-in headers: the golden login is replayed
    report = []
    for i, ex in enumerate(golden["exchanges"]):
        label = f"#{i} {ex['step']}: {ex['method']} {ex['path']}"
        try:
            resp = send(base, session, ex, b)
        except Unbound as e:
            if ex["checked"]:
                report.append(f"{label}: uses {{{{{e}}}}}, which no earlier answer bound")
            continue
        kind, body = body_of(resp)
        trial = b.copy()
        errs = compare(ex, resp.status_code, kind, body, trial)
        if not errs:
            b = trial
        elif ex["checked"]:
            report.extend(f"{label}: {e}" for e in errs)
            b = trial  # keep what did bind, so one change does not cascade
    return report


@pytest.fixture(scope="module")
def golden():
    g = json.loads(GOLDEN.read_text())
    assert g.get("format") == FORMAT, f"{GOLDEN.name}: format {g.get('format')!r}, expected {FORMAT}"
    return g


@pytest.fixture(scope="module")
def srv(module_server):
    return kitsu_server(seeded(module_server))


def test_golden_file_is_well_formed(golden):
    keys = {"step", "checked", "method", "path", "query", "auth", "request", "status", "kind", "response"}
    steps = {s["step"]: s["passed"] for s in golden["steps"]}
    assert golden["exchanges"], "no exchanges recorded"
    for i, ex in enumerate(golden["exchanges"]):
        assert set(ex) == keys, f"exchange {i}: keys {sorted(ex)}"
        assert ex["checked"] == steps[ex["step"]], f"exchange {i}: checked differs from its step's result"
        assert ex["method"] in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
        assert ex["path"].startswith("/api"), ex["path"]
        assert ex["kind"] in ("json", "text", "empty")
    assert any(ex["checked"] for ex in golden["exchanges"]), "no step passed when recorded"


def test_studio_session_replays(srv, golden):
    auth = has_auth(kitsu_app_yaml())
    assert golden.get("app_auth") == auth, (
        f"{GOLDEN.name} was recorded on apps/kitsu {'with' if golden.get('app_auth') else 'without'} "
        f"an auth: section, and the app now has {'one' if auth else 'none'}: every exchange differs; "
        "re-record it (see this module's docstring)")
    report = replay(srv.url, golden)
    n = sum(1 for ex in golden["exchanges"] if ex["checked"])
    assert not report, (f"{len(report)} mismatches in the {n} checked exchanges "
                        f"(re-record: see this module's docstring):\n  " +
                        "\n  ".join(report[:MAX_REPORTED]))


# ---- the comparison itself must catch a wire change -------------------------

ROW = {"id": "{{project_1}}", "name": "Bunny Run", "fps": "25", "team": [],
       "is_clients_isolated": False, "nb_episodes": 0,
       "created_at": "{{~datetime:ts_1}}", "updated_at": "{{~datetime:ts_1}}"}
GOT = {"id": "01a20a75-bfe1-7db8-a990-222ad52c7fd2", "name": "Bunny Run", "fps": "25", "team": [],
       "is_clients_isolated": False, "nb_episodes": 0,
       "created_at": "2026-11-23T22:10:21", "updated_at": "2026-11-23T22:10:22"}


def errors(want, got, b=None):
    errs = []
    (b or Bindings()).match(want, got, "body", errs)
    return errs


def test_compare_accepts_the_same_answer():
    b = Bindings()
    assert errors(ROW, GOT, b) == []
    assert b.vars["project_1"] == GOT["id"] and b.vars["ts_1"] == GOT["updated_at"]
    assert b.fill("/api/data/projects/{{project_1}}") == "/api/data/projects/" + GOT["id"]


@pytest.mark.parametrize("change, what", [
    (lambda g: g.pop("fps"), "keys missing: ['fps']"),
    (lambda g: g.update(type="Project"), "unexpected keys: ['type']"),
    (lambda g: g.update(fps=25), "integer 25, expected a string"),
    (lambda g: g.update(nb_episodes=False), "boolean False, expected integer 0"),
    (lambda g: g.update(nb_episodes=0.0), "number 0.0, expected integer 0"),
    (lambda g: g.update(team=None), "null, expected an array"),
    (lambda g: g.update(team=["x"]), "1 items, expected 0"),
    (lambda g: g.update(name="bunny run"), "'bunny run', expected 'Bunny Run'"),
    (lambda g: g.update(created_at="2026-11-23 22:10:21"), "is not a datetime"),
    (lambda g: g.update(id="42"), "does not match"),
])
def test_compare_catches_a_wire_change(change, what):
    got = copy.deepcopy(GOT)
    change(got)
    errs = errors(ROW, got)
    assert any(what in e for e in errs), errs


def test_variables_bind_consistently():
    b = Bindings()
    assert errors({"a": "{{x_1}}", "b": "{{x_1}}"}, {"a": GOT["id"], "b": GOT["id"]}, b) == []
    other = "01a20a75-bfe1-7db8-a990-222ad52c7fd3"
    assert "does not match" in errors({"c": "{{x_1}}"}, {"c": other}, b)[0]
    # Two names never share one value: a server answering the same id twice is caught.
    assert "already" in errors({"d": "{{x_2}}"}, {"d": GOT["id"]}, b)[0]
    # Inside a longer string, and tokens by their shape.
    tok = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    assert errors("Bearer {{access_token_1}}", "Bearer " + tok, b) == []
    assert b.fill("Bearer {{access_token_1}}") == "Bearer " + tok
    assert errors("Bearer {{access_token_2}}", "Bearer " + GOT["id"], b)


def test_status_and_body_kind_are_compared():
    ex = {"status": 201, "kind": "json", "response": {"id": "{{p_1}}"}}
    assert compare(ex, 201, "json", {"id": GOT["id"]}, Bindings()) == []
    assert compare(ex, 200, "json", {"id": GOT["id"]}, Bindings()) == ["status 200, expected 201"]
    assert compare(ex, 201, "text", "nope", Bindings()) == ["body is text, expected json"]


def test_an_unbound_variable_in_a_request_is_refused():
    with pytest.raises(Unbound):
        Bindings().fill("/api/data/projects/{{project_9}}")


def test_id_keys_bind_like_values():
    person = "01a20a75-bfe1-7db8-a990-222ad52c7fd3"
    b = Bindings()
    assert errors({"who": "{{person_1}}"}, {"who": person}, b) == []
    # a bound name as a key is its value
    assert errors({"total": 1, "{{person_1}}": [1]}, {"total": 1, person: [1]}, b) == []
    assert "keys missing" in errors({"{{person_1}}": [1]}, {GOT["id"]: [1]}, b)[0]
    # a new one binds to the answer's key that is not otherwise named
    assert errors({"total": 1, "{{id_1}}": [2]}, {"total": 1, GOT["id"]: [2]}, b) == []
    assert b.vars["id_1"] == GOT["id"]
    assert errors({"{{id_2}}": 1}, {"not an id": 1}, Bindings())
