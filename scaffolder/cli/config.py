"""`scaffold config show`: the defaults `scaffold new` starts from, each with its source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    help="The config file: team defaults for `scaffold new`.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@app.command("show")
def show(
    config: Annotated[
        Path | None,
        typer.Option("--config", metavar="FILE", help="Config file to read (TOML)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Show each default `scaffold new` starts from and where it came from.

    Precedence, highest first: the command line (--framework, --python, --with/--without,
    --template, --data, --git/--lock), then the config file (--config FILE, else
    $SCAFFOLDER_CONFIG, else $XDG_CONFIG_HOME/scaffolder/config.toml), then the template's
    registry (framework, Python, default extensions), then scaffolder's own (git, lock).
    """
    from scaffolder import answers

    origin, values = answers.effective(config, registry_of=_registry_of)
    if as_json:
        rows = [{"key": v.key, "value": v.value, "source": v.source} for v in values]
        typer.echo(json.dumps({"config_file": origin, "values": rows}, indent=2))
        return
    typer.echo(f"config file: {origin}")
    width = max(len(v.key) for v in values)
    for value in values:
        typer.echo(f"{value.key:<{width}}  {_shown(value.value)}  ({value.source})")


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    return str(value)


def _registry_of(template: str | None) -> Any:
    from scaffolder.registry import Registry
    from scaffolder.template import bundled_root, resolve_template

    root = resolve_template(template).local_root if template else bundled_root()
    return Registry.load(root)
