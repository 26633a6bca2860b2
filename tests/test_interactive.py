"""Interactive `scaffold new` in a real terminal (a pty): selection prompts, summary, confirm."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect
import yaml

from scaffolder.registry import Registry

from .templates import commit, fork_template

DOWN, SPACE, ENTER = "\x1b[B", " ", "\r"


def spawn(tmp_path: Path, *args: str, command: str = "new", timeout: int = 60) -> pexpect.spawn:
    env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1", "COLUMNS": "120"}
    return pexpect.spawn(
        sys.executable,
        ["-m", "scaffolder", command, *args],
        cwd=tmp_path,
        env=env,
        encoding="utf-8",
        timeout=timeout,
        dimensions=(40, 120),
    )


def test_questions_summary_and_confirmation(tmp_path: Path, registry: Registry) -> None:
    group, members = next(iter(registry.groups().items()))  # today: database
    picked = registry.extensions[members[-1]]
    child = spawn(tmp_path, "--no-lock", "--no-git")
    child.expect("Project name")
    child.send("class" + ENTER)  # refused in the prompt, with the reason
    child.expect("'class' is a Python keyword")
    child.send("\b" * 5 + "Tea Shop" + ENTER)
    child.expect("Framework")
    child.expect("Flask")
    child.send(DOWN + ENTER)  # FastAPI, the second choice
    child.expect("Python version")
    child.send(ENTER)  # the default, 3.12
    child.expect("Extensions")
    child.send(DOWN * 3 + SPACE + ENTER)  # untick pre-commit, the fourth
    # The group is a single select of its own, after the checkbox, which did not list it.
    child.expect(f"{group.capitalize()} \\(one at a time\\)")
    checkbox = child.before
    assert all(registry.extensions[name].label not in checkbox for name in members)
    child.expect(picked.label)
    child.send(DOWN * len(members) + ENTER)  # the last member, below "None"
    child.expect("One-line description")
    child.send("Tea for everyone" + ENTER)
    child.expect(f"{picked.name} \\({picked.label}\\)")  # the summary
    child.expect("Create this project")
    child.send("y")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    answers = yaml.safe_load((tmp_path / "tea-shop" / ".copier-answers.yml").read_text())
    assert answers["framework"] == "fastapi"
    assert answers["python_version"] == "3.12"
    assert answers["extensions"] == ["docker", "compose", "github"]
    assert answers[group] == picked.name
    assert answers["project_name"] == "tea-shop"
    assert answers["description"] == "Tea for everyone"


def test_an_extension_rule_is_enforced_in_the_prompt(tmp_path: Path) -> None:
    child = spawn(tmp_path, "shop", "-f", "bottle", "--python", "3.12", "--no-lock", "--no-git")
    child.expect("Extensions")
    child.send(SPACE + ENTER)  # untick docker while compose stays ticked
    child.expect("compose needs docker: add it, or leave compose out; choose again")
    child.expect("Extensions")
    child.send(DOWN + SPACE + ENTER)  # untick compose as well: now valid
    child.expect("one at a time")
    child.send(ENTER)  # no database
    child.expect("One-line description")
    child.send(ENTER)
    child.expect("Create this project")
    child.send("n")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert not (tmp_path / "shop").exists()


def test_with_preselects_the_groups_member_and_enter_keeps_it(
    tmp_path: Path, registry: Registry
) -> None:
    group, members = next(iter(registry.groups().items()))
    child = spawn(
        tmp_path, "shop", "-f", "falcon", "--python", "3.12", "--with", members[0],
        "--no-lock", "--no-git",
    )  # fmt: skip
    child.expect("Extensions")
    child.send(ENTER)
    child.expect("one at a time")
    child.send(ENTER)  # the default: the member given with --with
    child.expect("One-line description")
    child.send(ENTER)
    child.expect("Create this project")
    child.send("y")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    answers = yaml.safe_load((tmp_path / "shop" / ".copier-answers.yml").read_text())
    assert answers[group] == members[0]


def test_a_member_the_framework_does_not_support_is_disabled_with_its_reason(
    tmp_path: Path, registry: Registry
) -> None:
    group, members = next(iter(registry.groups().items()))
    fork = tmp_path / "fork"
    fork_template(fork)
    path = fork / "templates" / "registry.yml"
    data = yaml.safe_load(path.read_text())
    data["extensions"][members[-1]]["unsupported_frameworks"] = {"bottle": "not on bottle (test)"}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    commit(fork, "unsupported member", tag="v1.0.1")
    child = spawn(
        tmp_path, "shop", "-f", "bottle", "--python", "3.12", "--template", str(fork),
        "--no-lock", "--no-git",
    )  # fmt: skip
    child.expect("Extensions")
    child.send(ENTER)
    child.expect("one at a time")
    child.expect("not on bottle \\(test\\)")
    child.send(DOWN * len(members) + ENTER)  # the cursor skips the disabled member
    child.expect("One-line description")
    child.send(ENTER)
    child.expect("Create this project")
    child.send("y")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    answers = yaml.safe_load((tmp_path / "shop" / ".copier-answers.yml").read_text())
    assert answers[group] != members[-1]


def test_ctrl_c_at_a_question_writes_nothing(tmp_path: Path) -> None:
    child = spawn(tmp_path, "shop", "--no-lock", "--no-git")
    child.expect("Framework")
    child.sendcontrol("c")
    child.expect("interrupted; nothing was written")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert list(tmp_path.iterdir()) == []


def test_update_on_a_terminal_shows_the_plan_and_asks(tmp_path: Path) -> None:
    """`scaffold update` on a terminal: the plan, then a question; "no" changes nothing,
    "yes" applies."""
    template = fork_template(tmp_path / "template")
    project = tmp_path / "shop"
    child = spawn(tmp_path, "shop", "-f", "bottle", "--defaults", "--no-lock",
                  "--template", str(template))  # fmt: skip
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    gitignore = template / "templates" / "common" / ".gitignore.jinja"
    gitignore.write_text(gitignore.read_text() + "\n# Editors\n.idea/\n")
    commit(template, "ignore .idea", tag="v1.1.0")
    before = (project / ".gitignore").read_text()

    for answer, code in (("n", 1), ("y", 0)):
        child = spawn(tmp_path, str(project), command="update", timeout=180)
        child.expect(r"\.gitignore")  # a line of the plan (colours between the words)
        child.expect("Apply these changes")
        child.send(answer)
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == code, child.before
        if answer == "n":
            assert (project / ".gitignore").read_text() == before
    assert ".idea/" in (project / ".gitignore").read_text()
