"""iProva's authentication schemes (docs/auth.md, "Every model request"):
`Authorization: credentials u:<login> pwd:<password>` with the
application's API key (x-api_key header or ?api_key=), the
x-two-factor-code header for accounts with TOTP, the session cookie set at
login (auth.cookie) with its CSRF rule, and case-insensitive scheme names.
Users, keys and TOTP secrets are made with the real CLI.

Every request here goes through plain `requests` calls, never the harness's
session, so no cookie jar carries a session from one request to the next:
each test says exactly which cookie it sends."""
import base64
import hashlib
import hmac
import sqlite3
import struct
import threading
import time

import pytest
import requests

import auth_helpers
from harness import REQ_TIMEOUT, cli

APP = """
app:
  name: iprova
  base_path: /api
auth:
  users: user
  login_field: username
  role_field: role
  active_field: active
  access_ttl: 120
  routes: {login: /api/auth/login, refresh: /api/auth/refresh, logout: /api/auth/logout}
  schemes: [bearer, token, credentials, cookie]
  cookie: {name: iprova_session, trusted_proxies: [127.0.0.1]}
  default_access: {read: ["*"], write: [editor]}
models:
  user:
    route: users
    fields:
      username: {type: string, required: true, unique: true}
      role: {type: enum, values: [admin, editor, reader, service], default: reader}
      active: {type: boolean, default: true}
  card:
    route: cards
    fields:
      name: {type: string, required: true}
"""

PASSWORD = "P@$$w0rd with spaces"


def add_user(srv, username, role, password=PASSWORD):
    auth_helpers.add_user(srv, username, role, password, login_field="username")


def new_key(srv, username):
    r = cli(srv, "apikey", "create", username)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().split()[-1]


def call(srv, method, path, **kw):
    """One request with no cookie jar (see the module docstring)."""
    url = srv.url + path if path.startswith("/") else srv.base + "/" + path
    kw.setdefault("timeout", REQ_TIMEOUT)
    return requests.request(method, url, **kw)


def creds(user, password=PASSWORD, scheme="credentials"):
    return f"{scheme} u:{user} pwd:{password}"


