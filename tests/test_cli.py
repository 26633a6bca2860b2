"""The CLI as a user drives it: options, answers, output, exit codes, and what lands on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from scaffolder import __version__
from scaffolder.registry import Registry

from .conftest import REPO, mount, scaffold_process, snapshot
from .templates import edit, fork_template, git

FAST = ("--no-lock", "--no-git")  # the lock and git steps have tests of their own


def answers_of(project: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return data


def error_line(result: Any) -> str:
    """The one error line, which ends the output; any summary shown before it is fine."""
    lines = result.err.strip().splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, result.err
    assert lines[-1] == errors[0], result.err
    assert "Traceback" not in result.err + result.out
    return errors[0]


def test_version(scaffold: Any) -> None:
    result = scaffold("--version")
    assert (result.code, result.out.strip()) == (0, f"scaffold {__version__}")


def test_help_lists_the_commands(scaffold: Any) -> None:
    result = scaffold("--help")
    assert result.code == 0
    for command in ("new", "list", "check"):
        assert command in result.out


def test_help_does_not_import_copier_or_questionary() -> None:
    probe = (
        "import sys; from scaffolder.cli import run; run(['--help']); run(['new', '--help']); "
        "print(sorted(m for m in ('copier', 'questionary', 'prompt_toolkit') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_list_shows_every_framework_with_server_and_test_client(
    scaffold: Any, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # one line per row: each cell reads whole
    result = scaffold("list")
    assert result.code == 0
    for framework in registry.frameworks.values():
        assert framework.name in result.out
        assert framework.server.name in result.out
    for extension in registry.extensions:
        assert extension in result.out
    # Each group says its rule, and each member what it needs to run.
    for group, members in registry.groups().items():
        rule = f"one {group} at a time: {' | '.join(members)}"
        for name in members:
            ext = registry.extensions[name]
            row = next(line for line in result.out.splitlines() if line.split()[1:2] == [name])
            assert rule in row
            assert f"prepare: {ext.prepare}" in row
            for setting in ext.settings:
                expected = f"default {setting.default}" if setting.default else "required"
                assert f"{setting.env} ({expected})" in row
            for service in ext.services:
                assert f"service: {service}" in row


def test_list_json_is_the_registry(scaffold: Any, registry: Registry) -> None:
    result = scaffold("list", "--json")
    assert result.code == 0
    data = json.loads(result.out)
    assert data == registry.to_json()
    # Enough for a web form: each group is one single-select question over its members, and
    # every extension says its group, settings (required or not), services and prepare step.
    extensions = {ext["name"]: ext for ext in data["extensions"]}
    assert list(extensions) == list(registry.extensions)
    groups = {group["name"]: group["members"] for group in data["groups"]}
    assert groups == {group: list(members) for group, members in registry.groups().items()}
    for name, ext in extensions.items():
        assert ext["group"] == (registry.extensions[name].group or None)
        if ext["group"]:
            assert name in groups[ext["group"]]
        for setting in ext["settings"]:
            assert set(setting) == {"env", "description", "default", "example", "required"}
            assert setting["required"] is (setting["default"] == "")
        assert set(ext["services"]) <= {service["name"] for service in data["services"]}


def test_new_with_defaults_renders_the_default_starter(scaffold: Any, tmp_path: Path) -> None:
    result = scaffold("new", "My Shop", "--defaults", *FAST)
    assert result.code == 0, result.err
    project = tmp_path / "My Shop"
    assert answers_of(project) | {"_commit": None} == {
        "_commit": None,
        "_src_path": str(REPO),
        "project_name": "my-shop",
        "package_name": "my_shop",
        "framework": "flask",
        "python_version": "3.12",
        "extensions": ["docker", "compose", "github", "pre-commit"],
        "database": "none",
        "description": "A Flask web service.",
    }
    assert (project / "src" / "my_shop" / "app.py").is_file()
    assert 'requires-python = ">=3.12"' in (project / "pyproject.toml").read_text()
    assert "my-shop" in result.err
    assert "from 'My Shop'" in result.err


DEFAULT_FILES = [
    ".copier-answers.yml", ".dockerignore", ".editorconfig", ".env.example",
    ".github/dependabot.yml", ".github/workflows/ci.yml", ".gitignore", ".pre-commit-config.yaml",
    ".python-version",
    "Dockerfile", "README.md", "compose.yaml", "conftest.py", "pyproject.toml",
    "src/shop/__init__.py", "src/shop/app.py", "src/shop/logging_setup.py", "src/shop/py.typed",
    "src/shop/schemas.py", "src/shop/settings.py", "src/shop/store.py",
    "tests/conftest.py", "tests/test_app.py", "tests/test_logging_setup.py",
    "tests/test_settings.py", "tests/test_store.py",
    # the default framework's server is gunicorn: its settings module and test
    "src/shop/gunicorn_conf.py", "tests/test_gunicorn_conf.py",
]  # fmt: skip


def test_the_default_starter_has_exactly_its_files(scaffold: Any, tmp_path: Path) -> None:
    assert scaffold("new", "shop", "--defaults", *FAST).code == 0
    project = tmp_path / "shop"
    files = sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_file())
    assert files == sorted(DEFAULT_FILES)
    assert "SHOP_DEBUG=false" in (project / ".env.example").read_text()
    ignored = (project / ".gitignore").read_text().splitlines()
    assert ".env" in ignored
    assert "!.env.example" in ignored
    assert ".env" in (project / ".dockerignore").read_text().splitlines()


def test_without_extensions_only_the_core_remains(scaffold: Any, tmp_path: Path) -> None:
    result = scaffold(
        "new", "shop", "--without", "docker,compose,github,pre-commit", "--defaults", *FAST
    )
    assert result.code == 0, result.err
    project = tmp_path / "shop"
    files = {str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()}
    extension_files = {
        ".dockerignore",
        "Dockerfile",
        "compose.yaml",
        ".github/dependabot.yml",
        ".github/workflows/ci.yml",
        ".pre-commit-config.yaml",
    }
    assert files == set(DEFAULT_FILES) - extension_files
    assert "pre-commit" not in (project / "pyproject.toml").read_text()


def test_new_takes_framework_extensions_python_and_data(scaffold: Any, tmp_path: Path) -> None:
    result = scaffold(
        "new",
        "svc",
        "-f",
        "fastapi",
        "--python",
        "3.11",
        "--without",
        "compose,pre-commit",
        "--with",
        "docker",
        "-d",
        "description=Orders API",
        "--defaults",
        *FAST,
    )
    assert result.code == 0, result.err
    answers = answers_of(tmp_path / "svc")
    assert answers["framework"] == "fastapi"
    assert answers["python_version"] == "3.11"
    assert answers["extensions"] == ["docker", "github"]
    assert answers["description"] == "Orders API"
    assert not (tmp_path / "svc" / "compose.yaml").exists()
    assert not (tmp_path / "svc" / ".pre-commit-config.yaml").exists()
    assert (tmp_path / "svc" / "Dockerfile").is_file()
    assert not (tmp_path / "svc" / "src" / "svc" / "gunicorn_conf.py").exists()  # uvicorn


GROUPED = [
    (group, member) for group, members in Registry.load(REPO).groups().items() for member in members
]


@pytest.mark.parametrize(("group", "member"), GROUPED, ids=[m for _, m in GROUPED])
def test_a_grouped_extension_answers_its_groups_question(
    scaffold: Any, tmp_path: Path, registry: Registry, group: str, member: str
) -> None:
    """--with <database> picks the group's answer; the summary and next steps show what it needs."""
    result = scaffold("new", "shop", "-f", "fastapi", "--with", member, "--defaults", *FAST)
    assert result.code == 0, result.err
    answers = answers_of(tmp_path / "shop")
    assert answers[group] == member
    assert member not in answers["extensions"]
    assert answers["extensions"] == list(registry.default_extensions("fastapi"))
    ext = registry.extensions[member]
    lines = [" ".join(line.split()) for line in result.err.splitlines()]
    assert f"{group.capitalize()} {member} ({ext.label})" in lines
    assert f"Extensions {', '.join(answers['extensions'])}" in lines
    server = registry.framework("fastapi").server.command(
        host="127.0.0.1", port=8000, package="shop"
    )
    steps = lines.index("uv run pytest # tests, with coverage")
    serve = lines.index(f"uv run {' '.join(server)}")
    prepare = ext.prepare.replace("{package}", "shop")
    assert prepare  # every database has a prepare step (migrations)
    assert lines.index(f"uv run {prepare}") in range(steps, serve)  # before the server
    required = [setting for setting in ext.settings if not setting.default]
    for setting in required:  # a setting with no default must be set, before the prepare step
        exported = [line for line in lines if line.startswith(f"export {setting.env}=")]
        assert len(exported) == 1
        assert f"# must be set: {setting.description}" in exported[0]
        assert lines.index(exported[0]) < lines.index(f"uv run {prepare}")
    if not required:
        assert not any(
            line.startswith("export ") and "=" in line[:40] for line in lines[steps:serve]
        )


