"""`scaffold check` never writes to the template checkout it runs from.

The issue: renders on threads shared one process-wide working directory (Copier chdirs around
its git calls), so one case's `git checkout -f` ran in the user's checkout, detached its HEAD
and could discard uncommitted template edits; on Python 3.11 the timing happened to hide it.
Here a throwaway clone of this repository, with an uncommitted template edit and an untracked
file, runs `scaffold check` at the default --jobs from the clone itself (the source-checkout
path: HEAD plus uncommitted edits), with the scaffolder process on 3.11 and on 3.12.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from scaffolder import toolchain
from scaffolder.registry import Registry

from .conftest import REPO, snapshot

pytestmark = pytest.mark.starter

EDIT = "\n<!-- an uncommitted edit in the template checkout -->\n"


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # our own reads must not write either
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
    ).stdout


def state(repo: Path) -> dict[str, str]:
    """Everything a write by git would change."""
    return {
        "HEAD": git(repo, "rev-parse", "HEAD"),
        "branch": git(repo, "symbolic-ref", "HEAD"),
        "reflog": git(repo, "reflog", "--all"),
        "refs": git(repo, "for-each-ref"),
        "status": git(repo, "status", "--porcelain=v1", "--untracked-files=all"),
        "stash": git(repo, "stash", "list"),
        "index": hashlib.sha256((repo / ".git" / "index").read_bytes()).hexdigest(),
        "objects": git(repo, "count-objects", "-v"),
    }


def clone_with_current_code(target: Path) -> Path:
    """A clone of this repository whose scaffolder/ is the code under test, committed."""
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(target)], check=True)
    shutil.rmtree(target / "scaffolder")
    shutil.copytree(
        REPO / "scaffolder", target / "scaffolder", ignore=shutil.ignore_patterns("__pycache__")
    )
    git(target, "add", "--all")
    if git(target, "status", "--porcelain").strip():
        git(target, "commit", "--quiet", "-m", "the code under test")
    return target


def venv_with_scaffolder(python: str, clone: Path, target: Path) -> Path:
    """A virtual environment on `python` with the clone installed (editable)."""
    env = toolchain.tool_env()
    uv = toolchain.uv_bin()
    subprocess.run(
        [uv, "venv", "--quiet", "--python", toolchain.python_path(python), str(target)],
        env=env,
        check=True,
    )
    install = [uv, "pip", "install", "--quiet", "--python", str(target / "bin" / "python")]
    offline = subprocess.run([*install, "--offline", "-e", str(clone)], env=env, check=False)
    if offline.returncode != 0:
        subprocess.run([*install, "-e", str(clone)], env=env, check=True)
    return target / "bin" / "python"


@pytest.mark.parametrize("python", ["3.11", "3.12"])
def test_check_leaves_the_template_checkout_as_it_was(
    tmp_path: Path, registry: Registry, python: str
) -> None:
    clone = clone_with_current_code(tmp_path / "template")
    interpreter = venv_with_scaffolder(python, clone, tmp_path / "venv")
    readme = clone / "templates" / "common" / "README.md.jinja"
    edited = readme.read_text() + EDIT
    readme.write_text(edited)
    (clone / "notes.txt").write_text("untracked, not ignored\n")
    before = state(clone)
    template_files = snapshot(clone / "templates")

    # Two cases: the default --jobs (the number of cores, 2 here) runs them at once.
    frameworks = list(registry.frameworks)[:2]
    done = subprocess.run(
        [
            str(interpreter),
            "-m",
            "scaffolder",
            "check",
            *(arg for name in frameworks for arg in ("-f", name)),
            "--python",
            "3.12",
            "--without",
            ",".join(registry.extensions),
            "--keep",
            "--workdir",
            str(tmp_path / "work"),
        ],
        cwd=clone,  # where a user runs it: in the checkout
        env=toolchain.tool_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert f"{len(frameworks)} passed, 0 failed" in output

    assert state(clone) == before
    assert snapshot(clone / "templates") == template_files
    assert readme.read_text() == edited
    assert (clone / "notes.txt").read_text() == "untracked, not ignored\n"
    # The starters were rendered from HEAD plus the uncommitted edit, as documented.
    for case in (tmp_path / "work").iterdir():
        assert EDIT.strip() in (case / "check-starter" / "README.md").read_text()
