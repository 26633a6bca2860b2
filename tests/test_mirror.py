"""The template mirror an installed scaffolder keeps in its data folder, so that `copier update`
works in the projects it renders: it only ever deletes what scaffolder made, repairs itself when
damaged, and when it cannot be written, rendering goes on without it and says what that costs."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scaffolder import template as template_module
from scaffolder.template import data_home, resolve_template

from .conftest import mount, require, snapshot
from .templates import commit, fork_template, git
from .test_cli import FAST, answers_of, error_line

VERSION = "0.1.0"


@pytest.fixture
def bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The template as a wheel installs it: no git repository, so it is mirrored."""
    bundle = fork_template(tmp_path / "bundle", tag=None)
    shutil.rmtree(bundle / ".git")
    monkeypatch.setattr(template_module, "bundled_root", lambda: bundle)
    monkeypatch.setattr(template_module, "__version__", VERSION)
    return bundle


def work_tree(root: Path) -> dict[str, bytes]:
    return {k: v for k, v in snapshot(root).items() if not k.startswith(".git/")}


def assert_in_step(mirror: Path, bundle: Path) -> None:
    assert work_tree(mirror) == snapshot(bundle)
    assert git(mirror, "status", "--porcelain", "--untracked-files=all") == ""
    tagged = git(mirror, "rev-parse", f"refs/tags/v{VERSION}^{{commit}}")
    assert tagged == git(mirror, "rev-parse", "HEAD")


def branch_ref(mirror: Path) -> Path:
    return mirror / ".git" / git(mirror, "symbolic-ref", "HEAD").strip()


def edit_file(mirror: Path) -> None:
    with (mirror / "templates" / "common" / ".editorconfig").open("a") as config:
        config.write("# edited by hand\n")


def commit_an_edit(mirror: Path) -> None:
    edit_file(mirror)
    commit(mirror, "an edit")


def delete_objects(mirror: Path) -> None:
    for folder in (mirror / ".git" / "objects").iterdir():
        if len(folder.name) == 2:
            shutil.rmtree(folder)


DAMAGE: dict[str, Callable[[Path], Any]] = {
    "deleted .git": lambda m: shutil.rmtree(m / ".git"),
    "broken ref": lambda m: branch_ref(m).write_text("not a commit\n"),
    "missing tag": lambda m: git(m, "tag", "-d", f"v{VERSION}"),
    "edited file": edit_file,
    "committed edit": commit_an_edit,
    "untracked file": lambda m: (m / "templates" / "common" / "extra.txt").write_text("x"),
    "deleted objects": delete_objects,
    ".git is a file": lambda m: (shutil.rmtree(m / ".git"), (m / ".git").write_text("gitdir: /x")),
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_a_damaged_mirror_is_repaired_and_projects_stay_updatable(
    scaffold: Any, tmp_path: Path, bundle: Path, damage: Callable[[Path], Any]
) -> None:
    mirror = Path(resolve_template().src)
    assert_in_step(mirror, bundle)
    beside = data_home() / "notes.txt"
    beside.write_text("the user's, beside the mirror")
    damage(mirror)
    result = scaffold("new", "shop", "--defaults", *FAST)
    assert result.code == 0, result.err
    assert "warning" not in result.err
    answers = answers_of(tmp_path / "shop")
    assert (answers["_src_path"], answers["_commit"]) == (str(mirror), f"v{VERSION}")
    assert "# edited by hand" not in (tmp_path / "shop" / ".editorconfig").read_text()
    assert not (tmp_path / "shop" / "extra.txt").exists()
    assert_in_step(mirror, bundle)
    assert beside.read_text() == "the user's, beside the mirror"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder of the user's own, which scaffolder must never delete from."""
    folder = tmp_path / "users"
    (folder / "template" / "src").mkdir(parents=True)
    (folder / "template" / "README.md").write_text("my own template folder")
    (folder / "template" / "src" / "main.py").write_text("print('mine')\n")
    (folder / "a-file").write_text("just a file")
    return folder


SETTINGS = {
    # name: (environment to set, the path named in the error line)
    "SCAFFOLDER_HOME is a file": ({"SCAFFOLDER_HOME": "a-file"}, "a-file"),
    "SCAFFOLDER_HOME holds a foreign template/": ({"SCAFFOLDER_HOME": "."}, "template"),
    "XDG_DATA_HOME is a file": ({"XDG_DATA_HOME": "a-file"}, "a-file"),
    "HOME is a file": ({"HOME": "a-file"}, "a-file"),
}


@pytest.mark.parametrize(("env", "named"), SETTINGS.values(), ids=SETTINGS.keys())
def test_a_data_folder_scaffolder_does_not_own_is_one_line_and_untouched(
    scaffold: Any,
    bundle: Path,
    outside: Path,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    named: str,
) -> None:
    monkeypatch.delenv("SCAFFOLDER_HOME")
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, str(outside / value))
    before = snapshot(outside)
    result = scaffold("new", "shop", "--defaults", *FAST)
    assert result.code == 1
    line = error_line(result)
    assert str(outside / named) in line
    assert "SCAFFOLDER_HOME" in line  # what to do about it
    assert snapshot(outside) == before
    assert not (outside / "shop").exists()


