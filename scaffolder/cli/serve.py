"""`scaffold serve`: the web initializr and metadata API, on uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from scaffolder.cli.options import TemplateOption


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    template: TemplateOption = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, help="Renders run at once.")
    ] = 2,
    queue: Annotated[
        int,
        typer.Option("--queue", min=0, help="Renders that may wait; beyond them a 503."),
    ] = 8,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Seconds a render may take.")
    ] = 120.0,
    lock: Annotated[
        bool, typer.Option("--lock/--no-lock", help="Write uv.lock into each starter.")
    ] = True,
) -> None:
    """Serve the starters: a page, a metadata API, and zip/tar.gz downloads."""
    import uvicorn

    from scaffolder.registry import Registry
    from scaffolder.serve.app import create_app
    from scaffolder.serve.renderer import Limits, Renderer
    from scaffolder.template import resolve_template

    # The only template this server renders: no request can name another.
    source = resolve_template(template)
    registry = Registry.load(source.local_root)
    limits = Limits(concurrency=concurrency, queue=queue, timeout=timeout, lock=lock)
    renderer = Renderer(source, limits=limits)
    for warning in source.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(
        f"scaffold serve: template {source.src} at {renderer.commit or 'no commit'}; "
        f"http://{host}:{port}/",
        err=True,
    )
    uvicorn.run(
        create_app(registry, renderer),
        host=host,
        port=port,
        # Connections beyond this get uvicorn's own 503; renders have their own limit.
        limit_concurrency=max(64, 4 * (concurrency + queue)),
        h11_max_incomplete_event_size=16 * 1024,  # request line + headers
        timeout_keep_alive=5,
        server_header=False,
        log_level="info",
    )
