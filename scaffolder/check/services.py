"""Servers a case's extensions need (the registry's `services`), started by `scaffold check` and
by scaffolder's own tests: one server per run, on loopback, a database per case.

Today that is PostgreSQL, from the machine's own package (Debian's `postgresql`: the newest
`/usr/lib/postgresql/*/bin`, or `pg_config --bindir`): `initdb` on a temporary data directory,
then `postgres` in the foreground, listening on 127.0.0.1 on a free port and on a Unix socket in
that directory, with trust authentication for the superuser `postgres` (loopback only). initdb
and postgres refuse to run as root: as root they run as the `postgres` system user (or `nobody`)
through `runuser`, and the temporary directory belongs to that user.

The server is a child of the run's `Children` (its own process group), so an interrupt stops it
with everything else; `Services.close()` stops it and removes its directory.

A case gets the settings its extensions declare without a default (`DATABASE_URL` for
postgres), pointing at a database of its own on that server; the URL's scheme is the one of the
setting's `example` (`postgresql+psycopg`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scaffolder.check.steps import Children, free_port, signal_group
from scaffolder.errors import ScaffoldError
from scaffolder.registry import Registry

START_TIMEOUT = 60.0
SUPERUSER = "postgres"
POSTGRES_MISSING = (
    "PostgreSQL is not installed (no initdb found): install the postgresql package, "
    "or leave {cases} cases out with --without {cases}"
)


class ServiceError(ScaffoldError):
    """A service a case needs cannot be found or started; the message is one line."""


def postgres_bindir() -> Path | None:
    """The newest PostgreSQL server binaries on this machine (initdb, postgres), or None."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: [int(part) for part in re.findall(r"\d+", p.parent.name)] or [0],
        reverse=True,
    )
    config = shutil.which("pg_config")
    if config:
        done = subprocess.run(
            [config, "--bindir"], capture_output=True, text=True, check=False, timeout=30
        )
        if done.returncode == 0 and done.stdout.strip():
            candidates.append(Path(done.stdout.strip()))
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).resolve().parent)
    return next(
        (p for p in candidates if (p / "initdb").is_file() and (p / "postgres").is_file()), None
    )


def _unprivileged_user() -> str | None:
    """The user the server runs as when this process is root; None: run as ourselves."""
    if os.geteuid() != 0:
        return None
    import pwd

    for name in (SUPERUSER, "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise ServiceError(
        "running as root, and neither a postgres nor a nobody user exists to run PostgreSQL"
    )


def _as_user(user: str | None, argv: Sequence[str]) -> list[str]:
    if user is None:
        return list(argv)
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ServiceError(
            f"running as root, and runuser is missing: cannot start PostgreSQL as {user}"
        )
    return [runuser, "-u", user, "--", *argv]


def _temp_root(user: str | None) -> str | None:
    """Where the server's directory goes: the usual temporary folder, unless the server's user
    cannot reach it (root's TMPDIR may be private, e.g. pytest's 0700 folders): then /tmp."""
    root = Path(tempfile.gettempdir()).resolve()
    if user is None:
        return None
    if all(folder.stat().st_mode & 0o001 for folder in (root, *root.parents)):
        return str(root)
    return "/tmp"  # noqa: S108 (a private mkdtemp below it, owned by the server's user)


