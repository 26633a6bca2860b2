"""The registry: what it offers, its defaults, and every rule with its reason."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from scaffolder.errors import TemplateError, UsageError
from scaffolder.registry import Registry

from .conftest import REPO
from .templates import commit, edit, fork_template


def raw_registry() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "templates" / "registry.yml").read_text())
    return data


def with_rules() -> Registry:
    """The real registry plus one rule of every kind, to exercise the rules themselves."""
    data = copy.deepcopy(raw_registry())
    data["frameworks"]["fastapi"]["python_unsupported"] = {"3.10": "needs 3.11 (test rule)"}
    data["extensions"]["gitlab"] = {
        "label": "GitLab CI",
        "description": "test-only extension",
        "default": False,
        "requires": [],
        "conflicts": {"github": "one CI provider per project"},
        "unsupported_frameworks": {"bottle": "not for bottle (test rule)"},
        "dev_dependencies": [],
    }
    return Registry.from_mapping(data)


def test_the_four_foundation_frameworks_are_registered(registry: Registry) -> None:
    # Later frameworks (issue 14 and on) may sit between them; these four stay, in this order.
    foundation = [
        name for name in registry.frameworks if name in {"flask", "fastapi", "falcon", "bottle"}
    ]
    assert foundation == ["flask", "fastapi", "falcon", "bottle"]
    assert registry.default_framework == "flask"
    assert registry.python_versions == ("3.10", "3.11", "3.12", "3.13")
    for framework in registry.frameworks.values():
        assert framework.server.argv
        assert framework.test_client
        assert framework.description
        assert (REPO / "templates" / framework.name / "app.py.jinja").is_file()


def test_defaults(registry: Registry) -> None:
    assert registry.default_extensions("flask") == ("docker", "compose", "github", "pre-commit")
    assert registry.default_python_for("flask") == "3.12"


def test_server_command_fills_placeholders(registry: Registry) -> None:
    command = registry.framework("fastapi").server.command(
        host="127.0.0.1", port=9000, package="shop"
    )
    assert command == [
        "uvicorn",
        "shop.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        "9000",
    ]


def test_a_valid_combination_has_no_problems(registry: Registry) -> None:
    assert registry.problems("bottle", "3.10", ["docker", "compose"]) == []


@pytest.mark.parametrize(
    ("framework", "python", "extensions", "expected"),
    [
        (
            "flsk",
            "3.12",
            [],
            "unknown framework 'flsk' (did you mean flask?); choose from: flask, fastapi",
        ),
        ("flask", "3.9", [], "unknown Python version '3.9'; choose from: 3.10, 3.11, 3.12, 3.13"),
        ("fastapi", "3.10", [], "fastapi does not support Python 3.10: needs 3.11 (test rule)"),
        ("flask", "3.12", ["dokcer"], "unknown extension 'dokcer' (did you mean docker?)"),
        ("flask", "3.12", ["compose"], "compose needs docker: add it, or leave compose out"),
        (
            "flask",
            "3.12",
            ["github", "gitlab"],
            "gitlab conflicts with github: one CI provider per project",
        ),
        (
            "bottle",
            "3.12",
            ["gitlab"],
            "bottle does not support gitlab: not for bottle (test rule)",
        ),
    ],
)
def test_each_rule_gives_its_reason(
    framework: str, python: str, extensions: list[str], expected: str
) -> None:
    registry = with_rules()
    problems = registry.problems(framework, python, extensions)
    assert len(problems) == 1
    assert problems[0].startswith(expected)
    with pytest.raises(UsageError, match="^" + expected.split("(")[0]):
        registry.check(framework, python, extensions)


def test_unsupported_choices_are_dropped_from_defaults() -> None:
    registry = with_rules()
    assert registry.python_versions_for("fastapi") == ("3.11", "3.12", "3.13")
    assert "gitlab" not in registry.default_extensions("bottle")


def test_json_view_lists_support_and_reasons() -> None:
    data = with_rules().to_json()
    gitlab = next(ext for ext in data["extensions"] if ext["name"] == "gitlab")
    assert gitlab["frameworks"] == [name for name in data_names(data) if name != "bottle"]
    assert gitlab["unsupported_frameworks"] == {"bottle": "not for bottle (test rule)"}
    fastapi = next(fw for fw in data["frameworks"] if fw["name"] == "fastapi")
    assert fastapi["python"] == ["3.11", "3.12", "3.13"]
    assert fastapi["server"] == "uvicorn"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["frameworks"]["flask"].pop("server"),
            "frameworks.flask.server: missing (required)",
        ),
        (
            # The typo that used to drop the test client silently.
            lambda d: d["frameworks"]["bottle"].update(
                dev_dependecies=d["frameworks"]["bottle"].pop("dev_dependencies")
            ),
            "frameworks.bottle.dev_dependecies: unknown key (did you mean dev_dependencies?); "
            "expected one of: label, description,",
        ),
        (
            lambda d: d["frameworks"]["flask"]["server"].update(args=[]),
            "frameworks.flask.server.args: unknown key (did you mean argv?)",
        ),
        (
            lambda d: d["extensions"]["docker"].update(defualt=True),
            "extensions.docker.defualt: unknown key (did you mean default?)",
        ),
        (lambda d: d.update(frameworkz={}), "frameworkz: unknown key (did you mean frameworks?)"),
        (
            lambda d: d["services"]["postgresql"].update(port_evn="PGPORT"),
            "services.postgresql.port_evn: unknown key (did you mean port_env?)",
        ),
        (
            lambda d: d["frameworks"]["flask"].update(dependencies="flask"),
            "frameworks.flask.dependencies: expected a list of strings, got the string 'flask'",
        ),
        (
            lambda d: d["extensions"]["docker"].update(default="yes"),
            "extensions.docker.default: expected true or false, got the string 'yes'",
        ),
        (
            lambda d: d["frameworks"]["flask"]["server"].update(threads=True),
            "frameworks.flask.server.threads: expected a whole number, got a boolean",
        ),
        (
            lambda d: d["python"].update(versions=[3.10]),
            "python.versions[0]: expected a string, got a number",
        ),
        (
            lambda d: d["frameworks"]["fastapi"]["python_unsupported"].update({"3.10": None}),
            "frameworks.fastapi.python_unsupported.3.10: expected a string, got nothing",
        ),
        (lambda d: d["frameworks"].update(django=None), "frameworks.django: expected a mapping"),
        (
            lambda d: d.update(default_framework="django"),
            "unknown name in default_framework 'django'",
        ),
        (
            lambda d: d["extensions"]["compose"].update(requires=["kubernetes"]),
            "compose -> 'kubernetes'",
        ),
        (lambda d: d.pop("python"), "python: missing (required)"),
        (
            lambda d: d["frameworks"]["flask"].update(layuot="root"),
            "frameworks.flask.layuot: unknown key (did you mean layout?)",
        ),
        (
            lambda d: d["frameworks"]["flask"].update(layout="root"),
            "frameworks.flask.layout 'root' (expected src, or root with modules)",
        ),
        (
            lambda d: d["frameworks"]["flask"].update(check_command=["x"]),
            "frameworks.flask.check_command: unknown key (did you mean check_commands?)",
        ),
        (
            lambda d: d["frameworks"]["flask"].update(engine_option={}),
            "frameworks.flask.engine_option: unknown key (did you mean engine_options?)",
        ),
        (
            lambda d: d["frameworks"]["flask"].update(file=["x"]),
            "frameworks.flask.file: unknown key (did you mean files?)",
        ),
        (
            lambda d: d["frameworks"]["flask"]["server"].update(probe_exemptions=["chunked"]),
            "frameworks.flask.server.probe_exemptions 'chunked' (expected \"<check>: <reason>\")",
        ),
        (
            lambda d: d["frameworks"]["flask"]["server"].update(probe_exemption=[]),
            "frameworks.flask.server.probe_exemption: unknown key (did you mean probe_exemptions?)",
        ),
    ],
)
def test_a_malformed_registry_names_the_file_the_key_and_what_is_expected(
    mutate: Any, message: str
) -> None:
    data = copy.deepcopy(raw_registry())
    mutate(data)
    with pytest.raises(TemplateError) as refused:
        Registry.from_mapping(data, source="templates/registry.yml")
    assert str(refused.value).startswith("templates/registry.yml")
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def plain(value: Any) -> Any:
    """A parsed registry value as the YAML had it: dataclasses, tuples, mappings -> dict, list."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # Fields left at their default were not written in the YAML.
        return {
            f.name: plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.default is dataclasses.MISSING or getattr(value, f.name) != f.default
        }
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    return value


