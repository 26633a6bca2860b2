"""Each extension adds exactly the files its registry entry declares (`files`), on every
framework: rendered with and without it, the difference is the declared list."""

from __future__ import annotations

from pathlib import Path

import pytest

from scaffolder.project import create, plan
from scaffolder.registry import Registry
from scaffolder.template import TemplateSource
from tests.conftest import REPO

REGISTRY = Registry.load(REPO)
# Extensions that say which files they add, and every extension of an exclusive group (a
# database): those add files by design.
EXTENSIONS = [ext.name for ext in REGISTRY.extensions.values() if ext.files or ext.group]
CASES = [
    pytest.param(ext, fw, id=f"{ext}-{fw}")
    for ext in EXTENSIONS
    for fw in REGISTRY.frameworks
    if fw not in REGISTRY.extensions[ext].unsupported_frameworks
]
PACKAGE = "files_shop"


def rendered_files(
    template: TemplateSource, destination: Path, framework: str, extensions: tuple[str, ...]
) -> set[str]:
    spec = plan(REGISTRY, name="files-shop", framework=framework, extensions=extensions)
    create(spec, destination, template=template, git=False, lock=False)
    return {str(p.relative_to(destination)) for p in destination.rglob("*") if p.is_file()}


@pytest.mark.parametrize(("extension", "framework"), CASES)
def test_an_extension_adds_exactly_its_declared_files(
    template: TemplateSource, tmp_path: Path, extension: str, framework: str
) -> None:
    group = REGISTRY.extensions[extension].group
    base = tuple(
        name
        for name in REGISTRY.default_extensions(framework)
        if name != extension and not (group and REGISTRY.extensions[name].group == group)
    )
    without = rendered_files(template, tmp_path / "without", framework, base)
    with_it = rendered_files(template, tmp_path / "with", framework, (*base, extension))
    # Declared under src/{package}/: where the framework's layout puts its modules.
    fw = REGISTRY.framework(framework)
    declared = {
        f.replace("src/{package}", fw.module_dir(PACKAGE)).replace("{package}", PACKAGE)
        for f in REGISTRY.extensions[extension].files
    }
    assert without <= with_it, f"{extension} removes {sorted(without - with_it)}"
    assert with_it - without == declared
