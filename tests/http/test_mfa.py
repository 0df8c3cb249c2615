"""Second factors over HTTP (docs/auth.md, "Second factors"): TOTP
enrolment and use, the login's second step, recovery codes, e-mailed
one-time codes read from a real SMTP server on loopback, replay refusal,
lockout, Zou's answer shapes, and hostile inputs."""
import base64
import json
import re
import sqlite3
import time

import pytest

from auth_helpers import add_user, bearer, login
from harness import restd_check
from mail_helpers import box, mailed_code, settle_step, smtp_args, token_of, totp  # noqa: F401 (box)

ROUTES = ("{login: /auth/login, refresh: /auth/refresh, logout: /auth/logout, totp: /auth/totp,"
          " email_otp: /auth/email-otp, recovery_codes: /auth/recovery-codes, reset_password: /auth/reset-password}")

APP = """
app:
  name: mfademo
  title: MFA Demo
  base_path: /api
  conventions: {errors: %(errors)s}
auth:
  users: person
  login_field: email
  role_field: role
  active_field: active
  routes: %(routes)s
  totp_enabled_field: totp_enabled
  email_otp_enabled_field: email_otp_enabled
  preferred_factor_field: preferred_two_factor_authentication
  default_access: {read: ["*"], write: []}
models:
  person:
    route: persons
    fields:
      email: {type: string, required: true, unique: true}
      role: {type: enum, values: [admin, user], default: user}
      active: {type: boolean, default: true}
      totp_enabled: {type: boolean, default: false, read_only: true}
      email_otp_enabled: {type: boolean, default: false, read_only: true}
      preferred_two_factor_authentication: {type: enum, values: [totp, email_otp, fido], read_only: true}
  project:
    route: projects
    fields:
      name: {type: string, required: true}
"""


@pytest.fixture(scope="module")
def app(module_server, box):
    return module_server(APP % {"errors": "problem", "routes": ROUTES},
                         extra_args=smtp_args(box))


@pytest.fixture(scope="module")
def zou_app(module_server, box):
    return module_server(APP % {"errors": "zou", "routes": ROUTES},
                         extra_args=smtp_args(box))


_n = [0]


def new_user(srv, prefix="u"):
    _n[0] += 1
    who = f"{prefix}{_n[0]}-{int(time.time() * 1000) % 100000}@example.com"
    add_user(srv, who)
    return who


def enrol_totp(srv, who):
    """PUT then POST /auth/totp; returns (secret, recovery codes). Uses the
    code of the previous step, so this step's and the next one's stay free."""
    settle_step()
    tok = token_of(srv, who)
    r = srv.put("/auth/totp", headers=bearer(tok))
    assert r.status_code == 200, r.text
    secret = r.json()["otp_secret"]
    r = srv.post("/auth/totp", headers=bearer(tok), json={"totp": totp(secret, step_offset=-1)})
    assert r.status_code == 200, r.text
    codes = r.json()["otp_recovery_codes"]
    return secret, codes, tok


def assert_401(r):
    assert r.status_code == 401, r.text
    assert r.headers["Content-Type"].startswith("application/problem+json")


# -- TOTP enrolment -----------------------------------------------------------

def test_totp_put_gives_uri_and_secret(app):
    who = new_user(app)
    tok = token_of(app, who)
    r = app.put("/auth/totp", headers=bearer(tok))
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"totp_provisionning_uri", "otp_secret"}
    assert re.fullmatch(r"[A-Z2-7]{32}", body["otp_secret"])
    uri = body["totp_provisionning_uri"]
    assert uri.startswith("otpauth://totp/MFA%20Demo:" + who.replace("@", "%40") + "?")
    assert f"secret={body['otp_secret']}" in uri and "issuer=MFA%20Demo" in uri
    assert r.headers["Cache-Control"] == "no-store"
    # pending: the login still needs no code, and a second PUT gives a new secret
    assert login(app, who).status_code == 200
    r2 = app.put("/auth/totp", headers=bearer(tok))
    assert r2.status_code == 200 and r2.json()["otp_secret"] != body["otp_secret"]
    # the old pending secret is gone
    r3 = app.post("/auth/totp", headers=bearer(tok), json={"totp": totp(body["otp_secret"])})
    assert r3.status_code == 400 and r3.json()["detail"] == "TOTP verification failed."


