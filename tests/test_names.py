"""Project names become valid, importable, non-shadowing names, or are refused with a reason."""

from __future__ import annotations

import keyword
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from scaffolder.errors import UsageError
from scaffolder.names import (
    LAYOUT_NAMES,
    MAX_LENGTH,
    NAMES_PATH,
    ProjectNames,
    ReservedNames,
    check_package_name,
    derive_names,
)
from scaffolder.registry import Registry
from scaffolder.reserved import dump, generate

from .conftest import REPO
from .copier_env import plain_copy, render, validate

RESERVED = ReservedNames.load(REPO)


@pytest.mark.parametrize(
    ("typed", "project", "package"),
    [
        ("shop", "shop", "shop"),
        ("My Shop", "my-shop", "my_shop"),
        ("  padded  ", "padded", "padded"),
        ("shop.api", "shop-api", "shop_api"),
        ("Order__Service", "order-service", "order_service"),
        ("café", "cafe", "cafe"),
        ("shop2", "shop2", "shop2"),
    ],
)
def test_typed_names_are_normalised(typed: str, project: str, package: str) -> None:
    assert derive_names(typed, reserved=RESERVED) == ProjectNames(project, package)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "the project name is empty"),
        ("   ", "the project name is empty"),
        ("1shop", "starts with a digit, which a Python package cannot: try 'app-1shop'"),
        ("class", "'class' is a Python keyword, so it cannot be imported: try 'class-app'"),
        ("json", "would shadow the standard library's json module: try 'json-app'"),
        (
            "flask",
            "project name 'flask' is the name of a distribution the starter installs, so it "
            "could not depend on it: try 'flask-app'",
        ),
        ("PyYAML", "project name 'pyyaml' is the name of a distribution the starter installs"),
        ("yaml", "'yaml' would shadow the yaml module of PyYAML, which the starter installs"),
        ("Jinja2", "project name 'jinja2' is the name of a distribution"),
        ("werkzeug", "project name 'werkzeug' is the name of a distribution"),
        ("packaging", "project name 'packaging' is the name of a distribution"),
        ("tests", "'tests' would shadow the starter's own tests folder: try 'tests-app'"),
        ("tomllib", "would shadow the standard library's tomllib module"),
        ("日本", "which has no ASCII spelling"),
        ("x" * 300, f"300 characters long; keep it to {MAX_LENGTH} or fewer"),
        ("../x", "looks like a path"),
        ("/abs", "looks like a path"),
        ("a/b", "looks like a path"),
        ("a;rm -rf /", "looks like a path"),
        ("a;rm -rf", "contains ';', which cannot be in a name"),
        ("$(reboot)", "contains '$' '(' ')'"),
        ("---", "has no letters or digits"),
    ],
)
def test_bad_names_are_refused_with_a_reason(typed: str, reason: str) -> None:
    with pytest.raises(UsageError) as refused:
        derive_names(typed, reserved=RESERVED)
    message = str(refused.value)
    assert reason in message
    assert "\n" not in message


VALID_PROJECT = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*\Z")


@given(st.text(max_size=60))
def test_any_text_gives_valid_names_or_a_clear_refusal(typed: str) -> None:
    try:
        names = derive_names(typed, reserved=RESERVED)
    except UsageError as refused:
        refusal: str | None = str(refused)
    else:
        refusal = None
    if refusal is not None:
        assert refusal
        assert "\n" not in refusal
        return
    assert VALID_PROJECT.match(names.project)
    assert names.package == names.project.replace("-", "_")
    assert names.package.isidentifier()
    assert not keyword.iskeyword(names.package)
    assert names.package not in sys.stdlib_module_names
    assert names.package not in RESERVED.imports
    assert names.project not in RESERVED.distributions
    assert not names.package[0].isdigit()
    assert len(names.project) <= MAX_LENGTH


@given(st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,8}([ ._-]{1,3}[A-Za-z0-9]{1,8}){0,3}", fullmatch=True))
def test_derived_names_are_stable(typed: str) -> None:
    try:
        names = derive_names(typed, reserved=RESERVED)
    except UsageError:
        return
    # Typing the derived name again gives the same names: what is shown is what is used.
    assert derive_names(names.project, reserved=RESERVED) == names
    assert derive_names(names.package, reserved=RESERVED) == names


