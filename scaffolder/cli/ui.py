"""Terminal output and interactive prompts. Prompts import questionary only when they run."""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from scaffolder.registry import Registry


def console() -> Console:
    """A console on stderr: stdout stays for machine-readable output."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def interactive() -> bool:
    """Whether questions can be asked: stdin and stdout are terminals."""
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


def _ask(question: Any) -> Any:
    # unsafe_ask: Ctrl-C raises KeyboardInterrupt (the CLI reports it) instead of returning None.
    return question.unsafe_ask()


def ask_name(problem: Callable[[str], str | None]) -> str:
    """Ask for the project name until `problem` finds nothing wrong with it."""
    import questionary

    answer: str = _ask(
        questionary.text(
            "Project name (e.g. my-shop):", validate=lambda text: problem(text) or True
        )
    )
    return answer


def ask_framework(registry: Registry, default: str) -> str:
    import questionary

    choices = [
        questionary.Choice(title=f"{fw.label:<10} {fw.description}", value=name)
        for name, fw in registry.frameworks.items()
    ]
    answer: str = _ask(questionary.select("Framework:", choices=choices, default=default))
    return answer


def ask_python(registry: Registry, framework: str, default: str) -> str:
    import questionary

    unsupported = registry.framework(framework).python_unsupported
    choices = [
        questionary.Choice(title=version, value=version, disabled=unsupported.get(version))
        for version in registry.python_versions
    ]
    answer: str = _ask(
        questionary.select(
            "Python version (the oldest supported):", choices=choices, default=default
        )
    )
    return answer


def ask_extensions(
    registry: Registry, framework: str, python: str, selected: list[str]
) -> list[str]:
    """Ask until the ticked extensions satisfy the registry's rules, saying why when not."""
    import questionary

    while True:
        choices = [
            questionary.Choice(
                title=f"{ext.label:<15} {ext.description}",
                value=name,
                checked=name in selected,
                disabled=ext.unsupported_frameworks.get(framework),
            )
            for name, ext in registry.extensions.items()
        ]
        selected = _ask(questionary.checkbox("Extensions (space toggles):", choices=choices))
        problems = registry.problems(framework, python, selected)
        if not problems:
            return selected
        # (questionary's own checkbox validation message does not show in every terminal)
        console().print(f"[red]x[/] {problems[0]}; choose again")


def confirm(message: str) -> bool:
    import questionary

    answer: bool = _ask(questionary.confirm(message, default=True))
    return answer


def ask_other_questions(questions: Mapping[str, Any], skip: Collection[str]) -> dict[str, str]:
    """Ask the template's remaining free-text questions; Enter keeps the template's default."""
    import questionary

    answers = {}
    for key, question in questions.items():
        if key in skip or not isinstance(question, dict) or question.get("when") is False:
            continue
        if question.get("type", "str") != "str" or "choices" in question:
            continue  # Copier's default applies
        message = str(question.get("help") or key)
        answer: str = _ask(
            questionary.text(f"{message}:", instruction="(Enter: the template's default)")
        )
        if answer.strip():
            answers[key] = answer.strip()
    return answers