def totp(secret, t):
    """RFC 6238 with the authenticator defaults (SHA-1, 6 digits, 30 s)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(t) // 30), hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


def assert_401(r, needle=None):
    assert r.status_code == 401, r.text
    assert r.headers["Content-Type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 401
    if needle:
        assert needle in body["detail"], body
    return body


@pytest.fixture(scope="module")
def ip(module_server):
    srv = module_server(APP)
    add_user(srv, "j.t.kirk", "editor")
    add_user(srv, "spock", "reader")
    add_user(srv, "app.service", "service")
    srv.app_key = new_key(srv, "app.service")
    return srv


def login(srv, user, **kw):
    return call(srv, "POST", "/api/auth/login", json={"username": user, "password": PASSWORD}, **kw)


def login_2fa(srv, user, code):
    body = {"username": user, "password": PASSWORD, "totp": code}
    return call(srv, "POST", "/api/auth/login", json=body)


def still_serving(srv):
    assert srv.alive()
    assert call(srv, "GET", "/health").status_code == 200
    r = call(srv, "GET", "cards", headers={"Authorization": creds("spock"), "x-api_key": srv.app_key})
    assert r.status_code == 200, r.text


# -- credentials u:<login> pwd:<password> + API key ---------------------------

def test_credentials_with_key_header_act_as_the_user(ip):
    h = {"Authorization": creds("j.t.kirk"), "x-api_key": ip.app_key}
    r = call(ip, "POST", "cards", json={"name": "Hammer"}, headers=h)
    assert r.status_code == 201, r.text
    assert call(ip, "GET", "cards/" + r.json()["id"], headers=h).status_code == 200
    # the role is the credentials' user's, not the key owner's: spock reads only
    h = {"Authorization": creds("spock"), "X-Api_Key": ip.app_key}
    assert call(ip, "GET", "cards", headers=h).status_code == 200
    assert call(ip, "POST", "cards", json={"name": "no"}, headers=h).status_code == 403


def test_credentials_with_key_in_query_which_the_list_never_sees(ip):
    h = {"Authorization": creds("j.t.kirk")}
    call(ip, "POST", "cards", json={"name": "Anvil"}, headers={**h, "x-api_key": ip.app_key})
    r = call(ip, "GET", f"cards?api_key={ip.app_key}", headers=h)
    assert r.status_code == 200, r.text
    r = call(ip, "GET", f"cards?name=Anvil&api_key={ip.app_key}&limit=5", headers=h)
    assert r.status_code == 200, r.text
    assert [c["name"] for c in r.json()] == ["Anvil"]
    # the key given twice is ambiguous
    assert_401(call(ip, "GET", f"cards?api_key={ip.app_key}&api_key=x", headers=h), "API key")


@pytest.mark.parametrize("scheme", ["Credentials", "CREDENTIALS", "cReDeNtIaLs"])
def test_scheme_names_are_case_insensitive(ip, scheme):
    h = {"Authorization": creds("spock", scheme=scheme), "x-api_key": ip.app_key}
    assert call(ip, "GET", "cards", headers=h).status_code == 200


def test_wrong_password_and_unknown_user_get_one_answer(ip):
    a = assert_401(call(ip, "GET", "cards", headers={"Authorization": creds("spock", "wrong"),
                                                     "x-api_key": ip.app_key}))
    b = assert_401(call(ip, "GET", "cards", headers={"Authorization": creds("nobody"),
                                                     "x-api_key": ip.app_key}))
    assert a == b and a["detail"] == "invalid credentials"


def test_the_api_key_is_required_and_checked(ip):
    h = {"Authorization": creds("spock")}
    assert_401(call(ip, "GET", "cards", headers=h), "x-api_key")
    assert_401(call(ip, "GET", "cards", headers={**h, "x-api_key": ""}), "x-api_key")
    assert_401(call(ip, "GET", "cards", headers={**h, "x-api_key": ip.app_key + "x"}), "API key is not valid")
    assert_401(call(ip, "GET", "cards", headers={**h, "x-api_key": "k" * 5000}), "API key is not valid")
    assert_401(call(ip, "GET", "cards?api_key=%ZZ", headers=h))


def test_a_revoked_key_fails_at_once(ip):
    key = new_key(ip, "app.service")
    h = {"Authorization": creds("spock"), "x-api_key": key}
    assert call(ip, "GET", "cards", headers=h).status_code == 200
    key_id = cli(ip, "apikey", "list", "app.service").stdout.strip().splitlines()[-1].split()[0]
    assert cli(ip, "apikey", "revoke", key_id).returncode == 0
    assert_401(call(ip, "GET", "cards", headers=h), "API key is not valid")
    # the key as an impersonation token is dead too
    assert_401(call(ip, "GET", "cards", headers={"Authorization": f"token {key}"}))


def test_a_disabled_key_owner_disables_the_key(server):
    srv = server(APP)
    add_user(srv, "owner", "service")
    add_user(srv, "spock", "reader")
    key = new_key(srv, "owner")
    h = {"Authorization": creds("spock"), "x-api_key": key}
    assert call(srv, "GET", "cards", headers=h).status_code == 200
    assert cli(srv, "user", "disable", "owner").returncode == 0
    assert_401(call(srv, "GET", "cards", headers=h), "API key is not valid")


@pytest.mark.parametrize("value", [
    "credentials",
    "credentials ",
    "credentials u:",
    "credentials u:spock",
    "credentials u:spock pwd:",
    "credentials u: pwd:x",
    "credentials pwd:x u:spock",
    "credentials user:spock pwd:x",
    "credentials u:spock\tpwd:x",
    "credentials u:" + "s" * 1100 + " pwd:x",
    "credentials u:spock pwd:" + "p" * 1025,
    "credentials u:\xe9\xff pwd:\xff",
    "credentials u:spock pwd:" + "x" * 9000,
])
def test_malformed_credentials_are_401(ip, value):
    r = call(ip, "GET", "cards", headers={"Authorization": value.encode("latin-1"), "x-api_key": ip.app_key})
    assert_401(r)


def test_a_password_with_spaces_and_pwd_inside(server):
    srv = server(APP)
    add_user(srv, "odd", "reader", password="a pwd:b  c ")
    key = new_key(srv, "odd")
    h = {"Authorization": "credentials u:odd pwd:a pwd:b  c ", "x-api_key": key}
    assert call(srv, "GET", "cards", headers=h).status_code == 200
    h["Authorization"] = "credentials u:odd pwd:a pwd:b  c"
    assert_401(call(srv, "GET", "cards", headers=h))


def test_credentials_failures_are_throttled(server):
    srv = server(APP)
    add_user(srv, "spock", "reader")
    add_user(srv, "other", "reader")
    key = new_key(srv, "spock")
    bad = {"Authorization": creds("spock", "wrong"), "x-api_key": key}
    for _ in range(5):
        assert_401(call(srv, "GET", "cards", headers=bad))
    # locked: even the right password waits, and the answer says how long
    r = call(srv, "GET", "cards", headers={"Authorization": creds("spock"), "x-api_key": key})
    assert r.status_code == 429, r.text
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    # the login route shares the same count
    assert login(srv, "spock").status_code == 429
    # unknown accounts lock the same way, so a lock reveals nothing
    for _ in range(5):
        assert_401(call(srv, "GET", "cards", headers={"Authorization": creds("ghost"), "x-api_key": key}))
    r = call(srv, "GET", "cards", headers={"Authorization": creds("ghost"), "x-api_key": key})
    assert r.status_code == 429
    # others are not locked out
    assert call(srv, "GET", "cards", headers={"Authorization": creds("other"), "x-api_key": key}).status_code == 200


def test_concurrent_credentials_requests_all_finish(ip):
    """Many password checks at once: each waits for the hashing pool and is
    answered; the loop keeps serving bearer requests meanwhile."""
    tok = login(ip, "spock").json()["access_token"]
    results = []

    def one(i):
        user = "spock" if i % 2 else "nobody"
        r = call(ip, "GET", "cards", headers={"Authorization": creds(user), "x-api_key": ip.app_key})
        results.append((user, r.status_code))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for _ in range(5):
        assert call(ip, "GET", "cards", headers={"Authorization": f"Bearer {tok}"}).status_code == 200
    for t in threads:
        t.join()
    assert sorted(results) == sorted([("spock", 200)] * 4 + [("nobody", 401)] * 4)
    still_serving(ip)


# -- x-two-factor-code -----------------------------------------------------------

def enable_totp(srv, user):
    r = cli(srv, "user", "totp", user)
    assert r.returncode == 0, r.stderr
    first, uri = r.stdout.strip().splitlines()
    secret = first.split()[-1]
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
    return secret


def test_two_factor_code_is_needed_once_totp_is_on(server):
    srv = server(APP)
    add_user(srv, "kirk2fa", "editor")
    key = new_key(srv, "kirk2fa")
    h = {"Authorization": creds("kirk2fa"), "x-api_key": key}
    assert call(srv, "GET", "cards", headers=h).status_code == 200
    secret = enable_totp(srv, "kirk2fa")
    assert_401(call(srv, "GET", "cards", headers=h), "x-two-factor-code")
    assert_401(call(srv, "GET", "cards", headers={**h, "x-two-factor-code": ""}), "x-two-factor-code")
    now = time.time()
    code = totp(secret, now)
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    # four wrong codes (a fifth would lock the account: they count as failed sign-ins)
    for bad in (wrong, "12345a", "１２３４５６", "9" * 200):
        assert_401(call(srv, "GET", "cards", headers={**h, "x-two-factor-code": bad.encode()}),
                   "two-factor code is not valid")
    r = call(srv, "POST", "cards", json={"name": "2fa"}, headers={**h, "x-two-factor-code": code})
    assert r.status_code == 201, r.text
    # a code works once
    assert_401(call(srv, "GET", "cards", headers={**h, "x-two-factor-code": code}), "used before")
    # the next step's code (within the drift window) works, once
    nxt = totp(secret, now + 30)
    assert call(srv, "GET", "cards", headers={**h, "x-two-factor-code": nxt}).status_code == 200
    assert_401(call(srv, "GET", "cards", headers={**h, "x-two-factor-code": nxt}), "used before")
    # a wrong password with a right code is still only "invalid credentials"
    r = call(srv, "GET", "cards", headers={"Authorization": creds("kirk2fa", "nope"), "x-api_key": key,
                                           "x-two-factor-code": totp(secret, now + 60)})
    assert assert_401(r)["detail"] == "invalid credentials"
    # the login route knows the CLI's enrolment too: it asks for a code
    r = login(srv, "kirk2fa")
    assert r.status_code == 401 and "second factor" in r.json()["detail"]
    assert login_2fa(srv, "kirk2fa", nxt).status_code == 401  # spent by the header


def test_user_totp_command(server):
    srv = server(APP)
    add_user(srv, "re", "reader")
    key = new_key(srv, "re")
    r = cli(srv, "user", "totp", "nobody")
    assert r.returncode == 1 and "no user with username 'nobody'" in r.stderr
    r = cli(srv, "user", "totp")
    assert r.returncode == 2
    old = enable_totp(srv, "re")
    new = enable_totp(srv, "re")  # a second call replaces the secret
    assert old != new and len(new) == 32
    now = time.time()
    h = {"Authorization": creds("re"), "x-api_key": key}
    if totp(old, now) != totp(new, now):
        assert_401(call(srv, "GET", "cards", headers={**h, "x-two-factor-code": totp(old, now)}), "not valid")
    # one secret, one counter for both ways in: a code the login spent is
    # spent for the header too
    r = login_2fa(srv, "re", totp(new, now))
    assert r.status_code == 200, r.text
    assert_401(call(srv, "GET", "cards", headers={**h, "x-two-factor-code": totp(new, now)}), "used before")
    r = call(srv, "GET", "cards", headers={**h, "x-two-factor-code": totp(new, now + 30)})
    assert r.status_code == 200, r.text


def test_totp_enrolled_over_http_guards_the_credentials_scheme(server):
    """Enrolment through the TOTP route (PUT then POST, as Zou's clients
    do) turns the x-two-factor-code header on for the credentials scheme."""
    srv = server(APP.replace("logout: /api/auth/logout}", "logout: /api/auth/logout, totp: /api/auth/totp}"))
    add_user(srv, "web", "reader")
    key = new_key(srv, "web")
    tok = {"Authorization": f"Bearer {login(srv, 'web').json()['access_token']}"}
    r = call(srv, "PUT", "/api/auth/totp", headers=tok)
    assert r.status_code == 200, r.text
    secret = r.json()["otp_secret"]
    h = {"Authorization": creds("web"), "x-api_key": key}
    # pending, not confirmed: no code needed yet
    assert call(srv, "GET", "cards", headers=h).status_code == 200
    now = time.time()
    r = call(srv, "POST", "/api/auth/totp", headers=tok, json={"totp": totp(secret, now - 30)})
    assert r.status_code == 200, r.text
    assert_401(call(srv, "GET", "cards", headers=h), "x-two-factor-code")
    assert_401(call(srv, "GET", "cards", headers={**h, "x-two-factor-code": totp(secret, now - 30)}), "used before")
    assert call(srv, "GET", "cards", headers={**h, "x-two-factor-code": totp(secret, now)}).status_code == 200
    assert_401(call(srv, "GET", "cards", headers={**h, "x-two-factor-code": totp(secret, now)}), "used before")


def test_enrolments_of_the_old_totp_table_are_carried_over(server):
    """A database from before the single TOTP store has `restd user totp`
    enrolments in _restd_totp: the next start moves them (secret and
    counter) into the second-factor tables and drops the old table."""
    srv = server(APP)
    add_user(srv, "legacy", "reader")
    key = new_key(srv, "legacy")
    srv.stop()
    db = sqlite3.connect(srv.db_path)
    uid = db.execute("SELECT id FROM user WHERE username = 'legacy'").fetchone()[0]
    secret = base64.b32encode(bytes(range(20))).decode()
    now = time.time()
    db.execute("CREATE TABLE _restd_totp (user_id TEXT PRIMARY KEY NOT NULL, secret TEXT NOT NULL,"
               " last_counter INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL) STRICT")
    db.execute("INSERT INTO _restd_totp VALUES (?, ?, ?, ?)", (uid, secret, int(now // 30) - 1, int(now)))
    db.commit()
    db.close()
    srv.restart()
    h = {"Authorization": creds("legacy"), "x-api_key": key}
    assert_401(call(srv, "GET", "cards", headers=h), "x-two-factor-code")
    # the stored counter came along: the previous step's code is spent
    assert_401(call(srv, "GET", "cards", headers={**h, "x-two-factor-code": totp(secret, now - 30)}), "used before")
    assert call(srv, "GET", "cards", headers={**h, "x-two-factor-code": totp(secret, now)}).status_code == 200
    db = sqlite3.connect(srv.db_path)
    gone = db.execute("SELECT count(*) FROM sqlite_master WHERE name = '_restd_totp'").fetchone()[0]
    db.close()
    assert gone == 0


def totp_reader(srv, user):
    """A reader with an API key and TOTP on: (its key, the current code)."""
    add_user(srv, user, "reader")
    key = new_key(srv, user)
    return key, totp(enable_totp(srv, user), time.time())


def test_two_requests_with_one_code_one_wins(server):
    srv = server(APP)
    key, code = totp_reader(srv, "race")
    h = {"Authorization": creds("race"), "x-api_key": key, "x-two-factor-code": code}
    out = []
    threads = [threading.Thread(target=lambda: out.append(call(srv, "GET", "cards", headers=h).status_code))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(out) == [200, 401, 401, 401]


def test_wrong_codes_are_throttled(server):
    srv = server(APP)
    key, code = totp_reader(srv, "guess")
    wrong = "%06d" % ((int(code) + 500000) % 1000000)
    h = {"Authorization": creds("guess"), "x-api_key": key}
    for _ in range(5):
        assert_401(call(srv, "GET", "cards", headers={**h, "x-two-factor-code": wrong}))
    r = call(srv, "GET", "cards", headers={**h, "x-two-factor-code": code})
    assert r.status_code == 429


# -- the session cookie -------------------------------------------------------

def cookie_of(r):
    sc = r.headers.get("Set-Cookie")
    assert sc, dict(r.headers)
    parts = [p.strip() for p in sc.split(";")]
    name, _, value = parts[0].partition("=")
    assert name == "iprova_session"
    return value, parts[1:]


def test_login_sets_the_session_cookie(ip):
    r = login(ip, "spock")
    assert r.status_code == 200
    value, attrs = cookie_of(r)
    assert value == r.json()["access_token"]
    assert attrs == ["Path=/api", "Max-Age=120", "HttpOnly", "SameSite=Strict"]
    # over https (said by a trusted proxy) it is also Secure
    r = login(ip, "spock", headers={"X-Forwarded-Proto": "https"})
    assert cookie_of(r)[1][-1] == "Secure"
    r = login(ip, "spock", headers={"X-Forwarded-Proto": "HTTPS, http"})
    assert cookie_of(r)[1][-1] == "Secure"
    r = login(ip, "spock", headers={"X-Forwarded-Proto": "http"})
    assert "Secure" not in cookie_of(r)[1]
    # a refresh renews it
    r = call(ip, "POST", "/api/auth/refresh", json={"refresh_token": r.json()["refresh_token"]})
    assert r.status_code == 200
    assert cookie_of(r)[0] == r.json()["access_token"]


def test_an_untrusted_peer_cannot_claim_https(server):
    srv = server(APP.replace("trusted_proxies: [127.0.0.1]", "trusted_proxies: ['192.0.2.1']"))
    add_user(srv, "spock", "reader")
    r = login(srv, "spock", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" not in cookie_of(r)[1]


def test_no_cookie_section_no_cookie(server):
    app = APP.replace("  cookie: {name: iprova_session, trusted_proxies: [127.0.0.1]}\n", "") \
             .replace("schemes: [bearer, token, credentials, cookie]", "schemes: [bearer, credentials]")
    srv = server(app)
    add_user(srv, "spock", "reader")
    r = login(srv, "spock")
    assert r.status_code == 200 and "Set-Cookie" not in r.headers
    # and a cookie is not a way in
    assert_401(call(srv, "GET", "cards", headers={"Cookie": f"iprova_session={r.json()['access_token']}"}))


def test_cookie_set_but_not_a_scheme(server):
    """auth.cookie without `cookie` in schemes: login sets the cookie, no
    request is signed in by it, and a logout by refresh token is not
    mistaken for a cookie logout."""
    srv = server(APP.replace("schemes: [bearer, token, credentials, cookie]", "schemes: [bearer]"))
    add_user(srv, "spock", "reader")
    r = login(srv, "spock")
    tok, attrs = cookie_of(r)
    jar = {"Cookie": f"iprova_session={tok}"}
    assert_401(call(srv, "GET", "cards", headers=jar))
    r = call(srv, "POST", "/api/auth/logout", json={"refresh_token": r.json()["refresh_token"]}, headers=jar)
    assert r.status_code == 204, r.text
    assert "Max-Age=0" in cookie_of(r)[1]


def test_the_cookie_signs_requests_in(ip):
    tok = cookie_of(login(ip, "j.t.kirk"))[0]
    jar = {"Cookie": f"theme=dark; iprova_session={tok}; lang=nl"}
    assert call(ip, "GET", "cards", headers=jar).status_code == 200
    assert call(ip, "GET", "cards", headers={"Cookie": f'iprova_session="{tok}"'}).status_code == 200


def test_cookie_writes_need_the_csrf_header(ip):
    tok = cookie_of(login(ip, "j.t.kirk"))[0]
    jar = {"Cookie": f"iprova_session={tok}"}
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        r = call(ip, method, "cards" if method == "POST" else "cards/00000000-0000-4000-8000-000000000000",
                 json={"name": "csrf"}, headers=jar)
        assert r.status_code == 403, (method, r.text)
        assert "X-Requested-With" in r.json()["detail"]
    r = call(ip, "POST", "cards", json={"name": "xhr"}, headers={**jar, "X-Requested-With": "XMLHttpRequest"})
    assert r.status_code == 201, r.text
    # a bearer header needs no such header, even with a cookie beside it
    r = call(ip, "POST", "cards", json={"name": "bearer"},
             headers={**jar, "Authorization": f"Bearer {tok}"})
    assert r.status_code == 201, r.text


def test_the_authorization_header_wins_over_the_cookie(ip):
    tok = cookie_of(login(ip, "j.t.kirk"))[0]
    r = call(ip, "GET", "cards", headers={"Cookie": f"iprova_session={tok}", "Authorization": "Bearer nope"})
    assert_401(r)


@pytest.mark.parametrize("cookie", [
    "iprova_session=garbage",
    "iprova_session=",
    "iprova_session=a.b.c",
    "iprova_session=x; iprova_session=y",
    "=; ; ;;=iprova_session",
    "iprova_session" ,
    "IPROVA_SESSION=x",
    ";" * 100 + "iprova_session=x",
    "a=" + "b" * 9000,
    "iprova_session=" + "e" * 5000,
    "\xff\xfe=\xe9; iprova_session=\xff",
])
def test_bad_cookies_are_401(ip, cookie):
    r = call(ip, "GET", "cards", headers={"Cookie": cookie.encode("latin-1")})
    assert_401(r)


def test_a_cookie_planted_twice_is_refused(ip):
    tok = cookie_of(login(ip, "spock"))[0]
    assert_401(call(ip, "GET", "cards", headers={"Cookie": f"iprova_session={tok}; iprova_session={tok}"}),
               "twice")


def test_logout_clears_the_cookie_and_ends_the_session(ip):
    tok = cookie_of(login(ip, "spock"))[0]
    jar = {"Cookie": f"iprova_session={tok}"}
    assert call(ip, "GET", "cards", headers=jar).status_code == 200
    # logout is a write: the CSRF rule applies to it too
    assert call(ip, "POST", "/api/auth/logout", headers=jar).status_code == 403
    r = call(ip, "POST", "/api/auth/logout", headers={**jar, "X-Requested-With": "fetch"})
    assert r.status_code == 204, r.text
    value, attrs = cookie_of(r)
    assert value == "" and "Max-Age=0" in attrs and "Path=/api" in attrs
    assert_401(call(ip, "GET", "cards", headers=jar), "revoked")
    still_serving(ip)


# -- bearer and token keep working beside them ----------------------------------

@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_bearer_is_case_insensitive(ip, scheme):
    tok = login(ip, "spock").json()["access_token"]
    assert call(ip, "GET", "cards", headers={"Authorization": f"{scheme} {tok}"}).status_code == 200


def test_token_scheme_beside_credentials(ip):
    key = new_key(ip, "j.t.kirk")
    r = call(ip, "POST", "cards", json={"name": "via token"}, headers={"Authorization": f"TOKEN {key}"})
    assert r.status_code == 201


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Negotiate abc", "bearer", "credentialsu:x pwd:y",
                                   "tokenabc", "x" * 9000, "\xff\xfe"])
def test_other_schemes_name_the_ones_on(ip, value):
    r = call(ip, "GET", "cards", headers={"Authorization": value.encode("latin-1")})
    body = assert_401(r)
    if len(value) < 9000:
        assert body["detail"] == ("the Authorization header must be 'Bearer <token>' or 'token <API key>' or "
                                  "'credentials u:<login> pwd:<password>'")


def test_control_bytes_stop_at_the_http_parser(ip):
    for h in ({"Authorization": b"credentials u:\x01 pwd:\x7f"}, {"Cookie": b"iprova_session=\x00"},
              {"Authorization": b"credentials u:spock pwd:x", "x-api_key": b"\x00"}):
        assert call(ip, "GET", "cards", headers=h).status_code == 400
    still_serving(ip)


def test_no_credentials_at_all(ip):
    assert_401(call(ip, "GET", "cards"), "Authorization")
    still_serving(ip)
