"""The tools a starter is run with: uv, Python interpreters, and the environment for both.

Two rules hold for every child process: no Python is ever downloaded (UV_PYTHON_DOWNLOADS=never
unless the user chose otherwise), and pyenv's shims work. Shims only run a command for the
interpreters pyenv has *selected*, and a starter's `.python-version` selects just one, which
hides uv itself (installed under another interpreter) and every other Python. Selecting all
installed versions through PYENV_VERSION, as pyenv documents, lets both be found. (A process
started through a shim inherits PYENV_VERSION=<that one version>, so it is extended, not kept.)
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path

from scaffolder.errors import ScaffoldError


def tool_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for uv and a starter's tools."""
    env = dict(os.environ if base is None else base)
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    # An activated virtual environment (scaffolder's own) is not the starter's.
    env.pop("VIRTUAL_ENV", None)
    if versions := pyenv_versions(env):
        # Keep a selection already made (pyenv's own shims export one for the process they
        # run) first, and add every other installed version after it.
        chosen = [v for v in env.get("PYENV_VERSION", "").split(":") if v]
        env["PYENV_VERSION"] = ":".join(dict.fromkeys([*chosen, *versions]))
    return env


def pyenv_versions(env: Mapping[str, str]) -> list[str]:
    """Installed pyenv versions, the global one first; empty when pyenv is not in use."""
    root = Path(env.get("PYENV_ROOT") or Path.home() / ".pyenv")
    versions_dir = root / "versions"
    if not versions_dir.is_dir():
        return []
    installed = sorted(p.name for p in versions_dir.iterdir() if p.is_dir())
    try:
        global_version = (root / "version").read_text(encoding="utf-8").split()
    except OSError:
        global_version = []
    first = [v for v in global_version if v in installed]
    return first + [v for v in installed if v not in first]


@functools.cache
def uv_bin() -> str:
    """The uv executable: the one installed with scaffolder, else the first on PATH."""
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found is None:
            raise FileNotFoundError("uv is not installed: pip install uv") from None
        return found


class ToolchainError(ScaffoldError):
    """A tool a starter needs (uv, a Python version) is missing or did not answer."""


_pythons: dict[str, str] = {}
_pythons_lock = threading.Lock()
FIND_TIMEOUT = 60.0


def python_path(version: str) -> str:
    """The absolute path of an installed Python `version` (e.g. "3.12").

    Only successes are remembered: a lookup that failed (uv missing, a timeout, a version not
    installed yet) is asked again next time, and its error says which of those happened.
    """
    with _pythons_lock:
        if version in _pythons:
            return _pythons[version]
    try:
        uv = uv_bin()
    except FileNotFoundError as exc:
        raise ToolchainError(f"cannot look for Python {version}: {exc}") from None
    try:
        result = subprocess.run(
            [uv, "python", "find", "--no-project", version],
            env=tool_env(),
            capture_output=True,
            text=True,
            timeout=FIND_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        msg = f"`uv python find {version}` did not answer within {FIND_TIMEOUT:.0f} s"
        raise ToolchainError(msg) from None
    except OSError as exc:
        raise ToolchainError(f"cannot run {uv} to look for Python {version}: {exc}") from None
    path = result.stdout.strip()
    if result.returncode != 0 or not path:
        said = " ".join(result.stderr.split()) or f"exit code {result.returncode}"
        raise ToolchainError(f"Python {version} is not installed here (uv: {said})")
    with _pythons_lock:
        _pythons[version] = path
    return path


def find_python(version: str) -> str | None:
    """Like `python_path`, but None when Python `version` cannot be found (for any reason)."""
    try:
        return python_path(version)
    except ToolchainError:
        return None


def git_bin() -> str | None:
    return shutil.which("git")
