"""The template's Jinja environment as Copier builds it (its default extensions, the template's
`_envops`, the template root as loader), to evaluate copier.yml validators and macros fast."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from .conftest import REPO


@functools.cache
def copier_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((REPO / "copier.yml").read_text())
    return config


@functools.cache
def environment() -> SandboxedEnvironment:
    envops = dict(copier_config().get("_envops", {}))
    assert envops.pop("undefined") == "jinja2.StrictUndefined"
    return SandboxedEnvironment(
        loader=FileSystemLoader(REPO),
        extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        **envops,
    )


def validate(question: str, answer: Any, **context: Any) -> str:
    """The message copier.yml's validator gives for `answer` ('' when it accepts it)."""
    validator = copier_config()[question].get("validator", "")
    rendered: str = environment().from_string(validator).render(**context, **{question: answer})
    return rendered.strip()


def macro(name: str, *args: Any, **kwargs: Any) -> str:
    """Call a macro of templates/macros.jinja."""
    module = environment().get_template("templates/macros.jinja").make_module({})
    result: str = str(getattr(module, name)(*args, **kwargs))
    return result


def plain_copy(target: Path) -> Path:
    """The template (copier.yml + templates/) as a plain folder, working-tree edits included:
    Copier renders it in place (~0.2 s) instead of cloning a git template first."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "copier.yml", target / "copier.yml")
    shutil.copytree(REPO / "templates", target / "templates", dirs_exist_ok=True)
    return target


def render(template: Path, destination: Path, answers: Mapping[str, Any]) -> Path:
    """Render in-process with Copier, every other question at its default; no lock, no git."""
    import copier

    copier.run_copy(
        str(template), destination, data=dict(answers), defaults=True, quiet=True, overwrite=True
    )
    return destination
