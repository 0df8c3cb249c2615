"""Starting the Kitsu app (apps/kitsu) for tests, signed in when it has auth.

Every test module that talks to apps/kitsu gets its server from
kitsu_server(): when the app file has an `auth:` section, an admin person
is created with the CLI and the server's session carries its bearer token,
so tests written before and after sign-in was switched on read the same.
"""
import json
import re
import shutil

from harness import REPO, cli

KITSU_DIR = REPO / "apps" / "kitsu"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "kitsu admin password 42"


def kitsu_app_yaml():
    return (KITSU_DIR / "app.yaml").read_text()


def has_auth(app_yaml):
    return re.search(r"^auth:", app_yaml, re.M) is not None


def login_path(app_yaml):
    m = re.search(r"^\s+login:\s*(\S+)\s*$", app_yaml, re.M)
    return m.group(1).strip("\"'") if m else "/api/auth/login"


def add_person(srv, email, role="user", password=ADMIN_PASSWORD, **fields):
    body = {"email": email, "first_name": fields.pop("first_name", email.split("@")[0]),
            "last_name": fields.pop("last_name", "Test"), "role": role, **fields}
    r = cli(srv, "user", "add", "--password-stdin", json.dumps(body), stdin=password + "\n")
    assert r.returncode == 0, r.stderr
    return r


def sign_in(srv, email=ADMIN_EMAIL, password=ADMIN_PASSWORD):
    """Log in and return the login answer (a dict with access_token)."""
    r = srv.post(login_path(srv.app_yaml), json={"email": email, "password": password})
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()


def seeded(factory):
    """A factory for kitsu_server that puts apps/kitsu/seed.json (when the
    app has one) beside the app file before the server starts, as
    tests/gazu/run.sh serves it."""
    def start(app_yaml):
        srv = factory(app_yaml, start=False)
        if (KITSU_DIR / "seed.json").exists():
            shutil.copy(KITSU_DIR / "seed.json", srv.app_dir / "seed.json")
        srv.start()
        return srv
    return start


def kitsu_server(factory, app_yaml=None):
    """factory: the module_server or server fixture. Returns a started
    server whose session is signed in as an admin when the app has auth."""
    app_yaml = app_yaml or kitsu_app_yaml()
    srv = factory(app_yaml)
    if has_auth(app_yaml):
        add_person(srv, ADMIN_EMAIL, role="admin")
        tok = sign_in(srv)["access_token"]
        srv.session.headers["Authorization"] = f"Bearer {tok}"
    return srv
