"""The HTTP probe itself, against a stand-in server that keeps none of the contract: every
check fails on one line of its own, and a server that never reads bodies does not hang it."""

from __future__ import annotations

import http.server
import threading
import time

from scaffolder.check import http_probe


class _Wrong(http.server.BaseHTTPRequestHandler):
    """Answers every request 200 with a short HTML page, and reads no body."""

    def _answer(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "2")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(b"ok")

    do_GET = do_POST = do_DELETE = do_HEAD = do_OPTIONS = do_PROPFIND = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_every_broken_check_is_one_failure_line() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Wrong)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        failures = http_probe.probe("127.0.0.1", server.server_address[1])
        seconds = time.monotonic() - started
    finally:
        server.shutdown()
        server.server_close()
    checks = [name for name, _ in http_probe.Probe("127.0.0.1", 1).checks()]
    # HEAD /health (200, no body) is the one check it passes.
    assert [line.split(":")[0] for line in failures] == [c for c in checks if c != "head"]
    assert all("\n" not in line for line in failures)
    assert failures[0] == "health: GET /health: expected a JSON answer, got 200 text/html 'ok'"
    assert seconds < 60


def test_a_server_that_is_not_there_fails_every_check_quickly() -> None:
    http_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Wrong)
    port = http_server.server_address[1]
    http_server.server_close()  # nothing listens on this port any more
    failures = http_probe.probe("127.0.0.1", port)
    assert len(failures) == len(http_probe.Probe("127.0.0.1", port).checks())
    assert "no HTTP answer" in failures[0] or "Connection refused" in failures[0]
