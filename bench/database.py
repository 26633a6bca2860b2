"""Database starters against the same framework's bare database app, in one run.

For each framework with a bare app (bench/bare_db/<framework>/bare/app.py) and each database
(the registry's `database` group), the same installed starter project serves, one after the
other and alternating over rounds:

- ``bare``: the smallest app of that framework that does the same single-row insert and select,
  on an engine with the starter's own settings (`shop.database.create_sync_engine`; for an async
  framework and PostgreSQL, SQLAlchemy's asyncio engine, as the starter), on the `items` table
  the starter's migrations created (bench/bare_db/bare_sql.py);
- ``starter``: the starter itself (validation, schemas, its store, JSON errors).

Both run under the starter's server command (the registry's argv, the starter's gunicorn_conf.py)
with the same number of workers (`WEB_CONCURRENCY`), on the same database: SQLite in a file,
PostgreSQL on a server this script starts (scaffold check's services module: Debian's package,
an unprivileged user, a temporary data directory, loopback; stopped and removed after).
Load: wrk with a Lua script (bench/database.lua) alternating `POST /items` and `GET /items/{id}`
of items created before the run, server pinned to core 1 and wrk to core 0; every answer must be
a 2xx. Frameworks whose handlers are async are also measured with many more connections.

Run: ``bench/run --only database`` (or ``uv run --locked --group bench python bench/database.py``).
Measurement, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from scaffolder import toolchain
from scaffolder.check.services import PostgreSQL, start_postgresql, stop_postgresql
from scaffolder.check.steps import Children, free_port, stop
from scaffolder.registry import Registry

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BARE = REPO / "bench" / "bare_db"
LUA = Path(__file__).resolve().parent / "database.lua"
PACKAGE = "shop"
GROUP = "database"
SEED = 200  # items created before the load; the GETs read them
Report = dict[str, Any]


def frameworks(registry: Registry) -> list[str]:
    return [name for name in registry.frameworks if (BARE / name).is_dir()]


def pinned(cpu: int, argv: list[str]) -> list[str]:
    if shutil.which("taskset"):
        return ["taskset", "-c", str(cpu), *argv]
    return argv


@contextmanager
def postgresql_server(needed: bool) -> Iterator[PostgreSQL | None]:
    if not needed:
        yield None
        return
    children = Children()
    server = start_postgresql(children)
    try:
        yield server
    finally:
        stop_postgresql(server, children)


def render(framework: str, database: str, where: Path, env: dict[str, str]) -> Path:
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    argv = [str(BIN / "scaffold"), "new", PACKAGE, "-f", framework, "--with", database]
    subprocess.run(
        [*argv, "--defaults", "--no-git"], cwd=where, env=env, check=True, capture_output=True
    )
    project = where / PACKAGE
    subprocess.run(
        [toolchain.uv_bin(), "sync", "--quiet", "--no-dev"], cwd=project, env=env, check=True
    )
    return project


def tmpfs() -> str | None:
    """The shared-memory tmpfs when there is one, for the SQLite file: the per-commit fsync of
    this shared VM's disk swung SQLite's req/s 3x between identical rounds (290-941 req/s),
    drowning the app's own cost, which is what the ratio is about. PostgreSQL runs with
    fsync=off (scaffold check's services) for the same reason."""
    shm = Path("/dev") / "shm"
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def database_url(database: str, folder: Path, server: PostgreSQL | None, label: str) -> str:
    if server is None:
        return f"sqlite:///{folder / label}.sqlite3"
    return server.url(server.create_database(label), "postgresql+psycopg")


def serve(command: list[str], cwd: Path, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        pinned(1, command),
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                if response.status == 200:
                    return process
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                stop(process)
                raise SystemExit(f"server did not come up: {' '.join(command)}") from None
            time.sleep(0.2)


def post(port: int, name: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/items",
        data=json.dumps({"name": name}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
        assert response.status == 201  # noqa: S101 (a broken app must not be measured)
        item_id: int = json.load(response)["id"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/items/{item_id}", timeout=10) as got:
        assert json.load(got)["name"] == name  # noqa: S101
    return item_id


def wrk(port: int, ids: Sequence[int], connections: int, seconds: int) -> float:
    """Requests/s of alternating POST /items and GET /items/{id}; every answer a 2xx."""
    done = subprocess.run(
        pinned(
            0,
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "-s",
                str(LUA),
                f"http://127.0.0.1:{port}",
                "--",
                *map(str, ids),
            ],
        ),
        capture_output=True,
        text=True,
        check=True,
    )
    if "Non-2xx" in done.stdout or "Socket errors" in done.stdout:
        raise SystemExit(f"errors under load:\n{done.stdout}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    if not match:
        raise SystemExit(f"cannot read wrk's output:\n{done.stdout}")
    return float(match.group(1))


def bench_database(
    selected: Sequence[str],
    work: Path,
    seconds: int,
    rounds: int,
    workers: int,
    many: int,
    databases: Sequence[str] = (),
) -> Report:
    if not shutil.which("wrk"):
        raise SystemExit("the database benchmark needs wrk (apt-get install wrk)")
    registry = Registry.load(REPO)
    databases = [db for db in registry.groups()[GROUP] if not databases or db in databases]
    env = toolchain.tool_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    needs_server = any(registry.extensions[db].services for db in databases)
    report: Report = {"workers": workers, "rows": []}
    with (
        postgresql_server(needs_server) as server,
        tempfile.TemporaryDirectory(prefix="scaffolder-bench-", dir=tmpfs()) as sqlite_dir,
    ):
        for framework in selected:
            fw = registry.framework(framework)
            for database in databases:
                ext = registry.extensions[database]
                if reason := ext.unsupported_frameworks.get(framework):
                    print(f"{framework} + {database}: not offered ({reason})", file=sys.stderr)
                    continue
                project = render(framework, database, work / "database" / framework / database, env)
                url = database_url(
                    database,
                    Path(sqlite_dir),
                    server if ext.services else None,
                    f"{framework}_{database}",
                )
                app_env = {**env, "DATABASE_URL": url, "WEB_CONCURRENCY": str(workers)}
                python = project / ".venv" / "bin" / "python"
                modules = fw.module_package(PACKAGE)  # a root layout's folder (chalicelib)
                app_env["BENCH_STARTER_MODULES"] = modules
                prepare = ext.prepare.replace("{package}", modules).split()
                subprocess.run([str(python), *prepare[1:]], cwd=project, env=app_env, check=True)
                # A root layout (Chalice) is served from its folder: the bare app's own, with
                # the starter's root on the path (its modules are not installed).
                root = fw.layout == "root"
                bare_path = f"{BARE / framework}:{BARE}" + (f":{project}" if root else "")
                apps = {
                    "bare": ("bare", {**app_env, "PYTHONPATH": bare_path}),
                    "starter": (modules, app_env),
                }
                cwd = {"bare": BARE / framework if root else project, "starter": project}
                # The apps' own cost per POST + GET, in-process: no server, less noise. The
                # figures are db_cost.py's last line (Sanic prints its own lines to stdout).
                cost = {
                    kind: tuple(
                        float(number)
                        for number in subprocess.run(
                            [str(python), str(REPO / "bench" / "db_cost.py"), fw.kind,
                             f"{package}.app", "300"],
                            cwd=project, env=kind_env, capture_output=True, text=True, check=True,
                        ).stdout.splitlines()[-1].split()
                    )
                    if fw.kind in ("wsgi", "asgi")
                    else (math.nan, math.nan)
                    for kind, (package, kind_env) in apps.items()
                }  # fmt: skip
                loads = [8, many] if fw.handlers == "async" else [8]
                samples: dict[tuple[str, int], list[float]] = {}
                for _ in range(rounds):  # alternate, so drift hits both alike
                    for kind, (package, kind_env) in apps.items():
                        port = free_port()
                        command = fw.server.command(host="127.0.0.1", port=port, package=package)
                        command[0] = str(project / ".venv" / "bin" / command[0])
                        process = serve(command, cwd[kind], kind_env, port)
                        try:
                            ids = [post(port, f"seed {n}") for n in range(SEED)]
                            wrk(port, ids, 8, 1)  # warm-up
                            for connections in loads:
                                samples.setdefault((kind, connections), []).append(
                                    wrk(port, ids, connections, seconds)
                                )
                        finally:
                            stop(process)
                for connections in loads:
                    bare, starter = (samples[(k, connections)] for k in ("bare", "starter"))
                    report["rows"].append(
                        {
                            "framework": framework,
                            "handlers": fw.handlers,
                            "server": fw.server.name,
                            "database": database,
                            "connections": connections,
                            "bare": statistics.median(bare),
                            "starter": statistics.median(starter),
                            "bare_range": [min(bare), max(bare)],
                            "starter_range": [min(starter), max(starter)],
                            "ratio": statistics.median(starter) / statistics.median(bare),
                            "bare_us": cost["bare"][0],
                            "starter_us": cost["starter"][0],
                            "bare_calls": cost["bare"][1],
                            "starter_calls": cost["starter"][1],
                        }
                    )
                print(json.dumps(report["rows"][-len(loads) :]), file=sys.stderr, flush=True)
    return report


def render_markdown(report: Report) -> list[str]:
    header = [
        "framework",
        "database",
        "server",
        "connections",
        "bare req/s (min-max)",
        "starter req/s (min-max)",
        "starter / bare",
        "in-process us per POST+GET, bare / starter",
        "calls per POST+GET, bare / starter",
    ]
    lines = [
        f"### Database: POST /items + GET /items/{{id}}, {report['workers']} workers",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for row in report["rows"]:
        cells = [
            row["framework"],
            row["database"],
            row["server"],
            row["connections"],
            f"{row['bare']:.0f} ({row['bare_range'][0]:.0f}-{row['bare_range'][1]:.0f})",
            f"{row['starter']:.0f} ({row['starter_range'][0]:.0f}-{row['starter_range'][1]:.0f})",
            f"**{row['ratio']:.2f}**",
            f"{row['bare_us']:.0f} / {row['starter_us']:.0f}",
            f"{row['bare_calls']:.0f} / {row['starter_calls']:.0f}",
        ]
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return [*lines, ""]


def main() -> None:
    registry = Registry.load(REPO)
    choices = frameworks(registry)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frameworks", nargs="*", default=choices, choices=choices)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY for both apps")
    parser.add_argument("--many", type=int, default=64, help="connections for async frameworks")
    parser.add_argument("--databases", nargs="*", default=[], choices=registry.groups()[GROUP])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scaffolder-bench-db-") as tmp:
        report = bench_database(
            args.frameworks,
            Path(tmp),
            args.seconds,
            args.rounds,
            args.workers,
            args.many,
            args.databases,
        )
    print("\n".join(render_markdown(report)))


if __name__ == "__main__":
    main()
