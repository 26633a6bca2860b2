"""Any accepted answer gives a working starter: property tests over arbitrary text.

Every free-text question of copier.yml (found there, not listed here) takes `st.text()` with its
full alphabet: quotes, backslashes, newlines, control characters, `{{ }}`, `{% %}`, emoji.
Surrogates and U+0085 are the exclusions, and only from the render tests: surrogates are not
text, no UTF-8 file can hold them; U+0085 (NEXT LINE) is written by Copier's YAML writer into
`.copier-answers.yml` as a raw line break that reads back as a space (hypothesis found it). The
validator refuses both (tested below). Three layers:

- the escaping macros on their own, fast, many examples: each output reads back as the input in
  the language it is written for (TOML, YAML, Python, Markdown);
- whole starters rendered in-process by Copier (no lock, no git): every .py compiles, every
  .toml/.yml parses, ruff and ruff format pass, `.copier-answers.yml` round-trips the exact
  value, and the value shows up where it should;
- a few nasty values through the full check (uv sync, pytest, ruff, format, mypy, server).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from scaffolder.answers import computed_questions
from scaffolder.check.matrix import Case
from scaffolder.check.steps import CaseRunner
from scaffolder.names import derive_names
from scaffolder.project import create, plan
from scaffolder.registry import Registry
from scaffolder.template import TemplateSource

from .conftest import REPO, scaffold_process
from .copier_env import copier_config, macro, plain_copy, render, validate

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

REGISTRY = Registry.load(REPO)
FRAMEWORKS = list(REGISTRY.frameworks)
# ast.parse understands the syntax of the Python running the tests: render for that version.
RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"
PYTHON = RUNNING if RUNNING in REGISTRY.python_versions else REGISTRY.python_versions[0]
NAME_QUESTIONS = {"project_name", "package_name"}  # names: tested through --name below


def free_text_questions() -> list[str]:
    """copier.yml's questions that take any text: type str, no choices, asked."""
    config = copier_config()
    questions = {key: value for key, value in config.items() if not key.startswith("_")}
    computed = computed_questions(questions)
    return [
        key
        for key, question in questions.items()
        if key not in computed | NAME_QUESTIONS
        and question.get("type", "str") == "str"
        and "choices" not in question
    ]


FREE_TEXT = free_text_questions()
NOT_KEPT = "\x85"  # NEXT LINE: .copier-answers.yml reads it back as a space

NASTY = [
    'ends with a quote"',
    "ends with a backslash\\",
    'He said "hi"\n# Not a heading\n---\n=====\n\t1. item\n> quote\n```\ncode',
    '"""triple""" \'\'\' {{ project_name }} {% if x %} {# c #} ${HOME} $(rm -rf /) `id`',
    "ctrl \x00 \x01 \x1b[31m \x7f \u2028 \u2029 \ufeff \ufffe end",  # \x85: refused, below
    "emoji 😀 RTL \u202e עברית 中文 \uff46\uff55\uff4c\uff4c width é",
    "key: value # comment\n- item\n[table]\nx = 1\n<script>alert(1)</script> &amp; *a* _b_ [l](u)",
    "",
    "   ",
    "word " * 60,
    "x" * 300,
]


def test_description_is_the_free_text_question() -> None:
    assert "description" in FREE_TEXT


# -- the escaping macros, on their own ------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text())
@example("")
@example('"')
@example("\\")
@example("😀\x7f\x85\u2028\ufeff")
def test_escaped_text_reads_back_in_toml_yaml_and_python(text: str) -> None:
    toml = macro("escaped", text)
    assert tomllib.loads(f'x = "{toml}"')["x"] == text
    assert yaml.safe_load(f'x: "{toml}"')["x"] == text
    python = macro("escaped", text, ascii=True)
    assert python.isascii()
    assert ast.literal_eval(f'"{python}"') == text
    assert ast.literal_eval(f'"""{python}"""') == text


@settings(max_examples=300, deadline=None)
@given(st.text())
@example('a"')
@example('"' * 7)
@example("word " * 60)
@example("x" * 300)
def test_docstring_reads_back_and_fits_the_line_limit(text: str) -> None:
    source = macro("docstring", text) + "\n"
    docstring = ast.get_docstring(ast.parse(source), clean=False)
    assert docstring is not None
    assert " ".join(docstring.split()) == " ".join(text.split())
    assert source.isascii()
    for line in source.splitlines():
        assert len(line) <= 100 or " " not in line.strip(), line


MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@settings(max_examples=300, deadline=None)
@given(st.text())
@example("# heading\n---")
@example("1. item")
@example("10) item")
@example("> quote")
@example("    code")
@example("<div>html</div>")
@example("*em* _em_ `code` [link](x) ![img](y) &amp; ~~del~~ $x$ a|b\n-|-")
@example("+ item")
@example("=")
def test_markdown_paragraph_is_one_paragraph_of_plain_text(text: str) -> None:
    rendered = macro("markdown_paragraph", text)
    expected = CONTROL.sub("\ufffd", " ".join(text.split()))
    tokens = MARKDOWN.parse(f"# title\n\n{rendered}\n\n## next\n")
    blocks = [token.type for token in tokens if token.type != "inline"]
    paragraph = ["paragraph_open", "paragraph_close"] if expected else []
    assert blocks == ["heading_open", "heading_close", *paragraph, "heading_open", "heading_close"]
    if expected:
        inline = tokens[4]
        assert {child.type for child in inline.children or []} <= {"text"}
        assert "".join(child.content for child in inline.children or []) == expected


# -- whole starters, rendered in-process ------------------------------------------------------


@pytest.fixture(scope="module")
def plain_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return plain_copy(tmp_path_factory.mktemp("template"))


def check_files_parse(project: Path) -> None:
    for path in project.rglob("*"):
        if path.suffix == ".py":
            ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        elif path.suffix == ".toml":
            tomllib.loads(path.read_text(encoding="utf-8"))
        elif path.suffix in {".yml", ".yaml"}:
            yaml.safe_load(path.read_text(encoding="utf-8"))


def check_ruff(project: Path) -> None:
    for command in (["check", "--output-format=concise"], ["format", "--check"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--no-cache", "."],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def check_answer_lands(project: Path, question: str, value: str, module_dir: str) -> None:
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers[question] == value
    if question == "description":
        pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
        assert pyproject["project"]["description"] == " ".join(value.split())
        init = (project / module_dir / "__init__.py").read_text(encoding="utf-8")
        docstring = ast.get_docstring(ast.parse(init), clean=False) or ""
        assert " ".join(docstring.split()) == " ".join(value.split())
        readme = (project / "README.md").read_text(encoding="utf-8")
        assert readme.startswith(f"# {answers['project_name']}\n\n")


@pytest.mark.parametrize("question", FREE_TEXT)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    value=st.text(st.characters(exclude_categories=["Cs"], exclude_characters=NOT_KEPT)),
    framework=st.sampled_from(FRAMEWORKS),
)
def test_any_free_text_answer_renders_a_starter_that_parses_and_lints(
    question: str,
    value: str,
    framework: str,
    plain_template: Path,
    default_starters: dict[str, dict[str, bytes]],
    tmp_path: Path,
) -> None:
    assert validate(question, value) == ""  # accepted: only surrogates and U+0085 are refused
    folder = Path(tempfile.mkdtemp(dir=tmp_path))  # tmp_path is shared by the examples
    check_free_text(plain_template, folder, default_starters, framework, question, value)


def check_free_text(
    plain_template: Path,
    folder: Path,
    default_starters: dict[str, dict[str, bytes]],
    framework: str,
    question: str,
    value: str,
) -> None:
    """Render with `question` answered `value`: it lands only where it may, every file parses,
    the answer reads back exactly, and ruff is clean."""
    project = render(plain_template, folder / "shop", {**base_answers(framework), question: value})
    baseline = default_starters[framework]
    changed = {name for name, data in contents(project).items() if baseline.get(name) != data}
    module_dir = REGISTRY.framework(framework).module_dir("shop")  # the layout's
    assert changed <= {*LANDS_IN, f"{module_dir}/__init__.py"}, changed
    check_files_parse(project)
    check_answer_lands(project, question, value, module_dir)
    check_ruff(project)


# Where free text may land; everywhere else (Dockerfile, compose, workflow, .env.example, the
# app and its tests) it must not appear at all, so no shell or Dockerfile quoting is needed.
# (and the package's __init__.py: src/shop/__init__.py, or where the framework's layout puts it)
LANDS_IN = {"README.md", "pyproject.toml", ".copier-answers.yml"}


def contents(project: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(project)): path.read_bytes()
        for path in project.rglob("*")
        if path.is_file()
    }


@pytest.fixture(scope="module")
def default_starters(
    plain_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, bytes]]:
    """Each framework's starter with every answer at its default, to compare against."""
    folder = tmp_path_factory.mktemp("defaults")
    return {
        framework: contents(render(plain_template, folder / framework, base_answers(framework)))
        for framework in FRAMEWORKS
    }


