"""scaffolder's benchmarks. Run them with `bench/run` (see bench/README.md).

Every number is a median over repeated subprocess runs (time.perf_counter), reported with a
ratio against a reference measured in the same run: `python -c pass` for start-up, a bare
`copier copy` and `cookiecutter` for rendering, the framework's bare hello-world app under the
same server for throughput. Nothing here is asserted: this is measurement, not a test.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import database  # bench/database.py: this script's folder is on sys.path
import workers  # bench/workers.py

from scaffolder import toolchain
from scaffolder.check.steps import free_port, stop
from scaffolder.registry import Registry

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# Every registry framework that has a bare reference app in bench/bare/<name>/.
FRAMEWORKS = [
    name for name in Registry.load(REPO).frameworks if (REPO / "bench" / "bare" / name).is_dir()
]
Report = dict[str, Any]


def run(
    argv: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> float:
    """Run a command once; return its wall time. A failure stops the benchmark loudly."""
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(
            f"benchmark command failed: {' '.join(argv)}\n{done.stdout}\n{done.stderr}"
        )
    return elapsed


def repeat(times: int, once: Callable[[], float]) -> dict[str, float]:
    samples = [once() for _ in range(times)]
    return {"median": statistics.median(samples), "min": min(samples), "runs": times}


def bytecode_env(mode: str, cache: Path) -> dict[str, str]:
    """`bytecode`: imports use compiled bytecode (warmed into a private cache). `source`: every
    import compiles from source, as this machine's shell (PYTHONDONTWRITEBYTECODE=1) causes."""
    env = toolchain.tool_env()
    env["PYTHONPYCACHEPREFIX"] = str(cache / mode)
    if mode == "source":
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


# -- 1. CLI start-up ----------------------------------------------------------------------------


def bench_startup(runs: int, work: Path) -> Report:
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "scaffold --help": [str(BIN / "scaffold"), "--help"],
        "scaffold list": [str(BIN / "scaffold"), "list"],
        "scaffold list --json": [str(BIN / "scaffold"), "list", "--json"],
    }
    report: Report = {}
    for mode in ("bytecode", "source"):
        env = bytecode_env(mode, work / "pycache")
        for argv in commands.values():
            run(argv, env=env)  # warm the file cache (and, in bytecode mode, the .pyc files)
        rows = {
            name: repeat(runs, lambda argv=argv, env=env: run(argv, env=env))
            for name, argv in commands.items()
        }
        base = rows["python -c pass"]["median"]
        for row in rows.values():
            row["ratio"] = row["median"] / base
        report[mode] = rows
    report["imports"] = import_graph()
    return report


def import_graph() -> Report:
    """Which modules `scaffold --help` imports, and the heaviest of them."""
    probe = "from scaffolder.cli import run; run(['--help'])"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", probe],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if match:
            rows.append((int(match.group(2)), len(match.group(3)), match.group(4)))
    modules = {name for _, _, name in rows}
    top_level = sorted(((cum, name) for cum, depth, name in rows if depth <= 2), reverse=True)
    heavy = ("copier", "questionary", "prompt_toolkit", "jinja2", "yaml", "pydantic")
    return {
        "modules": len(modules),
        "absent": [m for m in heavy if not any(n == m or n.startswith(m + ".") for n in modules)],
        "present": [m for m in heavy if any(n == m or n.startswith(m + ".") for n in modules)],
        "heaviest_ms": [(name, round(cum / 1000, 1)) for cum, name in top_level[:6]],
    }


# -- 2. Render ----------------------------------------------------------------------------------


ANSWERS = {
    "project_name": "shop",
    "package_name": "shop",
    "framework": "flask",
    "python_version": "3.12",
}


