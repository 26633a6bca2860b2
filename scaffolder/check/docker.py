"""`scaffold check --docker`: build a starter's image from its own Dockerfile and run it for real.

For a case whose starter has a Dockerfile, the `docker` step:

1. builds the image (`docker build`, the starter folder as context, labelled with the run's id);
2. runs it the way compose.yaml runs it (read-only root, a tmpfs on /tmp, every capability
   dropped, no-new-privileges), waits for /health from outside the container, probes the HTTP
   contract (`http_probe`, as the serve step does against the local server), checks the process
   does not run as root (`id -u` inside), and waits for the image's HEALTHCHECK to report
   healthy (its interval shortened to HEALTH_INTERVAL: the image's 30 s would only add waiting);
3. runs it again with a plain `--read-only` (no tmpfs, capabilities kept) and probes it again;
4. with compose and a service (PostgreSQL): `docker compose up --wait` with an override file
   written in a temporary folder of the check's own (never into the starter): this run's image
   tag and labels, short health-check intervals, and the app's port; the app starts only once
   the database is healthy (compose.yaml's `depends_on: service_healthy`); the contract through
   the app, then `docker compose down -v`.

Every container, volume and image it makes carries the label `scaffolder.check=<run id>`:
containers and volumes are removed when their part ends; images (and the untagged build stages)
by `sweep()` at the end of the run, once no build runs (removing an image while another case
builds can remove a cached layer that build is using); `sweep()` also removes whatever an
interrupt or a crash left.

Networking (`--docker-network`): `bridge` (a normal host) publishes the container's port on
127.0.0.1 and lets compose make its network; `host` (a machine whose engine runs without a
bridge, `dockerd --bridge=none`, as this project's CI does) builds and runs with the host's
network, passes a free loopback port through PORT, gives a database service its own free port
through the registry's `port_env` (PGPORT), and points the app at 127.0.0.1; compose then needs
the override's `network_mode: host`, `ports: !reset []` and `build: {network: host}`. With host
networking images are built with the legacy builder (DOCKER_BUILDKIT=0): BuildKit needs an
entitlement for host networking and fetches the Dockerfile's `# syntax=` frontend from a registry.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scaffolder.check.http_probe import probe
from scaffolder.check.matrix import Case
from scaffolder.errors import ScaffoldError

if TYPE_CHECKING:
    from scaffolder.check.steps import Children
    from scaffolder.registry import Registry

LABEL = "scaffolder.check"
NETWORKS = ("bridge", "host")
BUILD_TIMEOUT = 900.0
HEALTH_TIMEOUT = 120.0  # from `docker run` to /health answering, and to the HEALTHCHECK's healthy
HEALTH_INTERVAL = "1s"
HEALTH_START_PERIOD = "60s"  # failed checks in this period do not count; a passing one does
COMPOSE_TIMEOUT = 300.0
SERVE_WORKERS = 2
DATABASE_GROUP = "database"
LOG_LINES = 60


class DockerUnavailable(ScaffoldError):
    """No engine (or no compose) for `--docker`; the message is one line."""


@dataclass(frozen=True)
class DockerOptions:
    """What `--docker` asked for."""

    network: str = "bridge"
    # Only these case ids get the docker step; None: every case whose starter has a Dockerfile.
    cases: frozenset[str] | None = None
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    # Untagged images the builds made (the legacy builder's build stages and layers): kept as
    # the cache of later cases of this run, removed by `sweep()` once no build runs.
    leftovers: set[str] = field(default_factory=set, compare=False, hash=False)

    def wants(self, case: Case) -> bool:
        return self.cases is None or case.id in self.cases

    @property
    def label(self) -> str:
        return f"{LABEL}={self.run_id}"

    def env(self) -> dict[str, str]:
        """The docker CLI's environment for this run."""
        env = dict(os.environ)
        if self.network == "host":
            env["DOCKER_BUILDKIT"] = "0"
        return env


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def require_engine(children: Children, *, compose: bool) -> None:
    """A one-line DockerUnavailable unless a Docker engine answers (and compose v2, if needed)."""
    docker = shutil.which("docker")
    if docker is None:
        raise DockerUnavailable("--docker: no `docker` command on PATH (install Docker's client)")
    code, output = children.run(
        [docker, "version", "--format", "{{.Server.Version}}"],
        Path.cwd(),
        dict(os.environ),
        timeout=60,
    )
    if code != 0:
        where = os.environ.get("DOCKER_HOST") or "the default socket"
        raise DockerUnavailable(
            f"--docker: no Docker engine reachable at {where} ({_first_line(output)})"
        )
    if compose:
        code, output = children.run(
            [docker, "compose", "version"], Path.cwd(), dict(os.environ), timeout=60
        )
        if code != 0:
            raise DockerUnavailable(
                "--docker: cases with compose and a database need Docker Compose v2 "
                f"(`docker compose`), which is missing ({_first_line(output)})"
            )


