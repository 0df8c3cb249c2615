"""Shared machinery for the restd HTTP suite: start/stop a real restd, talk
to it, and check error documents.

Everything here is standard library + requests. conftest.py turns it into
fixtures; test modules import the helpers directly (`from harness import ...`).
"""
import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")
START_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0
REQ_TIMEOUT = 10.0

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# The demo app from the contract; most modules share one server running it.
DEMO_APP = """\
app:
  name: demo
  base_path: /api
  health_path: /health
  limits: {max_body_bytes: 65536}
  conventions: {payload_keys: snake, error_keys: snake, dates: iso8601, errors: problem}
models:
  person:
    route: persons
    fields:
      email: {type: string, required: true, unique: true, max_length: 254}
      full_name: {type: string, required: true, max_length: 120}
      role: {type: enum, values: [admin, manager, user], default: user}
      active: {type: boolean, default: true}
  project:
    route: projects
    fields:
      name: {type: string, required: true, unique: true, max_length: 80}
      code: {type: string, pattern: "^[A-Z][A-Z0-9]{1,7}$"}
      description: {type: text}
      budget: {type: number, min: 0}
      priority: {type: integer, min: 1, max: 5, default: 3}
      status: {type: enum, values: [open, closed], default: open}
      owner: {type: ref, model: person}
      members: {type: ref_list, model: person}
      starts_on: {type: date}
      due_at: {type: datetime}
      settings: {type: json}
      archived: {type: boolean, default: false}
      external_id: {type: uuid}
    indexes:
      - fields: [status]
  task:
    route: tasks
    fields:
      title: {type: string, required: true, max_length: 200}
      project: {type: ref, model: project, required: true}
      assignee: {type: ref, model: person}
      done: {type: boolean, default: false}
"""

PERSON_KEYS = ["id", "email", "full_name", "role", "active", "created_at", "updated_at"]
PROJECT_KEYS = ["id", "name", "code", "description", "budget", "priority", "status", "owner",
                "members", "starts_on", "due_at", "settings", "archived", "external_id",
                "created_at", "updated_at"]
TASK_KEYS = ["id", "title", "project", "assignee", "done", "created_at", "updated_at"]


def restd_bin():
    b = os.environ.get("RESTD_BIN")
    if b:
        return b
    for cand in (REPO / "build" / "restd", REPO / "build-asan" / "restd"):
        if cand.exists():
            return str(cand)
    return str(REPO / "build" / "restd")


def sanitizer_env(extra=None):
    env = dict(os.environ)
    # detect_stack_use_after_return: a handler that hands the writer thread a
    # pointer into its own stack frame is caught, not just lucky
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    for k in ("RESTD_APP", "RESTD_DB", "RESTD_LISTEN", "RESTD_WORKERS", "RESTD_LOG_LEVEL"):
        env.pop(k, None)  # the harness passes options explicitly
    if extra:
        env.update(extra)
    return env


def cli(srv, *args, stdin=None):
    """`restd GROUP VERB --app <srv's app> --db <srv's db> REST...` (say
    cli(srv, "user", "add", ...)), with the sanitizer environment; returns
    the completed process."""
    argv = [restd_bin(), *args[:2], "--app", str(srv.app_dir), "--db", f"sqlite:{srv.db_path}", *args[2:]]
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60,
                          env=sanitizer_env())


def restd_check(app_dir, timeout=60):
    """`restd check --app app_dir`: the completed process."""
    return subprocess.run([restd_bin(), "check", "--app", str(app_dir)], capture_output=True, text=True,
                          timeout=timeout, env=sanitizer_env())


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_no_sanitizer_report(text, what="restd"):
    for m in SANITIZER_MARKERS:
        assert m not in text, f"{what} stderr contains a sanitizer report ({m!r}):\n{text[-6000:]}"


# Every live restd process we started, so nothing outlives the session.
_LIVE = set()


def _kill_all():
    for p in list(_LIVE):
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            p.wait(timeout=5)
        except Exception:
            pass
        _LIVE.discard(p)


atexit.register(_kill_all)


def _yaml_scalar(yaml_text, key, default):
    m = re.search(r"^\s+%s:\s*(\S+)\s*$" % re.escape(key), yaml_text, re.M)
    return m.group(1).strip("\"'") if m else default


class StartError(RuntimeError):
    pass


