"""The documentation stays true: README tables and counts match the registry and the matrix,
and the project's own CI workflow is valid."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from scaffolder.check.matrix import Scope, all_cases, pairwise_cases
from scaffolder.registry import Registry

from .conftest import REPO

README = (REPO / "README.md").read_text()


def test_readme_framework_table_matches_the_registry(registry: Registry) -> None:
    rows = re.findall(r"^\| (\w+) \| (\w+) \| (.+?) \| ([\d., ]+) \|$", README, re.MULTILINE)
    assert rows == [
        (fw.name, fw.server.name, fw.test_client, ", ".join(registry.python_versions_for(fw.name)))
        for fw in registry.frameworks.values()
    ]


def test_readme_case_counts_match_the_matrix(registry: Registry) -> None:
    scope = Scope.of(registry)
    assert f"pairwise-complete set ({len(pairwise_cases(registry, scope))} cases today)" in README
    assert f"every valid combination ({len(all_cases(registry, scope))} today)" in README


def test_readme_set_up_commands_are_what_ci_runs() -> None:
    commands = re.findall(r"```console\n(.+?)\n```", README)
    assert commands[1] in (REPO / ".ci" / "run").read_text()
    assert commands[0].startswith("python3 -m pip install . && scaffold new")


def test_own_workflow_is_valid_and_shards_the_check() -> None:
    workflow = REPO / ".github" / "workflows" / "ci.yml"
    checker = Path(sys.executable).parent / "check-jsonschema"
    done = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", str(workflow)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    jobs = yaml.safe_load(workflow.read_text())["jobs"]
    shards = jobs["check"]["strategy"]["matrix"]["shard"]
    command = next(
        step["run"] for step in jobs["check"]["steps"] if "scaffold check" in step.get("run", "")
    )
    # The shard reaches the shell through the environment, not a template expansion (zizmor).
    assert jobs["check"]["env"]["SHARD"] == "${{ matrix.shard }}"
    assert f'--shard "$SHARD/{len(shards)}"' in command
    assert shards == list(range(1, len(shards) + 1))
