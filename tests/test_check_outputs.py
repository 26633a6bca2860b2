"""`scaffold check` refuses outputs it could not write, and empty shards, before any case runs:
one line on stderr, exit 2, nothing created."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from scaffolder.check.matrix import Scope, pairwise_cases
from scaffolder.registry import Registry

from .conftest import REPO, scaffold_process

# One concrete framework and Python for these option checks: the registry's defaults.
REGISTRY = Registry.load(REPO)
FRAMEWORK, PYTHON = REGISTRY.default_framework, REGISTRY.default_python

# A place nobody can create files in, root included (permission bits do not stop root).
UNWRITABLE = Path("/proc")


def check_fails_fast(tmp_path: Path, *args: str) -> str:
    """Run `scaffold check ARGS`; assert exit 2, one error line, no case started, nothing made."""
    scratch = Path(tempfile.mkdtemp(dir=tmp_path))
    done = scaffold_process(
        "check",
        "-f",
        FRAMEWORK,
        "--python",
        PYTHON,
        *args,
        cwd=tmp_path,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: "), done.stderr
    assert done.stdout == ""  # no progress line: no case ran
    assert list(scratch.iterdir()) == []  # no work folder, no cache
    return lines[0]


def cases_for_the_default(registry: Registry) -> int:
    return len(pairwise_cases(registry, Scope.of(registry, [FRAMEWORK], [PYTHON])))


def test_junit_pointing_to_a_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    line = check_fails_fast(tmp_path, "--junit", str(folder))
    assert f"--junit {folder} is a folder" in line


def test_junit_in_a_read_only_place_is_refused(tmp_path: Path) -> None:
    target = UNWRITABLE / "junit.xml"
    line = check_fails_fast(tmp_path, "--junit", str(target))
    assert f"--junit {target} cannot be written" in line


def test_junit_whose_parent_cannot_be_created_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    line = check_fails_fast(tmp_path, "--junit", str(blocker / "sub" / "junit.xml"))
    assert f"{blocker} is not a folder" in line
    assert blocker.read_text() == "not a folder"

    target = UNWRITABLE / "scaffold-reports" / "junit.xml"
    line = check_fails_fast(tmp_path, "--junit", str(target))
    assert f"--junit {target} cannot be written ({UNWRITABLE})" in line


def test_a_relative_junit_path_is_checked_where_the_user_is(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    line = check_fails_fast(tmp_path, "--junit", "out")
    assert f"--junit {tmp_path / 'out'} is a folder" in line


def test_workdir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "work"
    target.write_text("a file")
    line = check_fails_fast(tmp_path, "--workdir", str(target))
    assert f"--workdir {target} exists and is not a folder" in line
    assert target.read_text() == "a file"


@pytest.mark.parametrize("workdir", [UNWRITABLE, UNWRITABLE / "new" / "work"])
def test_workdir_in_a_read_only_place_is_refused(tmp_path: Path, workdir: Path) -> None:
    line = check_fails_fast(tmp_path, "--workdir", str(workdir))
    assert f"--workdir {workdir} cannot be written" in line


@pytest.mark.parametrize("listing", [False, True])
def test_an_empty_shard_is_refused(tmp_path: Path, registry: Registry, listing: bool) -> None:
    count = cases_for_the_default(registry)
    spec = f"{count + 1}/{count + 10}"
    line = check_fails_fast(tmp_path, "--shard", spec, *(["--list"] if listing else []))
    assert f"--shard {spec} selects no case: the set has only {count}" in line


@pytest.mark.parametrize("spec", ["0/4", "5/4", "2", "a/b"])
def test_a_shard_out_of_range_is_refused(tmp_path: Path, spec: str) -> None:
    line = check_fails_fast(tmp_path, "--shard", spec)
    assert f"--shard {spec!r}" in line


def test_every_shard_up_to_the_case_count_has_a_case(tmp_path: Path, registry: Registry) -> None:
    count = cases_for_the_default(registry)
    done = scaffold_process(
        "check",
        "-f",
        FRAMEWORK,
        "--python",
        PYTHON,
        "--shard",
        f"{count}/{count}",
        "--list",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.split()) == 1


def test_without_excludes_extensions(tmp_path: Path, registry: Registry) -> None:
    names = list(registry.extensions)
    done = scaffold_process(
        "check", "-f", FRAMEWORK, "--without", ",".join(names), "--list", "--json", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    cases = json.loads(done.stdout)["cases"]
    assert cases
    assert all(case["extensions"] == [] for case in cases)
    clash = check_fails_fast(tmp_path, "--with", names[0], "--without", names[0])
    assert f"--with and --without both name {names[0]}" in clash