def test_without_and_the_config_file_choose_a_grouped_extension(
    scaffold: Any, tmp_path: Path, registry: Registry
) -> None:
    group, members = next(iter(registry.groups().items()))
    config = tmp_path / "team.toml"
    config.write_text(f'with = ["{members[0]}"]\n')
    assert scaffold("new", "one", "--config", str(config), "--defaults", *FAST).code == 0
    assert answers_of(tmp_path / "one")[group] == members[0]
    # The command line overrides the config file: --without leaves it out, --with another.
    result = scaffold(
        "new", "two", "--config", str(config), "--without", members[0], "--defaults", *FAST
    )
    assert result.code == 0, result.err
    assert answers_of(tmp_path / "two")[group] == "none"
    result = scaffold(
        "new",
        "three",
        "--config",
        str(config),
        "--with",
        members[-1],
        "--without",
        members[0],
        "--defaults",
        *FAST,
    )
    assert result.code == 0, result.err
    assert answers_of(tmp_path / "three")[group] == members[-1]


def test_path_and_name_can_differ(scaffold: Any, tmp_path: Path) -> None:
    result = scaffold("new", "services/orders-v2", "--name", "orders", "--defaults", *FAST)
    assert result.code == 0, result.err
    assert answers_of(tmp_path / "services" / "orders-v2")["package_name"] == "orders"


