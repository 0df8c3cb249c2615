"""Command line: --version/--help, option errors (exit 2), `check`, env vars."""
import re
import subprocess
import time

import pytest
import requests

from harness import DEMO_APP, assert_no_sanitizer_report, free_port, restd_bin, sanitizer_env


def run(args, env=None, timeout=10):
    try:
        p = subprocess.run([restd_bin()] + args, capture_output=True, text=True,
                           env=sanitizer_env(env), timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"restd {args} still running after {timeout}s (expected it to exit): "
                    f"{(e.stderr or b'')[-500:]!r}")
    assert_no_sanitizer_report(p.stderr, f"restd {args}")
    return p


@pytest.fixture
def app_dir(tmp_path):
    d = tmp_path / "app"
    d.mkdir()
    (d / "app.yaml").write_text(DEMO_APP)
    return d


def serve_args(app_dir, tmp_path, **over):
    opts = {"--app": str(app_dir), "--db": f"sqlite:{tmp_path}/db.sqlite",
            "--listen": f"127.0.0.1:{free_port()}", "--workers": "2", "--log-level": "info"}
    opts.update(over)
    out = ["serve"]
    for k, v in opts.items():
        if v is not None:
            out += [k, v]
    return out


def test_version():
    p = run(["--version"])
    assert p.returncode == 0, p.stderr
    assert re.fullmatch(r"restd \S+\n?", p.stdout), repr(p.stdout)


def test_help():
    p = run(["--help"])
    assert p.returncode == 0, p.stderr
    text = p.stdout + p.stderr
    assert "serve" in text and "check" in text, text


@pytest.mark.parametrize("args", [["--bogus"], ["serve", "--bogus"], ["check", "--bogus"],
                                  ["frobnicate"]])
def test_unknown_option_or_command_exit_2(args):
    p = run(args)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert p.stderr.strip(), "no message on stderr"


@pytest.mark.parametrize("opt,value", [
    ("--listen", "nonsense"), ("--listen", "127.0.0.1:99999"), ("--listen", "127.0.0.1:"),
    ("--listen", "127.0.0.1:abc"), ("--workers", "0"), ("--workers", "abc"), ("--workers", "-1"),
    ("--workers", "2x"), ("--log-level", "loud"),
])
def test_bad_option_value_exit_2(app_dir, tmp_path, opt, value):
    p = run(serve_args(app_dir, tmp_path, **{opt: value}))
    assert p.returncode == 2, (opt, value, p.returncode, p.stderr)
    assert p.stderr.strip()


def test_missing_option_value_exit_2(app_dir, tmp_path):
    p = run(["serve", "--app", str(app_dir), "--workers"])
    assert p.returncode == 2, (p.returncode, p.stderr)


def test_check_good_app(app_dir):
    p = run(["check", "--app", str(app_dir)])
    assert p.returncode == 0, (p.stdout, p.stderr)


BAD_LINE7 = """\
app:
  name: bad
  base_path: /api
  health_path: /health
models:
  person:
    colour: red
    route: persons
    fields:
      email: {type: string}
"""


def test_check_unknown_key_cites_line(tmp_path):
    d = tmp_path / "bad"
    d.mkdir()
    (d / "app.yaml").write_text(BAD_LINE7)
    p = run(["check", "--app", str(d)])
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    out = p.stdout + p.stderr
    assert re.search(re.escape(f"{d}/app.yaml") + r":7:\d+: \S", out), out
    assert "colour" in out, out


BAD_MANY = """\
app:
  name: bad
  base_path: /api
models:
  person:
    route: persons
    fields:
      email: {type: strang}
      role: {type: enum}
      boss: {type: ref, model: nobody}
      age: {type: integer, default: old}
      code: {type: string, pattern: "([unclosed"}
"""


def test_check_reports_every_problem_with_positions(tmp_path):
    d = tmp_path / "bad"
    d.mkdir()
    (d / "app.yaml").write_text(BAD_MANY)
    p = run(["check", "--app", str(d)])
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    out = p.stdout + p.stderr
    lines = re.findall(re.escape(f"{d}/app.yaml") + r":(\d+):\d+: ", out)
    assert {"8", "9", "10", "11", "12"} <= set(lines), out


