"""Zou's sign-in routes on apps/kitsu (docs/auth.md, "Answer styles"): login
by email or desktop_login with Zou's answer and refusal bodies, refresh with
the refresh token as a bearer token and no rotation, logout and
authenticated over GET, change of password, the routes Zou answers "not
enabled", the "Signature has expired" message gazu refreshes on, and
hostile inputs. The shapes come from zou/app/blueprints/auth/resources.py."""
import base64
import hashlib
import hmac
import json
import time
import uuid

import pytest

from auth_helpers import bearer
from kitsu_helpers import ADMIN_EMAIL, ADMIN_PASSWORD, add_person, kitsu_server

LOGIN = "/api/auth/login"
REFRESH = "/api/auth/refresh-token"
LOGOUT = "/api/auth/logout"
AUTHENTICATED = "/api/auth/authenticated"
CHANGE = "/api/auth/change-password"
NO_AUTH = {"Authorization": None}  # drop the session's admin token for one request
PASSWORD = "a good long password"


def still_serving(srv):
    assert srv.alive(), srv.stderr_text()[-4000:]
    assert srv.get("/health", headers=NO_AUTH).status_code == 200
    assert srv.get("persons?limit=1").status_code == 200  # the session's admin token


def login(srv, email, password=PASSWORD, **extra):
    return srv.post(LOGIN, json={"email": email, "password": password, **extra}, headers=NO_AUTH)


def signed_in(srv, email, password=PASSWORD):
    r = login(srv, email, password)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def kitsu(module_server):
    srv = kitsu_server(module_server)
    add_person(srv, "ann@example.com", password=PASSWORD, desktop_login="ann.desk")
    add_person(srv, "off@example.com", password=PASSWORD, active=False)
    return srv


# -- login ---------------------------------------------------------------------

def test_login_answer_has_zous_shape(kitsu):
    r = login(kitsu, "ann@example.com", totp=None, email_otp=None, fido_authentication_response=None,
              recovery_code=None)  # gazu's log_in sends these as nulls
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert list(body) == ["user", "organisation", "login", "access_token", "refresh_token"]
    assert body["login"] is True
    user = body["user"]
    assert user["email"] == "ann@example.com" and user["desktop_login"] == "ann.desk"
    assert user["role"] == "user" and user["active"] is True
    uuid.UUID(user["id"])
    # the person row exactly as the API serves it to an admin
    same = kitsu.get(f"persons/{user['id']}")
    assert same.status_code == 200 and same.json() == user
    assert not any("password" in k or "hash" in k for k in user)
    assert body["access_token"].count(".") == 2 and "." not in body["refresh_token"]


def test_organisation_is_the_first_row_or_a_fixed_default(server):
    srv = kitsu_server(server)
    org = signed_in(srv, ADMIN_EMAIL, ADMIN_PASSWORD)["organisation"]
    assert org["id"] is None and org["name"] == "Kitsu"
    assert org["hours_by_day"] == 8 and org["dark_theme_by_default"] is False  # the model's defaults
    assert org["created_at"] is None
    made = srv.create("organisations", {"name": "Blue Studio", "hours_by_day": 7})
    srv.create("organisations", {"name": "Second"})
    org = signed_in(srv, ADMIN_EMAIL, ADMIN_PASSWORD)["organisation"]
    assert org == made


def test_login_by_desktop_login(kitsu):
    body = signed_in(kitsu, "ann.desk")
    assert body["user"]["email"] == "ann@example.com"
    assert login(kitsu, "ann.desk", "wrong password").json() == {"login": False}


def test_email_wins_over_desktop_login(kitsu):
    # a person whose desktop_login is another person's email cannot take that login
    add_person(kitsu, "cy@example.com", password="cy's own password", desktop_login="ann@example.com")
    assert signed_in(kitsu, "ann@example.com")["user"]["email"] == "ann@example.com"
    assert login(kitsu, "ann@example.com", "cy's own password").status_code == 400


@pytest.mark.parametrize("body", [
    {"email": "nobody@example.com", "password": PASSWORD},
    {"email": "ann@example.com", "password": "not the password"},
    {"email": ""},                       # gazu's host_is_valid
    {"email": "", "password": PASSWORD},
    {"email": "ann@example.com"},        # no password
    {"email": None, "password": PASSWORD},
    {"email": 42, "password": PASSWORD},
    {"email": "ann@example.com", "password": 42},
    {"password": PASSWORD},
    {},
    {"email": "a" * 1025, "password": PASSWORD},
    {"email": "ann@example.com", "password": "p" * 1025},
])
def test_refused_login_is_400_login_false(kitsu, body):
    r = kitsu.post(LOGIN, json=body, headers=NO_AUTH)
    assert r.status_code == 400, r.text
    assert r.json() == {"login": False}


