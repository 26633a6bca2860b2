"""The life of a project after `scaffold new`: update, add, remove and check-update.

One mechanism for all of them, Copier's own update (a 3-way merge through git), never run in
the user's tree:

1. The project must be committed: a dirty tree is refused (nothing to merge into safely).
2. The project's repository is cloned into a scratch folder, and `copier.run_update` runs there
   with the recorded answers, changed by `add`/`remove` (`extensions` and group answers) and
   the target version (`--to`; `add`/`remove` stay on the recorded version).
3. Copier deletes the files a switched-off option or a newer version no longer produces, even
   edited ones: a file the user changed since it was generated (its content differs from the
   old version's rendering) is restored and reported as a conflict instead. `uv.lock` is
   re-locked when `pyproject.toml` changed.
4. The scratch copy's changes are the plan: per file create / modify / delete / conflict
   (overlapping edits: markers inline, or a `.rej` beside the file).
5. Applying is one `git apply` of the scratch copy's diff to the user's tree, checked against
   the same HEAD and a clean tree again, with Ctrl-C/SIGTERM/SIGHUP held: either every change
   lands or none does. An interrupted run before that point leaves the tree as it was.

What `.copier-answers.yml` records stays Copier's own (`_src_path`, `_commit`, the answers),
so plain `copier update` keeps working in the project.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scaffolder import signals, toolchain
from scaffolder.errors import ExitCode, ScaffoldError, TemplateError, UsageError
from scaffolder.registry import Registry
from scaffolder.template import TemplateSource, at_ref, resolve_template

ANSWERS_FILE = ".copier-answers.yml"
ACTIONS = ("create", "modify", "delete", "conflict")
CONFLICT_MODES = ("inline", "rej")


class ProjectError(ScaffoldError):
    """The project cannot be updated as it is: not generated, not committed, not in git."""


@dataclass(frozen=True)
class Change:
    path: str  # relative to the git repository's top (the project's folder in most cases)
    action: str  # one of ACTIONS
    detail: str = ""  # for a conflict: what the user has to do

    def to_json(self) -> dict[str, str]:
        found = {"path": self.path, "action": self.action}
        if self.detail:
            found["detail"] = self.detail
        return found


@dataclass
class Plan:
    """What an update, add or remove would do to a project; `apply()` makes it so."""

    operation: str  # update, add, remove
    project: Path
    top: Path  # the git repository's top folder (the project, or a monorepo holding it)
    head: str  # the commit the plan was computed on
    current: str  # the template version recorded in the project
    target: str  # the template version after
    changes: list[Change]
    extensions_before: tuple[str, ...] = ()
    extensions_after: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    patch: bytes = b""
    applied: bool = False

    @property
    def conflicts(self) -> list[Change]:
        return [change for change in self.changes if change.action == "conflict"]

    @property
    def exit_code(self) -> int:
        return ExitCode.CONFLICTS if self.conflicts else ExitCode.OK

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "project": str(self.project),
            "current": self.current,
            "target": self.target,
            "extensions": {
                "before": list(self.extensions_before),
                "after": list(self.extensions_after),
            },
            "changes": [change.to_json() for change in self.changes],
            "conflicts": [change.path for change in self.conflicts],
            "notes": self.notes,
            "warnings": self.warnings,
            "applied": self.applied,
        }


@dataclass(frozen=True)
class Project:
    """A generated project as it is recorded: its folder, git top and answers."""

    path: Path
    top: Path
    answers: Mapping[str, Any]

    @property
    def src(self) -> str:
        return str(self.answers.get("_src_path") or "")

    @property
    def commit(self) -> str:
        return str(self.answers.get("_commit") or "")

    def extensions(self, registry: Registry) -> tuple[str, ...]:
        """The chosen extensions: `extensions` plus each group's answer, in registry order."""
        chosen = set(self.answers.get("extensions") or [])
        chosen.update(str(self.answers.get(group)) for group in registry.groups())
        return tuple(name for name in registry.extensions if name in chosen)


# -- reading a project -------------------------------------------------------------------------


