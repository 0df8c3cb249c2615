"""Accounts for the HTTP tests of apps with an `auth:` section: a user made
with the real CLI, a password login, bearer headers, and a signed-in
caller whose requests carry its token."""
import json

from harness import cli

PASSWORD = "correct horse battery staple"


def add_user(srv, login, role="user", password=PASSWORD, login_field="email", **fields):
    """`restd user add` with {login_field: login, role, **fields}."""
    r = cli(srv, "user", "add", "--password-stdin", json.dumps({login_field: login, "role": role, **fields}),
            stdin=password + "\n")
    assert r.returncode == 0, r.stderr
    return r


def login(srv, login_name, password=PASSWORD, **extra):
    return srv.post("/auth/login", json={"email": login_name, "password": password, **extra})


def bearer(tok):
    return {"Authorization": f"Bearer {tok}"}


class Caller:
    """One signed-in user: requests with its bearer token."""

    def __init__(self, srv, email, login="/auth/login", password=PASSWORD):
        r = srv.post(login, json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        self.srv = srv
        self.h = bearer(r.json()["access_token"])

    def __getattr__(self, method):
        return lambda path, **kw: self.srv.request(method.upper(), path, headers=self.h, **kw)
