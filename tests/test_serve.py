"""`scaffold serve`: every route and error of the API and the page, on a fork of the template
whose registry has an incompatible extension and an unsupported Python version (today's
registry has neither), so the page's disabled choices and their reasons are exercised."""

from __future__ import annotations

import asyncio
import io
import json
import os
import socket
import stat
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scaffolder import toolchain
from scaffolder.registry import Registry
from scaffolder.serve.app import METADATA_TYPE, create_app
from scaffolder.serve.renderer import File, Limits, Rendered, Renderer
from scaffolder.serve.selection import PARAMETERS, Selection, parse
from scaffolder.template import TemplateSource, resolve_template

from .templates import commit, fork_template

if sys.version_info >= (3, 11):
    import httpx2 as httpx
else:  # pragma: no cover - Starlette's TestClient takes httpx on 3.10
    import httpx

UNSUPPORTED = ("postgres", "flask", "this fork serves PostgreSQL only with async frameworks")
OLD_PYTHON = ("bottle", "3.10", "this fork tests an unsupported version")


def make_fork(target: Path) -> Path:
    """The template, with postgres refused for flask, Python 3.10 refused for bottle, and an
    executable script in every starter."""
    fork = fork_template(target, tag=None)
    registry = fork / "templates" / "registry.yml"
    text = registry.read_text()
    ext, framework, reason = UNSUPPORTED
    start = text.index(f"\n  {ext}:\n")
    at = text.index("unsupported_frameworks: {}", start)
    text = (
        text[:at]
        + f"unsupported_frameworks: {{{framework}: {json.dumps(reason)}}}"
        + text[at + 26 :]
    )
    fw, version, why = OLD_PYTHON
    start = text.index(f"\n  {fw}:\n")
    at = text.index("python_unsupported: {}", start)
    text = text[:at] + f'python_unsupported: {{"{version}": {json.dumps(why)}}}' + text[at + 22 :]
    registry.write_text(text)
    script = fork / "templates" / "common" / "scripts" / "hello.sh"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\necho hello\n")
    script.chmod(0o755)
    commit(fork, "serve test fork", tag="v1.0.0")
    return fork


