"""Build time and size of every framework's default image (bench/README.md, section 8).

For each framework whose defaults include docker: `scaffold new` (defaults) into a temporary
folder, then `docker build` of its unmodified Dockerfile, timed, and the image's size; the image
is removed after. Needs a Docker engine (DOCKER_HOST); `--network host` builds with host
networking and the legacy builder, as this project's CI does (see .ci/run).

    uv run python bench/docker_images.py [--network host] [--python 3.12]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scaffolder.registry import Registry  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--network", choices=("bridge", "host"), default="bridge")
    parser.add_argument("--python", default="")
    args = parser.parse_args()
    registry = Registry.load(REPO)
    env = dict(os.environ)
    build = ["docker", "build", "--force-rm"]
    if args.network == "host":
        env["DOCKER_BUILDKIT"] = "0"
        build += ["--network", "host"]
    print("| framework | Python | build | image size |")
    print("|---|---|---|---|")
    for name in registry.frameworks:
        if "docker" not in registry.default_extensions(name):
            continue
        python = args.python or registry.default_python_for(name)
        with tempfile.TemporaryDirectory(prefix="bench-docker-") as tmp:
            project = Path(tmp) / "bench-shop"
            subprocess.run(
                [sys.executable, "-m", "scaffolder", "new", str(project), "-f", name,
                 "--python", python, "--defaults", "--no-git"],
                check=True, capture_output=True,
            )  # fmt: skip
            tag = f"bench-docker/{name}:latest"
            started = time.perf_counter()
            done = subprocess.run([*build, "-t", tag, str(project)], check=True, env=env,
                                  capture_output=True, text=True)  # fmt: skip
            seconds = time.perf_counter() - started
            # The build stage's images (untagged, dangling once the tag is gone): removed too.
            layers = set(re.findall(r"^ ---> ([0-9a-f]{12})\s*$", done.stdout, re.M))
            size = subprocess.run(
                ["docker", "image", "inspect", "--format", "{{.Size}}", tag],
                check=True, capture_output=True, text=True,
            ).stdout  # fmt: skip
            subprocess.run(["docker", "rmi", tag], check=True, capture_output=True)
            dangling = subprocess.run(
                ["docker", "image", "ls", "-q", "--filter", "dangling=true"],
                check=True, capture_output=True, text=True,
            ).stdout.split()  # fmt: skip
            if stale := sorted(layers & set(dangling)):
                subprocess.run(["docker", "rmi", *stale], check=False, capture_output=True)
            print(f"| {name} | {python} | {seconds:.1f} s | {int(size) / 1e6:.0f} MB |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
