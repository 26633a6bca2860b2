"""Project names become valid, importable, non-shadowing names, or are refused with a reason."""

from __future__ import annotations

import keyword
import re
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaffolder.errors import UsageError
from scaffolder.names import MAX_LENGTH, ProjectNames, derive_names

RESERVED = ["flask", "gunicorn", "pydantic"]


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
        ("flask", "would shadow the flask package the starter uses: try 'flask-app'"),
        ("tests", "would shadow the tests package"),
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
    assert names.package not in RESERVED
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
