"""Where the template comes from, and what Copier records about it so `copier update` works.

Copier can only update a project whose template is a git repository with history: it records
the source (`_src_path`) and version (`_commit`) in `.copier-answers.yml`. So:

- From a source checkout (the repository root holds copier.yml and is a git work tree), the
  checkout itself is the template: its commits and tags are the template's versions.
- From an installed wheel, the bundled copy (scaffolder/_template) is not a git repository. It is
  mirrored into a git repository in the user's data folder (`$SCAFFOLDER_HOME/template`, default
  `$XDG_DATA_HOME/scaffolder/template`), one commit and tag per scaffolder version, so
  `copier update` in a project finds the newer template after `pip install -U scaffolder`.
- `--template PATH_OR_URL` uses any other Copier template (a team's fork, a git URL) as is.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scaffolder import __version__
from scaffolder.errors import TemplateError
from scaffolder.toolchain import git_bin

PACKAGE_DIR = Path(__file__).resolve().parent
CONFIG_NAMES = ("copier.yml", "copier.yaml")
# What Copier itself treats as a git URL (besides anything ending in .git).
_REMOTE_PREFIXES = ("gh:", "gl:", "git@", "git://", "git+", "https://")
# A commit identity for the mirror, which belongs to scaffolder, not to the user.
_MIRROR_GIT = ["-c", "user.name=scaffolder", "-c", "user.email=scaffolder@localhost"]


@dataclass(frozen=True)
class TemplateSource:
    """A template as Copier should be given it, plus a local folder to read its files from."""

    src: str  # what Copier records as _src_path: an absolute path or a URL
    local_root: Path  # a folder holding copier.yml and templates/ (a clone, for a URL)
    vcs_ref: str | None  # None: Copier's default (the latest tag)
    warnings: tuple[str, ...] = ()  # for the user, e.g. why `copier update` will not work

    def questions(self) -> dict[str, Any]:
        """The template's questions (copier.yml without its `_settings`)."""
        import yaml

        config = _config_file(self.local_root)
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available
        try:
            data = yaml.load(config.read_text(encoding="utf-8"), Loader=loader) or {}  # noqa: S506
        except yaml.YAMLError as exc:
            raise TemplateError(
                f"{config} is not valid YAML: {' '.join(str(exc).split())}"
            ) from None
        if not isinstance(data, dict):
            raise TemplateError(f"{config} is not a Copier configuration (not a mapping)")
        return {key: value for key, value in data.items() if not key.startswith("_")}


def resolve_template(spec: str | None = None, vcs_ref: str | None = None) -> TemplateSource:
    """The template to render: the bundled one by default, else a path or git URL; at the
    version `vcs_ref` (a tag, branch or commit) when given."""
    source = _resolve(spec)
    return source if vcs_ref is None else at_ref(source, vcs_ref)


def at_ref(source: TemplateSource, ref: str) -> TemplateSource:
    """`source` at the version `ref`: Copier renders that version, and its registry and
    questions are read from an export of it (not from the checkout's working files)."""
    root = source.local_root
    if git_bin() is None or not _is_git_top(root):
        raise TemplateError(
            f"--vcs-ref {ref}: the template {source.src} is not a git repository, so it has no "
            "versions"
        )
    commit = _rev(root, ref)
    if commit is None and source.src != str(root):  # a shallow clone of a URL: fetch the ref
        fetched = subprocess.run(
            ["git", "fetch", "--quiet", "--depth", "1", "origin", ref],
            cwd=root,
            capture_output=True,
            check=False,
        )
        commit = _rev(root, "FETCH_HEAD") if fetched.returncode == 0 else None
    if commit is None:
        raise TemplateError(f"--vcs-ref {ref}: the template {source.src} has no such version")
    export = Path(tempfile.mkdtemp(prefix="scaffolder-template-ref-"))
    atexit.register(shutil.rmtree, export, ignore_errors=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit], cwd=root, capture_output=True, check=False
    )
    if archive.returncode != 0:
        reason = " ".join(archive.stderr.decode(errors="replace").split())
        raise TemplateError(f"--vcs-ref {ref}: cannot read that version of the template: {reason}")
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(export, filter="data")
        else:  # pragma: no cover - Python < 3.10.12
            tar.extractall(export)  # noqa: S202 - git archive of the template's own commit
    _config_file(export)
    return TemplateSource(src=source.src, local_root=export, vcs_ref=ref, warnings=source.warnings)


