"""Rendering: run Copier into a temporary folder beside the destination, then move it into place.

Nothing half-written is ever left behind: Copier writes into `.<name>.scaffold-*` next to the
destination, post-render steps (lock, git) run there too, and only a complete project is moved
into place, by one rename when the destination is new or empty. With `force` into a non-empty
folder, the rendered files replace their namesakes one by one; files the template does not
produce are never touched; neither is an existing destination folder itself.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from scaffolder.errors import DestinationError, ScaffoldError, TemplateError, UsageError
from scaffolder.template import TemplateSource

Finisher = Callable[[Path], None]


def check_destination(destination: Path, *, force: bool) -> None:
    """Refuse a destination that cannot or must not be written, before any work is done."""
    if destination.is_file() or (destination.exists() and not destination.is_dir()):
        raise DestinationError(f"{destination} exists and is not a folder")
    if destination.is_dir():
        if any(destination.iterdir()) and not force:
            msg = (
                f"{destination} exists and is not empty; choose a new folder, or pass --force "
                "to render into it (files the template does not produce are kept)"
            )
            raise UsageError(msg)
        if not os.access(destination, os.W_OK | os.X_OK):
            raise DestinationError(f"{destination} is not writable")
        return
    existing = _nearest_existing(destination.parent)
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
    destination = destination.absolute()
    check_destination(destination, force=force)
    with _staging(destination) as staging:
        _run_copier(template, answers, staging, trust=trust)
        if finish is not None:
            finish(staging)
        _move_into_place(staging, destination)


@contextlib.contextmanager
def _staging(destination: Path) -> Iterator[Path]:
    """A temporary folder on the destination's file system; removed unless moved into place."""
    created = _missing_parents(destination.parent)
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        staging = Path(
            tempfile.mkdtemp(prefix=f".{destination.name}.scaffold-", dir=destination.parent)
        )
        staging.chmod(0o777 & ~_umask())  # mkdtemp's 0700 would become the project's mode
    except OSError as exc:
        _remove_dirs(created)
        raise _os_error(exc, destination) from None
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_dirs(created)
        raise


def _run_copier(
    template: TemplateSource,
    answers: Mapping[str, Any],
    staging: Path,
    *,
    trust: bool,
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
        raise _os_error(exc, staging) from None


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


def _move_into_place(staging: Path, destination: Path) -> None:
    try:
        if not destination.exists():
            # One rename: the project appears complete or not at all.
            staging.replace(destination)
            return
        # An existing folder (empty, or --force) stays the same folder: replacing it would leave
        # a shell whose working directory it is (`scaffold new .`) in a deleted directory.
        _check_no_type_clash(staging, destination)
        for source in sorted(staging.rglob("*")):
            target = destination / source.relative_to(staging)
            if source.is_dir():
                target.mkdir(exist_ok=True)
            else:
                source.replace(target)
        shutil.rmtree(staging)
    except OSError as exc:
        raise _os_error(exc, destination) from None


def _check_no_type_clash(staging: Path, destination: Path) -> None:
    for source in staging.rglob("*"):
        target = destination / source.relative_to(staging)
        if target.exists() and source.is_dir() != target.is_dir():
            kind = "a folder" if target.is_dir() else "a file"
            msg = f"{target} is {kind} in the way of the template's own; move it and retry"
            raise DestinationError(msg)


def _os_error(exc: OSError, where: Path) -> ScaffoldError:
    if exc.errno == errno.ENOSPC:
        return DestinationError(f"no space left on the device holding {where}; nothing was written")
    if exc.errno in {errno.EACCES, errno.EPERM, errno.EROFS}:
        return DestinationError(f"permission denied writing {exc.filename or where}")
    return DestinationError(f"cannot write {exc.filename or where}: {exc.strerror or exc}")


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _missing_parents(path: Path) -> list[Path]:
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    return missing


def _remove_dirs(paths: list[Path]) -> None:
    for path in paths:  # deepest first
        with contextlib.suppress(OSError):
            path.rmdir()


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
