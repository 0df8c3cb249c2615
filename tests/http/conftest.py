"""Fixtures for the restd HTTP suite.

- `server(app_yaml, **opts)`: function-scoped factory; every server it
  starts is stopped at teardown (SIGTERM, exit 0, no sanitizer report).
- `module_server(app_yaml, **opts)`: the same, shared by one module.
- `demo`: a module-scoped server running the demo app (harness.DEMO_APP).

Binary: $RESTD_BIN, else <repo>/build/restd (or build-asan/restd).
"""
import pytest

from harness import DEMO_APP, Server, _kill_all, restd_bin  # noqa: F401


class _Factory:
    def __init__(self):
        self.servers = []

    def __call__(self, app_yaml=DEMO_APP, start=True, **opts):
        srv = Server(app_yaml, **opts)
        self.servers.append(srv)
        if start:
            srv.start()
        return srv

    def teardown(self):
        errors = []
        for srv in self.servers:
            errors += srv.deferred
            try:
                srv.stop(check=True)
            except AssertionError as e:
                errors.append(str(e))
            finally:
                srv._hard_kill()
        for srv in self.servers:
            if not errors:
                srv.cleanup()
        if errors:
            pytest.fail("server teardown: " + "\n---\n".join(errors), pytrace=False)


@pytest.fixture
def server():
    f = _Factory()
    yield f
    f.teardown()


@pytest.fixture(scope="module")
def module_server():
    f = _Factory()
    yield f
    f.teardown()


@pytest.fixture(scope="module")
def demo(module_server):
    return module_server(DEMO_APP)


def pytest_sessionfinish(session, exitstatus):
    _kill_all()


def pytest_report_header(config):
    return f"restd binary: {restd_bin()}"
