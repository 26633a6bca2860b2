"""Options that several commands share, declared once."""

from __future__ import annotations

from typing import Annotated

import typer

TemplateOption = Annotated[
    str | None,
    typer.Option(
        "--template",
        metavar="PATH_OR_URL",
        help="Another Copier template instead of the bundled one: a path or git URL (a fork).",
    ),
]
TrustOption = Annotated[
    bool, typer.Option("--trust", help="Allow a template that runs its own code (tasks).")
]
VcsRefOption = Annotated[
    str | None,
    typer.Option(
        "--vcs-ref",
        metavar="REF",
        help="The template's version to use: a git tag, branch or commit. Default: the bundled "
        "template's current files, or another template's latest tag.",
    ),
]
