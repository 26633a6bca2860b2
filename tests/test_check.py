"""`scaffold check` end to end: a broken template fails loudly at the right step and keeps its
folder; the real templates pass the whole default (pairwise-complete) matrix."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from scaffolder.registry import Registry

from .conftest import scaffold_process
from .dockerenv import NETWORK, ci_docker_cases, engine_problem, engine_required
from .templates import commit, fork_template

pytestmark = pytest.mark.starter


def scaffold_check(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return scaffold_process("check", *args, cwd=cwd)


def test_a_broken_template_fails_at_its_step_and_keeps_the_folder(
    tmp_path: Path, registry: Registry
) -> None:
    broken = registry.default_framework
    # Another framework with the same default extensions: then each framework is one case (one
    # that refuses an extension, as Chalice does docker, takes more cases of the other to pair).
    intact = [
        name
        for name in registry.frameworks
        if registry.default_extensions(name) == registry.default_extensions(broken)
    ][-1]
    assert broken != intact
    python = registry.default_python
    template = fork_template(tmp_path / "broken")
    tests = template / "templates" / broken / "test_app.py.jinja"
    with tests.open("a") as file:
        file.write(
            '\n\ndef test_broken() -> None:\n    raise AssertionError("broken on purpose")\n'
        )
    commit(template, f"break a {broken} test", tag="v1.0.1")
    report = tmp_path / "junit.xml"
    done = scaffold_check(
        "--template",
        str(template),
        "-f",
        broken,
        "-f",
        intact,
        "--python",
        python,
        # Extensions off by default (the databases) stay out: two cases in this shard.
        "--without",
        ",".join(name for name, ext in registry.extensions.items() if not ext.default),
        "--shard",
        "1/4",
        "--junit",
        str(report),
        "--workdir",
        str(tmp_path / "work"),
        cwd=tmp_path,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    defaults = "+".join(registry.default_extensions(broken))
    case = f"{broken}-py{python}-{defaults}"
    assert f"{case} failed at pytest" in output
    assert "broken on purpose" in output  # the failing step's output tail is shown
    kept = tmp_path / "work" / case / "check-starter"
    assert f"kept at {kept}" in output
    assert (kept / "src" / "check_starter" / "app.py").is_file()

    suite = ET.parse(report).getroot()
    failures = suite.findall("testcase/failure")
    assert suite.get("failures") == str(len(failures)) == "1"
    assert failures[0].get("type") == "pytest"
    # The other framework was not broken: its case passed, and its folder was removed.
    passed = [
        line.split()[1]
        for line in output.splitlines()
        if line.startswith("[") and " passed in " in line
    ]
    assert len(passed) == 1
    assert passed[0].startswith(f"{intact}-py{python}")
    assert not (tmp_path / "work" / passed[0]).exists()


def test_list_json_reports_the_cases(tmp_path: Path, registry: Registry) -> None:
    done = scaffold_check("--list", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout)
    assert (
        listing["total"]
        == len(listing["cases"])
        >= len(registry.frameworks) * len(registry.python_versions)
    )
    assert {case["framework"] for case in listing["cases"]} == set(registry.frameworks)


def test_the_default_matrix_passes(tmp_path: Path, registry: Registry) -> None:
    """The full default set: every framework with its defaults and every allowed pair.

    With a Docker engine (always in CI: SCAFFOLDER_REQUIRE_DOCKER), the same run also builds and
    runs the images of every framework's default case and of the compose + database case of one
    sync and one async framework (`--docker --docker-case`): those cases are in the matrix
    already, so nothing is installed or tested twice for them."""
    listing = json.loads(scaffold_check("--list", "--json", cwd=tmp_path).stdout)
    report = tmp_path / "junit.xml"
    docker: list[str] = []
    if engine_required() or engine_problem() is None:
        docker = [case.id for case in ci_docker_cases(registry)]
    docker_args = ["--docker", "--docker-network", NETWORK] if docker else []
    for case_id in docker:
        docker_args += ["--docker-case", case_id]
    done = scaffold_check("--jobs", "2", "--junit", str(report), *docker_args, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    suite = ET.parse(report).getroot()
    assert suite.get("failures") == "0"
    assert sorted(case.get("name") for case in suite.iter("testcase")) == sorted(
        c["id"] for c in listing["cases"]
    )
    for case in suite.iter("testcase"):
        steps = case.findtext("system-out") or ""
        for step in ("render", "install", "pytest", "ruff", "ruff-format", "mypy", "serve"):
            assert f"{step}: passed" in steps, (case.get("name"), steps)
        assert ("docker: passed" in steps) == (case.get("name") in docker), steps