@pytest.fixture(scope="module")
def fork(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_fork(tmp_path_factory.mktemp("fork") / "template")


@pytest.fixture(scope="module")
def fork_source(fork: Path) -> TemplateSource:
    return resolve_template(str(fork))


@pytest.fixture(scope="module")
def fork_registry(fork: Path) -> Registry:
    return Registry.load(fork)


class FakeRenderer(Renderer):
    """Renders nothing: one small file per selection, at once (for the HTTP layer's tests)."""

    async def _render(self, selection: Selection) -> Rendered:
        self.renders += 1
        data = json.dumps(selection.key()).encode()
        files = (File("selection.json", 0o644, data), File("run.sh", 0o755, b"#!/bin/sh\n"))
        return Rendered(root=selection.spec.names.project, files=files, seconds=0.0)


def app_for(
    source: TemplateSource,
    registry: Registry,
    workdir: Path,
    *,
    fake: bool = False,
    **limits: Any,
) -> tuple[Starlette, Renderer]:
    kind = FakeRenderer if fake else Renderer
    renderer = kind(source, limits=Limits(**{"lock": False, **limits}), workdir=workdir)
    return create_app(registry, renderer), renderer


@pytest.fixture
def fake_client(
    fork_source: TemplateSource, fork_registry: Registry, tmp_path: Path
) -> Iterator[TestClient]:
    app, _ = app_for(fork_source, fork_registry, tmp_path / "work", fake=True)
    with TestClient(app) as client:
        yield client


# -- metadata -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "accept",
    [None, "*/*", "application/json", METADATA_TYPE.format(1), "text/html, application/*;q=0.8"],
)
def test_metadata_is_version_1_for_any_accept_that_allows_it(
    fake_client: TestClient, fork_registry: Registry, accept: str | None
) -> None:
    headers = {"Accept": accept} if accept is not None else {}
    answer = fake_client.get("/metadata", headers=headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == METADATA_TYPE.format(1)
    assert answer.headers["vary"] == "Accept"
    body = answer.json()
    assert body["version"] == 1
    # The same data as `scaffold list --json`, plus the typed parameters.
    catalogue = fork_registry.to_json()
    assert {key: body[key] for key in catalogue} == json.loads(json.dumps(catalogue))
    params = body["parameters"]
    assert params["framework"]["type"] == "single-select"
    assert [v["id"] for v in params["framework"]["values"]] == list(fork_registry.frameworks)
    assert params["extensions"]["type"] == "multi-select"
    assert params["name"]["type"] == "text"
    postgres = next(e for e in body["extensions"] if e["name"] == UNSUPPORTED[0])
    assert postgres["unsupported_frameworks"] == {UNSUPPORTED[1]: UNSUPPORTED[2]}
    assert body["template"]["commit"]


@pytest.mark.parametrize("accept", [METADATA_TYPE.format(2), "text/html", "application/xml"])
def test_metadata_refuses_an_unknown_version_with_406(fake_client: TestClient, accept: str) -> None:
    answer = fake_client.get("/metadata", headers={"Accept": accept})
    assert answer.status_code == 406
    assert answer.json()["valid"] == [METADATA_TYPE.format(1)]
    assert accept in answer.json()["error"]


# -- bad parameters: the CLI's own messages ---------------------------------------------------


@pytest.mark.parametrize(
    ("query", "cli", "parameter"),
    [
        ("framework=nope", ["-f", "nope"], "framework"),
        ("framework=flask&python=2.7", ["-f", "flask", "--python", "2.7"], "python"),
        (
            f"framework={OLD_PYTHON[0]}&python={OLD_PYTHON[1]}",
            ["-f", OLD_PYTHON[0], "--python", OLD_PYTHON[1]],
            "python",
        ),
        ("with=redis", ["--with", "redis"], "with"),
        (
            f"framework={UNSUPPORTED[1]}&with={UNSUPPORTED[0]}",
            ["-f", UNSUPPORTED[1], "--with", UNSUPPORTED[0]],
            "with",
        ),
        # compose needs docker: asked for together with --without docker
        ("with=compose&without=docker", ["--with", "compose", "--without", "docker"], "with"),
        (
            "with=sqlite,postgres&framework=fastapi",
            ["-f", "fastapi", "--with", "sqlite,postgres"],
            "with",
        ),
        ("without=nope", ["--without", "nope"], "without"),
        ("name=yaml", ["--name", "yaml"], "name"),
        ("name=class", ["--name", "class"], "name"),
        ("name=" + "x" * 41, ["--name", "x" * 41], "name"),
    ],
)
def test_bad_parameters_are_400_with_the_cli_message(
    fake_client: TestClient,
    fork: Path,
    scaffold: Any,
    query: str,
    cli: list[str],
    parameter: str,
) -> None:
    answer = fake_client.get(f"/preview?{query}")
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["parameter"] == parameter
    assert body["valid"]
    args = cli if "--name" in cli else [*cli, "--name", "demo"]
    run = scaffold("new", "out", *args, "--defaults", "--template", str(fork))
    assert run.code == 2
    assert run.err.strip() == f"error: {body['error']}"
    for route in ("/starter.zip", "/starter.tgz"):
        again = fake_client.get(f"{route}?{query}")
        assert (again.status_code, again.json()) == (400, body)


def test_without_an_extension_drops_what_needs_it_as_the_cli_does(
    fake_client: TestClient,
) -> None:
    """`scaffold new --without docker` drops compose (it needs docker); the API does the same."""
    answer = fake_client.get("/preview?framework=flask&without=docker")
    assert answer.status_code == 200, answer.text
    assert not {"docker", "compose"} & set(answer.json()["extensions"])


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("template=/etc", "template"),
        ("src_path=gh:evil/template", "src_path"),
        ("destination=/tmp/x", "destination"),
        ("name=a&name=b", "name"),
        ("extensions=docker&with=github", "extensions"),
        ("description=" + "d" * 301, "description"),
        ("description=a%C2%85b", "description"),
        ("with=" + "&with=".join(["docker"] * 65), "with"),
    ],
)
def test_parameters_never_reach_a_path_or_template(
    fake_client: TestClient, query: str, parameter: str
) -> None:
    answer = fake_client.get(f"/starter.zip?{query}")
    assert answer.status_code == 400
    assert answer.json()["parameter"] == parameter


