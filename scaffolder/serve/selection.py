"""Query parameters -> a checked selection, through the library API the CLI uses.

The parameters mirror `scaffold new`'s options, so a URL and a command line say the same:

    name=shop  framework=fastapi  python=3.12  with=postgres,docker  without=github
    description=...    (free text, the template's own question)
    extensions=a,b     (the exact set instead of with/without: what the page's form sends)

Every value is checked by `scaffolder.project.plan` (the CLI's `UsageError` messages); the 400
answer adds which parameter was wrong and its valid values. No parameter names a path or a
template: the template is the one `scaffold serve` started with.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from scaffolder.answers import split_csv
from scaffolder.errors import UsageError
from scaffolder.names import MAX_LENGTH, derive_names
from scaffolder.project import ProjectSpec, plan
from scaffolder.registry import Registry

DEFAULT_NAME = "demo"
PARAMETERS = ("name", "framework", "python", "with", "without", "extensions", "description")
_SINGLE = ("name", "framework", "python", "description")
MAX_DESCRIPTION = 300  # characters
MAX_VALUES = 64  # repeated values of one parameter
NAME_RULE = (
    f"a name of at most {MAX_LENGTH} characters: letters, digits, spaces, '.', '_' and '-', "
    "starting with a letter, not a Python keyword or a module the starter uses"
)


class BadRequest(Exception):
    """A parameter is refused: the CLI's message, the parameter, its value and valid values."""

    def __init__(
        self, message: str, *, parameter: str | None, value: Any = None, valid: Any = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.parameter = parameter
        self.value = value
        self.valid = valid

    def to_json(self) -> dict[str, Any]:
        return {
            "error": self.message,
            "parameter": self.parameter,
            "value": self.value,
            "valid": self.valid,
        }


@dataclass(frozen=True)
class Selection:
    """A checked request: the plan, and what the page shows about it."""

    spec: ProjectSpec
    typed_name: str
    description: str | None

    def key(self) -> tuple[Any, ...]:
        """What the rendered files depend on (with the template's commit: the cache key)."""
        spec = self.spec
        return (
            spec.names.project,
            spec.names.package,
            spec.framework,
            spec.python_version,
            spec.extensions,
            self.description,
        )

    def changes(self, registry: Registry) -> tuple[list[str], list[str]]:
        """The extensions added to and removed from the framework's defaults."""
        defaults = registry.default_extensions(self.spec.framework)
        added = [ext for ext in self.spec.extensions if ext not in defaults]
        removed = [ext for ext in defaults if ext not in self.spec.extensions]
        return added, removed

    def query(self, registry: Registry) -> str:
        """The canonical query string: the share link's, and the archives'."""
        added, removed = self.changes(registry)
        items = [
            ("name", self.typed_name),
            ("framework", self.spec.framework),
            ("python", self.spec.python_version),
        ]
        if added:
            items.append(("with", ",".join(added)))
        if removed:
            items.append(("without", ",".join(removed)))
        if self.description is not None:
            items.append(("description", self.description))
        return urlencode(items)

    def command(self, registry: Registry) -> str:
        """The equivalent `scaffold new` command line."""
        added, removed = self.changes(registry)
        args = ["scaffold", "new", self.spec.names.project]
        if self.typed_name != self.spec.names.project:
            args += ["--name", self.typed_name]
        args += ["--framework", self.spec.framework, "--python", self.spec.python_version]
        if added:
            args += ["--with", ",".join(added)]
        if removed:
            args += ["--without", ",".join(removed)]
        if self.description is not None:
            args += ["--data", f"description={self.description}"]
        args.append("--defaults")
        return shlex.join(args)


def parse(registry: Registry, items: Iterable[tuple[str, str]]) -> Selection:
    """Check query parameters; a `BadRequest` names the first problem, as the CLI would."""
    values: dict[str, list[str]] = {}
    for key, value in items:
        if key not in PARAMETERS:
            raise BadRequest(
                f"unknown parameter {key!r}; valid parameters: {', '.join(PARAMETERS)}",
                parameter=key,
                valid=list(PARAMETERS),
            )
        values.setdefault(key, []).append(value)
        if len(values[key]) > MAX_VALUES:
            raise BadRequest(
                f"parameter {key!r} is repeated more than {MAX_VALUES} times",
                parameter=key,
            )
    for key in _SINGLE:
        if len(values.get(key, [])) > 1:
            raise BadRequest(f"parameter {key!r} is given more than once", parameter=key)
    single = {key: found[0] for key, found in values.items() if key in _SINGLE}
    exact = "extensions" in values
    if exact and ("with" in values or "without" in values):
        raise BadRequest(
            "give either extensions=... (the exact set) or with=/without=... (changes to the "
            "framework's defaults), not both",
            parameter="extensions",
        )
    framework = single.get("framework") or None
    _check_framework(registry, framework)
    fw = framework or registry.default_framework
    python = single.get("python") or None
    _check_python(registry, fw, python)
    extensions = split_csv(values["extensions"]) if exact else None
    added = split_csv(values.get("with", []))
    removed = split_csv(values.get("without", []))
    checked = (("extensions", extensions or []), ("with", added), ("without", removed))
    for parameter, chosen in checked:
        _check_extensions(registry, fw, parameter, chosen)
    name = single.get("name", "").strip() or DEFAULT_NAME
    try:
        derive_names(name, reserved=registry.reserved_names)
    except UsageError as exc:
        raise BadRequest(str(exc), parameter="name", value=name, valid=NAME_RULE) from None
    description = single.get("description") or None  # an empty form field: the default
    data: dict[str, Any] = {}
    if description is not None:
        _check_description(description)
        data["description"] = description
    try:
        spec = plan(
            registry,
            name=name,
            framework=framework,
            python=python,
            extensions=extensions,
            add=added,
            remove=removed,
            data=data,
        )
    except UsageError as exc:  # the names were checked: a rule between extensions
        raise BadRequest(
            str(exc),
            parameter="extensions" if exact else "with",
            value=extensions if exact else added,
            valid=_valid_extensions(registry, fw),
        ) from None
    return Selection(spec=spec, typed_name=name, description=description)


def _check_framework(registry: Registry, framework: str | None) -> None:
    if framework is None:
        return
    try:
        registry.framework(framework)
    except UsageError as exc:
        raise BadRequest(
            str(exc), parameter="framework", value=framework, valid=list(registry.frameworks)
        ) from None


def _check_python(registry: Registry, framework: str, python: str | None) -> None:
    if python is None:
        return
    problems = registry.problems(framework, python, [])
    if problems:
        raise BadRequest(
            problems[0],
            parameter="python",
            value=python,
            valid=list(registry.python_versions_for(framework)),
        )


def _check_extensions(
    registry: Registry, framework: str, parameter: str, chosen: Sequence[str]
) -> None:
    for name in chosen:
        # --without of an extension the framework cannot take is no error in the CLI either.
        unsupported = (
            parameter != "without"
            and name in registry.extensions
            and (framework in registry.extensions[name].unsupported_frameworks)
        )
        if name not in registry.extensions or unsupported:
            message = registry.problems(framework, registry.default_python_for(framework), [name])
            raise BadRequest(
                message[0],
                parameter=parameter,
                value=name,
                valid=_valid_extensions(registry, framework),
            )


def _valid_extensions(registry: Registry, framework: str) -> list[str]:
    return [
        name
        for name, ext in registry.extensions.items()
        if framework not in ext.unsupported_frameworks
    ]


def _check_description(description: str) -> None:
    if len(description) > MAX_DESCRIPTION:
        raise BadRequest(
            f"description is {len(description)} characters long; keep it to "
            f"{MAX_DESCRIPTION} or fewer",
            parameter="description",
            valid=f"free text of at most {MAX_DESCRIPTION} characters",
        )
    # What copier.yml's description validator refuses (plain Copier refuses them too).
    if any(0xD800 <= ord(char) <= 0xDFFF for char in description) or "\x85" in description:
        raise BadRequest(
            "the description contains characters that are not valid text (a lone surrogate or "
            "U+0085 NEXT LINE); retype it",
            parameter="description",
            valid=f"free text of at most {MAX_DESCRIPTION} characters",
        )
