"""Where a project lands: the destination however it is spelled, races for it, --force merges,
mount points, signals and the staging folders a killed run leaves. Nothing the user has is ever
lost, and a project lands complete or not at all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scaffolder import render as render_module
from scaffolder import toolchain

from .conftest import mount, require, snapshot
from .test_cli import FAST, answers_of, error_line

STAGING = ".*.scaffold-*"


@dataclass
class Result:
    err: str
    out: str = ""


def rendered(project: Path) -> dict[str, bytes]:
    """The project's files; `_commit` varies between renders of a checkout with edits."""
    files = snapshot(project)
    answers = files.get(".copier-answers.yml", b"").splitlines(keepends=True)
    files[".copier-answers.yml"] = b"".join(a for a in answers if not a.startswith(b"_commit:"))
    return files


def leftovers(folder: Path) -> list[str]:
    """Staging folders left anywhere under `folder`."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(STAGING))


@pytest.fixture
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """What `scaffold new shop --defaults --no-lock --no-git` renders, file by file."""
    from scaffolder import cli

    where = tmp_path_factory.mktemp("reference")
    before = Path.cwd()
    os.chdir(where)
    try:
        assert cli.run(["new", "shop", "--defaults", *FAST]) == 0
    finally:
        os.chdir(before)
    return rendered(where / "shop")


# -- the destination, however it is spelled -------------------------------------------------


def test_dot_dot_in_the_path_cannot_sneak_past_the_emptiness_check(
    scaffold: Any, tmp_path: Path
) -> None:
    (tmp_path / "userproj").mkdir()
    (tmp_path / "userproj" / "README.md").write_text("mine")
    before = snapshot(tmp_path)
    result = scaffold("new", "newdir/../userproj", "--defaults", *FAST)
    assert result.code == 2
    assert "exists and is not empty" in error_line(result)
    assert snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["userproj"]  # no newdir either


def test_a_symlink_to_a_folder_is_that_folder(scaffold: Any, tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to("real")
    result = scaffold("new", "link", "--name", "shop", "--defaults", *FAST)
    assert result.code == 0, result.err
    assert (tmp_path / "link").is_symlink()
    assert answers_of(tmp_path / "real")["project_name"] == "shop"

    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    (tmp_path / "link2").symlink_to("full")
    before = snapshot(tmp_path / "full")
    result = scaffold("new", "link2", "--name", "shop", "--defaults", *FAST)
    assert result.code == 2
    assert "exists and is not empty" in error_line(result)
    assert snapshot(tmp_path / "full") == before
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.symlink_to("missing-target"), "is a symbolic link to missing-target"),
        (lambda p: p.symlink_to(p.name), "a symbolic link loop"),
    ],
    ids=["dangling", "loop"],
)
def test_a_broken_symlink_destination_is_one_line(
    scaffold: Any, tmp_path: Path, make: Any, message: str
) -> None:
    make(tmp_path / "shop")
    result = scaffold("new", "shop", "--defaults", *FAST)
    assert result.code == 1
    assert message in error_line(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop"]


def test_a_long_folder_name_works(scaffold: Any, tmp_path: Path) -> None:
    name = "s" * 250  # the longest a file system takes is 255 bytes
    result = scaffold("new", name, "--name", "shop", "--defaults", *FAST)
    assert result.code == 0, result.err
    assert answers_of(tmp_path / name)["project_name"] == "shop"
    (tmp_path / ("é" * 120)).mkdir()  # an existing folder, multi-byte name: staged inside it
    result = scaffold("new", "é" * 120, "--name", "shop", "--defaults", *FAST)
    assert result.code == 0, result.err
    assert leftovers(tmp_path) == []


# -- the final move never merges over anything ----------------------------------------------


def fill_while_rendering(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Someone creates (or fills) `folder` while Copier renders."""
    import copier

    real = copier.run_copy

    def and_meanwhile(src: str, dst: Path, **kwargs: Any) -> Any:
        real(src, dst, **kwargs)
        folder.mkdir(exist_ok=True)
        (folder / "theirs.txt").write_text("written meanwhile")

    monkeypatch.setattr(copier, "run_copy", and_meanwhile)


