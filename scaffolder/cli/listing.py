"""`scaffold list`: the frameworks and extensions, from the registry that drives everything."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from scaffolder.cli.options import TemplateOption, VcsRefOption

if TYPE_CHECKING:
    from rich.table import Table

    from scaffolder.registry import Extension


def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the registry as JSON.")] = False,
    template: TemplateOption = None,
    vcs_ref: VcsRefOption = None,
) -> None:
    """List the frameworks and extensions the template offers."""
    from scaffolder.registry import Registry
    from scaffolder.template import bundled_root, resolve_template

    # The bundled registry is read in place: listing it needs no git and no mirror.
    root = resolve_template(template, vcs_ref).local_root if template or vcs_ref else bundled_root()
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

    groups = registry.groups()
    grouped = {name for members in groups.values() for name in members}
    tables = [
        _extensions_table(
            "Extensions (--with / --without)",
            [ext for ext in registry.extensions.values() if ext.name not in grouped],
        )
    ]
    for group, members in groups.items():
        rule = f"one {group} at a time: {' | '.join(members)}"
        tables.append(
            _extensions_table(
                f"{group.capitalize()} (--with NAME; {rule})",
                [registry.extensions[name] for name in members],
                rule=rule,
            )
        )

    out = Console()
    out.print(frameworks)
    for table in tables:
        out.print(table)


def _extensions_table(title: str, extensions: list[Extension], rule: str = "") -> Table:
    """Extensions with their rules and what they need to run: settings, services, prepare."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in ("name", "description", "default", "rules", "runs with"):
        table.add_column(column)
    for ext in extensions:
        rules = [rule] if rule else []
        rules += [f"needs {', '.join(ext.requires)}"] if ext.requires else []
        rules += [f"not with {other}: {why}" for other, why in ext.conflicts.items()]
        rules += [f"not for {fw}: {why}" for fw, why in ext.unsupported_frameworks.items()]
        needs = [
            f"{setting.env}"
            + (f" (default {setting.default})" if setting.default else " (required)")
            for setting in ext.settings
        ]
        needs += [f"service: {service}" for service in ext.services]
        needs += [f"prepare: {ext.prepare}"] if ext.prepare else []
        table.add_row(
            ext.name,
            ext.description,
            "yes" if ext.default else "no",
            "; ".join(rules) or "all frameworks",
            "; ".join(needs) or "-",
        )
    return table