@dataclass
class PostgreSQL:
    """A running server; `create_database` gives a case a database of its own."""

    bindir: Path
    base: Path  # the temporary directory: data/, the socket, the log
    port: int
    process: subprocess.Popen[bytes]
    _names: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, database: str, scheme: str = "postgresql") -> str:
        return f"{scheme}://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, label: str) -> str:
        """A new, empty database named after `label`; its name."""
        stem = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:50] or "case"
        with self._lock:
            name, number = stem, 1
            while name in self._names:
                number += 1
                name = f"{stem}_{number}"
            self._names.add(name)
        done = subprocess.run(
            [str(self.bindir / "createdb"), *self._client_args(), name],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if done.returncode != 0:
            raise ServiceError(f"createdb {name} failed: {' '.join(done.stderr.split())}")
        return name

    def ready(self) -> bool:
        done = subprocess.run(
            [str(self.bindir / "pg_isready"), *self._client_args(), "--dbname", "postgres"],
            capture_output=True,
            check=False,
            timeout=30,
        )
        return done.returncode == 0

    def _client_args(self) -> list[str]:
        return ["--host", "127.0.0.1", "--port", str(self.port), "--username", SUPERUSER]

    def log(self) -> str:
        try:
            text = (self.base / "postgres.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-20:])


def start_postgresql(children: Children, cases: str = "postgres") -> PostgreSQL:
    """Start a PostgreSQL server on loopback; a one-line ServiceError if it cannot."""
    bindir = postgres_bindir()
    if bindir is None:
        raise ServiceError(POSTGRES_MISSING.format(cases=cases))
    user = _unprivileged_user()
    base = Path(tempfile.mkdtemp(prefix="scaffold-check-postgresql-", dir=_temp_root(user)))
    try:
        if user is not None:
            shutil.chown(base, user)
        data = base / "data"
        initdb = _as_user(
            user,
            [
                str(bindir / "initdb"),
                "--pgdata",
                str(data),
                "--username",
                SUPERUSER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--no-sync",
            ],
        )
        done = subprocess.run(initdb, capture_output=True, text=True, check=False, timeout=120)
        if done.returncode != 0:
            tail = " ".join((done.stdout + done.stderr).split()[-40:])
            raise ServiceError(f"initdb failed (exit code {done.returncode}): {tail}")
        port = free_port()
        server = _as_user(
            user,
            [
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={base}",
                "-c",
                "fsync=off",
                "-c",
                "max_connections=200",
            ],
        )
        with (base / "postgres.log").open("wb") as log:
            process = children.popen(
                server, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        found = PostgreSQL(bindir, base, port, process)
        deadline = time.monotonic() + START_TIMEOUT
        while not found.ready():
            if process.poll() is not None or time.monotonic() > deadline:
                children.stop(process)
                why = "exited" if process.returncode is not None else "did not answer in time"
                raise ServiceError(f"PostgreSQL {why}: {' '.join(found.log().split()[-40:])}")
            time.sleep(0.2)
        return found
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise


def stop_postgresql(server: PostgreSQL, children: Children) -> None:
    """Fast shutdown (SIGINT: clients are disconnected), then SIGTERM/SIGKILL; remove its files."""
    if server.process.poll() is None:
        signal_group(server.process, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=15)
    children.stop(server.process)
    shutil.rmtree(server.base, ignore_errors=True)


class Services:
    """The services a run's cases need, started once (`start`), stopped by `close`."""

    def __init__(self, registry: Registry, children: Children) -> None:
        self.registry = registry
        self.children = children
        self.postgresql: PostgreSQL | None = None

    def needed(self, extensions: Iterable[str]) -> list[str]:
        """Service names the extensions need, in registry order."""
        return list(
            dict.fromkeys(
                service for ext in self.registry.selected(extensions) for service in ext.services
            )
        )

    def users(self, service: str) -> list[str]:
        """Extensions that need `service` (for the message that says how to leave them out)."""
        return [name for name, ext in self.registry.extensions.items() if service in ext.services]

    def start(self, names: Iterable[str]) -> None:
        for name in dict.fromkeys(names):
            if name == "postgresql":
                if self.postgresql is None:
                    self.postgresql = start_postgresql(self.children, ",".join(self.users(name)))
            else:
                raise ServiceError(f"scaffold check cannot start the service {name!r}")

    def environment(self, extensions: Sequence[str], label: str) -> dict[str, str]:
        """The settings a case gets for its services: a database of its own on each server."""
        env: dict[str, str] = {}
        databases: dict[str, str] = {}
        for ext in self.registry.selected(extensions):
            for service in ext.services:
                if service != "postgresql" or self.postgresql is None:
                    msg = f"{ext.name} needs {service}, and this run did not start it"
                    raise ServiceError(msg)
                if service not in databases:
                    databases[service] = self.postgresql.create_database(label)
                for setting in ext.settings:
                    if not setting.default:
                        scheme = setting.example.partition("://")[0] or "postgresql"
                        env[setting.env] = self.postgresql.url(databases[service], scheme)
        return env

    def close(self) -> None:
        if self.postgresql is not None:
            stop_postgresql(self.postgresql, self.children)
            self.postgresql = None

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
