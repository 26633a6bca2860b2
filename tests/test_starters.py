"""Every framework's default starter, rendered by plain Copier (pytest-copie), is `scaffold
new`'s byte for byte; one of each kind of handlers and layout, and the database, add-and-remove
and README starters, install and pass their own tests, linters, type checker, server and file
lints. (Every framework's default starter passes them in scaffold check's default set.)"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from scaffolder import toolchain
from scaffolder.check import workflows
from scaffolder.check.matrix import Case
from scaffolder.check.services import Services
from scaffolder.check.steps import (
    DATABASE_GROUP,
    CaseRunner,
    _check_command,
    free_port,
    stop,
    wait_for_health,
)
from scaffolder.registry import Registry
from scaffolder.template import TemplateSource

from .conftest import REPO, scaffold_process, start_services
from .templates import fork_template

pytestmark = pytest.mark.starter

REGISTRY = Registry.load(REPO)
FRAMEWORKS = list(REGISTRY.frameworks)
DATABASES = list(REGISTRY.groups().get(DATABASE_GROUP, ()))
# A framework of each kind of handlers (sync, async), for tests that need one concrete starter.
BY_HANDLERS = {fw.handlers: name for name, fw in reversed(REGISTRY.frameworks.items())}
# A framework of each kind of handlers and of each layout (src/, root): plain Copier's starter
# runs every check for these; for every other framework it must equal `scaffold new`'s, byte for
# byte, and scaffold check's default set runs every framework's default starter through the same
# checks (tests/test_check.py), so its greenness follows without a second install.
BY_KIND_AND_LAYOUT = sorted(
    {(fw.handlers, fw.layout): name for name, fw in reversed(REGISTRY.frameworks.items())}.values()
)
# pytest's summary when every test ran and passed: nothing failed, skipped or errored.
ALL_PASSED = re.compile(r"^=*\s*\d+ passed in [\d.]+s", re.MULTILINE)
ALL_STEPS = [
    "install",
    "pytest",
    "ruff",
    "ruff-format",
    "mypy",
    "serve",
    "hadolint",
    "lint-github-workflows",
    "lint-compose-spec",
    "lint-dependabot",
    "zizmor",
    *(["actionlint"] if workflows.actionlint_command() else []),  # run when installed
    "pre-commit-config",
]


def all_steps(framework: str) -> list[str]:
    """ALL_STEPS for the framework's default starter: the file linters of the files it has,
    its own check commands (registry `check_commands`) before the pre-commit check."""
    defaults = REGISTRY.default_extensions(framework)
    unused = {"hadolint": "docker", "lint-compose-spec": "compose"}
    steps = [s for s in ALL_STEPS if s not in unused or unused[s] in defaults]
    own = [_check_command(c, "pkg")[0] for c in REGISTRY.framework(framework).check_commands]
    at = steps.index("pre-commit-config") if "pre-commit-config" in steps else len(steps)
    return steps[:at] + own + steps[at:]


@pytest.mark.parametrize("framework", BY_KIND_AND_LAYOUT)
def test_plain_copier_starter_passes_every_check(
    copie: Any, framework: str, template: TemplateSource, registry: Registry, tmp_path: Path
) -> None:
    rendered = copie.copy(
        extra_answers={"project_name": f"{framework}-shop", "framework": framework},
        template_dir=REPO,
    )
    assert rendered.exit_code == 0, rendered.exception
    case = Case(framework, registry.default_python, registry.default_extensions(framework))
    outcome = CaseRunner(template, registry, tmp_path).verify(case, rendered.project_dir)
    failing = outcome.failing_step
    assert failing is None, f"{failing.name} failed: $ {failing.command}\n{failing.tail()}"
    assert [step.name for step in outcome.steps] == all_steps(framework)
    tests = next(step for step in outcome.steps if step.name == "pytest").output
    assert ALL_PASSED.search(tests), tests
    assert "Required test coverage of 90.0% reached" in tests
    serve = next(step for step in outcome.steps if step.name == "serve")
    assert "healthy: http://127.0.0.1:" in serve.output
    assert serve.command.startswith(str(rendered.project_dir / ".venv" / "bin"))


def with_defaults(registry: Registry, framework: str, *extensions: str) -> tuple[str, ...]:
    """The framework's default extensions plus `extensions`, in registry order."""
    chosen = {*registry.default_extensions(framework), *extensions}
    return tuple(name for name in registry.extensions if name in chosen)