def test_a_home_with_the_users_files_is_refused_and_an_empty_one_used(
    scaffold: Any, tmp_path: Path, bundle: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.rmtree(outside / "template")
    monkeypatch.setenv("SCAFFOLDER_HOME", str(outside))
    before = snapshot(outside)
    result = scaffold("new", "shop", "--defaults", *FAST)
    assert result.code == 1
    assert f"error: {outside} holds files scaffolder did not make" in error_line(result)
    assert snapshot(outside) == before
    assert sorted(p.name for p in outside.iterdir()) == ["a-file"]

    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("SCAFFOLDER_HOME", str(empty))
    result = scaffold("new", "shop", "--defaults", *FAST)
    assert result.code == 0, result.err
    assert answers_of(tmp_path / "shop")["_commit"] == f"v{VERSION}"
    assert_in_step(empty / "template", bundle)


@pytest.fixture
def read_only_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A data folder that cannot be written: a read-only tmpfs (permission bits do not stop
    root), or chmod 555 when not root."""
    home = tmp_path / "data"
    home.mkdir()
    monkeypatch.setenv("SCAFFOLDER_HOME", str(home))
    if mount("-t", "tmpfs", "-o", "size=16m", "tmpfs", str(home)):
        yield home
        subprocess.run(["umount", "-l", str(home)], check=False)
        return
    require(os.getuid() != 0, "as root, only a read-only mount makes a folder read-only; refused")
    home.chmod(0o555)
    yield home
    home.chmod(0o755)


def test_a_read_only_data_folder_renders_without_the_mirror_and_says_so(
    scaffold: Any, tmp_path: Path, bundle: Path, read_only_home: Path
) -> None:
    if subprocess.run(["mountpoint", "-q", str(read_only_home)], check=False).returncode == 0:
        assert mount("-o", "remount,ro", str(read_only_home))
    result = scaffold("new", "shop", "--defaults", *FAST)
    assert result.code == 0, result.err
    warnings = [line for line in result.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, result.err
    assert "`copier update` will not work in this project" in warnings[0]
    answers = answers_of(tmp_path / "shop")
    assert answers["_src_path"] == str(bundle)
    assert "_commit" not in answers


def test_a_read_only_data_folder_with_a_mirror_in_step_is_used(
    scaffold: Any, tmp_path: Path, bundle: Path, read_only_home: Path
) -> None:
    mirror = Path(resolve_template().src)
    assert mirror.parent == read_only_home
    require(
        mount("-o", "remount,ro", str(read_only_home)),
        "the data folder could not be made read-only after building the mirror",
    )
    result = scaffold("new", "shop", "--defaults", *FAST)
    assert result.code == 0, result.err
    assert "warning" not in result.err
    assert answers_of(tmp_path / "shop")["_commit"] == f"v{VERSION}"
