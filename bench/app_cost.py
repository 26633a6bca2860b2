"""Time one app's GET / in-process, with no server and no network: the app's own cost.

Run by bench.py inside a starter's virtual environment:
    python app_cost.py wsgi|asgi MODULE REQUESTS
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
            # SCRIPT_NAME may be left out when empty (PEP 3333), but servers set it and
            # Quixote's WSGI adapter reads it.
            "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/", "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
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
    state: dict[str, Any] = {}
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80), "state": state,
    }  # fmt: skip

    async def call() -> None:
        await asgi_request(app, dict(scope), b"")

    async def batch(n: int) -> float:
        started = time.perf_counter()
        for _ in range(n):
            await call()
        return (time.perf_counter() - started) / n

    return asyncio.run(in_lifespan(app, state, batch, warm_up=200, timed=requests, counted=1000))


async def in_lifespan(
    app: Any, state: dict[str, Any], batch: Any, *, warm_up: int, timed: int, counted: int
) -> tuple[float, float]:
    """Median microseconds per call of `batch` (5 batches of `timed`) and calls per request
    (cProfile over `counted`), between the app's lifespan start-up and shutdown. One event
    loop for all of it: Sanic binds its app to the loop its lifespan ran on."""
    shutdown = await lifespan(app, state)
    await batch(warm_up)
    micros = statistics.median([await batch(timed) for _ in range(5)]) * 1e6
    profile = cProfile.Profile()
    profile.enable()
    await batch(counted)
    profile.disable()
    await shutdown()
    return micros, calls(profile) / counted


async def asgi_request(app: Any, scope: dict[str, Any], body: bytes) -> tuple[int, bytes]:
    """One request, as a server sends it: the body once, then (Quart and Sanic listen for it) a
    disconnect only after the response is complete, never a busy loop of empty bodies. Returns
    the status and the body."""
    done = asyncio.Event()
    requested = False
    status, sent = 0, []

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            sent.append(message.get("body", b""))
            if not message.get("more_body"):
                done.set()

    await app(scope, receive, send)
    return status, b"".join(sent)


async def lifespan(app: Any, state: dict[str, Any]) -> Any:
    """Run the app's ASGI lifespan start-up, as a server does (Sanic needs it before a
    request); returns the shut-down. An app without lifespan support is served as is."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}
    task = asyncio.ensure_future(app(scope, inbox.get, outbox.put))

    async def step(message: str) -> None:
        await inbox.put({"type": f"lifespan.{message}"})
        answer = asyncio.ensure_future(outbox.get())
        await asyncio.wait({answer, task}, return_when=asyncio.FIRST_COMPLETED)
        if not answer.done():  # the app returned (or raised): no lifespan support
            answer.cancel()
        elif answer.result()["type"].endswith(".failed"):
            raise SystemExit(f"lifespan {message} failed: {answer.result()}")

    await step("startup")

    async def shutdown() -> None:
        if not task.done():
            await step("shutdown")

    return shutdown


def count_calls(work: Any) -> int:
    profile = cProfile.Profile()
    profile.enable()
    work()
    profile.disable()
    return calls(profile)


def calls(profile: cProfile.Profile) -> int:
    return pstats.Stats(profile).total_calls  # type: ignore[attr-defined, no-any-return]


def load_app(module: str) -> Any:
    """The app `module`'s create_app() builds, as the server commands call it."""
    return importlib.import_module(module).create_app()


def main() -> None:
    kind, module, requests = sys.argv[1], sys.argv[2], int(sys.argv[3])
    app = load_app(module)
    micros, calls = wsgi_cost(app, requests) if kind == "wsgi" else asgi_cost(app, requests)
    # To the real stdout: an app may redirect sys.stdout while it runs (Quixote's logger sends
    # it to its error log).
    print(f"{micros:.2f} {calls:.1f}", file=sys.__stdout__)


if __name__ == "__main__":
    main()