@pytest.mark.parametrize("exists", [False, True], ids=["new-folder", "empty-folder"])
def test_a_folder_filled_while_rendering_is_never_merged_over(
    scaffold: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exists: bool
) -> None:
    shop = tmp_path / "shop"
    if exists:
        shop.mkdir()
    fill_while_rendering(monkeypatch, shop)
    result = scaffold("new", "shop", "--defaults", *FAST)
    assert result.code == 1
    assert "nothing was written" in error_line(result)
    assert snapshot(shop) == {"theirs.txt": b"written meanwhile"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop"]
    assert leftovers(tmp_path) == []


def cli_process(*args: str, cwd: Path, slow: bool = False) -> subprocess.Popen[str]:
    """`scaffold ARGS` as a real process; with `slow`, it sleeps after Copier has rendered.

    SIGINT first gets Python's own handler, unblocked, as in a terminal's foreground process. A
    child inherits an ignored or blocked SIGINT from its parent (a background job of a
    non-interactive shell starts with SIGINT ignored), and the CLI leaves an ignored SIGINT
    ignored, as Python does: under the full suite in CI, a Ctrl-C to this child once had no
    effect at all (the render finished after the test's 60 s timeout).
    """
    code = (
        "import signal\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])\n"
        "import sys\nfrom scaffolder.cli import main\n"
    )
    if slow:
        code = (
            "import time, copier\nreal = copier.run_copy\n"
            "def slow(*a, **k):\n    real(*a, **k)\n    time.sleep(120)\n"
            "copier.run_copy = slow\n" + code
        )
    return subprocess.Popen(
        [sys.executable, "-c", code + "main()", *args],
        cwd=cwd,
        env=toolchain.tool_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("exists", [False, True], ids=["new-folder", "empty-folder"])
def test_two_runs_racing_for_one_folder_one_wins_whole(
    tmp_path: Path, reference: dict[str, bytes], exists: bool
) -> None:
    for round_ in range(6):
        here = tmp_path / f"round{round_}"
        (here / "shop").mkdir(parents=True) if exists else here.mkdir()
        runs = [cli_process("new", "shop", "--defaults", *FAST, cwd=here) for _ in range(2)]
        results = [(run.wait(timeout=120), *run.communicate()) for run in runs]
        codes = sorted(code for code, _, _ in results)
        assert codes[0] == 0, results
        assert codes[1] != 0, results
        loser = next(err for code, _, err in results if code != 0)
        assert "Traceback" not in loser
        error_line(Result(loser))
        assert rendered(here / "shop") == reference
        assert leftovers(here) == []


# -- --force ---------------------------------------------------------------------------------


def test_force_into_an_unrecognised_git_repository_never_touches_git(
    scaffold: Any, tmp_path: Path
) -> None:
    """git refuses a repository owned by someone else ("dubious ownership"), so scaffold cannot
    see it is inside one; its .git must stay untouched all the same."""
    project = tmp_path / "shop"
    project.mkdir()
    subprocess.run(["git", "init", "--quiet"], cwd=project, check=True)
    (project / "notes.txt").write_text("mine")
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run(["git", "commit", "--quiet", "-m", "mine"], cwd=project, check=True)
    if os.getuid() == 0:
        subprocess.run(["chown", "-R", "12345:12345", str(project)], check=True)
        refused = subprocess.run(
            ["git", "status"], cwd=project, capture_output=True, text=True, check=False
        )
        assert "dubious ownership" in refused.stderr
    git_before = snapshot(project / ".git")
    result = scaffold("new", "shop", "--defaults", "--force", "--no-lock")
    assert result.code == 0, result.err
    assert snapshot(project / ".git") == git_before
    assert (project / "src" / "shop" / "app.py").is_file()
    assert (project / "notes.txt").read_text() == "mine"
    assert leftovers(tmp_path) == []


def test_render_refuses_to_write_into_an_existing_git(tmp_path: Path, template: Any) -> None:
    """Below the CLI too: a finisher's .git never merges into the destination's."""
    from scaffolder.errors import DestinationError

    project = tmp_path / "shop"
    (project / ".git").mkdir(parents=True)
    (project / ".git" / "config").write_text("[core]\n")
    before = snapshot(tmp_path)

    def git_init(staging: Path) -> None:
        subprocess.run(["git", "init", "--quiet"], cwd=staging, check=True)

    answers = {"project_name": "shop", "package_name": "shop", "framework": "flask"}
    with pytest.raises(DestinationError, match=r"already has \.git"):
        render_module.render(template, answers, project, force=True, finish=git_init)
    assert snapshot(tmp_path) == before
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("src", "is a symbolic link where the template puts a folder"),
        ("README.md", "is a symbolic link where the template puts a file"),
        ("src/shop/app.py/", "is a folder in the way of the template's own file"),
        ("tests", "is a file in the way of the template's own folder"),
    ],
)
def test_force_checks_every_target_before_touching_any(
    scaffold: Any, tmp_path: Path, where: str, message: str
) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    (project / "pyproject.toml").write_text("# mine, would be replaced\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not the template's")
    target = project / where.rstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    if where.endswith("/"):
        target.mkdir()
    elif where == "src":
        target.symlink_to(tmp_path / "nowhere")  # dangling, where a folder goes
    elif where == "README.md":
        target.symlink_to(outside / "secret.txt")
    else:
        target.write_text("a file")
    before = snapshot(tmp_path)
    result = scaffold("new", "shop", "--defaults", "--force", *FAST)
    assert result.code == 1
    assert message in error_line(result)
    assert snapshot(tmp_path) == before
    assert leftovers(tmp_path) == []


