"""Copier keeps working on the template and on what it generated: `copier copy`, then
`copier update` pulls template changes and keeps the user's edits, without --trust."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scaffolder import template as template_module
from scaffolder import toolchain
from scaffolder.template import resolve_template

from .templates import commit, edit, fork_template, git

COPIER = str(Path(sys.executable).parent / "copier")


def copier(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COPIER, *args],
        cwd=cwd,
        env=toolchain.tool_env(),
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def generated(tmp_path: Path) -> tuple[Path, Path]:
    """A project rendered by plain `copier copy` from a tagged fork, committed."""
    template = fork_template(tmp_path / "template")
    done = copier(
        "copy", "--defaults", str(template), "shop", "-d", "framework=bottle", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    project = tmp_path / "shop"
    git(project, "init", "--quiet")
    commit(project, "generated")
    return template, project


def test_plain_copier_copy_renders_without_trust(generated: tuple[Path, Path]) -> None:
    _, project = generated
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v1.0.0"
    assert answers["project_name"] == "shop"
    assert answers["framework"] == "bottle"
    assert "from bottle import" in (project / "src" / "shop" / "app.py").read_text()


def test_update_pulls_template_changes_and_keeps_user_edits(generated: tuple[Path, Path]) -> None:
    template, project = generated
    edit(
        project / "src" / "shop" / "store.py",
        "class ItemStore:",
        "# the team's note\nclass ItemStore:",
    )
    commit(project, "user edit")
    edit(
        template / "templates" / "common" / ".gitignore.jinja",
        "# Virtual environments and caches",
        "# Editors\n.idea/\n\n# Virtual environments and caches",
    )
    commit(template, "ignore .idea", tag="v1.1.0")

    done = copier("update", "--defaults", cwd=project)
    assert done.returncode == 0, done.stderr
    assert ".idea/" in (project / ".gitignore").read_text()
    assert "# the team's note" in (project / "src" / "shop" / "store.py").read_text()
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == "v1.1.0"


def test_overlapping_edits_become_conflict_markers_not_losses(generated: tuple[Path, Path]) -> None:
    template, project = generated
    edit(project / "README.md", "## Quick start", "## Getting started (ours)")
    commit(project, "user edit")
    edit(
        template / "templates" / "common" / "README.md.jinja",
        "## Quick start",
        "## Quick start (theirs)",
    )
    commit(template, "rename heading", tag="v1.1.0")

    copier("update", "--defaults", "--conflict", "inline", cwd=project)
    readme = (project / "README.md").read_text()
    assert "<<<<<<<" in readme
    assert "Getting started (ours)" in readme
    assert "Quick start (theirs)" in readme


def test_update_can_switch_the_framework(generated: tuple[Path, Path]) -> None:
    _, project = generated
    done = copier("update", "--defaults", "-d", "framework=falcon", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "import falcon" in (project / "src" / "shop" / "app.py").read_text()
    assert "falcon>=" in (project / "pyproject.toml").read_text()


def test_installed_copy_is_mirrored_into_a_versioned_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wheel's bundled template is no git repository: the mirror makes `copier update` work."""
    bundle = fork_template(tmp_path / "bundle", tag=None)
    subprocess.run(["rm", "-rf", str(bundle / ".git")], check=True)
    monkeypatch.setattr(template_module, "bundled_root", lambda: bundle)
    monkeypatch.setattr(template_module, "__version__", "0.1.0")

    first = resolve_template()
    mirror = Path(first.src)
    assert mirror.is_relative_to(template_module.data_home())
    assert git(mirror, "tag").split() == ["v0.1.0"]
    assert resolve_template() == first  # nothing to do the second time

    done = copier("copy", "--defaults", "--vcs-ref", "HEAD", first.src, "shop", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    project = tmp_path / "shop"
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == "v0.1.0"
    git(project, "init", "--quiet")
    commit(project, "generated")

    # `pip install -U scaffolder`: a new version with a changed template.
    edit(bundle / "templates" / "common" / ".editorconfig", "root = true", "root = true\n# v0.2.0")
    monkeypatch.setattr(template_module, "__version__", "0.2.0")
    assert resolve_template().src == first.src
    assert git(mirror, "tag").split() == ["v0.1.0", "v0.2.0"]

    done = copier("update", "--defaults", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "# v0.2.0" in (project / ".editorconfig").read_text()