def bench_render(runs: int, work: Path) -> Report:
    env = bytecode_env("bytecode", work / "pycache")
    env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = "bench"
    env["GIT_AUTHOR_EMAIL"] = env["GIT_COMMITTER_EMAIL"] = "bench@localhost"
    data = [arg for key, value in ANSWERS.items() for arg in ("-d", f"{key}={value}")]
    copier_cmd = [
        str(BIN / "copier"),
        "copy",
        "--defaults",
        "--quiet",
        "--vcs-ref",
        "HEAD",
        str(REPO),
    ]
    scaffold_cmd = [str(BIN / "scaffold"), "new", "--defaults", "-f", "flask"]
    cookie_template = build_cookiecutter_template(work)
    commands = {
        "copier copy --defaults (reference)": lambda dest: [*copier_cmd, str(dest), *data],
        "scaffold new --defaults --no-lock --no-git": lambda dest: [
            *scaffold_cmd,
            "--no-lock",
            "--no-git",
            str(dest),
        ],
        "scaffold new --defaults --no-lock": lambda dest: [*scaffold_cmd, "--no-lock", str(dest)],
        "scaffold new --defaults (lock + git)": lambda dest: [*scaffold_cmd, str(dest)],
        "cookiecutter --no-input": lambda dest: [
            str(BIN / "cookiecutter"),
            "--no-input",
            "--output-dir",
            str(dest),
            str(cookie_template),
        ],
    }

    def once(build: Callable[[Path], list[str]]) -> float:
        dest = work / "render" / "shop"
        shutil.rmtree(dest.parent, ignore_errors=True)
        dest.parent.mkdir(parents=True)
        return run(build(dest), cwd=dest.parent, env=env)

    for build in commands.values():
        once(build)  # warm-up
    rows = {name: repeat(runs, lambda build=build: once(build)) for name, build in commands.items()}
    base = rows["copier copy --defaults (reference)"]["median"]
    for row in rows.values():
        row["ratio"] = row["median"] / base
    return {
        "rows": rows,
        "files": count_files(work, env),
        "cookiecutter_files": count_tree(cookie_template),
    }


def count_files(work: Path, env: dict[str, str]) -> int:
    dest = work / "count" / "shop"
    shutil.rmtree(dest.parent, ignore_errors=True)
    dest.parent.mkdir(parents=True)
    run([str(BIN / "scaffold"), "new", "--defaults", "--no-lock", "--no-git", str(dest)], env=env)
    return count_tree(dest)


def count_tree(root: Path) -> int:
    return sum(1 for p in root.rglob("*") if p.is_file() and ".git" not in p.parts)


def build_cookiecutter_template(work: Path) -> Path:
    """A cookiecutter template with the same files as the default starter (Jinja variables where
    the starter has the project's names), so both tools render comparable trees."""
    starter = work / "cookie-source" / "shop"
    shutil.rmtree(starter.parent, ignore_errors=True)
    starter.parent.mkdir(parents=True)
    run(
        [str(BIN / "scaffold"), "new", "--defaults", "--no-lock", "--no-git", str(starter)],
        env=toolchain.tool_env(),
    )
    template = work / "cookiecutter-template"
    shutil.rmtree(template, ignore_errors=True)
    root = template / "{{cookiecutter.project_name}}"
    for path in starter.rglob("*"):
        if not path.is_file() or path.name == ".copier-answers.yml":
            continue
        relative = str(path.relative_to(starter)).replace(
            "src/shop", "src/{{cookiecutter.package_name}}"
        )
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        text = path.read_text()
        if "{{" in text or "{%" in text:  # e.g. GitHub's ${{ }}: copied verbatim
            target.write_text("{% raw %}" + text + "{% endraw %}")
        else:
            target.write_text(text.replace("shop", "{{cookiecutter.package_name}}"))
    (template / "cookiecutter.json").write_text(
        json.dumps({"project_name": "shop", "package_name": "shop"})
    )
    return template


# -- 3. Time to green ---------------------------------------------------------------------------


def bench_time_to_green(frameworks: Sequence[str], work: Path) -> Report:
    """`scaffold new` -> `uv sync` -> `uv run pytest`, warm uv cache (a warm-up run first)."""
    env = bytecode_env("source", work / "pycache")  # the user's shell here: no bytecode cache
    env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = "bench"
    env["GIT_AUTHOR_EMAIL"] = env["GIT_COMMITTER_EMAIL"] = "bench@localhost"
    uv = toolchain.uv_bin()
    report: Report = {}
    for framework in frameworks:
        phases: dict[str, list[float]] = {"scaffold new": [], "uv sync": [], "uv run pytest": []}
        for attempt in range(3):  # the first is the warm-up
            where = work / "green" / framework
            shutil.rmtree(where, ignore_errors=True)
            where.mkdir(parents=True)
            project = where / "shop"
            timings = [
                run(
                    [str(BIN / "scaffold"), "new", "shop", "-f", framework, "--defaults"],
                    cwd=where,
                    env=env,
                ),
                run([uv, "sync", "--quiet"], cwd=project, env=env),
                run([uv, "run", "--quiet", "pytest", "-q"], cwd=project, env=env),
            ]
            if attempt:
                for phase, seconds in zip(phases, timings, strict=True):
                    phases[phase].append(seconds)
        row = {phase: statistics.median(samples) for phase, samples in phases.items()}
        row["total"] = sum(row.values())
        report[framework] = row
    return report


