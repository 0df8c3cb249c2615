"""Authentication over HTTP (docs/auth.md): login with a password or an API
key, bearer checks on every model route, per-model rights, refresh-token
rotation with reuse detection, logout, and a hostile-token suite. Users and
keys are made with the real CLI (`restd user add`, `restd apikey create`)."""
import base64
import hashlib
import hmac
import json
import time

import pytest

from auth_helpers import PASSWORD, add_user, bearer, login
from harness import cli

APP = """
app:
  name: authdemo
  base_path: /api
auth:
  users: person
  login_field: email
  role_field: role
  active_field: active
  issuer: restd-test
  audience: authdemo-api
  access_ttl: 60
  refresh_ttl: 600
  login_with: [password, api_key]
  routes: {login: /auth/login, refresh: /auth/refresh, logout: /auth/logout}
  superusers: [admin]
  default_access: {read: ["*"], write: []}
models:
  person:
    route: persons
    fields:
      email: {type: string, required: true, unique: true}
      role: {type: enum, values: [admin, manager, user], default: user}
      active: {type: boolean, default: true}
  project:
    route: projects
    access: {read: ["*"], write: [manager]}
    fields:
      name: {type: string, required: true}
  secret:
    route: secrets
    access: {read: [manager], write: [manager]}
    fields:
      value: {type: string}
"""

def still_serving(srv):
    """harness's assert_alive GETs a model route, which needs a token here."""
    assert srv.alive()
    assert srv.get("/health").status_code == 200
    tok = tokens(srv, "ann@example.com")["access_token"]
    assert srv.get("projects", headers=bearer(tok)).status_code == 200


@pytest.fixture(scope="module")
def app(module_server):
    srv = module_server(APP)
    add_user(srv, "root@example.com", "admin")
    add_user(srv, "mgr@example.com", "manager")
    add_user(srv, "ann@example.com", "user")
    return srv


def tokens(srv, email):
    r = login(srv, email)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 60
    return body


def assert_401(r, bad_token=True):
    assert r.status_code == 401, r.text
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert r.json()["status"] == 401
    www = r.headers.get("WWW-Authenticate", "")
    assert www.startswith("Bearer")
    if bad_token:
        assert 'error="invalid_token"' in www


# -- login ---------------------------------------------------------------

def test_no_token_is_401(app):
    assert_401(app.get("projects"), bad_token=False)


def test_health_needs_no_token(app):
    assert app.get("/health").status_code == 200


def test_login_and_use_the_token(app):
    t = tokens(app, "ann@example.com")
    r = app.get("projects", headers=bearer(t["access_token"]))
    assert r.status_code == 200 and r.json() == [] or isinstance(r.json(), list)


def test_wrong_password_and_unknown_user_look_the_same(app):
    a = login(app, "ann@example.com", "wrong password!")
    b = login(app, "nobody@example.com", "wrong password!")
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()


@pytest.mark.parametrize("body", [{}, {"email": "ann@example.com"}, {"password": PASSWORD},
                                  {"email": 5, "password": PASSWORD}, {"email": "a", "password": 5}])
def test_malformed_login_is_400(app, body):
    r = app.post("/auth/login", json=body)
    assert r.status_code == 400, r.text


def test_login_takes_only_post(app):
    r = app.get("/auth/login")
    assert r.status_code == 405 and r.headers["Allow"] == "POST"


def test_secrets_are_not_in_the_database_file(app):
    raw = open(app.db_path, "rb").read()
    wal = app.db_path.with_name(app.db_path.name + "-wal")
    if wal.exists():
        raw += wal.read_bytes()
    assert PASSWORD.encode() not in raw
    assert b"$argon2id$" in raw


# -- rights --------------------------------------------------------------

def test_rights_per_model_and_role(app):
    ann = tokens(app, "ann@example.com")["access_token"]
    mgr = tokens(app, "mgr@example.com")["access_token"]
    root = tokens(app, "root@example.com")["access_token"]
    r = app.post("projects", json={"name": "p"}, headers=bearer(ann))
    assert r.status_code == 403, r.text
    assert r.json()["title"] == "Missing permissions"
    assert r.json()["detail"] == "You do not have write access to projects"
    assert app.post("projects", json={"name": "p"}, headers=bearer(mgr)).status_code == 201
    assert app.post("projects", json={"name": "q"}, headers=bearer(root)).status_code == 201
    r = app.get("secrets", headers=bearer(ann))
    assert r.status_code == 403
    assert r.json()["detail"] == "You do not have read access to secrets"
    assert app.get("secrets", headers=bearer(mgr)).status_code == 200
    # default_access: everyone reads persons, only superusers write
    assert app.get("persons", headers=bearer(ann)).status_code == 200
    assert app.post("persons", json={"email": "x@example.com"}, headers=bearer(mgr)).status_code == 403
    assert app.post("persons", json={"email": "x@example.com"}, headers=bearer(root)).status_code == 201


