"""`scaffold new`: ask (or take from options) what to build, show it, render it."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from scaffolder import answers, toolchain
from scaffolder.cli import ui
from scaffolder.cli.options import TemplateOption, TrustOption, VcsRefOption
from scaffolder.errors import UsageError

if TYPE_CHECKING:
    from scaffolder.registry import Registry

# `--data KEY=VALUE` may answer these questions too, as long as it agrees with the option.
_OPTION_FOR_KEY = {
    "framework": "--framework",
    "python_version": "--python",
    "project_name": "--name",
}


def new(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Folder to create. Default: the project name, in the current folder.",
            show_default=False,
            metavar="PATH",
        ),
    ] = None,
    framework: Annotated[
        str | None,
        typer.Option(
            "--framework", "-f", metavar="NAME", help="Web framework (see `scaffold list`)."
        ),
    ] = None,
    with_: Annotated[
        list[str] | None,
        typer.Option(
            "--with", metavar="EXT[,EXT]", help="Extensions to add, comma-separated; repeatable."
        ),
    ] = None,
    without: Annotated[
        list[str] | None,
        typer.Option(
            "--without",
            metavar="EXT[,EXT]",
            help="Extensions to leave out, comma-separated; repeatable.",
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", metavar="TEXT", help="Project name. Default: the folder's name."),
    ] = None,
    python: Annotated[
        str | None,
        typer.Option("--python", metavar="X.Y", help="Oldest Python version supported, e.g. 3.12."),
    ] = None,
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data",
            "-d",
            metavar="KEY=VALUE",
            help="Answer a template question: KEY=VALUE; repeatable.",
        ),
    ] = None,
    defaults: Annotated[
        bool,
        typer.Option(
            "--defaults", "-y", help="Take the default for every question not given; never ask."
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Render into a non-empty folder (other files are kept).")
    ] = False,
    template: TemplateOption = None,
    vcs_ref: VcsRefOption = None,
    trust: TrustOption = False,
    git: Annotated[
        bool | None,
        typer.Option(
            "--git/--no-git", help="git init and commit the new project.", show_default="--git"
        ),
    ] = None,
    lock: Annotated[
        bool | None, typer.Option("--lock/--no-lock", help="Write uv.lock.", show_default="--lock")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", metavar="FILE", help="Config file with your defaults (TOML)."),
    ] = None,
) -> None:
    """Create a new project from the template."""
    from scaffolder.project import (
        PLANNED_KEYS,
        check_planned_keys,
        create,
        plan,
        resolve_extensions,
    )
    from scaffolder.registry import Registry
    from scaffolder.render import check_destination
    from scaffolder.template import resolve_template

    settings = answers.load_config(answers.config_path(config))
    extra: dict[str, Any] = {**settings.data, **answers.parse_data(data or [])}
    framework = _from_data(extra, "framework", framework) or settings.framework
    python = _from_data(extra, "python_version", python) or settings.python
    name = _from_data(extra, "project_name", name)
    package_name = extra.pop("package_name", None)
    if package_name is not None and not isinstance(package_name, str):
        raise UsageError(f"package_name must be text, not {package_name!r}")
    # The config file's --with/--without come first; the command line's override them.
    cli_with, cli_without = answers.split_csv(with_ or []), answers.split_csv(without or [])
    added = [ext for ext in settings.with_ if ext not in cli_without] + cli_with
    removed = [ext for ext in settings.without if ext not in cli_with] + cli_without

    source = resolve_template(template or settings.template, vcs_ref)
    registry = Registry.load(source.local_root)
    check_planned_keys(registry, extra)  # before any question: --data database=... and such
    questions = source.questions()
    answers.check_data_keys(extra, questions)

    asking = ui.interactive() and not defaults
    if path is not None:
        check_destination(path.absolute(), force=force)  # before any question is asked
        if name is None:
            name = (Path.cwd() if str(path) in {".", ""} else path).resolve().name
    if not asking and not defaults:
        _refuse_missing(
            name=name, framework=framework, python=python, extensions=bool(added or removed)
        )
    if name is None:
        if not asking:
            raise UsageError("no project name: give a PATH or --name")
        name = ui.ask_name(lambda text: _name_problem(text, registry))

    extensions = None
    if asking:
        framework = framework or ui.ask_framework(registry, registry.default_framework)
        registry.framework(framework)
        python = python or ui.ask_python(
            registry, framework, registry.default_python_for(framework)
        )
        # The same rules as without a terminal: --without docker leaves compose out too. A
        # choice the rules refuse is preselected as asked: the prompt says why and asks again.
        try:
            preselected, _ = resolve_extensions(
                registry,
                framework,
                python,
                registry.default_extensions(framework),
                add=added,
                remove=removed,
            )
        except UsageError:
            preselected = [
                e for e in [*registry.default_extensions(framework), *added] if e not in removed
            ]
        extensions = ui.ask_extensions(registry, framework, python, preselected)
        added = removed = []
        skip = {*extra, *PLANNED_KEYS, *registry.groups()}
        extra.update(ui.ask_other_questions(questions, skip=skip))

    spec = plan(
        registry,
        name=name,
        framework=framework,
        python=python,
        extensions=extensions,
        add=added,
        remove=removed,
        package_name=package_name,
        data=extra,
    )
    destination = path if path is not None else Path(spec.names.project)
    check_destination(destination.absolute(), force=force)
    out = ui.console()
    _show_summary(out, spec, destination, name, registry)
    if asking and not ui.confirm("Create this project?"):
        raise typer.Exit(1)

    with out.status("Creating the project...", spinner="dots"):
        created = create(
            spec,
            destination,
            template=source,
            force=force,
            trust=trust,
            git=_first(git, settings.git, default=True),
            lock=_first(lock, settings.lock, default=True),
        )
    for warning in [*source.warnings, *created.warnings]:
        out.print(f"[yellow]warning:[/] {warning}", soft_wrap=True)  # one line, unwrapped
    _show_next_steps(out, created, registry)


def _name_problem(text: str, registry: Any) -> str | None:
    from scaffolder.names import derive_names

    try:
        derive_names(text, reserved=registry.reserved_names)
    except UsageError as refused:
        return str(refused)
    return None


def _first(*values: bool | None, default: bool) -> bool:
    return next((value for value in values if value is not None), default)


def _from_data(extra: dict[str, Any], key: str, option_value: str | None) -> str | None:
    if key not in extra:
        return option_value
    value = str(extra.pop(key))
    if option_value is not None and option_value != value:
        msg = f"--data {key}={value} contradicts {_OPTION_FOR_KEY[key]} {option_value}"
        raise UsageError(msg)
    return value


def _refuse_missing(
    *, name: str | None, framework: str | None, python: str | None, extensions: bool
) -> None:
    missing = [
        option
        for option, given in (
            ("PATH or --name", name is not None),
            ("--framework", framework is not None),
            ("--python", python is not None),
            ("--with/--without", extensions),
        )
        if not given
    ]
    if missing:
        msg = (
            f"missing {', '.join(missing)}: stdin is not a terminal, so scaffold cannot ask; "
            "give them, or pass --defaults to take the defaults"
        )
        raise UsageError(msg)


def _show_summary(
    out: Any, spec: Any, destination: Path, typed_name: str, registry: Registry
) -> None:
    from rich.table import Table

    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    names = spec.names
    table.add_row(
        "Project",
        names.project + ("" if typed_name == names.project else f"  (from {typed_name!r})"),
    )
    table.add_row("Package", f"{names.package}  (import {names.package}, in src/{names.package}/)")
    table.add_row("Framework", spec.framework)
    table.add_row("Python", f">={spec.python_version}")
    groups = registry.groups()
    grouped = {name for members in groups.values() for name in members}
    table.add_row("Extensions", ", ".join(e for e in spec.extensions if e not in grouped) or "none")
    for group, members in groups.items():  # e.g. Database: postgres
        picked = [registry.extensions[e] for e in spec.extensions if e in members]
        shown = ", ".join(f"{ext.name} ({ext.label})" for ext in picked) or "none"
        table.add_row(group.capitalize(), shown)
    table.add_row("Folder", str(destination))
    out.print(table)
    for note in spec.notes:  # what the rules changed beyond the request
        out.print(f"note: {note}", markup=False, soft_wrap=True)


def _show_next_steps(out: Any, created: Any, registry: Registry) -> None:
    """A short next-steps section; commands unwrapped and unboxed, so they copy and paste."""
    from rich.rule import Rule

    from scaffolder.project import prepare_commands, required_settings

    spec = created.spec
    framework = registry.framework(spec.framework)
    server = framework.server.command(
        host="127.0.0.1", port=8000, package=framework.module_package(spec.names.package)
    )
    cwd = Path.cwd()
    shown = created.path.relative_to(cwd) if created.path.is_relative_to(cwd) else created.path
    lines = [
        f"cd {shlex.quote(str(shown))}",
        "uv sync                 # install, into .venv",
        "uv run pytest           # tests, with coverage",
    ]
    # Settings with no default (e.g. PostgreSQL's DATABASE_URL), then the prepare step
    # (migrations) before the server, as the README's run command has them.
    package = spec.names.package
    for setting in required_settings(registry, spec):
        example = setting.example.replace("{package}", package) or "..."
        lines.append(
            f"export {setting.env}={shlex.quote(example)}  # must be set: {setting.description}"
        )
    lines += [f"uv run {command}" for command in prepare_commands(registry, spec)]
    lines.append(f"uv run {shlex.join(server)}")
    if (hint := _pyenv_hint(spec.python_version)) is not None:
        lines += ["", *hint.splitlines()]
    title = (
        f"Created {spec.names.project} ({'uv.lock, ' if created.locked else ''}git: {created.git})"
    )
    out.print(Rule(f"[bold green]{title}[/]", align="left"))
    for line in lines:
        out.print(f"  {line}" if line else "", markup=False, soft_wrap=True)
    out.print(Rule(style="dim"))


def _pyenv_hint(python_version: str) -> str | None:
    """pyenv users: a project's .python-version hides uv installed under another version."""
    import os

    # Not skipped when PYENV_VERSION is set: pyenv's shim sets it for this process only.
    versions = toolchain.pyenv_versions(os.environ)
    wanted = [v for v in versions if v == python_version or v.startswith(python_version + ".")]
    if not versions or not wanted:
        return None
    # The global version (listed first) is where uv was installed.
    selection = ":".join(dict.fromkeys([wanted[-1], versions[0]]))
    return (
        f"# pyenv: select both, so uv and Python {python_version} are found:\n"
        f"export PYENV_VERSION={selection}"
    )
