"""The starter's shared files take each chosen extension's contributions from the registry, one slot
per concern: settings (README, .env.example), ignored files (.gitignore, .dockerignore), the
prepare step and the worker count (README, Dockerfile), services (compose, CI) and the data volume
of a read-only container.

Every extension name here comes from the registry: the extensions a user adds to the defaults
(those not on by default), each rendered with a framework whose server takes its worker count on
the command line and one whose config file reads it. Starters are rendered in-process without
lock or git.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from scaffolder.check.steps import _own_tool
from scaffolder.project import create, plan
from scaffolder.registry import Registry
from scaffolder.template import TemplateSource

from .conftest import REPO, require

REGISTRY = Registry.load(REPO)
PACKAGE = "shop"
ADDED = [name for name, ext in REGISTRY.extensions.items() if not ext.default]
# One framework per way of setting the worker count (a command-line option, or a config file),
# and one per server that is a single process with a thread pool (no worker count at all).
# And one per module layout (src/<package>/, or app.py at the root: registry `layout`).
FRAMEWORKS = list(
    {
        (bool(fw.server.workers_option), bool(fw.server.threads), fw.layout): name
        for name, fw in REGISTRY.frameworks.items()
    }.values()
)
# Only what the registry allows (a framework may refuse an extension, with its reason).
VARIANTS = [
    (fw, added)
    for fw in FRAMEWORKS
    for added in [None, *ADDED]
    if not REGISTRY.problems(
        fw, REGISTRY.default_python, [*REGISTRY.default_extensions(fw), *([added] if added else [])]
    )
]


def _id(variant: tuple[str, str | None]) -> str:
    return f"{variant[0]}-{variant[1] or 'defaults'}"


def variants_with(extension: str) -> list[tuple[str, str | None]]:
    """The variants whose framework has `extension` by default (a framework may refuse one:
    Chalice deploys a zip, with no Dockerfile nor compose.yaml)."""
    return [v for v in VARIANTS if extension in REGISTRY.default_extensions(v[0])]


IMAGED = variants_with("docker")
COMPOSED = variants_with("compose")
WORKFLOWED = variants_with("github")


class Starter:
    def __init__(self, framework: str, added: str | None, path: Path) -> None:
        self.framework = framework
        self.path = path
        self.extensions = [*REGISTRY.default_extensions(framework), *([added] if added else [])]
        self.chosen = REGISTRY.selected(self.extensions)
        self.others = [ext for ext in REGISTRY.extensions.values() if ext not in self.chosen]

    def text(self, name: str) -> str:
        return (self.path / name).read_text()

    def yaml(self, name: str) -> dict[str, object]:
        loaded = yaml.safe_load(self.text(name))
        assert isinstance(loaded, dict)
        return loaded

    @property
    def cores(self) -> bool:
        return any(ext.workers == "cores" for ext in self.chosen)

    @property
    def modules(self) -> str:
        """The import package of the starter's modules (a root layout's own folder)."""
        return REGISTRY.framework(self.framework).module_package(PACKAGE)

    def file(self, name: str) -> str:
        """An extension's file (declared under src/{package}/) where the layout puts it."""
        fw = REGISTRY.framework(self.framework)
        return name.replace("src/{package}", fw.module_dir(PACKAGE)).replace("{package}", PACKAGE)

    @property
    def prepare(self) -> list[str]:
        return [
            ext.prepare.replace("{package}", self.modules) for ext in self.chosen if ext.prepare
        ]

    @property
    def services(self) -> list[str]:
        return list(dict.fromkeys(s for ext in self.chosen for s in ext.services))


def fill(text: str) -> str:
    return text.replace("{package}", PACKAGE)


@pytest.fixture(scope="module", params=VARIANTS, ids=[_id(v) for v in VARIANTS])
def starter(
    request: pytest.FixtureRequest,
    template: TemplateSource,
    tmp_path_factory: pytest.TempPathFactory,
) -> Starter:
    framework, added = request.param
    made = Starter(framework, added, tmp_path_factory.mktemp(_id(request.param)) / PACKAGE)
    spec = plan(REGISTRY, name=PACKAGE, framework=framework, extensions=made.extensions)
    create(spec, made.path, template=template, git=False, lock=False)
    return made


