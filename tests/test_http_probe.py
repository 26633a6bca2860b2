"""The HTTP probe itself, against a stand-in server that keeps none of the contract: every
check fails on one line of its own, and a server that never reads bodies does not hang it."""

from __future__ import annotations

import http.server
import json
import threading
import time
from typing import ClassVar

import pytest

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


def test_exempt_checks_are_skipped_and_an_unknown_exemption_fails() -> None:
    """A server's registry `probe_exemptions`: named checks are not run; a name that is no
    check's (a typo, a renamed check) is a failure, never an exemption of nothing."""
    http_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Wrong)
    port = http_server.server_address[1]
    http_server.server_close()  # every check that runs fails at once
    checks = http_probe.check_names()
    exempt = {name: "the platform does it" for name in checks if name != "health"}
    failures = http_probe.probe("127.0.0.1", port, database=True, exempt=exempt)
    assert [line.split(":")[0] for line in failures] == ["health"]
    failures = http_probe.probe("127.0.0.1", port, exempt={**exempt, "chunkd": "typo"})
    assert failures[0].startswith("exemption for an unknown check 'chunkd'")


def test_a_server_that_is_not_there_fails_every_check_quickly() -> None:
    http_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Wrong)
    port = http_server.server_address[1]
    http_server.server_close()  # nothing listens on this port any more
    failures = http_probe.probe("127.0.0.1", port)
    assert len(failures) == len(http_probe.Probe("127.0.0.1", port).checks())
    assert "no HTTP answer" in failures[0] or "Connection refused" in failures[0]


class _Workers(http.server.BaseHTTPRequestHandler):
    """Items kept per "worker": connections alternate between two stores, as two processes
    with in-memory stores would; `shared` makes it one store (a database)."""

    shared: ClassVar[bool] = False
    stores: ClassVar[tuple[dict[int, dict[str, object]], ...]] = ({}, {})
    connections: ClassVar[list[int]] = [0]
    next_id: ClassVar[list[int]] = [1]

    def _json(self, status: int, payload: object) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _store(self) -> dict[int, dict[str, object]]:
        self.connections[0] += 1
        return self.stores[0 if self.shared else self.connections[0] % 2]

    def do_GET(self) -> None:
        if self.path == "/ready":
            self._json(200, {"status": "ready"})
            return
        item = self._store().get(int(self.path.rsplit("/", 1)[-1]))
        self._json(200 if item else 404, item or {"detail": "not found"})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        item = {"id": self.next_id[0], "name": body["name"]}
        self.next_id[0] += 1
        self._store()[self.next_id[0] - 1] = item
        self._json(201, item)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.parametrize("shared", [True, False], ids=["one-database", "store-per-worker"])
def test_items_written_through_one_worker_are_read_through_another(shared: bool) -> None:
    fresh = {"shared": shared, "stores": ({}, {}), "connections": [0], "next_id": [1]}
    handler = type("Handler", (_Workers,), fresh)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    probe = http_probe.Probe("127.0.0.1", server.server_address[1], database=True)
    try:
        probe.check_ready()
        if shared:
            probe.check_items_across_workers()
        else:
            with pytest.raises(http_probe.ProbeError, match=r"GET /items/1 \(written as"):
                probe.check_items_across_workers()
    finally:
        server.shutdown()
        server.server_close()


def test_database_checks_run_only_for_database_starters() -> None:
    plain = [name for name, _ in http_probe.Probe("127.0.0.1", 1).checks()]
    database = [name for name, _ in http_probe.Probe("127.0.0.1", 1, database=True).checks()]
    assert "ready" not in plain
    assert "items across workers" not in plain
    assert set(database) - set(plain) == {"ready", "items across workers"}
