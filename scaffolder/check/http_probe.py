"""Drive a running starter through its HTTP contract and the edge cases real clients produce.

The contract is the one every starter's README promises: ``GET /`` a JSON welcome, ``GET /health``
``{"status": "ok"}``, ``POST /items`` 201 (or 422 for a body that is JSON but not an item, 400 for
one that is not JSON at all, 413 above the size limit), ``GET /items/{id}`` 200 or a JSON 404, and
JSON errors everywhere (404, 405 with ``Allow``). On top of that the probe sends what test clients
never do: chunked bodies (valid, malformed, oversized), a body above the limit announced by
``Content-Length``, a client that stops half-way through its body while another asks ``/health``,
``OPTIONS``, ``HEAD`` and a method no route knows.

Standard library only (``http.client`` and raw sockets), so ``scaffold check`` and the tests
drive every framework's production server the same way. :func:`probe` returns the failures, one
line each; an empty list means the server keeps the whole contract.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
# How long an answer that needs no body (413 on Content-Length, /health beside a slow client)
# may take. Generous for a loaded CI machine, far below any worker timeout (30 s).
PROMPT_SECONDS = 3.0
TIMEOUT = 10.0
# Between the headers and the body of a raw request.
PACKET_GAP = 0.05
MARKER = "probe-echo-marker"
# With a database and several workers: items written then read back, each on a new connection,
# so that reads land on other workers than the writes (an in-process store fails this).
ROUND_TRIPS = 20


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)

    def describe(self) -> str:
        text = self.body[:200].decode(errors="replace")
        return f"{self.status} {self.headers.get('content-type', '-')} {text!r}"


class ProbeError(Exception):
    """One expectation failed; the message is the failure line."""


class Probe:
    """The server at ``host:port``; each ``check_*`` method raises ProbeError on a failure."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        database: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.max_body_bytes = max_body_bytes
        self.database = database

    # -- transport ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        *,
        timeout: float = TIMEOUT,
    ) -> Answer:
        """One request on a fresh connection, through http.client."""
        started = time.monotonic()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            data = response.read()
            found = {k.lower(): v for k, v in response.getheaders()}
            return Answer(response.status, found, data, time.monotonic() - started)
        except (OSError, http.client.HTTPException) as exc:
            msg = f"{method} {path}: no HTTP answer ({type(exc).__name__}: {exc})"
            raise ProbeError(msg) from exc
        finally:
            connection.close()

    def connect(self, timeout: float = TIMEOUT) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout=timeout)

    def raw(
        self, what: str, head: bytes, parts: list[bytes], *, timeout: float = TIMEOUT
    ) -> Answer:
        """Send `head` and `parts` on a raw socket, then read one response.

        The server may answer (and stop reading) before every part is sent, e.g. a 413: a
        failed send is not an error as long as the answer arrives.
        """
        started = time.monotonic()
        sock = self.connect(timeout)
        try:
            with contextlib.suppress(OSError):
                sock.sendall(head)
                # The body in a later packet than the headers, as from a real client: a server
                # that only copes when both arrive together (aiohttp's C parser with broken
                # chunking) is then caught every time, not when the timing says so. Once: the
                # parts after the first need no pause (19 of them for the oversized body).
                time.sleep(PACKET_GAP)
                for part in parts:
                    sock.sendall(part)
            return _read_response(sock, what, started)
        finally:
            sock.close()

    # -- helpers -----------------------------------------------------------------------------

    def expect(self, what: str, answer: Answer, status: int | tuple[int, ...]) -> None:
        wanted = (status,) if isinstance(status, int) else status
        if answer.status not in wanted:
            expected = " or ".join(str(s) for s in wanted)
            raise ProbeError(f"{what}: expected {expected}, got {answer.describe()}")

    def expect_json(self, what: str, answer: Answer, status: int | tuple[int, ...]) -> Any:
        self.expect(what, answer, status)
        content_type = answer.headers.get("content-type", "")
        if not content_type.startswith("application/json"):
            raise ProbeError(f"{what}: expected a JSON answer, got {answer.describe()}")
        try:
            return answer.json()
        except ValueError as exc:
            raise ProbeError(f"{what}: body is not JSON: {answer.describe()}") from exc

    def expect_error(self, what: str, answer: Answer, status: int | tuple[int, ...]) -> None:
        """A JSON error: {"detail": ...}, no traceback, no echo of the probe's input."""
        payload = self.expect_json(what, answer, status)
        if not isinstance(payload, dict) or not payload.get("detail"):
            raise ProbeError(f'{what}: expected {{"detail": ...}}, got {answer.describe()}')
        text = answer.body.decode(errors="replace")
        for leak in ("Traceback", MARKER):
            if leak in text:
                raise ProbeError(f"{what}: the answer contains {leak!r}: {answer.describe()}")

    def post_json(self, body: bytes) -> Answer:
        return self.request("POST", "/items", body, {"Content-Type": "application/json"})

    def head(self, method: str, path: str, extra: str = "") -> bytes:
        return (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\n{extra}\r\n"
        ).encode()

    # -- the contract --------------------------------------------------------------------------

    def check_index(self) -> None:
        payload = self.expect_json("GET /", self.request("GET", "/"), 200)
        if not isinstance(payload, dict) or not isinstance(payload.get("message"), str):
            raise ProbeError(f'GET /: expected {{"message": "..."}}, got {payload!r}')

    def check_health(self) -> None:
        payload = self.expect_json("GET /health", self.request("GET", "/health"), 200)
        if payload != {"status": "ok"}:
            raise ProbeError(f'GET /health: expected {{"status": "ok"}}, got {payload!r}')

    def check_items(self) -> None:
        created = self.expect_json("POST /items", self.post_json(b'{"name": "probe-item"}'), 201)
        if not (
            isinstance(created, dict)
            and created.get("name") == "probe-item"
            and isinstance(created.get("id"), int)
        ):
            raise ProbeError(
                f'POST /items: expected {{"id": N, "name": "probe-item"}}, got {created!r}'
            )
        path = f"/items/{created['id']}"
        read = self.expect_json(f"GET {path}", self.request("GET", path), 200)
        if read != created:
            raise ProbeError(f"GET {path}: expected {created!r}, got {read!r}")
        self.expect_error("GET /items/987654321", self.request("GET", "/items/987654321"), 404)

    def check_ready(self) -> None:
        """Readiness: the database answers, so /ready is 200 JSON."""
        self.expect_json("GET /ready", self.request("GET", "/ready"), 200)

    def check_items_across_workers(self) -> None:
        """POST then GET by id, many times, each on a new connection: every item written
        through one worker is read back, whichever worker answers."""
        ids = set()
        for number in range(ROUND_TRIPS):
            name = f"round-trip-{number}"
            body = json.dumps({"name": name}).encode()
            created = self.expect_json(f"POST /items ({name})", self.post_json(body), 201)
            if not isinstance(created, dict) or not isinstance(created.get("id"), int):
                raise ProbeError(f"POST /items ({name}): expected an item, got {created!r}")
            ids.add(created["id"])
            path = f"/items/{created['id']}"
            read = self.expect_json(
                f"GET {path} (written as {name})", self.request("GET", path), 200
            )
            if read != created:
                raise ProbeError(f"GET {path}: expected {created!r}, got {read!r}")
        if len(ids) != ROUND_TRIPS:
            raise ProbeError(f"{ROUND_TRIPS} POST /items gave only {len(ids)} distinct ids")

    def check_unusual_names(self) -> None:
        """Text a store may not take as is (PostgreSQL refuses NUL in text; SQLite does not):
        either stored and read back unchanged (201), or refused as a JSON 422; never a 500."""
        for label, name in {
            "NUL": "a\u0000b",
            "control characters": "\u001a\u007f",
            "non-BMP": "\U0001f600 \u00e9",
        }.items():
            what = f"POST /items (name with {label})"
            answer = self.post_json(json.dumps({"name": name}).encode())
            if answer.status == 422:
                self.expect_error(what, answer, 422)
                continue
            created = self.expect_json(what, answer, (201, 422))
            path = f"/items/{created['id']}" if isinstance(created, dict) else "/items/?"
            read = self.expect_json(f"GET {path} ({label})", self.request("GET", path), 200)
            if read != created or (isinstance(read, dict) and read.get("name") != name):
                raise ProbeError(f"{what}: stored {name!r}, read back {read!r}")

    def check_invalid_items(self) -> None:
        invalid = {
            "blank name": b'{"name": "   "}',
            "name not a string": b'{"name": 42, "x": "' + MARKER.encode() + b'"}',
            "extra field": b'{"name": "x", "extra": "' + MARKER.encode() + b'"}',
            "not an object": b"[]",
        }
        for label, body in invalid.items():
            self.expect_error(f"POST /items ({label})", self.post_json(body), 422)
        self.expect_error("POST /items (malformed JSON)", self.post_json(b'{"name": '), 400)

    def check_unknown_route(self) -> None:
        self.expect_error("GET /no-such-route", self.request("GET", "/no-such-route"), 404)

    def check_method(self, method: str) -> None:
        """`method` on /health, which serves GET: a JSON 405 whose Allow names GET."""
        answer = self.request(method, "/health")
        self.expect_error(f"{method} /health", answer, 405)
        if "GET" not in answer.headers.get("allow", ""):
            raise ProbeError(f"{method} /health: 405 without an Allow header naming GET")

    def check_wrong_method(self) -> None:
        self.check_method("DELETE")

    def check_unknown_method(self) -> None:
        self.check_method("PROPFIND")

    def check_options(self) -> None:
        self.check_method("OPTIONS")

    def check_head(self) -> None:
        answer = self.request("HEAD", "/health")
        self.expect("HEAD /health", answer, 200)
        if answer.body:
            raise ProbeError(f"HEAD /health: the answer has a body: {answer.describe()}")

    # -- bodies as real clients send them ----------------------------------------------------

    def check_chunked(self) -> None:
        body = _chunks(b'{"name": ', b'"chunked"}') + b"0\r\n\r\n"
        answer = self.raw(
            "POST /items (chunked)",
            self.head("POST", "/items", "Transfer-Encoding: chunked\r\n"),
            [body],
        )
        created = self.expect_json("POST /items (chunked)", answer, 201)
        if not isinstance(created, dict) or created.get("name") != "chunked":
            raise ProbeError(f"POST /items (chunked): the item was not read: {created!r}")

    def check_malformed_chunked(self) -> None:
        # A chunk size that is not hexadecimal: the body cannot be read, so a 400 (JSON when the
        # application answers; a server that refuses the framing itself answers its own 400).
        answer = self.raw(
            "POST /items (malformed chunking)",
            self.head("POST", "/items", "Transfer-Encoding: chunked\r\n"),
            [b"zz\r\n{}\r\n0\r\n\r\n"],
        )
        self.expect("POST /items (malformed chunking)", answer, 400)
        if answer.headers.get("content-type", "").startswith("application/json"):
            self.expect_error("POST /items (malformed chunking)", answer, 400)

    def check_size_limit(self) -> None:
        limit = self.max_body_bytes
        # Exactly at the limit is still accepted: a valid item padded with JSON whitespace.
        start, end = b'{"name": "at-limit"', b"}"
        padded = start + b" " * (limit - len(start) - len(end)) + end
        self.expect_json("POST /items (body of exactly the limit)", self.post_json(padded), 201)

    def check_size_limit_announced(self) -> None:
        """A Content-Length above the limit: a prompt 413, without waiting for the body."""
        limit = self.max_body_bytes
        what = f"POST /items (Content-Length: {limit + 1})"
        answer = self.raw(
            what,
            self.head("POST", "/items", f"Content-Length: {limit + 1}\r\n"),
            [b"{" + b" " * 1023],
        )
        self.expect_error(what, answer, 413)
        if answer.seconds > PROMPT_SECONDS:
            raise ProbeError(f"{what}: 413 took {answer.seconds:.1f} s")

    def check_size_limit_chunked(self) -> None:
        limit = self.max_body_bytes
        what = f"POST /items (chunked, {limit + 65536} bytes)"
        piece = b" " * 65536
        parts = [_chunks(b"{")] + [_chunks(piece)] * (limit // len(piece) + 1) + [b"0\r\n\r\n"]
        answer = self.raw(
            what, self.head("POST", "/items", "Transfer-Encoding: chunked\r\n"), parts
        )
        self.expect_error(what, answer, 413)

    def check_slow_client(self) -> None:
        """A client that sends half its body must not stop the server answering others."""
        body = b'{"name": "slow"}'
        slow = self.connect()
        try:
            slow.sendall(self.head("POST", "/items", f"Content-Length: {len(body)}\r\n"))
            slow.sendall(body[:7])
            time.sleep(0.3)  # let the server start reading the body
            started = time.monotonic()
            try:
                answer = self.request("GET", "/health", timeout=PROMPT_SECONDS)
            except ProbeError as exc:
                msg = f"GET /health while a client is sending a body slowly: {exc}"
                raise ProbeError(msg) from exc
            self.expect("GET /health beside a slow client", answer, 200)
            seconds = time.monotonic() - started
            if seconds > PROMPT_SECONDS:
                msg = f"GET /health beside a slow client took {seconds:.1f} s"
                raise ProbeError(msg)
            # The slow client finishes: it gets its item, not a worker timeout's error page.
            # A server that answered without waiting for the whole body may have closed already.
            with contextlib.suppress(OSError):
                slow.sendall(body[7:])
            created = self.expect_json(
                "POST /items (slow client)", _read_response(slow, "slow client", started), 201
            )
            if not isinstance(created, dict) or created.get("name") != "slow":
                raise ProbeError(f"POST /items (slow client): got {created!r}")
        finally:
            slow.close()

    def checks(self) -> list[tuple[str, Callable[[], None]]]:
        database = [
            ("ready", self.check_ready),
            ("items across workers", self.check_items_across_workers),
        ]
        return [
            ("health", self.check_health),
            *(database if self.database else []),
            ("index", self.check_index),
            ("items", self.check_items),
            ("invalid items", self.check_invalid_items),
            ("unusual names", self.check_unusual_names),
            ("unknown route", self.check_unknown_route),
            ("wrong method", self.check_wrong_method),
            ("unknown method", self.check_unknown_method),
            ("options", self.check_options),
            ("head", self.check_head),
            ("chunked", self.check_chunked),
            ("malformed chunked", self.check_malformed_chunked),
            ("size limit", self.check_size_limit),
            ("size limit, announced", self.check_size_limit_announced),
            ("size limit, chunked", self.check_size_limit_chunked),
            ("slow client", self.check_slow_client),
        ]


def check_names() -> list[str]:
    """The name of every check, as a server's `probe_exemptions` names them."""
    return [name for name, _ in Probe("127.0.0.1", 0, database=True).checks()]


def probe(
    host: str,
    port: int,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    database: bool = False,
    exempt: Mapping[str, str] | None = None,
) -> list[str]:
    """Run every check against the server at host:port; return one line per failure.

    `database`: the starter keeps items in a database and runs several workers; /ready and
    items written then read back across the workers are checked too. `exempt`: checks not
    run, {name: reason} (a server's registry `probe_exemptions`); a name that is no check's
    is a failure, so a renamed check cannot silently exempt nothing."""
    prober = Probe(host, port, max_body_bytes=max_body_bytes, database=database)
    exempt = exempt or {}
    failures = [
        f"exemption for an unknown check {name!r} (checks: {', '.join(check_names())})"
        for name in exempt
        if name not in check_names()
    ]
    for name, check in prober.checks():
        if name in exempt:
            continue
        try:
            check()
        except ProbeError as exc:
            failures.append(f"{name}: {exc}")
        except (OSError, ValueError, http.client.HTTPException) as exc:
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
    return failures


def _chunks(*pieces: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces)


def _read_response(sock: socket.socket, what: str, started: float) -> Answer:
    response = http.client.HTTPResponse(sock)
    try:
        response.begin()
        data = response.read()
    except (OSError, http.client.HTTPException) as exc:
        raise ProbeError(f"{what}: no HTTP answer ({type(exc).__name__}: {exc})") from exc
    finally:
        response.close()
    headers = {k.lower(): v for k, v in response.getheaders()}
    return Answer(response.status, headers, data, time.monotonic() - started)