# -- plain Copier and `scaffold new` refuse the same names, for the same reason ---------------

NORMAL_NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*\Z")
TYPED_NAMES = st.one_of(
    st.from_regex(r"[a-z][a-z0-9]{0,12}(-[a-z0-9]{1,12}){0,4}", fullmatch=True),
    st.sampled_from(
        sorted({*RESERVED.imports, *RESERVED.distributions, *RESERVED.stdlib, *keyword.kwlist})
    ).map(lambda name: name.replace("_", "-")),
    st.sampled_from(
        ["tests", "src", "conftest", "1shop", "9-lives", "x" * MAX_LENGTH, "x" * (MAX_LENGTH + 1)]
    ),
).filter(NORMAL_NAME.match)  # names as plain Copier takes them; the CLI normalises first


@settings(deadline=None)
@given(TYPED_NAMES)
def test_copier_validators_and_names_py_agree(project: str) -> None:
    try:
        names = derive_names(project, reserved=RESERVED)
    except UsageError as refused:
        python_says = str(refused)
    else:
        python_says = ""
        assert names.project == project
    copier_says = validate("project_name", project)
    assert copier_says == python_says


@settings(deadline=None)
@given(
    st.from_regex(r"[a-z][a-z0-9_]{0,50}", fullmatch=True)
    | st.sampled_from(sorted(RESERVED.imports))
    | st.sampled_from(["x" * MAX_LENGTH, "x" * (MAX_LENGTH + 1), "class", "tests", "9x", "A"])
)
def test_package_name_validators_agree(package: str) -> None:
    try:
        check_package_name(package, reserved=RESERVED)
    except UsageError as refused:
        python_says = str(refused)
    else:
        python_says = ""
    copier_says = validate("package_name", package)
    assert copier_says == python_says


def test_the_names_file_is_the_one_names_py_uses() -> None:
    data = yaml.safe_load((REPO / NAMES_PATH).read_text())
    assert data["max_length"] == MAX_LENGTH
    assert set(data["layout"]) == LAYOUT_NAMES
    assert data["keywords"] == sorted(keyword.kwlist)
    assert set(sys.stdlib_module_names) >= {
        m for m in data["stdlib"] if m in sys.stdlib_module_names
    }
    # The dependencies the issue names, derived, not listed by hand in the data file.
    assert {"yaml", "packaging", "werkzeug", "jinja2"} <= set(data["imports"])


@pytest.mark.starter
def test_the_names_file_is_up_to_date_with_what_the_starters_install() -> None:
    """Regenerates templates/names.yml from freshly installed starters; fails when stale."""
    fresh = dump(generate(REPO))
    assert (REPO / NAMES_PATH).read_text() == fresh, (
        "templates/names.yml is stale: run `uv run python -m scaffolder.reserved`"
    )


# -- every accepted name gives a starter that passes ruff, at every length --------------------

LONG_NAME = "orders-service-for-the-warehouse-team-of-acme-corp"


@pytest.fixture(scope="module")
def plain_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return plain_copy(tmp_path_factory.mktemp("template"))


@pytest.mark.starter
@pytest.mark.parametrize("framework", [*Registry.load(REPO).frameworks])
def test_names_of_every_length_give_a_starter_that_passes_ruff(
    framework: str, plain_template: Path, tmp_path: Path
) -> None:
    for length in range(1, MAX_LENGTH + 1):
        name = LONG_NAME[:length]
        name = name[:-1] + "x" if name.endswith("-") else name
        try:
            derive_names(name, reserved=RESERVED)
        except UsageError:
            name = "z" * length  # "or", say: a keyword, refused; any accepted name will do
        assert derive_names(name, reserved=RESERVED).project == name
        render(
            plain_template, tmp_path / str(length), {"project_name": name, "framework": framework}
        )
    assert len(list(tmp_path.iterdir())) == MAX_LENGTH
    ruff = [sys.executable, "-m", "ruff"]
    for check in (["check", "--output-format=concise"], ["format", "--check"]):
        done = subprocess.run(
            [*ruff, *check, "."], cwd=tmp_path, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
