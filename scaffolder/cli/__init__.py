"""The `scaffold` command line: a thin Typer layer over :mod:`scaffolder.project`.

Each command lives in its own module and is registered here. This module only composes them and
owns the one exit path: every error becomes one line on stderr and an exit code (0 success,
1 failure, 2 usage error, 3 applied with conflicts (update, add, remove), 4 behind the
template (check-update), 130 interrupted, 128+N for SIGTERM/SIGHUP, which are handled as Ctrl-C
is); a traceback appears only with --debug. Output cut short by its reader (`| head -1`) ends
quietly with the conventional 141. Imports stay light: `scaffold --help` never imports Copier or
questionary.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
from types import FrameType
from typing import Annotated

import typer

from scaffolder import __version__, signals
from scaffolder.cli import check, config, lifecycle, listing, new, serve
from scaffolder.errors import ExitCode, Interrupted, ScaffoldError

app = typer.Typer(
    name="scaffold",
    help="Render Python web-service starters that install, test, lint, type-check and serve.",
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: rich-formatted help costs ~150 ms of imports on every --help.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("new")(new.new)
app.command("list")(listing.list_command)
app.command("check")(check.check)
app.command("update")(lifecycle.update)
app.command("add")(lifecycle.add)
app.command("remove")(lifecycle.remove)
app.command("check-update")(lifecycle.check_update)
app.add_typer(config.app, name="config")
app.command("serve")(serve.serve)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"scaffold {__version__}")
        raise typer.Exit


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback when something fails.")
    ] = False,
) -> None:
    """Render Python web-service starters that install, test, lint, type-check and serve."""
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    try:
        with signals.handling(_INTERRUPTING, _raise_interrupted):
            return _run(argv)
    except BrokenPipeError:
        return _pipe_closed()
    except SystemExit as exc:
        # Typer ends a write to a closed pipe with a bare exit(1); say it the conventional way.
        context = exc.__context__
        if isinstance(context, OSError) and context.errno == errno.EPIPE:
            return _pipe_closed()
        raise


def _pipe_closed() -> int:
    """The reader went away (`scaffold list | head -1`): end as `yes | head -1` does, without a
    traceback or Python's "Exception ignored" when stdout is flushed at exit."""
    _discard_stdout()
    return 128 + signal.SIGPIPE if hasattr(signal, "SIGPIPE") else ExitCode.FAILURE


def _run(argv: list[str] | None) -> int:
    command = typer.main.get_command(app)
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    _received.clear()
    try:
        result = command.main(args=argv, prog_name="scaffold", standalone_mode=False)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
    except typer.TyperException as exc:  # Typer's own usage errors (bad option, bad value)
        ctx = getattr(exc, "ctx", None)
        hint = (
            f" (see '{ctx.command_path} --help')" if ctx and exc.exit_code == ExitCode.USAGE else ""
        )
        _error(exc.format_message() + hint)
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt) as exc:
        return _interrupted(exc)
    except BrokenPipeError:
        raise
    except ScaffoldError as exc:
        if debug:
            raise
        _error(str(exc))
        return exc.exit_code
    except Exception as exc:
        if debug:
            raise
        _error(f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)")
        return ExitCode.FAILURE
    if result == ExitCode.INTERRUPTED:  # Typer turns Ctrl-C into this exit code
        return _interrupted(None)
    return result if isinstance(result, int) else ExitCode.OK


def _interrupted(exc: BaseException | None) -> int:
    """Ctrl-C, SIGTERM or SIGHUP (Click wraps them in Abort): one line, exit 128 + signal."""
    while exc is not None and not isinstance(exc, Interrupted):
        exc = exc.__cause__ or exc.__context__
    signum = exc.signum if exc is not None else _received.pop() if _received else None
    _received.clear()
    if signum is None:
        _error("interrupted; nothing was written")
        return ExitCode.INTERRUPTED
    _error(f"interrupted by {signal.Signals(signum).name}; nothing was written")
    return 128 + signum


# SIGTERM and SIGHUP raise Interrupted, so they clean up as Ctrl-C does.
_INTERRUPTING = tuple(sig for sig in signals.STOP_SIGNALS if sig != signal.SIGINT)
_received: list[int] = []  # Typer turns every KeyboardInterrupt into exit code 130, losing which


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    raise Interrupted(signum)


def _discard_stdout() -> None:
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _error(message: str) -> None:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
