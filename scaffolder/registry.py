"""The registry: which frameworks, Python versions and extensions a template offers, and the rules.

The data lives in the template itself (``templates/registry.yml``), so Copier's questions and this
module read the same file, and a fork of the templates carries its own registry. This module
loads it and answers the questions the CLI, ``scaffold check`` and a web front end ask: what is
offered, what are the defaults, and is this combination allowed (and if not, why not).
"""

from __future__ import annotations

import dataclasses
import difflib
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from scaffolder.errors import TemplateError, UsageError
from scaffolder.names import ReservedNames

REGISTRY_PATH = Path("templates") / "registry.yml"
HANDLERS = ("sync", "async")
WORKERS = ("", "cores")
_T = TypeVar("_T")


@dataclass(frozen=True)
class Server:
    """A production server command; ``argv`` holds {host}, {port} and {package} placeholders."""

    name: str
    argv: tuple[str, ...]
    # The option that sets the worker count, for a server with no config file to default it to
    # the core count (an extension of `workers: cores`): the rendered command adds it with
    # "${WEB_CONCURRENCY:-<cores>}". "" = the server's config file reads WEB_CONCURRENCY.
    workers_option: str = ""
    # gunicorn only: the worker class its config file sets. gthread (threads) serves WSGI apps;
    # an async framework names its own worker (aiohttp.GunicornWebWorker).
    worker_class: str = "gthread"
    # gunicorn only: environment variables, "NAME=value", that gunicorn_conf.py sets (unless
    # already set) before gunicorn imports the worker class and the framework, for settings the
    # framework reads at import time. (A tuple, not a mapping: a Server is hashable.)
    environment: tuple[str, ...] = ()
    # A server that is one process with a thread pool (waitress, Cheroot): its thread count.
    # README's "Run it" paragraph says so (a slow client holds one thread). 0 = not one.
    threads: int = 0
    # The server runs the package itself (`python -m {package}`): the framework's folder has a
    # main.py.jinja, rendered as src/<package>/__main__.py (starts the server from the
    # settings), and a test_main.py.jinja, rendered as tests/test_main.py.
    main_module: bool = False
    # Parts of the HTTP contract that this server cannot honour although production does, each
    # "<check>: <reason>" (<check> a name from scaffolder/check/http_probe.py's Probe.checks(),
    # e.g. "chunked"): the probe skips them and `scaffold check` reports them as exempt, never
    # as passed. For a development server standing in for a platform that handles them itself
    # (`chalice local` for API Gateway, which buffers chunked bodies). Strings, not a mapping:
    # a Server stays hashable.
    probe_exemptions: tuple[str, ...] = ()
    # The server's own paragraph in the starter README's "Run it" section (Markdown, {package}
    # allowed), instead of the generic one on workers and threads: for a server that is not
    # the production one (a development server standing in for a platform).
    readme: str = ""
    # Whether the server's own lines (start-up, access log) go through the application's JSON
    # logging, as README promises; false for one whose lines the app cannot reach (chalice
    # local's http.server writes plain text).
    json_logs: bool = True

    def exemptions(self) -> dict[str, str]:
        """probe_exemptions as {check name: reason}."""
        found = {}
        for exemption in self.probe_exemptions:
            check, _, reason = exemption.partition(":")
            found[check.strip()] = reason.strip()
        return found

    def command(self, *, host: str, port: int, package: str, workers: int = 0) -> list[str]:
        """The argv; with `workers` (> 0) and a `workers_option`, the worker count is passed as
        the rendered command passes it (a server such as Sanic's reads no WEB_CONCURRENCY)."""
        values = {"{host}": host, "{port}": str(port), "{package}": package}
        command = []
        for arg in self.argv:
            for placeholder, value in values.items():
                arg = arg.replace(placeholder, value)
            command.append(arg)
        if workers > 0 and self.workers_option:
            command += [self.workers_option, str(workers)]
        return command


