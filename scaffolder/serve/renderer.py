"""Render selections safely under load, and package the result.

- Each render runs `scaffolder.serve.worker` in a process (and process group) of its own, in a
  temporary folder of its own under `workdir`; the files are read into memory and the folder is
  removed, whatever happens (time limit, cancelled request, failure).
- At most `concurrency` renders run at once and at most `queue` more wait; beyond that `Busy`
  (the app answers 503 with Retry-After). A render past `timeout` seconds is killed (`Busy`
  too: the server is overloaded or the template is slow).
- Identical requests share one render while it runs, and a finished one is kept in a
  least-recently-used cache of at most `cache_bytes`, keyed by the answers and the template's
  identity (its commit, plus a digest of its files for a checkout with uncommitted edits).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scaffolder.project import worker_request
from scaffolder.serve.selection import Selection
from scaffolder.template import TemplateSource

ARCHIVE_EPOCH = (1980, 1, 1, 0, 0, 0)  # zip's earliest date: archives are reproducible


class Busy(Exception):
    """Too many renders waiting, or one took too long: try again later."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RenderFailed(Exception):
    """The template could not render a checked selection (the server's fault, not the user's)."""


@dataclass(frozen=True)
class File:
    path: str  # relative, with '/' separators
    mode: int  # permission bits
    data: bytes

    @property
    def executable(self) -> bool:
        return bool(self.mode & 0o111)


@dataclass
class Rendered:
    """A rendered starter held in memory: its files, and archives built on first use."""

    root: str  # the folder name inside the archives: the project name
    files: tuple[File, ...]
    seconds: float
    _archives: dict[str, bytes] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return sum(len(f.data) for f in self.files) + sum(map(len, self._archives.values()))

    def archive(self, kind: str) -> bytes:
        if kind not in self._archives:
            self._archives[kind] = _zip(self) if kind == "zip" else _tgz(self)
        return self._archives[kind]


@dataclass(frozen=True)
class Limits:
    concurrency: int = 2
    queue: int = 8
    timeout: float = 120.0  # seconds per render
    cache_bytes: int = 64 * 1024 * 1024
    lock: bool = True  # write uv.lock into the starter (as `scaffold new` does)


class Renderer:
    def __init__(
        self,
        template: TemplateSource,
        *,
        limits: Limits | None = None,
        workdir: Path | None = None,
    ) -> None:
        self.template = template
        self.limits = limits or Limits()
        self.workdir = workdir or Path(tempfile.gettempdir())
        self.identity = template_identity(template)
        self._slots: asyncio.Semaphore | None = None
        self._waiting_or_running = 0
        self._running: dict[tuple[Any, ...], asyncio.Future[Rendered]] = {}
        self._cache: OrderedDict[tuple[Any, ...], Rendered] = OrderedDict()
        self.renders = 0  # renders actually run (the rest came from the cache or a shared one)

    @property
    def commit(self) -> str | None:
        return self.identity.get("commit")

    def cached(self, selection: Selection) -> Rendered | None:
        key = self._key(selection)
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
        return found

    async def render(self, selection: Selection) -> Rendered:
        if (found := self.cached(selection)) is not None:
            return found
        key = self._key(selection)
        if (running := self._running.get(key)) is not None:
            try:
                return await asyncio.shield(running)
            except asyncio.CancelledError:
                if not running.cancelled():
                    raise  # this request was cancelled, not the render it shared
                # The request that ran the render went away; render for this one.
                return await self.render(selection)
        limits = self.limits
        if self._waiting_or_running >= limits.concurrency + limits.queue:
            raise Busy(
                f"{self._waiting_or_running} renders are running or waiting (the limit is "
                f"{limits.concurrency} at once plus {limits.queue} queued); try again shortly",
                retry_after=max(1, round(limits.timeout / 10)),
            )
        if self._slots is None:  # made on the event loop that uses it
            self._slots = asyncio.Semaphore(limits.concurrency)
        future: asyncio.Future[Rendered] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        self._waiting_or_running += 1
        try:
            async with self._slots:
                rendered = await self._render(selection)
            self._store(key, rendered)
            future.set_result(rendered)
            return rendered
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody shares it
            raise
        finally:
            self._waiting_or_running -= 1
            del self._running[key]

    def _key(self, selection: Selection) -> tuple[Any, ...]:
        return (*selection.key(), self.limits.lock, self.identity.get("digest"))

    def _store(self, key: tuple[Any, ...], rendered: Rendered) -> None:
        self._cache[key] = rendered
        while sum(r.size for r in self._cache.values()) > self.limits.cache_bytes:
            self._cache.popitem(last=False)

    async def _render(self, selection: Selection) -> Rendered:
        spec = selection.spec
        started = time.monotonic()
        self.workdir.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="scaffold-serve-", dir=self.workdir))
        destination = folder / spec.names.project
        request = worker_request(
            self.template,
            name=selection.typed_name,
            framework=spec.framework,
            python=spec.python_version,
            extensions=list(spec.extensions),
            data=dict(spec.data),
            destination=str(destination),
            git=False,
            lock=self.limits.lock,
        )
        # -P: the working folder (where the project is written) is not on sys.path.
        isolate = ["-P"] if sys.version_info >= (3, 11) else []
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *isolate,
            "-m",
            "scaffolder.serve.worker",
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=folder,
            env=_worker_env(),
            start_new_session=True,  # its own process group: killed whole at the time limit
        )
        try:
            try:
                out, err = await asyncio.wait_for(
                    process.communicate(json.dumps(request).encode()), self.limits.timeout
                )
            except asyncio.TimeoutError:
                raise Busy(
                    f"the render took longer than {self.limits.timeout:g} s and was stopped; "
                    "try again shortly",
                    retry_after=max(1, round(self.limits.timeout / 10)),
                ) from None
            answer = _answer(out)
            if answer is None or process.returncode != 0:
                tail = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
                raise RenderFailed(f"the render failed: {tail[0]}")
            if not answer["ok"]:
                raise RenderFailed(f"the render failed: {answer['message']}")
            files = tuple(sorted(_read_tree(destination), key=lambda file: file.path))
        finally:
            await _stop(process)
            shutil.rmtree(folder, ignore_errors=True)
        self.renders += 1
        return Rendered(root=spec.names.project, files=files, seconds=time.monotonic() - started)


