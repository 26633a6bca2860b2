"""Run many cases in parallel, show progress, summarise, and write JUnit XML."""

from __future__ import annotations

import contextlib
import shutil
import signal
import threading
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scaffolder import signals
from scaffolder.check.matrix import Case
from scaffolder.check.steps import CaseResult, CaseRunner
from scaffolder.errors import ScaffoldError

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


class CheckInterrupted(ScaffoldError):
    """A signal stopped the check; the message says what was stopped, removed and kept.

    The exit code is 128 + the signal's number, as for `scaffold new`: 130 for Ctrl-C.
    """

    def __init__(self, message: str, signame: str = "SIGINT") -> None:
        super().__init__(message)
        self.exit_code = 128 + signal.Signals[signame].value


# Each stop signal (signals.STOP_SIGNALS) stops a check the same way; the command exits
# 128 + the signal (130 for SIGINT).
STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL for running children when interrupted


class Interrupts:
    """While active, SIGINT, SIGTERM and SIGHUP are recorded instead of ending the process.

    The handler only records the signal: the main loop sees it within a fraction of a second,
    stops the check (`Children.stop_all`) and cleans up; a second signal makes the stop
    immediate (SIGKILL) but the cleanup still runs. Outside the main thread (a library caller
    on a thread of its own) signals are left alone.
    """

    def __init__(self) -> None:
        self.received: list[int] = []
        self._handling = contextlib.ExitStack()

    def __enter__(self) -> Interrupts:
        self._handling.enter_context(signals.handling(signals.STOP_SIGNALS, self._record))
        return self

    def __exit__(self, *exc: object) -> None:
        self._handling.close()

    def _record(self, signum: int, frame: object) -> None:
        self.received.append(signum)

    @property
    def name(self) -> str:
        return signal.Signals(self.received[0]).name if self.received else ""


@dataclass
class Outcome:
    """What `run_cases` did: results of the cases that finished, and those an interrupt stopped."""

    results: list[CaseResult] = field(default_factory=list)
    unfinished: list[Case] = field(default_factory=list)  # running when the interrupt came
    not_started: list[Case] = field(default_factory=list)


def run_cases(
    runner: CaseRunner,
    cases: Sequence[Case],
    *,
    jobs: int,
    keep: bool,
    progress: Progress,
    interrupts: Interrupts | None = None,
) -> Outcome:
    """Run `cases`, `jobs` at a time; passing cases' folders are removed unless `keep`.

    On an interrupt (see `Interrupts`) queued cases never start, every running child process
    group is stopped, and the worker threads are joined before this returns, so nothing the
    check started still runs or writes.
    """
    interrupts = interrupts or Interrupts()
    runner.on_step = progress.step
    outcome = Outcome()
    results: dict[Case, CaseResult] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        with progress:
            futures = {pool.submit(runner.run, case): case for case in cases}
            pending = set(futures)
            while pending and not interrupts.received:
                done, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
                for future in done:
                    result = future.result()
                    if result.interrupted:
                        continue
                    results[futures[future]] = result
                    if result.passed and not keep:
                        shutil.rmtree(result.project.parent, ignore_errors=True)
                    progress.finished(result)
            if interrupts.received:
                pool.shutdown(wait=False, cancel_futures=True)
                runner.children.stop_all(STOP_GRACE, hurry=lambda: len(interrupts.received) > 1)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        runner.children.stop_all(0)
        raise
    finally:
        pool.shutdown(wait=True)
        runner.close()
    for future, case in futures.items():
        if case in results:
            continue
        if future.cancelled() or not future.done():
            outcome.not_started.append(case)
        elif (late := future.result()).interrupted:
            (outcome.unfinished if late.started else outcome.not_started).append(case)
        else:  # finished in the moment the interrupt came: a result like any other
            results[case] = late
    outcome.results = [results[case] for case in cases if case in results]
    return outcome


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


def interrupted(
    signame: str, outcome: Outcome, root: Path, *, keep: bool, made: Path | None
) -> CheckInterrupted:
    """Clean up after an interrupt; the error's one line says what was stopped, removed, kept.

    Folders of cases that were still running are half-written: always removed. Finished
    cases' folders are kept with --keep, removed otherwise, and so is `made`: the outermost
    folder the check created to hold `root` (`root` itself, or a parent), if it made one.
    """
    for case in outcome.unfinished:
        shutil.rmtree(root / case.id, ignore_errors=True)
    stopped = (
        f"interrupted by {signame}: {len(outcome.results)} case(s) finished, "
        f"{len(outcome.unfinished)} stopped, {len(outcome.not_started)} not started"
    )
    finished = [r.project.parent for r in outcome.results if r.project.parent.exists()]
    if keep:
        removed = "; removed the stopped cases' folders" if outcome.unfinished else ""
        where = f"kept {len(finished)} finished case folder(s) in {root}" if finished else ""
        return CheckInterrupted(f"{stopped}{removed}; {where or 'no case folder to keep'}", signame)
    for folder in finished:
        shutil.rmtree(folder, ignore_errors=True)
    if made is not None:
        shutil.rmtree(made, ignore_errors=True)
        return CheckInterrupted(
            f"{stopped}; removed {made} (use --keep to keep case folders)", signame
        )
    return CheckInterrupted(
        f"{stopped}; removed every case folder it made in {root} (use --keep to keep them)",
        signame,
    )