# One framework of each kind of handlers with each database, on the default Python. Every
# framework x database x (oldest, newest Python) runs through the same CaseRunner in
# `scaffold check`'s default set (tests/test_check.py), so repeating it here per framework
# would only double the suite's time.
@pytest.mark.parametrize(
    ("framework", "database"),
    [(framework, database) for framework in BY_HANDLERS.values() for database in DATABASES],
)
def test_database_starter_passes_every_check(
    framework: str,
    database: str,
    template: TemplateSource,
    registry: Registry,
    services: Services,
    tmp_path: Path,
) -> None:
    """`scaffold new --with <database>`: its own tests against a real database (a PostgreSQL
    these tests start), linters, mypy --strict, migrations, then the production server with
    several workers answering POST then GET by id across them, and /ready."""
    case = Case(framework, registry.default_python, with_defaults(registry, framework, database))
    start_services(services, case.extensions)
    outcome = CaseRunner(template, registry, tmp_path, services=services).run(case)
    failing = outcome.failing_step
    assert failing is None, f"{failing.name} failed: $ {failing.command}\n{failing.tail()}"
    needs_service = bool(registry.extensions[database].services)
    assert [step.name for step in outcome.steps] == [
        "render",
        *(["services"] if needs_service else []),
        *ALL_STEPS,
    ]
    tests = next(step for step in outcome.steps if step.name == "pytest").output
    assert ALL_PASSED.search(tests), tests  # nothing skipped: the database was there
    serve = next(step for step in outcome.steps if step.name == "serve")
    prepare = registry.extensions[database].prepare.replace("{package}", "check_starter")
    assert f"{prepare.split()[-1]}" in serve.output  # the migrations ran before the server
    assert "healthy: http://127.0.0.1:" in serve.output


