"""Rendering: run Copier into a staging folder, then move the finished project into place.

Nothing half-written is ever left behind, and nothing the user has is replaced unless --force
says so:

- The destination is resolved once (symlinks, `..`); every check and write uses that path.
- Copier writes into `<staging>/project`, where `<staging>` is `.<name>.scaffold-*`: beside a
  destination that does not exist yet, or inside one that does (an empty mount point or a folder
  under a read-only parent works: the staging folder is always on the destination's own file
  system). The staging folder holds a marker naming its process, so a later run can sweep the
  leftovers of a killed one, and only those.
- The final move is atomic and never replaces anything: a new destination is one rename(2),
  which refuses a non-empty folder; into an existing folder, under a lock, every entry is moved
  with a no-replace rename, after checking that the folder is still empty (or, with --force,
  that no rendered path meets a symlink, a folder where a file goes or the reverse, or an
  existing `.git`). If a move still fails, the moves already made are undone.
- Any exception, Ctrl-C, SIGTERM or SIGHUP removes the staging folder and any parent folders it
  created; the signals are held back while the final move runs.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import re
import shutil
import socket
import stat
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from scaffolder import signals
from scaffolder.errors import DestinationError, ScaffoldError, TemplateError, UsageError
from scaffolder.template import TemplateSource

Finisher = Callable[[Path], None]

MARKER = "scaffolder-staging.json"  # inside a staging folder: who made it, for which destination
STALE_AFTER = 24 * 3600  # a staging folder this old is stale even if its pid looks alive
_STAGING_NAME = re.compile(r"\A\..*\.scaffold-[A-Za-z0-9_]+\Z", re.DOTALL)
_NAME_BYTES = 64  # of the destination's name in the staging folder's (names are <= 255 bytes)


def resolve_destination(destination: Path) -> Path:
    """The destination as an absolute path without symlinks or `..`, resolved once."""
    return Path(os.path.realpath(destination))


def check_destination(destination: Path, *, force: bool) -> None:
    """Refuse a destination that cannot or must not be written, before any work is done."""
    resolved = resolve_destination(destination)
    try:
        info: os.stat_result | None = resolved.stat()
    except FileNotFoundError:
        info = None
        if destination.is_symlink():
            target = destination.readlink()
            msg = f"{destination} is a symbolic link to {target}, which is missing"
            raise DestinationError(msg) from None
    except OSError as exc:
        raise _os_error(exc, "use", destination) from None
    if info is not None and not stat.S_ISDIR(info.st_mode):
        raise DestinationError(f"{destination} exists and is not a folder")
    if info is not None:
        try:
            entries = _user_entries(resolved)
        except OSError as exc:
            raise _os_error(exc, "read", destination) from None
        if entries and not force:
            msg = (
                f"{destination} exists and is not empty; choose a new folder, or pass --force "
                "to render into it (files the template does not produce are kept)"
            )
            raise UsageError(msg)
        if not os.access(resolved, os.W_OK | os.X_OK):
            raise DestinationError(f"{destination} is not writable")
        return
    existing = nearest_existing(resolved.parent)
    if not existing.is_dir():
        raise DestinationError(f"{existing} is not a folder, so {destination} cannot be created")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise DestinationError(f"cannot create {destination}: {existing} is not writable")


def render(
    template: TemplateSource,
    answers: Mapping[str, Any],
    destination: Path,
    *,
    force: bool = False,
    trust: bool = False,
    finish: Finisher | None = None,
) -> None:
    """Render `template` with `answers` at `destination`; all or nothing."""
    check_destination(destination, force=force)
    destination = resolve_destination(destination)
    sweep_stale_staging(destination)
    with _staging(destination) as (staging, project):
        _run_copier(template, answers, project, trust=trust, destination=destination)
        if finish is not None:
            finish(project)
        moved = False
        try:
            with signals.held():
                _move_into_place(project, destination, force=force, scratch=staging)
                moved = True
                shutil.rmtree(staging, ignore_errors=True)  # its marker, and what --force replaced
        except KeyboardInterrupt:
            if not moved:
                raise
            # The signal came while the finished project was moving into place: it is complete,
            # so the run ends as a success rather than claiming nothing was written.


# -- staging -----------------------------------------------------------------------------------


def _staging_prefix(destination: Path) -> str:
    name = os.fsencode(destination.name)[:_NAME_BYTES].decode(errors="ignore")
    return f".{name}.scaffold-"


@contextlib.contextmanager
def _staging(destination: Path) -> Iterator[tuple[Path, Path]]:
    """A staging folder on the destination's file system, and the project folder inside it.

    Inside the destination when it exists (so an empty mount point, or a folder whose parent is
    read-only, works), beside it otherwise. Always removed at the end: after a successful move it
    holds only its marker and the files --force replaced.
    """
    inside = destination.is_dir()
    host = destination if inside else destination.parent
    created = [] if inside else missing_parents(host)
    try:
        host.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=_staging_prefix(destination), dir=host))
    except OSError as exc:
        _remove_dirs(created)
        raise _os_error(exc, "create a staging folder in", host) from None
    try:
        marker = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.time(),
            "destination": str(destination),
        }
        (staging / MARKER).write_text(json.dumps(marker), encoding="utf-8")
        project = staging / "project"
        project.mkdir()  # mode from the umask, unlike mkdtemp's 0700
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_dirs(created)
        raise _os_error(exc, "create a staging folder in", host) from None
    try:
        yield staging, project
    except BaseException:
        with signals.held():  # a second Ctrl-C does not stop the cleanup half-way
            shutil.rmtree(staging, ignore_errors=True)
            _remove_dirs(created)
        raise
    shutil.rmtree(staging, ignore_errors=True)  # render() already did, unless it was skipped


def _is_staging(entry: Path) -> bool:
    """A staging folder made by scaffolder: its name's pattern, a real folder, and a marker."""
    if not _STAGING_NAME.match(entry.name):
        return False
    try:
        return stat.S_ISDIR(entry.lstat().st_mode) and stat.S_ISREG(
            (entry / MARKER).lstat().st_mode
        )
    except OSError:
        return False


