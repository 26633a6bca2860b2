"""The installed package, as a user gets it from a wheel: the template ships inside it, and
`scaffold new` renders from a versioned mirror so the project can `copier update` later."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from scaffolder import __version__, toolchain

from .conftest import REPO

pytestmark = pytest.mark.starter


def run(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done


def test_wheel_install_renders_an_updatable_project(tmp_path: Path) -> None:
    env = toolchain.tool_env()
    uv = toolchain.uv_bin()
    run(
        uv,
        "build",
        "--wheel",
        "--out-dir",
        str(tmp_path / "dist"),
        str(REPO),
        cwd=tmp_path,
        env=env,
    )
    wheel = next((tmp_path / "dist").glob("scaffolder-*.whl"))
    python = toolchain.find_python("3.11")
    assert python is not None
    run(uv, "venv", "--quiet", "--python", python, str(tmp_path / "venv"), cwd=tmp_path, env=env)
    run(
        uv,
        "pip",
        "install",
        "--quiet",
        "--python",
        str(tmp_path / "venv" / "bin" / "python"),
        str(wheel),
        cwd=tmp_path,
        env=env,
    )

    scaffold = tmp_path / "venv" / "bin" / "scaffold"
    work = tmp_path / "work"
    work.mkdir()
    run(str(scaffold), "new", "shop", "--defaults", cwd=work, env=env)

    answers = yaml.safe_load((work / "shop" / ".copier-answers.yml").read_text())
    mirror = Path(os.environ["SCAFFOLDER_HOME"]) / "template"
    assert answers["_src_path"] == str(mirror)
    assert answers["_commit"] == f"v{__version__}"
    assert (work / "shop" / "uv.lock").is_file()
    # Nothing to update yet, and Copier says so rather than failing.
    copier = str(tmp_path / "venv" / "bin" / "copier")
    run(copier, "update", "--defaults", cwd=work / "shop", env=env)