def test_data_may_answer_what_an_option_would(scaffold: Any, tmp_path: Path) -> None:
    assert scaffold("new", "a1", "-d", "framework=bottle", "--defaults", *FAST).code == 0
    assert answers_of(tmp_path / "a1")["framework"] == "bottle"
    assert (
        scaffold("new", "a2", "-d", "framework=falcon", "-f", "falcon", "--defaults", *FAST).code
        == 0
    )


def test_config_file_supplies_defaults_that_options_override(scaffold: Any, tmp_path: Path) -> None:
    config = tmp_path / "team.toml"
    config.write_text(
        'framework = "falcon"\nwithout = ["github"]\n[data]\ndescription = "Team service"\n'
    )
    assert scaffold("new", "one", "--config", str(config), "--defaults", *FAST).code == 0
    answers = answers_of(tmp_path / "one")
    assert (answers["framework"], answers["description"]) == ("falcon", "Team service")
    assert "github" not in answers["extensions"]
    assert (
        scaffold(
            "new",
            "two",
            "--config",
            str(config),
            "--with",
            "github",
            "-f",
            "bottle",
            "--defaults",
            *FAST,
        ).code
        == 0
    )
    answers = answers_of(tmp_path / "two")
    assert answers["framework"] == "bottle"
    assert "github" in answers["extensions"]


def test_default_config_file_is_found(scaffold: Any, tmp_path: Path) -> None:
    config_dir = Path(os.environ["XDG_CONFIG_HOME"]) / "scaffolder"
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text('framework = "bottle"\n')
    assert scaffold("new", "svc", "--defaults", *FAST).code == 0
    assert answers_of(tmp_path / "svc")["framework"] == "bottle"