# -- 4. Check matrix ----------------------------------------------------------------------------


def bench_check(jobs_list: Sequence[int], work: Path) -> Report:
    report: Report = {}
    for jobs in jobs_list:
        junit = work / f"check-{jobs}.xml"
        wall = run(
            [str(BIN / "scaffold"), "check", "--jobs", str(jobs), "--junit", str(junit)],
            env=toolchain.tool_env(),
        )
        cases = {
            case.get("name"): float(case.get("time", 0))
            for case in ET.parse(junit).iter("testcase")
        }
        report[str(jobs)] = {
            "wall": wall,
            "cases": len(cases),
            "case_median": statistics.median(cases.values()),
            "case_max": max(cases.values()),
            "case_sum": sum(cases.values()),
        }
    return report


# -- 5. Starter throughput ----------------------------------------------------------------------


def bench_throughput(frameworks: Sequence[str], work: Path, seconds: int, rounds: int) -> Report:
    """Requests/s on GET / under the production server with 1 worker: starter vs bare app."""
    registry = Registry.load(REPO)
    env = toolchain.tool_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    uv = toolchain.uv_bin()
    report: Report = {"load_generator": load_generator_name()}
    for framework in frameworks:
        where = work / "throughput" / framework
        shutil.rmtree(where, ignore_errors=True)
        where.mkdir(parents=True)
        run(
            [str(BIN / "scaffold"), "new", "shop", "-f", framework, "--defaults", "--no-git"],
            cwd=where,
            env=env,
        )
        project = where / "shop"
        run([uv, "sync", "--quiet", "--no-dev"], cwd=project, env=env)
        fw = registry.framework(framework)
        server = fw.server
        apps = {
            "bare": ("bare", {**env, "PYTHONPATH": str(REPO / "bench" / "bare" / framework)}),
            "starter": (fw.module_package("shop"), env),
        }
        # The starter once more with its log level at WARNING: no access line per request. Where
        # the access log is the app's own (a Pyramid tween, Sanic's access logger) rather than
        # the server's, this separates what the log costs from what the app costs.
        serve = {**apps, "quiet": (apps["starter"][0], {**env, "SHOP_LOG_LEVEL": "WARNING"})}
        # A root layout (registry `layout: root`, Chalice) is served from its folder: the bare
        # app's own (app.py beside its configuration), the starter's root.
        bare_dir = REPO / "bench" / "bare" / framework
        cwd = {kind: bare_dir if kind == "bare" and fw.layout == "root" else project
               for kind in serve}  # fmt: skip
        samples: dict[str, list[float]] = {kind: [] for kind in serve}
        for _ in range(rounds):  # alternate, so drift in the machine's speed hits all alike
            for kind, (package, app_env) in serve.items():
                port = free_port()
                command = server.command(host="127.0.0.1", port=port, package=package)
                command[0] = str(project / ".venv" / "bin" / command[0])
                samples[kind].append(serve_and_load(command, cwd[kind], app_env, port, seconds))
        bare, starter, quiet = (statistics.median(samples[k]) for k in serve)
        # The app's own cost per GET /, called in-process: no server, no network, less noise.
        fw_kind = registry.framework(framework).kind
        cost = {
            kind: in_process_cost(project, fw_kind, package, app_env)
            for kind, (package, app_env) in apps.items()
        }
        report[framework] = {
            "bare_us": cost["bare"][0],
            "starter_us": cost["starter"][0],
            "bare_calls": cost["bare"][1],
            "starter_calls": cost["starter"][1],
            "bare": bare,
            "starter": starter,
            "ratio": starter / bare,
            "quiet": quiet,
            "quiet_ratio": quiet / bare,
            "server": server.name,
            "bare_range": [min(samples["bare"]), max(samples["bare"])],
            "starter_range": [min(samples["starter"]), max(samples["starter"])],
        }
    return report