def sweep(children: Children, options: DockerOptions) -> None:
    """Remove every container, volume and image labelled with this run (what a failure or an
    interrupt left), compose networks too, and the untagged images its builds made."""
    docker = shutil.which("docker") or "docker"
    env = options.env()
    cwd = Path(tempfile.gettempdir())
    selector = ["--filter", f"label={options.label}"]
    kinds: list[tuple[list[str], list[str]]] = [
        (["ps", "-aq", *selector], ["rm", "-f", "-v"]),
        (["volume", "ls", "-q", *selector], ["volume", "rm", "-f"]),
        (["network", "ls", "-q", *selector], ["network", "rm"]),
        (["image", "ls", "-q", *selector], ["rmi", "-f"]),
    ]
    for listing, removal in kinds:
        code, output = children.run([docker, *listing], cwd, env, timeout=60)
        found = sorted(set(output.split())) if code == 0 else []
        if found:
            children.run([docker, *removal, *found], cwd, env, timeout=120)
    if options.leftovers:
        # Only the dangling ones (a build stage's last image: untagged, no child); removing one
        # removes its untagged parents with it. Tagged images (the base images) are never named.
        code, output = children.run(
            [docker, "image", "ls", "-q", "--filter", "dangling=true"], cwd, env, timeout=60
        )
        dangling = sorted(options.leftovers & set(output.split())) if code == 0 else []
        if dangling:
            children.run([docker, "rmi", *dangling], cwd, env, timeout=300)
        options.leftovers.clear()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _free_port() -> int:
    from scaffolder.check.steps import free_port

    return free_port()


@dataclass
class Transcript:
    """What the step did, command by command, for its output."""

    lines: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.lines.append(text.rstrip())

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class StepFailed(Exception):
    """One part of the docker step failed; the transcript says why."""


