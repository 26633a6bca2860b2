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
from scaffolder.cli.options import TemplateOption, TrustOption, VcsRefOption
from scaffolder.errors import UsageError
from scaffolder.render import missing_parents, nearest_existing


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
    without: Annotated[
        list[str] | None,
        typer.Option(
            "--without",
            metavar="EXT[,EXT]",
            help="Only cases without these extensions, comma-separated; repeatable.",
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
    docker: Annotated[
        bool,
        typer.Option(
            "--docker",
            help="Also build each case's image from its Dockerfile and run it for real: "
            "read-only as compose runs it, the HTTP contract from outside, a non-root user, a "
            "healthy HEALTHCHECK; with compose and a database, `docker compose up`. Needs a "
            "reachable Docker engine (and Compose v2 for the database cases).",
        ),
    ] = False,
    docker_network: Annotated[
        str,
        typer.Option(
            "--docker-network",
            metavar="bridge|host",
            help="With --docker: `bridge` (a normal host: ports published on 127.0.0.1) or "
            "`host` (an engine without a bridge: host networking, free loopback ports).",
        ),
    ] = "bridge",
    docker_case: Annotated[
        list[str] | None,
        typer.Option(
            "--docker-case",
            metavar="ID[,ID]",
            help="With --docker: the docker step only for these case ids (see --list); "
            "repeatable. Default: every case whose starter has a Dockerfile.",
        ),
    ] = None,
    template: TemplateOption = None,
    vcs_ref: VcsRefOption = None,
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
    """Render every framework and the combinations that matter; run each starter's checks.

    The default set: every framework with its defaults, each framework with each extension that
    carries framework glue (a database) on its oldest and newest Python, and enough more
    cases to cover every allowed pair of options. Cases whose extensions need a service get
    it from check: a PostgreSQL server (the postgresql package) on loopback, removed after.
    """
    from scaffolder.check import matrix
    from scaffolder.registry import Registry
    from scaffolder.template import resolve_template

    if not list_only:
        # Checked first: a path that cannot be written must not cost a whole run.
        junit = writable_file(junit, "--junit") if junit else None
        workdir = usable_folder(workdir, "--workdir") if workdir else None
    source = resolve_template(template, vcs_ref)
    registry = Registry.load(source.local_root)
    scope = matrix.Scope.of(
        registry,
        framework or [],
        python or [],
        answers.split_csv(with_ or []),
        answers.split_csv(without or []),
    )
    cases = (
        matrix.all_cases(registry, scope) if all_cases else matrix.pairwise_cases(registry, scope)
    )
    total = len(cases)
    if shard:
        cases = matrix.shard(cases, shard)
    docker_ids = answers.split_csv(docker_case or [])
    if (docker_ids or docker_network != "bridge") and not docker:
        raise UsageError("--docker-case and --docker-network need --docker")
    from scaffolder.check.docker import NETWORKS, DockerOptions

    if docker_network not in NETWORKS:
        raise UsageError(f"--docker-network {docker_network!r}: choose from {', '.join(NETWORKS)}")
    if unknown := sorted(set(docker_ids) - {case.id for case in cases}):
        raise UsageError(f"--docker-case names no case of this check: {', '.join(unknown)}")
    docker_options = (
        DockerOptions(network=docker_network, cases=frozenset(docker_ids) or None)
        if docker
        else None
    )

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

    from scaffolder.check.runner import (
        Interrupts,
        Progress,
        interrupted,
        print_summary,
        run_cases,
        write_junit,
    )
    from scaffolder.check.services import Services
    from scaffolder.check.steps import CaseRunner, Children

    out = ui.console()
    children = Children()
    services = Services(registry, children)
    with Interrupts() as interrupts, services:
        # One server per service the cases need (PostgreSQL), before any case: a missing one is
        # one line and no case runs.
        services.start(name for case in cases for name in services.needed(case.extensions))
        if docker_options is not None:
            from scaffolder.check.docker import require_engine

            require_engine(
                children,
                compose=any(
                    "compose" in case.extensions and services.needed(case.extensions)
                    for case in cases
                    if docker_options.wants(case)
                ),
            )
        made: Path | None
        if workdir is None:
            root = made = Path(tempfile.mkdtemp(prefix="scaffold-check-"))
        else:
            root, made = workdir, next(reversed(missing_parents(workdir)), None)
            root.mkdir(parents=True, exist_ok=True)
        runner = CaseRunner(
            source,
            registry,
            root,
            trust=trust,
            children=children,
            services=services,
            docker=docker_options,
        )
        try:
            outcome = run_cases(
                runner,
                cases,
                jobs=jobs or os.cpu_count() or 1,
                keep=keep,
                progress=Progress(out, len(cases)),
                interrupts=interrupts,
            )
        finally:
            if docker_options is not None:
                from scaffolder.check.docker import sweep
                from scaffolder.check.steps import Children as Sweeper

                # Its own Children: an interrupt stopped the run's, and refuses new ones.
                sweep(Sweeper(), docker_options)
        if not interrupts.received:
            print_summary(out, outcome.results, kept=keep)
            if junit:
                write_junit(junit, outcome.results)
        if interrupts.received:
            raise interrupted(interrupts.name, outcome, root, keep=keep, made=made)
    if not all(result.passed for result in outcome.results):
        raise typer.Exit(1)
    if workdir is None and not keep:
        shutil.rmtree(root, ignore_errors=True)


def writable_file(path: Path, option: str) -> Path:
    """`path` as an absolute path, if a file can be written there; else a one-line UsageError."""
    path = path.absolute()
    if path.is_dir():
        raise UsageError(f"{option} {path} is a folder; give a file name")
    if path.exists():
        try:
            with path.open("ab"):  # appends nothing: proves it can be rewritten later
                pass
        except OSError as exc:
            raise UsageError(f"{option} {path} cannot be written: {exc.strerror}") from None
        return path
    _check_can_create(path, option)
    return path


def usable_folder(path: Path, option: str) -> Path:
    """`path` as an absolute path, if it is (or can be made) a folder that can be written."""
    path = path.absolute()
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path} exists and is not a folder")
    if path.is_dir():
        _probe_write(path, path, option)
    else:
        _check_can_create(path, option)
    return path


def _check_can_create(path: Path, option: str) -> None:
    existing = nearest_existing(path.parent)
    if not existing.is_dir():
        raise UsageError(f"{option} {path}: {existing} is not a folder")
    _probe_write(existing, path, option)


def _probe_write(folder: Path, path: Path, option: str) -> None:
    """Create and drop a nameless file in `folder`: the only test that root, ACLs and
    read-only mounts all answer truthfully. Nothing is left behind."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        where = "" if folder == path else f" ({folder})"
        raise UsageError(f"{option} {path} cannot be written{where}: {exc.strerror}") from None