def in_process_cost(
    project: Path, kind: str, package: str, env: dict[str, str]
) -> tuple[float, float]:
    """Microseconds and function calls per GET / of the app called in-process (app_cost.py).

    Only WSGI and ASGI apps can be called so; aiohttp's own app model is reported as n/a. The
    figures are app_cost.py's last line on stdout: an app may log there while it is built."""
    if kind not in ("wsgi", "asgi"):
        return math.nan, math.nan
    done = subprocess.run(
        [str(project / ".venv" / "bin" / "python"), str(REPO / "bench" / "app_cost.py"),
         kind, f"{package}.app", "5000"],
        cwd=project, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    lines = done.stdout.splitlines()
    if done.returncode != 0 or not lines:
        raise SystemExit(f"in-process cost of {package}.app failed:\n{done.stdout}\n{done.stderr}")
    microseconds, calls = lines[-1].split()
    return float(microseconds), float(calls)


def pinned(cpu: int, argv: list[str]) -> list[str]:
    """Pin the server and the load generator to different cores (when taskset and two cores
    exist), so they do not steal each other's time slices: it removes most of the noise."""
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", str(cpu), *argv]
    return argv


def serve_and_load(
    command: list[str], cwd: Path, env: dict[str, str], port: int, seconds: int
) -> float:
    url = f"http://127.0.0.1:{port}/"
    process = subprocess.Popen(
        pinned(1, command),
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit(f"server did not come up: {' '.join(command)}") from None
                time.sleep(0.2)
        load(url, 1)  # warm-up: first requests pay for lazy imports and caches
        return load(url, seconds)
    finally:
        stop(process)


def load_generator_name() -> str:
    name = "wrk -t1 -c8" if shutil.which("wrk") else "python http.client, 8 keep-alive connections"
    return name + (", server and load on separate cores" if pinned(0, []) else "")


def load(url: str, seconds: int) -> float:
    if shutil.which("wrk"):
        done = subprocess.run(
            pinned(0, ["wrk", "-t1", "-c8", f"-d{seconds}s", url]),
            capture_output=True,
            text=True,
            check=True,
        )
        match = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
        if not match:
            raise SystemExit(f"cannot read wrk's output:\n{done.stdout}")
        return float(match.group(1))
    return python_load(url, seconds)


def python_load(url: str, seconds: int) -> float:
    """A bounded fallback load generator: 8 threads, keep-alive, loopback only."""
    import http.client
    import threading
    from urllib.parse import urlparse

    parsed = urlparse(url)
    assert parsed.hostname == "127.0.0.1"  # noqa: S101 (loopback only, never a real host)
    counts = [0] * 8
    stop_at = time.monotonic() + seconds

    def worker(slot: int) -> None:
        connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=5)
        while time.monotonic() < stop_at:
            connection.request("GET", parsed.path)
            connection.getresponse().read()
            counts[slot] += 1
        connection.close()

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


# -- main ---------------------------------------------------------------------------------------


def machine() -> Report:
    load_avg = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "uv": subprocess.run(
            [toolchain.uv_bin(), "--version"], capture_output=True, text=True, check=False
        ).stdout.strip(),
        "loadavg_at_start": load_avg,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only",
        nargs="*",
        choices=["startup", "render", "green", "check", "throughput", "workers", "database"],
    )
    parser.add_argument("--runs", type=int, default=10, help="repetitions per timed command")
    parser.add_argument(
        "--seconds", type=int, default=5, help="load duration per throughput sample"
    )
    parser.add_argument("--rounds", type=int, default=3, help="throughput samples per app")
    parser.add_argument("--frameworks", nargs="*", default=FRAMEWORKS, choices=FRAMEWORKS)
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "latest.json")
    args = parser.parse_args()
    wanted = set(
        args.only or ["startup", "render", "green", "check", "throughput", "workers", "database"]
    )
    results: Report = {"machine": machine()}
    with tempfile.TemporaryDirectory(prefix="scaffolder-bench-") as tmp:
        work = Path(tmp)
        steps: dict[str, Callable[[], Report]] = {
            "startup": lambda: bench_startup(args.runs, work),
            "render": lambda: bench_render(args.runs, work),
            "green": lambda: bench_time_to_green(args.frameworks, work),
            "check": lambda: bench_check([1, 2], work),
            "throughput": lambda: bench_throughput(
                args.frameworks, work, args.seconds, args.rounds
            ),
            # gunicorn worker settings: bench/workers.py (also runnable on its own).
            "workers": lambda: workers.bench_workers(
                workers.gunicorn_frameworks(Registry.load(REPO)),
                work,
                args.seconds,
                args.rounds,
                [8, 32],
            ),
            # database starters vs bare database apps: bench/database.py (also on its own).
            "database": lambda: database.bench_database(
                [fw for fw in args.frameworks if fw in database.frameworks(Registry.load(REPO))],
                work,
                args.seconds,
                args.rounds,
                workers=2,
                many=64,
            ),
        }
        for name, step in steps.items():
            if name in wanted:
                print(f"== {name}", file=sys.stderr, flush=True)
                results[name] = step()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2))
    print(render_markdown(results))