def test_the_variants_cover_every_added_extension_and_both_worker_settings() -> None:
    assert ADDED, "no extension to add to the defaults: nothing here tests a slot"
    servers = {REGISTRY.framework(name).server for name in FRAMEWORKS}
    assert any(server.workers_option for server in servers), "a server with a --workers option"
    assert any(not server.workers_option for server in servers), "a server without one"
    assert any(ext.settings for ext in REGISTRY.extensions.values() if ext.name in ADDED)


# -- settings ----------------------------------------------------------------------------------


def _env_example(starter: Starter) -> dict[str, str]:
    pairs = {}
    for line in starter.text(".env.example").splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key] = value
    return pairs


def test_env_example_sets_every_chosen_extensions_settings_and_no_other(starter: Starter) -> None:
    pairs = _env_example(starter)
    for ext in starter.chosen:
        for setting in ext.settings:
            assert pairs.get(setting.env) == fill(setting.example or setting.default), setting
    for ext in starter.others:
        for setting in ext.settings:
            if not any(setting.env in (s.env for s in e.settings) for e in starter.chosen):
                assert setting.env not in pairs, f"{ext.name} is not chosen"
    assert "WEB_CONCURRENCY" in starter.text(".env.example")
    if "compose" in starter.extensions:
        for service in starter.services:
            assert pairs.items() >= REGISTRY.services[service].environment.items()


def _readme_settings(starter: Starter) -> dict[str, str]:
    rows = re.findall(r"^\| `(\w+)` \| (.+?) \| (.+?) \|$", starter.text("README.md"), re.M)
    return {env: default for env, default, _ in rows}


def test_readme_documents_every_chosen_setting_and_the_worker_count(starter: Starter) -> None:
    rows = _readme_settings(starter)
    for ext in starter.chosen:
        for setting in ext.settings:
            expected = f"`{fill(setting.default)}`" if setting.default else "none: required"
            assert rows.get(setting.env) == expected, setting
    chosen_envs = {s.env for ext in starter.chosen for s in ext.settings}
    for ext in starter.others:
        assert not {s.env for s in ext.settings} - chosen_envs & set(rows), ext.name
    server = REGISTRY.framework(starter.framework).server
    # One process (a thread pool, or a development server standing in for a platform, whose
    # `readme` says so): no worker count.
    if server.threads or server.readme:
        assert "WEB_CONCURRENCY" not in rows
    else:
        assert rows["WEB_CONCURRENCY"] == ("the number of cores" if starter.cores else "`1`")


def test_readme_routes_include_readiness(starter: Starter) -> None:
    assert re.search(r"^\| `GET /ready` \| .*503", starter.text("README.md"), re.M)


def test_readme_has_a_section_per_chosen_extension_with_a_prepare_step(starter: Starter) -> None:
    readme = starter.text("README.md")
    for ext in starter.chosen:
        if ext.prepare:
            heading = f": {ext.label}\n"
            assert f"\n## {(ext.group or 'extension').capitalize()}{heading}" in readme
            section = readme.split(f"## {(ext.group or 'extension').capitalize()}{heading}")[1]
            section = section.split("\n## ")[0]
            assert f"`uv run {ext.prepare.replace('{package}', starter.modules)}`" in section
            assert "/ready" in section
            for setting in ext.settings:
                assert f"`{setting.env}`" in section
            for service in ext.services:
                assert REGISTRY.services[service].tests.split(",")[0] in " ".join(section.split())
    for ext in starter.others:
        assert f": {ext.label}\n" not in readme


def test_readme_layout_lists_the_files_each_chosen_extension_adds(starter: Starter) -> None:
    layout = starter.text("README.md").split("## Layout")[1].split("```text\n")[1].split("```")[0]
    listed = {line.split()[0] for line in layout.splitlines()}
    for ext in starter.chosen:
        for name in ext.files:
            assert starter.file(name) in listed
            assert (starter.path / starter.file(name)).is_file()


def test_the_skip_message_the_readme_quotes_is_the_starters_own(starter: Starter) -> None:
    """A service's `tests` text quotes the tests' skip message ("..." for elided parts): each
    quoted fragment is in the starter's code, so the README cannot drift from it."""
    sources = " ".join(p.read_text() for p in starter.path.rglob("*.py"))
    joined = re.sub(r'"\s*\n\s*"', "", sources)  # adjacent string literals read as one
    for name in starter.services:
        for quote in re.findall(r'"([^"]+)"', REGISTRY.services[name].tests):
            for fragment in filter(None, (part.strip(" ,") for part in quote.split("..."))):
                assert fragment in joined, fragment