@pytest.mark.parametrize("name,text", [
    ("yaml_syntax", "app:\n  name: [unclosed\nmodels: {}\n"),
    ("empty", ""),
    ("not_a_mapping", "- a\n- b\n"),
    ("dup_route", DEMO_APP.replace("route: tasks", "route: persons")),
    ("dup_key", DEMO_APP.replace("      active: {type: boolean, default: true}\n",
                                 "      active: {type: boolean, default: true}\n"
                                 "      active: {type: boolean}\n")),
    ("bad_conventions", DEMO_APP.replace("payload_keys: snake", "payload_keys: kebab")),
    ("negative_limit", DEMO_APP.replace("max_body_bytes: 65536", "max_body_bytes: -1")),
    ("enum_default_not_in_values", DEMO_APP.replace("default: user", "default: boss")),
    ("index_unknown_field", DEMO_APP.replace("fields: [status]", "fields: [nope]")),
])
def test_check_bad_apps_exit_1(tmp_path, name, text):
    d = tmp_path / "bad"
    d.mkdir()
    (d / "app.yaml").write_text(text)
    p = run(["check", "--app", str(d)])
    assert p.returncode == 1, (name, p.returncode, p.stdout, p.stderr)
    out = p.stdout + p.stderr
    assert re.search(re.escape(f"{d}/app.yaml") + r":\d+:\d+: \S", out), (name, out)


def test_check_missing_dir_exit_1(tmp_path):
    p = run(["check", "--app", str(tmp_path / "absent")])
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "absent" in p.stdout + p.stderr


def test_serve_bad_app_exits_nonzero(tmp_path):
    d = tmp_path / "bad"
    d.mkdir()
    (d / "app.yaml").write_text(BAD_LINE7)
    p = run(serve_args(d, tmp_path))
    assert p.returncode != 0
    assert re.search(r"app\.yaml:7:\d+: ", p.stderr), p.stderr


def _serve_until_healthy(server, argv, env, port):
    srv = server(DEMO_APP, start=False, argv=argv, env=env)
    srv.port = port
    srv.url = f"http://127.0.0.1:{port}"
    srv.base = srv.url + "/api"
    srv.start()
    return srv


def test_env_vars_configure_serve(server, app_dir, tmp_path):
    port = free_port()
    db = tmp_path / "envdb.sqlite"
    env = {"RESTD_APP": str(app_dir), "RESTD_DB": f"sqlite:{db}",
           "RESTD_LISTEN": f"127.0.0.1:{port}", "RESTD_WORKERS": "1",
           "RESTD_LOG_LEVEL": "error"}
    srv = _serve_until_healthy(server, [restd_bin(), "serve"], env, port)
    row = srv.create("persons", {"email": "env@example.com", "full_name": "E"})
    assert db.exists(), "RESTD_DB ignored: no database at the given path"
    assert requests.get(srv.base + f"/persons/{row['id']}", timeout=5).status_code == 200
    time.sleep(1.5)
    assert "method=" not in srv.stderr_text(), "RESTD_LOG_LEVEL=error ignored"


def test_flags_override_env(server, app_dir, tmp_path):
    # Reading: an explicit flag wins over the environment.
    port = free_port()
    env = {"RESTD_LISTEN": "nonsense-listen", "RESTD_WORKERS": "abc"}
    argv = [restd_bin()] + serve_args(app_dir, tmp_path, **{"--listen": f"127.0.0.1:{port}"})
    _serve_until_healthy(server, argv, env, port)


def test_bad_env_value_exit_2(app_dir, tmp_path):
    env = {"RESTD_APP": str(app_dir), "RESTD_DB": f"sqlite:{tmp_path}/db.sqlite",
           "RESTD_LISTEN": f"127.0.0.1:{free_port()}", "RESTD_WORKERS": "0"}
    p = run(["serve"], env=env)
    assert p.returncode == 2, (p.returncode, p.stderr)
    env["RESTD_WORKERS"] = "1"
    env["RESTD_LISTEN"] = "nonsense"
    p = run(["serve"], env=env)
    assert p.returncode == 2, (p.returncode, p.stderr)


def test_listen_port_in_use_fails(app_dir, tmp_path):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    try:
        port = s.getsockname()[1]
        p = run(serve_args(app_dir, tmp_path, **{"--listen": f"127.0.0.1:{port}"}))
        assert p.returncode != 0
        assert p.stderr.strip()
    finally:
        s.close()