def test_nul_in_a_login_is_refused(kitsu):
    # jansson refuses \u0000 before the login is looked at: no "ann" match
    r = kitsu.post(LOGIN, json={"email": "ann@example.com\u0000x", "password": PASSWORD}, headers=NO_AUTH)
    assert r.status_code == 400 and r.json()["error"] is True and "access_token" not in r.text


def test_unknown_and_wrong_password_cost_the_same_hash(kitsu):
    def timed(email, pw):
        t = time.monotonic()
        assert login(kitsu, email, pw).status_code == 400
        return time.monotonic() - t
    unknown = min(timed(f"ghost{i}@example.com", "x" * 12) for i in range(3))
    wrong = min(timed("ann.desk", f"wrong {i}") for i in range(3))
    # both run one argon2id verify (~20 ms); an unhashed refusal takes ~1 ms
    assert unknown > 0.005 and wrong > 0.005


def test_inactive_person_after_the_password(kitsu):
    r = login(kitsu, "off@example.com")
    assert r.status_code == 401
    assert r.json() == {"error": True, "login": False, "unactive": True,
                        "message": "User is unactive, he cannot log in."}
    # with a wrong password the account's state is not told
    r = login(kitsu, "off@example.com", "wrong password!")
    assert r.status_code == 400 and r.json() == {"login": False}


def test_failed_logins_lock_the_login_in_zous_shape(server):
    srv = kitsu_server(server)
    add_person(srv, "lock@example.com", password=PASSWORD)
    for _ in range(5):
        assert login(srv, "lock@example.com", "wrong password!").json() == {"login": False}
    r = login(srv, "lock@example.com")  # even the right password
    assert r.status_code == 400
    assert r.json() == {"error": True, "login": False, "too_many_failed_login_attemps": True}
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert signed_in(srv, ADMIN_EMAIL, ADMIN_PASSWORD)["login"] is True  # other logins go on


