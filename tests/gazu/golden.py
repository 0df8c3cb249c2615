"""Turning the HTTP exchanges of tests/gazu/studio.py into golden cases.

studio.py hooks requests' transport and hands every exchange (method, URL,
Authorization header, request body, status, response body) to a Recorder,
tagged with the studio step that made it and, once the step ends, whether
that step passed. Recorder.golden() then rewrites the run into a file that
tests/http/test_kitsu_golden.py replays against a fresh server:

- Values that differ from run to run are replaced by placeholders:
  - an id (lowercase UUID), a JWT, or any string under a key named
    access_token, refresh_token or token, first seen in a response,
    becomes a variable, written "{{name}}" everywhere it appears later,
    in paths, query values, Authorization headers and bodies, or inside a
    longer string; an object key that is an id is written "{{name}}" too;
  - a datetime in a response becomes "{{~datetime:tsN}}" (any datetime of
    that shape, remembered as tsN for a later request that echoes it, as
    gazu's update_* do with whole rows); a request writes "{{tsN}}";
  - a date in a response that no earlier request sent becomes "{{~date}}"
    (the server made it, from the clock: a start date, a last login); one
    the script sent (a time-spent day) stays as it is.
- Everything else is kept verbatim, so the replay compares it exactly.

No third-party code; standard library only.
"""
import json
import re
from urllib.parse import parse_qsl, urlsplit

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
# Zou's naive datetimes, restd's ISO ones (microseconds, Z, offsets).
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?$")
FORMAT = "restd-golden/1"
TOKEN_KEYS = ("access_token", "refresh_token", "token")


def _name_hint(key, parent, path):
    """A readable variable name stem for a value found under key, in the
    response to a request for path."""
    if key == "id" and isinstance(parent, dict):
        t = parent.get("type")
        if isinstance(t, str) and t:
            return re.sub(r"(?<!^)(?=[A-Z])", "_", t).lower()
        segs = [x for x in path.split("/") if x and not UUID_RE.fullmatch(x) and x != "api"]
        return segs[-1].replace("-", "_") if segs else "row"
    if key and key.endswith("_id"):
        return key[:-3]
    return key or "value"


class Recorder:
    """Collects exchanges, then writes them as golden cases."""

    def __init__(self):
        self.raw = []          # dicts as captured, in order
        self.step_ok = {}      # step name -> (passed, message)
        self.step = None

    # -- capture --------------------------------------------------------
    def capture(self, prep, resp):
        u = urlsplit(prep.url)
        body = prep.body
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        req_json = None
        if body:
            try:
                req_json = json.loads(body)
            except ValueError:
                req_json = {"__non_json_body__": body[:2000]}
        ctype = resp.headers.get("Content-Type", "")
        text = resp.content.decode("utf-8", "replace")
        if not text:
            kind, value = "empty", None
        elif "json" in ctype:
            try:
                kind, value = "json", json.loads(text)
            except ValueError:
                kind, value = "text", text
        else:
            kind, value = "text", text
        self.raw.append({
            "step": self.step, "method": prep.method, "path": u.path,
            "query": parse_qsl(u.query, keep_blank_values=True),
            "auth": prep.headers.get("Authorization"), "request": req_json,
            "status": resp.status_code, "kind": kind, "response": value})

    def end_step(self, name, passed, message=""):
        self.step_ok[name] = (passed, message)

    # -- abstraction ----------------------------------------------------
    def golden(self, meta):
        vars_by_value = {}     # id/token value -> name
        ts_by_value = {}       # datetime value -> name
        counters = {}
        sent = set()           # every string a request carried so far

        def new_name(stem):
            counters[stem] = counters.get(stem, 0) + 1
            return f"{stem}_{counters[stem]}"

        opaque = []            # token values of no fixed shape, found by their key

        def sub_known(s):
            """Replace every known id/token/timestamp inside a request string."""
            if s in ts_by_value:
                return "{{%s}}" % ts_by_value[s]

            def rep(m):
                v = m.group(0)
                return "{{%s}}" % vars_by_value[v] if v in vars_by_value else v
            s = JWT_RE.sub(rep, UUID_RE.sub(rep, s))
            for v in opaque:
                s = s.replace(v, "{{%s}}" % vars_by_value[v])
            return s

        def req_value(v):
            if isinstance(v, dict):
                return {k: req_value(x) for k, x in v.items()}
            if isinstance(v, list):
                return [req_value(x) for x in v]
            if isinstance(v, str):
                return sub_known(v)
            return v

        def resp_key(k):
            """An object key that is an id (Zou keys time spents by person
            id) becomes a variable like any other id."""
            if not UUID_RE.fullmatch(k):
                return k
            if k not in vars_by_value:
                vars_by_value[k] = new_name("id")
            return "{{%s}}" % vars_by_value[k]

        def resp_value(v, path, key=None, parent=None):
            if isinstance(v, dict):
                return {resp_key(k): resp_value(x, path, k, v) for k, x in v.items()}
            if isinstance(v, list):
                return [resp_value(x, path, key, parent) for x in v]
            if not isinstance(v, str):
                return v
            if key in TOKEN_KEYS and len(v) >= 16 and not JWT_RE.fullmatch(v):
                if v not in vars_by_value:
                    vars_by_value[v] = new_name(key)
                    opaque.append(v)
                return "{{%s}}" % vars_by_value[v]
            if DATETIME_RE.match(v):
                if v not in ts_by_value:
                    ts_by_value[v] = new_name("ts")
                return "{{~datetime:%s}}" % ts_by_value[v]
            if DATE_RE.match(v) and v not in sent:
                return "{{~date}}"

            def rep(m):
                val = m.group(0)
                if val not in vars_by_value:
                    stem = "token" if val.startswith("eyJ") else _name_hint(key, parent, path)
                    if key in ("access_token", "refresh_token"):
                        stem = key
                    vars_by_value[val] = new_name(stem)
                return "{{%s}}" % vars_by_value[val]
            return JWT_RE.sub(rep, UUID_RE.sub(rep, v))

        def note_sent(v):
            if isinstance(v, dict):
                for x in v.values():
                    note_sent(x)
            elif isinstance(v, list):
                for x in v:
                    note_sent(x)
            elif isinstance(v, str):
                sent.add(v)

        out = []
        for ex in self.raw:
            note_sent(ex["request"])
            note_sent([v for _, v in ex["query"]])
            note_sent(ex["path"].split("/"))
            passed, _ = self.step_ok.get(ex["step"], (False, "no result"))
            rec = {
                "step": ex["step"],
                "checked": passed,
                "method": ex["method"],
                "path": sub_known(ex["path"]),
                "query": [[k, sub_known(v)] for k, v in ex["query"]],
                "auth": sub_known(ex["auth"]) if ex["auth"] else None,
                "request": req_value(ex["request"]),
                "status": ex["status"],
                "kind": ex["kind"],
                "response": resp_value(ex["response"], ex["path"]),
            }
            out.append(rec)
        steps = [{"step": s, "passed": p, "message": m} for s, (p, m) in self.step_ok.items()]
        return {"format": FORMAT, **meta, "steps": steps, "exchanges": out}
