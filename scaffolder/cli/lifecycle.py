"""`scaffold update`, `add`, `remove` and `check-update`: the plan first, then (on a terminal,
after a yes, or with --yes) the change; exit 0 when clean, 3 when files need a human (listed),
4 from check-update when the project is behind, 2 for usage, 1 for an error.

Not on a terminal (or with --json), nothing is applied without --yes: the plan is shown and the
command exits 2 saying so, so a script that forgot --yes never changes a tree by surprise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from scaffolder.cli import ui
from scaffolder.cli.options import TemplateOption, TrustOption
from scaffolder.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from scaffolder.lifecycle import Plan

PathArgument = Annotated[
    Path,
    typer.Argument(
        help="The project's folder (holding .copier-answers.yml). Default: the current folder.",
        metavar="PATH",
        show_default=False,
    ),
]
ToOption = Annotated[
    str | None,
    typer.Option(
        "--to",
        "--vcs-ref",
        metavar="REF",
        help="Template version (git tag, branch or commit). Default for update: the version "
        "`scaffold new` renders (the bundled template's HEAD, or another template's latest "
        "tag); for add/remove: the version the project records.",
    ),
]
ConflictOption = Annotated[
    str,
    typer.Option(
        "--conflict",
        metavar="inline|rej",
        help="Overlapping edits: conflict markers in the file (inline), or a FILE.rej beside it.",
    ),
]
PlanOption = Annotated[
    bool, typer.Option("--plan", help="Only show the plan (per file), change nothing.")
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the plan (and the result) as JSON on stdout.")
]
YesOption = Annotated[
    bool,
    typer.Option(
        "--yes",
        "-y",
        help="Apply without asking. Needed when stdin is not a terminal or with --json.",
    ),
]
LockOption = Annotated[
    bool,
    typer.Option(
        "--lock/--no-lock",
        help="Run `uv lock` when pyproject.toml changes and the project has uv.lock.",
    ),
]


def update(
    path: PathArgument = Path(),
    to: ToOption = None,
    conflict: ConflictOption = "inline",
    plan_only: PlanOption = False,
    as_json: JsonOption = False,
    yes: YesOption = False,
    template: TemplateOption = None,
    trust: TrustOption = False,
    lock: LockOption = True,
) -> int:
    """Bring the project to a newer template version, keeping your edits (3-way merge).

    The tree must be committed. The plan (create / modify / delete / conflict per file) is
    computed in a scratch copy and shown first; nothing in your tree changes until it is
    applied, all at once. Exit codes: 0 applied cleanly (or nothing to do), 3 applied with
    conflicts (files listed: markers, or .rej with --conflict rej), 2 usage, 1 error.
    """
    from scaffolder import lifecycle

    _check_conflict(conflict)
    plan = lifecycle.plan_update(
        path, template=template, to=to, conflict=conflict, trust=trust, lock=lock
    )
    return _finish(plan, plan_only=plan_only, as_json=as_json, yes=yes)


def add(
    extensions: Annotated[
        list[str],
        typer.Argument(
            help="Extensions to add (see `scaffold list`), then optionally the project's PATH.",
            metavar="EXT... [PATH]",
            show_default=False,
        ),
    ],
    to: ToOption = None,
    conflict: ConflictOption = "inline",
    plan_only: PlanOption = False,
    as_json: JsonOption = False,
    yes: YesOption = False,
    template: TemplateOption = None,
    trust: TrustOption = False,
    lock: LockOption = True,
) -> int:
    """Add extensions to a generated project: the answer changes and the template re-renders
    with a 3-way merge. What an extension needs comes too (compose brings docker); a database
    replaces the other one. Exit codes as for update."""
    return _extensions(
        "add", extensions, to, conflict, plan_only, as_json, yes, template, trust, lock
    )


def remove(
    extensions: Annotated[
        list[str],
        typer.Argument(
            help="Extensions to remove, then optionally the project's PATH.",
            metavar="EXT... [PATH]",
            show_default=False,
        ),
    ],
    to: ToOption = None,
    conflict: ConflictOption = "inline",
    plan_only: PlanOption = False,
    as_json: JsonOption = False,
    yes: YesOption = False,
    template: TemplateOption = None,
    trust: TrustOption = False,
    lock: LockOption = True,
) -> int:
    """Remove extensions: their files go when you did not change them; changed ones are kept
    and listed (exit 3). What needs a removed extension goes too (compose goes with docker).
    Exit codes as for update."""
    return _extensions(
        "remove", extensions, to, conflict, plan_only, as_json, yes, template, trust, lock
    )


def check_update(
    path: PathArgument = Path(),
    to: ToOption = None,
    as_json: JsonOption = False,
    template: TemplateOption = None,
) -> int:
    """For CI drift gates: exit 0 when the project is at the template's version, 4 when it is
    behind (1 error, 2 usage). Reads git only; renders nothing; a dirty tree is fine."""
    from scaffolder import lifecycle

    drift = lifecycle.check_update(path, template=template, to=to)
    if as_json:
        typer.echo(json.dumps(drift.to_json(), indent=2))
    elif drift.behind:
        typer.echo(
            f"behind: {drift.project} is at {drift.current}, the template is at {drift.latest}; "
            "run `scaffold update`"
        )
    else:
        typer.echo(f"up to date: {drift.project} is at {drift.current}")
    return ExitCode.BEHIND if drift.behind else ExitCode.OK


def _extensions(
    operation: str,
    arguments: list[str],
    to: str | None,
    conflict: str,
    plan_only: bool,
    as_json: bool,
    yes: bool,
    template: str | None,
    trust: bool,
    lock: bool,
) -> int:
    from scaffolder import lifecycle
    from scaffolder.answers import split_csv

    _check_conflict(conflict)
    names, path = _split_path(arguments)
    names = split_csv(names)
    if not names:
        raise UsageError(f"scaffold {operation}: name at least one extension (see `scaffold list`)")
    plan = lifecycle.plan_extensions(
        path,
        add=names if operation == "add" else (),
        remove=names if operation == "remove" else (),
        template=template,
        to=to,
        conflict=conflict,
        trust=trust,
        lock=lock,
    )
    return _finish(plan, plan_only=plan_only, as_json=as_json, yes=yes)


def _split_path(arguments: list[str]) -> tuple[list[str], Path]:
    """`EXT... [PATH]`: the last argument is the PATH when it looks like one (a slash, `.`,
    `..`) or is a generated project's folder; extension names never have a slash."""
    last = arguments[-1] if arguments else ""
    looks_like_path = (
        "/" in last or last in {".", ".."} or (Path(last) / ".copier-answers.yml").is_file()
    )
    if len(arguments) > 1 and looks_like_path:
        return arguments[:-1], Path(last)
    if len(arguments) == 1 and "/" in arguments[0]:
        raise UsageError(f"{arguments[0]!r} looks like a PATH: name the extensions before it")
    return arguments, Path()


