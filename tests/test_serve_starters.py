"""A starter downloaded from `scaffold serve` is green: unpacked from the zip, it installs
from its uv.lock and passes its own tests, ruff, ruff format, mypy --strict and the rest of
`scaffold check`'s checks. Two frameworks: one with sync handlers (default extensions) and
one with async handlers and a database."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest
import yaml
from starlette.testclient import TestClient

from scaffolder.check.matrix import Case
from scaffolder.check.steps import PROJECT_NAME, CaseRunner
from scaffolder.registry import Registry
from scaffolder.serve.app import create_app
from scaffolder.serve.renderer import Limits, Renderer
from scaffolder.template import TemplateSource

from .conftest import REPO

pytestmark = pytest.mark.starter

REGISTRY = Registry.load(REPO)
BY_HANDLERS = {fw.handlers: name for name, fw in reversed(REGISTRY.frameworks.items())}
DATABASE = next(iter(REGISTRY.groups()["database"]))  # the first one: no server to start
CASES = [(BY_HANDLERS["sync"], ()), (BY_HANDLERS["async"], (DATABASE,))]


def unzip(archive: bytes, target: Path) -> Path:
    """Extract keeping each file's mode (zipfile's extractall drops it)."""
    with zipfile.ZipFile(io.BytesIO(archive)) as unzipped:
        for info in unzipped.infolist():
            path = target / info.filename
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(unzipped.read(info))
            path.chmod(stat.S_IMODE(info.external_attr >> 16))
    (root,) = target.iterdir()
    return root


@pytest.mark.parametrize(("framework", "extensions"), CASES)
def test_downloaded_zip_is_green(
    framework: str,
    extensions: tuple[str, ...],
    template: TemplateSource,
    registry: Registry,
    tmp_path: Path,
) -> None:
    renderer = Renderer(template, limits=Limits(lock=True), workdir=tmp_path / "work")
    query = {"name": PROJECT_NAME, "framework": framework, "with": ",".join(extensions)}
    with TestClient(create_app(registry, renderer)) as client:
        answer = client.get("/starter.zip", params=query)
    assert answer.status_code == 200, answer.text
    project = unzip(answer.content, tmp_path / "unzipped")
    assert project.name == PROJECT_NAME
    assert (project / "uv.lock").is_file()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == template.src  # `copier update` finds the served template
    chosen = {*registry.default_extensions(framework), *extensions}
    case = Case(
        framework, registry.default_python, tuple(e for e in registry.extensions if e in chosen)
    )
    outcome = CaseRunner(template, registry, tmp_path / "check").verify(case, project)
    failing = outcome.failing_step
    assert failing is None, f"{failing.name} failed: $ {failing.command}\n{failing.tail()}"
    names = [step.name for step in outcome.steps]
    assert {"install", "pytest", "ruff", "ruff-format", "mypy", "serve"} <= set(names)
    assert list((tmp_path / "work").iterdir()) == []
