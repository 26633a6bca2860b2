"""`scaffold check --docker`: its failure paths against a real engine (a build that fails, a
container that never answers), one line without an engine, and the compose override it writes.

The passing path (every framework's default image, compose with PostgreSQL) runs in
tests/test_check.py's default matrix, which adds `--docker` (see tests/dockerenv.py).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from scaffolder.check import docker as docker_module
from scaffolder.check.docker import DockerOptions, DockerStep, sweep
from scaffolder.check.matrix import Case
from scaffolder.check.steps import Children
from scaffolder.registry import Registry

from .conftest import scaffold_process
from .dockerenv import NETWORK, require_engine


def _labelled(options: DockerOptions) -> list[str]:
    found = []
    for kind in (["ps", "-aq"], ["image", "ls", "-q"], ["volume", "ls", "-q"]):
        done = subprocess.run(
            ["docker", *kind, "--filter", f"label={options.label}"],
            capture_output=True,
            text=True,
            check=True,
        )
        found += done.stdout.split()
    return found


def _step(registry: Registry, tmp_path: Path, dockerfile: str) -> tuple[DockerStep, DockerOptions]:
    project = tmp_path / "project"
    project.mkdir()
    (project / "Dockerfile").write_text(dockerfile)
    options = DockerOptions(network=NETWORK)
    case = Case(registry.default_framework, registry.default_python, ("docker",))
    return DockerStep(registry, Children(), options, case, project, {}), options


def test_without_an_engine_docker_fails_in_one_line(tmp_path: Path, registry: Registry) -> None:
    off = [name for name, ext in registry.extensions.items() if not ext.default]
    done = scaffold_process(
        "check",
        "-f",
        registry.default_framework,
        "--python",
        registry.default_python,
        *(["--without", ",".join(off)] if off else []),
        "--docker",
        cwd=tmp_path,
        env={"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"},
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "no Docker engine reachable" in lines[0]
    assert not (tmp_path / "check-starter").exists()


def test_docker_options_need_docker(tmp_path: Path) -> None:
    done = scaffold_process("check", "--docker-network", "host", cwd=tmp_path)
    assert done.returncode != 0
    assert "need --docker" in done.stderr


def test_a_dockerfile_that_fails_to_build_fails_the_step_with_the_builds_tail(
    tmp_path: Path, registry: Registry
) -> None:
    require_engine()
    step, options = _step(
        registry,
        tmp_path,
        f"FROM python:{registry.default_python}-slim\n"
        "RUN echo 'about to fail on purpose' && exit 3\n",
    )
    passed, output = step.run()
    assert not passed
    assert "about to fail on purpose" in output
    assert "the image did not build" in output
    sweep(Children(), options)
    assert _labelled(options) == []


def test_a_container_that_never_answers_fails_with_its_logs(
    tmp_path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_engine()
    monkeypatch.setattr(docker_module, "HEALTH_TIMEOUT", 8.0)
    step, options = _step(
        registry,
        tmp_path,
        f"FROM python:{registry.default_python}-slim\n"
        'HEALTHCHECK --interval=30s CMD ["false"]\n'
        'CMD ["sh", "-c", "echo started but deaf; sleep 600"]\n',
    )
    passed, output = step.run()
    assert not passed
    assert "no healthy answer from http://127.0.0.1:" in output
    assert "started but deaf" in output  # the container's log
    sweep(Children(), options)  # the image stays until the end of the run
    assert _labelled(options) == []


def test_the_host_network_override_moves_every_port_to_free_loopback_ones(
    tmp_path: Path, registry: Registry
) -> None:
    """Host networking: no published ports, the build and every service on the host's network,
    each service on a port of its own (its `port_env`), the app pointed at 127.0.0.1."""
    with_services = [name for name, ext in registry.extensions.items() if ext.services]
    assert with_services  # the databases' PostgreSQL today
    extension = registry.extensions[with_services[0]]
    case = Case(registry.default_framework, registry.default_python, (extension.name,))
    project = tmp_path / "project"
    project.mkdir()
    compose = project / "compose.yaml"
    compose.write_text("services:\n  app:\n    build: .\nvolumes:\n  data-a:\n  data-b:\n")
    options = DockerOptions(network="host")
    step = DockerStep(registry, Children(), options, case, project, {})
    text = step._override(compose, 18080, {name: 15000 + i for i, name in enumerate(step.services)})
    assert text.count("network_mode: host") == 1 + len(step.services)
    assert "ports: !reset []" in text
    assert "build: {network: host" in text
    assert '"PORT": "18080"' in text
    for index, name in enumerate(step.services):
        service = registry.services[name]
        if service.port_env:
            assert f'"{service.port_env}": "{15000 + index}"' in text
        for key in service.app_environment:
            assert f'"{key}": ' in text
    assert "@127.0.0.1:15000/" in text
    assert f'data-a: {{labels: {{"scaffolder.check": "{options.run_id}"}}}}' in text
    bridge = DockerStep(registry, Children(), DockerOptions(), case, project, {})
    assert "network_mode" not in bridge._override(compose, 18080, {})