def test_readme_run_commands_prepare_before_the_server(starter: Starter) -> None:
    readme = starter.text("README.md")
    block = readme.split("## Run it")[1].split("```console\n")[1].split("\n```")[0]
    lines = block.splitlines()
    assert lines[:-1] == [f"uv run {command}" for command in starter.prepare]
    assert lines[-1].startswith("uv run ")


# -- ignored files -----------------------------------------------------------------------------


def test_git_and_docker_builds_ignore_the_extensions_local_files(starter: Starter) -> None:
    patterns = [fill(p) for ext in starter.chosen for p in ext.ignore]
    dockerignore = starter.path / ".dockerignore"
    for pattern in patterns:
        assert pattern in starter.text(".gitignore").splitlines()
        if dockerignore.is_file():
            assert pattern in dockerignore.read_text().splitlines()
    subprocess.run(["git", "init", "--quiet"], cwd=starter.path, check=True)
    for pattern in patterns:
        for suffix in ("", "-wal", "-journal"):
            name = pattern.lstrip("/").replace("*", suffix)
            done = subprocess.run(["git", "check-ignore", "--quiet", name], cwd=starter.path)
            assert done.returncode == 0, f"git would commit {name}"
    for kept in ("README.md", "src/shop/app.py"):
        done = subprocess.run(["git", "check-ignore", "--quiet", kept], cwd=starter.path)
        assert done.returncode == 1, f"{kept} is ignored"


# -- the Dockerfile ----------------------------------------------------------------------------


def _instructions(dockerfile: str, keyword: str) -> list[str]:
    joined = dockerfile.replace("\\\n", " ")
    return [
        line.split(None, 1)[1]
        for line in joined.splitlines()
        if line.split(None, 1)[:1] == [keyword]
    ]


STUB = """#!/bin/sh
printf '%s' "$(basename "$0") $$" >> "$STUB_LOG"
for arg in "$@"; do printf ' %s' "$arg" >> "$STUB_LOG"; done
echo >> "$STUB_LOG"
exit "${STUB_EXIT:-0}"
"""


def _run_cmd(starter: Starter, tmp_path: Path, **env: str) -> tuple[int, int, list[list[str]]]:
    """The Dockerfile's CMD run by sh, with every program it starts replaced by a stub that logs
    its name, PID and arguments: (exit code, the shell's PID, the log)."""
    cmd = json.loads(_instructions(starter.text("Dockerfile"), "CMD")[-1])
    stubs = tmp_path / "bin"
    stubs.mkdir(exist_ok=True)
    for name in {"python", REGISTRY.framework(starter.framework).server.argv[0]}:
        (stubs / name).write_text(STUB)
        (stubs / name).chmod(0o755)
    log = tmp_path / "log"
    log.write_text("")
    getconf = shutil.which("getconf")
    assert getconf
    (stubs / "getconf").symlink_to(getconf) if not (stubs / "getconf").exists() else None
    process = subprocess.Popen(
        cmd,
        env={"PATH": f"{stubs}:/usr/bin:/bin", "STUB_LOG": str(log), **env},
    )
    code = process.wait(timeout=30)
    return code, process.pid, [line.split() for line in log.read_text().splitlines()]


@pytest.mark.parametrize("starter", IMAGED, ids=[_id(v) for v in IMAGED], indirect=True)
def test_the_image_prepares_then_execs_the_server_as_pid_1(
    starter: Starter, tmp_path: Path
) -> None:
    require(shutil.which("sh"), "sh not found")
    server = REGISTRY.framework(starter.framework).server
    code, pid, log = _run_cmd(starter, tmp_path, PORT="8123")
    assert code == 0, log
    assert [line[:1] + line[2:] for line in log[:-1]] == [
        shlex.split(command) for command in starter.prepare
    ]
    name, server_pid, *argv = log[-1]
    assert int(server_pid) == pid, "the server is not exec'd: it would not get the signals"
    expected = server.command(host="0.0.0.0", port=8123, package=PACKAGE)  # noqa: S104
    cores = subprocess.run(["getconf", "_NPROCESSORS_ONLN"], capture_output=True, text=True)
    if starter.cores and server.workers_option:
        expected += [server.workers_option, cores.stdout.strip()]
    assert [name, *argv] == expected

    if starter.cores and server.workers_option:
        *_, last = _run_cmd(starter, tmp_path, WEB_CONCURRENCY="3")[2]
        assert last[-2:] == [server.workers_option, "3"]


