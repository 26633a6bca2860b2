"""What used to come out as "unexpected X" (or not at all) is one clear line with its exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scaffolder import toolchain

from .test_cli import FAST, error_line


def test_a_config_answer_of_the_wrong_type_is_one_line(scaffold: Any, tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[data]\npackage_name = 42\n")
    result = scaffold("new", "shop", "--config", "config.toml", "--defaults", *FAST)
    assert result.code == 2
    assert error_line(result) == "error: package_name must be text, not 42"
    assert not (tmp_path / "shop").exists()


@pytest.mark.parametrize("option", ["--template", "--config"])
def test_a_symlink_loop_given_as_a_file_is_one_line(
    scaffold: Any, tmp_path: Path, option: str
) -> None:
    (tmp_path / "loop").symlink_to("loop")
    result = scaffold("new", "shop", option, "loop", "--defaults", *FAST)
    assert result.code in {1, 2}
    line = error_line(result)
    assert "loop" in line
    assert "unexpected" not in line
    assert not (tmp_path / "shop").exists()


@pytest.mark.parametrize("args", [["list"], ["list", "--json"], ["--help"], ["new", "--help"]])
def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path, args: list[str]) -> None:
    """`scaffold list | head -1`: the reader is gone before scaffold writes; no traceback, no
    "Exception ignored", and the exit status a shell expects of a writer to a closed pipe."""
    run = subprocess.Popen(
        [sys.executable, "-m", "scaffolder", *args],
        cwd=tmp_path,
        env=toolchain.tool_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert run.stdout is not None
    assert run.stderr is not None
    run.stdout.close()  # long before the interpreter has started
    err = run.stderr.read().decode()
    assert run.wait(timeout=60) == 141, err
    assert err == ""


def test_head_reads_the_first_line_and_the_pipeline_succeeds(tmp_path: Path) -> None:
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {sys.executable} -m scaffolder list | head -1"],
        cwd=tmp_path,
        env=toolchain.tool_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout.strip(), done.stderr
    assert done.stderr == ""
    assert done.returncode in {0, 141}


@pytest.mark.parametrize(
    ("errno_", "inside", "expected"),
    [
        (13, False, "error: cannot read the template at /templates/x.jinja: permission denied"),
        (
            30,
            True,
            "error: cannot write the project for {dest} (README.md): read-only file system",
        ),
        (40, True, "error: cannot write the project for {dest} (README.md): a symbolic link loop"),
    ],
    ids=["template-unreadable", "read-only", "loop"],
)
def test_an_os_error_says_what_failed_on_what(
    scaffold: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    errno_: int,
    inside: bool,
    expected: str,
) -> None:
    import copier

    def fails(src: str, dst: Path, **kwargs: Any) -> Any:
        where = Path(dst) / "README.md" if inside else Path("/templates/x.jinja")
        raise OSError(errno_, os.strerror(errno_), str(where))

    monkeypatch.setattr(copier, "run_copy", fails)
    result = scaffold("new", "shop", "--defaults", *FAST)
    assert result.code == 1
    assert error_line(result) == expected.format(dest=tmp_path / "shop")
    assert list(tmp_path.iterdir()) == []
