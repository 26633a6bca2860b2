"""Stand-in base images for `scaffold check --docker` on a machine that reaches no image registry.

What an air-gapped CI does: the starters' Dockerfiles and compose files name public images
(`python:3.X-slim`, `ghcr.io/astral-sh/uv:<tag>`, the database's `postgres:<tag>`); no registry is
reachable here, so images that behave like them for what the starters use are built locally,
under the same tags, from what is reachable: Debian's archive (debootstrap, apt) and PyPI (uv's
static musl build). Nothing here changes a starter; on a normal host the real images are pulled.

- A Debian bookworm minbase root file system (debootstrap), trusting the host's CA bundle
  (`SSL_CERT_FILE`: the way this machine reaches PyPI), imported as `scaffolder-standin/bookworm`.
- `python:3.X-slim`: that base plus this machine's CPython 3.X (the one `uv python find` gives,
  built with --enable-shared) laid out under /usr/local as the official image does.
- `ghcr.io/astral-sh/uv:<tag>`: the static `uv`/`uvx` from PyPI's musllinux wheel, alone.
- `postgres:<tag>` (the registry's service image): Debian's PostgreSQL with an entrypoint that
  does what compose.yaml relies on: POSTGRES_USER/PASSWORD/DB on first start, the data volume,
  `pg_isready`, PGPORT (the port, also for the health check).

Each image is built once: an existing tag is left alone (`--force` rebuilds). Every image made
here carries the label `org.scaffolder.standin=1`.

    uv run python .ci/docker_standins.py [--python 3.12 ...] [--force]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scaffolder import toolchain  # noqa: E402
from scaffolder.registry import Registry  # noqa: E402

BASE = "scaffolder-standin/bookworm:minbase"
LABEL = "org.scaffolder.standin=1"
MIRROR = "http://deb.debian.org/debian"
# What the official slim image's Python needs at run time, and what a starter's build uses.
PACKAGES = (
    "ca-certificates,netbase,tzdata,libssl3,libffi8,libsqlite3-0,libbz2-1.0,liblzma5,"
    "libreadline8,libncursesw6,libuuid1,zlib1g,libexpat1,libnsl2,libtirpc3,libcrypt1,libgdbm6"
)
PATH = "/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"
HOST_CA = "/etc/ssl/certs/host-ca-bundle.crt"
POSTGRES_MAJOR = "15"  # bookworm's PostgreSQL

POSTGRES_DOCKERFILE = f"""\
FROM {BASE}
ENV DEBIAN_FRONTEND=noninteractive
RUN printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \\
    && mkdir -p /etc/postgresql-common \\
    && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf \\
    && apt-get update \\
    && apt-get install -y --no-install-recommends postgresql-{POSTGRES_MAJOR} \\
    && rm -rf /var/lib/apt/lists/*
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/{POSTGRES_MAJOR}/bin:{PATH} \\
    PGDATA=/var/lib/postgresql/data \\
    LANG=C.UTF-8
VOLUME ["/var/lib/postgresql/data"]
ENTRYPOINT ["docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
"""

POSTGRES_ENTRYPOINT = """\
#!/bin/sh
# The official image's first start, for what compose.yaml uses: POSTGRES_USER (superuser),
# POSTGRES_PASSWORD (required), POSTGRES_DB; the cluster in $PGDATA (a volume); TCP on every
# address with password authentication. PGPORT moves the port (the server and pg_isready read it).
set -eu
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown -R postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
        echo "error: POSTGRES_PASSWORD is not set" >&2
        exit 1
    fi
    pwfile=$(mktemp)
    printf '%s\\n' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust \\
        --auth-host=scram-sha-256 --encoding=UTF8 -D "$PGDATA"
    rm -f "$pwfile"
    echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    if [ "$POSTGRES_DB" != postgres ]; then
        echo "CREATE DATABASE \\"$POSTGRES_DB\\";" \\
            | postgres --single -D "$PGDATA" postgres >/dev/null
    fi
    echo "PostgreSQL init process complete; ready for start up."
fi
exec "$@"
"""


def docker(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], text=True, check=True, **kwargs)  # type: ignore[call-overload]


def exists(tag: str) -> bool:
    done = subprocess.run(["docker", "image", "inspect", tag], capture_output=True, check=False)
    return done.returncode == 0


def timed(tag: str, force: bool, build: object) -> None:
    if exists(tag) and not force:
        print(f"{tag}: present, kept")
        return
    started = time.monotonic()
    build()  # type: ignore[operator]
    size = docker("image", "inspect", "--format", "{{.Size}}", tag, capture_output=True).stdout
    print(f"{tag}: built in {time.monotonic() - started:.0f} s, {int(size) / 1e6:.0f} MB")


def build_base(work: Path) -> None:
    rootfs = work / "rootfs"
    subprocess.run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={PACKAGES}",
            "bookworm",
            str(rootfs),
            MIRROR,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    bundle = Path(os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt")
    shutil.copyfile(bundle, rootfs / HOST_CA.lstrip("/"))
    for cache in ("var/lib/apt/lists", "var/cache/apt/archives"):
        for item in (rootfs / cache).glob("*"):
            if item.is_file():
                item.unlink()
    tar = subprocess.Popen(
        ["tar", "-C", str(rootfs), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE
    )
    docker(
        "import",
        "--change",
        f"ENV PATH={PATH}",
        "--change",
        "ENV LANG=C.UTF-8",
        "--change",
        f"ENV SSL_CERT_FILE={HOST_CA}",
        "--change",
        f"LABEL {LABEL}",
        "--change",
        'CMD ["bash"]',
        "-",
        BASE,
        stdin=tar.stdout,
        stdout=subprocess.DEVNULL,
    )
    if tar.wait() != 0:
        raise SystemExit("tar of the bookworm root file system failed")


def build_python(version: str, work: Path) -> None:
    executable = Path(toolchain.python_path(version))
    prefix_text = subprocess.run(
        [str(executable), "-c", "import sys; print(sys.base_prefix)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    prefix = Path(prefix_text)
    context = work / f"python{version}"
    local = context / "local"
    (local / "bin").mkdir(parents=True)
    (local / "lib").mkdir()
    shutil.copy2(prefix / "bin" / f"python{version}", local / "bin")
    for lib in (prefix / "lib").glob("libpython3*.so*"):
        shutil.copy2(lib, local / "lib", follow_symlinks=False)

    def ignore(folder: str, names: list[str]) -> set[str]:
        skip = {"test", "__pycache__", "idle_test"} & set(names)
        if Path(folder).name == "site-packages":
            skip |= {n for n in names if not n.startswith("pip")}
        return skip

    shutil.copytree(
        prefix / "lib" / f"python{version}",
        local / "lib" / f"python{version}",
        ignore=ignore,
        symlinks=True,
    )
    if (prefix / "include").is_dir():
        shutil.copytree(prefix / "include", local / "include", symlinks=True)
    (context / "Dockerfile").write_text(
        f"FROM {BASE}\n"
        "COPY local/ /usr/local/\n"
        f"RUN ln -s python{version} /usr/local/bin/python3 \\\n"
        f"    && ln -s python{version} /usr/local/bin/python && ldconfig \\\n"
        "    && python3 -c 'import ssl, sqlite3, ctypes, zlib, lzma, bz2, uuid'\n"
        f"ENV PYTHON_VERSION={version}\n"
        'CMD ["python3"]\n'
    )
    docker(
        "build",
        "--network",
        "host",
        "--label",
        LABEL,
        "-t",
        f"python:{version}-slim",
        str(context),
        stdout=subprocess.DEVNULL,
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
    )


def build_uv(tag: str, work: Path) -> None:
    minor = tag.split(":")[1]
    spec = f"uv=={minor}.*" if re.fullmatch(r"\d+\.\d+", minor) else f"uv=={minor}"
    wheels = work / "uv-wheel"
    subprocess.run(
        [
            toolchain.uv_bin(),
            "tool",
            "run",
            "--from",
            "pip",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--platform",
            "musllinux_1_1_x86_64",
            "-d",
            str(wheels),
            spec,
        ],
        check=True,
    )
    unpacked = work / "uv"
    shutil.unpack_archive(next(wheels.glob("uv-*.whl")), unpacked, "zip")
    binaries = work / "uv-root"
    binaries.mkdir()
    for name in ("uv", "uvx"):
        found = next(unpacked.glob(f"*.data/scripts/{name}"))
        shutil.copy2(found, binaries / name)
        (binaries / name).chmod(0o755)
    tar = subprocess.Popen(["tar", "-C", str(binaries), "-c", "uv", "uvx"], stdout=subprocess.PIPE)
    docker(
        "import",
        "--change",
        'ENTRYPOINT ["/uv"]',
        "--change",
        f"LABEL {LABEL}",
        "-",
        tag,
        stdin=tar.stdout,
        stdout=subprocess.DEVNULL,
    )
    tar.wait()


def build_postgres(tag: str, work: Path) -> None:
    context = work / "postgres"
    context.mkdir()
    (context / "Dockerfile").write_text(POSTGRES_DOCKERFILE)
    entrypoint = context / "docker-entrypoint.sh"
    entrypoint.write_text(POSTGRES_ENTRYPOINT)
    entrypoint.chmod(0o755)
    docker(
        "build",
        "--network",
        "host",
        "--label",
        LABEL,
        "-t",
        tag,
        str(context),
        stdout=subprocess.DEVNULL,
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
    )


def uv_tag() -> str:
    """The uv image the starters' Dockerfile copies uv from (its first FROM line)."""
    dockerfile = next((REPO / "templates" / "common").glob("*Dockerfile*"))
    found = re.search(r"^FROM (ghcr\.io/astral-sh/uv:\S+)", dockerfile.read_text(), re.M)
    if not found:
        raise SystemExit(f"no uv image named in {dockerfile}")
    return found.group(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", action="append", help="3.X versions (default: every one)")
    parser.add_argument("--force", action="store_true", help="rebuild existing tags")
    args = parser.parse_args(argv)
    registry = Registry.load(REPO)
    versions = args.python or list(registry.python_versions)
    databases = sorted({service.image for service in registry.services.values()})
    with tempfile.TemporaryDirectory(prefix="scaffolder-standins-") as tmp:
        work = Path(tmp)
        timed(BASE, args.force, lambda: build_base(work))
        timed(uv_tag(), args.force, lambda: build_uv(uv_tag(), work))
        for version in versions:
            timed(f"python:{version}-slim", args.force, lambda v=version: build_python(v, work))
        for image in databases:
            if not image.startswith("postgres:"):
                raise SystemExit(f"no stand-in recipe for the service image {image}")
            timed(image, args.force, lambda i=image: build_postgres(i, work))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