def test_the_page_shows_a_refused_selection_with_its_message(fake_client: TestClient) -> None:
    answer = fake_client.get("/?framework=nope")
    assert answer.status_code == 400
    assert "text/html" in answer.headers["content-type"]
    assert "unknown framework &#x27;nope&#x27;" in answer.text


# -- other errors -------------------------------------------------------------------------------


def test_errors_are_json(fake_client: TestClient) -> None:
    missing = fake_client.get("/nope")
    assert (missing.status_code, missing.json()) == (404, {"error": "Not Found"})
    for method in ("POST", "PUT", "DELETE", "OPTIONS", "PATCH"):
        refused = fake_client.request(method, "/starter.zip")
        assert refused.status_code == 405
        assert sorted(refused.headers["allow"].split(", ")) == ["GET", "HEAD"]
        assert refused.json()["error"]
    head = fake_client.head("/metadata")
    assert head.status_code == 200
    assert head.content == b""
    body = fake_client.request("GET", "/metadata", content=b"x" * 10)
    assert body.status_code == 413
    assert body.json() == {"error": "this service takes no request body"}
    chunked = fake_client.request(
        "GET", "/metadata", content=iter([b"x"]), headers={"Transfer-Encoding": "chunked"}
    )
    assert chunked.status_code == 413
    long = fake_client.get("/preview?name=" + "a" * 5000)
    assert long.status_code == 414
    assert "limit is 4096" in long.json()["error"]


# -- the page -----------------------------------------------------------------------------------


def test_page_form_works_without_javascript(
    fake_client: TestClient, fork_registry: Registry
) -> None:
    page = fake_client.get("/")
    assert page.status_code == 200
    html = page.text
    for fw in fork_registry.frameworks.values():
        assert f'name="framework" value="{fw.name}"' in html
    assert 'formaction="/starter.zip"' in html
    assert '<script src="/static/app.js" defer></script>' in html
    assert 'src="http' not in html  # nothing fetched from elsewhere
    assert 'href="http' not in html
    # The default framework (flask) cannot take postgres in this fork: disabled, reason shown.
    ext, framework, reason = UNSUPPORTED
    assert f'value="{ext}" disabled>' in html
    assert f"not with {framework}: {reason}" in html
    # The form's own submission (what a browser without JavaScript sends).
    form = [
        ("name", "My Shop"),
        ("description", ""),
        ("framework", "fastapi"),
        ("python", "3.11"),
        ("extensions", ""),
        ("extensions", "docker"),
        ("extensions", "postgres"),
    ]
    shared = fake_client.get("/", params=form)
    assert shared.status_code == 200
    assert 'href="/?name=My+Shop&amp;framework=fastapi&amp;python=3.11&amp;with=postgres' in (
        shared.text
    )
    assert "without=compose%2Cgithub%2Cpre-commit" in shared.text
    assert (
        "scaffold new my-shop --name &#x27;My Shop&#x27; --framework fastapi --python 3.11 "
        "--with postgres --without compose,github,pre-commit --defaults"
    ) in shared.text
    download = fake_client.get("/starter.zip", params=form)
    assert download.status_code == 200
    assert download.headers["content-disposition"] == 'attachment; filename="my-shop.zip"'
    script = fake_client.get("/static/app.js")
    assert script.status_code == 200
    assert 'fetch("/preview?"' in script.text


def test_page_disables_an_unsupported_python(fake_client: TestClient) -> None:
    fw, version, reason = OLD_PYTHON
    html = fake_client.get(f"/?framework={fw}").text
    assert f'<option value="{version}" disabled>{version} (not with {fw}: {reason})' in html


# -- rendering, archives, cache ----------------------------------------------------------------


