"""Password reset by a mailed token (docs/auth.md, "Password reset"): the
token is read from a real SMTP server on loopback and used; it works once,
expires, ends the account's sessions; unknown and inactive accounts get the
same answer and no mail; hostile bodies get clear 400s; mail headers carry
no injected lines."""
import re
import sqlite3
import time

import pytest

from auth_helpers import add_user, bearer, login
from mail_helpers import box, mailed_token, smtp_args, token_of  # noqa: F401 (box)
from test_mfa import APP, ROUTES

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture(scope="module")
def app(module_server, box):
    return module_server(APP % {"errors": "problem", "routes": ROUTES}, extra_args=smtp_args(box))


@pytest.fixture(scope="module")
def zou_app(module_server, box):
    return module_server(APP % {"errors": "zou", "routes": ROUTES},
                         extra_args=smtp_args(box))


_n = [0]


def new_user(srv, prefix="r", **fields):
    _n[0] += 1
    who = f"{prefix}{_n[0]}-{int(time.time() * 1000) % 100000}@example.com"
    add_user(srv, who, **fields)
    return who


def ask(srv, who):
    r = srv.post("/auth/reset-password", json={"email": who})
    assert r.status_code == 200, r.text
    assert r.json() == {"success": "Reset token sent"}
    return r


def reset(srv, who, token, password=NEW_PASSWORD, password2=None):
    return srv.put("/auth/reset-password", json={"email": who, "token": token, "password": password,
                                                 "password2": password if password2 is None else password2})


def test_reset_flow(app, box):
    who = new_user(app)
    tok = token_of(app, who)
    refresh = login(app, who).json()["refresh_token"]
    ask(app, who)
    m = box.wait(who)
    token = mailed_token(m)
    assert re.fullmatch(r"[A-Z0-9]{64}", token)
    assert m["msg"]["Subject"] == "MFA Demo: password reset"
    r = reset(app, who, token)
    assert r.status_code == 200 and r.json() == {"success": True}, r.text
    # the new password works, the old one not
    assert login(app, who).status_code == 401
    assert login(app, who, NEW_PASSWORD).status_code == 200
    # every session of the account ended
    r = app.get("projects", headers=bearer(tok))
    assert r.status_code == 401
    assert app.post("/auth/refresh", json={"refresh_token": refresh}).status_code == 401
    # the token works once
    r = reset(app, who, token, "yet another password")
    assert r.status_code == 400 and r.json()["detail"] == "Wrong or expired token."


def test_only_the_last_token_works(app, box):
    who = new_user(app)
    ask(app, who)
    first = mailed_token(box.wait(who))
    ask(app, who)
    second = mailed_token(box.wait(who, 2))
    assert reset(app, who, first).status_code == 400
    assert reset(app, who, second).status_code == 200


def test_wrong_token_and_wrong_account(app, box):
    who = new_user(app)
    other = new_user(app)
    ask(app, who)
    token = mailed_token(box.wait(who))
    for r in (reset(app, who, "A" * 64), reset(app, who, token.lower()), reset(app, other, token),
              reset(app, "nobody@example.com", token), reset(app, who, token[:-1])):
        assert r.status_code == 400 and r.json()["detail"] == "Wrong or expired token.", r.text
    assert login(app, who).status_code == 200  # unchanged
    assert reset(app, who, token).status_code == 200


def test_password_rules(app, box):
    who = new_user(app)
    ask(app, who)
    token = mailed_token(box.wait(who))
    r = reset(app, who, token, "password one", "password two")
    assert r.status_code == 400 and r.json()["detail"] == "Confirmation password doesn't match."
    r = reset(app, who, token, "short")
    assert r.status_code == 400 and r.json()["detail"] == "Password is too short."
    r = reset(app, who, token, "ééééééé")  # 14 bytes, 7 characters
    assert r.status_code == 400 and r.json()["detail"] == "Password is too short."
    r = reset(app, who, token, "p" * 1025)
    assert r.status_code == 400
    # failed attempts did not spend the token
    assert reset(app, who, token, "ëëëëëëëë").status_code == 200
    assert login(app, who, "ëëëëëëëë").status_code == 200


def test_expired_token(app, box):
    who = new_user(app)
    ask(app, who)
    token = mailed_token(box.wait(who))
    db = sqlite3.connect(app.db_path, timeout=10)
    db.execute("UPDATE _restd_reset SET expires_at = ?", (int(time.time()) - 1,))
    db.commit()
    db.close()
    r = reset(app, who, token)
    assert r.status_code == 400 and r.json()["detail"] == "Wrong or expired token."


def test_token_stored_hashed(app, box):
    who = new_user(app)
    ask(app, who)
    token = mailed_token(box.wait(who))
    db = sqlite3.connect(app.db_path, timeout=10)
    stored = [r[0] for r in db.execute("SELECT token_hash FROM _restd_reset")]
    db.close()
    assert token not in stored and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in stored)


