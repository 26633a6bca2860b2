"""The smallest Starlette app that stores and reads one item in the database: the baseline.

Like the starter: SQLite through the sync engine in a worker thread, PostgreSQL through
SQLAlchemy's asyncio engine (psycopg's async mode); opened and disposed in the lifespan.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import bare_sql
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    if bare_sql.url().startswith("sqlite"):
        engine = bare_sql.sync_engine()

        async def add(name: str) -> int:
            return await asyncio.to_thread(bare_sql.add, engine, name)

        async def get(item_id: int) -> str | None:
            return await asyncio.to_thread(bare_sql.get, engine, item_id)

        yield {"add": add, "get": get}
        engine.dispose()
    else:
        async_engine = bare_sql.async_engine()

        async def add_async(name: str) -> int:
            return await bare_sql.add_async(async_engine, name)

        async def get_async(item_id: int) -> str | None:
            return await bare_sql.get_async(async_engine, item_id)

        yield {"add": add_async, "get": get_async}
        await async_engine.dispose()


async def index(request: Request) -> JSONResponse:
    return JSONResponse({"message": "Hello"})


async def add(request: Request) -> JSONResponse:
    name = (await request.json())["name"]
    return JSONResponse({"id": await request.state.add(name), "name": name}, status_code=201)


async def get(request: Request) -> JSONResponse:
    item_id = request.path_params["item_id"]
    name = await request.state.get(item_id)
    if name is None:
        raise HTTPException(404)
    return JSONResponse({"id": item_id, "name": name})


def create_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/", index),
            Route("/items", add, methods=["POST"]),
            Route("/items/{item_id:int}", get),
        ],
        lifespan=lifespan,
    )
