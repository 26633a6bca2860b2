"""The Starlette application: routes, JSON errors, request-size limits.

    GET /                 the page (HTML; the form and the download work without JavaScript)
    GET /metadata         the typed catalogue, versioned by media type (Accept)
    GET /preview?...      the file list and contents as JSON
    GET /starter.zip?...  the rendered project (executable bits kept); /starter.tgz likewise
    GET /static/app.js    the page's script (served from the package, never fetched elsewhere)

Every error is JSON: 400 with the CLI's message, the parameter and its valid values; 404; 405
with Allow; 406 for an unknown metadata version; 413 for a request with a body; 414 for a query
string or URL over the limit; 503 with Retry-After when renders are queued past the limit or one
ran past the time limit.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from scaffolder.registry import Registry
from scaffolder.serve import page
from scaffolder.serve.renderer import Busy, Rendered, Renderer, RenderFailed
from scaffolder.serve.selection import (
    DEFAULT_NAME,
    MAX_DESCRIPTION,
    NAME_RULE,
    BadRequest,
    Selection,
    parse,
)

METADATA_VERSIONS = (1,)
METADATA_TYPE = "application/vnd.scaffolder.metadata.v{}+json"
MAX_URL_BYTES = 4096  # path + query string
ARCHIVES = {"zip": "application/zip", "tgz": "application/gzip"}

log = logging.getLogger("scaffolder.serve")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def create_app(registry: Registry, renderer: Renderer) -> Starlette:
    script = resources.files("scaffolder.serve").joinpath("static/app.js").read_bytes()

    async def home(request: Request) -> Response:
        try:
            selection: Selection | None = parse(registry, request.query_params.multi_items())
            error = None
        except BadRequest as exc:
            selection, error = None, exc
        html = page.render_page(
            registry,
            selection,
            error,
            params=request.query_params.multi_items(),
            commit=renderer.commit,
        )
        return HTMLResponse(html, status_code=400 if error else 200)

    # The registry and the template are fixed at start-up: each version's body is built once.
    bodies = {
        version: json.dumps({"version": version, **metadata_v1(registry, renderer)}).encode()
        for version in METADATA_VERSIONS
    }

    async def metadata(request: Request) -> Response:
        version = _metadata_version(request.headers.get("accept", ""))
        if version is None:
            offered = [METADATA_TYPE.format(v) for v in METADATA_VERSIONS]
            return _error(
                406,
                f"no metadata version in the Accept header "
                f"{request.headers.get('accept')!r}; this server offers: {', '.join(offered)} "
                "(application/json is the latest)",
                valid=offered,
            )
        return Response(
            bodies[version], media_type=METADATA_TYPE.format(version), headers={"Vary": "Accept"}
        )

    async def preview(request: Request) -> Response:
        selection = parse(registry, request.query_params.multi_items())
        rendered = await renderer.render(selection)
        return JSONResponse(_preview(registry, selection, rendered))

    def archive(kind: str) -> Callable[[Request], Awaitable[Response]]:
        async def download(request: Request) -> Response:
            selection = parse(registry, request.query_params.multi_items())
            rendered = await renderer.render(selection)
            filename = f"{selection.spec.names.project}.{'zip' if kind == 'zip' else 'tar.gz'}"
            return Response(
                rendered.archive(kind),
                media_type=ARCHIVES[kind],
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )

        return download

    async def app_js(request: Request) -> Response:
        return Response(
            script,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=300"},
        )

    async def bad_request(request: Request, exc: Any) -> Response:
        return JSONResponse(exc.to_json(), status_code=400)

    async def busy(request: Request, exc: Any) -> Response:
        return _error(503, str(exc), headers={"Retry-After": str(exc.retry_after)})

    async def failed(request: Request, exc: Exception) -> Response:
        log.error("render failed for %s: %s", request.url.query, exc)
        return _error(500, str(exc))

    async def http_error(request: Request, exc: Any) -> Response:
        return _error(exc.status_code, exc.detail, headers=exc.headers)

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error")
        return _error(500, "internal server error")

    routes = [
        Route("/", home, methods=["GET"]),
        Route("/metadata", metadata, methods=["GET"]),
        Route("/preview", preview, methods=["GET"]),
        Route("/starter.zip", archive("zip"), methods=["GET"]),
        Route("/starter.tgz", archive("tgz"), methods=["GET"]),
        Route("/static/app.js", app_js, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            BadRequest: bad_request,
            Busy: busy,
            RenderFailed: failed,
            HTTPException: http_error,
            Exception: unexpected,
        },
    )
    app.add_middleware(RequestLimits)
    return app


class RequestLimits:
    """Refuse what this GET-only service never needs, before routing: a body (413) and a URL
    longer than MAX_URL_BYTES (414). Header sizes are the server's (uvicorn: 16 KiB)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            length = headers.get(b"content-length", b"0").strip()
            if b"transfer-encoding" in headers or not length.isdigit() or int(length) > 0:
                await _error(413, "this service takes no request body")(scope, receive, send)
                return
            size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
            if size > MAX_URL_BYTES:
                message = f"the URL is {size} bytes long; the limit is {MAX_URL_BYTES}"
                await _error(414, message)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _error(status: int, message: str, *, valid: Any = None, headers: Any = None) -> JSONResponse:
    body: dict[str, Any] = {"error": message}
    if valid is not None:
        body["valid"] = valid
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def _metadata_version(accept: str) -> int | None:
    """The version the Accept header asks for: the latest for */*, application/json or none."""
    if not accept.strip():
        return METADATA_VERSIONS[-1]
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        if media in {"*/*", "application/*", "application/json"}:
            return METADATA_VERSIONS[-1]
        for version in METADATA_VERSIONS:
            if media == METADATA_TYPE.format(version):
                return version
    return None