class Server:
    """One restd serving an app from its own temp dir.

    .url, .base, .proc, .db_path, .app_dir, .stderr_text(), .restart(),
    .kill9(), .stop(), plus small HTTP helpers bound to this server.
    """

    def __init__(self, app_yaml, workers=2, log_level="info", extra_args=(), env=None,
                 tmp=None, wrapper=None, health_path=None, base_path=None, argv=None):
        self.tmp = Path(tmp or tempfile.mkdtemp(prefix="restd-http-"))
        self._own_tmp = tmp is None
        self.app_dir = self.tmp / "app"
        self.app_dir.mkdir(parents=True, exist_ok=True)
        self.db_path = self.tmp / "db.sqlite"
        self.stderr_path = self.tmp / "stderr.log"
        self.stdout_path = self.tmp / "stdout.log"
        self.workers = workers
        self.log_level = log_level
        self.extra_args = list(extra_args)
        self.env = env or {}
        self.wrapper = list(wrapper or [])
        self._argv = argv
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self._run_offset = 0
        self.killed = False  # last run ended by SIGKILL on purpose
        self.deferred = []  # shutdown failures recorded by stop(defer=True)
        self._stopped = None  # the process stop() last checked
        self.write_app(app_yaml, health_path=health_path, base_path=base_path)
        self.session = requests.Session()

    # -- app file ---------------------------------------------------------
    def write_app(self, app_yaml, health_path=None, base_path=None):
        (self.app_dir / "app.yaml").write_text(app_yaml)
        self.app_yaml = app_yaml
        self.health_path = health_path or _yaml_scalar(app_yaml, "health_path", "/health")
        bp = base_path if base_path is not None else _yaml_scalar(app_yaml, "base_path", "")
        self.base_path = "" if bp in ("/", "") else bp.rstrip("/")
        self.base = self.url + self.base_path

    # -- process ------------------------------------------------------------
    def argv(self):
        if self._argv is not None:
            return list(self._argv)
        return self.wrapper + [restd_bin(), "serve", "--app", str(self.app_dir),
                               "--db", f"sqlite:{self.db_path}",
                               "--listen", f"127.0.0.1:{self.port}",
                               "--workers", str(self.workers),
                               "--log-level", self.log_level] + self.extra_args

    def spawn(self):
        if not Path(restd_bin()).exists():
            raise StartError(f"restd binary not found: {restd_bin()}")
        with open(self.stderr_path, "ab") as f:
            self._run_offset = f.tell()
        err = open(self.stderr_path, "ab")
        out = open(self.stdout_path, "ab")
        try:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=err, env=sanitizer_env(self.env),
                                         start_new_session=True)
        finally:
            err.close()
            out.close()
        _LIVE.add(self.proc)
        self.killed = False
        self.session.close()
        self.session = requests.Session()
        return self.proc

    def start(self, timeout=START_TIMEOUT):
        """Spawn and wait for the health check; raises StartError on failure."""
        for attempt in range(3):
            self.spawn()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                rc = self.proc.poll()
                if rc is not None:
                    _LIVE.discard(self.proc)
                    text = self.stderr_text(run_only=True)
                    if "in use" in text.lower() and attempt < 2:
                        time.sleep(0.5)
                        break  # port taken by someone else: retry
                    raise StartError(f"restd exited with {rc} during start-up:\n{text[-4000:]}")
                try:
                    r = requests.get(self.url + self.health_path, timeout=1)
                    if r.status_code == 200:
                        return self
                except requests.RequestException:
                    pass
                time.sleep(0.05)
            else:
                self._hard_kill()
                raise StartError(f"restd not healthy within {timeout}s:\n"
                                 f"{self.stderr_text(run_only=True)[-4000:]}")
        raise StartError("could not start restd")

    def wait_exit(self, timeout):
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        _LIVE.discard(self.proc)
        return rc

    def signal(self, sig):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def _hard_kill(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        _LIVE.discard(self.proc)

    def stop(self, check=True, defer=False):
        """SIGTERM, wait up to 15 s; with check, assert exit 0 and clean stderr.
        With defer, a failed check is recorded in .deferred (reported at
        teardown) instead of raised, so a test about something else (say,
        migration) can go on after a bad shutdown. Returns the exit code."""
        if defer:
            try:
                return self.stop(check=check)
            except AssertionError as e:
                self.deferred.append(str(e))
                return self.proc.returncode if self.proc else None
        if self.proc is None:
            return None
        if self.proc.poll() is not None and self._stopped is self.proc:
            return self.proc.returncode  # already stopped and checked
        self._stopped = self.proc
        if self.proc.poll() is not None:
            rc = self.proc.returncode
            _LIVE.discard(self.proc)
        else:
            self.signal(signal.SIGTERM)
            rc = self.wait_exit(STOP_TIMEOUT)
            if rc is None:
                self._hard_kill()
                if check:
                    raise AssertionError(f"restd did not exit within {STOP_TIMEOUT}s of SIGTERM:\n"
                                         f"{self.stderr_text()[-4000:]}")
                return None
        self.session.close()
        if check:
            text = self.stderr_text(run_only=True)
            assert_no_sanitizer_report(text)
            if not self.killed:
                assert rc == 0, f"restd exited with {rc} after SIGTERM:\n{text[-4000:]}"
        return rc

    def note_exit(self, rc, what="exit"):
        """For a test that saw the process exit by itself: record (deferred)
        a non-zero code or a sanitizer report, and mark this run checked."""
        self._stopped = self.proc
        text = self.stderr_text(run_only=True)
        if rc != 0:
            self.deferred.append(f"{what}: restd exited with {rc}:\n{text[-3000:]}")
        elif any(m in text for m in SANITIZER_MARKERS):
            self.deferred.append(f"{what}: sanitizer report:\n{text[-3000:]}")

    def kill9(self):
        """SIGKILL on purpose. A sanitizer report printed before the kill is
        still a failure (recorded in .deferred)."""
        self.killed = True
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        _LIVE.discard(self.proc)
        self._stopped = self.proc
        try:
            assert_no_sanitizer_report(self.stderr_text(run_only=True))
        except AssertionError as e:
            self.deferred.append(str(e))

    def restart(self, app_yaml=None):
        """Stop (a bad shutdown is deferred to teardown), then start again."""
        if self.proc is not None and self.proc.poll() is None:
            self.stop(defer=True)
        elif self.proc is not None and self._stopped is not self.proc:
            self._stopped = self.proc
            assert_no_sanitizer_report(self.stderr_text(run_only=True))
        if app_yaml is not None:
            self.write_app(app_yaml)
        self.session.close()
        self.session = requests.Session()
        return self.start()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr_text(self, run_only=False):
        try:
            data = self.stderr_path.read_bytes()
        except FileNotFoundError:
            return ""
        if run_only:
            data = data[self._run_offset:]
        return data.decode("utf-8", "replace")

    def wait_stderr(self, predicate, timeout=3.0, run_only=False):
        """Poll stderr until predicate(text) is true (log lines may be late)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.stderr_text(run_only=run_only)
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)

    def cleanup(self):
        if self._own_tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- HTTP ---------------------------------------------------------------
    def request(self, method, path, **kw):
        """path: absolute ("/health") or relative to base_path ("persons/1")."""
        url = path if path.startswith("http") else (
            self.url + path if path.startswith("/") else self.base + "/" + path)
        kw.setdefault("timeout", REQ_TIMEOUT)
        return self.session.request(method, url, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def create(self, route, body):
        r = self.post(route, json=body)
        assert r.status_code == 201, f"POST {route} {body!r} -> {r.status_code} {r.text[:500]}"
        return r.json()

    def assert_alive(self):
        """After a hostile test: the process runs and a normal GET works."""
        assert self.alive(), f"restd died:\n{self.stderr_text()[-4000:]}"
        r = requests.get(self.url + self.health_path, timeout=5)
        assert r.status_code == 200, (r.status_code, r.text)
        # with the session's headers: a signed-in session stays signed in
        r = requests.get(self.base + "/persons?limit=1", headers=dict(self.session.headers), timeout=5)
        assert r.status_code == 200, (r.status_code, r.text)


# -- response checks ------------------------------------------------------

LEAK_PATTERNS_CS = ("SELECT", "INSERT", "UPDATE ", "DELETE FROM", "/src/", "#0 0x", ".c:")
LEAK_PATTERNS_CI = ("sqlite", "constraint failed", "/tmp/", "stack", "sanitizer", "errno")


def assert_no_leak(text, srv=None):
    for p in LEAK_PATTERNS_CS:
        assert p not in text, f"error response leaks {p!r}: {text[:1000]}"
    low = text.lower()
    for p in LEAK_PATTERNS_CI:
        assert p not in low, f"error response leaks {p!r}: {text[:1000]}"
    if srv is not None:
        assert str(srv.tmp) not in text, f"error response leaks the server dir: {text[:1000]}"


def problem(r, status, srv=None):
    """Assert r is an RFC 9457 problem with this status; return the body."""
    assert r.status_code == status, (
        f"{r.request.method} {r.request.url} -> expected {status}, got {r.status_code}: {r.text[:1000]}")
    ctype = r.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip().lower() == "application/problem+json", (
        f"error Content-Type is {ctype!r}, body {r.text[:300]}")
    assert_no_leak(r.text, srv)
    body = r.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("type"), str) and body["type"], body
    assert isinstance(body.get("title"), str) and body["title"], body
    assert body.get("status") == status, f"body status {body.get('status')!r} != HTTP {status}"
    if "detail" in body:
        assert isinstance(body["detail"], str), body
    return body


def validation(r, srv=None):
    """Assert a 422 ValidationProblemDetails; return the errors dict."""
    body = problem(r, 422, srv)
    errs = body.get("errors")
    assert isinstance(errs, dict) and errs, f"422 without an errors object: {body}"
    for k, msgs in errs.items():
        assert isinstance(msgs, list) and msgs, f"errors[{k!r}] is not a non-empty list: {body}"
        for m in msgs:
            assert isinstance(m, str) and m.strip(), f"errors[{k!r}] has an empty message: {body}"
    return errs


def detail_of(body):
    d = body.get("detail")
    assert isinstance(d, str) and d, f"problem has no detail: {body}"
    return d


# -- raw sockets (hostile tests) ------------------------------------------

def read_until_close(s):
    """All bytes the peer sends until it closes the connection."""
    buf = b""
    while True:
        k = s.recv(65536)
        if not k:
            return buf
        buf += k


def raw_exchange(port, data, timeout=5.0, chunks=None, read=True):
    """Send raw bytes (or a list of byte chunks) and read until the peer
    closes or the first response is complete. Returns (status|None, head, body)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        parts = chunks if chunks is not None else [data]
        for part in parts:
            try:
                s.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server may answer and close before reading it all
        if not read:
            return None, b"", b""
        buf = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                k = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not k:
                break
            buf += k
            if _response_complete(buf):
                break
        return _parse_response(buf)
    finally:
        s.close()


def _response_complete(buf):
    i = buf.find(b"\r\n\r\n")
    if i < 0:
        return False
    head = buf[:i].decode("latin-1")
    m = re.search(r"(?im)^content-length:\s*(\d+)\s*$", head)
    if m:
        return len(buf) - (i + 4) >= int(m.group(1))
    if re.search(r"(?im)^transfer-encoding:\s*chunked", head):
        return buf.endswith(b"0\r\n\r\n")
    return False


def _parse_response(buf):
    if not buf.startswith(b"HTTP/"):
        return None, buf, b""
    i = buf.find(b"\r\n\r\n")
    head = buf[:i if i >= 0 else len(buf)]
    body = buf[i + 4:] if i >= 0 else b""
    try:
        status = int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        status = None
    return status, head, body


def json_dumps(v):
    return json.dumps(v, separators=(",", ":")).encode()


def http_request_bytes(method, path, port, body=b"", headers=None, close=True):
    h = {"Host": f"127.0.0.1:{port}"}
    if body is not None:
        h["Content-Length"] = str(len(body))
    if close:
        h["Connection"] = "close"
    h.update(headers or {})
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
    return head.encode("latin-1")


def send_with_early_reply(port, head, body, timeout=10.0):
    """Send head, give the server a moment to reject early (413 on
    Content-Length), then stream the body. Returns (status|None, head, body)."""
    import select
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    buf = b""
    try:
        s.sendall(head)
        ready, _, _ = select.select([s], [], [], 0.3)
        if not ready:
            view = memoryview(body)
            try:
                for i in range(0, len(view), 16384):
                    s.sendall(view[i:i + 16384])
                    ready, _, _ = select.select([s], [], [], 0)
                    if ready:
                        break
            except (BrokenPipeError, ConnectionResetError):
                pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not _response_complete(buf):
            try:
                k = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not k:
                break
            buf += k
        return _parse_response(buf)
    finally:
        s.close()
