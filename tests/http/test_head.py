"""HEAD answers carry headers and a Content-Length but no body, so a
pipelined request after one is read correctly (RFC 9110 section 9.3.2)."""
import socket
import time


def _read_all(s, deadline=3.0):
    s.settimeout(deadline)
    out = b""
    end = time.time() + deadline
    while time.time() < end:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        out += chunk
    return out


def test_head_then_get_pipelined(demo):
    s = socket.create_connection(("127.0.0.1", demo.port), timeout=5)
    try:
        s.sendall(b"HEAD /api/persons HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = _read_all(s)
    finally:
        s.close()
    first, sep, rest = data.partition(b"\r\n\r\n")
    assert sep and first.startswith(b"HTTP/1.1 200"), data[:200]
    assert b"content-length:" in first.lower()
    # the very next bytes are the second response, not a body
    assert rest.startswith(b"HTTP/1.1 200"), rest[:200]
    assert rest.rstrip().endswith(b"}")


def test_head_on_item_and_missing_item(demo):
    pid = demo.create("persons", {"email": "head@example.com", "full_name": "H"})["id"]
    r = demo.session.head(demo.base + f"/persons/{pid}")
    assert r.status_code == 200 and r.content == b""
    assert int(r.headers["Content-Length"]) > 0
    r = demo.session.head(demo.base + "/persons/00000000-0000-4000-8000-000000000000")
    assert r.status_code == 404 and r.content == b""