# Only the variants whose extensions have a prepare step (the defaults have none).
PREPARED = [v for v in IMAGED if v[1] is not None and REGISTRY.extensions[v[1]].prepare]


@pytest.mark.parametrize("starter", PREPARED, ids=[_id(v) for v in PREPARED], indirect=True)
def test_a_failed_prepare_step_never_starts_the_server(starter: Starter, tmp_path: Path) -> None:
    assert starter.prepare
    code, _, log = _run_cmd(starter, tmp_path, STUB_EXIT="1")
    assert code != 0
    assert [line[0] for line in log] == ["python"], log


@pytest.mark.parametrize("starter", IMAGED, ids=[_id(v) for v in IMAGED], indirect=True)
def test_the_image_gives_each_extension_its_volume_and_settings(starter: Starter) -> None:
    dockerfile = starter.text("Dockerfile")
    user = _instructions(dockerfile, "USER")[-1]
    env = " ".join(_instructions(dockerfile, "ENV"))
    volumes = [json.loads(v)[0] for v in _instructions(dockerfile, "VOLUME")]
    runs = _instructions(dockerfile, "RUN")
    expected = [fill(ext.volume) for ext in starter.chosen if ext.volume]
    assert volumes == expected
    for volume in expected:
        assert f"mkdir -p {volume} && chown {user} {volume}" in runs
    for ext in starter.chosen:
        for key, value in ext.image_settings.items():
            assert f"{key}={json.dumps(fill(value))}" in env
            if ext.volume:  # the setting points into the writable volume
                assert fill(value).split("///", 1)[-1].startswith(fill(ext.volume))
    hadolint = _own_tool("hadolint")
    done = subprocess.run(
        [hadolint, "--failure-threshold", "warning", "Dockerfile"],
        cwd=starter.path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# A framework whose dependencies build from source (registry `build_packages`) and one whose do
# not, when the registry has both.
BUILDS = list({bool(fw.build_packages): name for name, fw in REGISTRY.frameworks.items()}.values())


@pytest.mark.parametrize("framework", BUILDS)
def test_build_packages_are_installed_in_the_build_stage_only(
    framework: str, template: TemplateSource, tmp_path: Path
) -> None:
    packages = REGISTRY.framework(framework).build_packages
    spec = plan(
        REGISTRY,
        name=PACKAGE,
        framework=framework,
        extensions=REGISTRY.default_extensions(framework),
    )
    create(spec, tmp_path / PACKAGE, template=template, git=False, lock=False)
    if not (tmp_path / PACKAGE / "Dockerfile").is_file():
        assert not packages, "build packages for a framework that refuses docker"
        return
    dockerfile = (tmp_path / PACKAGE / "Dockerfile").read_text()
    stages = {
        stage.split("\n", 1)[0]: stage for stage in re.split(r"^FROM ", dockerfile, flags=re.M)[1:]
    }
    build = next(stage for line, stage in stages.items() if line.endswith(" AS build"))
    runtime = list(stages.values())[-1]
    install = f"apt-get install -y --no-install-recommends {' '.join(packages)}"
    assert any(install in run for run in _instructions(build, "RUN")) == bool(packages)
    assert "apt-get" not in runtime, "the runtime stage must not get a compiler"
    readme = (tmp_path / PACKAGE / "README.md").read_text()
    assert ("needs a C compiler" in readme) == bool(packages)


# -- compose -----------------------------------------------------------------------------------


@pytest.mark.parametrize("starter", COMPOSED, ids=[_id(v) for v in COMPOSED], indirect=True)
def test_compose_runs_each_service_healthy_gated_with_credentials_from_env(
    starter: Starter,
) -> None:
    compose = starter.yaml("compose.yaml")
    text = starter.text("compose.yaml")
    services = compose["services"]
    assert isinstance(services, dict)
    app = services["app"]
    assert app["read_only"] is True
    assert set(services) == {"app", *starter.services}
    volumes = compose.get("volumes") or {}
    for name in starter.services:
        entry = REGISTRY.services[name]
        service = services[name]
        assert service["image"] == entry.image
        assert service["healthcheck"]["test"] == ["CMD", *entry.healthcheck]
        assert app["depends_on"][name] == {"condition": "service_healthy"}
        if entry.data:
            assert f"{name}-data:{entry.data}" in service["volumes"]
            assert f"{name}-data" in volumes
        for key in entry.environment:
            assert re.fullmatch(rf"\$\{{{key}:[-?].*\}}", service["environment"][key])
        for secret in entry.secrets:
            assert service["environment"][secret].startswith(f"${{{secret}:?")
            assert entry.environment[secret] not in text, "a hard-coded secret"
        for key, value in entry.app_environment.items():
            assert app["environment"][key].startswith(value.split("$", 1)[0])
            assert f"@{name}:{entry.port}/" in app["environment"][key]
    for ext in starter.chosen:
        if ext.volume:
            assert f"{ext.name}-data:{fill(ext.volume)}" in app["volumes"]
            assert f"{ext.name}-data" in volumes
        for key, value in ext.image_settings.items():  # wins over a .env copied from the example
            assert app["environment"][key] == fill(value)
    if not starter.services:
        assert "depends_on" not in app
    checker = _own_tool("check-jsonschema")
    done = subprocess.run(
        [checker, "--builtin-schema", "vendor.compose-spec", "compose.yaml"],
        cwd=starter.path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("starter", COMPOSED, ids=[_id(v) for v in COMPOSED], indirect=True)
def test_docker_compose_accepts_it(starter: Starter) -> None:
    docker = shutil.which("docker")
    plugin = docker and subprocess.run([docker, "compose", "version"], capture_output=True)
    # Debian has no compose v2 (Docker's own apt repository does): .ci/run installs it, so
    # under CI a missing plugin fails; elsewhere the schema check above still runs.
    require(plugin and plugin.returncode == 0, "docker compose (v2 plugin) not found")
    secrets = {s for name in starter.services for s in REGISTRY.services[name].secrets}
    env = {**os.environ, **dict.fromkeys(secrets, "not-a-real-password")}
    done = subprocess.run(
        [str(docker), "compose", "config", "--quiet"],
        cwd=starter.path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    if secrets:  # without the secret in .env, compose refuses to start, naming it
        env = {k: v for k, v in os.environ.items() if k not in secrets}
        done = subprocess.run(
            [str(docker), "compose", "config", "--quiet"],
            cwd=starter.path,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode != 0
        assert sorted(secrets)[0] in done.stderr


# -- CI ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("starter", WORKFLOWED, ids=[_id(v) for v in WORKFLOWED], indirect=True)
def test_ci_tests_against_the_services_and_checks_after_the_prepare_step(
    starter: Starter,
) -> None:
    jobs = starter.yaml(".github/workflows/ci.yml")["jobs"]
    assert isinstance(jobs, dict)
    for job in ("check", *(["image"] if "docker" in starter.extensions else [])):
        containers = jobs[job].get("services", {})
        assert set(containers) == set(starter.services), job
        for name in starter.services:
            entry = REGISTRY.services[name]
            container = containers[name]
            assert container["image"] == entry.image
            assert container["env"] == dict(entry.environment)
            assert container["ports"] == [f"{entry.port}:{entry.port}"]
            assert f'--health-cmd "{" ".join(entry.healthcheck)}"' in container["options"]
            for key in entry.app_environment:
                assert f"@127.0.0.1:{entry.port}/" in jobs[job]["env"][key]
    runs = [step.get("run", "") for step in jobs["check"]["steps"]]
    tests = runs.index("uv run pytest")
    after = "\n".join(runs[tests:])
    checks = [f"uv run {c}" for ext in starter.chosen for c in ext.ci_checks]
    for command in [*(f"uv run {c}" for c in starter.prepare), *checks]:
        assert command in after
    if starter.prepare and checks:  # the checks run on the prepared database
        assert after.index(f"uv run {starter.prepare[-1]}") < after.index(checks[0])
    if "docker" in starter.extensions:
        serve = next(s["run"] for s in jobs["image"]["steps"] if "docker run" in s.get("run", ""))
        assert "--read-only" in serve
        for name in starter.services:
            assert "--network host" in serve
            for key in REGISTRY.services[name].app_environment:
                assert f"--env {key}" in serve


def test_every_extension_field_the_slots_read_is_used_by_some_extension() -> None:
    """A slot no extension feeds is dead template code; say so instead of testing nothing."""
    used = {
        field
        for ext in REGISTRY.extensions.values()
        for field in ("settings", "prepare", "services", "workers", "ignore", "volume")
        if getattr(ext, field)
    }
    assert used == {"settings", "prepare", "services", "workers", "ignore", "volume"}