# -- refresh and logout --------------------------------------------------

def test_refresh_rotates_and_reuse_ends_the_family(app):
    t1 = tokens(app, "ann@example.com")
    r = app.post("/auth/refresh", json={"refresh_token": t1["refresh_token"]})
    assert r.status_code == 200, r.text
    t2 = r.json()
    assert t2["refresh_token"] != t1["refresh_token"]
    assert app.get("projects", headers=bearer(t2["access_token"])).status_code == 200
    # the old refresh token again: someone copied it; the family ends
    assert_401(app.post("/auth/refresh", json={"refresh_token": t1["refresh_token"]}))
    assert_401(app.post("/auth/refresh", json={"refresh_token": t2["refresh_token"]}))
    assert_401(app.get("projects", headers=bearer(t2["access_token"])))
    assert_401(app.get("projects", headers=bearer(t1["access_token"])))
    # other sessions of the same user are untouched
    t3 = tokens(app, "ann@example.com")
    assert app.get("projects", headers=bearer(t3["access_token"])).status_code == 200


def test_refresh_with_garbage_is_401(app):
    for tok in ["", "x", "a" * 400]:
        assert_401(app.post("/auth/refresh", json={"refresh_token": tok}))
    assert app.post("/auth/refresh", json={}).status_code == 400


def test_logout_blocks_the_token_and_its_refresh(app):
    t = tokens(app, "ann@example.com")
    r = app.post("/auth/logout", headers=bearer(t["access_token"]))
    assert r.status_code == 204, r.text
    assert_401(app.get("projects", headers=bearer(t["access_token"])))
    assert_401(app.post("/auth/refresh", json={"refresh_token": t["refresh_token"]}))


def test_logout_with_refresh_token_only(app):
    t = tokens(app, "ann@example.com")
    r = app.post("/auth/logout", json={"refresh_token": t["refresh_token"]})
    assert r.status_code == 204, r.text
    assert_401(app.post("/auth/refresh", json={"refresh_token": t["refresh_token"]}))


# -- api keys and disabled users ------------------------------------------

def test_api_key_login(app):
    r = cli(app, "apikey", "create", "--label", "ci", "mgr@example.com")
    assert r.returncode == 0, r.stderr
    key = r.stdout.strip().split()[-1]
    assert key.startswith("rk_")
    ok = app.post("/auth/login", json={"email": "mgr@example.com", "api_key": key})
    assert ok.status_code == 200, ok.text
    other = app.post("/auth/login", json={"email": "ann@example.com", "api_key": key})
    assert other.status_code == 401
    bad = app.post("/auth/login", json={"email": "mgr@example.com", "api_key": key + "x"})
    assert bad.status_code == 401


def test_disabled_user_cannot_log_in_or_refresh(server):
    srv = server(APP)
    add_user(srv, "gone@example.com", "user")
    t = tokens(srv, "gone@example.com")
    r = cli(srv, "user", "disable", "gone@example.com")
    assert r.returncode == 0, r.stderr
    assert login(srv, "gone@example.com").status_code == 401
    assert_401(srv.post("/auth/refresh", json={"refresh_token": t["refresh_token"]}))
    assert_401(srv.get("projects", headers=bearer(t["access_token"])))


# -- hostile tokens --------------------------------------------------------

def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def forge(app, header, payload, key=None):
    """A token signed with the server's real key (read from its data dir),
    so only the claim or header under test is wrong."""
    key = key if key is not None else (app.db_path.parent / "jwt.key").read_bytes()
    h = b64(json.dumps(header, separators=(",", ":")).encode())
    p = b64(json.dumps(payload, separators=(",", ":")).encode())
    sig = hmac.new(key, f"{h}.{p}".encode(), hashlib.sha256).digest()
    return f"{h}.{p}.{b64(sig)}"


def claims(**over):
    now = int(time.time())
    c = {"iss": "restd-test", "aud": "authdemo-api", "sub": "00000000-0000-4000-8000-000000000001",
         "jti": "0b7c6f4e-0000-4000-8000-000000000001", "scope": "admin", "use": "access",
         "iat": now, "exp": now + 60}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


HS = {"alg": "HS256", "typ": "JWT"}


