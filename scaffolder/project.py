"""The library API: plan a starter from a request, then create it. The CLI is a thin layer on
this, and a web front end can call it the same way:

    template = resolve_template()
    registry = Registry.load(template.local_root)
    spec = plan(registry, name="My Shop", framework="fastapi", add=["docker"])
    created = create(spec, Path("my-shop"), template=template)
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scaffolder import toolchain
from scaffolder.errors import UsageError
from scaffolder.names import ProjectNames, check_package_name, derive_names
from scaffolder.registry import Registry, Setting
from scaffolder.render import render
from scaffolder.template import TemplateSource

# Answers the plan sets itself; `data` may not contradict them.
PLANNED_KEYS = ("project_name", "package_name", "framework", "python_version", "extensions")


@dataclass(frozen=True)
class ProjectSpec:
    """A checked set of answers for one starter."""

    names: ProjectNames
    framework: str
    python_version: str
    extensions: tuple[str, ...]
    data: Mapping[str, Any] = field(default_factory=dict)  # the template's other questions
    # The registry's groups of exclusive extensions: each is a question of its own.
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # What the plan did beyond the request, for the user: "compose left out: it needs docker".
    notes: tuple[str, ...] = ()

    def answers(self) -> dict[str, Any]:
        """The answers as Copier takes them: grouped extensions answer their group's question."""
        grouped = {name for members in self.groups.values() for name in members}
        return {
            **self.data,
            "project_name": self.names.project,
            "package_name": self.names.package,
            "framework": self.framework,
            "python_version": self.python_version,
            "extensions": [ext for ext in self.extensions if ext not in grouped],
            **{
                group: next((ext for ext in self.extensions if ext in members), "none")
                for group, members in self.groups.items()
            },
        }


@dataclass
class CreatedProject:
    path: Path
    spec: ProjectSpec
    locked: bool = False
    git: str = "skipped"  # "initialised", "skipped", or why it was not
    warnings: list[str] = field(default_factory=list)


