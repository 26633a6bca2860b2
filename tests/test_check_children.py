"""The child processes of `scaffold check`: whole process groups stop, nothing starts after a
stop; interpreter lookups say what failed and are asked again after a failure."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scaffolder import toolchain
from scaffolder.check.steps import Children, Stopped

# A child that starts a grandchild in its own group and prints the grandchild's PID.
SPAWNER = (
    "import subprocess, sys, time; "
    "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
    "print(p.pid, flush=True); time.sleep(60)"
)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def gone(pid: int, within: float = 5.0) -> bool:
    """True once `pid` has exited: a SIGKILL is delivered when the kernel next schedules it."""
    deadline = time.monotonic() + within
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def wait_for_line(path: Path, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        if text.endswith("\n"):
            return text.strip()
        time.sleep(0.05)
    raise AssertionError(f"no line in {path} within {timeout} s")


def test_a_timeout_stops_the_whole_process_group(tmp_path: Path) -> None:
    children = Children()
    started = time.monotonic()
    code, output = children.run(
        [sys.executable, "-c", SPAWNER], tmp_path, dict(os.environ), timeout=3
    )
    assert code is None
    assert time.monotonic() - started < 20
    grandchild = int(output.split()[0])
    assert gone(grandchild)


def test_stop_all_ends_every_group_and_refuses_new_children(tmp_path: Path) -> None:
    children = Children()
    out = tmp_path / "out"
    with out.open("w") as handle:
        leader = children.popen([sys.executable, "-c", SPAWNER], stdout=handle)
    grandchild = int(wait_for_line(out))
    assert os.getpgid(leader.pid) == leader.pid  # a group of its own
    children.stop_all(grace=5)
    assert leader.poll() is not None
    assert gone(grandchild)
    with pytest.raises(Stopped):
        children.popen([sys.executable, "-c", "pass"])


STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"
)


@pytest.mark.parametrize("second_signal", [False, True])
def test_stop_all_kills_what_ignores_sigterm(tmp_path: Path, second_signal: bool) -> None:
    """SIGKILL after the grace period, or at once when hurried (a second Ctrl-C)."""
    children = Children()
    out = tmp_path / "out"
    with out.open("w") as handle:
        leader = children.popen([sys.executable, "-c", STUBBORN], stdout=handle)
    wait_for_line(out)
    started = time.monotonic()
    children.stop_all(grace=30 if second_signal else 1, hurry=lambda: second_signal)
    assert leader.returncode == -9
    assert time.monotonic() - started < (3 if second_signal else 10)


def test_a_missing_python_says_so_and_is_not_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(toolchain, "_pythons", {})  # nothing found earlier in this process
    real_uv_bin = toolchain.uv_bin
    with pytest.raises(toolchain.ToolchainError, match=r"Python 2\.1 is not installed here \(uv: "):
        toolchain.python_path("2.1")

    def no_uv() -> str:
        raise FileNotFoundError("uv is not installed: pip install uv")

    monkeypatch.setattr(toolchain, "uv_bin", no_uv)
    with pytest.raises(toolchain.ToolchainError, match=r"cannot look for Python 3\.12: uv is not"):
        toolchain.python_path("3.12")
    assert toolchain.find_python("3.12") is None
    monkeypatch.setattr(toolchain, "uv_bin", real_uv_bin)
    # The failure above was not cached: once uv is back, the interpreter is found.
    found = toolchain.python_path("3.12")
    assert Path(found).is_file()
    assert (
        subprocess.run(
            [found, "-c", "import sys; print(sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        == "(3, 12)"
    )


def test_a_lookup_that_hangs_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    def hang(*args: object, **kwargs: object) -> None:
        raise subprocess.TimeoutExpired("uv", toolchain.FIND_TIMEOUT)

    monkeypatch.setattr(toolchain.subprocess, "run", hang)
    monkeypatch.setattr(toolchain, "_pythons", {})
    with pytest.raises(toolchain.ToolchainError, match="did not answer within 60 s"):
        toolchain.python_path("3.13")