def test_login_takes_only_post_and_json(kitsu):
    r = kitsu.get(LOGIN)
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    # Zou mode answers every refusal gazu must see with a code it raises on
    r = kitsu.post(LOGIN, data="email=a", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and r.json()["error"] is True
    r = kitsu.post(LOGIN, data="[1]", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = kitsu.post(LOGIN, data='{"email": ', headers={"Content-Type": "application/json"})
    assert r.status_code == 400


# -- tokens ----------------------------------------------------------------------

def test_access_token_works_and_lives_seven_days(kitsu):
    body = signed_in(kitsu, "ann@example.com")
    payload = json.loads(base64.urlsafe_b64decode(body["access_token"].split(".")[1] + "=="))
    assert payload["exp"] - payload["iat"] == 7 * 86400
    assert payload["iss"] == "kitsu" and payload["aud"] == "kitsu"
    r = kitsu.get(AUTHENTICATED, headers=bearer(body["access_token"]))
    assert r.status_code == 200 and r.json()["user"]["email"] == "ann@example.com"


def test_refresh_with_the_refresh_token_as_bearer_and_no_rotation(kitsu):
    body = signed_in(kitsu, ADMIN_EMAIL, ADMIN_PASSWORD)
    rt = body["refresh_token"]
    first = kitsu.get(REFRESH, headers=bearer(rt))
    assert first.status_code == 200, first.text
    assert list(first.json()) == ["access_token"]
    assert kitsu.get("persons", headers=bearer(first.json()["access_token"])).status_code == 200
    second = kitsu.get(REFRESH, headers=bearer(rt))  # gazu keeps the same refresh token
    assert second.status_code == 200
    assert second.json()["access_token"] != first.json()["access_token"]
    assert kitsu.get("persons", headers=bearer(body["access_token"])).status_code == 200  # still valid


@pytest.mark.parametrize("headers, status", [
    (NO_AUTH, 401),
    ({"Authorization": "Bearer "}, 401),
    ({"Authorization": "Basic abc"}, 401),
    ({"Authorization": "Bearer not-a-refresh-token"}, 401),
    ({"Authorization": "Bearer " + "A" * 9000}, 401),
    ({"Authorization": "Bearer a.b.c"}, 422),
])
def test_refresh_refusals(kitsu, headers, status):
    r = kitsu.get(REFRESH, headers=headers)
    assert r.status_code == status, r.text
    assert r.json()["error"] is True
    still_serving(kitsu)


def test_refresh_with_an_access_token_is_422(kitsu):
    at = signed_in(kitsu, "ann@example.com")["access_token"]
    r = kitsu.get(REFRESH, headers=bearer(at))
    assert r.status_code == 422
    assert r.json() == {"error": True, "message": "Only refresh tokens are allowed"}


def test_refresh_takes_only_get(kitsu):
    r = kitsu.post(REFRESH, json={"refresh_token": "x"})
    assert r.status_code == 405 and r.headers["allow"] == "GET"


def forge(srv, **claims):
    key = (srv.db_path.parent / "jwt.key").read_bytes()
    def b64(b):
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    now = int(time.time())
    c = {"iss": "kitsu", "aud": "kitsu", "sub": str(uuid.uuid4()), "jti": str(uuid.uuid4()),
         "scope": "admin", "use": "access", "iat": now, "exp": now + 60, **claims}
    h = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    p = b64(json.dumps(c, separators=(",", ":")).encode())
    return f"{h}.{p}.{b64(hmac.new(key, f'{h}.{p}'.encode(), hashlib.sha256).digest())}"


def test_expired_access_token_says_signature_has_expired(kitsu):
    old = forge(kitsu, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    for path in ("persons", AUTHENTICATED, LOGOUT):
        r = kitsu.get(path, headers=bearer(old))
        assert r.status_code == 401
        assert r.json() == {"error": True, "message": "Signature has expired"}  # gazu's refresh trigger


def test_other_bad_tokens_are_401_with_another_message(kitsu):
    for tok in (forge(kitsu, aud="other"), forge(kitsu, use="refresh"), "a.b.c", "garbage"):
        r = kitsu.get("persons", headers=bearer(tok))
        assert r.status_code == 401
        assert r.json()["error"] is True and r.json()["message"] != "Signature has expired"


# -- logout and authenticated ------------------------------------------------------

def test_authenticated(kitsu):
    body = signed_in(kitsu, "ann@example.com")
    r = kitsu.get(AUTHENTICATED, headers=bearer(body["access_token"]))
    assert r.status_code == 200
    got = r.json()
    assert list(got) == ["authenticated", "user", "organisation"]
    assert got["authenticated"] is True
    assert got["user"] == body["user"] and got["organisation"] == body["organisation"]
    r = kitsu.get(AUTHENTICATED, headers=NO_AUTH)
    assert r.status_code == 401 and r.json()["error"] is True
    assert kitsu.post(AUTHENTICATED, headers=bearer(body["access_token"])).status_code == 405


def test_logout_ends_the_session_and_every_token_of_it(kitsu):
    body = signed_in(kitsu, ADMIN_EMAIL, ADMIN_PASSWORD)
    at, rt = body["access_token"], body["refresh_token"]
    refreshed = kitsu.get(REFRESH, headers=bearer(rt)).json()["access_token"]
    other = signed_in(kitsu, ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"]  # another session
    r = kitsu.get(LOGOUT, headers=bearer(at))
    assert r.status_code == 200 and r.json() == {"logout": True}
    assert kitsu.get("persons", headers=bearer(at)).status_code == 401
    # the access token the refresh made belongs to the same session
    assert kitsu.get("persons", headers=bearer(refreshed)).status_code == 401
    assert kitsu.get(REFRESH, headers=bearer(rt)).status_code == 401
    assert kitsu.get("persons", headers=bearer(other)).status_code == 200
    assert kitsu.get(LOGOUT, headers=bearer(at)).status_code == 401  # already out
    assert kitsu.get(LOGOUT, headers=NO_AUTH).status_code == 401
    r = kitsu.post(LOGOUT, headers=bearer(other))
    assert r.status_code == 405 and r.headers["allow"] == "GET"


# -- change of password ------------------------------------------------------------

@pytest.mark.parametrize("body, message", [
    ({"old_password": "wrong old one", "password": "new password 1", "password_2": "new password 1"},
     "Old password is wrong."),
    # the old password is checked first, as Zou does
    ({"old_password": "wrong old one", "password": "short", "password_2": "short"}, "Old password is wrong."),
    ({"old_password": PASSWORD, "password": "short", "password_2": "short"}, "Password is too short."),
    ({"old_password": PASSWORD, "password": "sept\u00e9\u00e9\u00e9", "password_2": "sept\u00e9\u00e9\u00e9"},
     "Password is too short."),  # 7 characters (10 bytes)
    ({"old_password": PASSWORD, "password": "new password 1", "password_2": "new password 2"},
     "Confirmation password doesn't match."),
    ({"old_password": PASSWORD, "password": "p" * 1025, "password_2": "p" * 1025}, "Password is too long."),
])
def test_change_password_refusals(server, body, message):
    srv = kitsu_server(server)
    add_person(srv, "pw@example.com", password=PASSWORD)
    at = signed_in(srv, "pw@example.com")["access_token"]
    r = srv.post(CHANGE, json=body, headers=bearer(at))
    assert r.status_code == 400, r.text
    assert r.json() == {"error": True, "message": message}
    assert login(srv, "pw@example.com").status_code == 200  # unchanged


def test_change_password(kitsu):
    add_person(kitsu, "chg@example.com", password=PASSWORD)
    mine = signed_in(kitsu, "chg@example.com")
    other = signed_in(kitsu, "chg@example.com")
    r = kitsu.post(CHANGE, json={"old_password": PASSWORD, "password": "brand new secret",
                                 "password_2": "brand new secret"}, headers=bearer(mine["access_token"]))
    assert r.status_code == 200 and r.json() == {"success": True}
    assert login(kitsu, "chg@example.com").json() == {"login": False}
    assert signed_in(kitsu, "chg@example.com", "brand new secret")["login"] is True
    # this session goes on; the other one (maybe opened with the old password) ends
    assert kitsu.get(AUTHENTICATED, headers=bearer(mine["access_token"])).status_code == 200
    assert kitsu.get(REFRESH, headers=bearer(mine["refresh_token"])).status_code == 200
    assert kitsu.get(AUTHENTICATED, headers=bearer(other["access_token"])).status_code == 401
    assert kitsu.get(REFRESH, headers=bearer(other["refresh_token"])).status_code == 401


@pytest.mark.parametrize("body", [
    {}, {"old_password": PASSWORD}, {"old_password": PASSWORD, "password": "x" * 10},
    {"old_password": 1, "password": "x" * 10, "password_2": "x" * 10},
    {"old_password": PASSWORD, "password": None, "password_2": None},
])
def test_change_password_bad_bodies(kitsu, body):
    at = signed_in(kitsu, "ann@example.com")["access_token"]
    r = kitsu.post(CHANGE, json=body, headers=bearer(at))
    assert r.status_code == 400 and r.json()["error"] is True


def test_change_password_needs_a_token_json_and_post(kitsu):
    body = {"old_password": PASSWORD, "password": "x" * 10, "password_2": "x" * 10}
    assert kitsu.post(CHANGE, json=body, headers=NO_AUTH).status_code == 401
    at = signed_in(kitsu, "ann@example.com")["access_token"]
    r = kitsu.post(CHANGE, data="old_password=x", headers={**bearer(at), "Content-Type": "text/plain"})
    assert r.status_code == 400 and r.json()["error"] is True
    r = kitsu.get(CHANGE, headers=bearer(at))
    assert r.status_code == 405 and r.headers["allow"] == "POST"


def test_wrong_old_passwords_lock_the_change(server):
    srv = kitsu_server(server)
    add_person(srv, "lk@example.com", password=PASSWORD)
    at = signed_in(srv, "lk@example.com")["access_token"]
    bad = {"old_password": "wrong old one", "password": "new password 1", "password_2": "new password 1"}
    for _ in range(5):
        assert srv.post(CHANGE, json=bad, headers=bearer(at)).json()["message"] == "Old password is wrong."
    good = {**bad, "old_password": PASSWORD}
    r = srv.post(CHANGE, json=good, headers=bearer(at))
    assert r.status_code == 400 and "Too many" in r.json()["message"]  # 400, not 429: gazu reads 429 as success
    assert int(r.headers["retry-after"]) >= 1


# -- routes Zou answers "not enabled" ----------------------------------------------

@pytest.mark.parametrize("method, path, message", [
    ("GET", "/api/auth/fido", "FIDO not enabled."),
    ("GET", "/api/auth/fido?email=ann@example.com", "FIDO not enabled."),
    ("PUT", "/api/auth/fido", "FIDO not enabled."),
    ("POST", "/api/auth/fido", "FIDO not enabled."),
    ("DELETE", "/api/auth/fido", "FIDO not enabled."),
    ("GET", "/api/auth/saml/login", "SAML is not enabled."),
    ("POST", "/api/auth/saml/sso", "SAML is not enabled."),
    ("GET", "/api/auth/oidc/login", "OIDC is not enabled."),
    ("GET", "/api/auth/oidc/callback?code=x", "OIDC is not enabled."),
])
def test_features_zou_has_off(kitsu, method, path, message):
    r = kitsu.request(method, path, headers=NO_AUTH)
    assert r.status_code == 400
    assert r.json() == {"error": True, "message": message}


def test_a_prefix_is_not_a_disabled_route(kitsu):
    assert kitsu.get("/api/auth/fidoX", headers=NO_AUTH).status_code == 404
    assert kitsu.get("/api/auth/samlx/login", headers=NO_AUTH).status_code == 404


def test_still_serving_after_all_that(kitsu):
    still_serving(kitsu)
    assert signed_in(kitsu, ADMIN_EMAIL, ADMIN_PASSWORD)["login"] is True


# -- the same features in the standard style (another app) --------------------------

STD_APP = """
app:
  name: std
  base_path: /api
auth:
  users: person
  login_field: email
  login_also: [nick]
  active_field: active
  access_ttl: 60
  refresh_ttl: 600
  refresh_rotate: false
  min_password_length: 10
  answer_row: {key: team, model: team, default: {name: Nobody}}
  routes:
    login: /auth/login
    refresh: GET /auth/refresh
    logout: GET /auth/logout
    authenticated: GET /auth/me
    change_password: /auth/password
  disabled_routes: {/auth/sso: Single sign-on is off.}
  default_access: {read: ["*"], write: []}
models:
  person:
    route: persons
    fields:
      email: {type: string, unique: true}
      nick: {type: string}
      active: {type: boolean, default: true}
  team:
    route: teams
    fields:
      name: {type: string, required: true}
      size: {type: integer, default: 3}
"""


@pytest.fixture(scope="module")
def std(module_server):
    from kitsu_helpers import cli
    srv = module_server(STD_APP)
    for body in ({"email": "s@example.com", "nick": "sam"}, {"nick": "nomail"}):
        r = cli(srv, "user", "add", "--password-stdin", json.dumps(body), stdin=PASSWORD + "\n")
        assert (r.returncode == 0) == ("email" in body), r.stderr  # no login, no account
    return srv


def std_login(srv, login, password=PASSWORD):
    return srv.post("/auth/login", json={"email": login, "password": password})


def test_standard_style_keeps_its_shapes(std):
    r = std_login(std, "sam")  # login_also works in any style
    assert r.status_code == 200
    assert list(r.json()) == ["access_token", "token_type", "expires_in", "refresh_token"]
    r = std_login(std, "s@example.com", "wrong password")
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    r = std_login(std, "")
    assert r.status_code == 401  # an empty login costs a hash and is refused like any other
    r = std.post("/auth/login", json={"email": "s@example.com"})
    assert r.status_code == 400 and r.json()["status"] == 400


def test_standard_style_refresh_without_rotation(std):
    body = std_login(std, "s@example.com").json()
    for _ in range(2):
        r = std.get("/auth/refresh", headers=bearer(body["refresh_token"]))
        assert r.status_code == 200
        assert list(r.json()) == ["access_token", "token_type", "expires_in"]
    r = std.get("/auth/refresh", headers=bearer(body["access_token"]))
    assert r.status_code == 401  # an access token: 401 here, 422 in Zou's style


def test_standard_style_authenticated_logout_and_password(std):
    body = std_login(std, "s@example.com").json()
    r = std.get("/auth/me", headers=bearer(body["access_token"]))
    assert r.status_code == 200
    got = r.json()
    assert list(got) == ["authenticated", "user", "team"]
    assert got["user"]["email"] == "s@example.com"
    assert got["team"] == {"id": None, "name": "Nobody", "size": 3, "created_at": None, "updated_at": None}
    r = std.post("/auth/password", json={"old_password": PASSWORD, "password": "nine char",
                                         "password_2": "nine char"}, headers=bearer(body["access_token"]))
    assert r.status_code == 400 and r.json()["detail"] == "Password is too short."  # min_password_length: 10
    r = std.post("/auth/password", json={"old_password": PASSWORD, "password": "ten chars!",
                                         "password_2": "ten chars!"}, headers=bearer(body["access_token"]))
    assert r.status_code == 204 and r.content == b""
    assert std_login(std, "s@example.com", "ten chars!").status_code == 200
    r = std.get("/auth/logout", headers=bearer(body["access_token"]))
    assert r.status_code == 204
    assert std.get("/auth/me", headers=bearer(body["access_token"])).status_code == 401


def test_standard_style_disabled_route_is_a_problem_document(std):
    r = std.post("/auth/sso/callback", json={})
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"] == "Single sign-on is off."