def test_every_registry_key_the_template_reads_is_in_the_schema() -> None:
    """The dataclasses are the schema: each key of the real registry parses, value intact."""
    data = raw_registry()
    registry = Registry.from_mapping(data)
    for section, parsed in (
        ("frameworks", registry.frameworks),
        ("extensions", registry.extensions),
        ("services", registry.services),
    ):
        for name, entry in data[section].items():
            assert {k: plain(getattr(parsed[name], k)) for k in entry} == entry


def test_a_misspelt_registry_key_fails_scaffold_with_the_file_and_path(
    tmp_path: Path, scaffold: Any
) -> None:
    fork = fork_template(tmp_path / "fork")
    edit(
        fork / "templates" / "registry.yml",
        "  bottle:\n",
        "  bottle:\n    dev_dependecies: [webtest]\n",
    )
    commit(fork, "typo", tag="v1.0.1")
    result = scaffold(
        "new", str(tmp_path / "shop"), "-f", "bottle", "--defaults", "--template", str(fork)
    )
    assert result.code == 1
    assert result.err.strip().endswith(
        "registry.yml: frameworks.bottle.dev_dependecies: unknown key (did you mean "
        "dev_dependencies?); expected one of: label, description, kind, handlers, homepage, "
        "test_client, server, dependencies, python_unsupported, dev_dependencies, "
        "pytest_filterwarnings, pytest_asyncio, mypy_overrides, build_packages, readme, stores, "
        "store_dependencies, layout, modules, files, ignore, engine_options, check_commands"
    )
    assert not (tmp_path / "shop").exists()


