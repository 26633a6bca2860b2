"""Errors that reach the user as one line and an exit code, and the exit codes themselves."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1
    USAGE = 2
    # `scaffold update`, `add`, `remove`: applied, but files need a human (listed).
    CONFLICTS = 3
    # `scaffold check-update`: the project is behind its template.
    BEHIND = 4
    INTERRUPTED = 130  # 128 + SIGINT; SIGTERM and SIGHUP exit with 128 + their number too


class ScaffoldError(Exception):
    """A failure with a message written for the user; the CLI prints it on one line."""

    exit_code: int = ExitCode.FAILURE


class UsageError(ScaffoldError):
    """The command line, a name, an answer or the config file asks for something invalid."""

    exit_code = ExitCode.USAGE


class TemplateError(ScaffoldError):
    """The template source is missing, is not a Copier template, or its registry is broken."""


class DestinationError(ScaffoldError):
    """The project cannot be written where it was asked to go."""


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP, handled as Ctrl-C is: the work in progress is removed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
