"""The life of a project: `scaffold update`, `add`, `remove`, `check-update`.

Each test generates a project from a tagged fork of the template, commits it, edits it, changes
the fork (a new tag), and drives the CLI in-process. None installs a starter: the starter's own
tests after an add and a remove are in tests/test_starters.py (marked `starter`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from scaffolder import lifecycle

from .conftest import snapshot
from .templates import commit, edit, fork_template, git

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def answers_of(project: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return data


def error_line(result: Any) -> str:
    lines = [line for line in result.err.strip().splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err + result.out
    return lines[0]


def tracked(project: Path) -> dict[str, bytes]:
    """Every file of the project that git would see (tracked or not ignored), with content."""
    names = git(project, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    return {
        name: (project / name).read_bytes()
        for name in names.split("\0")
        if name and (project / name).is_file()
    }


def plan_json(scaffold: Any, *args: str) -> dict[str, Any]:
    result = scaffold(*args, "--plan", "--json")
    assert result.code == 0, result.err
    data: dict[str, Any] = json.loads(result.out)
    return data


def changed(data: dict[str, Any]) -> dict[str, str]:
    return {change["path"]: change["action"] for change in data["changes"]}


@pytest.fixture
def template(tmp_path: Path) -> Path:
    return fork_template(tmp_path / "template")


def generate(scaffold: Any, template: Path | str, *args: str, name: str = "shop") -> Path:
    result = scaffold(
        "new", name, "-f", "bottle", "--defaults", "--no-lock", "--template", str(template), *args
    )
    assert result.code == 0, result.err
    project = Path(name).absolute()
    assert git(project, "status", "--porcelain") == ""  # scaffold new committed it
    return project


@pytest.fixture
def project(scaffold: Any, template: Path) -> Path:
    return generate(scaffold, template)


def release(template: Path, tag: str = "v1.1.0") -> None:
    """A template change every starter sees: one more line in .gitignore."""
    edit(
        template / "templates" / "common" / ".gitignore.jinja",
        "# Virtual environments and caches",
        "# Editors\n.idea/\n\n# Virtual environments and caches",
    )
    commit(template, "ignore .idea", tag=tag)


# -- update ------------------------------------------------------------------------------------


def test_update_plans_exactly_the_changed_files_then_keeps_local_edits(
    scaffold: Any, template: Path, project: Path
) -> None:
    edit(project / "src" / "shop" / "store.py", "class ItemStore", "# ours\nclass ItemStore")
    commit(project, "our edit")
    release(template)
    before = tracked(project)

    data = plan_json(scaffold, "update", str(project))
    assert changed(data) == {".copier-answers.yml": "modify", ".gitignore": "modify"}
    assert (data["current"], data["target"], data["applied"]) == ("v1.0.0", "v1.1.0", False)
    assert tracked(project) == before  # --plan changed nothing

    result = scaffold("update", str(project), "--yes")
    assert result.code == 0, result.err
    assert "modify   .gitignore" in result.err
    assert ".idea/" in (project / ".gitignore").read_text()
    assert "# ours\nclass ItemStore" in (project / "src" / "shop" / "store.py").read_text()
    assert answers_of(project)["_commit"] == "v1.1.0"
    assert set(git(project, "status", "--porcelain").split()) == {
        "M",
        ".copier-answers.yml",
        ".gitignore",
    }


def test_update_json_reports_the_applied_plan(scaffold: Any, template: Path, project: Path) -> None:
    release(template)
    result = scaffold("update", str(project), "--json", "--yes")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["applied"] is True
    assert data["conflicts"] == []
    assert changed(data) == {".copier-answers.yml": "modify", ".gitignore": "modify"}


def test_nothing_to_update(scaffold: Any, project: Path) -> None:
    result = scaffold("update", str(project), "--yes")
    assert (result.code, "Nothing to change." in result.err) == (0, True)


@pytest.mark.parametrize("mode", ["inline", "rej"])
def test_overlapping_edit_is_a_conflict_with_its_own_exit_code(
    scaffold: Any, template: Path, project: Path, mode: str
) -> None:
    edit(project / "README.md", "## Quick start", "## Getting started (ours)")
    commit(project, "our edit")
    edit(
        template / "templates" / "common" / "README.md.jinja",
        "## Quick start",
        "## Quick start (theirs)",
    )
    commit(template, "rename heading", tag="v1.1.0")

    data = plan_json(scaffold, "update", str(project), "--conflict", mode)
    assert data["conflicts"] == ["README.md"]
    result = scaffold("update", str(project), "--conflict", mode, "--yes")
    assert result.code == 3, result.err
    assert "conflict" in result.err
    assert "README.md" in result.err
    readme = (project / "README.md").read_text()
    assert "Quick start (theirs)" in readme
    if mode == "inline":
        assert "<<<<<<< before updating" in readme
        assert "Getting started (ours)" in readme  # never lost
    else:  # the template's version in the file, the edit that did not apply beside it
        assert "Getting started (ours)" in (project / "README.md.rej").read_text()


def test_a_dirty_tree_is_refused_with_one_line(
    scaffold: Any, template: Path, project: Path
) -> None:
    release(template)
    (project / "notes.txt").write_text("mine\n")
    before = snapshot(project)
    result = scaffold("update", str(project), "--yes")
    assert result.code == 1
    assert "uncommitted changes" in error_line(result)
    assert snapshot(project) == before


def test_without_a_terminal_or_yes_nothing_is_applied(
    scaffold: Any, template: Path, project: Path
) -> None:
    release(template)
    before = snapshot(project)
    result = scaffold("update", str(project))
    assert result.code == 2
    assert "pass --yes" in error_line(result)
    assert "modify   .gitignore" in result.err  # the plan was shown
    assert snapshot(project) == before


def test_an_interrupted_update_leaves_the_tree_as_it_was(
    scaffold: Any, template: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release(template)
    before = snapshot(project)

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(lifecycle, "_relock", interrupted)  # after Copier ran in the scratch copy
    result = scaffold("update", str(project), "--yes")
    assert result.code == 130
    assert snapshot(project) == before


def test_a_failed_apply_changes_nothing(
    scaffold: Any, template: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release(template)
    plan = lifecycle.plan_update(project)
    # Meanwhile an ignored file appears where the update would create nothing, and a tracked
    # file the patch modifies is changed and committed: the plan is stale.
    edit(project / ".gitignore", "# Virtual environments and caches", "# changed meanwhile")
    commit(project, "meanwhile")
    before = snapshot(project)
    with pytest.raises(lifecycle.ProjectError, match="moved to another commit"):
        lifecycle.apply(plan)
    assert snapshot(project) == before


def test_update_errors(scaffold: Any, tmp_path: Path, project: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    result = scaffold("update", str(plain), "--yes")
    assert (result.code, "has no .copier-answers.yml" in error_line(result)) == (1, True)
    result = scaffold("update", str(project), "--conflict", "both")
    assert (result.code, "--conflict both" in error_line(result)) == (2, True)
    result = scaffold("update", str(project), "--to", "v9.9.9", "--yes")
    assert result.code == 1
    assert "v9.9.9" in error_line(result)


def test_update_to_a_named_version(scaffold: Any, template: Path, project: Path) -> None:
    release(template, "v1.1.0")
    edit(template / "templates" / "common" / ".editorconfig", "root = true", "root = true\n# 2")
    commit(template, "v2", tag="v2.0.0")
    data = plan_json(scaffold, "update", str(project), "--to", "v1.1.0")
    assert data["target"] == "v1.1.0"
    assert ".editorconfig" not in changed(data)


# -- check-update ------------------------------------------------------------------------------


def test_check_update_exit_codes_and_json(scaffold: Any, template: Path, project: Path) -> None:
    result = scaffold("check-update", str(project))
    assert (result.code, "up to date" in result.out) == (0, True)
    release(template)
    result = scaffold("check-update", str(project))
    assert result.code == 4
    assert "v1.1.0" in result.out
    result = scaffold("check-update", str(project), "--json")
    assert result.code == 4
    assert json.loads(result.out) == {
        "project": str(project),
        "current": "v1.0.0",
        "latest": "v1.1.0",
        "behind": True,
    }
    assert scaffold("update", str(project), "--yes").code == 0
    commit(project, "updated")
    assert scaffold("check-update", str(project)).code == 0


# -- add and remove ----------------------------------------------------------------------------


def test_new_without_docker_leaves_compose_out_and_says_so(scaffold: Any, template: Path) -> None:
    result = scaffold(
        "new", "shop", "--defaults", "--no-lock", "--no-git", "--without", "docker",
        "--template", str(template),
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "compose left out too: it needs docker" in result.err
    assert "compose" not in answers_of(Path("shop"))["extensions"]


@pytest.mark.parametrize(
    ("start", "first", "then"),
    [
        (("--without", "docker"), ("add", "docker"), ("remove", "docker")),
        ((), ("remove", "docker"), ("add", "compose")),  # compose brings docker back
        ((), ("add", "postgres"), ("remove", "postgres")),
        (("--with", "sqlite"), ("remove", "sqlite"), ("add", "sqlite")),
    ],
)
def test_add_then_remove_leaves_the_tree_as_it_was(
    scaffold: Any,
    template: Path,
    start: tuple[str, ...],
    first: tuple[str, str],
    then: tuple[str, str],
) -> None:
    project = generate(scaffold, template, *start)
    before = tracked(project)
    extensions_before = answers_of(project)

    result = scaffold(*first, str(project), "--yes")
    assert result.code == 0, result.err
    middle = tracked(project)
    assert middle != before
    commit(project, first[0])
    result = scaffold(*then, str(project), "--yes")
    assert result.code == 0, result.err

    after = tracked(project)
    answers = ".copier-answers.yml"
    assert {k: v for k, v in after.items() if k != answers} == {
        k: v for k, v in before.items() if k != answers
    }
    assert answers_of(project) == extensions_before


def test_remove_docker_plans_compose_too_and_deletes_their_files(
    scaffold: Any, project: Path
) -> None:
    data = plan_json(scaffold, "remove", "docker", str(project))
    assert data["extensions"]["after"] == ["github", "pre-commit"]
    assert "compose left out too: it needs docker" in data["notes"]
    deleted = {path for path, action in changed(data).items() if action == "delete"}
    assert deleted == {"Dockerfile", ".dockerignore", "compose.yaml"}


def test_remove_keeps_a_file_the_user_changed(scaffold: Any, project: Path) -> None:
    edit(project / "Dockerfile", "FROM", "# our base image note\nFROM")
    commit(project, "our Dockerfile")
    result = scaffold("remove", "docker", str(project), "--yes")
    assert result.code == 3, result.err
    assert "Dockerfile" in result.err
    assert "kept" in result.err
    assert "# our base image note" in (project / "Dockerfile").read_text()
    assert not (project / "compose.yaml").exists()  # unchanged: removed
    assert not (project / ".dockerignore").exists()


def test_add_a_database_replaces_the_other_and_brings_its_files(
    scaffold: Any, template: Path
) -> None:
    project = generate(scaffold, template, "--with", "sqlite")
    data = plan_json(scaffold, "add", "postgres", str(project))
    assert "sqlite replaced by postgres: one database at a time" in data["notes"]
    result = scaffold("add", "postgres", str(project), "--yes")
    assert result.code == 0, result.err
    assert answers_of(project)["database"] == "postgres"
    assert "psycopg" in (project / "pyproject.toml").read_text()


def test_add_and_remove_refusals(scaffold: Any, project: Path) -> None:
    result = scaffold("add", "k8s", str(project), "--yes")
    assert (result.code, "unknown extension 'k8s'" in error_line(result)) == (2, True)
    result = scaffold("add", str(project))
    assert result.code == 2
    data = plan_json(scaffold, "add", "docker", str(project))
    assert "docker is already in the project" in data["notes"]
    assert data["changes"] == []


def test_add_runs_in_the_current_folder(
    scaffold: Any, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    data = plan_json(scaffold, "remove", "compose")
    assert changed(data) == {
        ".copier-answers.yml": "modify",
        "README.md": "modify",
        "compose.yaml": "delete",
    } | {path: "modify" for path in changed(data) if path not in {"compose.yaml"}}


# -- template versions and the config file -----------------------------------------------------


def test_vcs_ref_renders_that_version_and_update_brings_it_forward(
    scaffold: Any, template: Path
) -> None:
    release(template)
    project = generate(scaffold, template, "--vcs-ref", "v1.0.0")
    assert answers_of(project)["_commit"] == "v1.0.0"
    assert ".idea/" not in (project / ".gitignore").read_text()
    assert scaffold("check-update", str(project)).code == 4
    data = plan_json(scaffold, "update", str(project), "--to", "v1.1.0")
    assert changed(data) == {".copier-answers.yml": "modify", ".gitignore": "modify"}

    listed = scaffold("list", "--template", str(template), "--vcs-ref", "v1.0.0", "--json")
    assert listed.code == 0, listed.err
    missing = scaffold("list", "--template", str(template), "--vcs-ref", "v7")
    assert missing.code == 1
    assert "has no such version" in error_line(missing)


def test_a_git_url_template_at_a_version(scaffold: Any, template: Path) -> None:
    """--template as a git URL with --vcs-ref: Copier clones it, the version is fetched."""
    release(template)
    url = f"git+file://{template}"
    project = generate(scaffold, url, "--vcs-ref", "v1.0.0")
    assert answers_of(project)["_commit"] == "v1.0.0"
    assert ".idea/" not in (project / ".gitignore").read_text()
    listed = scaffold("list", "--template", url, "--vcs-ref", "v1.0.0", "--json")
    assert listed.code == 0, listed.err
    missing = scaffold("list", "--template", url, "--vcs-ref", "v7")
    assert missing.code == 1
    assert "has no such version" in error_line(missing)


def write_config(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def shown(scaffold: Any, *args: str) -> tuple[str, dict[str, tuple[Any, str]]]:
    result = scaffold("config", "show", "--json", *args)
    assert result.code == 0, result.err
    data = json.loads(result.out)
    return data["config_file"], {
        row["key"]: (row["value"], row["source"]) for row in data["values"]
    }


def test_config_show_says_where_each_value_comes_from(
    scaffold: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry: Any
) -> None:
    origin, values = shown(scaffold)
    assert origin.startswith("none (")
    assert values["framework"] == (registry.default_framework, "the template's registry")
    assert values["git"] == (True, "scaffolder's default")

    # The default location.
    default = write_config(
        tmp_path / "xdg" / "scaffolder" / "config.toml", 'framework = "bottle"\n'
    )
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    origin, values = shown(scaffold)
    assert origin == f"{default} (from the default location)"
    assert values["framework"] == ("bottle", f"config file {default}")
    assert values["python"][1] == "the template's registry"

    # $SCAFFOLDER_CONFIG beats the default location.
    env_file = write_config(
        tmp_path / "env.toml", 'framework = "falcon"\nwithout = ["docker"]\nlock = false\n'
    )
    monkeypatch.setenv("SCAFFOLDER_CONFIG", str(env_file))
    origin, values = shown(scaffold)
    assert origin == f"{env_file} (from $SCAFFOLDER_CONFIG)"
    assert values["framework"] == ("falcon", f"config file {env_file}")
    assert values["lock"] == (False, f"config file {env_file}")
    assert "docker" not in values["extensions"][0]
    assert "compose" not in values["extensions"][0]  # the same rules as `scaffold new`
    assert "compose left out too: it needs docker" in values["extensions"][1]

    # --config beats $SCAFFOLDER_CONFIG.
    given = write_config(tmp_path / "given.toml", '[data]\ndescription = "Ours."\n')
    origin, values = shown(scaffold, "--config", str(given))
    assert origin == f"{given} (from --config)"
    assert values["framework"] == (registry.default_framework, "the template's registry")
    assert values["data.description"] == ("Ours.", f"config file {given}")

    # The command line beats the config file.
    result = scaffold("new", "shop", "--defaults", "--no-lock", "--no-git", "-f", "bottle")
    assert result.code == 0, result.err
    answers = answers_of(Path("shop"))
    assert answers["framework"] == "bottle"  # not the file's falcon
    assert "compose" not in answers["extensions"]  # the file's without = ["docker"]


def test_a_project_in_a_subfolder_of_a_repository(
    scaffold: Any, template: Path, tmp_path: Path
) -> None:
    """A monorepo of services: the project is one folder of a larger repository."""
    repo = tmp_path / "services"
    repo.mkdir()
    git(repo, "init", "--quiet")
    (repo / "other.txt").write_text("another service\n")
    result = scaffold(
        "new", str(repo / "shop"), "-f", "bottle", "--defaults", "--no-lock",
        "--template", str(template),
    )  # fmt: skip
    assert result.code == 0, result.err
    commit(repo, "services")
    release(template)
    result = scaffold("update", str(repo / "shop"), "--yes", "--json")
    assert result.code == 0, result.err
    assert changed(json.loads(result.out)) == {
        "shop/.copier-answers.yml": "modify",
        "shop/.gitignore": "modify",
    }
    assert ".idea/" in (repo / "shop" / ".gitignore").read_text()
    commit(repo, "updated")
    result = scaffold("remove", "docker", str(repo / "shop"), "--plan", "--json")
    assert "shop/Dockerfile" in changed(json.loads(result.out))


def test_update_from_another_template_source(scaffold: Any, tmp_path: Path, project: Path) -> None:
    """--template: a team's fork replaces the recorded source; Copier records the new one."""
    fork = fork_template(tmp_path / "team-fork")
    release(fork)
    data = plan_json(scaffold, "update", str(project), "--template", str(fork))
    assert changed(data) == {".copier-answers.yml": "modify", ".gitignore": "modify"}
    result = scaffold("update", str(project), "--template", str(fork), "--yes")
    assert result.code == 0, result.err
    assert answers_of(project)["_src_path"] == str(fork)