def test_starter_passes_every_check_after_add_and_after_remove(
    template: TemplateSource, registry: Registry, tmp_path: Path
) -> None:
    """`scaffold add sqlite` then `scaffold remove sqlite` in a committed default starter (with
    its uv.lock, which each re-locks): after each, the starter installs from its lock and passes
    its own tests, linters, mypy, server and file lints. One framework: the mechanism is the
    same for all (the add/remove round trips are in tests/test_lifecycle.py)."""
    framework = registry.default_framework
    database = next(
        name for name in DATABASES if not registry.extensions[name].services
    )  # no server to start
    # A committed copy of the template: a checkout with uncommitted edits records a version
    # (Copier's commit of them in its own clone) that no update could start from.
    fork = fork_template(tmp_path / "template")
    done = scaffold_process(
        "new", "shop", "-f", framework, "--defaults", "--template", str(fork), cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    project = tmp_path / "shop"
    runner = CaseRunner(template, registry, tmp_path / "work")
    for operation, extensions in (
        ("add", with_defaults(registry, framework, database)),
        ("remove", with_defaults(registry, framework)),
    ):
        done = scaffold_process(operation, database, str(project), "--yes", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "modify   uv.lock" in done.stderr  # re-locked with the new dependencies
        outcome = runner.verify(Case(framework, registry.default_python, extensions), project)
        failing = outcome.failing_step
        assert failing is None, f"{failing.name} failed: $ {failing.command}\n{failing.tail()}"
        tests = next(step for step in outcome.steps if step.name == "pytest").output
        assert ALL_PASSED.search(tests), tests
        subprocess.run(["git", "add", "--all"], cwd=project, check=True)
        # The venv and caches the checks made are ignored by the starter's .gitignore.
        subprocess.run(["git", "commit", "--quiet", "-m", operation], cwd=project, check=True)


def _files(root: Path) -> dict[str, bytes]:
    # .copier-answers.yml records where each came from (a checkout, a commit): not content.
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != ".copier-answers.yml" and ".git" not in path.parts
    }


def _same_as_scaffold_new(
    copie: Any, tmp_path: Path, framework: str, options: list[str], answers: dict[str, str]
) -> Path:
    created = scaffold_process(
        "new", "shop", "-f", framework, *options, "--defaults", "--no-git", "--no-lock",
        cwd=tmp_path,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    rendered = copie.copy(
        extra_answers={"project_name": "shop", "framework": framework, **answers},
        template_dir=REPO,
    )
    assert rendered.exit_code == 0, rendered.exception
    ours, theirs = _files(tmp_path / "shop"), _files(rendered.project_dir)
    assert sorted(ours) == sorted(theirs)
    assert [name for name in ours if ours[name] != theirs[name]] == []
    return Path(rendered.project_dir)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_plain_copier_renders_what_scaffold_new_does(
    copie: Any, framework: str, tmp_path: Path
) -> None:
    """Every framework's default starter: plain Copier's files are `scaffold new`'s."""
    _same_as_scaffold_new(copie, tmp_path, framework, [], {})


@pytest.mark.parametrize("database", DATABASES)
def test_plain_copier_with_the_database_answer_renders_what_scaffold_new_does(
    copie: Any, database: str, registry: Registry, tmp_path: Path
) -> None:
    framework = BY_HANDLERS.get("async", registry.default_framework)
    project = _same_as_scaffold_new(
        copie, tmp_path, framework, ["--with", database], {"database": database}
    )
    answers = (project / ".copier-answers.yml").read_text()
    assert f"database: {database}" in answers


def test_scaffold_new_then_the_generated_readme_commands(tmp_path: Path) -> None:
    """What a user does: the console script, then the starter README's own test command."""
    env = toolchain.tool_env()
    framework = REGISTRY.default_framework
    created = scaffold_process("new", "shop", "-f", framework, "--defaults", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    project = tmp_path / "shop"
    readme = (project / "README.md").read_text()
    quick_start = re.search(r"## Quick start\n\n```console\n(.*?)```", readme, re.DOTALL)
    assert quick_start is not None
    commands = [line.split("#")[0].strip() for line in quick_start.group(1).splitlines()]
    assert commands == ["uv sync", "uv run pytest"]
    for command in commands:
        done = subprocess.run(
            command.split(), cwd=project, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
    assert ALL_PASSED.search(done.stdout), done.stdout
    assert (
        subprocess.run(
            ["git", "status", "--porcelain"],
            cwd=project,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        == ""
    )

    # "Run it": the production server command, exactly as written, on the port in $PORT.
    run_it = re.search(r"## Run it\n.*?```console\n(.*?)\n```", readme, re.DOTALL)
    assert run_it is not None
    port = free_port()
    server = subprocess.Popen(
        ["bash", "-c", f"exec {run_it.group(1)}"],
        cwd=project,
        env={**env, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        verdict = wait_for_health(server, f"http://127.0.0.1:{port}/health", 90)
    finally:
        stop(server)
    assert verdict.startswith("healthy"), verdict


def test_pip_works_too(tmp_path: Path) -> None:
    """The starter README's pip route: a plain venv, `pip install -e . --group dev`, pytest."""
    env = toolchain.tool_env()
    framework = BY_HANDLERS["sync"]
    created = scaffold_process(
        "new", "shop", "-f", framework, "--defaults", "--no-git", cwd=tmp_path
    )
    assert created.returncode == 0, created.stderr
    project = tmp_path / "shop"
    python = toolchain.find_python("3.12")
    assert python is not None
    venv = project / ".venv"
    steps = [
        [python, "-m", "venv", str(venv)],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "pip>=25.1"],
        [str(venv / "bin" / "pip"), "install", "--quiet", "-e", ".", "--group", "dev"],
        [str(venv / "bin" / "python"), "-m", "pytest", "-q"],
    ]
    for step in steps:
        done = subprocess.run(
            step, cwd=project, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, f"{step}\n{done.stdout}\n{done.stderr}"
    assert ALL_PASSED.search(done.stdout), done.stdout