@dataclass(frozen=True)
class Framework:
    """One entry under ``frameworks:``; every key of the entry is a field (the schema)."""

    name: str
    label: str
    description: str
    kind: str
    # "sync" or "async": how the framework's handlers call the item store (and any other
    # extension code). `kind` cannot say it: a WSGI/ASGI split is not a sync/async split.
    handlers: str
    homepage: str
    test_client: str
    server: Server
    dependencies: tuple[str, ...]
    # Python versions this framework cannot use, each with the reason.
    python_unsupported: Mapping[str, str] = field(default_factory=dict)
    # Read by the template only: the starter's pyproject.toml.
    dev_dependencies: tuple[str, ...] = ()
    pytest_filterwarnings: tuple[str, ...] = ()
    pytest_asyncio: bool = False
    # [[tool.mypy.overrides]] tables: `module` (a list, {package} allowed) plus mypy options.
    mypy_overrides: tuple[Mapping[str, Any], ...] = ()
    # Debian packages a dependency needs to build (a C compiler for an sdist with a C extension:
    # [gcc, libc6-dev]): the Dockerfile's build stage installs them, never the runtime stage,
    # and the starter's README says so in its install section.
    build_packages: tuple[str, ...] = ()
    # The starter README's paragraph on the framework itself (Markdown, {package} allowed),
    # after its opening line: what a user must know before choosing it (an unmaintained
    # release, its pins and shims, where the starter departs from the framework's own idiom).
    readme: str = ""
    # The framework's own idiom for an item store: {store variant: own variant}, both names of
    # templates under templates/stores/ (e.g. Pyramid: sql -> pyramid_sql, pyramid_tm and
    # zope.sqlalchemy). The variant is an extension's `store` entry, or "memory" without one.
    stores: Mapping[str, str] = field(default_factory=dict)
    # Runtime dependencies an own store variant needs: {own variant: [requirement, ...]}.
    store_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Where the application's modules live: "src" (src/<package>/, imported as <package>) or
    # "root" (the app module at the project's root as app.py, the other modules in the folder
    # `modules` beside it, e.g. Chalice's chalicelib/; no build system: uv installs only the
    # dependencies). copier.yml's computed `layout`, `modules` and `module_dir` answers carry it
    # into the skeleton's paths, imports, pyproject.toml and README.
    layout: str = "src"
    # With layout "root": the import package of the shared modules (settings, store, ...).
    modules: str = ""
    # Files of the framework's own at the starter's root (e.g. .chalice/config.json,
    # requirements.txt), each rendered from templates/<framework>/files/<path>.jinja.
    files: tuple[str, ...] = ()
    # Local files the framework's tools write that git ignores (gitignore patterns, {package}).
    ignore: tuple[str, ...] = ()
    # Keyword arguments of the sync SQLAlchemy engine (database.py's create_engine), for a
    # framework whose process model needs another pool (Lambda: one small pool with pre-ping).
    engine_options: Mapping[str, Any] = field(default_factory=dict)
    # Commands `scaffold check` runs in the starter after the linters, each its own step of the
    # case (and JUnit test case), e.g. Chalice's `chalice package` that builds the Lambda
    # artefacts; the generated CI runs them too. {package} allowed; "NAME=value" words before
    # the command set its environment.
    check_commands: tuple[str, ...] = ()

    def module_package(self, package: str) -> str:
        """The import package of the starter's modules: `package`, or the root layout's folder."""
        return self.modules if self.layout == "root" else package

    def module_dir(self, package: str) -> str:
        """Where those modules are, relative to the starter's root."""
        return self.modules if self.layout == "root" else f"src/{package}"


LAYOUTS = ("src", "root")


@dataclass(frozen=True)
class Setting:
    """An environment variable an extension reads; documented in README and .env.example."""

    env: str  # the variable's full name, e.g. DATABASE_URL ({prefix} = the settings' prefix)
    description: str
    # The value used when the variable is unset ({package} allowed); "" = required, no default.
    default: str = ""
    # What .env.example shows (default: the default).
    example: str = ""


