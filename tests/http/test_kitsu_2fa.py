"""Zou's second factors and password reset on the real Kitsu app
(apps/kitsu/app.yaml's auth section): TOTP enrolment as Kitsu's settings
page does it, the login's second step with Zou's answers, a recovery code,
the person fields that mirror the factors, and the mail routes finding an
account by its desktop login too. Mail goes to a real SMTP server on
loopback (mail_helpers.Mailbox)."""
import base64
import json
import re

import pytest

from auth_helpers import bearer
from kitsu_helpers import add_person, kitsu_server
from mail_helpers import box, mailed_code, mailed_token, settle_step, smtp_args, totp  # noqa: F401 (box)

PASSWORD = "kitsu person password 7"


@pytest.fixture(scope="module")
def kitsu(module_server, box):
    mail = smtp_args(box, "kitsu@example.com")
    return kitsu_server(lambda app_yaml: module_server(app_yaml, extra_args=mail))


_n = [0]


def new_person(srv, **fields):
    _n[0] += 1
    email = f"artist{_n[0]}@example.com"
    add_person(srv, email, password=PASSWORD, **fields)
    return email


def login(srv, email, password=PASSWORD, **factors):
    # no session header: each request says who it is
    return srv.post("/api/auth/login", json={"email": email, "password": password, **factors},
                    headers={"Authorization": None})


def person_row(srv, email):
    rows = srv.get(f"/api/data/persons?email={email}").json()
    assert len(rows) == 1, rows
    return rows[0]


def enrol_totp(srv, email):
    """Kitsu's settings page: PUT for the secret, POST with a first code."""
    settle_step()
    tok = login(srv, email).json()["access_token"]
    r = srv.put("/api/auth/totp", headers=bearer(tok))
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"totp_provisionning_uri", "otp_secret"}
    assert body["totp_provisionning_uri"].startswith("otpauth://totp/")
    secret = body["otp_secret"]
    r = srv.post("/api/auth/totp", headers=bearer(tok), json={"totp": totp(secret, step_offset=-1)})
    assert r.status_code == 200, r.text
    return secret, r.json()


def test_totp_enrolment_answers_codes_and_a_new_session(kitsu):
    email = new_person(kitsu)
    assert person_row(kitsu, email)["totp_enabled"] is False
    secret, body = enrol_totp(kitsu, email)
    assert set(body) == {"otp_recovery_codes", "access_token", "refresh_token"}
    codes = body["otp_recovery_codes"]
    assert len(codes) == 16 and all(re.fullmatch(r"[23456789A-HJ-NP-Z]{10}", c) for c in codes)
    # the new access token is the person's own
    claims = json.loads(base64.urlsafe_b64decode(body["access_token"].split(".")[1] + "=="))
    row = person_row(kitsu, email)
    assert claims["sub"] == row["id"]
    r = kitsu.get("/api/auth/authenticated", headers=bearer(body["access_token"]))
    assert r.status_code == 200 and r.json()["user"]["email"] == email
    # gazu refreshes with the refresh token in the Authorization header
    r = kitsu.get("/api/auth/refresh-token", headers=bearer(body["refresh_token"]))
    assert r.status_code == 200 and r.json()["access_token"], r.text
    # the person row mirrors the factor, as Zou serializes it
    assert row["totp_enabled"] is True and row["preferred_two_factor_authentication"] == "totp"
    assert row["email_otp_enabled"] is False
    assert secret not in json.dumps(row)


def test_mirror_fields_are_read_only(kitsu):
    email = new_person(kitsu)
    enrol_totp(kitsu, email)
    row = person_row(kitsu, email)
    # POST and PATCH refuse a client value (Zou style: 400)
    r = kitsu.patch(f"/api/data/persons/{row['id']}", json={"totp_enabled": False})
    assert r.status_code == 400 and "totp_enabled field is read-only" in r.text, r.text
    r = kitsu.post("/api/data/persons", json={"first_name": "A", "last_name": "B", "email": "ro@example.com",
                                               "email_otp_enabled": True})
    assert r.status_code == 400 and "email_otp_enabled field is read-only" in r.text, r.text
    # Zou's PUT (a merge, as gazu sends whole rows back) ignores it
    r = kitsu.put(f"/api/data/persons/{row['id']}", json={**row, "totp_enabled": False,
                                                          "preferred_two_factor_authentication": None})
    assert r.status_code == 200, r.text
    after = person_row(kitsu, email)
    assert after["totp_enabled"] is True and after["preferred_two_factor_authentication"] == "totp"


