"""The check matrix: pairwise-complete, never invalid, deterministic; shards split it exactly."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaffolder.check.matrix import (
    Scope,
    all_cases,
    allowed_pairs,
    carries_glue,
    covered_pairs,
    glue_cases,
    pairwise_cases,
    shard,
)
from scaffolder.errors import UsageError
from scaffolder.registry import Extension, Registry

from .test_registry import with_rules


@pytest.fixture(params=["real", "with-rules"])
def any_registry(request: pytest.FixtureRequest, registry: Registry) -> Registry:
    return registry if request.param == "real" else with_rules()


def brute_force_valid(registry: Registry) -> set[tuple[str, str, frozenset[str]]]:
    names = list(registry.extensions)
    valid = set()
    for framework, python in itertools.product(registry.frameworks, registry.python_versions):
        for size in range(len(names) + 1):
            for extensions in itertools.combinations(names, size):
                if not registry.problems(framework, python, extensions):
                    valid.add((framework, python, frozenset(extensions)))
    return valid


def test_all_cases_is_exactly_the_valid_combinations(any_registry: Registry) -> None:
    cases = all_cases(any_registry, Scope.of(any_registry))
    assert {(c.framework, c.python, frozenset(c.extensions)) for c in cases} == brute_force_valid(
        any_registry
    )
    assert len(cases) == len(set(cases))


def test_pairwise_set_covers_every_allowed_pair_with_valid_cases_only(
    any_registry: Registry,
) -> None:
    scope = Scope.of(any_registry)
    cases = pairwise_cases(any_registry, scope)
    assert covered_pairs(any_registry, cases) == allowed_pairs(any_registry, scope)
    for case in cases:
        assert any_registry.problems(case.framework, case.python, case.extensions) == []
    # Far fewer cases than the full product, and not far above the lower bound that every
    # framework x Python pair needs a case of its own, plus the glue triples.
    lower_bound = sum(len(any_registry.python_versions_for(fw)) for fw in any_registry.frameworks)
    triples = len(glue_cases(any_registry, scope))
    assert lower_bound <= len(cases) <= lower_bound + triples + 3
    assert len(cases) < len(all_cases(any_registry, scope)) / 5


def test_glue_extensions_are_the_ones_that_add_runtime_code(any_registry: Registry) -> None:
    glue = {name for name, ext in any_registry.extensions.items() if carries_glue(ext)}
    assert glue == {
        name
        for name, ext in any_registry.extensions.items()
        if ext.dependencies or ext.async_dependencies or ext.settings or ext.prepare or ext.store
    }
    assert glue  # the databases today
    assert not carries_glue(Extension("x", "X", "dev tooling only", False, dev_dependencies=("a",)))


def test_every_glue_triple_on_the_oldest_and_newest_python_is_checked(
    any_registry: Registry,
) -> None:
    """framework x Python x extension, for extensions with framework glue: a pooled engine
    never disposed failed on 3.13 only, and pairs alone did not catch it."""
    cases = pairwise_cases(any_registry, Scope.of(any_registry))
    covered = {(c.framework, c.python, ext) for c in cases for ext in c.extensions}
    expected = {
        (framework, python, name)
        for framework in any_registry.frameworks
        for python in (
            any_registry.python_versions_for(framework)[0],
            any_registry.python_versions_for(framework)[-1],
        )
        for name, ext in any_registry.extensions.items()
        if carries_glue(ext) and not any_registry.problems(framework, python, [name])
    }
    assert expected
    assert expected <= covered


def test_every_framework_with_its_defaults_comes_first(registry: Registry) -> None:
    cases = pairwise_cases(registry, Scope.of(registry))
    for case, framework in zip(cases, registry.frameworks, strict=False):
        assert case.framework == framework
        assert case.python == registry.default_python
        assert case.extensions == registry.default_extensions(framework)


def test_the_rules_keep_disallowed_pairs_out(registry: Registry) -> None:
    rules = with_rules()
    cases = pairwise_cases(rules, Scope.of(rules))
    assert not any(c.framework == "fastapi" and c.python == "3.10" for c in cases)
    assert not any("gitlab" in c.extensions and "github" in c.extensions for c in cases)
    assert not any("compose" in c.extensions and "docker" not in c.extensions for c in cases)
    assert not any(c.framework == "bottle" and "gitlab" in c.extensions for c in cases)
    assert any("gitlab" in c.extensions for c in cases)


def test_the_result_is_deterministic(registry: Registry) -> None:
    scope = Scope.of(registry)
    assert pairwise_cases(registry, scope) == pairwise_cases(registry, scope)


def test_scope_narrows_the_cases(registry: Registry) -> None:
    framework, pythons = registry.default_framework, list(registry.python_versions[-2:])
    required = next(iter(registry.default_extensions(framework)))
    scope = Scope.of(registry, [framework], pythons, [required])
    cases = pairwise_cases(registry, scope)
    assert {c.framework for c in cases} == {framework}
    assert {c.python for c in cases} == set(pythons)
    assert all(required in c.extensions for c in cases)
    assert covered_pairs(registry, cases) == allowed_pairs(registry, scope)


def test_excluded_extensions_stay_out_of_the_glue_triples(registry: Registry) -> None:
    glue = [name for name, ext in registry.extensions.items() if carries_glue(ext)]
    scope = Scope.of(registry, excluded_extensions=glue[:1])
    assert not any(glue[0] in case.extensions for case in pairwise_cases(registry, scope))


@pytest.mark.parametrize(
    ("frameworks", "pythons", "extensions", "message"),
    [
        (["django"], [], [], "unknown framework 'django'"),
        ([], ["2.7"], [], "unknown Python version '2.7'"),
        ([], [], ["k8s"], "unknown extension 'k8s'"),
    ],
)
def test_scope_refuses_unknown_options(
    registry: Registry,
    frameworks: list[str],
    pythons: list[str],
    extensions: list[str],
    message: str,
) -> None:
    with pytest.raises(UsageError, match=message):
        Scope.of(registry, frameworks, pythons, extensions)


def test_an_impossible_scope_is_a_clear_error() -> None:
    rules = with_rules()
    with pytest.raises(UsageError, match="no valid combination"):
        pairwise_cases(rules, Scope.of(rules, ["bottle"], [], ["gitlab"]))


@settings(max_examples=50, deadline=None)  # pairwise_cases on a loaded machine
@given(st.integers(min_value=1, max_value=30))
def test_shards_are_disjoint_and_cover_every_case(total: int) -> None:
    rules = with_rules()
    cases = pairwise_cases(rules, Scope.of(rules))
    shards = [shard(cases, f"{index}/{total}") for index in range(1, min(total, len(cases)) + 1)]
    flattened = [case for part in shards for case in part]
    assert sorted(flattened) == sorted(cases)
    assert len(flattened) == len(set(flattened))
    assert max(map(len, shards)) - min(map(len, shards)) <= 1
    for index in range(len(cases) + 1, total + 1):  # more shards than cases: these are empty
        with pytest.raises(UsageError, match="selects no case"):
            shard(cases, f"{index}/{total}")


@pytest.mark.parametrize("spec", ["1", "0/3", "4/3", "a/b", "1/0", "-1/2"])
def test_bad_shard_specs_are_refused(spec: str) -> None:
    with pytest.raises(UsageError, match="--shard"):
        shard([], spec)