def _rev(root: Path, ref: str) -> str | None:
    result = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def _resolve(spec: str | None) -> TemplateSource:
    if spec is None:
        return _bundled()
    if spec.startswith("file://"):
        raise TemplateError(
            f"template {spec!r}: write a local git URL as git+{spec}, or give the path"
        )
    if spec.startswith(_REMOTE_PREFIXES) or (spec.endswith(".git") and not Path(spec).is_dir()):
        return TemplateSource(src=spec, local_root=_clone(spec), vcs_ref=None)
    try:
        root = Path(spec).expanduser().resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop, an unreadable folder
        raise TemplateError(f"template {spec!r} cannot be used: {exc}") from None
    if not root.is_dir():
        raise TemplateError(f"template {spec!r} does not exist or is not a folder")
    _config_file(root)
    return TemplateSource(src=str(root), local_root=root, vcs_ref=None)


def bundled_root() -> Path:
    """The bundled template: the repository root in a checkout, the wheel's copy otherwise."""
    checkout = PACKAGE_DIR.parent
    if (checkout / "copier.yml").is_file() and (checkout / "templates").is_dir():
        return checkout
    return PACKAGE_DIR / "_template"


def _bundled() -> TemplateSource:
    root = bundled_root()
    _config_file(root)
    if git_bin() is None:
        # Renders fine; the project just cannot `copier update` (no version recorded).
        return TemplateSource(src=str(root), local_root=root, vcs_ref=None)
    if _is_git_top(root):
        # HEAD, with uncommitted template edits, rather than the latest tag.
        return TemplateSource(src=str(root), local_root=root, vcs_ref="HEAD")
    try:
        mirror = _mirror(root)
    except _MirrorUnavailable as exc:
        return _bundled_without_mirror(root, str(exc))
    return TemplateSource(src=str(mirror), local_root=mirror, vcs_ref="HEAD")


def data_home() -> Path:
    if home := os.environ.get("SCAFFOLDER_HOME"):
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(xdg) / "scaffolder"


# Beside the mirror: proof that scaffolder made it, so a rebuild only ever deletes its own files.
_OWNER_NAME = "template.scaffolder-mirror"
_OWNER_TEXT = "This folder's template/ is scaffolder's git mirror of its bundled template.\n"
# Errors that make the data folder unusable for the mirror, but not the render.
_UNUSABLE = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT}


class _MirrorUnavailable(Exception):
    """The mirror cannot be written; rendering goes on from the bundled copy."""


def _bundled_without_mirror(bundle: Path, reason: str) -> TemplateSource:
    warning = (
        f"template mirror not updated ({reason}): rendered from the bundled copy, which records "
        "no template version, so `copier update` will not work in this project until "
        "scaffolder's data folder is writable (or SCAFFOLDER_HOME names one) and the project "
        "is rendered again"
    )
    return TemplateSource(src=str(bundle), local_root=bundle, vcs_ref=None, warnings=(warning,))


def _mirror(bundle: Path) -> Path:
    """Keep a git repository in step with the bundled template; one tag per version.

    Only folders scaffolder made are ever deleted or rewritten: the mirror must be missing,
    empty, or carry scaffolder's owner file beside it. A mirror that is damaged (no .git, a
    broken ref, a missing tag, edited files) is repaired, or rebuilt from scratch.
    """
    try:
        home = data_home()
    except RuntimeError as exc:  # no HOME to derive the default from
        raise TemplateError(
            f"no folder for the template mirror: {exc}; set SCAFFOLDER_HOME"
        ) from None
    mirror = home / "template"
    digest = _tree_digest(bundle)
    if _in_step(mirror, digest):
        return mirror
    try:
        _check_folder(home)
        _refuse_foreign(mirror, home / _OWNER_NAME)  # before even the lock file is made
        home.mkdir(parents=True, exist_ok=True)
        with _locked(home / "template.lock"):
            if _in_step(mirror, digest):  # another process did it while we waited
                return mirror
            _claim(mirror, home / _OWNER_NAME)
            try:
                _sync(mirror, bundle, digest)
            except TemplateError:
                shutil.rmtree(mirror)  # ours (claimed above), and damaged beyond repair
                mirror.mkdir()
                _sync(mirror, bundle, digest)
    except OSError as exc:
        if exc.errno in _UNUSABLE:
            raise _MirrorUnavailable(f"{exc.filename or home}: {exc.strerror}") from None
        raise TemplateError(
            f"cannot keep the template mirror in {mirror}: {exc.strerror or exc} "
            f"({exc.filename or home})"
        ) from None
    if not _in_step(mirror, digest):
        raise _MirrorUnavailable(f"{mirror} could not be brought in step with the bundle")
    return mirror


def _check_folder(home: Path) -> None:
    """Refuse a data folder that is a file, or lies under one."""
    existing = home
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise TemplateError(
            f"{existing} is not a folder, so scaffolder cannot keep its template mirror in "
            f"{home}; set SCAFFOLDER_HOME (or XDG_DATA_HOME) to a folder"
        )


