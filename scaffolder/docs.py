"""README.md's tables and lists that come from the registry, generated instead of written.

    uv run python -m scaffolder.docs           rewrite the marked blocks of README.md
    uv run python -m scaffolder.docs --check   exit 1, saying so, when README.md is stale

A block sits between `<!-- registry:NAME ... -->` and `<!-- /registry:NAME -->`; adding a
framework or an extension to templates/registry.yml then edits no table by hand. The check
matrix's case counts quoted in the usage block are rewritten in place too.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from scaffolder.answers import computed_questions
from scaffolder.check.matrix import Scope, all_cases, pairwise_cases
from scaffolder.errors import ScaffoldError, UsageError
from scaffolder.registry import Extension, Registry

COMMAND = "uv run python -m scaffolder.docs"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    lines = [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}"]
    lines += [f"| {' | '.join(_cell(cell) for cell in row)} |" for row in rows]
    return "\n".join(lines)


def frameworks_block(registry: Registry, questions: Mapping[str, Any]) -> str:
    rows = [
        (
            fw.name + (" (default)" if fw.name == registry.default_framework else ""),
            f"{fw.kind}, {fw.handlers}",
            fw.server.name,
            fw.test_client,
            ", ".join(registry.python_versions_for(fw.name)),
        )
        for fw in registry.frameworks.values()
    ]
    return _table(("name", "kind, handlers", "server", "test client", "Python"), rows)


def _rules(registry: Registry, ext: Extension) -> str:
    rules = []
    if ext.group:
        members = registry.groups()[ext.group]
        rules.append(f"one {ext.group} at a time ({', '.join(f'`{m}`' for m in members)})")
    rules += [f"needs `{other}`" for other in ext.requires]
    rules += [f"not with `{other}`: {why}" for other, why in ext.conflicts.items()]
    rules += [f"not for {fw}: {why}" for fw, why in ext.unsupported_frameworks.items()]
    return "; ".join(rules) or "-"


def _runs_with(registry: Registry, ext: Extension) -> str:
    needs = [
        f"`{setting.env}`"
        + (f" (default `{setting.default}`)" if setting.default else " (required)")
        for setting in ext.settings
    ]
    needs += [f"a {registry.services[name].label} server" for name in ext.services]
    needs += [f"`{ext.prepare}` before serving"] if ext.prepare else []
    return "; ".join(needs) or "-"


def extensions_block(registry: Registry, questions: Mapping[str, Any]) -> str:
    rows = [
        (
            f"`{ext.name}`",
            ext.description,
            "yes" if ext.default else "no",
            _rules(registry, ext),
            _runs_with(registry, ext),
        )
        for ext in registry.extensions.values()
    ]
    return _table(("--with", "what it adds", "default", "rules", "runs with"), rows)


def computed_block(registry: Registry, questions: Mapping[str, Any]) -> str:
    computed = [key for key in questions if key in computed_questions(questions)]
    groups = [f"`{group}`" for group in registry.groups()]
    return (
        f"{_and(f'`{key}`' for key in computed)} are computed by the template, not questions: "
        f"`--data` refuses them. `extensions` and each group's question ({_and(groups)}) are "
        "answered by `--with`/`--without`, which `--data` refuses too."
    )


def _and(items: Iterable[str]) -> str:
    words = list(items)
    return ", ".join(words[:-1]) + f" and {words[-1]}" if len(words) > 1 else "".join(words)


BLOCKS: dict[str, Callable[[Registry, Mapping[str, Any]], str]] = {
    "frameworks": frameworks_block,
    "extensions": extensions_block,
    "computed": computed_block,
}


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- registry:{name}\b[^\n]*-->\n)(.*?)(<!-- /registry:{name} -->)", re.DOTALL
    )


def rewrite(text: str, registry: Registry, questions: Mapping[str, Any]) -> str:
    """`text` with every marked block regenerated; a missing marker is an error."""
    for name, block in BLOCKS.items():
        pattern = _pattern(name)
        found = pattern.search(text)
        if found is None:
            msg = f"no <!-- registry:{name} --> ... <!-- /registry:{name} --> block found"
            raise UsageError(msg)
        generated = block(registry, questions) + "\n"
        text = text[: found.start(2)] + generated + text[found.end(2) :]
    return _case_counts(text, registry)


def _case_counts(text: str, registry: Registry) -> str:
    """The check matrix's sizes quoted in the usage block (inside a code block: no markers)."""
    scope = Scope.of(registry)
    counts = {
        r"pairwise-complete set \(\d+ cases today\)": (
            f"pairwise-complete set ({len(pairwise_cases(registry, scope))} cases today)"
        ),
        r"every valid combination \(\d+ today\)": (
            f"every valid combination ({len(all_cases(registry, scope))} today)"
        ),
    }
    for pattern, value in counts.items():
        text = re.sub(pattern, value, text)
    return text


def main(argv: list[str] | None = None) -> int:
    from scaffolder.template import TemplateSource, bundled_root

    parser = argparse.ArgumentParser(prog="python -m scaffolder.docs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only say whether it is stale")
    parser.add_argument("--readme", type=Path, default=bundled_root() / "README.md")
    parser.add_argument("--template", type=Path, default=bundled_root())
    args = parser.parse_args(argv)
    try:
        registry = Registry.load(args.template)
        questions = TemplateSource(str(args.template), args.template, None).questions()
        text = args.readme.read_text(encoding="utf-8")
        fresh = rewrite(text, registry, questions)
    except (OSError, ScaffoldError) as exc:
        print(f"error: {args.readme}: {exc}", file=sys.stderr)
        return 2
    if fresh == text:
        return 0
    if args.check:
        print(f"error: {args.readme} is stale: run `{COMMAND}`", file=sys.stderr)
        return 1
    args.readme.write_text(fresh, encoding="utf-8")
    print(f"rewrote {args.readme}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