@dataclass(frozen=True)
class Service:
    """A server an extension needs (tests, CI, compose): `scaffold check` starts it itself."""

    name: str
    label: str
    image: str  # the container image compose and the generated CI use
    port: str = ""  # the port it listens on
    # The variable its image reads for another port (PGPORT): `scaffold check --docker
    # --docker-network host` gives the service a free port through it, as host networking
    # shares the machine's ports; "" = it keeps `port`.
    port_env: str = ""
    # The container's settings with example values; compose takes them from .env.
    environment: Mapping[str, str] = field(default_factory=dict)
    # Names in `environment` that compose requires from .env (no default: a password).
    secrets: tuple[str, ...] = ()
    healthcheck: tuple[str, ...] = ()  # a command that succeeds once it accepts connections
    data: str = ""  # where it keeps its data, a named volume in compose
    # What the app needs to reach it: {host}, {port} and ${NAME} (from `environment`) filled in.
    app_environment: Mapping[str, str] = field(default_factory=dict)
    tests: str = ""  # how the starter's tests get one (README)


@dataclass(frozen=True)
class Extension:
    name: str
    label: str
    description: str
    default: bool
    # Extensions of one group exclude each other (one database at a time); the group is also
    # the name of the template question that picks one of them (copier.yml).
    group: str = ""
    requires: tuple[str, ...] = ()
    # Extensions that cannot be combined with this one, each with the reason.
    conflicts: Mapping[str, str] = field(default_factory=dict)
    # Frameworks this extension does not support, each with the reason.
    unsupported_frameworks: Mapping[str, str] = field(default_factory=dict)
    # Read by the template only: the starter's runtime dependencies and dev dependency group.
    dependencies: tuple[str, ...] = ()
    # Added to `dependencies` for frameworks whose handlers are async.
    async_dependencies: tuple[str, ...] = ()
    dev_dependencies: tuple[str, ...] = ()
    settings: tuple[Setting, ...] = ()
    # Services (top-level `services:` names) the starter needs in tests, CI and compose.
    services: tuple[str, ...] = ()
    # A command run before the server starts, e.g. migrations ({package} allowed): rendered into
    # the README's run command, the Dockerfile and `scaffold check`'s serve step.
    prepare: str = ""
    # The README's paragraph on working with it (Markdown, {package} allowed).
    readme: str = ""
    # Commands the generated CI runs after `prepare`, on the prepared database (`uv run ...`).
    ci_checks: tuple[str, ...] = ()
    # The files the extension adds to a starter ({package} allowed), relative to its root.
    files: tuple[str, ...] = ()
    # The item store it provides, by the framework's `handlers` (sync/async): the name of a
    # template under templates/stores/ (empty: the in-memory store).
    store: Mapping[str, str] = field(default_factory=dict)
    # "cores": the data lives outside the server's processes, so the server runs one worker per
    # core by default (WEB_CONCURRENCY overrides); "" = one worker (the in-memory store).
    workers: str = ""
    # Local files it creates that git and Docker builds ignore (gitignore patterns, {package}).
    ignore: tuple[str, ...] = ()
    # A directory the app writes in the image (root read-only): created owned by the app user,
    # a named volume in compose. `image_settings` are the environment the image sets for it.
    volume: str = ""
    image_settings: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Registry:
    python_versions: tuple[str, ...]
    default_python: str
    default_framework: str
    frameworks: Mapping[str, Framework]
    extensions: Mapping[str, Extension]
    services: Mapping[str, Service] = field(default_factory=dict)
    # Names a project may not take (templates/names.yml, next to the registry).
    reserved_names: ReservedNames = field(default_factory=ReservedNames)

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
        registry = cls.from_mapping(data, source=str(path))
        return dataclasses.replace(registry, reserved_names=ReservedNames.load(template_root))

    @classmethod
    def from_mapping(cls, data: Any, source: str = "registry") -> Registry:
        """Build a registry from parsed YAML; strict: an unknown or misspelt key, a missing key
        or a wrong type is an error naming the source, the key's path and what is expected."""
        top = _strict(data, _TOP_LEVEL, "", source)
        python = _strict(top["python"], _PYTHON, "python", source)
        frameworks = _mapping_of_entries(top["frameworks"], "frameworks", source)
        extensions = _mapping_of_entries(top["extensions"], "extensions", source)
        services = _mapping_of_entries(top.get("services", {}), "services", source)
        registry = cls(
            python_versions=_convert(
                python["versions"], tuple[str, ...], "python.versions", source
            ),
            default_python=_convert(python["default"], str, "python.default", source),
            default_framework=_convert(top["default_framework"], str, "default_framework", source),
            frameworks={
                name: _entry(Framework, name, entry, f"frameworks.{name}", source)
                for name, entry in frameworks.items()
            },
            extensions={
                name: _entry(Extension, name, entry, f"extensions.{name}", source)
                for name, entry in extensions.items()
            },
            services={
                name: _entry(Service, name, entry, f"services.{name}", source)
                for name, entry in services.items()
            },
        )
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
        dangling += [
            f"{ext.name} -> service {service!r}"
            for ext in self.extensions.values()
            for service in ext.services
            if service not in self.services
        ]
        dangling += [
            f"frameworks.{fw.name}.handlers {fw.handlers!r} (expected sync or async)"
            for fw in self.frameworks.values()
            if fw.handlers not in HANDLERS
        ]
        dangling += [
            f"frameworks.{fw.name}.layout {fw.layout!r} (expected src, or root with modules)"
            for fw in self.frameworks.values()
            if fw.layout not in LAYOUTS or (fw.layout == "root") != bool(fw.modules)
        ]
        dangling += [
            f"frameworks.{fw.name}.server.probe_exemptions {exemption!r} (expected "
            '"<check>: <reason>")'
            for fw in self.frameworks.values()
            for exemption in fw.server.probe_exemptions
            if not all(part.strip() for part in exemption.partition(":")[::2])
        ]
        dangling += [
            f"extensions.{ext.name}.workers {ext.workers!r} (expected cores or nothing)"
            for ext in self.extensions.values()
            if ext.workers not in WORKERS
        ]
        dangling += [
            f"services.{service.name}.secrets -> {secret!r} (not in its environment)"
            for service in self.services.values()
            for secret in service.secrets
            if secret not in service.environment
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

    def groups(self) -> dict[str, tuple[str, ...]]:
        """Each group of mutually exclusive extensions (a template question) and its members."""
        found: dict[str, list[str]] = {}
        for ext in self.extensions.values():
            if ext.group:
                found.setdefault(ext.group, []).append(ext.name)
        return {group: tuple(members) for group, members in found.items()}

    def selected(self, extensions: Iterable[str]) -> tuple[Extension, ...]:
        """The chosen extensions' entries, in registry order."""
        chosen = set(extensions)
        return tuple(ext for name, ext in self.extensions.items() if name in chosen)

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
        for group, members in self.groups().items():
            if len(both := [name for name in chosen if name in members]) > 1:
                found.append(
                    f"{' and '.join(both)} cannot be combined: one {group} at a time "
                    f"(choose one of {', '.join(members)})"
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
                    "handlers": fw.handlers,
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
                    "group": ext.group or None,
                    "requires": list(ext.requires),
                    "conflicts": dict(ext.conflicts),
                    "frameworks": [
                        fw for fw in self.frameworks if fw not in ext.unsupported_frameworks
                    ],
                    "unsupported_frameworks": dict(ext.unsupported_frameworks),
                    "dependencies": list(ext.dependencies),
                    "async_dependencies": list(ext.async_dependencies),
                    "dev_dependencies": list(ext.dev_dependencies),
                    "settings": [
                        {**dataclasses.asdict(setting), "required": not setting.default}
                        for setting in ext.settings
                    ],
                    "services": list(ext.services),
                    "prepare": ext.prepare or None,
                    "files": list(ext.files),
                }
                for ext in self.extensions.values()
            ],
            # Each group is one single-select question (none, or one member); its members are
            # not part of the extensions multi-select.
            "groups": [
                {"name": group, "label": group.capitalize(), "members": list(members)}
                for group, members in self.groups().items()
            ],
            "services": [
                {
                    **dataclasses.asdict(service),
                    "secrets": list(service.secrets),
                    "healthcheck": list(service.healthcheck),
                }
                for service in self.services.values()
            ],
        }


