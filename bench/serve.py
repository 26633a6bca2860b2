"""`scaffold serve` against `scaffold new`, in one run (ratios, not absolute times).

    uv run --locked python bench/serve.py [--runs 5] [--seconds 10] [--clients 20]

1. Time to first byte of /starter.zip: uncached (a new project name each time, so a full render
   in the worker process, uv lock included) and cached (the same URL again), against
   `scaffold new --defaults --no-git` of the same answers (which also writes uv.lock).
2. Requests/s with `--clients` concurrent keep-alive clients for `--seconds` each: the cached
   zip, /metadata, and uncached zips (each a new name: bounded by renders, the rest 503).
Prints a Markdown table; bench/README.md's section 8 is one such run.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FRAMEWORK = "fastapi"
SCAFFOLD = [sys.executable, "-m", "scaffolder"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ttfb(port: int, path: str) -> tuple[float, int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.perf_counter()
    connection.request("GET", path)
    response = connection.getresponse()
    response.read(1)
    elapsed = time.perf_counter() - started
    response.read()
    connection.close()
    return elapsed, response.status


def scaffold_new(work: Path, name: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [*SCAFFOLD, "new", str(work / name), "-f", FRAMEWORK, "--defaults", "--no-git"],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def load(port: int, paths: list[str], clients: int, seconds: float) -> tuple[float, Counter[int]]:
    codes: Counter[int] = Counter()
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    counter = iter(range(10**9))

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        while time.perf_counter() < stop:
            path = paths[0] if len(paths) == 1 else paths[next(counter) % len(paths)]
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
                status = 0
            with lock:
                codes[status] += 1
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(codes.values()) / (time.perf_counter() - started), codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    port = free_port()
    server = subprocess.Popen(
        [*SCAFFOLD, "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "SCAFFOLDER_HOME": str(work / "home")},
    )
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/metadata").close()
                break
            except OSError:
                time.sleep(0.1)
        zip_url = "/starter.zip?framework=" + FRAMEWORK + "&name={}"
        ttfb(port, zip_url.format("warm-up"))
        uncached = [ttfb(port, zip_url.format(f"u{i}"))[0] for i in range(args.runs)]
        cached = [ttfb(port, zip_url.format("u0"))[0] for _ in range(args.runs * 4)]
        new = [scaffold_new(work, f"n{i}") for i in range(args.runs)]
        rps_cached, codes_cached = load(port, [zip_url.format("u0")], args.clients, args.seconds)
        rps_meta, codes_meta = load(port, ["/metadata"], args.clients, args.seconds)
        fresh = [zip_url.format(f"load{i}") for i in range(10_000)]
        rps_fresh, codes_fresh = load(port, fresh, args.clients, args.seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    ref = statistics.median(new)
    print(f"## scaffold serve ({FRAMEWORK}, default extensions, uv.lock; median of {args.runs})")
    print()
    print("| what | median | x `scaffold new` |")
    print("|---|---|---|")
    print(f"| `scaffold new --defaults --no-git` (reference) | {ref * 1000:.0f} ms | 1.00 |")
    for label, values in (("uncached", uncached), ("cached", cached)):
        median = statistics.median(values)
        print(f"| /starter.zip TTFB, {label} | {median * 1000:.1f} ms | {median / ref:.4f} |")
    print()
    print(f"| {args.clients} clients, {args.seconds:g} s | requests/s | answers |")
    print("|---|---|---|")
    for label, rps, codes in (
        ("/starter.zip, cached", rps_cached, codes_cached),
        ("/metadata", rps_meta, codes_meta),
        ("/starter.zip, a new name each (uncached)", rps_fresh, codes_fresh),
    ):
        print(f"| {label} | {rps:.1f} | {dict(sorted(codes.items()))} |")
    print()
    print(f"`scaffold new` one after another: {1 / ref:.2f} projects/s.")


if __name__ == "__main__":
    main()