def table(title: str, header: Sequence[str], rows: list[Sequence[object]]) -> list[str]:
    """A markdown table with a heading, as lines."""
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def render_markdown(results: Report) -> str:
    out = [f"Machine: {json.dumps(results['machine'])}", ""]

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.0f} ms"

    if "startup" in results:
        for mode in ("bytecode", "source"):
            rows = results["startup"][mode].items()
            out += table(
                f"Start-up ({mode})",
                ["command", "median", "min", "x python -c pass"],
                [[f"`{n}`", ms(r["median"]), ms(r["min"]), f"{r['ratio']:.1f}"] for n, r in rows],
            )
        imports = results["startup"]["imports"]
        out += [
            f"`scaffold --help` imports {imports['modules']} modules; "
            f"not imported: {', '.join(imports['absent'])}; "
            f"imported: {', '.join(imports['present']) or 'none of the heavy ones'}; "
            f"heaviest: {imports['heaviest_ms']}",
            "",
        ]
    if "render" in results:
        render = results["render"]
        out += table(
            f"Render ({render['files']} files; cookiecutter {render['cookiecutter_files']} files)",
            ["command", "median", "min", "x copier copy"],
            [
                [f"`{n}`", ms(r["median"]), ms(r["min"]), f"{r['ratio']:.2f}"]
                for n, r in render["rows"].items()
            ],
        )
    if "green" in results:
        phases = ["scaffold new", "uv sync", "uv run pytest", "total"]
        out += table(
            "Time to green (warm uv cache)",
            ["framework", *phases],
            [[fw, *(f"{row[p]:.2f} s" for p in phases)] for fw, row in results["green"].items()],
        )
    if "check" in results:
        keys = ["wall", "case_median", "case_max", "case_sum"]
        out += table(
            "Check matrix (default set)",
            ["jobs", "cases", "wall", "per case median", "per case max", "sum of cases"],
            [
                [jobs, row["cases"], *(f"{row[k]:.1f} s" for k in keys)]
                for jobs, row in results["check"].items()
            ],
        )
    if "throughput" in results:
        throughput = results["throughput"]

        def spread(row: Report, kind: str) -> str:
            low, high = row[f"{kind}_range"]
            return f"{row[kind]:.0f} ({low:.0f}-{high:.0f})"

        out += table(
            f"Throughput, GET /, 1 worker ({throughput['load_generator']})",
            [
                "framework",
                "server",
                "bare req/s (min-max)",
                "starter req/s (min-max)",
                "ratio",
                "starter at WARNING req/s",
                "ratio",
                "in-process us bare / starter",
                "calls per request bare / starter",
            ],
            [
                [
                    fw,
                    row["server"],
                    spread(row, "bare"),
                    spread(row, "starter"),
                    f"{row['ratio']:.2f}",
                    f"{row['quiet']:.0f}",
                    f"{row['quiet_ratio']:.2f}",
                    f"{row['bare_us']:.1f} / {row['starter_us']:.1f}",
                    f"{row['bare_calls']:.0f} / {row['starter_calls']:.0f}",
                ]
                for fw, row in throughput.items()
                if fw in FRAMEWORKS
            ],
        )
    if "workers" in results:
        out += workers.render(results["workers"])
    if "database" in results:
        out += database.render_markdown(results["database"])
    return "\n".join(out)


if __name__ == "__main__":
    main()
