"""`scaffold check`: prove the templates by rendering cases and running each starter's checks."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from scaffolder import answers
from scaffolder.cli import ui
from scaffolder.cli.options import TemplateOption, TrustOption


def check(
    framework: Annotated[
        list[str] | None,
        typer.Option(
            "--framework", "-f", metavar="NAME", help="Only these frameworks; repeatable."
        ),
    ] = None,
    with_: Annotated[
        list[str] | None,
        typer.Option(
            "--with",
            metavar="EXT[,EXT]",
            help="Only cases with these extensions, comma-separated; repeatable.",
        ),
    ] = None,
    python: Annotated[
        list[str] | None,
        typer.Option("--python", metavar="X.Y", help="Only these Python versions; repeatable."),
    ] = None,
    all_cases: Annotated[
        bool,
        typer.Option("--all", help="Every valid combination, not just a pairwise-complete set."),
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            metavar="N",
            min=1,
            help="Cases run in parallel. Default: the number of cores.",
        ),
    ] = None,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard", metavar="I/N", help="Run shard I of N (e.g. 2/4) for a CI job matrix."
        ),
    ] = None,
    junit: Annotated[
        Path | None, typer.Option("--junit", metavar="FILE", help="Write a JUnit XML report here.")
    ] = None,
    list_only: Annotated[
        bool, typer.Option("--list", help="Print the cases without running them.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --list: print JSON.")] = False,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep every case's folder, not only the failing ones.")
    ] = False,
    template: TemplateOption = None,
    trust: TrustOption = False,
    workdir: Annotated[
        Path | None,
        typer.Option(
            "--workdir",
            metavar="DIR",
            help="Where cases are rendered. Default: a new temporary folder.",
        ),
    ] = None,
) -> None:
    """Render every framework and the combinations that matter; run each starter's checks."""
    from scaffolder.check import matrix
    from scaffolder.registry import Registry
    from scaffolder.template import resolve_template

    source = resolve_template(template)
    registry = Registry.load(source.local_root)
    scope = matrix.Scope.of(registry, framework or [], python or [], answers.split_csv(with_ or []))
    cases = (
        matrix.all_cases(registry, scope) if all_cases else matrix.pairwise_cases(registry, scope)
    )
    total = len(cases)
    if shard:
        cases = matrix.shard(cases, shard)

    if list_only:
        if as_json:
            typer.echo(
                json.dumps({"total": total, "cases": [case.to_json() for case in cases]}, indent=2)
            )
        else:
            for case in cases:
                typer.echo(case.id)
            kind = "all valid combinations" if all_cases else "pairwise-complete"
            ui.console().print(f"{len(cases)} of {total} cases ({kind})", markup=False)
        return

    from scaffolder.check.runner import Progress, print_summary, run_cases, write_junit
    from scaffolder.check.steps import CaseRunner

    root = workdir.absolute() if workdir else Path(tempfile.mkdtemp(prefix="scaffold-check-"))
    out = ui.console()
    runner = CaseRunner(source, registry, root, trust=trust)
    results = run_cases(
        runner,
        cases,
        jobs=jobs or os.cpu_count() or 1,
        keep=keep,
        progress=Progress(out, len(cases)),
    )
    print_summary(out, results, kept=keep)
    if junit:
        write_junit(junit, results)
    if not all(result.passed for result in results):
        raise typer.Exit(1)
    if workdir is None and not keep:
        shutil.rmtree(root, ignore_errors=True)