def _claim(mirror: Path, owner: Path) -> None:
    """Make sure `mirror` is scaffolder's (creating it if missing), or refuse to touch it."""
    _refuse_foreign(mirror, owner)
    owner.write_text(_OWNER_TEXT, encoding="utf-8")  # before any file goes in
    mirror.mkdir(exist_ok=True)


def _refuse_foreign(mirror: Path, owner: Path) -> None:
    home = mirror.parent
    known = {mirror.name, owner.name, "template.lock"}
    names = {entry.name for entry in home.iterdir()} if home.is_dir() else set()
    if names and not names & known:
        raise TemplateError(
            f"{home} holds files scaffolder did not make, so it will not keep its template "
            "mirror there; set SCAFFOLDER_HOME to a new or empty folder"
        )
    legacy = (mirror / ".git" / "scaffolder-bundle").is_file()  # made before the owner file
    ours = _read(owner) == _OWNER_TEXT or legacy
    if mirror.is_symlink() or (mirror.exists() and not mirror.is_dir()):
        raise TemplateError(
            f"{mirror} is in the way of scaffolder's template mirror and is not a folder; "
            "move it, or set SCAFFOLDER_HOME to another folder"
        )
    if mirror.is_dir() and not ours and any(mirror.iterdir()):
        raise TemplateError(
            f"{mirror} holds files scaffolder did not make, so it will not use it as its "
            "template mirror; move them, or set SCAFFOLDER_HOME to another folder"
        )


def _sync(mirror: Path, bundle: Path, digest: str) -> None:
    git_dir = mirror / ".git"
    if git_dir.is_symlink() or (git_dir.exists() and not git_dir.is_dir()):
        git_dir.unlink()
    if not git_dir.is_dir():
        _git(mirror, "init", "--quiet")
    for child in mirror.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    for child in bundle.iterdir():
        copy = shutil.copytree if child.is_dir() else shutil.copy2
        copy(child, mirror / child.name)
    _git(mirror, "add", "--all")
    if _git(mirror, "status", "--porcelain").strip():
        _git(mirror, *_MIRROR_GIT, "commit", "--quiet", "-m", f"scaffolder {__version__}")
    _git(mirror, "tag", "--force", f"v{__version__}")
    (git_dir / "scaffolder-bundle").write_text(digest, encoding="utf-8")


def _in_step(mirror: Path, digest: str) -> bool:
    """The mirror holds this bundle, committed, tagged with this version, and nothing else."""
    if _read(mirror / ".git" / "scaffolder-bundle") != digest:
        return False
    tag = f"refs/tags/v{__version__}^{{commit}}"
    try:
        refs = _git(mirror, "rev-parse", "HEAD^{commit}", tag, "--").split()[:2]
        clean = not _git(mirror, "status", "--porcelain", "--untracked-files=all").strip()
    except TemplateError:
        return False
    return len(refs) == 2 and refs[0] == refs[1] and clean


def _clone(url: str) -> Path:
    """A shallow clone of a remote template, to read its registry and questions."""
    if git_bin() is None:
        raise TemplateError(f"git is needed to use the template {url}, and it is not installed")
    target = Path(tempfile.mkdtemp(prefix="scaffolder-template-"))
    atexit.register(shutil.rmtree, target, ignore_errors=True)
    origin = url.removeprefix("git+")
    for alias, host in (("gh:", "https://github.com/"), ("gl:", "https://gitlab.com/")):
        if origin.startswith(alias):  # Copier's shorthands, which git does not know
            origin = host + origin.removeprefix(alias).lstrip("/")
    result = subprocess.run(
        ["git", "clone", "--quiet", "--depth", "1", origin, str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        shutil.rmtree(target, ignore_errors=True)
        reason = " ".join(result.stderr.split()) or f"git exited with {result.returncode}"
        raise TemplateError(f"cannot fetch template {url}: {reason}")
    _config_file(target)
    return target


def _config_file(root: Path) -> Path:
    for name in CONFIG_NAMES:
        if (root / name).is_file():
            return root / name
    raise TemplateError(f"{root} is not a Copier template: it has no copier.yml")


def _is_git_top(path: Path) -> bool:
    # A work tree's top holds .git (a folder, or a file for worktrees and submodules); checked
    # on disk because it runs on every render and a git subprocess costs more than the check.
    return (path / ".git").exists()


def _git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise TemplateError(f"git {args[0]} failed in {cwd}: {' '.join(result.stderr.split())}")
    return result.stdout


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock between scaffolder processes (a no-op where fcntl is missing)."""
    with path.open("a") as handle:
        try:
            import fcntl
        except ImportError:  # Windows
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