def plan(
    registry: Registry,
    *,
    name: str,
    framework: str | None = None,
    python: str | None = None,
    extensions: Iterable[str] | None = None,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    package_name: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> ProjectSpec:
    """Check a request against the registry and fill in the defaults.

    `extensions` is the full set (default: the framework's defaults); `add` and `remove` then
    adjust it. Every refusal is a UsageError with one line that says why.
    """
    framework = framework or registry.default_framework
    registry.framework(framework)  # unknown framework: refuse before anything else
    python = python or registry.default_python_for(framework)
    start = registry.default_extensions(framework) if extensions is None else extensions
    chosen, notes = resolve_extensions(registry, framework, python, start, add=add, remove=remove)
    reserved = registry.reserved_names
    names = derive_names(name, reserved=reserved)
    if package_name:
        check_package_name(package_name, reserved=reserved)
        names = ProjectNames(project=names.project, package=package_name)
    extra = dict(data or {})
    check_planned_keys(registry, extra)
    ordered = tuple(ext for ext in registry.extensions if ext in chosen)
    return ProjectSpec(names, framework, python, ordered, extra, registry.groups(), notes)


def resolve_extensions(
    registry: Registry,
    framework: str,
    python: str,
    start: Iterable[str],
    *,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
) -> tuple[list[str], tuple[str, ...]]:
    """`start`, plus `add` and what they need, less `remove` and what needs it; the same rules
    for `new --with/--without`, `add` and `remove`.

    Adding an extension adds what it `requires` and replaces the other member of its group
    (one database at a time); removing one removes what requires it. Each such step is a note
    for the user. Asking for an extension and for the removal of one it needs is refused.
    Returns the extensions in registry order, checked against every rule.
    """
    add, remove = list(add), list(remove)
    for ext in [*add, *remove]:
        if ext not in registry.extensions:
            registry.check(framework, python, [ext])  # raises: unknown extension
    chosen = [ext for ext in start if ext not in remove]
    notes: list[str] = []
    groups = registry.groups()

    def include(name: str, because: str | None) -> None:
        if name in chosen:
            return
        if name in remove:
            needer = because or name
            raise UsageError(
                f"{needer} needs {name}, which is asked to be left out; leave {needer} out too"
            )
        ext = registry.extensions[name]
        if ext.group:
            for other in groups[ext.group]:
                if other in chosen and other != name:
                    chosen.remove(other)
                    notes.append(f"{other} replaced by {name}: one {ext.group} at a time")
        chosen.append(name)
        if because is not None:
            notes.append(f"{name} added too: {because} needs it")
        for needed in ext.requires:
            include(needed, name)

    for group, members in groups.items():  # asked for two at once: no way to tell which wins
        if len(both := [name for name in dict.fromkeys(add) if name in members]) > 1:
            raise UsageError(
                f"{' and '.join(both)} cannot be combined: one {group} at a time "
                f"(choose one of {', '.join(members)})"
            )
    for name in add:
        include(name, None)
    # What needs a removed extension goes too (compose without docker), until nothing changes.
    gone = set(remove)
    changed = True
    while changed:
        changed = False
        for name in [ext for ext in chosen if ext in registry.extensions and ext not in add]:
            lost = [needed for needed in registry.extensions[name].requires if needed in gone]
            if lost:
                chosen.remove(name)
                gone.add(name)
                notes.append(f"{name} left out too: it needs {lost[0]}")
                changed = True
    registry.check(framework, python, chosen)
    ordered = [ext for ext in registry.extensions if ext in chosen]
    return ordered, tuple(notes)


def check_planned_keys(registry: Registry, data: Mapping[str, Any]) -> None:
    """Refuse answers the plan sets itself, pointing to the option that sets them."""
    groups = registry.groups()
    for key in data:
        if key == "extensions" or key in groups:
            # A group's question (e.g. database) is answered by choosing one of its members.
            members = f" (one of: {', '.join(groups[key])})" if key in groups else ""
            msg = f"--data {key}=... is not supported: use --with and --without{members}"
            raise UsageError(msg)
        if key in PLANNED_KEYS:
            msg = f"--data {key}=... is set by scaffold itself; use its own option instead"
            raise UsageError(msg)


def prepare_commands(registry: Registry, spec: ProjectSpec) -> list[str]:
    """The commands the chosen extensions run before the server starts (e.g. migrations)."""
    package = registry.framework(spec.framework).module_package(spec.names.package)
    commands = [
        ext.prepare.replace("{package}", package)
        for ext in registry.selected(spec.extensions)
        if ext.prepare
    ]
    return list(dict.fromkeys(commands))


def required_settings(registry: Registry, spec: ProjectSpec) -> list[Setting]:
    """The chosen extensions' settings that have no default: the user must set them."""
    found = {
        setting.env: setting
        for ext in registry.selected(spec.extensions)
        for setting in ext.settings
        if not setting.default
    }
    return list(found.values())


def create(
    spec: ProjectSpec,
    destination: Path,
    *,
    template: TemplateSource,
    force: bool = False,
    trust: bool = False,
    git: bool = True,
    lock: bool = True,
) -> CreatedProject:
    """Render the starter at `destination`, lock its dependencies and commit it to git."""
    destination = destination.absolute()
    created = CreatedProject(path=destination, spec=spec)
    # A `.git` in the destination (even one git refuses, e.g. "dubious ownership") is never
    # replaced: no `git init` over it.
    in_repository = git and (
        os.path.lexists(destination / ".git") or _inside_git_work_tree(destination)
    )

    def finish(staging: Path) -> None:
        if lock:
            created.locked = _lock(staging, spec.python_version, created.warnings)
        if not git:
            created.git = "skipped (--no-git)"
        elif toolchain.git_bin() is None:
            created.git = "skipped: git is not installed"
        elif in_repository:
            created.git = "skipped: already inside a git repository"
        else:
            created.git = _git_commit(staging, spec, created.warnings)

    render(
        template,
        spec.answers(),
        destination,
        force=force,
        trust=trust,
        finish=finish,
    )
    return created


def _lock(project: Path, python_version: str, warnings: list[str]) -> bool:
    """Write uv.lock; a failure is a warning, since the project works without it."""
    try:
        python = toolchain.python_path(python_version)
    except toolchain.ToolchainError as exc:
        warnings.append(f"uv.lock not written: {exc}; run `uv lock` once that is fixed")
        return False
    result = _run([toolchain.uv_bin(), "lock", "--quiet", "--python", python], project, timeout=300)
    if result is None or result.returncode != 0:
        reason = _tail(result.stderr) if result else "uv did not finish"
        warnings.append(f"uv.lock not written ({reason}); run `uv lock` in the project")
        return False
    return True


def _git_commit(project: Path, spec: ProjectSpec, warnings: list[str]) -> str:
    message = f"Initial commit: {spec.framework} starter from scaffolder"
    steps = [
        ["init", "--quiet"],
        ["add", "--all"],
        ["commit", "--quiet", "--no-verify", "-m", message],
    ]
    for step in steps:
        identity = [] if _has_git_identity(project) or step[0] != "commit" else _FALLBACK_IDENTITY
        result = _run(["git", *identity, *step], project, timeout=60)
        if result is None or result.returncode != 0:
            reason = _tail(result.stderr) if result else "git did not finish"
            warnings.append(f"git {step[0]} failed ({reason}); the files are in place")
            return f"failed at git {step[0]}"
    return "initialised"


_FALLBACK_IDENTITY = ["-c", "user.name=scaffolder", "-c", "user.email=scaffolder@localhost"]


def _has_git_identity(project: Path) -> bool:
    result = _run(["git", "config", "user.email"], project, timeout=10)
    return bool(result and result.returncode == 0 and result.stdout.strip())


def _inside_git_work_tree(destination: Path) -> bool:
    if toolchain.git_bin() is None:
        return False
    probe = destination if destination.is_dir() else destination.parent
    while not probe.exists():
        probe = probe.parent
    result = _run(["git", "rev-parse", "--is-inside-work-tree"], probe, timeout=10)
    return bool(result and result.returncode == 0 and result.stdout.strip() == "true")


def _run(args: list[str], cwd: Path, *, timeout: float) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(
            args,
            cwd=cwd,
            env=toolchain.tool_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None


def _tail(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def worker_request(template: TemplateSource, **fields: Any) -> dict[str, Any]:
    """A request for a render in a worker process of its own (scaffold check's and scaffold
    serve's: Copier changes the process-wide working directory while it renders), as JSON data:
    the template, then `plan()`'s inputs and `create()`'s options, read by create_from_request."""
    source = {"src": template.src, "local_root": str(template.local_root)}
    return {"template": {**source, "vcs_ref": template.vcs_ref}, **fields}


def create_from_request(request: Mapping[str, Any]) -> CreatedProject:
    """plan() then create() for a worker_request(): name, framework, python, extensions and
    destination, optionally data (the other questions' answers), trust, git and lock."""
    found = request["template"]
    template = TemplateSource(
        src=found["src"], local_root=Path(found["local_root"]), vcs_ref=found["vcs_ref"]
    )
    spec = plan(
        Registry.load(template.local_root),
        name=request["name"],
        framework=request["framework"],
        python=request["python"],
        extensions=request["extensions"],
        data=request.get("data"),
    )
    return create(
        spec,
        Path(request["destination"]),
        template=template,
        trust=request.get("trust", False),
        git=request.get("git", True),
        lock=request.get("lock", True),
    )
