"""The documentation stays true: README tables and counts match the registry and the matrix,
and the project's own CI workflow is valid."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from scaffolder import docs
from scaffolder.check.matrix import Scope, all_cases, pairwise_cases
from scaffolder.registry import Registry
from scaffolder.template import TemplateSource

from .conftest import REPO

README = (REPO / "README.md").read_text()


def test_readme_registry_blocks_are_generated_from_the_registry(
    registry: Registry, template: TemplateSource
) -> None:
    fresh = docs.rewrite(README, registry, template.questions())
    assert fresh == README, f"README.md is stale: run `{docs.COMMAND}`"


def table_rows(text: str, block: str) -> list[list[str]]:
    found = re.search(
        rf"<!-- registry:{block}\b.*?-->\n(.*?)<!-- /registry:{block} -->", text, re.S
    )
    assert found, block
    lines = found[1].strip().splitlines()[2:]  # below the header and its rule
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines]


def test_readme_tables_have_a_row_per_framework_and_extension(registry: Registry) -> None:
    frameworks = table_rows(README, "frameworks")
    assert [row[0].removesuffix(" (default)") for row in frameworks] == list(registry.frameworks)
    assert [row[4] for row in frameworks] == [
        ", ".join(registry.python_versions_for(name)) for name in registry.frameworks
    ]
    extensions = table_rows(README, "extensions")
    assert [row[0].strip("`") for row in extensions] == list(registry.extensions)
    for row in extensions:
        ext = registry.extensions[row[0].strip("`")]
        assert (ext.group and f"one {ext.group} at a time" in row[3]) or not ext.group
        assert all(setting.env in row[4] for setting in ext.settings)


def test_docs_command_says_when_readme_is_stale_and_rewrites_it(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(README.replace("| flask", "| flusk"))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "scaffolder.docs", "--readme", str(readme), *args]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    stale = run("--check")
    assert (stale.returncode, stale.stderr) == (
        1,
        f"error: {readme} is stale: run `{docs.COMMAND}`\n",
    )
    assert run().returncode == 0
    assert readme.read_text() == README
    assert run("--check").returncode == 0
    readme.write_text("# no markers\n")
    broken = run("--check")
    assert broken.returncode == 2
    assert broken.stderr.strip().splitlines() == [
        f"error: {readme}: no <!-- registry:frameworks --> ... <!-- /registry:frameworks --> "
        "block found"
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