def metadata_v1(registry: Registry, renderer: Renderer) -> dict[str, Any]:
    """Version 1: the typed questions a form needs, plus `scaffold list --json`'s data."""
    catalogue = registry.to_json()
    grouped = {m for group in catalogue["groups"] for m in group["members"]}
    return {
        "template": {"commit": renderer.commit},
        "parameters": {
            "name": {
                "type": "text",
                "default": DEFAULT_NAME,
                "rule": NAME_RULE,
            },
            "framework": {
                "type": "single-select",
                "default": registry.default_framework,
                "values": [
                    {"id": fw["name"], "label": fw["label"], "description": fw["description"]}
                    for fw in catalogue["frameworks"]
                ],
            },
            "python": {
                "type": "single-select",
                "default": registry.default_python,
                "values": catalogue["python"]["versions"],
                "per_framework": "frameworks[].python and python_unsupported (with reasons)",
            },
            "extensions": {
                "type": "multi-select",
                "default": "frameworks[].default_extensions",
                "values": [ext["name"] for ext in catalogue["extensions"]],
                "groups": {
                    group["name"]: {"type": "single-select", "values": group["members"]}
                    for group in catalogue["groups"]
                },
                "ungrouped": [
                    ext["name"] for ext in catalogue["extensions"] if ext["name"] not in grouped
                ],
                "or": "with / without: changes to the framework's defaults, as in scaffold new",
            },
            "description": {
                "type": "text",
                "default": None,
                "max_length": MAX_DESCRIPTION,
            },
        },
        **catalogue,
    }


def _preview(registry: Registry, selection: Selection, rendered: Rendered) -> dict[str, Any]:
    files = []
    for file in rendered.files:
        try:
            text: str | None = file.data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        files.append(
            {
                "path": file.path,
                "size": len(file.data),
                "executable": file.executable,
                "text": text,
            }
        )
    query = selection.query(registry)
    return {
        "project": selection.spec.names.project,
        "package": selection.spec.names.package,
        "framework": selection.spec.framework,
        "python": selection.spec.python_version,
        "extensions": list(selection.spec.extensions),
        "command": selection.command(registry),
        "share": f"/?{query}",
        "zip": f"/starter.zip?{query}",
        "tgz": f"/starter.tgz?{query}",
        "files": files,
    }
