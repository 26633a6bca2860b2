"""The registry: which frameworks, Python versions and extensions a template offers, and the rules.

The data lives in the template itself (``templates/registry.yml``), so Copier's questions and this
module read the same file, and a fork of the templates carries its own registry. This module
loads it and answers the questions the CLI, ``scaffold check`` and a web front end ask: what is
offered, what are the defaults, and is this combination allowed (and if not, why not).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scaffolder.errors import TemplateError, UsageError

REGISTRY_PATH = Path("templates") / "registry.yml"


@dataclass(frozen=True)
class Server:
    """A production server command; ``argv`` holds {host}, {port} and {package} placeholders."""

    name: str
    argv: tuple[str, ...]

    def command(self, *, host: str, port: int, package: str) -> list[str]:
        values = {"{host}": host, "{port}": str(port), "{package}": package}
        command = []
        for arg in self.argv:
            for placeholder, value in values.items():
                arg = arg.replace(placeholder, value)
            command.append(arg)
        return command


@dataclass(frozen=True)
class Framework:
    name: str
    label: str
    description: str
    kind: str
    homepage: str
    test_client: str
    server: Server
    dependencies: tuple[str, ...]
    # Python versions this framework cannot use, each with the reason.
    python_unsupported: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Extension:
    name: str
    label: str
    description: str
    default: bool
    requires: tuple[str, ...] = ()
    # Extensions that cannot be combined with this one, each with the reason.
    conflicts: Mapping[str, str] = field(default_factory=dict)
    # Frameworks this extension does not support, each with the reason.
    unsupported_frameworks: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Registry:
    python_versions: tuple[str, ...]
    default_python: str
    default_framework: str
    frameworks: Mapping[str, Framework]
    extensions: Mapping[str, Extension]

    @classmethod
    def load(cls, template_root: Path) -> Registry:
        """Read ``templates/registry.yml`` from a template checkout."""
        import yaml  # deferred: `scaffold --help` must stay light

        path = template_root / REGISTRY_PATH
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 (safe)
        except FileNotFoundError:
            msg = f"{template_root} has no {REGISTRY_PATH}: not a scaffolder template"
            raise TemplateError(msg) from None
        except yaml.YAMLError as exc:
            msg = f"{path} is not valid YAML: {_one_line(exc)}"
            raise TemplateError(msg) from None
        return cls.from_mapping(data, source=str(path))

    @classmethod
    def from_mapping(cls, data: Any, source: str = "registry") -> Registry:
        """Build a registry from parsed YAML, with a clear error for a malformed one."""
        try:
            python = data["python"]
            registry = cls(
                python_versions=tuple(str(v) for v in python["versions"]),
                default_python=str(python["default"]),
                default_framework=str(data["default_framework"]),
                frameworks={
                    name: _framework(name, entry) for name, entry in data["frameworks"].items()
                },
                extensions={
                    name: _extension(name, entry) for name, entry in data["extensions"].items()
                },
            )
        except (KeyError, TypeError, AttributeError) as exc:
            msg = f"{source} is malformed: missing or wrong-typed entry {_one_line(exc)}"
            raise TemplateError(msg) from None
        registry._check_references(source)
        return registry

    def _check_references(self, source: str) -> None:
        dangling = []
        if self.default_python not in self.python_versions:
            dangling.append(f"python.default {self.default_python!r}")
        if self.default_framework not in self.frameworks:
            dangling.append(f"default_framework {self.default_framework!r}")
        dangling += [
            f"{ext.name} -> {other!r}"
            for ext in self.extensions.values()
            for other in (*ext.requires, *ext.conflicts)
            if other not in self.extensions
        ]
        if dangling:
            msg = f"{source} is malformed: unknown name in {', '.join(dangling)}"
            raise TemplateError(msg)

    # -- what is offered -------------------------------------------------------------------

    def framework(self, name: str) -> Framework:
        try:
            return self.frameworks[name]
        except KeyError:
            raise UsageError(_unknown("framework", name, self.frameworks)) from None

    def python_versions_for(self, framework: str) -> tuple[str, ...]:
        unsupported = self.framework(framework).python_unsupported
        return tuple(v for v in self.python_versions if v not in unsupported)

    def default_python_for(self, framework: str) -> str:
        versions = self.python_versions_for(framework)
        return self.default_python if self.default_python in versions else versions[-1]

    def default_extensions(self, framework: str) -> tuple[str, ...]:
        return tuple(
            name
            for name, ext in self.extensions.items()
            if ext.default and framework not in ext.unsupported_frameworks
        )

    # -- the rules -------------------------------------------------------------------------

    def problems(self, framework: str, python: str, extensions: Iterable[str]) -> list[str]:
        """Every reason this combination is not allowed; empty when it is."""
        if framework not in self.frameworks:
            return [_unknown("framework", framework, self.frameworks)]
        found = []
        if python not in self.python_versions:
            found.append(_unknown("Python version", python, self.python_versions))
        elif reason := self.frameworks[framework].python_unsupported.get(python):
            found.append(f"{framework} does not support Python {python}: {reason}")
        chosen = list(dict.fromkeys(extensions))
        for name in chosen:
            ext = self.extensions.get(name)
            if ext is None:
                found.append(_unknown("extension", name, self.extensions))
                continue
            if reason := ext.unsupported_frameworks.get(framework):
                found.append(f"{framework} does not support {name}: {reason}")
            found.extend(
                f"{name} needs {needed}: add it, or leave {name} out"
                for needed in ext.requires
                if needed not in chosen
            )
            found.extend(
                f"{name} conflicts with {other}: {reason}"
                for other, reason in ext.conflicts.items()
                if other in chosen
            )
        return found

    def check(self, framework: str, python: str, extensions: Iterable[str]) -> None:
        """Raise a UsageError naming the first reason the combination is not allowed."""
        if found := self.problems(framework, python, extensions):
            raise UsageError(found[0])

    # -- machine-readable view -------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The registry as plain data, for `scaffold list --json` and a web front end."""
        return {
            "python": {"versions": list(self.python_versions), "default": self.default_python},
            "default_framework": self.default_framework,
            "frameworks": [
                {
                    "name": fw.name,
                    "label": fw.label,
                    "description": fw.description,
                    "kind": fw.kind,
                    "homepage": fw.homepage,
                    "server": fw.server.name,
                    "test_client": fw.test_client,
                    "python": list(self.python_versions_for(fw.name)),
                    "python_unsupported": dict(fw.python_unsupported),
                    "default_extensions": list(self.default_extensions(fw.name)),
                }
                for fw in self.frameworks.values()
            ],
            "extensions": [
                {
                    "name": ext.name,
                    "label": ext.label,
                    "description": ext.description,
                    "default": ext.default,
                    "requires": list(ext.requires),
                    "conflicts": dict(ext.conflicts),
                    "frameworks": [
                        fw for fw in self.frameworks if fw not in ext.unsupported_frameworks
                    ],
                    "unsupported_frameworks": dict(ext.unsupported_frameworks),
                }
                for ext in self.extensions.values()
            ],
        }


def _framework(name: str, entry: Mapping[str, Any]) -> Framework:
    server = entry["server"]
    return Framework(
        name=name,
        label=str(entry["label"]),
        description=str(entry["description"]),
        kind=str(entry["kind"]),
        homepage=str(entry.get("homepage", "")),
        test_client=str(entry["test_client"]),
        server=Server(name=str(server["name"]), argv=tuple(str(a) for a in server["argv"])),
        dependencies=tuple(str(d) for d in entry["dependencies"]),
        python_unsupported={str(k): str(v) for k, v in entry["python_unsupported"].items()},
    )


def _extension(name: str, entry: Mapping[str, Any]) -> Extension:
    return Extension(
        name=name,
        label=str(entry["label"]),
        description=str(entry["description"]),
        default=bool(entry["default"]),
        requires=tuple(str(r) for r in entry["requires"]),
        conflicts={str(k): str(v) for k, v in entry["conflicts"].items()},
        unsupported_frameworks={str(k): str(v) for k, v in entry["unsupported_frameworks"].items()},
    )


def _unknown(what: str, value: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    close = difflib.get_close_matches(value, choices, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown {what} {value!r}{hint}; choose from: {', '.join(choices)}"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
