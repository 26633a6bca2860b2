"""Shared fixtures: the repository's own template and registry, and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scaffolder import cli, toolchain
from scaffolder.check.services import Services, postgres_bindir
from scaffolder.check.steps import Children
from scaffolder.registry import Registry
from scaffolder.template import TemplateSource, resolve_template

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def template() -> TemplateSource:
    return resolve_template()


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry.load(REPO)


@pytest.fixture(scope="session")
def services(registry: Registry) -> Iterator[Services]:
    """The servers starters need (PostgreSQL), through the same module as `scaffold check`:
    started on first use (`start_services`), one per test process, stopped and removed after."""
    with Services(registry, Children()) as started:
        yield started


def start_services(services: Services, extensions: tuple[str, ...]) -> None:
    """Start what `extensions` need; without PostgreSQL installed: a failure under CI, a skip
    saying why elsewhere."""
    if needed := services.needed(extensions):
        require(postgres_bindir(), "PostgreSQL is not installed (the postgresql package)")
        services.start(needed)


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def scaffold(capsys: pytest.CaptureFixture[str]) -> Iterator[object]:
    """Run the CLI in-process, through the same entry point as the console script."""

    def run(*args: str) -> Run:
        code = cli.run(list(args))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep tests away from the user's config and data folders, and out of the checkout."""
    monkeypatch.chdir(tmp_path)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("SCAFFOLDER_HOME", str(home / "scaffolder"))
    monkeypatch.delenv("SCAFFOLDER_CONFIG", raising=False)
    # Commits made by tests need an identity, whatever the machine's git config says.
    for var, value in {
        "GIT_AUTHOR_NAME": "test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }.items():
        monkeypatch.setenv(var, os.environ.get(var, value))


def scaffold_process(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `scaffold ARGS` as its own process, the way a user's shell does."""
    return subprocess.run(
        [sys.executable, "-m", "scaffolder", *args],
        cwd=cwd,
        env=toolchain.tool_env(env),
        capture_output=True,
        text=True,
        check=False,
    )


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root` with its content, to prove a failed run changed nothing."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def require(found: object, message: str) -> None:
    """What a test needs (a tool, a mount, a sandbox) is missing: a failure under CI (`CI` set,
    as `.ci/run` runs, as root, with every tool installed), a skip saying why elsewhere."""
    if found:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI must provide it: see .ci/run)")
    pytest.skip(message)


def mount(*args: str) -> bool:
    """`mount ARGS`; whether it worked (it needs root or CAP_SYS_ADMIN)."""
    return subprocess.run(["mount", *args], capture_output=True, check=False).returncode == 0