def test_totp_confirm_gives_16_recovery_codes_and_enables(app):
    who = new_user(app)
    secret, codes, tok = enrol_totp(app, who)
    assert len(codes) == 16 and len(set(codes)) == 16
    assert all(re.fullmatch(r"[23456789A-HJ-NP-Z]{10}", c) for c in codes)
    r = app.put("/auth/totp", headers=bearer(tok))
    assert r.status_code == 400 and r.json()["detail"] == "TOTP already enabled."
    r = app.post("/auth/totp", headers=bearer(tok), json={"totp": totp(secret)})
    assert r.status_code == 400 and r.json()["detail"] == "TOTP already enabled."
    # the secret is never served again, nor in the model
    row = app.get("persons", headers=bearer(tok)).json()
    assert secret not in str(row)


def test_factor_confirmations_answer_a_new_session(app, box):
    """Zou's POST /auth/totp and POST /auth/email-otp answer fresh tokens
    beside the recovery codes: a new session that works and refreshes."""
    who = new_user(app)
    settle_step()
    tok = token_of(app, who)
    secret = app.put("/auth/totp", headers=bearer(tok)).json()["otp_secret"]
    r = app.post("/auth/totp", headers=bearer(tok), json={"totp": totp(secret, step_offset=-1)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"otp_recovery_codes", "access_token", "refresh_token"}
    assert body["access_token"] != tok
    rows = app.get("persons", headers=bearer(body["access_token"]))
    assert rows.status_code == 200
    mine = [p["id"] for p in rows.json() if p["email"] == who]
    claims = json.loads(base64.urlsafe_b64decode(body["access_token"].split(".")[1] + "=="))
    assert mine == [claims["sub"]]
    r = app.post("/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert r.status_code == 200 and r.json()["access_token"], r.text
    # e-mail codes on top: recovery codes stay null, the tokens are new again
    before = len(box.for_rcpt(who))
    assert app.put("/auth/email-otp", headers=bearer(tok)).status_code == 200
    r = app.post("/auth/email-otp", headers=bearer(tok), json={"email_otp": mailed_code(box.wait(who, before + 1))})
    assert r.status_code == 200, r.text
    again = r.json()
    assert again["otp_recovery_codes"] is None
    assert again["access_token"] not in (tok, body["access_token"])
    assert app.get("persons", headers=bearer(again["access_token"])).status_code == 200
    # a wrong code gets no tokens
    r = app.post("/auth/totp", headers=bearer(tok), json={"totp": "000000"})
    assert r.status_code == 400 and "access_token" not in r.text


def test_totp_confirm_with_wrong_code_is_400(app):
    who = new_user(app)
    tok = token_of(app, who)
    secret = app.put("/auth/totp", headers=bearer(tok)).json()["otp_secret"]
    wrong = f"{(int(totp(secret)) + 1) % 1000000:06d}"
    r = app.post("/auth/totp", headers=bearer(tok), json={"totp": wrong})
    assert r.status_code == 400 and r.json()["detail"] == "TOTP verification failed."
    assert login(app, who).status_code == 200  # still not enabled


# -- the login's second step -----------------------------------------------------

def test_login_needs_totp_once_enabled_and_refuses_replays(app):
    who = new_user(app)
    secret, _, _ = enrol_totp(app, who)
    r = login(app, who)
    assert_401(r)
    assert "second factor" in r.json()["detail"]
    # the code that confirmed the enrolment (previous step) is spent
    assert_401(login(app, who, totp=totp(secret, step_offset=-1)))
    wrong = f"{(int(totp(secret)) + 1) % 1000000:06d}"
    assert_401(login(app, who, totp=wrong))
    now_code = totp(secret)
    r = login(app, who, totp=now_code)
    assert r.status_code == 200, r.text
    assert r.json()["access_token"]
    # the same code again: refused (replay), and an older one too
    assert_401(login(app, who, totp=now_code))
    # the next step's code still works once (clock drift window)
    assert login(app, who, totp=totp(secret, step_offset=1)).status_code == 200
    assert_401(login(app, who, totp=totp(secret, step_offset=1)))


def test_wrong_password_with_right_code_is_still_refused(app):
    who = new_user(app)
    secret, _, _ = enrol_totp(app, who)
    r = login(app, who, "not the password", totp=totp(secret))
    assert_401(r)
    assert r.json()["detail"] == "invalid credentials"
    # the code was not spent by the failed login
    assert login(app, who, totp=totp(secret)).status_code == 200


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", "12 456", "", "x" * 64, "٣٣٣٣٣٣"])
def test_malformed_totp_at_login_is_a_wrong_code(app, code):
    who = new_user(app)
    enrol_totp(app, who)
    assert_401(login(app, who, totp=code))


@pytest.mark.parametrize("code", [123456, ["123456"], {"a": 1}, True, "9" * 5000])
def test_non_string_or_huge_totp_at_login_never_passes(app, code):
    who = new_user(app)
    enrol_totp(app, who)
    assert_401(login(app, who, totp=code))


def test_account_without_second_factor_ignores_codes(app):
    who = new_user(app)
    assert login(app, who, totp="000000", recovery_code="nonsense").status_code == 200


def test_recovery_code_works_once(app):
    who = new_user(app)
    _, codes, _ = enrol_totp(app, who)
    r = login(app, who, recovery_code=codes[0])
    assert r.status_code == 200, r.text
    assert_401(login(app, who, recovery_code=codes[0]))
    # typed loosely: lower case with a dash and spaces
    loose = codes[1][:5].lower() + "-" + codes[1][5:].lower() + " "
    assert login(app, who, recovery_code=loose).status_code == 200
    assert_401(login(app, who, recovery_code="ABCDEFGHJK"))


def test_second_factor_failures_lock_the_account(app):
    who = new_user(app)
    secret, _, _ = enrol_totp(app, who)
    for _ in range(5):
        assert_401(login(app, who, totp="000000" if totp(secret) != "000000" else "111111"))
    r = login(app, who, totp=totp(secret))
    assert r.status_code == 429, r.text
    assert int(r.headers["Retry-After"]) > 0


# -- recovery codes -----------------------------------------------------------

def test_recovery_codes_regenerated_void_the_old_ones(app):
    who = new_user(app)
    secret, old, tok = enrol_totp(app, who)
    r = app.put("/auth/recovery-codes", headers=bearer(tok), json={})
    assert r.status_code == 400 and r.json()["detail"] == "OTP verification failed."
    r = app.put("/auth/recovery-codes", headers=bearer(tok), json={"totp": totp(secret)})
    assert r.status_code == 200, r.text
    new = r.json()["otp_recovery_codes"]
    assert len(new) == 16 and not set(new) & set(old)
    assert_401(login(app, who, recovery_code=old[2]))
    assert login(app, who, recovery_code=new[2]).status_code == 200


def test_recovery_codes_need_a_second_factor_enabled(app):
    who = new_user(app)
    tok = token_of(app, who)
    r = app.put("/auth/recovery-codes", headers=bearer(tok), json={"totp": "123456"})
    assert r.status_code == 400 and r.json()["detail"] == "No two factor authentication enabled."


# -- TOTP off -----------------------------------------------------------------

def test_totp_delete_needs_a_valid_second_factor(app):
    who = new_user(app)
    _, codes, tok = enrol_totp(app, who)
    r = app.delete("/auth/totp", headers=bearer(tok))
    assert r.status_code == 400 and r.json()["detail"] == "OTP verification failed."
    r = app.delete("/auth/totp", headers=bearer(tok), json={"recovery_code": "WRONGWRONG"})
    assert r.status_code == 400
    r = app.delete("/auth/totp", headers=bearer(tok), json={"recovery_code": codes[3]})
    assert r.status_code == 200 and r.json() == {"success": True}
    assert login(app, who).status_code == 200
    r = app.delete("/auth/totp", headers=bearer(tok), json={"recovery_code": codes[4]})
    assert r.status_code == 400 and r.json()["detail"] == "TOTP not enabled."
    # the last factor gone, its recovery codes went with it
    secret = app.put("/auth/totp", headers=bearer(tok)).json()["otp_secret"]
    assert app.post("/auth/totp", headers=bearer(tok), json={"totp": totp(secret)}).status_code == 200
    assert_401(login(app, who, recovery_code=codes[5]))


# -- the served row mirrors the state --------------------------------------------

def person_row(srv, who, tok):
    rows = srv.get("persons", params={"email": who}, headers=bearer(tok)).json()
    assert len(rows) == 1, rows
    return rows[0]


def test_mirror_fields_follow_the_factors(app, box):
    who = new_user(app)
    tok = token_of(app, who)
    row = person_row(app, who, tok)
    assert (row["totp_enabled"], row["email_otp_enabled"], row["preferred_two_factor_authentication"]) == \
        (False, False, None)
    secret, codes, tok = enrol_totp(app, who)
    row2 = person_row(app, who, tok)
    assert (row2["totp_enabled"], row2["email_otp_enabled"], row2["preferred_two_factor_authentication"]) == \
        (True, False, "totp")
    assert row2["updated_at"] > row["updated_at"]
    enrol_email(app, box, who, tok)
    row = person_row(app, who, tok)
    assert (row["totp_enabled"], row["email_otp_enabled"], row["preferred_two_factor_authentication"]) == \
        (True, True, "totp")
    assert app.delete("/auth/totp", headers=bearer(tok), json={"recovery_code": codes[0]}).status_code == 200
    row = person_row(app, who, tok)
    assert (row["totp_enabled"], row["email_otp_enabled"], row["preferred_two_factor_authentication"]) == \
        (False, True, "email_otp")
    assert app.delete("/auth/email-otp", headers=bearer(tok), json={"recovery_code": codes[1]}).status_code == 200
    row = person_row(app, who, tok)
    assert (row["totp_enabled"], row["email_otp_enabled"], row["preferred_two_factor_authentication"]) == \
        (False, False, None)


def test_preferred_factor_enum_must_hold_the_values(tmp_path):
    bad = (APP % {"errors": "problem", "routes": ROUTES}).replace("values: [totp, email_otp, fido]",
                                                                   "values: [totp, fido]")
    (tmp_path / "app.yaml").write_text(bad)
    r = restd_check(tmp_path)
    assert r.returncode == 1
    assert "preferred_factor_field: enum field 'person.preferred_two_factor_authentication' must have the " \
           "value 'email_otp'" in r.stderr


# -- routes: rights, methods, bodies ------------------------------------------------

@pytest.mark.parametrize("method,path", [("PUT", "/auth/totp"), ("POST", "/auth/totp"), ("DELETE", "/auth/totp"),
                                         ("PUT", "/auth/recovery-codes"), ("PUT", "/auth/email-otp"),
                                         ("POST", "/auth/email-otp"), ("DELETE", "/auth/email-otp")])
def test_signed_in_routes_need_a_token(app, method, path):
    r = app.request(method, path, json={})
    assert_401(r)
    r = app.request(method, path, json={}, headers=bearer("not.a.token"))
    assert_401(r)


@pytest.mark.parametrize("method,path,allow", [("GET", "/auth/totp", "PUT, POST, DELETE"),
                                               ("PATCH", "/auth/email-otp", "GET, PUT, POST, DELETE"),
                                               ("POST", "/auth/recovery-codes", "PUT"),
                                               ("GET", "/auth/reset-password", "POST, PUT")])
def test_other_methods_are_405_with_allow(app, method, path, allow):
    r = app.request(method, path)
    assert r.status_code == 405, r.text
    assert r.headers["Allow"] == allow


@pytest.mark.parametrize("body,status", [({"totp": 123456}, 400), ({"totp": ["1"]}, 400),
                                         ({"totp": "1" * 65}, 400), ({}, 400), ({"totp": None}, 400)])
def test_totp_post_bad_bodies(app, body, status):
    who = new_user(app)
    tok = token_of(app, who)
    app.put("/auth/totp", headers=bearer(tok))
    r = app.post("/auth/totp", headers=bearer(tok), json=body)
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"].startswith("application/problem+json")


def test_totp_post_not_json(app):
    who = new_user(app)
    tok = token_of(app, who)
    h = {**bearer(tok), "Content-Type": "application/json"}
    assert app.post("/auth/totp", headers=h, data=b"{nope").status_code == 400
    assert app.post("/auth/totp", headers=h, data=b"[1,2]").status_code == 400
    assert app.post("/auth/totp", headers={**bearer(tok), "Content-Type": "text/plain"},
                    data=b'{"totp":"1"}').status_code == 415
    assert app.post("/auth/totp", headers=h, data=b'{"totp":"1","totp":"2"}').status_code == 400


# -- e-mailed codes ---------------------------------------------------------------

def enrol_email(srv, box, who, tok=None):
    tok = tok or token_of(srv, who)
    before = len(box.for_rcpt(who))
    r = srv.put("/auth/email-otp", headers=bearer(tok))
    assert r.status_code == 200 and r.json() == {"success": True}, r.text
    m = box.wait(who, before + 1)
    r = srv.post("/auth/email-otp", headers=bearer(tok), json={"email_otp": mailed_code(m)})
    assert r.status_code == 200, r.text
    return r.json()["otp_recovery_codes"], tok


def test_email_otp_enrol_mail_is_well_formed(app, box):
    who = new_user(app)
    codes, tok = enrol_email(app, box, who)
    assert len(codes) == 16
    m = box.for_rcpt(who)[0]
    assert m["from"] == "restd@example.com" and m["to"] == [who]
    assert m["msg"]["Subject"] == "MFA Demo: your sign-in code"
    assert m["msg"]["To"].addresses[0].addr_spec == who and m["msg"]["Message-ID"]
    r = app.put("/auth/email-otp", headers=bearer(tok))
    assert r.status_code == 400 and r.json()["detail"] == "OTP by email already enabled."


def test_email_otp_login(app, box):
    who = new_user(app)
    enrol_email(app, box, who)
    assert_401(login(app, who))
    r = app.get("/auth/email-otp", params={"email": who})
    assert r.status_code == 200 and r.json() == {"success": True}
    code = mailed_code(box.wait(who, 2))
    assert_401(login(app, who, email_otp="000000" if code != "000000" else "111111"))
    assert login(app, who, email_otp=code).status_code == 200
    assert_401(login(app, who, email_otp=code))  # spent


def test_email_otp_public_route_says_the_same_for_everyone(app, box):
    plain = new_user(app)  # no e-mail codes
    answers = [app.get("/auth/email-otp", params={"email": e})
               for e in (plain, "nobody@example.com", "x" * 300 + "@example.com")]
    assert all(a.status_code == 200 and a.json() == {"success": True} for a in answers)
    assert box.none_for(plain) and box.none_for("nobody@example.com", wait=0)
    r = app.get("/auth/email-otp")
    assert r.status_code == 400
    r = app.get("/auth/email-otp?email=%FF")
    assert r.status_code == 400


def test_email_code_dies_after_five_wrong_tries(app, box):
    who = new_user(app)
    enrol_email(app, box, who)
    app.get("/auth/email-otp", params={"email": who})
    code = mailed_code(box.wait(who, 2))
    bad = "000000" if code != "000000" else "111111"
    for _ in range(4):
        assert_401(login(app, who, email_otp=bad))
    db = sqlite3.connect(app.db_path, timeout=10)
    q = ("SELECT m.email_code_hash FROM _restd_mfa m JOIN person p ON p.id = m.user_id WHERE p.email = ?")
    assert db.execute(q, (who,)).fetchone()[0] is not None
    # the fifth wrong try voids the code (and locks the account's second step)
    assert_401(login(app, who, email_otp=bad))
    assert db.execute(q, (who,)).fetchone()[0] is None
    db.close()
    r = login(app, who, email_otp=code)
    assert r.status_code == 429, r.text


def test_email_otp_delete(app, box):
    who = new_user(app)
    codes, tok = enrol_email(app, box, who)
    r = app.delete("/auth/email-otp", headers=bearer(tok), json={"email_otp": "123"})
    assert r.status_code == 400
    r = app.delete("/auth/email-otp", headers=bearer(tok), json={"recovery_code": codes[0]})
    assert r.status_code == 200 and r.json() == {"success": True}
    assert login(app, who).status_code == 200


def test_email_otp_needs_a_mail_address(app):
    add_user(app, "not-an-address")
    tok = token_of(app, "not-an-address")
    r = app.put("/auth/email-otp", headers=bearer(tok))
    assert r.status_code == 400 and r.json()["detail"] == "The account's login is not a mail address."


# -- Zou's shapes ----------------------------------------------------------------

def test_zou_login_answers(zou_app):
    who = new_user(zou_app, "z")
    secret, _, _ = enrol_totp(zou_app, who)
    r = login(zou_app, who)
    assert r.status_code == 400
    assert r.json() == {"error": True, "login": False, "missing_OTP": True,
                        "preferred_two_factor_authentication": "totp",
                        "two_factor_authentication_enabled": ["recovery_code", "totp"]}
    r = login(zou_app, who, totp="abcdef")
    assert r.status_code == 400 and r.json() == {"error": True, "login": False, "wrong_OTP": True}
    assert login(zou_app, who, totp=totp(secret)).status_code == 200


def test_zou_route_answers(zou_app):
    who = new_user(zou_app, "z")
    secret, _, tok = enrol_totp(zou_app, who)
    r = zou_app.put("/auth/totp", headers=bearer(tok))
    assert r.status_code == 400 and r.json() == {"error": True, "message": "TOTP already enabled."}
    r = zou_app.delete("/auth/totp", headers=bearer(tok), json={"totp": "000000"})
    assert r.status_code == 400
    assert r.json() == {"error": True, "message": "OTP verification failed.", "wrong_OTP": True}
    r = zou_app.delete("/auth/totp", headers=bearer(tok), json={"totp": totp(secret)})
    assert r.status_code == 200 and r.json() == {"success": True}


def test_still_serving(app):
    assert app.alive()
    assert app.get("/health").status_code == 200