def open_project(path: Path, *, clean: bool = True) -> Project:
    """The project at `path`, checked: generated (answers file with a version), in git, and
    (with `clean`) committed."""
    import yaml

    path = path.absolute()
    answers_file = path / ANSWERS_FILE
    if not path.is_dir():
        raise ProjectError(f"{path} is not a folder")
    if not answers_file.is_file():
        raise ProjectError(
            f"{path} has no {ANSWERS_FILE}: it was not generated from a Copier template "
            "(run this in the project's folder, or give its PATH)"
        )
    try:
        answers = yaml.safe_load(answers_file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ProjectError(f"{answers_file} cannot be read: {' '.join(str(exc).split())}") from None
    if not isinstance(answers, dict):
        raise ProjectError(f"{answers_file} is not a mapping of answers")
    if not answers.get("_src_path") or not answers.get("_commit"):
        raise ProjectError(
            f"{answers_file} records no template version (_src_path and _commit), so there is "
            "nothing to merge from; it was rendered from a template that was not a git repository"
        )
    if toolchain.git_bin() is None:
        raise ProjectError("git is needed to update a project, and it is not installed")
    top = _git(path, "rev-parse", "--show-toplevel", fail=None)
    if top is None:
        raise ProjectError(f"{path} is not in a git repository: commit the project first")
    project = Project(path=path, top=Path(top.strip()), answers=answers)
    if clean:
        check_clean(project)
    return project


def check_clean(project: Project) -> None:
    if _git(project.top, "rev-parse", "--verify", "--quiet", "HEAD", fail=None) is None:
        raise ProjectError(f"{project.top} has no commit yet: commit the project first")
    status = _git(project.top, "status", "--porcelain", "--untracked-files=normal")
    if status is not None and status.strip():
        count = len(status.strip().splitlines())
        raise ProjectError(
            f"{project.top} has uncommitted changes ({count} path{'s' if count != 1 else ''}, "
            "see `git status`): commit or stash them first, so nothing of yours can be lost"
        )


# -- planning ----------------------------------------------------------------------------------


def plan_update(
    path: Path,
    *,
    template: str | None = None,
    to: str | None = None,
    conflict: str = "inline",
    trust: bool = False,
    lock: bool = True,
) -> Plan:
    """The plan of bringing the project to the template's version `to` (default: the version
    `scaffold new` would render now) with its recorded answers."""
    project = open_project(path)
    source = _source(project, template)
    target = to if to is not None else _default_ref(project, source, template)
    return _plan(project, source, "update", {}, target, conflict, trust, lock)


def plan_extensions(
    path: Path,
    *,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    template: str | None = None,
    to: str | None = None,
    conflict: str = "inline",
    trust: bool = False,
    lock: bool = True,
) -> Plan:
    """The plan of adding and removing extensions: the answers change, the template version
    stays the recorded one (unless `to` says otherwise), and the same rules as `scaffold new`
    settle what else comes or goes (compose goes with docker)."""
    from scaffolder.project import resolve_extensions

    add, remove = list(add), list(remove)
    project = open_project(path)
    source = _source(project, template)
    # The rules of the version the project stays on (or goes to).
    registry = Registry.load(at_ref(source, to or project.commit).local_root)
    framework = str(project.answers.get("framework") or registry.default_framework)
    python = str(project.answers.get("python_version") or registry.default_python_for(framework))
    before = project.extensions(registry)
    missing = [ext for ext in remove if ext in registry.extensions and ext not in before]
    present = [ext for ext in add if ext in before]
    after, notes = resolve_extensions(registry, framework, python, before, add=add, remove=remove)
    groups = registry.groups()
    grouped = {name for members in groups.values() for name in members}
    data: dict[str, Any] = {"extensions": [ext for ext in after if ext not in grouped]}
    for group, members in groups.items():
        data[group] = next((ext for ext in after if ext in members), "none")
    operation = "add" if add else "remove"
    plan = _plan(project, source, operation, data, to or project.commit, conflict, trust, lock)
    plan.extensions_before, plan.extensions_after = before, tuple(after)
    plan.notes = [
        *(f"{ext} is already in the project" for ext in present),
        *(f"{ext} is not in the project" for ext in missing),
        *notes,
        *plan.notes,
    ]
    return plan


def _source(project: Project, template: str | None) -> TemplateSource:
    """`--template`, else the source the project records (a path or git URL)."""
    spec = template if template is not None else project.src
    try:
        source = resolve_template(spec)
    except TemplateError as exc:
        if template is not None:
            raise
        raise TemplateError(
            f"the project's template ({spec}, recorded in {ANSWERS_FILE}) cannot be used: {exc}; "
            "give --template PATH_OR_URL"
        ) from None
    local = source.src == str(source.local_root)  # not a shallow clone of a URL
    if local and _git(source.local_root, "rev-parse", "--verify", "--quiet",
                      f"{project.commit}^{{commit}}", fail=None) is None:  # fmt: skip
        raise ProjectError(
            f"the project records template version {project.commit}, which {source.src} does "
            "not have (a project rendered from a checkout with uncommitted template edits "
            "records a commit only Copier's scratch copy had), so there is nothing to merge "
            "from; give --template with a repository that has it"
        )
    return source


def _default_ref(project: Project, source: TemplateSource, template: str | None) -> str | None:
    """Where `scaffold new` renders from today: the bundled template's HEAD when the project
    came from it (so a project rendered from an untagged checkout is not "downgraded" to an
    older tag); else Copier's default, the template's latest tag."""
    if template is None:
        try:
            bundled = resolve_template()
        except TemplateError:
            return None
        if os.path.realpath(bundled.src) == os.path.realpath(source.src):
            return bundled.vcs_ref
    return None


def _plan(
    project: Project,
    source: TemplateSource,
    operation: str,
    data: Mapping[str, Any],
    vcs_ref: str | None,
    conflict: str,
    trust: bool,
    lock: bool,
) -> Plan:
    if conflict not in CONFLICT_MODES:
        raise UsageError(f"--conflict {conflict}: choose from {', '.join(CONFLICT_MODES)}")
    head = (_git(project.top, "rev-parse", "HEAD") or "").strip()
    relative = project.path.resolve().relative_to(project.top.resolve())
    with _scratch() as scratch:
        clone = scratch / "clone"
        _git(scratch, "clone", "--quiet", "--no-hardlinks", str(project.top), str(clone))
        inside = clone / relative
        _run_update(inside, source, data, vcs_ref, conflict, trust)
        plan_warnings = list(source.warnings)
        conflicts = _conflicted(clone)
        kept = _keep_edited_deletions(clone, inside, project, relative, trust, scratch)
        if lock:
            _relock(clone, inside, relative, plan_warnings)
        _git(clone, "add", "--all")
        names = _git(clone, "diff", "--cached", "--no-renames", "--name-status", "-z", "HEAD")
        patch = _git_bytes(clone, "diff", "--cached", "--no-renames", "--binary", "HEAD")
        import yaml

        after = yaml.safe_load((inside / ANSWERS_FILE).read_text(encoding="utf-8")) or {}
    changes = _changes(names or "", conflicts, kept)
    return Plan(
        operation=operation,
        project=project.path,
        top=project.top,
        head=head,
        current=project.commit,
        target=str(after.get("_commit") or ""),
        changes=changes,
        warnings=plan_warnings,
        patch=patch,
    )


def _run_update(
    project: Path,
    source: TemplateSource,
    data: Mapping[str, Any],
    vcs_ref: str | None,
    conflict: str,
    trust: bool,
) -> None:
    import copier  # deferred: importing Copier costs ~0.4 s
    from copier import errors as copier_errors
    from jinja2 import TemplateError as JinjaError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", copier_errors.DirtyLocalWarning)
            with copier.Worker(
                dst_path=project,
                src_path=source.src,
                data=dict(data),
                vcs_ref=vcs_ref,
                defaults=True,
                overwrite=True,
                quiet=True,
                conflict="rej" if conflict == "rej" else "inline",
                unsafe=trust,
                skip_answered=True,
            ) as worker:
                worker.run_update()
    except copier_errors.UnsafeTemplateError as exc:
        raise TemplateError(f"{exc}; pass --trust if you trust this template") from None
    except copier_errors.UserMessageError as exc:
        raise ScaffoldError(f"copier: {' '.join(str(exc).split())}") from None
    except (copier_errors.CopierError, JinjaError, ValueError, OSError) as exc:
        raise ScaffoldError(
            f"the update failed in a scratch copy ({type(exc).__name__}: "
            f"{' '.join(str(exc).split())}); the project was not touched"
        ) from None
    except subprocess.CalledProcessError as exc:
        raise ScaffoldError(f"git failed in a scratch copy: {exc}") from None


def _conflicted(clone: Path) -> dict[str, str]:
    """Files the merge could not settle: unmerged in git's index (inline markers), or a
    `.rej` file beside them."""
    found: dict[str, str] = {}
    status = _git(clone, "status", "--porcelain=v1", "-z", "--untracked-files=all") or ""
    for entry in status.split("\0"):
        if len(entry) < 4:
            continue
        code, name = entry[:2], entry[3:]
        if code in {"DD", "AU", "UD", "UA", "DU", "AA", "UU"}:
            found[name] = "edited by you and by the template: resolve the conflict markers"
        elif code == "??" and name.endswith(".rej"):
            found[name.removesuffix(".rej")] = (
                f"edited by you and by the template: the template's version is in place, "
                f"your edit that did not apply is in {name}"
            )
    return found


def _keep_edited_deletions(
    clone: Path, inside: Path, project: Project, relative: Path, trust: bool, scratch: Path
) -> dict[str, str]:
    """Copier deletes what the new rendering no longer produces, edited or not: restore each
    such file the user changed since it was generated, and report it."""
    deleted = _git(clone, "ls-files", "--deleted", "-z", "--", str(relative)) or ""
    names = [name for name in deleted.split("\0") if name]
    if not names:
        return {}
    old = scratch / "old"
    _render_old(project, old, trust)
    kept: dict[str, str] = {}
    for name in names:
        ours = _git_bytes(clone, "show", f"HEAD:{name}")
        rendered = old / Path(name).relative_to(relative)
        theirs = rendered.read_bytes() if rendered.is_file() else None
        if theirs is None or ours != theirs:
            _git(clone, "checkout", "HEAD", "--", name)
            kept[name] = (
                "changed by you, no longer produced by the template: kept; delete it if unused"
            )
    return kept


def _render_old(project: Project, target: Path, trust: bool) -> None:
    """The project as its recorded template version and answers rendered it."""
    import copier
    from copier import errors as copier_errors

    data = {k: v for k, v in project.answers.items() if not str(k).startswith("_")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", copier_errors.DirtyLocalWarning)
        copier.run_copy(
            project.src,
            target,
            data=data,
            vcs_ref=project.commit,
            defaults=True,
            overwrite=True,
            quiet=True,
            unsafe=trust,
        )


def _relock(clone: Path, inside: Path, relative: Path, found: list[str]) -> None:
    """`uv lock` when pyproject.toml changed and the project keeps a uv.lock."""
    if not (inside / "uv.lock").is_file():
        return
    changed = _git(clone, "status", "--porcelain", "--", str(relative / "pyproject.toml")) or ""
    if not changed.strip():
        return
    command = [toolchain.uv_bin(), "lock", "--quiet"]
    try:
        # Offline first (uv's cache usually has everything), online when it lacks something.
        for extra in (["--offline"], []):
            result = subprocess.run(
                [*command, *extra],
                cwd=inside,
                env=toolchain.tool_env(),
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if result.returncode == 0:
                return
    except (OSError, subprocess.TimeoutExpired) as exc:
        found.append(f"uv.lock not updated ({exc}); run `uv lock` in the project")
        return
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else f"uv exited with {result.returncode}"
        found.append(f"uv.lock not updated ({reason}); run `uv lock` in the project")


def _changes(names: str, conflicts: Mapping[str, str], kept: Mapping[str, str]) -> list[Change]:
    parts = [part for part in names.split("\0") if part]
    listed: dict[str, Change] = {}
    for status, name in zip(parts[::2], parts[1::2], strict=False):
        if name.endswith(".rej") and name.removesuffix(".rej") in conflicts:
            continue  # shown as its file's conflict
        action = {"A": "create", "D": "delete"}.get(status[:1], "modify")
        listed[name] = Change(name, action)
    for name, detail in {**conflicts, **kept}.items():
        listed[name] = Change(name, "conflict", detail)
    return sorted(listed.values(), key=lambda change: change.path)


# -- applying ----------------------------------------------------------------------------------


def apply(plan: Plan) -> Plan:
    """Apply the plan to the project's tree: every change or none. The tree must still be the
    one the plan was computed on (same HEAD, nothing uncommitted)."""
    if plan.applied:
        return plan
    project = open_project(plan.project)
    head = (_git(project.top, "rev-parse", "HEAD") or "").strip()
    if head != plan.head:
        raise ProjectError(
            f"{project.top} moved to another commit since the plan was made; run the command again"
        )
    if plan.patch:
        with signals.held():  # Ctrl-C waits: git apply checks every hunk, then writes them all
            result = subprocess.run(
                ["git", "apply", "--binary", "--whitespace=nowarn"],
                cwd=project.top,
                input=plan.patch,
                capture_output=True,
                env=_git_env(),
                check=False,
            )
        if result.returncode != 0:
            reason = " ".join(result.stderr.decode(errors="replace").split())
            raise ScaffoldError(f"the changes could not be applied, nothing was changed: {reason}")
    plan.applied = True
    return plan


# -- check-update ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drift:
    project: Path
    current: str
    latest: str
    behind: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "project": str(self.project),
            "current": self.current,
            "latest": self.latest,
            "behind": self.behind,
        }


def check_update(path: Path, *, template: str | None = None, to: str | None = None) -> Drift:
    """Whether the project's recorded template version is behind the template's (`to`, default:
    the version `scaffold update` would bring it to). Reads git only; renders nothing."""
    project = open_project(path, clean=False)
    source = _source(project, template)
    ref = to if to is not None else _default_ref(project, source, template)
    repo = source.local_root
    if ref is None:
        ref = _latest_tag(repo) or "HEAD"
    latest = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", fail=None)
    if latest is None:
        raise UsageError(f"the template {source.src} has no version {ref!r}")
    current = _git(
        repo, "rev-parse", "--verify", "--quiet", f"{project.commit}^{{commit}}", fail=None
    )
    described = _git(repo, "describe", "--tags", "--always", latest.strip(), fail=None)
    label = (described or latest).strip()
    if current is None:  # a version the template does not have (a rewritten history)
        return Drift(project.path, project.commit, label, True)
    behind = current.strip() != latest.strip()
    return Drift(project.path, project.commit, label if behind else project.commit, behind)


def _latest_tag(repo: Path) -> str | None:
    """Copier's choice of the latest version: the highest PEP 440 tag."""
    from packaging.version import InvalidVersion, Version

    tags = (_git(repo, "tag", "--list", fail=None) or "").split()
    versions = []
    for tag in tags:
        try:
            versions.append((Version(tag), tag))
        except InvalidVersion:
            continue
    return max(versions)[1] if versions else None


# -- helpers -----------------------------------------------------------------------------------


@contextmanager
def _scratch() -> Iterator[Path]:
    """A scratch folder removed at the end, also on Ctrl-C (the cleanup itself is not cut short)."""
    folder = Path(tempfile.mkdtemp(prefix="scaffolder-update-"))
    try:
        yield folder
    finally:
        with signals.held():
            shutil.rmtree(folder, ignore_errors=True)


def _git_env() -> dict[str, str]:
    env = toolchain.tool_env()
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env.setdefault("GIT_AUTHOR_NAME", "scaffolder")
    env.setdefault("GIT_AUTHOR_EMAIL", "scaffolder@localhost")
    env.setdefault("GIT_COMMITTER_NAME", "scaffolder")
    env.setdefault("GIT_COMMITTER_EMAIL", "scaffolder@localhost")
    return env


_FAIL = object()


def _git(cwd: Path, *args: str, fail: object = _FAIL) -> str | None:
    """git's output as text; a failure raises, unless `fail` gives the value to return."""
    result = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, env=_git_env(), check=False
    )
    if result.returncode != 0:
        if fail is not _FAIL:
            return None
        reason = " ".join(result.stderr.decode(errors="replace").split())
        raise ScaffoldError(f"git {args[0]} failed in {cwd}: {reason}")
    return result.stdout.decode(errors="surrogateescape")


def _git_bytes(cwd: Path, *args: str) -> bytes:
    result = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, env=_git_env(), check=False
    )
    if result.returncode != 0:
        reason = " ".join(result.stderr.decode(errors="replace").split())
        raise ScaffoldError(f"git {args[0]} failed in {cwd}: {reason}")
    return result.stdout
