"""Run many cases in parallel, show progress, summarise, and write JUnit XML."""

from __future__ import annotations

import shutil
import threading
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING

from scaffolder.check.matrix import Case
from scaffolder.check.steps import CaseResult, CaseRunner

if TYPE_CHECKING:
    from rich.console import Console


class Progress:
    """Live progress on a terminal (rich), one plain line per event when piped."""

    def __init__(self, console: Console, total: int) -> None:
        self.console = console
        self.total = total
        self.done = 0
        self._lock = threading.Lock()
        self._live = None
        if console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            self._live = RichProgress(
                TextColumn("[bold]check"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
                console=console,
                transient=True,
            )
            self._task = self._live.add_task("", total=total)

    def __enter__(self) -> Progress:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()

    def step(self, case: Case, step: str) -> None:
        if self._live is not None:
            self._live.update(self._task, description=f"{case.id}: {step}")

    def finished(self, result: CaseResult) -> None:
        with self._lock:
            self.done += 1
            failing = result.failing_step
            verdict = "[green]passed[/]" if failing is None else f"[red]failed[/] at {failing.name}"
            # soft_wrap: log lines keep ids and paths whole, so piped output can be searched
            counter = f"\\[{self.done}/{self.total}]"  # escaped: not rich markup
            self.console.print(
                f"{counter} {result.case.id} {verdict} in {result.seconds:.1f} s", soft_wrap=True
            )
            if self._live is not None:
                self._live.advance(self._task)


def run_cases(
    runner: CaseRunner, cases: Sequence[Case], *, jobs: int, keep: bool, progress: Progress
) -> list[CaseResult]:
    """Run `cases`, `jobs` at a time; passing cases' folders are removed unless `keep`."""
    runner.on_step = progress.step
    results: dict[Case, CaseResult] = {}
    with progress, ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(runner.run, case): case for case in cases}
        for future in as_completed(futures):
            result = future.result()
            results[futures[future]] = result
            if result.passed and not keep:
                shutil.rmtree(result.project.parent, ignore_errors=True)
            progress.finished(result)
    return [results[case] for case in cases]


def print_summary(console: Console, results: Sequence[CaseResult], *, kept: bool) -> None:
    from rich.table import Table

    table = Table(title="scaffold check", title_justify="left")
    for column in ("case", "result", "time", "failing step"):
        table.add_column(column)
    for result in results:
        failing = result.failing_step
        table.add_row(
            result.case.id,
            "[green]passed[/]" if failing is None else "[red]failed[/]",
            f"{result.seconds:.1f} s",
            "" if failing is None else failing.name,
        )
    console.print(table)
    for result in results:
        failing = result.failing_step
        if failing is None:
            continue
        console.rule(f"[red]{result.case.id}: {failing.name} failed")
        console.print(f"$ {failing.command}", markup=False, soft_wrap=True)
        console.print(failing.tail(), markup=False, highlight=False, soft_wrap=True)
        console.print(f"kept at {result.project}", markup=False, soft_wrap=True)
    failed = sum(not result.passed for result in results)
    passed = len(results) - failed
    where = (
        f"; folders in {results[0].project.parent.parent}" if results and (kept or failed) else ""
    )
    console.print(f"{passed} passed, {failed} failed{where}", markup=False, soft_wrap=True)


def write_junit(path: Path, results: Sequence[CaseResult]) -> None:
    """One <testcase> per case; a failing one carries its failing step's output tail."""
    failures = sum(not result.passed for result in results)
    suite = ET.Element(
        "testsuite",
        name="scaffold check",
        tests=str(len(results)),
        failures=str(failures),
        time=f"{sum(result.seconds for result in results):.3f}",
    )
    for result in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname="scaffold.check",
            name=result.case.id,
            time=f"{result.seconds:.3f}",
        )
        steps = "\n".join(
            f"{step.name}: {'passed' if step.passed else 'FAILED'} in {step.seconds:.1f} s"
            for step in result.steps
        )
        ET.SubElement(case, "system-out").text = steps
        if (failing := result.failing_step) is not None:
            failure = ET.SubElement(
                case, "failure", message=f"{failing.name} failed", type=failing.name
            )
            failure.text = f"$ {failing.command}\n{failing.tail()}\n\nkept at {result.project}"
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
