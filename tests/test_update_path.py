"""The update path: a framework's default starter rendered at the previous release of this
repository, updated to HEAD with `scaffold update`, merges cleanly, then installs from its
re-locked uv.lock and passes every check. One framework per kind of handlers (sync, async) by
default; every framework with SCAFFOLDER_UPDATE_PATH_ALL=1 (those with the full checks still
one per kind, the others render and update only).

"The previous release" is, in order: $SCAFFOLDER_PREVIOUS_RELEASE (any git ref); the newest
`v*` tag reachable from HEAD that is not on HEAD (releases are tagged `v<version>` on main, the
scheme the wheel's template mirror uses); with no release tag yet, HEAD's first parent (the
main branch before the last merge). It needs the repository's history (CI: fetch-depth 0).
"""

from __future__ import annotations

import os
import subprocess
from functools import cache
from pathlib import Path

import pytest
from packaging.version import InvalidVersion, Version

from scaffolder.check.matrix import Case
from scaffolder.check.steps import CaseRunner
from scaffolder.registry import Registry
from scaffolder.template import TemplateSource, resolve_template

from .conftest import REPO, require, scaffold_process

pytestmark = pytest.mark.starter

REGISTRY = Registry.load(REPO)
# A framework of each kind of handlers: these install and run every check after the update.
BY_HANDLERS = {fw.handlers: name for name, fw in reversed(REGISTRY.frameworks.items())}


def _git(*args: str) -> str | None:
    done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


@cache
def previous_release() -> str | None:
    if ref := os.environ.get("SCAFFOLDER_PREVIOUS_RELEASE"):
        return ref
    on_head = set((_git("tag", "--points-at", "HEAD") or "").split())
    tags = []
    for tag in (_git("tag", "--merged", "HEAD", "--list", "v*") or "").split():
        try:
            tags.append((Version(tag), tag))
        except InvalidVersion:
            continue
    released = [tag for _, tag in sorted(tags) if tag not in on_head]
    if released:
        return released[-1]
    return "HEAD^" if _git("rev-parse", "--verify", "--quiet", "HEAD^{commit}^") else None


@cache
def previous_frameworks() -> tuple[str, ...]:
    ref = previous_release()
    if ref is None:
        return ()
    old = resolve_template(str(REPO), ref)
    return tuple(
        name for name in Registry.load(old.local_root).frameworks if name in REGISTRY.frameworks
    )


# Measured on 2 shared cores: every framework took 157 s with -n 2 (render at the release and
# update, ~15-20 s each, plus the two full checks), over the ~2 minutes CI can spend on it; so
# by default one framework per kind of handlers, and all with SCAFFOLDER_UPDATE_PATH_ALL=1.
FRAMEWORKS = (
    list(REGISTRY.frameworks)
    if os.environ.get("SCAFFOLDER_UPDATE_PATH_ALL")
    else sorted(BY_HANDLERS.values())
)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_previous_release_updates_to_head(
    framework: str, template: TemplateSource, registry: Registry, tmp_path: Path
) -> None:
    ref = previous_release()
    if ref is None and _git("rev-parse", "--is-shallow-repository") == "true":
        # A shallow clone holds no earlier version at all: nothing CI could install fixes that.
        pytest.skip("shallow clone: no earlier version to update from (clone with fetch-depth 0)")
    require(ref, "no previous release: the repository has no history (clone with fetch-depth 0)")
    if framework not in previous_frameworks():
        pytest.skip(f"{framework} is new since {ref}: nothing to update from")
    full = framework in BY_HANDLERS.values()
    lock = () if full else ("--no-lock",)
    done = scaffold_process(
        "new", "shop", "-f", framework, "--defaults", "--template", str(REPO),
        "--vcs-ref", str(ref), *lock, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    project = tmp_path / "shop"

    done = scaffold_process("update", str(project), "--to", "HEAD", "--yes", cwd=tmp_path)
    assert done.returncode == 0, done.stderr  # merged cleanly: nothing was edited
    if not full:
        return
    case = Case(framework, registry.default_python, registry.default_extensions(framework))
    outcome = CaseRunner(template, registry, tmp_path / "work").verify(case, project)
    failing = outcome.failing_step
    assert failing is None, f"{failing.name} failed: $ {failing.command}\n{failing.tail()}"