def test_unknown_and_inactive_accounts_get_the_same_answer_and_no_mail(app, box):
    inactive = new_user(app, active=False)
    a = app.post("/auth/reset-password", json={"email": "nobody@example.com"})
    b = app.post("/auth/reset-password", json={"email": inactive})
    assert a.status_code == b.status_code == 200 and a.json() == b.json() == {"success": "Reset token sent"}
    assert box.none_for("nobody@example.com") and box.none_for(inactive, wait=0)


def test_mail_flood_is_capped(app, box):
    who = new_user(app)
    for _ in range(8):
        ask(app, who)
    time.sleep(1.0)
    assert len(box.for_rcpt(who)) == 5


def test_public_requests_are_capped_per_address(server):
    srv = server(APP % {"errors": "problem", "routes": ROUTES})
    for i in range(100):
        path = "/auth/reset-password" if i % 2 else "/auth/email-otp"
        r = (srv.post(path, json={"email": f"n{i}@example.com"}) if i % 2
             else srv.get(path, params={"email": f"n{i}@example.com"}))
        assert r.status_code == 200, (i, r.text)
    r = srv.post("/auth/reset-password", json={"email": "last@example.com"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert srv.get("/auth/email-otp", params={"email": "x@example.com"}).status_code == 429
    # the signed-in and token routes are not affected
    assert srv.put("/auth/reset-password", json={"email": "a@example.com", "token": "T", "password": "p" * 10,
                                                 "password2": "p" * 10}).status_code == 400


def test_header_injection_through_the_login_mails_no_one(app, box):
    evil = "evil@example.com\r\nBcc: victim@example.com"
    add_user(app, evil)
    ask(app, evil)
    ask(app, "x@example.com>\r\nRCPT TO:<victim@example.com")
    assert box.none_for("victim@example.com") and box.none_for("evil@example.com", wait=0)
    assert app.alive()


@pytest.mark.parametrize("body", [{}, {"email": 5}, {"email": ["a@example.com"]}, {"email": ""},
                                  {"email": "a" * 1025}])
def test_bad_reset_requests(app, body):
    r = app.post("/auth/reset-password", json=body)
    assert r.status_code == 400, r.text
    assert r.headers["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize("body", [{}, {"email": "a@example.com"}, {"email": "a@example.com", "token": "T"},
                                  {"email": "a@example.com", "token": "T", "password": "p" * 10},
                                  {"email": "a@example.com", "token": 5, "password": "p" * 10, "password2": "p" * 10},
                                  {"email": "a@example.com", "token": "T" * 257, "password": "p" * 10,
                                   "password2": "p" * 10},
                                  {"email": "a@example.com", "token": "T", "password": None, "password2": None}])
def test_bad_reset_uses(app, body):
    r = app.put("/auth/reset-password", json=body)
    assert r.status_code == 400, r.text


def test_not_json(app):
    h = {"Content-Type": "application/json"}
    assert app.post("/auth/reset-password", data=b"{", headers=h).status_code == 400
    assert app.post("/auth/reset-password", data=b'"a"', headers=h).status_code == 400
    assert app.put("/auth/reset-password", data=b"email=x", headers={"Content-Type": "text/plain"}).status_code == 415


def test_zou_shapes(zou_app, box):
    who = new_user(zou_app, "z")
    ask(zou_app, who)
    token = mailed_token(box.wait(who))
    r = reset(zou_app, who, "0" * 64)
    assert r.status_code == 400 and r.json() == {"error": True, "message": "Wrong or expired token."}
    r = reset(zou_app, who, token, "x", "y")
    assert r.json() == {"error": True, "message": "Confirmation password doesn't match."}
    assert reset(zou_app, who, token).json() == {"success": True}


def test_without_smtp(server):
    srv = server(APP % {"errors": "problem", "routes": ROUTES})
    who = "solo@example.com"
    add_user(srv, who)
    r = srv.post("/auth/reset-password", json={"email": who})
    assert r.status_code == 200 and r.json() == {"success": "Reset token sent"}
    tok = token_of(srv, who)
    r = srv.put("/auth/email-otp", headers=bearer(tok))
    assert r.status_code == 503, r.text
    assert "SMTP" in r.json()["detail"]


@pytest.mark.parametrize("args,msg", [(["--smtp-url", "http://x"], "--mail-from"),
                                      (["--smtp-url", "http://127.0.0.1:1", "--mail-from", "a@example.com"],
                                       "smtp://"),
                                      (["--smtp-url", "smtp://127.0.0.1:1", "--mail-from", "bad address"],
                                       "--mail-from")])
def test_bad_mail_options(server, args, msg):
    srv = server(APP % {"errors": "problem", "routes": ROUTES}, start=False, extra_args=args)
    srv.spawn()
    rc = srv.wait_exit(20)
    assert rc in (1, 2), rc
    assert msg in srv.stderr_text(run_only=True)
    srv.note_exit(0)
