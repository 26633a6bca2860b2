"""gunicorn worker settings for the starters: slow clients and throughput, old vs new, one run.

For each starter served by gunicorn (from the registry), the same installed project is served
with each setting below, one after the other and alternating over rounds:

- ``sync, 1 worker``: the command the starters had before (``gunicorn --bind ... --access-logfile
  - app``): one process that handles one request at a time;
- ``gthread, N threads``: the starter's ``gunicorn_conf.py`` (N = its ``threads``), and the same
  config with other thread counts through ``GUNICORN_CMD_ARGS`` for comparison.

Two scenarios per setting:

- throughput: GET / from 8 concurrent clients for a fixed time, once on keep-alive connections
  and once with a new connection per request (server pinned to one core, this load generator
  to the other), requests per second, median over rounds;
- slow clients: K clients each send the headers and half the body of a POST /items and then stop
  (what a client on a bad mobile link does), then GET /health is asked 5 times, one after the
  other, each with a 2 s timeout: how many are answered, and the median time of those that are.

Run: ``bench/run --only workers`` (or ``uv run --locked python bench/workers.py``).
Measurement, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from scaffolder import toolchain
from scaffolder.check.steps import free_port, stop, wait_for_health
from scaffolder.registry import Registry

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
PACKAGE = "shop"
# The starters' command before this change (registry.yml, gunicorn frameworks).
BEFORE = ["gunicorn", "--bind", "{host}:{port}", "--no-control-socket", "--access-logfile", "-"]
Report = dict[str, Any]


def settings(registry: Registry, framework: str, threads: list[int]) -> dict[str, list[str]]:
    """Setting name -> (argv template, GUNICORN_CMD_ARGS)."""
    now = list(registry.framework(framework).server.argv)
    found: dict[str, list[str]] = {"sync, 1 worker": [*BEFORE, "{package}.app:create_app()"]}
    for count in threads:
        found[f"gthread, {count} threads"] = [*now, f"--threads={count}"]
    return found


def command(argv: list[str], project: Path, port: int) -> list[str]:
    filled = [
        a.replace("{host}", HOST).replace("{port}", str(port)).replace("{package}", PACKAGE)
        for a in argv
    ]
    filled[0] = str(project / ".venv" / "bin" / filled[0])
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", "1", *filled]
    return filled


def serve(
    argv: list[str], project: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen(
        command(argv, project, port),
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    verdict = wait_for_health(process, f"http://{HOST}:{port}/health", 60)
    if not verdict.startswith("healthy"):
        stop(process)
        raise SystemExit(f"server did not come up: {' '.join(argv)}: {verdict}")
    return process, port


def throughput(port: int, seconds: float, *, keep_alive: bool, connections: int = 8) -> float:
    """Requests/s on GET / from `connections` concurrent clients, each either on one keep-alive
    connection (reconnecting when the server closes it) or on a new connection per request."""
    counts = [0] * connections
    stop_at = time.monotonic() + seconds
    headers = {} if keep_alive else {"Connection": "close"}

    def worker(slot: int) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=5)
        while time.monotonic() < stop_at:
            try:
                connection.request("GET", "/", headers=headers)
                connection.getresponse().read()
                counts[slot] += 1
            except (OSError, http.client.HTTPException):
                pass
            if not keep_alive:
                connection.close()
        connection.close()

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


def slow_clients(port: int, count: int, asks: int = 5, timeout: float = 2.0) -> Report:
    """`count` clients stall half-way through a body; how does GET /health fare meanwhile?"""
    body = b'{"name": "slow"}'
    head = (
        f"POST /items HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    stalled = []
    try:
        for _ in range(count):
            sock = socket.create_connection((HOST, port), timeout=5)
            sock.sendall(head + body[: len(body) // 2])
            stalled.append(sock)
        time.sleep(0.5)  # let the server pick them up
        answered: list[float] = []
        for _ in range(asks):
            started = time.monotonic()
            connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
            try:
                connection.request("GET", "/health")
                if connection.getresponse().status == 200:
                    answered.append(time.monotonic() - started)
            except (OSError, http.client.HTTPException):
                pass
            finally:
                connection.close()
    finally:
        for sock in stalled:
            sock.close()
    return {
        "answered": len(answered),
        "asked": asks,
        "median_ms": statistics.median(answered) * 1000 if answered else None,
    }


def bench_workers(
    frameworks: list[str], work: Path, seconds: float, rounds: int, threads: list[int]
) -> Report:
    registry = Registry.load(REPO)
    env = toolchain.tool_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    report: Report = {"seconds": seconds, "rounds": rounds, "frameworks": {}}
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {0})  # the load generator on core 0, servers on core 1
    for framework in frameworks:
        where = work / "workers" / framework
        shutil.rmtree(where, ignore_errors=True)
        where.mkdir(parents=True)
        subprocess.run(
            [str(BIN / "scaffold"), "new", PACKAGE, "-f", framework, "--defaults", "--no-git"],
            cwd=where, env=env, check=True, capture_output=True,
        )  # fmt: skip
        project = where / PACKAGE
        subprocess.run(
            [toolchain.uv_bin(), "sync", "--quiet", "--no-dev"],
            cwd=project, env=env, check=True, capture_output=True,
        )  # fmt: skip
        found = settings(registry, framework, threads)
        rows: dict[str, Report] = {name: {"rps": [], "rps_close": []} for name in found}
        for _ in range(rounds):  # alternate, so drift in the machine's speed hits all alike
            for name, argv in found.items():
                process, port = serve(argv, project, env)
                try:
                    throughput(port, 1, keep_alive=True)  # warm-up
                    rows[name]["rps"].append(throughput(port, seconds, keep_alive=True))
                    rows[name]["rps_close"].append(throughput(port, seconds, keep_alive=False))
                finally:
                    stop(process)
        for name, argv in found.items():
            for count in (1, 8):
                process, port = serve(argv, project, env)
                try:
                    rows[name][f"slow_{count}"] = slow_clients(port, count)
                finally:
                    stop(process)
        base = rows["sync, 1 worker"]
        for row in rows.values():
            for kind in ("rps", "rps_close"):
                row[f"median_{kind}"] = statistics.median(row[kind])
                row[f"ratio_{kind}"] = row[f"median_{kind}"] / statistics.median(base[kind])
        report["frameworks"][framework] = rows
        print(json.dumps({framework: rows}), file=sys.stderr, flush=True)
    return report


def render(report: Report) -> list[str]:
    lines = [
        "### gunicorn worker settings: throughput and slow clients",
        "",
        "| framework | setting | GET / req/s, keep-alive | x sync | req/s, new connection each"
        " | x sync | /health answered, 1 slow client | /health answered, 8 slow clients |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def slow(result: Report) -> str:
        median = result["median_ms"]
        timing = f", median {median:.0f} ms" if median is not None else ""
        return f"{result['answered']}/{result['asked']}{timing}"

    for framework, rows in report["frameworks"].items():
        for name, row in rows.items():
            cells = [
                f"{row[f'median_{kind}']:.0f} ({min(row[kind]):.0f}-{max(row[kind]):.0f}) "
                f"| **{row[f'ratio_{kind}']:.2f}**"
                for kind in ("rps", "rps_close")
            ]
            lines.append(
                f"| {framework} | {name} | {cells[0]} | {cells[1]} "
                f"| {slow(row['slow_1'])} | {slow(row['slow_8'])} |"
            )
    return [*lines, ""]


def gunicorn_frameworks(registry: Registry) -> list[str]:
    return [name for name, fw in registry.frameworks.items() if fw.server.name == "gunicorn"]


def main() -> None:
    registry = Registry.load(REPO)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frameworks", nargs="*", default=gunicorn_frameworks(registry))
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="*", default=[8, 32])
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "workers.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scaffolder-bench-workers-") as tmp:
        report = bench_workers(args.frameworks, Path(tmp), args.seconds, args.rounds, args.threads)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2))
    print("\n".join(render(report)))


if __name__ == "__main__":
    main()