def _worker_env() -> dict[str, str]:
    """The worker imports this very scaffolder, installed or run from a source folder."""
    home = str(Path(__file__).resolve().parent.parent.parent)
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": home + (os.pathsep + path if path else "")}


def _answer(out: bytes) -> dict[str, Any] | None:
    for line in reversed(out.decode(errors="replace").splitlines()):
        with contextlib.suppress(ValueError):
            found = json.loads(line)
            if isinstance(found, dict) and "ok" in found:
                return found
    return None


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            await asyncio.shield(process.wait())


def _read_tree(root: Path) -> Iterator[File]:
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = Path(folder) / name
            info = path.lstat()
            if stat.S_ISREG(info.st_mode):  # a template cannot smuggle a symlink out
                yield File(
                    path=path.relative_to(root).as_posix(),
                    mode=stat.S_IMODE(info.st_mode),
                    data=path.read_bytes(),
                )


def _zip(rendered: Rendered) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in rendered.files:
            info = zipfile.ZipInfo(f"{rendered.root}/{file.path}", date_time=ARCHIVE_EPOCH)
            info.external_attr = (stat.S_IFREG | file.mode) << 16
            info.create_system = 3  # Unix: unzip reads the mode from external_attr
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, file.data)
    return buffer.getvalue()


def _tgz(rendered: Rendered) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        folders: set[str] = set()
        for file in rendered.files:
            parts = f"{rendered.root}/{file.path}".split("/")
            for depth in range(1, len(parts)):
                folder = "/".join(parts[:depth])
                if folder not in folders:
                    folders.add(folder)
                    info = tarfile.TarInfo(folder)
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    archive.addfile(info)
            info = tarfile.TarInfo(f"{rendered.root}/{file.path}")
            info.size, info.mode = len(file.data), file.mode
            archive.addfile(info, io.BytesIO(file.data))
    return buffer.getvalue()


def template_identity(template: TemplateSource) -> dict[str, str]:
    """The template's commit (what Copier records) and a digest of its files: the cache key's
    half that is not the answers. Computed once, at start-up."""
    root = template.local_root
    identity: dict[str, str] = {}
    result = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == 0:
        identity["commit"] = result.stdout.strip()
    digest = hashlib.sha256(identity.get("commit", "").encode())
    for base in (root / "copier.yml", root / "copier.yaml", root / "templates"):
        paths = sorted(base.rglob("*")) if base.is_dir() else [base]
        for path in paths:
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    identity["digest"] = digest.hexdigest()
    return identity