def test_without_a_terminal_missing_answers_fail_instead_of_waiting(
    scaffold: Any, tmp_path: Path
) -> None:
    result = scaffold("new", "shop")
    assert result.code == 2
    assert result.err.strip() == (
        "error: missing --framework, --python, --with/--without: stdin is not a terminal, so "
        "scaffold cannot ask; give them, or pass --defaults to take the defaults"
    )
    assert snapshot(tmp_path) == {}
    result = scaffold("new", "shop", "-f", "flask", "--python", "3.12", "--with", "docker", *FAST)
    assert result.code == 0, result.err


def test_lock_and_git_make_a_committed_project(scaffold: Any, tmp_path: Path) -> None:
    result = scaffold("new", "shop", "-f", "bottle", "--defaults")
    assert result.code == 0, result.err
    project = tmp_path / "shop"
    assert "bottle" in (project / "uv.lock").read_text()
    assert git(project, "status", "--porcelain") == ""
    tracked = git(project, "ls-files").split()
    assert "uv.lock" in tracked
    assert ".copier-answers.yml" in tracked
    assert "Initial commit" in git(project, "log", "--format=%s")
    assert "git: initialised" in result.err


def test_inside_an_existing_repository_no_nested_repository_is_made(
    scaffold: Any, tmp_path: Path
) -> None:
    git(tmp_path, "init", "--quiet")
    assert scaffold("new", "svc", "--defaults", "--no-lock").code == 0
    assert not (tmp_path / "svc" / ".git").exists()


# -- bad input: one line, the right exit code, nothing written (issue: reliability) -----------

BAD_INPUT = [
    (["new", "--name", "", "--defaults"], 2, "the project name is empty"),
    (["new", "--name", "   ", "--defaults"], 2, "the project name is empty"),
    (
        ["new", "1shop", "--defaults"],
        2,
        "starts with a digit, which a Python package cannot: try 'app-1shop'",
    ),
    (["new", "class", "--defaults"], 2, "'class' is a Python keyword"),
    (["new", "flask", "--defaults"], 2, "'flask' is the name of a distribution the starter"),
    (["new", "yaml", "--defaults"], 2, "'yaml' would shadow the yaml module of PyYAML, which"),
    (
        ["new", "shop", "-d", "registry={}", "--defaults"],
        2,
        "--data registry: registry is computed",
    ),
    (["new", "shop", "-d", "fw={}", "--defaults"], 2, "--data fw: fw is computed by the template"),
    (["new", "shop", "-d", "env_prefix=X_", "--defaults"], 2, "--data env_prefix: env_prefix is"),
    (["new", "json", "--defaults"], 2, "would shadow the standard library's json module"),
    (["new", "--name", "日本", "--defaults"], 2, "which has no ASCII spelling"),
    (["new", "--name", "x" * 300, "--defaults"], 2, "300 characters long; keep it to 40 or fewer"),
    (["new", "--name", "../x", "--defaults"], 2, "looks like a path"),
    (["new", "--name", "/abs", "--defaults"], 2, "looks like a path"),
    (["new", "--name", "a/b", "--defaults"], 2, "looks like a path"),
    (["new", "--name", "a;rm -rf", "--defaults"], 2, "contains ';', which cannot be in a name"),
    (["new", "--name", "$(id)", "--defaults"], 2, "contains '$' '(' ')'"),
    (
        ["new", "shop", "-f", "django", "--defaults"],
        2,
        f"unknown framework 'django'; choose from: {', '.join(Registry.load(REPO).frameworks)}",
    ),
    (["new", "shop", "-f", "flsk", "--defaults"], 2, "(did you mean flask?)"),
    (
        ["new", "shop", "--with", "k8s", "--defaults"],
        2,
        f"unknown extension 'k8s'; choose from: {', '.join(Registry.load(REPO).extensions)}",
    ),
    (["new", "shop", "--without", "k8s", "--defaults"], 2, "unknown extension 'k8s'"),
    (
        ["new", "shop", "--with", "compose", "--without", "docker", "--defaults"],
        2,
        "compose needs docker: add it, or leave compose out",
    ),
    (
        ["new", "shop", "--python", "3.9", "--defaults"],
        2,
        "unknown Python version '3.9'; choose from: 3.10, 3.11, 3.12, 3.13",
    ),
    (
        ["new", "shop", "--data", "novalue", "--defaults"],
        2,
        "--data 'novalue' has no '=': write it as KEY=VALUE",
    ),
    (["new", "shop", "--data", "=x", "--defaults"], 2, "--data '=x' needs a question name"),
    (
        ["new", "shop", "--data", "colour=red", "--defaults"],
        2,
        "--data colour: the template has no such question",
    ),
    (
        ["new", "shop", "-d", "framework=bottle", "-f", "flask", "--defaults"],
        2,
        "--data framework=bottle contradicts --framework flask",
    ),
    (["new", "shop", "-d", "extensions=[]", "--defaults"], 2, "use --with and --without"),
    *(
        (
            ["new", "shop", "-d", f"{group}={members[0]}", "--defaults"],
            2,
            f"--data {group}=... is not supported: use --with and --without "
            f"(one of: {', '.join(members)})",
        )
        for group, members in Registry.load(REPO).groups().items()
    ),
    *(
        (
            ["new", "shop", "--with", ",".join(members), "--defaults"],
            2,
            Registry.load(REPO).problems(Registry.load(REPO).default_framework, "3.12", members)[0],
        )
        for members in Registry.load(REPO).groups().values()
    ),
    (["new", "shop", "--frmework", "x"], 2, "No such option: --frmework"),
    (
        ["new", "shop", "--template", "/nonexistent/template", "--defaults"],
        1,
        "does not exist or is not a folder",
    ),
    (["check", "--shard", "9/4", "--list"], 2, "--shard '9/4': I must be between 1 and N"),
    (["check", "-f", "django", "--list"], 2, "unknown framework 'django'"),
]


