"""Every framework's starter under real HTTP traffic, on the production server its Dockerfile runs.

For each framework in the registry, on the oldest and the newest Python it supports: render,
install, start the server command (the registry's argv, which the Dockerfile's CMD renders) on a
free loopback port, with no writable temporary directory where the machine allows a private
mount namespace (as in a read-only container). Then: the HTTP probe of `scaffold check` passes
(contract + chunked, oversize, slow-client and method edge cases), every line the server logs is
JSON, the HEALTHCHECK works with PORT empty, and a starter that publishes an OpenAPI document
passes schemathesis.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from scaffolder import toolchain
from scaffolder.check import http_probe
from scaffolder.check.matrix import Case
from scaffolder.check.services import Services
from scaffolder.check.steps import DATABASE_GROUP, CaseRunner, free_port, stop, wait_for_health
from scaffolder.project import create, plan
from scaffolder.registry import Registry
from scaffolder.template import TemplateSource, resolve_template

from .conftest import REPO, require, start_services
from .templates import commit, edit, fork_template

pytestmark = pytest.mark.starter

REGISTRY = Registry.load(REPO)
# A database starter as well: the one whose database is a server (PostgreSQL, which these tests
# start), since a file database cannot be written where the sandbox below makes /tmp read-only.
_DATABASES = REGISTRY.groups().get(DATABASE_GROUP, ())
DATABASE = next(
    (name for name in _DATABASES if REGISTRY.extensions[name].services), next(iter(_DATABASES), "")
)
# Every framework's server on the oldest Python it supports without a database, and on the
# newest with one (several workers sharing it). The other pairings are `scaffold check`'s: its
# default set serves every framework with each database on both Pythons (test_check), with the
# same probe; what only this test adds (read-only /tmp, JSON log lines, the Dockerfile's
# command, the HEALTHCHECK, schemathesis) depends on the server, not on the Python version.
CASES = [
    (framework, python, database)
    for framework in REGISTRY.frameworks
    for python, database in dict.fromkeys(
        (
            (REGISTRY.python_versions_for(framework)[0], ""),
            (REGISTRY.python_versions_for(framework)[-1], DATABASE),
        )
    )
]
NAME, PACKAGE = "probe-shop", "probe_shop"

# Run a command in a private mount namespace where /tmp and /var/tmp are read-only (the project
# lives under /tmp as well): Python then finds no usable temporary directory, as under
# `docker run --read-only` without a tmpfs. Usage: sh -c READ_ONLY_TEMP sh COMMAND...
# --rbind, not --bind: in a user namespace a plain bind of a folder that has mounts below it
# (another test's tmpfs, a Docker data root under /tmp) fails with EINVAL.
READ_ONLY_TEMP = (
    "set -e; for d in /tmp /var/tmp; do if [ -d $d ]; then mount --rbind $d $d; "
    'mount -o remount,bind,ro $d; fi; done; exec "$@"'
)
UNSHARE = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", READ_ONLY_TEMP, "sh"]


def _read_only_temp_works() -> bool:
    """Whether UNSHARE runs here and really leaves no writable temporary directory."""
    if shutil.which("unshare") is None:
        return False
    try:
        done = subprocess.run(
            [*UNSHARE, sys.executable, "-c", "import tempfile; tempfile.gettempdir()"],
            cwd="/tmp",  # noqa: S108 (tempfile's last resort is the working directory)
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "No usable temporary directory" in done.stderr


READ_ONLY = _read_only_temp_works()
# uvicorn's supervisor's own lines ("INFO:     Started parent process [7]").
UVICORN_SUPERVISOR = re.compile(
    r"INFO: +(Uvicorn running on|Started parent process|Received SIGTERM|"
    r"Terminated child process|Waiting for child process|Stopping parent process)"
)


def _render_and_install(
    framework: str, python: str, root: Path, template: TemplateSource, extensions: list[str]
) -> Path:
    project = root / NAME
    spec = plan(REGISTRY, name=NAME, framework=framework, python=python, extensions=extensions)
    created = create(spec, project, template=template, git=False)
    assert created.locked, created.warnings
    interpreter = toolchain.find_python(python)
    assert interpreter is not None, f"Python {python} is not installed"
    sync = [toolchain.uv_bin(), "sync", "--locked", "--no-dev", "--python", interpreter]
    env = toolchain.tool_env()
    done = subprocess.run([*sync, "--offline"], cwd=project, env=env, capture_output=True)
    if done.returncode != 0:  # the shared uv cache lacks a package: fetch it
        done = subprocess.run(sync, cwd=project, env=env, capture_output=True)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return project


@pytest.mark.parametrize(
    ("framework", "python", "database"),
    CASES,
    ids=[f"{f}-py{p}" + (f"-{d}" if d else "") for f, p, d in CASES],
)
def test_the_production_server_keeps_the_contract_under_real_traffic(
    framework: str,
    python: str,
    database: str,
    template: TemplateSource,
    services: Services,
    tmp_path: Path,
) -> None:
    extensions = [*REGISTRY.default_extensions(framework), *([database] if database else [])]
    project = _render_and_install(framework, python, tmp_path, template, extensions)
    server = REGISTRY.framework(framework).server
    package = REGISTRY.framework(framework).module_package(PACKAGE)  # the layout's
    port = free_port()
    command = server.command(
        host="127.0.0.1", port=port, package=package, workers=2 if database else 0
    )
    command[0] = str(project / ".venv" / "bin" / command[0])
    env = toolchain.tool_env()
    env.pop("TMPDIR", None)
    if database:
        # A database of its own, migrated (the prepare step) before the server, which runs
        # several workers: items written through one are read back through another.
        start_services(services, (database,))
        env.update(services.environment([database], f"http-{framework}-{python}"))
        prepare = shlex.split(REGISTRY.extensions[database].prepare.replace("{package}", package))
        prepare[0] = str(project / ".venv" / "bin" / prepare[0])
        done = subprocess.run(prepare, cwd=project, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        env["WEB_CONCURRENCY"] = "2"
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*UNSHARE, *command] if READ_ONLY else command,
            cwd=project,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        verdict = wait_for_health(process, f"http://127.0.0.1:{port}/health", 90)
        assert verdict.startswith("healthy"), f"{verdict}\n{log.read_text()}"
        if READ_ONLY:  # the server really runs where /tmp cannot be written
            assert _read_only_mounts(process.pid) >= {"/tmp"}  # noqa: S108

        failures = http_probe.probe(
            "127.0.0.1", port, database=bool(database), exempt=server.exemptions()
        )
        assert not failures, "\n".join(failures) + "\n--- server log ---\n" + log.read_text()

        if (project / "Dockerfile").is_file():
            healthcheck = _healthcheck_code(project)
            for value, asks in (("", "8000"), (None, "8000"), ("1234", "1234")):
                assert _healthcheck_url(healthcheck, value) == f"http://127.0.0.1:{asks}/health"
            done = subprocess.run(
                [str(project / ".venv" / "bin" / "python"), "-c", healthcheck],
                env={**toolchain.tool_env(), "PORT": str(port)},
                capture_output=True,
                text=True,
                check=False,
            )
            assert done.returncode == 0, done.stderr

        if _publishes_openapi(port):
            _schemathesis(f"http://127.0.0.1:{port}/openapi.json")
    finally:
        stop(process)

    # Every line the server wrote (its own start-up and access lines included) is JSON, except
    # uvicorn's supervisor process with several workers: it never imports the app, so its own
    # few lines (start, child processes, stop) keep uvicorn's format; the workers' are JSON.
    # (A server whose own lines the app cannot reach, registry `json_logs: false`, is exempt:
    # chalice local's http.server writes plain text.)
    if server.json_logs:
        lines = [line for line in log.read_text().splitlines() if line.strip()]
        if server.workers_option and database:
            lines = [line for line in lines if not UVICORN_SUPERVISOR.match(line)]
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                pytest.fail(f"not a JSON line: {line!r}\n--- server log ---\n{log.read_text()}")
            assert {"time", "level", "logger", "message"} <= set(record), line
        access = [json.loads(line) for line in lines if ".access" in json.loads(line)["logger"]]
        assert any("/health" in record["message"] for record in access), lines[-5:]

    # The Dockerfile runs this very command (on 0.0.0.0 and $PORT).
    if not (project / "Dockerfile").is_file():
        return
    cmd = json.loads(_dockerfile_instruction(project, "CMD"))
    assert cmd[:2] == ["sh", "-c"], cmd
    # (after the prepare step, for a database starter: `<prepare> && exec <server>`)
    line = cmd[2].rpartition("exec ")[2].replace("${PORT:-8000}", "8000")
    words = shlex.split(line)
    # A server with no config file for it (uvicorn) also gets the worker count there, for a
    # database starter: tests/test_shared_files.py runs that CMD and checks it.
    if server.workers_option and words[-2:-1] == [server.workers_option]:
        words = words[:-2]
    docker_host = "0.0.0.0"  # noqa: S104 (inside the container)
    assert words == server.command(host=docker_host, port=8000, package=package)


def test_a_read_only_temporary_directory_is_really_simulated() -> None:
    """The sandbox above is real where it can run; say so when it cannot."""
    require(READ_ONLY, "unshare cannot mount /tmp read-only here: servers ran with a writable /tmp")
    done = subprocess.run(
        [*UNSHARE, sys.executable, "-c", f"open('/tmp/read-only-{os.getpid()}.probe', 'x')"],
        capture_output=True,
        text=True,
    )
    assert "Read-only file system" in done.stderr


def _read_only_mounts(pid: int) -> set[str]:
    mounts = set()
    for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines():
        fields = line.split()
        if "ro" in fields[5].split(","):
            mounts.add(fields[4])
    return mounts


def _dockerfile_instruction(project: Path, name: str) -> str:
    dockerfile = (project / "Dockerfile").read_text().replace("\\\n", " ")
    match = re.search(rf"^{name} (?:.*? CMD )?(\[.*\])$", dockerfile, re.MULTILINE)
    assert match is not None, f"no exec-form {name} in the Dockerfile"
    return match.group(1)


def _healthcheck_code(project: Path) -> str:
    argv = json.loads(_dockerfile_instruction(project, "HEALTHCHECK"))
    assert argv[:2] == ["python", "-c"], argv
    code: str = argv[2]
    return code


def _healthcheck_url(code: str, port: str | None) -> str:
    """The URL the HEALTHCHECK's own Python line asks for, with urlopen replaced by a recorder."""
    env = toolchain.tool_env()
    env.pop("PORT", None)
    if port is not None:
        env["PORT"] = port
    recorder = "import urllib.request as r; r.urlopen = lambda url, timeout: print(url)\n"
    done = subprocess.run(
        [sys.executable, "-c", recorder + code], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _publishes_openapi(port: int) -> bool:
    url = f"http://127.0.0.1:{port}/openapi.json"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            document = json.loads(response.read())
    except (OSError, ValueError):
        return False
    return isinstance(document, dict) and "openapi" in document


def _schemathesis(url: str) -> None:
    """Every check schemathesis has, against the running server; fixed seed, so reproducible."""
    done = subprocess.run(
        [
            *(str(Path(sys.executable).parent / "schemathesis"), "run", url, "--checks", "all"),
            *("--max-examples", "30", "--workers", "1", "--seed", "1"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**toolchain.tool_env(), "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-2000:]


def test_scaffold_check_fails_a_template_whose_own_tests_agree_with_a_wrong_status(
    tmp_path: Path,
) -> None:
    """A missing item answered 200 instead of 404, with the starter's own test changed to
    agree: its pytest passes, the serve step's probe does not."""
    fork = fork_template(tmp_path / "wrong")
    edit(
        fork / "templates" / "flask" / "app.py.jinja",
        'return {"detail": "Item not found"}, 404',
        'return {"detail": "Item not found"}, 200',
    )
    edit(
        fork / "templates" / "flask" / "test_app.py.jinja",
        'response = client.get("/items/99")\n    assert response.status_code == 404',
        'response = client.get("/items/99")\n    assert response.status_code == 200',
    )
    edit(
        fork / "templates" / "flask" / "test_app.py.jinja",
        'response = client.get(f"/items/{2**64}")\n    assert response.status_code == 404',
        'response = client.get(f"/items/{2**64}")\n    assert response.status_code == 200',
    )
    commit(fork, "agree with a wrong status", tag="v1.0.1")
    registry = Registry.load(fork)
    runner = CaseRunner(resolve_template(str(fork)), registry, tmp_path / "work")
    result = runner.run(Case("flask", registry.default_python, ()))
    steps = {step.name: step for step in result.steps}
    assert steps["pytest"].passed, steps["pytest"].tail()
    assert result.failing_step is steps["serve"]
    assert (
        "probe failed: items: GET /items/987654321: expected 404, got 200" in steps["serve"].output
    )
