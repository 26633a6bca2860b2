"""Helpers that build template variants in a temporary folder: a fork with a change, a broken
one, one that runs tasks. Each is a git repository, as a real template source is."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .conftest import REPO


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def fork_template(target: Path, *, tag: str | None = "v1.0.0") -> Path:
    """A copy of this repository's template (copier.yml + templates/), committed and tagged."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "copier.yml", target / "copier.yml")
    shutil.copytree(REPO / "templates", target / "templates")
    git(target, "init", "--quiet")
    commit(target, "template", tag=tag)
    return target


def commit(repo: Path, message: str, *, tag: str | None = None) -> None:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--allow-empty", "-m", message)
    if tag:
        git(repo, "tag", tag)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))