def test_a_misspelt_variable_in_a_template_file_fails_the_render_with_its_name(
    tmp_path: Path, scaffold: Any
) -> None:
    """Copier renders with StrictUndefined (copier.yml `_envops`), for plain Copier too."""
    fork = fork_template(tmp_path / "fork")
    pyproject = fork / "templates" / "common" / "pyproject.toml.jinja"
    lines = pyproject.read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "fw.dev_dependencies" in text)
    edit(pyproject, "fw.dev_dependencies", "fw.dev_dependecies")
    commit(fork, "typo", tag="v1.0.1")
    result = scaffold("new", str(tmp_path / "shop"), "--defaults", "--template", str(fork))
    assert result.code == 1
    assert f"template error in templates/common/pyproject.toml.jinja:{line}: " in result.err
    assert "has no attribute 'dev_dependecies'" in result.err
    assert not (tmp_path / "shop").exists()

    import copier
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError, match="dev_dependecies"):
        copier.run_copy(
            str(fork), tmp_path / "plain", data={"project_name": "shop"}, defaults=True, quiet=True
        )


def test_a_folder_without_registry_is_not_a_scaffolder_template(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="not a scaffolder template"):
        Registry.load(tmp_path)


def test_invalid_yaml_is_reported(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "registry.yml").write_text("frameworks: [unclosed\n")
    with pytest.raises(TemplateError, match="is not valid YAML"):
        Registry.load(tmp_path)


def data_names(data: dict[str, Any]) -> list[str]:
    """The frameworks of a registry's JSON view, in order."""
    return [fw["name"] for fw in data["frameworks"]]