def test_login_second_step_in_zou_shapes(kitsu):
    email = new_person(kitsu)
    secret, _ = enrol_totp(kitsu, email)
    r = login(kitsu, email)
    assert r.status_code == 400
    assert r.json() == {"error": True, "login": False, "missing_OTP": True,
                        "preferred_two_factor_authentication": "totp",
                        "two_factor_authentication_enabled": ["recovery_code", "totp"]}
    wrong = f"{(int(totp(secret)) + 1) % 1000000:06d}"
    r = login(kitsu, email, totp=wrong)
    assert r.status_code == 400 and r.json() == {"error": True, "login": False, "wrong_OTP": True}
    # the enrolment's code is spent
    assert login(kitsu, email, totp=totp(secret, step_offset=-1)).json().get("wrong_OTP") is True
    r = login(kitsu, email, totp=totp(secret))
    assert r.status_code == 200 and r.json()["login"] is True, r.text
    assert r.json()["user"]["email"] == email and r.json()["access_token"]
    # each code once
    assert login(kitsu, email, totp=totp(secret)).json().get("wrong_OTP") is True


def test_second_step_applies_to_the_desktop_login_too(kitsu):
    email = new_person(kitsu, desktop_login="artist.desk")
    secret, _ = enrol_totp(kitsu, email)
    r = login(kitsu, "artist.desk")
    assert r.status_code == 400 and r.json()["missing_OTP"] is True
    r = login(kitsu, "artist.desk", totp=totp(secret))
    assert r.status_code == 200 and r.json()["user"]["email"] == email


def test_recovery_code_signs_in_once(kitsu):
    email = new_person(kitsu)
    _, body = enrol_totp(kitsu, email)
    code = body["otp_recovery_codes"][3]
    # spaces, dashes and case are ignored
    typed = f"{code[:5].lower()}-{code[5:]}"
    r = login(kitsu, email, recovery_code=typed)
    assert r.status_code == 200 and r.json()["login"] is True, r.text
    r = login(kitsu, email, recovery_code=code)
    assert r.status_code == 400 and r.json()["wrong_OTP"] is True
    # the others still work
    assert login(kitsu, email, recovery_code=body["otp_recovery_codes"][4]).status_code == 200


def test_email_otp_is_mailed_when_asked_by_desktop_login(kitsu, box):
    email = new_person(kitsu, desktop_login="mailer.desk")
    tok = login(kitsu, email).json()["access_token"]
    assert kitsu.put("/api/auth/email-otp", headers=bearer(tok)).status_code == 200
    r = kitsu.post("/api/auth/email-otp", headers=bearer(tok), json={"email_otp": mailed_code(box.wait(email, 1))})
    assert r.status_code == 200, r.text
    assert person_row(kitsu, email)["email_otp_enabled"] is True
    # Kitsu's login page asks for a code with whatever the person typed
    r = kitsu.get("/api/auth/email-otp?email=mailer.desk", headers={"Authorization": None})
    assert r.status_code == 200 and r.json() == {"success": True}
    code = mailed_code(box.wait(email, 2))
    r = login(kitsu, "mailer.desk", email_otp=code)
    assert r.status_code == 200 and r.json()["user"]["email"] == email, r.text


def test_reset_password_by_desktop_login(kitsu, box):
    email = new_person(kitsu, desktop_login="reset.desk")
    before = len(box.for_rcpt(email))
    r = kitsu.post("/api/auth/reset-password", json={"email": "reset.desk"}, headers={"Authorization": None})
    assert r.status_code == 200, r.text
    token = mailed_token(box.wait(email, before + 1))
    new = "a brand new password 9"
    r = kitsu.put("/api/auth/reset-password", headers={"Authorization": None},
                  json={"email": "reset.desk", "token": token, "password": new, "password2": new})
    assert r.status_code == 200 and r.json() == {"success": True}, r.text
    assert login(kitsu, email).status_code == 400
    assert login(kitsu, "reset.desk", new).status_code == 200
