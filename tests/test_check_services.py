"""`scaffold check`'s services: a real PostgreSQL on loopback, a database per case, stopped and
removed after (also on an interrupt); a missing server is one line and no case runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scaffolder import toolchain
from scaffolder.check import services as services_module
from scaffolder.check.matrix import Case
from scaffolder.check.services import Services, postgres_bindir
from scaffolder.check.steps import CaseRunner, Children
from scaffolder.registry import Registry
from scaffolder.template import TemplateSource

from .conftest import require
from .test_check_interrupts import listening


def needing_a_service(registry: Registry) -> list[str]:
    """Extensions whose starters need a server (postgres), from the registry."""
    return [name for name, ext in registry.extensions.items() if ext.services]


def server_processes(marker: str) -> dict[int, str]:
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if marker in command and state != "Z":
            found[int(entry.name)] = command
    return found


def test_postgresql_gives_each_case_its_own_database_and_goes_away(registry: Registry) -> None:
    bindir = postgres_bindir()
    require(bindir, "PostgreSQL is not installed (the postgresql package)")
    assert bindir is not None
    extension = needing_a_service(registry)[0]
    children = Children()
    with Services(registry, children) as services:
        services.start(services.needed([extension]))
        server = services.postgresql
        assert server is not None
        first = services.environment([extension], "case one")
        second = services.environment([extension], "case one")
        assert (
            first.keys()
            == second.keys()
            == {setting.env for setting in registry.extensions[extension].settings}
        )
        urls = [*first.values(), *second.values()]
        assert len(set(urls)) == 2  # a database per case, even for the same case id
        for url in urls:
            assert url.startswith(("postgresql+psycopg://", "postgresql://"))
            assert f"@127.0.0.1:{server.port}/" in url
            # The database exists and answers, through the URL the case gets.
            done = subprocess.run(
                [str(bindir / "psql"), url.replace("+psycopg", ""), "-Atc", "select 1"],
                capture_output=True,
                text=True,
                check=False,
            )
            assert (done.returncode, done.stdout.strip()) == (0, "1"), done.stderr
        assert listening(server.port)
        base, port = server.base, server.port
        if os.geteuid() == 0:  # initdb refuses root: the server runs as another user
            owner = base.stat().st_uid
            assert owner != 0
        # Bound to loopback only.
        assert "listen_addresses=127.0.0.1" in " ".join(server_processes(str(base)).values())
    assert services.postgresql is None
    assert not base.exists()
    assert not listening(port)
    assert server_processes(str(base)) == {}


def test_a_missing_postgresql_is_one_line_and_no_case_runs(
    scaffold: object,
    registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(services_module, "postgres_bindir", lambda: None)
    extension = needing_a_service(registry)[0]
    work = tmp_path / "work"
    result = scaffold(  # type: ignore[operator]
        "check", "--with", extension, "--python", registry.default_python, "--workdir", str(work)
    )
    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "install the postgresql package" in lines[0]
    assert f"--without {extension}" in lines[0]
    assert "Traceback" not in result.err + result.out
    assert not work.exists()  # nothing rendered, nothing made


def test_a_case_whose_service_was_not_started_fails_at_services(
    template: TemplateSource, registry: Registry, tmp_path: Path
) -> None:
    extension = needing_a_service(registry)[0]
    case = Case(registry.default_framework, registry.default_python, (extension,))
    result = CaseRunner(template, registry, tmp_path).verify(case, tmp_path / "never-rendered")
    assert [(step.name, step.passed) for step in result.steps] == [("services", False)]
    assert "started no postgresql" in result.steps[0].output
    assert not result.passed


@pytest.mark.starter
def test_an_interrupt_stops_the_postgresql_it_started(tmp_path: Path, registry: Registry) -> None:
    require(postgres_bindir(), "PostgreSQL is not installed (the postgresql package)")
    extension = needing_a_service(registry)[0]
    before = set(server_processes("scaffold-check-postgresql-"))
    work = tmp_path / "work"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scaffolder",
            "check",
            "-f",
            registry.default_framework,
            "--python",
            registry.default_python,
            "--with",
            extension,
            "--shard",
            "1/99",
            "--workdir",
            str(work),
        ],
        cwd=tmp_path,
        env=toolchain.tool_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    started: dict[int, str] = {}
    while time.monotonic() < deadline and process.poll() is None:
        started = {
            pid: command
            for pid, command in server_processes("scaffold-check-postgresql-").items()
            if pid not in before
        }
        if started and work.exists():
            break
        time.sleep(0.1)
    assert started, process.communicate()
    base = next(
        Path(part).parent
        for command in started.values()
        for part in command.split()
        if part.endswith("/data")
    )
    os.kill(process.pid, signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, out + err
    assert "Traceback" not in err
    assert server_processes(str(base)) == {}
    assert not base.exists()


def test_a_case_without_services_goes_straight_to_install(
    template: TemplateSource, registry: Registry, tmp_path: Path
) -> None:
    """No services step when no extension needs one, and the install step is never skipped."""
    case = Case(registry.default_framework, registry.default_python, ())
    result = CaseRunner(template, registry, tmp_path).verify(case, tmp_path / "never-rendered")
    assert [step.name for step in result.steps] == ["install"]
    assert not result.passed
