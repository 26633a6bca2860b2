"""--data parsing, --with lists and the config file."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaffolder.answers import (
    Config,
    check_data_keys,
    computed_questions,
    load_config,
    parse_data,
    split_csv,
)
from scaffolder.errors import UsageError
from scaffolder.project import plan
from scaffolder.registry import Registry
from scaffolder.template import TemplateSource

from .copier_env import validate

keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True)


@given(st.dictionaries(keys, st.text()))
def test_data_round_trips(answers: dict[str, str]) -> None:
    assert parse_data(f"{key}={value}" for key, value in answers.items()) == answers


@given(st.text().filter(lambda text: "=" not in text))
def test_data_without_equals_is_refused(item: str) -> None:
    with pytest.raises(UsageError, match="has no '='"):
        parse_data([item])


@pytest.mark.parametrize("item", ["=x", " =x", "1a=x", "a b=c", "a-b=c"])
def test_data_needs_a_question_name(item: str) -> None:
    with pytest.raises(UsageError, match="needs a question name"):
        parse_data([item])


def test_later_data_wins_and_values_keep_their_equals_signs() -> None:
    assert parse_data(["a=1", "url=x=y", "a=2", "empty="]) == {"a": "2", "url": "x=y", "empty": ""}


@given(
    st.lists(
        st.lists(st.sampled_from(["docker", "github", "compose", " ", ""]), max_size=4), max_size=4
    )
)
def test_split_csv_keeps_order_and_drops_blanks_and_repeats(groups: list[list[str]]) -> None:
    result = split_csv(",".join(group) for group in groups)
    flat = [name.strip() for group in groups for name in group if name.strip()]
    assert result == list(dict.fromkeys(flat))


QUESTIONS = {
    "framework": {"type": "str", "choices": {"Flask": "flask"}},
    "description": {"type": "str"},
    "registry": {"type": "yaml", "when": False, "default": "{}"},
    "env_prefix": {"type": "str", "when": "false", "default": "X_"},
}


def test_unknown_data_keys_are_refused_with_the_questions() -> None:
    check_data_keys({"description": "x"}, QUESTIONS)
    with pytest.raises(UsageError) as refused:
        check_data_keys({"colour": "red"}, QUESTIONS)
    assert str(refused.value) == (
        "--data colour: the template has no such question; it asks: description, framework"
    )


@pytest.mark.parametrize("key", ["registry", "env_prefix"])
def test_computed_answers_cannot_be_set_and_are_not_listed_as_questions(key: str) -> None:
    assert computed_questions(QUESTIONS) == {"registry", "env_prefix"}
    with pytest.raises(UsageError) as refused:
        check_data_keys({key: "x"}, QUESTIONS)
    assert str(refused.value) == (
        f"--data {key}: {key} is computed by the template, not a question; "
        "it asks: description, framework"
    )


def test_the_templates_computed_answers_come_from_copier_yml(template: TemplateSource) -> None:
    """Derived from `when: false`, and each refuses a value in plain Copier too."""
    questions = template.questions()
    computed = computed_questions(questions)
    assert computed == {
        "registry",
        "fw",
        "env_prefix",
        "selected",
        "layout",
        "modules",
        "module_dir",
    }
    for key in computed:
        assert validate(key, "anything").endswith("it cannot be set")


def test_config_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        'framework = "fastapi"\npython = "3.13"\nwith = ["docker,github"]\n'
        'without = ["pre-commit"]\ngit = false\n[data]\ndescription = "An ACME service."\n'
    )
    assert load_config(path) == Config(
        framework="fastapi",
        python="3.13",
        with_=("docker", "github"),
        without=("pre-commit",),
        git=False,
        data={"description": "An ACME service."},
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("framework = ", "is not valid TOML"),
        ("colour = 'red'", "unknown key 'colour'; valid keys: framework, python, with"),
        ("with = 'docker'", "'with' must be a list of extension names"),
        ("git = 'yes'", "'git' must be true or false"),
        ("with = [1]", "'with' must be a list of extension names"),
    ],
)
def test_bad_config_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        load_config(path)


def test_a_missing_config_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_a_grouped_extension_answers_its_groups_question(registry: Registry) -> None:
    """The library API: plan() takes grouped extensions like any other, answers() splits them."""
    for group, members in registry.groups().items():
        for member in members:
            spec = plan(registry, name="shop", add=[member])
            answers = spec.answers()
            assert answers[group] == member
            assert member not in answers["extensions"]
            assert member in spec.extensions
        none = plan(registry, name="shop").answers()
        assert none[group] == "none"
        with pytest.raises(UsageError, match=f"^--data {group}=... is not supported: use --with"):
            plan(registry, name="shop", data={group: members[0]})
        with pytest.raises(UsageError, match=f"one {group} at a time"):
            plan(registry, name="shop", add=list(members))