def _user_entries(destination: Path) -> list[str]:
    """The destination's entries, less scaffolder's own staging folders for it."""
    prefix = _staging_prefix(destination)
    return [
        entry.name
        for entry in destination.iterdir()
        if not (entry.name.startswith(prefix) and _is_staging(entry))
    ]


def sweep_stale_staging(destination: Path) -> list[Path]:
    """Remove staging folders that earlier runs for `destination` left behind when killed.

    Only folders matching our name pattern, owned by this user, holding our marker for this very
    destination, and whose process is gone (same host) or which are older than STALE_AFTER.
    """
    removed = []
    for host in (destination.parent, destination):
        try:
            entries = [e for e in host.iterdir() if e.name.startswith(_staging_prefix(destination))]
        except OSError:
            continue
        for entry in entries:
            if _is_staging(entry) and _is_stale(entry, destination):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
    return removed


def _is_stale(staging: Path, destination: Path) -> bool:
    try:
        if staging.lstat().st_uid != os.getuid():
            return False
        marker = json.loads((staging / MARKER).read_text(encoding="utf-8"))
        pid, host = int(marker["pid"]), str(marker["host"])
        started, target = float(marker["started"]), str(marker["destination"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if target != str(destination) or pid == os.getpid():
        return False
    if time.time() - started > STALE_AFTER:
        return True
    return host == socket.gethostname() and not _pid_alive(pid)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: alive, another user's
        return True
    return True


# -- Copier ------------------------------------------------------------------------------------


def _run_copier(
    template: TemplateSource,
    answers: Mapping[str, Any],
    staging: Path,
    *,
    trust: bool,
    destination: Path,
) -> None:
    import copier  # deferred: importing Copier costs ~0.4 s
    from copier import errors as copier_errors
    from jinja2 import TemplateError as JinjaError

    try:
        with warnings.catch_warnings():
            # Copier warns when a local template has uncommitted changes; a checkout in
            # development is expected to.
            warnings.simplefilter("ignore", copier_errors.DirtyLocalWarning)
            copier.run_copy(
                template.src,
                staging,
                data=dict(answers),
                vcs_ref=template.vcs_ref,
                defaults=True,  # every question was asked (or defaulted) before rendering
                overwrite=True,
                quiet=True,
                unsafe=trust,
            )
    except copier_errors.UnsafeTemplateError as exc:
        msg = (
            f"template {template.src} wants to run code ({_one_line(exc)}); "
            "re-run with --trust only if you trust it"
        )
        raise UsageError(msg) from None
    except (copier_errors.InvalidConfigFileError, copier_errors.UnsupportedVersionError) as exc:
        raise TemplateError(f"template {template.src}: {_one_line(exc)}") from None
    except copier_errors.UserMessageError as exc:
        raise TemplateError(_one_line(exc)) from None
    except ValueError as exc:  # a question's validator or choices refused an answer
        raise UsageError(_one_line(exc)) from None
    except JinjaError as exc:
        where = _template_location(exc, template.local_root) or "a template file"
        raise TemplateError(f"template error in {where}: {_one_line(exc)}") from None
    except OSError as exc:
        failed = Path(exc.filename) if isinstance(exc.filename, str) else None
        if failed is not None and not failed.is_relative_to(staging):  # reading the template
            reason = _REASONS.get(exc.errno or 0) or (exc.strerror or str(exc)).lower()
            raise TemplateError(f"cannot read the template at {failed}: {reason}") from None
        if failed is not None:
            exc.filename = str(failed.relative_to(staging))  # the staging folder means nothing
        raise _os_error(exc, "write the project for", destination) from None


def _template_location(exc: BaseException, root: Path) -> str | None:
    """`file:line` of the template file that failed, relative to the template's root."""
    name = getattr(exc, "filename", None) or getattr(exc, "name", None)
    line = getattr(exc, "lineno", None)
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if not filename.endswith(".py") and not filename.startswith("<"):
            name, line = filename, lineno  # Jinja maps template frames to the template's lines
    if name is None:
        return None
    # Copier renders from a clone of a git template: show the path inside the template.
    parts = Path(name).parts
    shown = next(
        (Path(*parts[i:]) for i in range(len(parts)) if (root / Path(*parts[i:])).is_file()),
        Path(name),
    )
    return f"{shown}:{line}" if line else str(shown)


# -- the final move ----------------------------------------------------------------------------


def _move_into_place(project: Path, destination: Path, *, force: bool, scratch: Path) -> None:
    if not os.path.lexists(destination):
        try:
            # One rename: the project appears complete or not at all. rename(2) replaces only a
            # missing or empty folder, so a folder filled meanwhile by anyone is never merged over.
            project.rename(destination)
        except OSError as exc:
            if exc.errno in {errno.ENOTEMPTY, errno.EEXIST}:
                msg = f"{destination} was created and filled while rendering; nothing was written"
                raise DestinationError(msg) from None
            if exc.errno == errno.ENOTDIR:
                raise DestinationError(f"{destination} exists and is not a folder") from None
            raise _os_error(exc, "move the project into", destination) from None
        return
    # An existing folder stays the same folder: replacing it would leave a shell whose working
    # directory it is (`scaffold new .`) in a deleted directory.
    try:
        with _locked_folder(destination):
            if not force and (entries := _user_entries(destination)):
                shown = ", ".join(sorted(entries)[:3])
                msg = f"{destination} is no longer empty ({shown}); nothing was written"
                raise DestinationError(msg)
            moves = _plan_merge(project, destination)
            _apply(moves, scratch / "replaced")
    except OSError as exc:
        raise _os_error(exc, "move the project into", destination) from None


@contextlib.contextmanager
def _locked_folder(folder: Path) -> Iterator[None]:
    """An exclusive lock on a folder, between scaffolder processes writing into it."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


Move = tuple[Path, Path, bool]  # source, target, whether the target exists (a file to replace)


def _plan_merge(project: Path, destination: Path) -> list[Move]:
    """Every move the merge makes, checked before any is made: a rendered path never goes through
    a symlink, never puts a file where a folder is or the reverse, never writes into `.git`."""
    moves: list[Move] = []

    def walk(source_dir: Path, target_dir: Path) -> None:
        for source in sorted(source_dir.iterdir()):
            target = target_dir / source.name
            if source.name == ".git" and os.path.lexists(target):
                raise DestinationError(
                    f"{target_dir} already has .git; scaffold never writes into it (render with "
                    "--no-git, or into another folder)"
                )
            source_is_dir = stat.S_ISDIR(source.lstat().st_mode)
            kind = "folder" if source_is_dir else "file"
            try:
                mode = target.lstat().st_mode
            except FileNotFoundError:
                moves.append((source, target, False))  # a whole new subtree moves at once
                continue
            if stat.S_ISLNK(mode):
                msg = f"{target} is a symbolic link where the template puts a {kind}; move it"
                raise DestinationError(msg)
            if source_is_dir and not stat.S_ISDIR(mode):
                msg = f"{target} is a file in the way of the template's own folder; move it"
                raise DestinationError(msg)
            if not source_is_dir and stat.S_ISDIR(mode):
                msg = f"{target} is a folder in the way of the template's own file; move it"
                raise DestinationError(msg)
            if source_is_dir:
                walk(source, target)
            elif not stat.S_ISREG(mode):
                raise DestinationError(f"{target} is not a regular file; move it and retry")
            else:
                moves.append((source, target, True))

    walk(project, destination)
    return moves


def _apply(moves: list[Move], replaced: Path) -> None:
    """Make the moves; if one fails (or a signal gets through), undo those already made."""
    undo: list[Callable[[], object]] = []
    try:
        for index, (source, target, exists) in enumerate(moves):
            if exists:
                replaced.mkdir(exist_ok=True)
                backup = replaced / str(index)
                target.rename(backup)
                undo.append(functools.partial(backup.rename, target))
            _move_no_replace(source, target)
            undo.append(functools.partial(target.rename, source))
    except BaseException:
        for step in reversed(undo):
            with contextlib.suppress(OSError):
                step()
        raise


def _move_no_replace(source: Path, target: Path) -> None:
    """Move `source` to `target`, never replacing anything that appeared there meanwhile."""
    if stat.S_ISDIR(source.lstat().st_mode):
        source.rename(target)  # onto a missing or empty folder only
        return
    try:
        os.link(source, target, follow_symlinks=False)  # fails if target exists
    except OSError as exc:
        if exc.errno not in {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK}:
            raise
        # No hard links on this file system: claim the name, then replace only our claim.
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        source.replace(target)
        return
    source.unlink()


# -- errors and helpers ------------------------------------------------------------------------

_REASONS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "read-only file system",
    errno.ELOOP: "a symbolic link loop",
    errno.ENAMETOOLONG: "a name is too long",
    errno.EXDEV: "it is on another file system",
    errno.ENOTDIR: "a part of the path is not a folder",
}


def _os_error(exc: OSError, doing: str, where: Path) -> ScaffoldError:
    """One line that says which operation failed, on what, and why."""
    if exc.errno == errno.ENOSPC:
        return DestinationError(f"no space left on the device holding {where}; nothing was written")
    if exc.errno == errno.EDQUOT:
        return DestinationError(f"disk quota exceeded on {where}; nothing was written")
    reason = _REASONS.get(exc.errno or 0) or (exc.strerror or str(exc)).lower()
    subject = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(where) else ""
    return DestinationError(f"cannot {doing} {where}{subject}: {reason}")


def nearest_existing(path: Path) -> Path:
    """`path`, or its nearest ancestor that exists."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def missing_parents(path: Path) -> list[Path]:
    """`path` and its ancestors that do not exist yet (not even as a symlink), deepest first."""
    missing = []
    while not os.path.lexists(path) and path != path.parent:
        missing.append(path)
        path = path.parent
    return missing


def _remove_dirs(paths: list[Path]) -> None:
    for path in paths:  # deepest first
        with contextlib.suppress(OSError):
            path.rmdir()


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
