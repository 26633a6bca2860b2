"""Project names: what the user typed becomes a distribution name and an import package name.

"My Shop" becomes ``my-shop`` (the name in pyproject.toml) and ``my_shop`` (the package under
src/). Anything that cannot become a working, importable, non-shadowing package is refused with
one line that says why and what would work.
"""

from __future__ import annotations

import keyword
import re
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from scaffolder.errors import UsageError

MAX_LENGTH = 40
# Names a starter's own layout would collide with.
LAYOUT_NAMES = frozenset({"tests", "test", "src", "conftest"})

_ALLOWED = re.compile(r"[A-Za-z0-9 ._-]")
_SEPARATORS = re.compile(r"[\s._-]+")
_PACKAGE = re.compile(r"[a-z][a-z0-9_]*\Z")
_REQUIREMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class ProjectNames:
    project: str  # the distribution name, e.g. "my-shop"
    package: str  # the import package, e.g. "my_shop"


def derive_names(raw: str, *, reserved: Iterable[str] = ()) -> ProjectNames:
    """Turn a typed project name into checked distribution and package names."""
    text = raw.strip()
    if not text:
        raise UsageError("the project name is empty: give one such as my-shop")
    if "/" in text or "\\" in text or text in {".", ".."}:
        msg = (
            f"project name {raw!r} looks like a path: give the folder as PATH and the name "
            "with --name (e.g. scaffold new ../shop, or --name shop)"
        )
        raise UsageError(msg)
    ascii_text = _transliterate(text)
    if bad := sorted({c for c in ascii_text if not _ALLOWED.match(c)}):
        shown = " ".join(repr(c) for c in bad)
        why = "has no ASCII spelling" if any(ord(c) > 127 for c in bad) else "cannot be in a name"
        msg = (
            f"project name {raw!r} contains {shown}, which {why}: "
            "use ASCII letters, digits, spaces, '-', '_' or '.'"
        )
        raise UsageError(msg)
    project = _SEPARATORS.sub("-", ascii_text).strip("-").lower()
    if not project:
        raise UsageError(f"project name {raw!r} has no letters or digits: give one such as my-shop")
    if len(project) > MAX_LENGTH:
        msg = f"project name is {len(project)} characters long; keep it to {MAX_LENGTH} or fewer"
        raise UsageError(msg)
    names = ProjectNames(project=project, package=project.replace("-", "_"))
    check_package_name(names.package, reserved=reserved, shown=raw)
    return names


def check_package_name(package: str, *, reserved: Iterable[str] = (), shown: str = "") -> None:
    """Refuse an import package name that is invalid or would shadow another import."""
    shown = shown or package
    if package[:1].isdigit():
        msg = (
            f"project name {shown!r} starts with a digit, which a Python package cannot: "
            f"try 'app-{package.replace('_', '-')}'"
        )
        raise UsageError(msg)
    if not _PACKAGE.match(package):
        msg = (
            f"package name {package!r} is not a valid import name: use lowercase letters, "
            "digits and underscores, starting with a letter (e.g. my_shop)"
        )
        raise UsageError(msg)
    suggestion = f"try '{package.replace('_', '-')}-app'"
    if keyword.iskeyword(package):
        raise UsageError(f"{package!r} is a Python keyword, so it cannot be imported: {suggestion}")
    if package in sys.stdlib_module_names:
        msg = f"{package!r} would shadow the standard library's {package} module: {suggestion}"
        raise UsageError(msg)
    if package in {normalize_import_name(name) for name in reserved} | LAYOUT_NAMES:
        msg = f"{package!r} would shadow the {package} package the starter uses: {suggestion}"
        raise UsageError(msg)


def requirement_name(requirement: str) -> str:
    """The project name at the start of a requirement such as ``uvicorn[standard]>=0.34``."""
    match = _REQUIREMENT_NAME.match(requirement.strip())
    return match.group(0) if match else requirement


def normalize_import_name(name: str) -> str:
    return _SEPARATORS.sub("_", name).lower()


def _transliterate(text: str) -> str:
    """Drop accents ("café" -> "cafe"); characters with no ASCII form are kept, to be refused."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))
