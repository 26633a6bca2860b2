"""Time one app's POST /items + GET /items/{id} in-process: no server, no network.

Run by bench/database.py inside a starter's virtual environment, with DATABASE_URL set:
    python db_cost.py wsgi|asgi MODULE PAIRS
prints two numbers: the median microseconds per pair (one insert, one select) over 5 batches,
and the Python function calls per pair (cProfile over 200 pairs), which, unlike time, does not
depend on how busy the machine is. An ASGI app runs inside its lifespan (start-up, shutdown),
as under its server.
"""

from __future__ import annotations

import asyncio
import io
import json
import statistics
import sys
import time
from typing import Any

from app_cost import asgi_request, count_calls, in_lifespan, load_app  # bench/, beside this script

BODY = json.dumps({"name": "bench item"}).encode()


def wsgi_cost(app: Any, pairs: int) -> tuple[float, float]:
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        statuses.append(status)

    def call(method: str, path: str, body: bytes) -> bytes:
        # SCRIPT_NAME may be left out when empty (PEP 3333), but servers set it and Quixote's
        # WSGI adapter reads it.
        environ = {
            "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": False,
            "wsgi.run_once": False, "HTTP_HOST": "127.0.0.1", "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
        }  # fmt: skip
        result = app(environ, start_response)
        data = b"".join(result)
        if hasattr(result, "close"):
            result.close()
        return data

    def batch(n: int) -> float:
        started = time.perf_counter()
        for _ in range(n):
            item = json.loads(call("POST", "/items", BODY))
            call("GET", f"/items/{item['id']}", b"")
        elapsed = (time.perf_counter() - started) / n
        check(statuses)
        return elapsed

    batch(50)  # warm-up
    seconds = statistics.median(batch(pairs) for _ in range(5))
    return seconds * 1e6, count_calls(lambda: batch(200)) / 200


def asgi_cost(app: Any, pairs: int) -> tuple[float, float]:
    statuses: list[str] = []
    state: dict[str, Any] = {}

    async def call(method: str, path: str, body: bytes) -> bytes:
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
            "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
            "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode())],
            "state": dict(state),
        }  # fmt: skip
        status, answer = await asgi_request(app, scope, body)
        statuses.append(str(status))
        return answer

    async def batch(n: int) -> float:
        started = time.perf_counter()
        for _ in range(n):
            item = json.loads(await call("POST", "/items", BODY))
            await call("GET", f"/items/{item['id']}", b"")
        elapsed = (time.perf_counter() - started) / n
        check(statuses)
        return elapsed

    return asyncio.run(in_lifespan(app, state, batch, warm_up=50, timed=pairs, counted=200))


def check(statuses: list[str]) -> None:
    """Every answer was a 2xx: a broken app is not measured."""
    bad = [status for status in statuses if not status.startswith("2")]
    if bad:
        raise SystemExit(f"the app answered {bad[:3]}")
    statuses.clear()


def main() -> None:
    kind, module, pairs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    app = load_app(module)
    micros, calls = wsgi_cost(app, pairs) if kind == "wsgi" else asgi_cost(app, pairs)
    print(f"{micros:.2f} {calls:.1f}", file=sys.__stdout__)  # (an app may redirect sys.stdout)


if __name__ == "__main__":
    main()
