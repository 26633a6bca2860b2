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
    """Ask until the chosen extensions satisfy the registry's rules, saying why when not.

    Extensions of no group are a checkbox; each group (e.g. database) is a single select of
    its own, "none" or one member, so two of one group cannot be picked.
    """
    import questionary

    groups = registry.groups()
    grouped = {name for members in groups.values() for name in members}
    while True:
        choices = [
            questionary.Choice(
                title=f"{ext.label:<15} {ext.description}",
                value=name,
                checked=name in selected,
                disabled=ext.unsupported_frameworks.get(framework),
            )
            for name, ext in registry.extensions.items()
            if name not in grouped
        ]
        chosen: list[str] = _ask(
            questionary.checkbox("Extensions (space toggles):", choices=choices)
        )
        # The checkbox's own rules first, then with each group's pick.
        problems = registry.problems(framework, python, chosen)
        for group, members in groups.items():
            if problems:
                break
            picked = _ask_group(registry, framework, group, members, selected)
            chosen += [picked] if picked else []
            problems = registry.problems(framework, python, chosen)
        selected = [name for name in registry.extensions if name in chosen]
        if not problems:
            return selected
        # (questionary's own checkbox validation message does not show in every terminal)
        console().print(f"[red]x[/] {problems[0]}; choose again")


NONE_CHOICE = "None"


def _ask_group(
    registry: Registry, framework: str, group: str, members: tuple[str, ...], selected: list[str]
) -> str | None:
    """One group's single select: "None" or one member; unsupported members shown disabled."""
    import questionary

    choices = [questionary.Choice(title=f"{NONE_CHOICE:<15} no {group}", value="")]
    for name in members:
        ext = registry.extensions[name]
        choices.append(
            questionary.Choice(
                title=f"{ext.label:<15} {ext.description}",
                value=name,
                disabled=ext.unsupported_frameworks.get(framework),
            )
        )
    usable = {c.value for c in choices if not c.disabled}
    default = next((name for name in selected if name in members and name in usable), "")
    answer: str = _ask(
        questionary.select(
            f"{group.capitalize()} (one at a time):",
            choices=choices,
            default=next(c for c in choices if c.value == default),
        )
    )
    return answer or None


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