# -- strict parsing: the dataclasses above are the schema -------------------------------------

_TOP_LEVEL = {
    "python": True,
    "default_framework": True,
    "frameworks": True,
    "extensions": True,
    "services": False,
}
_PYTHON = {"versions": True, "default": True}


def _strict(data: Any, keys: Mapping[str, bool], path: str, source: str) -> Mapping[str, Any]:
    """`data` as a mapping with only `keys` (name -> required), or a TemplateError."""
    where = f"{path}: " if path else ""
    if not isinstance(data, Mapping):
        raise TemplateError(f"{source}: {where}expected a mapping, got {_kind(data)}")
    for key in data:
        if key not in keys:
            close = difflib.get_close_matches(str(key), keys, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            msg = (
                f"{source}: {_join(path, str(key))}: unknown key{hint}; "
                f"expected one of: {', '.join(keys)}"
            )
            raise TemplateError(msg)
    if missing := [key for key, required in keys.items() if required and key not in data]:
        raise TemplateError(f"{source}: {_join(path, missing[0])}: missing (required)")
    return data


def _mapping_of_entries(data: Any, path: str, source: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping) or not all(isinstance(key, str) for key in data):
        raise TemplateError(f"{source}: {path}: expected a mapping of names to entries")
    return data


def _entry(cls: type[_T], name: str, data: Any, path: str, source: str) -> _T:
    """A dataclass from a registry entry: its fields are the keys, with their types."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "name"}  # type: ignore[arg-type]
    required = {
        key: f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        for key, f in fields.items()
    }
    entry = _strict(data, required, path, source)
    values = {
        key: _convert(value, hints[key], _join(path, key), source) for key, value in entry.items()
    }
    factory: Callable[..., _T] = cls
    return factory(name=name, **values)


def _convert(value: Any, kind: Any, path: str, source: str) -> Any:
    """`value` checked against a field type: str, bool, int, tuple[X, ...], Mapping[str, X],
    Any, or a nested dataclass (Server)."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if kind is Any:
        return value
    if kind is str or kind is bool or kind is int:
        if type(value) is kind:  # exact: a boolean is not a number here
            return value
    elif origin is tuple:
        if isinstance(value, list):
            return tuple(_convert(v, args[0], f"{path}[{i}]", source) for i, v in enumerate(value))
    elif origin is Mapping:
        if isinstance(value, Mapping) and all(isinstance(key, str) for key in value):
            return {key: _convert(v, args[1], _join(path, key), source) for key, v in value.items()}
    elif dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        fields = {
            f.name: f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            for f in dataclasses.fields(kind)
        }
        entry = _strict(value, fields, path, source)
        factory = typing.cast("Callable[..., Any]", kind)
        return factory(
            **{key: _convert(v, hints[key], _join(path, key), source) for key, v in entry.items()}
        )
    else:  # pragma: no cover - a field type this parser does not know is a programming error
        raise TypeError(f"unsupported registry field type {kind!r}")
    raise TemplateError(f"{source}: {path}: expected {_describe(kind)}, got {_kind(value)}")


def _describe(kind: Any) -> str:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if kind is str:
        return "a string"
    if kind is bool:
        return "true or false"
    if kind is int:
        return "a whole number"
    if origin is tuple:
        return f"a list of {_describe(args[0]).removeprefix('a ').removeprefix('an ')}s"
    if origin is Mapping:
        return f"a mapping of names to {_describe(args[1]).removeprefix('a ')}s"
    return "a mapping"


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: f"the string {value!r}",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _unknown(what: str, value: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    close = difflib.get_close_matches(value, choices, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown {what} {value!r}{hint}; choose from: {', '.join(choices)}"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