def test_forged_token_with_the_real_key_passes(app):
    # the control: the forging helper itself makes valid tokens
    r = app.get("projects", headers=bearer(forge(app, HS, claims())))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("name,header,payload", [
    ("alg_none", {"alg": "none", "typ": "JWT"}, {}),
    ("alg_rs256", {"alg": "RS256", "typ": "JWT"}, {}),
    ("alg_hs512", {"alg": "HS512", "typ": "JWT"}, {}),
    ("no_typ", {"alg": "HS256"}, {}),
    ("kid", {"alg": "HS256", "typ": "JWT", "kid": "../../etc/passwd"}, {}),
    ("jku", {"alg": "HS256", "typ": "JWT", "jku": "http://evil/"}, {}),
    ("expired", HS, {"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}),
    ("not_yet_valid", HS, {"nbf": int(time.time()) + 3600}),
    ("iat_future", HS, {"iat": int(time.time()) + 3600, "exp": int(time.time()) + 7200}),
    ("wrong_issuer", HS, {"iss": "someone-else"}),
    ("wrong_audience", HS, {"aud": "other-api"}),
    ("refresh_as_access", HS, {"use": "refresh"}),
    ("no_exp", HS, {"exp": None}),
    ("exp_string", HS, {"exp": "9999999999"}),
    ("no_jti", HS, {"jti": None}),
])
def test_hostile_token_is_401(app, name, header, payload):
    tok = forge(app, header, claims(**payload))
    assert_401(app.get("projects", headers=bearer(tok)))
    still_serving(app)


def test_alg_none_unsigned(app):
    h = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    p = b64(json.dumps(claims()).encode())
    assert_401(app.get("projects", headers=bearer(f"{h}.{p}.")))


def test_tampered_payload_and_wrong_key(app):
    good = tokens(app, "ann@example.com")["access_token"]
    h, p, s = good.split(".")
    body = json.loads(base64.urlsafe_b64decode(p + "=="))
    body["scope"] = "admin"
    tampered = f"{h}.{b64(json.dumps(body).encode())}.{s}"
    assert_401(app.get("projects", headers=bearer(tampered)))
    assert_401(app.get("projects", headers=bearer(forge(app, HS, claims(), key=b"k" * 64))))


def test_hs_rs_confusion_with_public_looking_key(app):
    # an RS256 header signed as HMAC with some "public key" text
    tok = forge(app, {"alg": "RS256", "typ": "JWT"}, claims(), key=b"-----BEGIN PUBLIC KEY-----")
    assert_401(app.get("projects", headers=bearer(tok)))


@pytest.mark.parametrize("value", ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "bearer a.b",
                                   "Bearer " + "A" * 5000, "Bearer a.b.c.d", "Bearer ....",
                                   "Bearer \u00e9\u00e9.\u00e9.\u00e9"])
def test_garbage_authorization_is_401(app, value):
    r = app.get("projects", headers={"Authorization": value.encode("utf-8")})
    assert_401(r)
    still_serving(app)


def test_oversized_authorization_header(app):
    r = app.get("projects", headers={"Authorization": "Bearer " + "A" * 20000})
    assert r.status_code in (401, 431), r.text
    still_serving(app)


def test_revoked_jti_blocks_a_forged_copy(app):
    t = tokens(app, "ann@example.com")
    payload = json.loads(base64.urlsafe_b64decode(t["access_token"].split(".")[1] + "=="))
    assert app.post("/auth/logout", headers=bearer(t["access_token"])).status_code == 204
    # the same jti re-signed (as if the key had leaked): still revoked
    assert_401(app.get("projects", headers=bearer(forge(app, HS, payload))))


# -- an app whose refusals are 401 (INIES) ---------------------------------

def test_denied_status_401(server):
    srv = server(APP.replace("  superusers: [admin]", "  superusers: [admin]\n  denied_status: 401"))
    add_user(srv, "ann@example.com", "user")
    t = tokens(srv, "ann@example.com")["access_token"]
    r = srv.get("secrets", headers=bearer(t))
    assert r.status_code == 401
    assert r.json() == {"type": r.json()["type"], "title": "Missing permissions", "status": 401,
                        "detail": "You do not have read access to secrets"}


# -- throttling ------------------------------------------------------------

def test_failed_logins_lock_the_account_not_others(server):
    srv = server(APP)
    add_user(srv, "ann@example.com", "user")
    add_user(srv, "bob@example.com", "user")
    for _ in range(5):
        assert login(srv, "ann@example.com", "wrong password!").status_code == 401
    r = login(srv, "ann@example.com")  # even the right password, while locked
    assert r.status_code == 429, r.text
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert 0 < int(r.headers["Retry-After"]) <= 60
    assert login(srv, "bob@example.com").status_code == 200


def test_unknown_account_is_throttled_the_same_way(server):
    srv = server(APP)
    add_user(srv, "ann@example.com", "user")
    for _ in range(5):
        assert login(srv, "ghost@example.com", "wrong password!").status_code == 401
    r = login(srv, "ghost@example.com", "wrong password!")
    assert r.status_code == 429
    assert 0 < int(r.headers["Retry-After"]) <= 60


def test_success_resets_the_count(server):
    srv = server(APP)
    add_user(srv, "ann@example.com", "user")
    for _ in range(4):
        assert login(srv, "ann@example.com", "wrong password!").status_code == 401
    assert login(srv, "ann@example.com").status_code == 200
    for _ in range(4):
        assert login(srv, "ann@example.com", "wrong password!").status_code == 401
    assert login(srv, "ann@example.com").status_code == 200


def test_revocation_by_another_process_bites_within_a_second(server):
    # the server remembers tokens it found unrevoked; `restd user disable`
    # runs in another process, so it takes effect within
    # RD_REVOCATION_RECHECK_SEC (1 s) for a token already in use
    srv = server(APP)
    add_user(srv, "gone@example.com", "user")
    t = tokens(srv, "gone@example.com")["access_token"]
    for _ in range(3):
        assert srv.get("projects", headers=bearer(t)).status_code == 200
    assert cli(srv, "user", "disable", "gone@example.com").returncode == 0
    time.sleep(1.2)
    for _ in range(3):  # whichever worker answers
        assert_401(srv.get("projects", headers=bearer(t)))


def test_logout_bites_at_once_for_a_token_in_use(server):
    srv = server(APP)
    add_user(srv, "ann@example.com", "user")
    t = tokens(srv, "ann@example.com")["access_token"]
    for _ in range(3):
        assert srv.get("projects", headers=bearer(t)).status_code == 200
    other = tokens(srv, "ann@example.com")["access_token"]
    assert srv.post("/auth/logout", headers=bearer(t)).status_code == 204
    for _ in range(3):
        assert_401(srv.get("projects", headers=bearer(t)))
    assert srv.get("projects", headers=bearer(other)).status_code == 200


# -- iProva's `Authorization: token <API key>` ---------------------------------

def test_token_scheme_acts_as_the_keys_user(server):
    srv = server(APP.replace("  superusers: [admin]", "  superusers: [admin]\n  schemes: [bearer, token]"))
    add_user(srv, "mgr@example.com", "manager")
    add_user(srv, "ann@example.com", "user")
    key = cli(srv, "apikey", "create", "mgr@example.com").stdout.strip().split()[-1]
    r = srv.post("projects", json={"name": "via key"}, headers={"Authorization": f"token {key}"})
    assert r.status_code == 201, r.text
    ann_key = cli(srv, "apikey", "create", "ann@example.com").stdout.strip().split()[-1]
    r = srv.post("projects", json={"name": "no"}, headers={"Authorization": f"Token {ann_key}"})
    assert r.status_code == 403  # the key's user has no write right
    assert srv.get("projects", headers={"Authorization": f"TOKEN {ann_key}"}).status_code == 200
    assert_401(srv.get("projects", headers={"Authorization": f"token {key}x"}))
    assert_401(srv.get("projects", headers={"Authorization": "token "}))
    # revoked and disabled keys stop at once
    key_id = cli(srv, "apikey", "list", "ann@example.com").stdout.strip().splitlines()[-1].split()[0]
    assert cli(srv, "apikey", "revoke", key_id).returncode == 0
    assert_401(srv.get("projects", headers={"Authorization": f"token {ann_key}"}))
    # bearer still works beside it
    t = tokens(srv, "mgr@example.com")["access_token"]
    assert srv.get("projects", headers=bearer(t)).status_code == 200


def test_token_scheme_is_off_unless_asked(app):
    r = cli(app, "apikey", "create", "mgr@example.com")
    key = r.stdout.strip().split()[-1]
    assert_401(app.get("projects", headers={"Authorization": f"token {key}"}))


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", "application/jsonx"])
def test_login_body_must_be_json(app, ctype):
    r = app.post("/auth/login", data=json.dumps({"email": "ann@example.com", "password": PASSWORD}),
                  headers={"Content-Type": ctype})
    assert r.status_code == 415, r.text
    assert r.headers["Content-Type"].startswith("application/problem+json")
