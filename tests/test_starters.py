"""Every framework's default starter, rendered by plain Copier (pytest-copie) and by
`scaffold new`, installs and passes its own tests, linters, type checker, server and file lints."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from scaffolder import toolchain
from scaffolder.check import workflows
from scaffolder.check.matrix import Case
from scaffolder.check.steps import CaseRunner, free_port, stop, wait_for_health
from scaffolder.registry import Registry
from scaffolder.template import TemplateSource

from .conftest import REPO, scaffold_process

pytestmark = pytest.mark.starter

FRAMEWORKS = list(Registry.load(REPO).frameworks)
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


@pytest.mark.parametrize("framework", FRAMEWORKS)
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
    assert [step.name for step in outcome.steps] == ALL_STEPS
    tests = next(step for step in outcome.steps if step.name == "pytest").output
    assert ALL_PASSED.search(tests), tests
    assert "Required test coverage of 90.0% reached" in tests
    serve = next(step for step in outcome.steps if step.name == "serve")
    assert "healthy: http://127.0.0.1:" in serve.output
    assert serve.command.startswith(str(rendered.project_dir / ".venv" / "bin"))


def test_scaffold_new_then_the_generated_readme_commands(tmp_path: Path) -> None:
    """What a user does: the console script, then the starter README's own test command."""
    env = toolchain.tool_env()
    created = scaffold_process("new", "shop", "-f", "falcon", "--defaults", cwd=tmp_path)
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
    created = scaffold_process(
        "new", "shop", "-f", "bottle", "--defaults", "--no-git", cwd=tmp_path
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