def test_force_undoes_its_moves_when_one_fails(
    scaffold: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "shop"
    (project / "src").mkdir(parents=True)
    (project / "README.md").write_text("old readme")
    (project / "pyproject.toml").write_text("# old\n")
    (project / "notes.txt").write_text("mine")
    before = snapshot(tmp_path)
    real = render_module._move_no_replace
    calls: list[Path] = []

    def fails_late(source: Path, target: Path) -> None:
        calls.append(target)
        if target.name == "pyproject.toml":  # README.md was replaced before it
            raise OSError(5, "Input/output error", str(target))
        real(source, target)

    monkeypatch.setattr(render_module, "_move_no_replace", fails_late)
    result = scaffold("new", "shop", "--defaults", "--force", *FAST)
    assert (project / "README.md") in calls
    assert result.code == 1
    assert error_line(result) == (
        f"error: cannot move the project into {project} ({calls[-1]}): input/output error"
    )
    assert snapshot(tmp_path) == before
    assert sorted(p.name for p in project.iterdir()) == [
        "README.md",
        "notes.txt",
        "pyproject.toml",
        "src",
    ]


# -- mount points and read-only parents -------------------------------------------------------


@pytest.fixture
def mounts() -> Iterator[list[Path]]:
    """Mount points to unmount at the end, innermost first."""
    made: list[Path] = []
    yield made
    for point in reversed(made):
        subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)


def test_new_dot_in_an_empty_mount_point(
    scaffold: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mounts: list[Path]
) -> None:
    """A Docker volume or devcontainer workspace: the parent is another file system."""
    volume = tmp_path / "workspace"
    volume.mkdir()
    require(
        mount("-t", "tmpfs", "-o", "size=64m", "tmpfs", str(volume)),
        "mounting a tmpfs is not permitted here (needs root or CAP_SYS_ADMIN)",
    )
    mounts.append(volume)
    assert volume.stat().st_dev != tmp_path.stat().st_dev
    monkeypatch.chdir(volume)
    result = scaffold("new", ".", "--name", "shop", "--defaults", *FAST)
    assert result.code == 0, result.err
    assert answers_of(volume)["project_name"] == "shop"
    assert leftovers(volume) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["workspace"]


def test_an_empty_writable_folder_under_a_read_only_parent(
    scaffold: Any, tmp_path: Path, mounts: list[Path]
) -> None:
    parent = tmp_path / "readonly"
    parent.mkdir()
    require(
        mount("-t", "tmpfs", "-o", "size=64m", "tmpfs", str(parent)),
        "mounting a tmpfs is not permitted here (needs root or CAP_SYS_ADMIN)",
    )
    mounts.append(parent)
    project = parent / "shop"
    project.mkdir()
    assert mount("--bind", str(project), str(project))
    mounts.append(project)
    assert mount("-o", "remount,bind,ro", str(parent))
    with pytest.raises(OSError, match="Read-only"):
        (parent / "probe").mkdir()
    result = scaffold("new", str(project), "--defaults", *FAST)
    assert result.code == 0, result.err
    assert (project / "src" / "shop" / "app.py").is_file()
    assert sorted(p.name for p in parent.iterdir()) == ["shop"]
    assert leftovers(project) == []