class DockerStep:
    """One case's docker step; `run()` returns (passed, command, output)."""

    def __init__(
        self,
        registry: Registry,
        children: Children,
        options: DockerOptions,
        case: Case,
        project: Path,
        settings: dict[str, str],
    ) -> None:
        self.registry = registry
        self.children = children
        self.options = options
        self.case = case
        self.project = project
        # The values check's own services gave the case (DATABASE_URL): the plain runs use them.
        self.settings = settings
        self.docker = shutil.which("docker") or "docker"
        self.env = options.env()
        self.image = f"scaffold-check/{_slug(case.id)}:{options.run_id}"
        self.name = f"scaffold-check-{options.run_id}-{_slug(case.id)}"
        self.log = Transcript()
        selected = registry.selected(case.extensions)
        self.database = any(ext.group == DATABASE_GROUP for ext in selected)
        self.services = list(dict.fromkeys(s for ext in selected for s in ext.services))

    @property
    def host_network(self) -> bool:
        return self.options.network == "host"

    def run(self) -> tuple[bool, str]:
        try:
            self._build()
            self._container("as compose runs it", compose_like=True)
            self._container("with a plain --read-only", compose_like=False)
            if self.services and (compose_file := self._compose_file()) is not None:
                self._compose(compose_file)
            elif self.services:
                self.log.add(f"no compose file: {', '.join(self.services)} not started in Docker")
            passed = True
        except StepFailed:
            passed = False
        # The image stays until `sweep()` at the end of the run: removing it here also removed
        # untagged parent layers that a concurrent case's build had just taken from the cache
        # ("unknown parent image ID"), measured in CI with two jobs.
        return passed, self.log.text

    # -- helpers ---------------------------------------------------------------------------

    def _docker(
        self,
        *args: str,
        timeout: float,
        quiet: bool = False,
        env: dict[str, str] | None = None,
        show: int = 0,
    ) -> tuple[int | None, str]:
        """Run `docker ARGS`; record it (with the last `show` lines of its output) unless quiet."""
        code, output = self.children.run(
            [self.docker, *args], self.project, env or self.env, timeout=timeout
        )
        if not quiet:
            self.log.add(f"$ docker {' '.join(args)}")
            if show or code != 0:
                lines = output.rstrip().splitlines()
                self.log.add("\n".join(lines[-(show or LOG_LINES) :]))
            if code is None:
                self.log.add(f"(timed out after {timeout:.0f} s)")
            elif code != 0:
                self.log.add(f"(exit code {code})")
        return code, output

    def _fail(self, why: str) -> StepFailed:
        self.log.add(f"FAILED: {why}")
        return StepFailed(why)

    def _build(self) -> None:
        started = time.perf_counter()
        args = ["build", "--force-rm", "--label", self.options.label, "-t", self.image]
        if self.host_network:
            args += ["--network", "host"]
        code, output = self._docker(*args, ".", timeout=BUILD_TIMEOUT)
        self.options.leftovers.update(re.findall(r"^ ---> ([0-9a-f]{12})\s*$", output, re.M))
        if code != 0:
            raise self._fail("the image did not build (the build's output is above)")
        code, size = self._docker(
            "image", "inspect", "--format", "{{.Size}}", self.image, timeout=60, quiet=True
        )
        megabytes = f", {int(size.strip()) / 1e6:.0f} MB" if code == 0 and size.strip() else ""
        self.log.add(f"built {self.image} in {time.perf_counter() - started:.1f} s{megabytes}")

    def _container(self, how: str, *, compose_like: bool) -> None:
        name = f"{self.name}-{'compose' if compose_like else 'readonly'}"
        port = _free_port()
        args = ["run", "-d", "--name", name, "--label", self.options.label]
        args += ["--health-interval", HEALTH_INTERVAL, "--health-start-period", HEALTH_START_PERIOD]
        args += ["-e", f"PORT={port}"]
        if self.database:
            args += ["-e", f"WEB_CONCURRENCY={SERVE_WORKERS}"]
        if self.host_network:
            args += ["--network", "host"]
            for key, value in sorted(self.settings.items()):
                args += ["-e", f"{key}={value}"]
        else:
            args += ["-p", f"127.0.0.1:{port}:{port}"]
            if self.services:
                self.log.add(
                    f"skipped the plain run {how}: the case's {', '.join(self.services)} "
                    "listens on the host's loopback, out of a bridge network's reach "
                    "(compose covers it; --docker-network host runs it)"
                )
                return
        if compose_like:
            args += ["--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL"]  # noqa: S108
            args += ["--security-opt", "no-new-privileges:true"]
        else:
            args += ["--read-only"]
        self.log.add(f"-- run {how}")
        try:
            code, _ = self._docker(*args, self.image, timeout=120)
            if code != 0:
                raise self._fail(f"the container did not start ({how})")
            self._serves(name, port, how)
            code, uid = self._docker("exec", name, "id", "-u", timeout=60, show=1)
            if code != 0 or not uid.strip().isdigit():
                raise self._fail(f"could not ask the container for its user ({how})")
            if int(uid.strip()) == 0:
                raise self._fail(f"the app runs as root ({how})")
            self._healthy(name, how)
        except StepFailed:
            self._docker("logs", "--tail", str(LOG_LINES), name, timeout=60, show=LOG_LINES)
            raise
        finally:
            self._docker("rm", "-f", "-v", name, timeout=120, quiet=True)

    def _state(self, name: str) -> dict[str, object]:
        code, output = self._docker(
            "inspect", "--format", "{{json .State}}", name, timeout=60, quiet=True
        )
        try:
            state = json.loads(output) if code == 0 else {}
        except ValueError:
            state = {}
        return state if isinstance(state, dict) else {}

    def _serves(self, name: str, port: int, how: str) -> None:
        """Wait until /health answers from outside the container, then probe the contract."""
        url = f"http://127.0.0.1:{port}/health"
        deadline = time.monotonic() + HEALTH_TIMEOUT
        last = "no answer yet"
        polls = 0
        while True:
            if polls % 10 == 0 and not self._state(name).get("Running", True):
                raise self._fail(f"the container exited before answering {url} ({how})")
            polls += 1
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    body = json.loads(response.read() or b"null")
                    if response.status == 200 and body == {"status": "ok"}:
                        break
                    last = f"{response.status} {body!r}"
            except (urllib.error.URLError, OSError, ValueError) as exc:
                last = str(exc)
            if time.monotonic() > deadline:
                raise self._fail(f"no healthy answer from {url} in {HEALTH_TIMEOUT:.0f} s: {last}")
            time.sleep(0.3)
        self.log.add(f"{url} answered 200 from outside the container")
        failures = probe("127.0.0.1", port, database=self.database)
        for line in failures:
            self.log.add(f"probe failed: {line}")
        if failures:
            raise self._fail(f"the HTTP contract failed against the container ({how})")
        self.log.add("the HTTP contract passed")

    def _healthy(self, name: str, how: str) -> None:
        deadline = time.monotonic() + HEALTH_TIMEOUT
        while True:
            state = self._state(name)
            health = state.get("Health")
            status = health.get("Status") if isinstance(health, dict) else None
            if status == "healthy":
                self.log.add("the image's HEALTHCHECK reports healthy")
                return
            if status is None:
                raise self._fail(f"the image has no HEALTHCHECK ({how})")
            if status == "unhealthy" or time.monotonic() > deadline:
                probes = health.get("Log") if isinstance(health, dict) else None
                last = probes[-1] if isinstance(probes, list) and probes else {}
                output = last.get("Output", "") if isinstance(last, dict) else ""
                raise self._fail(
                    f"the HEALTHCHECK reports {status} ({how}); its last output: "
                    f"{' '.join(str(output).split())[-300:]}"
                )
            time.sleep(0.5)

    # -- compose ---------------------------------------------------------------------------

    def _compose_file(self) -> Path | None:
        for name in ("compose.yaml", "compose.yml", "docker-compose.yml"):
            if (self.project / name).is_file():
                return self.project / name
        return None

    def _compose(self, compose_file: Path) -> None:
        port = _free_port()
        env = dict(self.env)
        service_ports: dict[str, int] = {}
        for name in self.services:
            service = self.registry.services[name]
            for key, example in service.environment.items():
                # A secret gets a fresh random value; the rest their examples (.env's role).
                value = secrets.token_urlsafe(12) if key in service.secrets else example
                env[key] = value
            if self.host_network and service.port_env:
                service_ports[name] = _free_port()
        # The app's published port (compose.yaml's ${PORT:-8000} on the host side).
        env["PORT"] = str(port)
        project = f"scaffold-check-{self.options.run_id}-{_slug(self.case.id)}"
        with _folder() as folder:
            override = folder / "compose.override.yaml"
            override.write_text(self._override(compose_file, port, service_ports))
            base = ["compose", "-p", project, "-f", compose_file.name, "-f", str(override)]
            self.log.add(f"-- compose with {', '.join(self.services)}; override:")
            self.log.add(override.read_text())
            try:
                code, _ = self._docker(
                    *base,
                    "up",
                    "-d",
                    "--build",
                    "--wait",
                    "--wait-timeout",
                    str(int(HEALTH_TIMEOUT)),
                    timeout=COMPOSE_TIMEOUT,
                    env=env,
                    show=15,
                )
                if code != 0:
                    raise self._fail("docker compose up did not bring every service up healthy")
                _, listing = self._docker(
                    *base, "ps", "--format", "{{.Service}}: {{.Status}}", timeout=60, env=env
                )
                self.log.add(listing.strip())
                failures = probe("127.0.0.1", port, database=self.database)
                for line in failures:
                    self.log.add(f"probe failed: {line}")
                if failures:
                    raise self._fail("the HTTP contract failed through compose")
                self.log.add("the HTTP contract passed through compose")
            except StepFailed:
                self._docker(
                    *base, "logs", "--no-color", "--tail", "30", timeout=60, env=env, show=80
                )
                raise
            finally:
                code, _ = self._docker(
                    *base, "down", "-v", "--remove-orphans", timeout=180, env=env
                )
            if code != 0:
                raise self._fail("docker compose down -v failed")

    def _override(self, compose_file: Path, port: int, service_ports: dict[str, int]) -> str:
        """The compose override (YAML; JSON values are YAML too)."""
        labels = json.dumps({LABEL: self.options.run_id})
        lines = [
            "services:",
            "  app:",
            f"    image: {json.dumps(self.image)}",
            f"    labels: {labels}",
        ]
        lines.append(f"    healthcheck: {{interval: {HEALTH_INTERVAL}, start_period: 60s}}")
        app_env: dict[str, str] = {}
        if self.database:
            app_env["WEB_CONCURRENCY"] = str(SERVE_WORKERS)
        if self.host_network:
            lines += [
                f"    build: {{network: host, labels: {labels}}}",
                "    network_mode: host",
                "    ports: !reset []",
            ]
            app_env["PORT"] = str(port)
            for name in self.services:
                service = self.registry.services[name]
                service_port = str(service_ports.get(name, service.port))
                for key, value in service.app_environment.items():
                    filled = value.replace("{host}", "127.0.0.1").replace("{port}", service_port)
                    app_env[key] = filled
        else:
            lines.append(f"    build: {{labels: {labels}}}")
        if app_env:
            lines.append(f"    environment: {json.dumps(app_env)}")
        for name in self.services:
            lines += [f"  {name}:", f"    labels: {labels}"]
            lines.append(f"    healthcheck: {{interval: {HEALTH_INTERVAL}}}")
            if self.host_network:
                lines += ["    network_mode: host", "    ports: !reset []"]
                service = self.registry.services[name]
                if name in service_ports:
                    ports = {service.port_env: str(service_ports[name])}
                    lines.append(f"    environment: {json.dumps(ports)}")
        volumes = _named_volumes(compose_file)
        if volumes:
            lines.append("volumes:")
            lines += [f"  {volume}: {{labels: {labels}}}" for volume in volumes]
        return "\n".join(lines) + "\n"


def _named_volumes(compose_file: Path) -> list[str]:
    """The top-level `volumes:` of a compose file (they get this run's label)."""
    section = compose_file.read_text().split("\nvolumes:\n", 1)
    if len(section) < 2:
        return []
    return re.findall(r"^  ([A-Za-z0-9_.-]+):", section[1], re.M)


@contextmanager
def _folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="scaffold-check-compose-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def case_settings(registry: Registry, case: Case, env: dict[str, str]) -> dict[str, str]:
    """The settings check's services gave a case (those without a default: DATABASE_URL)."""
    found = {}
    for ext in registry.selected(case.extensions):
        for setting in ext.settings:
            if not setting.default and setting.env in env:
                found[setting.env] = env[setting.env]
    return found


def docker_cases(option: Sequence[str]) -> frozenset[str] | None:
    return frozenset(option) if option else None