def test_preview_zip_and_tgz_from_one_render(
    fork: Path, fork_source: TemplateSource, fork_registry: Registry, tmp_path: Path
) -> None:
    workdir = tmp_path / "work"
    app, renderer = app_for(fork_source, fork_registry, workdir)
    query = "name=shop&framework=fastapi&python=3.12&with=sqlite&without=github"
    with TestClient(app) as client:
        preview = client.get(f"/preview?{query}")
        assert preview.status_code == 200, preview.text
        body = preview.json()
        paths = {f["path"] for f in body["files"]}
        assert {"pyproject.toml", "src/shop/app.py", "src/shop/database.py", "Dockerfile"} <= paths
        assert not any(p.startswith(".github/") for p in paths)
        assert body["command"] == (
            "scaffold new shop --framework fastapi --python 3.12 --with sqlite --without github "
            "--defaults"
        )
        assert body["share"] == f"/?{query}"
        files = {f["path"]: f for f in body["files"]}
        assert files["scripts/hello.sh"]["executable"]
        answers = yaml.safe_load(files[".copier-answers.yml"]["text"])
        # The served template's source and version: `copier update` works against them.
        assert answers["_src_path"] == str(fork)
        assert answers["_commit"] == "v1.0.0"
        assert answers["database"] == "sqlite"

        archive = client.get(f"/starter.zip?{query}")
        assert archive.status_code == 200
        assert archive.headers["content-type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(archive.content)) as unzipped:
            names = {i.filename.removeprefix("shop/") for i in unzipped.infolist()}
            modes = {
                i.filename.removeprefix("shop/"): i.external_attr >> 16 for i in unzipped.infolist()
            }
        assert names == paths
        assert stat.S_IMODE(modes["scripts/hello.sh"]) == 0o755
        assert stat.S_IMODE(modes["pyproject.toml"]) == 0o644

        tgz = client.get(f"/starter.tgz?{query}")
        assert tgz.status_code == 200
        with tarfile.open(fileobj=io.BytesIO(tgz.content)) as untarred:
            members = {m.name.removeprefix("shop/"): m for m in untarred.getmembers() if m.isfile()}
        assert set(members) == paths
        assert members["scripts/hello.sh"].mode == 0o755
        # One render served all three, from the cache; the temporary folder is gone.
        assert renderer.renders == 1
    assert list(workdir.iterdir()) == []


def test_a_downloaded_project_updates_with_copier(tmp_path: Path) -> None:
    """The answers file records the served template's source and version: after the template
    moves on, `copier update` in the unpacked project brings the change."""
    fork = make_fork(tmp_path / "template")
    source = resolve_template(str(fork))
    app, _ = app_for(source, Registry.load(fork), tmp_path / "work")
    with TestClient(app) as client:
        archive = client.get("/starter.zip?name=shop&framework=starlette&extensions=")
    assert archive.status_code == 200, archive.text
    with zipfile.ZipFile(io.BytesIO(archive.content)) as unzipped:
        unzipped.extractall(tmp_path / "unzipped")  # noqa: S202 - our own archive
    project = tmp_path / "unzipped" / "shop"
    for args in (["init", "--quiet"], ["add", "--all"], ["commit", "--quiet", "-m", "start"]):
        subprocess.run(["git", *args], cwd=project, check=True, capture_output=True)
    (fork / "templates" / "common" / "scripts" / "hello.sh").write_text("#!/bin/sh\necho v2\n")
    commit(fork, "v2", tag="v2.0.0")
    update = subprocess.run(
        [sys.executable, "-m", "copier", "update", "--defaults", "--skip-answered"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert update.returncode == 0, update.stderr
    assert (project / "scripts" / "hello.sh").read_text() == "#!/bin/sh\necho v2\n"
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == "v2.0.0"


def test_the_cache_key_holds_every_answer(
    fork_source: TemplateSource, fork_registry: Registry, tmp_path: Path
) -> None:
    app, renderer = app_for(fork_source, fork_registry, tmp_path / "work", fake=True)
    with TestClient(app) as client:
        for query in [
            "name=a",
            "name=a&framework=flask",  # the same answers: flask is the default
            "name=b",
            "name=a&python=3.11",
            "name=a&without=github",
            "name=a&description=x",
            "name=a&extensions=docker,compose,github,pre-commit",  # the defaults again
        ]:
            assert client.get(f"/starter.zip?{query}").status_code == 200
    assert renderer.renders == 5


async def _concurrently(app: Starlette, urls: list[str]) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://serve") as client:
        return await asyncio.gather(*(client.get(url) for url in urls))


def test_past_the_queue_limit_answers_503_never_500(
    fork_source: TemplateSource, fork_registry: Registry, tmp_path: Path
) -> None:
    workdir = tmp_path / "work"
    app, renderer = app_for(fork_source, fork_registry, workdir, concurrency=1, queue=1)
    urls = [f"/starter.zip?name=shop{i}&framework=starlette&extensions=" for i in range(6)]
    urls.append(urls[0])  # identical to a running one: shares it, takes no place in the queue
    answers = asyncio.run(_concurrently(app, urls))
    codes = [answer.status_code for answer in answers]
    assert sorted(codes) == [200, 200, 200, 503, 503, 503, 503], codes
    assert codes[0] == codes[-1] == 200
    busy = next(answer for answer in answers if answer.status_code == 503)
    assert int(busy.headers["retry-after"]) >= 1
    assert "try again" in busy.json()["error"]
    assert renderer.renders == 2
    assert list(workdir.iterdir()) == []


def test_a_render_past_the_time_limit_is_stopped(
    fork_source: TemplateSource, fork_registry: Registry, tmp_path: Path
) -> None:
    workdir = tmp_path / "work"
    app, _ = app_for(fork_source, fork_registry, workdir, timeout=0.2)
    (answer,) = asyncio.run(_concurrently(app, ["/preview?name=slow"]))
    assert answer.status_code == 503
    assert "longer than 0.2 s" in answer.json()["error"]
    assert answer.headers["retry-after"]
    assert list(workdir.iterdir()) == []


def test_a_shared_render_whose_request_went_away_is_rendered_again(
    fork_source: TemplateSource, fork_registry: Registry, tmp_path: Path
) -> None:
    class Slow(FakeRenderer):
        async def _render(self, selection: Selection) -> Rendered:
            await asyncio.sleep(0.2)
            return await super()._render(selection)

    renderer = Slow(fork_source, limits=Limits(lock=False), workdir=tmp_path)
    selection = parse(fork_registry, [("name", "shared")])

    async def scenario() -> Rendered:
        owner = asyncio.create_task(renderer.render(selection))
        await asyncio.sleep(0.05)
        sharer = asyncio.create_task(renderer.render(selection))
        await asyncio.sleep(0.05)
        owner.cancel()  # its client went away
        return await sharer

    rendered = asyncio.run(scenario())
    assert rendered.root == "shared"
    assert renderer.renders == 1  # the cancelled one never finished; the sharer's did
    assert renderer.cached(selection) is rendered


# -- any query: never a 500 ---------------------------------------------------------------------

_REGISTRY = Registry.load(Path(__file__).resolve().parent.parent)
_VALUES = st.one_of(
    st.sampled_from(
        [*_REGISTRY.frameworks, *_REGISTRY.extensions, *_REGISTRY.python_versions, "", ","]
    ),
    st.lists(st.sampled_from([*_REGISTRY.extensions, "x"]), max_size=4).map(",".join),
    st.text(max_size=30),
)
_KEYS = st.one_of(st.sampled_from(PARAMETERS), st.text(max_size=10))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    items=st.lists(st.tuples(_KEYS, _VALUES), max_size=6),
    route=st.sampled_from(["/", "/preview", "/starter.zip", "/starter.tgz"]),
)
def test_any_query_is_answered_without_a_500(
    fake_client: TestClient, items: list[tuple[str, str]], route: str
) -> None:
    answer = fake_client.get(route, params=items)
    assert answer.status_code in {200, 400, 414}, answer.text
    if route != "/":
        assert answer.headers["content-type"].startswith(
            "application/" if answer.status_code == 200 else "application/json"
        )


# -- the command ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_scaffold_serve_runs_on_uvicorn(fork: Path, tmp_path: Path) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "scaffolder", "serve", "--port", str(port), "--template", str(fork)],
        env=toolchain.tool_env(dict(os.environ)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metadata") as answer:
                    assert answer.headers["content-type"] == METADATA_TYPE.format(1)
                    body = json.load(answer)
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert body["frameworks"]
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    assert "Uvicorn running on http://127.0.0.1:" in output
    assert str(fork) in output  # the one template it serves


def test_help_imports_neither_starlette_nor_uvicorn() -> None:
    code = (
        "import sys; from scaffolder import cli; cli.run(['serve', '--help']); "
        "print(sorted(m for m in ('starlette', 'uvicorn', 'copier') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "--template PATH_OR_URL" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"
