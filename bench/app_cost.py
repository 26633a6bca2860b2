"""Time one app's GET / in-process, with no server and no network: the app's own cost.

Run by bench.py inside a starter's virtual environment:
    python app_cost.py wsgi|asgi MODULE[:APP] REQUESTS
prints two numbers: the median microseconds per request over 5 batches, and the Python
function calls per request (counted by cProfile over 1000 requests), which, unlike time, is
the same from run to run on a busy machine.
"""

from __future__ import annotations

import asyncio
import cProfile
import importlib
import io
import pstats
import statistics
import sys
import time
from typing import Any


def wsgi_cost(app: Any, requests: int) -> tuple[float, float]:
    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        return None

    def environ() -> dict[str, Any]:
        return {
            "REQUEST_METHOD": "GET", "PATH_INFO": "/", "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr,
            "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
            "HTTP_HOST": "127.0.0.1",
        }  # fmt: skip

    def batch(n: int) -> float:
        started = time.perf_counter()
        for _ in range(n):
            body = app(environ(), start_response)
            b"".join(body)
            if hasattr(body, "close"):
                body.close()
        return (time.perf_counter() - started) / n

    batch(200)  # warm-up
    seconds = statistics.median(batch(requests) for _ in range(5))
    return seconds * 1e6, count_calls(lambda: batch(1000)) / 1000


def asgi_cost(app: Any, requests: int) -> tuple[float, float]:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80), "state": {},
    }  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    async def batch(n: int) -> float:
        started = time.perf_counter()
        for _ in range(n):
            await app(dict(scope), receive, send)
        return (time.perf_counter() - started) / n

    async def run() -> float:
        await batch(200)  # warm-up
        return statistics.median([await batch(requests) for _ in range(5)]) * 1e6

    return asyncio.run(run()), count_calls(lambda: asyncio.run(batch(1000))) / 1000


def count_calls(work: Any) -> int:
    profile = cProfile.Profile()
    profile.enable()
    work()
    profile.disable()
    return pstats.Stats(profile).total_calls  # type: ignore[attr-defined, no-any-return]


def load_app(target: str) -> Any:
    """`module`: its create_app(); `module:name`: that attribute, the app itself (hug's
    `__hug_wsgi__`, which builds its WSGI app on the first call)."""
    module, _, name = target.partition(":")
    loaded = importlib.import_module(module)
    return getattr(loaded, name) if name else loaded.create_app()


def main() -> None:
    kind, module, requests = sys.argv[1], sys.argv[2], int(sys.argv[3])
    app = load_app(module)
    micros, calls = wsgi_cost(app, requests) if kind == "wsgi" else asgi_cost(app, requests)
    print(f"{micros:.2f} {calls:.1f}")


if __name__ == "__main__":
    main()
