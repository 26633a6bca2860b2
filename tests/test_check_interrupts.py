"""Interrupting `scaffold check` with real signals at several moments.

A real `scaffold check` process is started; when its child for a given step appears (the render
worker, `uv sync`, pytest, the production server) it gets SIGINT (as Ctrl-C sends it to the
terminal's process group), a second SIGINT, SIGTERM or SIGHUP. Then: the command exits
128 + the signal within seconds, says on its last line what it stopped, removed or kept,
queued cases never started, no process it started is left (nothing listens on the server's
port), and no folder it made is left unless --keep.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from scaffolder import toolchain
from scaffolder.registry import Registry

pytestmark = pytest.mark.starter

Matcher = Callable[[str], bool]


def processes_using(path: Path, *, besides: int) -> dict[int, str]:
    """Live processes whose working directory or command line mentions `path`."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == besides:
            continue
        try:
            if (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z":
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = str((entry / "cwd").readlink())
        except OSError:
            continue
        if str(path) in cwd or str(path) in command:
            found[int(entry.name)] = command
    return found


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Check:
    """`scaffold check` on the first frameworks, bare, one at a time, in `work`."""

    def __init__(self, tmp_path: Path, registry: Registry, *extra: str, cases: int = 3) -> None:
        self.work = tmp_path / "out" / "work"  # neither exists: the check makes both
        self.scratch = tmp_path / "tmp"
        self.scratch.mkdir()
        self.frameworks = list(registry.frameworks)[:cases]
        args = [
            *(arg for name in self.frameworks for arg in ("-f", name)),
            "--python",
            "3.12",
            "--without",
            ",".join(registry.extensions),
            "--jobs",
            "1",
            "--workdir",
            str(self.work),
            *extra,
        ]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scaffolder", "check", *args],
            cwd=tmp_path,
            env=toolchain.tool_env({**os.environ, "TMPDIR": str(self.scratch)}),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own group, as a shell job is
        )

    def children(self) -> dict[int, str]:
        return processes_using(self.work, besides=self.process.pid)

    def wait_for(self, matches: Matcher, timeout: float = 180) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for command in self.children().values():
                if matches(command):
                    return command
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        out, err = self.process.communicate()
        raise AssertionError(f"no such child appeared:\n{out}\n{err}")

    def signal(self, sig: signal.Signals) -> None:
        if sig == signal.SIGINT:
            os.killpg(self.process.pid, sig)  # what Ctrl-C does: the whole foreground group
        else:
            os.kill(self.process.pid, sig)

    def finish(self, timeout: float = 30) -> tuple[str, str]:
        return self.process.communicate(timeout=timeout)


def step_matchers(registry: Registry) -> dict[str, Matcher]:
    server = registry.framework(next(iter(registry.frameworks))).server
    executable = server.command(host="127.0.0.1", port=1, package="p")[0]
    return {
        "render": lambda command: "scaffolder.check.render_worker" in command,
        "install": lambda command: " sync " in command and "--python" in command,
        "pytest": lambda command: " -m pytest" in command,
        "serve": lambda command: f"/{executable} " in command or command.startswith(executable),
    }


def port_of(command: str) -> int | None:
    found = re.search(r"127\.0\.0\.1:(\d+)|--port[ =](\d+)", command)
    return int(next(group for group in found.groups() if group)) if found else None


@pytest.mark.parametrize(
    ("moment", "signals"),
    [
        ("render", [signal.SIGINT]),
        ("install", [signal.SIGTERM]),
        ("pytest", [signal.SIGHUP]),
        ("serve", [signal.SIGTERM]),
        ("serve", [signal.SIGINT, signal.SIGINT]),
    ],
    ids=["render-INT", "install-TERM", "pytest-HUP", "serve-TERM", "serve-INT-INT"],
)
def test_an_interrupt_stops_everything_and_removes_what_it_made(
    tmp_path: Path, registry: Registry, moment: str, signals: list[signal.Signals]
) -> None:
    check = Check(tmp_path, registry)
    command = check.wait_for(step_matchers(registry)[moment])
    port = port_of(command) if moment == "serve" else None
    started = time.monotonic()
    for sig in signals:
        check.signal(sig)
        time.sleep(0.2)
    out, err = check.finish()
    assert time.monotonic() - started < 20, "it did not stop promptly"
    assert check.process.returncode == 128 + signals[0], out + err

    last = err.strip().splitlines()[-1]
    name = signals[0].name
    total = len(check.frameworks)
    assert last == (
        f"error: interrupted by {name}: 0 case(s) finished, 1 stopped, {total - 1} not started; "
        f"removed {check.work.parent} (use --keep to keep case folders)"
    ), out + err
    assert "Traceback" not in err
    assert check.children() == {}  # no server, uv, pytest or worker left
    if port is not None:
        assert not listening(port)
    assert not check.work.parent.exists()
    assert list(check.scratch.glob("scaffold-check-*")) == []  # nor its bytecode cache


def test_with_keep_finished_cases_stay_and_the_unfinished_one_goes(
    tmp_path: Path, registry: Registry
) -> None:
    check = Check(tmp_path, registry, "--keep", cases=3)
    first, second = check.frameworks[:2]
    # Wait for the second case's pytest: the first has finished by then.
    check.wait_for(lambda command: " -m pytest" in command and f"/{second}-" in command)
    check.signal(signal.SIGINT)
    out, err = check.finish()
    assert check.process.returncode == 130, out + err
    assert err.strip().splitlines()[-1] == (
        "error: interrupted by SIGINT: 1 case(s) finished, 1 stopped, 1 not started; "
        f"removed the stopped cases' folders; kept 1 finished case folder(s) in {check.work}"
    )
    kept = sorted(path.name for path in check.work.iterdir())
    assert len(kept) == 1
    assert kept[0].startswith(f"{first}-")
    assert (check.work / kept[0] / "check-starter" / "pyproject.toml").is_file()
    assert check.children() == {}


def test_ctrl_c_on_a_terminal(tmp_path: Path, registry: Registry) -> None:
    """Ctrl-C in a real terminal (a pty), with the live progress bar showing the step."""
    import pexpect

    work = tmp_path / "work"
    framework = next(iter(registry.frameworks))
    args = ["check", "-f", framework, "--python", "3.12", "--workdir", str(work)]
    child = pexpect.spawn(
        sys.executable,
        ["-m", "scaffolder", *args, "--without", ",".join(registry.extensions)],
        cwd=tmp_path,
        env=toolchain.tool_env({**os.environ, "TERM": "xterm", "COLUMNS": "160"}),
        encoding="utf-8",
        timeout=180,
        dimensions=(40, 160),
    )
    child.expect(f"{framework}-py3.12-bare: pytest")
    started = time.monotonic()
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
    child.close()
    assert time.monotonic() - started < 20
    assert child.exitstatus == 130
    assert "error: interrupted by SIGINT: 0 case(s) finished, 1 stopped, 0 not started" in (
        child.before
    )
    assert not work.exists()
    assert processes_using(work, besides=child.pid) == {}