@pytest.mark.parametrize(
    ("args", "code", "message"), BAD_INPUT, ids=[" ".join(a)[:40] for a, _, _ in BAD_INPUT]
)
def test_bad_input_is_one_clear_line_and_writes_nothing(
    scaffold: Any, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    (tmp_path / "keep.txt").write_text("user file")
    before = snapshot(tmp_path)
    result = scaffold(*args)
    assert result.code == code
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert "Traceback" not in result.err + result.out
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [("framework = ", "is not valid TOML"), ("colour = 'red'", "unknown key 'colour'")],
)
def test_bad_config_file_is_refused(
    scaffold: Any, tmp_path: Path, content: str, message: str
) -> None:
    (tmp_path / "bad.toml").write_text(content)
    before = snapshot(tmp_path)
    result = scaffold("new", "shop", "--config", "bad.toml", "--defaults")
    assert result.code == 2
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert snapshot(tmp_path) == before


def test_a_folder_that_is_not_a_copier_template_is_refused(scaffold: Any, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = scaffold("new", "shop", "--template", str(tmp_path / "empty"), "--defaults")
    assert result.code == 1
    assert (
        result.err.strip()
        == f"error: {tmp_path / 'empty'} is not a Copier template: it has no copier.yml"
    )
    assert not (tmp_path / "shop").exists()


def test_conflicting_extensions_are_refused_with_the_reason(scaffold: Any, tmp_path: Path) -> None:
    template = fork_template(tmp_path / "fork")
    registry = template / "templates" / "registry.yml"
    edit(
        registry,
        "  pre-commit:\n",
        "  gitlab:\n    label: GitLab CI\n    description: test\n    default: false\n"
        "    requires: []\n    conflicts: {github: one CI provider per project}\n"
        "    unsupported_frameworks: {}\n    dev_dependencies: []\n\n  pre-commit:\n",
    )
    result = scaffold(
        "new", "shop", "--template", str(template), "--with", "gitlab", "--defaults", *FAST
    )
    assert result.code == 2
    assert result.err.strip() == "error: gitlab conflicts with github: one CI provider per project"
    assert not (tmp_path / "shop").exists()


# -- destinations ------------------------------------------------------------------------------


def test_a_non_empty_destination_needs_force(scaffold: Any, tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "notes.txt").write_text("mine")
    before = snapshot(tmp_path)
    result = scaffold("new", "shop", "--defaults", *FAST)
    assert result.code == 2
    assert "exists and is not empty" in result.err
    assert "--force" in result.err
    assert snapshot(tmp_path) == before


def test_force_replaces_template_files_and_keeps_the_users_others(
    scaffold: Any, tmp_path: Path
) -> None:
    project = tmp_path / "shop"
    (project / "src" / "shop").mkdir(parents=True)
    (project / "notes.txt").write_text("mine")
    (project / "README.md").write_text("old readme")
    (project / "src" / "shop" / "extra.py").write_text("# mine\n")
    result = scaffold("new", "shop", "--defaults", "--force", *FAST)
    assert result.code == 0, result.err
    assert (project / "notes.txt").read_text() == "mine"
    assert (project / "src" / "shop" / "extra.py").read_text() == "# mine\n"
    assert (project / "README.md").read_text().startswith("# shop")
    assert (project / "src" / "shop" / "app.py").is_file()
    assert [p.name for p in tmp_path.iterdir() if ".scaffold-" in p.name] == []


def test_force_never_puts_a_file_where_a_folder_is(scaffold: Any, tmp_path: Path) -> None:
    (tmp_path / "shop" / "README.md").mkdir(parents=True)
    before = snapshot(tmp_path)
    result = scaffold("new", "shop", "--defaults", "--force", *FAST)
    assert result.code == 1
    assert "is a folder in the way of the template's own" in error_line(result)
    assert snapshot(tmp_path) == before
    assert [p.name for p in tmp_path.iterdir()] == ["shop"]


def test_a_destination_that_is_a_file_is_refused(scaffold: Any, tmp_path: Path) -> None:
    (tmp_path / "shop").write_text("a file")
    result = scaffold("new", "shop", "--defaults", *FAST)
    assert result.code == 1
    assert result.err.strip() == f"error: {tmp_path / 'shop'} exists and is not a folder"


def mount_tmpfs(where: Path, options: str) -> bool:
    where.mkdir()
    return mount("-t", "tmpfs", "-o", options, "tmpfs", str(where))


@pytest.fixture
def small_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A nearly full disk: a real 64 KiB tmpfs as root, else writes that fail with ENOSPC."""
    disk = tmp_path / "disk"
    if mount_tmpfs(disk, "size=64k"):
        yield disk
        subprocess.run(["umount", str(disk)], check=False)
        return
    import copier

    real = copier.run_copy

    def fill_up(src: str, dst: Path, **kwargs: Any) -> Any:
        real(src, dst, **kwargs)
        raise OSError(28, "No space left on device", str(dst))

    monkeypatch.setattr(copier, "run_copy", fill_up)
    yield disk


def test_a_full_disk_is_reported_and_nothing_is_left(scaffold: Any, small_disk: Path) -> None:
    (small_disk / "filler").write_bytes(b"x" * 16 * 1024)
    before = snapshot(small_disk)
    result = scaffold("new", str(small_disk / "shop"), "--defaults", *FAST)
    assert result.code == 1
    assert error_line(result).startswith("error: no space left on the device holding")
    assert snapshot(small_disk) == before
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def test_a_read_only_destination_is_refused(
    scaffold: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readonly = tmp_path / "ro"
    if not mount_tmpfs(readonly, "ro,size=64k"):
        readonly.chmod(0o555)  # effective only when not running as root
        if os.access(readonly, os.W_OK):
            monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)
    try:
        result = scaffold("new", str(readonly / "shop"), "--defaults", *FAST)
        assert result.code == 1
        assert (
            result.err.strip()
            == f"error: cannot create {readonly / 'shop'}: {readonly} is not writable"
        )
        assert list(readonly.iterdir()) == []
    finally:
        subprocess.run(["umount", str(readonly)], check=False, capture_output=True)


def test_an_interrupted_render_leaves_nothing_behind(
    scaffold: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import copier

    real = copier.run_copy
    seen: list[Path] = []

    def interrupted(src: str, dst: Path, **kwargs: Any) -> Any:
        real(src, dst, **kwargs)  # the staging folder is full of files by now
        seen.extend(Path(dst).rglob("*"))
        raise KeyboardInterrupt

    monkeypatch.setattr(copier, "run_copy", interrupted)
    (tmp_path / "keep.txt").write_text("user file")
    before = snapshot(tmp_path)
    result = scaffold("new", "deep/er/shop", "--defaults", *FAST)
    assert seen, "the render had written files before the interrupt"
    assert result.code == 130
    assert error_line(result) == "error: interrupted; nothing was written"
    assert snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]  # no parents, no staging


def test_a_template_error_mid_render_leaves_nothing_behind(scaffold: Any, tmp_path: Path) -> None:
    template = fork_template(tmp_path / "fork")
    edit(template / "templates" / "flask" / "app.py.jinja", "import json", "{{ broken(")
    from .templates import commit

    commit(template, "break the flask app", tag="v1.0.1")
    result = scaffold("new", "shop", "--template", str(template), "--defaults", *FAST)
    assert result.code == 1
    assert error_line(result).startswith("error: template error in")
    assert not (tmp_path / "shop").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["fork"]


def test_a_template_with_tasks_needs_trust(scaffold: Any, tmp_path: Path) -> None:
    template = fork_template(tmp_path / "fork")
    with (template / "copier.yml").open("a") as config:
        config.write('\n_tasks:\n  - "touch task-ran"\n')
    from .templates import commit

    commit(template, "add a task", tag="v1.1.0")
    result = scaffold("new", "shop", "--template", str(template), "--defaults", *FAST)
    assert result.code == 2
    assert "wants to run code" in error_line(result)
    assert "--trust" in result.err
    assert not (tmp_path / "shop").exists()
    result = scaffold("new", "shop", "--template", str(template), "--defaults", "--trust", *FAST)
    assert result.code == 0, result.err
    assert (tmp_path / "shop" / "task-ran").exists()


def test_unexpected_errors_are_one_line_unless_debug(
    scaffold: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scaffolder.project

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk controller on fire")

    monkeypatch.setattr(scaffolder.project, "render", broken)
    result = scaffold("new", "shop", "--defaults", *FAST)
    assert result.code == 1
    assert error_line(result) == (
        "error: unexpected RuntimeError: disk controller on fire "
        "(run with --debug for the traceback)"
    )
    with pytest.raises(RuntimeError):
        scaffold("--debug", "new", "shop2", "--defaults", *FAST)


def test_new_into_the_current_empty_folder_keeps_that_folder(
    scaffold: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = tmp_path / "orders"
    here.mkdir()
    monkeypatch.chdir(here)
    inode = here.stat().st_ino
    result = scaffold("new", ".", "--defaults", *FAST)
    assert result.code == 0, result.err
    assert answers_of(here)["project_name"] == "orders"
    assert here.stat().st_ino == inode  # the shell's working directory was not replaced
    assert Path.cwd() == here
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders"]


def test_a_git_url_template_is_recorded_as_given_and_its_clone_removed(tmp_path: Path) -> None:
    template = fork_template(tmp_path / "fork")
    url = f"git+file://{template}"
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    done = scaffold_process(
        "new",
        "shop",
        "--template",
        url,
        "-f",
        "bottle",
        "--defaults",
        *FAST,
        cwd=tmp_path,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    assert done.returncode == 0, done.stderr
    answers = answers_of(tmp_path / "shop")
    assert (answers["_src_path"], answers["_commit"]) == (url, "v1.0.0")
    assert answers["framework"] == "bottle"
    assert list(scratch.iterdir()) == []  # the clone read for the registry is gone


def test_typer_cli_runner_drives_the_commands(tmp_path: Path, registry: Registry) -> None:
    """The Typer app under Typer's CliRunner; errors become exit codes one level up, in
    `cli.run` (the console script), which the tests above drive."""
    from typer.testing import CliRunner

    from scaffolder.cli import app

    runner = CliRunner()
    listed = runner.invoke(app, ["list", "--json"])
    assert listed.exit_code == 0
    assert json.loads(listed.stdout) == registry.to_json()
    created = runner.invoke(app, ["new", "svc", "-f", "falcon", "--defaults", *FAST])
    assert created.exit_code == 0, created.output
    assert answers_of(tmp_path / "svc")["framework"] == "falcon"
    refused = runner.invoke(app, ["new", "svc2", "-f", "django", "--defaults"])
    assert refused.exit_code != 0
    assert "unknown framework 'django'" in str(refused.exception)