def test_a_cross_device_move_says_so(
    scaffold: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OSError says what failed (moving, not "writing") and why."""

    def cross_device(self: Path, target: Path) -> None:
        raise OSError(18, "Invalid cross-device link", str(self), str(target))

    monkeypatch.setattr(Path, "rename", cross_device)
    result = scaffold("new", "shop", "--defaults", *FAST)
    assert result.code == 1
    line = error_line(result)
    assert line.startswith(f"error: cannot move the project into {tmp_path / 'shop'}")
    assert line.endswith(": it is on another file system")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# -- signals and the staging folders of killed runs --------------------------------------------


def wait_for_staged_project(here: Path, run: subprocess.Popen[str]) -> Path:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        staged = list(here.glob(f"{STAGING}/project/pyproject.toml"))
        if staged:
            return staged[0].parent.parent
        assert run.poll() is None, run.communicate()
        time.sleep(0.05)
    raise AssertionError("the render never reached its staging folder")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_mid_render_removes_the_staging_folder(
    tmp_path: Path, signum: signal.Signals
) -> None:
    (tmp_path / "keep.txt").write_text("user file")
    run = cli_process("new", "deep/shop", "--defaults", *FAST, cwd=tmp_path, slow=True)
    wait_for_staged_project(tmp_path / "deep", run)
    run.send_signal(signum)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 128 + signum, err
    expected = "interrupted" if signum == signal.SIGINT else f"interrupted by {signum.name}"
    assert error_line(Result(err)) == f"error: {expected}; nothing was written"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]  # no deep/, no staging


@pytest.mark.parametrize("move_fails", [False, True], ids=["move-succeeds", "move-fails"])
def test_a_signal_during_the_final_move_waits_for_it(
    scaffold: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    reference: dict[str, bytes],
    move_fails: bool,
) -> None:
    """The move is not cut short: a complete project is a success; an undone move, with the
    signal delivered after it, is an interrupt that wrote nothing."""
    require(
        threading.current_thread() is threading.main_thread(),
        "signal handlers can only be installed from the main thread",
    )
    real = render_module._move_into_place

    def signalled(*args: Any, **kwargs: Any) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.2)  # an unheld signal's handler would run by now, mid-move
        if move_fails:
            raise render_module.DestinationError("the move failed")
        real(*args, **kwargs)

    monkeypatch.setattr(render_module, "_move_into_place", signalled)
    result = scaffold("new", "shop", "--defaults", *FAST)
    if move_fails:
        assert result.code == 128 + signal.SIGTERM
        assert error_line(result) == "error: interrupted by SIGTERM; nothing was written"
        assert list(tmp_path.iterdir()) == []
    else:
        assert result.code == 0, result.err
        assert rendered(tmp_path / "shop") == reference
        assert leftovers(tmp_path) == []


def test_a_killed_run_is_swept_by_the_next_and_nothing_else_is(tmp_path: Path) -> None:
    run = cli_process("new", "shop", "--defaults", *FAST, cwd=tmp_path, slow=True)
    staged = wait_for_staged_project(tmp_path, run)
    run.kill()
    run.communicate()
    marker = json.loads((staged / render_module.MARKER).read_text())
    assert marker["pid"] == run.pid

    # Look-alikes that are not a dead run's staging folder for this destination: all are kept.
    alive = tmp_path / ".shop.scaffold-alive"
    alive.mkdir()
    (alive / render_module.MARKER).write_text(json.dumps({**marker, "pid": os.getpid()}))
    other = tmp_path / ".shop.scaffold-other"
    other.mkdir()
    (other / render_module.MARKER).write_text(
        json.dumps({**marker, "destination": str(tmp_path / "elsewhere" / "shop")})
    )
    unmarked = tmp_path / ".shop.scaffold-mine"
    unmarked.mkdir()
    (unmarked / "notes.txt").write_text("a user's folder with an unlucky name")
    linked = tmp_path / ".shop.scaffold-link"
    linked.symlink_to(staged)
    kept = {p.name for p in (alive, other, unmarked, linked)}

    result = subprocess.run(
        [sys.executable, "-m", "scaffolder", "new", "shop", "--defaults", *FAST],
        cwd=tmp_path,
        env=toolchain.tool_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert not staged.exists()
    assert {p.name for p in tmp_path.iterdir()} == {"shop", *kept}
    assert (unmarked / "notes.txt").read_text() == "a user's folder with an unlucky name"


def test_an_old_staging_folder_is_stale_even_if_its_pid_is_reused(tmp_path: Path) -> None:
    destination = tmp_path / "shop"
    old = tmp_path / ".shop.scaffold-old"
    old.mkdir()
    marker = {
        "pid": os.getppid(),  # alive
        "host": "this-host",
        "started": time.time() - render_module.STALE_AFTER - 60,
        "destination": str(destination),
    }
    (old / render_module.MARKER).write_text(json.dumps(marker))
    recent = tmp_path / ".shop.scaffold-recent"
    recent.mkdir()
    (recent / render_module.MARKER).write_text(json.dumps({**marker, "started": time.time()}))
    assert render_module.sweep_stale_staging(destination) == [old]
    assert recent.is_dir()


def test_a_killed_run_inside_an_existing_folder_neither_blocks_nor_ships(tmp_path: Path) -> None:
    """Staged inside an existing empty folder and killed: the folder still counts as empty for
    the next run, and the leftover is swept rather than shipped inside the new project."""
    (tmp_path / "shop").mkdir()
    run = cli_process("new", "shop", "--defaults", *FAST, cwd=tmp_path, slow=True)
    staged = wait_for_staged_project(tmp_path / "shop", run)
    run.kill()
    run.communicate()
    assert staged.parent == tmp_path / "shop"
    again = cli_process("new", "shop", "--defaults", *FAST, cwd=tmp_path)
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert not staged.exists()
    assert leftovers(tmp_path) == []
    assert (tmp_path / "shop" / "src" / "shop" / "app.py").is_file()