def _check_conflict(conflict: str) -> None:
    if conflict not in ("inline", "rej"):
        raise UsageError(f"--conflict {conflict}: choose inline or rej")


def _finish(plan: Plan, *, plan_only: bool, as_json: bool, yes: bool) -> int:
    from scaffolder import lifecycle

    out = ui.console()
    if not as_json:
        _show_plan(out, plan)
    if not plan.changes:
        if as_json:
            typer.echo(json.dumps(plan.to_json(), indent=2))
        out.print("Nothing to change.")
        return ExitCode.OK
    if plan_only:
        if as_json:
            typer.echo(json.dumps(plan.to_json(), indent=2))
        return ExitCode.OK
    if not yes:
        if as_json or not ui.interactive():
            if as_json:
                typer.echo(json.dumps(plan.to_json(), indent=2))
            raise UsageError(
                "not applied: stdin is not a terminal (or --json); pass --yes to apply the plan, "
                "or --plan to only show it"
            )
        if not ui.confirm("Apply these changes?"):
            out.print("Nothing was changed.")
            return ExitCode.FAILURE
    lifecycle.apply(plan)
    if as_json:
        typer.echo(json.dumps(plan.to_json(), indent=2))
    else:
        _show_result(out, plan)
    return plan.exit_code


_STYLE = {"create": "green", "modify": "yellow", "delete": "red", "conflict": "bold red"}


def _show_plan(out: Any, plan: Plan) -> None:
    what = {
        "update": f"Update {plan.project}: template {plan.current} -> {plan.target}",
        "add": f"Add to {plan.project} (template {plan.target})",
        "remove": f"Remove from {plan.project} (template {plan.target})",
    }[plan.operation]
    out.print(what, markup=False, soft_wrap=True)
    if plan.extensions_before != plan.extensions_after:
        before = ", ".join(plan.extensions_before) or "none"
        after = ", ".join(plan.extensions_after) or "none"
        out.print(f"  extensions: {before} -> {after}", markup=False, soft_wrap=True)
    for note in plan.notes:
        out.print(f"  note: {note}", markup=False, soft_wrap=True)
    for warning in plan.warnings:
        out.print(f"[yellow]warning:[/] {warning}", soft_wrap=True)
    for change in plan.changes:
        from rich.markup import escape

        detail = f"  ({change.detail})" if change.detail else ""
        style = _STYLE[change.action]
        out.print(
            f"  [{style}]{change.action:<8}[/] {escape(change.path + detail)}",
            soft_wrap=True,
            highlight=False,
        )


def _show_result(out: Any, plan: Plan) -> None:
    if plan.conflicts:
        names = ", ".join(change.path for change in plan.conflicts)
        out.print(
            f"[bold red]Applied with {len(plan.conflicts)} conflict(s)[/]: {names}; resolve them, "
            "then review with `git diff` and commit",
            soft_wrap=True,
        )
    else:
        out.print("[green]Applied.[/] Review with `git diff`, then commit.", soft_wrap=True)
