"""What the docker tests need: a reachable engine, and which cases `scaffold check --docker` runs in
this project's CI (derived from the registry, never listed).

Without an engine the docker tests skip, saying why; with SCAFFOLDER_REQUIRE_DOCKER=1 (set by
`.ci/run`, which starts its own engine and builds the stand-in base images) they fail instead,
so CI cannot pass without really building.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from scaffolder.check import matrix
from scaffolder.registry import Registry

REQUIRE = "SCAFFOLDER_REQUIRE_DOCKER"
# A machine whose engine has no bridge (this project's CI, `dockerd --bridge=none`) needs host
# networking; `.ci/run` sets it. Elsewhere the engine's normal (bridge) networking is used.
NETWORK = os.environ.get("SCAFFOLDER_DOCKER_NETWORK", "bridge")


def engine_problem() -> str | None:
    """None when a Docker engine answers, else why not (one line)."""
    docker = shutil.which("docker")
    if docker is None:
        return "no docker command on PATH"
    done = subprocess.run(
        [docker, "version", "--format", "{{.Server.Version}}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return f"no Docker engine reachable ({lines[-1] if lines else 'no output'})"
    return None


def engine_required() -> bool:
    return os.environ.get(REQUIRE, "") not in ("", "0")


def require_engine() -> None:
    """Skip (or, under SCAFFOLDER_REQUIRE_DOCKER, fail) the test when no engine answers."""
    if (problem := engine_problem()) is None:
        return
    message = f"{problem}: the docker tests need one (see .ci/run)"
    if engine_required():
        pytest.fail(f"{message}; {REQUIRE} is set")
    pytest.skip(message)


def ci_docker_cases(registry: Registry) -> list[matrix.Case]:
    """Every framework's default case that has the docker extension, and the compose + database
    (service) case on the newest Python of the first framework of each kind of handlers (one
    sync, one async): all of them cases of the default matrix, so nothing is installed twice."""
    scope = matrix.Scope.of(registry)
    chosen = [
        case
        for case in (matrix.default_case(registry, fw, scope) for fw in registry.frameworks)
        if "docker" in case.extensions
    ]
    glue = matrix.glue_cases(registry, scope)
    for handlers in dict.fromkeys(fw.handlers for fw in registry.frameworks.values()):
        for name, framework in registry.frameworks.items():
            if framework.handlers != handlers:
                continue
            found = [
                case
                for case in glue
                if case.framework == name
                and {"docker", "compose"} <= set(case.extensions)
                and any(ext.services for ext in registry.selected(case.extensions))
            ]
            if found:
                chosen.append(max(found, key=lambda case: tuple(map(int, case.python.split(".")))))
                break
    return chosen
