"""The registry: what it offers, its defaults, and every rule with its reason."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from scaffolder.errors import TemplateError, UsageError
from scaffolder.registry import Registry

from .conftest import REPO


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
    assert list(registry.frameworks) == ["flask", "fastapi", "falcon", "bottle"]
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
    assert gitlab["frameworks"] == ["flask", "fastapi", "falcon"]
    assert gitlab["unsupported_frameworks"] == {"bottle": "not for bottle (test rule)"}
    fastapi = next(fw for fw in data["frameworks"] if fw["name"] == "fastapi")
    assert fastapi["python"] == ["3.11", "3.12", "3.13"]
    assert fastapi["server"] == "uvicorn"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["frameworks"]["flask"].pop("server"),
            "malformed: missing or wrong-typed entry 'server'",
        ),
        (
            lambda d: d.update(default_framework="django"),
            "unknown name in default_framework 'django'",
        ),
        (
            lambda d: d["extensions"]["compose"].update(requires=["kubernetes"]),
            "compose -> 'kubernetes'",
        ),
        (lambda d: d.pop("python"), "missing or wrong-typed entry 'python'"),
    ],
)
def test_a_malformed_registry_is_reported(mutate: Any, message: str) -> None:
    data = copy.deepcopy(raw_registry())
    mutate(data)
    with pytest.raises(TemplateError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Registry.from_mapping(data)


def test_a_folder_without_registry_is_not_a_scaffolder_template(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="not a scaffolder template"):
        Registry.load(tmp_path)


def test_invalid_yaml_is_reported(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "registry.yml").write_text("frameworks: [unclosed\n")
    with pytest.raises(TemplateError, match="is not valid YAML"):
        Registry.load(tmp_path)