def base_answers(framework: str) -> dict[str, str]:
    return {"project_name": "shop", "framework": framework, "python_version": PYTHON}


# Each nasty value with one framework, in turn: the free text lands in shared files only.
@pytest.mark.parametrize(
    ("value", "framework"),
    [(value, FRAMEWORKS[i % len(FRAMEWORKS)]) for i, value in enumerate(NASTY)],
    ids=[f"{i}-{FRAMEWORKS[i % len(FRAMEWORKS)]}" for i in range(len(NASTY))],
)
@pytest.mark.parametrize("question", FREE_TEXT)
def test_nasty_answers_render_a_starter_that_parses_and_lints(
    question: str,
    value: str,
    framework: str,
    plain_template: Path,
    default_starters: dict[str, dict[str, bytes]],
    tmp_path: Path,
) -> None:
    check_free_text(plain_template, tmp_path, default_starters, framework, question, value)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    typed=st.text(max_size=60) | st.from_regex(r"[A-Za-z][A-Za-z0-9 ._-]{0,45}", fullmatch=True),
    framework=st.sampled_from(FRAMEWORKS),
)
@example(typed="Orders Service For The Warehouse Team 42", framework="fastapi")
def test_any_accepted_name_renders_a_starter_that_parses_and_lints(
    typed: str, framework: str, plain_template: Path, tmp_path: Path
) -> None:
    try:
        names = derive_names(typed, reserved=REGISTRY.reserved_names)
    except Exception:  # refused with a reason: tested in test_names.py
        return
    project = render(
        plain_template,
        Path(tempfile.mkdtemp(dir=tmp_path)) / "project",
        {
            "project_name": names.project,
            "package_name": names.package,
            "framework": framework,
            "python_version": PYTHON,
        },
    )
    check_files_parse(project)
    assert tomllib.loads((project / "pyproject.toml").read_text())["project"]["name"] == (
        names.project
    )
    module_dir = REGISTRY.framework(framework).module_dir(names.package)
    assert (project / module_dir / "__init__.py").is_file()
    check_ruff(project)


# -- what cannot be text is refused, in one line ----------------------------------------------


@pytest.mark.parametrize("question", FREE_TEXT)
def test_next_line_is_refused_in_one_line(question: str, tmp_path: Path) -> None:
    assert validate(question, "a\x85b") != ""
    done = scaffold_process(
        "new",
        "shop",
        "--defaults",
        "--no-git",
        "--no-lock",
        "-d",
        f"{question}=a\x85b",
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"error: Validation error for question '{question}': the {question} contains U+0085 "
        "(NEXT LINE), which .copier-answers.yml cannot keep; use a newline instead"
    )
    assert not (tmp_path / "shop").exists()


@pytest.mark.parametrize("question", FREE_TEXT)
def test_undecodable_input_is_refused_in_one_line(question: str, tmp_path: Path) -> None:
    # A terminal or file with bytes that are not UTF-8: Python hands them over as surrogates.
    done = scaffold_process(
        "new",
        "shop",
        "--defaults",
        "--no-git",
        "--no-lock",
        "-d",
        f"{question}=a\udcffb",
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[-1] == (
        f"error: Validation error for question '{question}': the {question} contains bytes "
        "that are not valid text (undecodable input); retype it"
    )
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "shop").exists()


# -- a few nasty values through the full check --------------------------------------------------

FULL_CHECK = [
    ("flask", NASTY[2] + NASTY[3] + NASTY[4] + NASTY[5] + NASTY[1]),
    ("fastapi", NASTY[6] + " " + NASTY[0]),
]


@pytest.mark.starter
@pytest.mark.parametrize(("framework", "description"), FULL_CHECK, ids=[f for f, _ in FULL_CHECK])
def test_nasty_descriptions_give_a_starter_that_passes_every_check(
    framework: str, description: str, template: TemplateSource, tmp_path: Path
) -> None:
    spec = plan(REGISTRY, name="shop", framework=framework, data={"description": description})
    created = create(spec, tmp_path / "shop", template=template, git=False)
    assert created.locked, created.warnings
    case = Case(framework, spec.python_version, spec.extensions)
    outcome = CaseRunner(template, REGISTRY, tmp_path / "work").verify(case, created.path)
    failing = outcome.failing_step
    assert failing is None, f"{failing.name} failed: $ {failing.command}\n{failing.tail()}"
    assert {"install", "pytest", "ruff", "ruff-format", "mypy", "serve"} <= {
        step.name for step in outcome.steps
    }
    module_dir = REGISTRY.framework(framework).module_dir("shop")
    check_answer_lands(created.path, "description", description, module_dir)
