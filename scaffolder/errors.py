"""Errors that reach the user as one line and an exit code, and the exit codes themselves."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1
    USAGE = 2
    INTERRUPTED = 130


class ScaffoldError(Exception):
    """A failure with a message written for the user; the CLI prints it on one line."""

    exit_code = ExitCode.FAILURE


class UsageError(ScaffoldError):
    """The command line, a name, an answer or the config file asks for something invalid."""

    exit_code = ExitCode.USAGE


class TemplateError(ScaffoldError):
    """The template source is missing, is not a Copier template, or its registry is broken."""


class DestinationError(ScaffoldError):
    """The project cannot be written where it was asked to go."""
