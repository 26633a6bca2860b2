"""`scaffold list`: the frameworks and extensions, from the registry that drives everything."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from scaffolder.cli.options import TemplateOption


def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the registry as JSON.")] = False,
    template: TemplateOption = None,
) -> None:
    """List the frameworks and extensions the template offers."""
    from scaffolder.registry import Registry
    from scaffolder.template import bundled_root, resolve_template

    # The bundled registry is read in place: listing it needs no git and no mirror.
    root = resolve_template(template).local_root if template else bundled_root()
    registry = Registry.load(root)
    if as_json:
        typer.echo(json.dumps(registry.to_json(), indent=2))
        return

    from rich.console import Console
    from rich.table import Table

    frameworks = Table(title="Frameworks (--framework)", title_justify="left")
    for column in ("name", "description", "server", "test client", "Python"):
        frameworks.add_column(column)
    for fw in registry.frameworks.values():
        default = " (default)" if fw.name == registry.default_framework else ""
        versions = ", ".join(registry.python_versions_for(fw.name))
        frameworks.add_row(
            fw.name + default, fw.description, fw.server.name, fw.test_client, versions
        )

    extensions = Table(title="Extensions (--with / --without)", title_justify="left")
    for column in ("name", "description", "default", "rules"):
        extensions.add_column(column)
    for ext in registry.extensions.values():
        rules = [f"needs {', '.join(ext.requires)}"] if ext.requires else []
        rules += [f"not with {other}: {why}" for other, why in ext.conflicts.items()]
        rules += [f"not for {fw}: {why}" for fw, why in ext.unsupported_frameworks.items()]
        extensions.add_row(
            ext.name,
            ext.description,
            "yes" if ext.default else "no",
            "; ".join(rules) or "all frameworks",
        )

    out = Console()
    out.print(frameworks)
    out.print(extensions)
