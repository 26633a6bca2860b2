"""Which starters `scaffold check` renders: the cases, derived from the registry, never listed.

The options are the framework, the Python version and one on/off switch per extension. The
default set starts with every framework with its defaults, then every framework x Python x
extension triple for the extensions that carry framework glue (`carries_glue`: runtime
dependencies, settings or a prepare step, e.g. the databases), on the oldest and the newest
Python each framework supports: pairs alone missed a failure that only a triple showed (a pooled
engine never disposed failed on 3.13 only). Then, greedily, the valid case that covers the most
not-yet-covered pairs of option values, until every pair that some valid case contains is
covered. Invalid combinations (the registry's rules) are never emitted. `all_cases` is the full
cartesian product of valid cases.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scaffolder.errors import UsageError
from scaffolder.registry import Extension, Registry

# One option value: ("framework", "flask"), ("python", "3.12") or ("docker", True).
Value = tuple[str, object]
Pair = frozenset[Value]


@dataclass(frozen=True, order=True)
class Case:
    framework: str
    python: str
    extensions: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.framework}-py{self.python}-{'+'.join(self.extensions) or 'bare'}"

    def values(self, extension_names: Iterable[str]) -> list[Value]:
        return [
            ("framework", self.framework),
            ("python", self.python),
            *((name, name in self.extensions) for name in extension_names),
        ]

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "framework": self.framework,
            "python": self.python,
            "extensions": list(self.extensions),
        }


@dataclass(frozen=True)
class Scope:
    """The options a check may vary; by default everything the registry offers."""

    frameworks: tuple[str, ...]
    pythons: tuple[str, ...]
    required_extensions: tuple[str, ...] = ()
    excluded_extensions: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        registry: Registry,
        frameworks: Sequence[str] = (),
        pythons: Sequence[str] = (),
        required_extensions: Sequence[str] = (),
        excluded_extensions: Sequence[str] = (),
    ) -> Scope:
        for name in frameworks:
            registry.framework(name)
        for version in pythons:
            if version not in registry.python_versions:
                offered = ", ".join(registry.python_versions)
                raise UsageError(f"unknown Python version {version!r}; choose from: {offered}")
        for ext in (*required_extensions, *excluded_extensions):
            if ext not in registry.extensions:
                registry.check(registry.default_framework, registry.default_python, [ext])
        if both := sorted(set(required_extensions) & set(excluded_extensions)):
            raise UsageError(f"--with and --without both name {', '.join(both)}")
        return cls(
            frameworks=tuple(frameworks) or tuple(registry.frameworks),
            pythons=tuple(pythons) or registry.python_versions,
            required_extensions=tuple(required_extensions),
            excluded_extensions=tuple(excluded_extensions),
        )


def all_cases(registry: Registry, scope: Scope) -> list[Case]:
    """Every valid combination within the scope, in registry order."""
    names = list(registry.extensions)
    cases = []
    for framework, python in itertools.product(scope.frameworks, scope.pythons):
        for switches in itertools.product((True, False), repeat=len(names)):
            extensions = tuple(name for name, on in zip(names, switches, strict=True) if on)
            if (
                set(scope.required_extensions) <= set(extensions)
                and not set(scope.excluded_extensions) & set(extensions)
                and not registry.problems(framework, python, extensions)
            ):
                cases.append(Case(framework, python, extensions))
    return cases


def pairwise_cases(registry: Registry, scope: Scope) -> list[Case]:
    """A small set of valid cases that covers every allowed pair of option values."""
    candidates = all_cases(registry, scope)
    if not candidates:
        raise UsageError(
            "no valid combination matches the --framework/--python/--with/--without given"
        )
    names = list(registry.extensions)
    pairs_of = {case: _pairs(case.values(names)) for case in candidates}
    seeds = [default_case(registry, fw, scope) for fw in scope.frameworks]
    seeds += glue_cases(registry, scope)
    seeds = [case for case in dict.fromkeys(seeds) if case in pairs_of]
    return _greedy_cover(candidates, pairs_of, seeds)


def carries_glue(extension: Extension) -> bool:
    """Whether an extension adds code that runs inside the framework's app (engine start-up and
    shutdown, its own settings), so a framework x Python x extension triple can fail alone."""
    return bool(
        extension.dependencies
        or extension.async_dependencies
        or extension.settings
        or extension.prepare
        or extension.store
    )


def glue_cases(registry: Registry, scope: Scope) -> list[Case]:
    """Every framework with each glue-carrying extension (on top of its defaults), on the oldest
    and the newest Python it supports within the scope; only valid cases."""
    cases = []
    for framework in scope.frameworks:
        versions = [v for v in registry.python_versions_for(framework) if v in scope.pythons]
        for python in dict.fromkeys(versions[:1] + versions[-1:]):
            base = default_case(registry, framework, scope)
            for name, ext in registry.extensions.items():
                if not carries_glue(ext) or name in scope.excluded_extensions:
                    continue
                chosen = {*base.extensions, name}
                extensions = tuple(n for n in registry.extensions if n in chosen)
                if not registry.problems(framework, python, extensions):
                    cases.append(Case(framework, python, extensions))
    return cases


def _greedy_cover(
    candidates: Sequence[Case], pairs_of: dict[Case, set[Pair]], seeds: Sequence[Case]
) -> list[Case]:
    chosen = list(seeds)
    uncovered = set().union(*pairs_of.values()).difference(*(pairs_of[c] for c in chosen))
    while uncovered:
        # Most new pairs wins; ties go to the earliest candidate, so the result is stable.
        best = max(candidates, key=lambda case: len(pairs_of[case] & uncovered))
        chosen.append(best)
        uncovered -= pairs_of[best]
    # An early pick can become redundant later: drop those whose pairs the others all cover.
    for case in reversed(chosen[len(seeds) :]):
        others = set().union(*(pairs_of[c] for c in chosen if c != case))
        if pairs_of[case] <= others:
            chosen.remove(case)
    return chosen


def allowed_pairs(registry: Registry, scope: Scope) -> set[Pair]:
    """Every pair of option values that at least one valid case contains."""
    names = list(registry.extensions)
    return set().union(*(_pairs(case.values(names)) for case in all_cases(registry, scope)))


def covered_pairs(registry: Registry, cases: Iterable[Case]) -> set[Pair]:
    names = list(registry.extensions)
    return set().union(*(_pairs(case.values(names)) for case in cases))


def shard(cases: Sequence[Case], spec: str) -> list[Case]:
    """Cases of shard "I/N" (1-based): every N-th case from the I-th, so shards are disjoint.

    A shard that selects nothing is refused: a CI job that checks no case must not pass."""
    index, total = parse_shard(spec)
    selected = list(cases[index - 1 :: total])
    if not selected:
        msg = (
            f"--shard {spec} selects no case: the set has only {len(cases)}; use N <= {len(cases)}"
        )
        raise UsageError(msg)
    return selected


def parse_shard(spec: str) -> tuple[int, int]:
    try:
        index_text, total_text = spec.split("/")
        index, total = int(index_text), int(total_text)
    except ValueError:
        raise UsageError(f"--shard {spec!r} must look like I/N, e.g. 2/4") from None
    if not 1 <= index <= total:
        raise UsageError(f"--shard {spec!r}: I must be between 1 and N")
    return index, total


def default_case(registry: Registry, framework: str, scope: Scope) -> Case:
    """The framework's default starter within the scope (its default Python and extensions)."""
    python = registry.default_python_for(framework)
    if python not in scope.pythons:
        python = scope.pythons[-1]
    defaults = set(registry.default_extensions(framework)) | set(scope.required_extensions)
    defaults -= set(scope.excluded_extensions)
    return Case(framework, python, tuple(name for name in registry.extensions if name in defaults))


def _pairs(values: Sequence[Value]) -> set[Pair]:
    return {frozenset(pair) for pair in itertools.combinations(values, 2)}
