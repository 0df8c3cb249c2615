"""A real SMTP server on loopback (Debian's python3-aiosmtpd) that keeps
every message it receives, for tests that read the code or token restd
mails and then use it. Also a reference TOTP (RFC 6238) and token_of, a
signed-in token (the other account helpers are in auth_helpers.py)."""
import base64
import email
import email.policy
import hashlib
import hmac
import re
import struct
import threading
import time

import pytest
from aiosmtpd.controller import Controller

from auth_helpers import PASSWORD, login
from harness import free_port


class _Keep:
    def __init__(self, box):
        self.box = box

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.box.lock:
            self.box.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                                      "raw": envelope.content, "msg": msg})
        return "250 OK"


class Mailbox:
    """Start with .start(); .url is the smtp:// URL for restd."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.controller = Controller(_Keep(self), hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def for_rcpt(self, to):
        with self.lock:
            return [m for m in self.messages if to in m["to"]]

    def wait(self, to, count=1, timeout=10.0):
        """The count-th message to `to` (waits for it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.for_rcpt(to)
            if len(got) >= count:
                return got[count - 1]
            time.sleep(0.05)
        raise AssertionError(f"no mail #{count} for {to} within {timeout}s (have {len(self.for_rcpt(to))})")

    def none_for(self, to, wait=1.0):
        time.sleep(wait)
        return not self.for_rcpt(to)


@pytest.fixture(scope="module")
def box():
    """A Mailbox for the module's servers: import this fixture by name."""
    b = Mailbox().start()
    yield b
    b.stop()


def smtp_args(box, sender="restd@example.com"):
    """restd's arguments to send mail to box."""
    return ["--smtp-url", box.url, "--mail-from", sender]


def body_text(m):
    return m["msg"].get_body(preferencelist=("plain",)).get_content()


def mailed_code(m):
    found = re.search(r"^\s+(\d{6})\s*$", body_text(m), re.M)
    assert found, body_text(m)
    return found.group(1)


def mailed_token(m):
    found = re.search(r"^\s+([A-Z0-9]{64})\s*$", body_text(m), re.M)
    assert found, body_text(m)
    return found.group(1)


# -- TOTP (RFC 6238, HMAC-SHA1, 6 digits, 30 s), independent of restd's -----

def totp(secret_b32, at=None, step_offset=0):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int((time.time() if at is None else at) // 30) + step_offset
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 15
    val = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000
    return f"{val:06d}"


def settle_step():
    """Stay clear of a 30 s boundary so step offsets mean what they say."""
    if time.time() % 30 > 27:
        time.sleep(30 - time.time() % 30 + 0.2)


# -- accounts ---------------------------------------------------------------

def token_of(srv, login_name, password=PASSWORD, **extra):
    r = login(srv, login_name, password, **extra)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]
