"""Answers from the command line and the config file: parsing and checking, nothing else.

The user config file (`$XDG_CONFIG_HOME/scaffolder/config.toml`, or `--config FILE`, or
`$SCAFFOLDER_CONFIG`) holds a team's defaults for `scaffold new`:

    framework = "fastapi"
    python = "3.12"
    with = ["docker"]
    without = ["pre-commit"]
    template = "gh:acme/starters"
    git = true
    lock = true

    [data]
    description = "An ACME service."
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scaffolder.errors import UsageError


@dataclass(frozen=True)
class Config:
    framework: str | None = None
    python: str | None = None
    with_: tuple[str, ...] = ()
    without: tuple[str, ...] = ()
    template: str | None = None
    git: bool | None = None
    lock: bool | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


# Each key of the config file: its type, and how to say it in an error.
_CONFIG_KEYS: dict[str, tuple[type, str]] = {
    "framework": (str, "a string"),
    "python": (str, 'a string such as "3.12"'),
    "with": (list, "a list of extension names"),
    "without": (list, "a list of extension names"),
    "template": (str, "a path or git URL"),
    "git": (bool, "true or false"),
    "lock": (bool, "true or false"),
    "data": (dict, "a table of answers"),
}


def parse_data(items: Iterable[str]) -> dict[str, str]:
    """Parse repeated `--data KEY=VALUE` options; the value may itself contain '='."""
    data: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep:
            raise UsageError(f"--data {item!r} has no '=': write it as KEY=VALUE")
        if not key.isidentifier():
            raise UsageError(
                f"--data {item!r} needs a question name before '=' (e.g. description=Shop)"
            )
        data[key] = value
    return data


def split_csv(values: Iterable[str]) -> list[str]:
    """`--with a,b --with c` -> ["a", "b", "c"], dropping blanks and repeats."""
    result: list[str] = []
    for value in values:
        for part in value.split(","):
            if (name := part.strip()) and name not in result:
                result.append(name)
    return result


def computed_questions(questions: Mapping[str, Any]) -> set[str]:
    """The template's computed answers: entries of copier.yml with `when: false`.

    Copier never asks them and never records them; the template derives them itself.
    """
    return {
        key
        for key, question in questions.items()
        if isinstance(question, Mapping) and str(question.get("when", True)).lower() == "false"
    }


def check_data_keys(data: Mapping[str, Any], questions: Mapping[str, Any]) -> None:
    """Refuse answers to questions the template does not ask, and to its computed answers."""
    computed = computed_questions(questions)
    asked = sorted(key for key in questions if key not in computed)
    for key in data:
        if key in computed:
            raise UsageError(
                f"--data {key}: {key} is computed by the template, not a question; "
                f"it asks: {', '.join(asked)}"
            )
        if key not in asked:
            raise UsageError(
                f"--data {key}: the template has no such question; it asks: {', '.join(asked)}"
            )


def config_path(explicit: Path | None) -> Path | None:
    """The config file to read: --config, then $SCAFFOLDER_CONFIG, then the default if present."""
    return config_origin(explicit)[0]


def config_origin(explicit: Path | None) -> tuple[Path | None, str]:
    """The config file to read and why: `--config`, `$SCAFFOLDER_CONFIG`, the default location
    (when the file is there), or none."""
    if explicit is not None:
        return explicit, "--config"
    if env := os.environ.get("SCAFFOLDER_CONFIG"):
        return Path(env), "$SCAFFOLDER_CONFIG"
    default = default_config_path()
    if default.is_file():
        return default, "the default location"
    return None, f"none ({default} does not exist)"


def default_config_path() -> Path:
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "scaffolder" / "config.toml"


@dataclass(frozen=True)
class Value:
    """One effective default for `scaffold new` and where it comes from."""

    key: str
    value: Any
    source: str


def effective(explicit: Path | None, *, registry_of: Any) -> tuple[str, list[Value]]:
    """Each default `scaffold new` starts from, and its source: the config file, or the
    template's registry, or scaffolder's own default. Options on the command line (--framework,
    --with, ...) override every one of them; `--data` overrides the file's [data].

    `registry_of(template)` loads the registry of a template (None: the bundled one).
    """
    path, why = config_origin(explicit)
    config = load_config(path)
    where = f"config file {path}" if path is not None else ""
    template_source = where if config.template else "scaffolder (the bundled template)"
    registry = registry_of(config.template)
    from_template = "the template's registry"

    def pick(value: Any, fallback: Any, fallback_source: str) -> tuple[Any, str]:
        return (value, where) if value is not None else (fallback, fallback_source)

    framework, framework_source = pick(config.framework, registry.default_framework, from_template)
    python, python_source = pick(
        config.python, registry.default_python_for(framework), from_template
    )
    from scaffolder.project import resolve_extensions  # the same rules as `scaffold new`

    chosen, notes = resolve_extensions(
        registry,
        framework,
        python,
        registry.default_extensions(framework),
        add=[e for e in config.with_ if e not in config.without],
        remove=config.without,
    )
    extensions_source = (
        "; ".join([f"{from_template}'s defaults, with/without from {where}", *notes])
        if config.with_ or config.without
        else f"{from_template}'s defaults"
    )
    values = [
        Value("template", config.template or "bundled", template_source),
        Value("framework", framework, framework_source),
        Value("python", python, python_source),
        Value("extensions", [e for e in registry.extensions if e in chosen], extensions_source),
        Value("git", *pick(config.git, True, "scaffolder's default")),
        Value("lock", *pick(config.lock, True, "scaffolder's default")),
        *(Value(f"data.{key}", value, where) for key, value in config.data.items()),
    ]
    return (f"{path} (from {why})" if path is not None else why), values


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"config file {path} cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"config file {path} is not valid TOML: {exc}") from None
    for key, value in raw.items():
        if key not in _CONFIG_KEYS:
            valid = ", ".join(_CONFIG_KEYS)
            raise UsageError(f"config file {path}: unknown key {key!r}; valid keys: {valid}")
        expected, described = _CONFIG_KEYS[key]
        strings_only = not isinstance(value, list) or all(isinstance(v, str) for v in value)
        if not isinstance(value, expected) or not strings_only:
            raise UsageError(f"config file {path}: {key!r} must be {described}")
    return Config(
        framework=raw.get("framework"),
        python=raw.get("python"),
        with_=tuple(split_csv(raw.get("with", []))),
        without=tuple(split_csv(raw.get("without", []))),
        template=raw.get("template"),
        git=raw.get("git"),
        lock=raw.get("lock"),
        data={str(k): v for k, v in raw.get("data", {}).items()},
    )
