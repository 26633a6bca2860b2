"""The smallest Starlette app that stores and reads one item in the database: the baseline.

Like the starter: SQLite through the sync engine in a worker thread, PostgreSQL through
SQLAlchemy's asyncio engine (bare_sql.AsyncItems); opened and disposed in the lifespan.
"""

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
    items = bare_sql.AsyncItems()
    yield {"items": items}
    await items.close()


async def index(request: Request) -> JSONResponse:
    return JSONResponse({"message": "Hello"})


async def add(request: Request) -> JSONResponse:
    name = (await request.json())["name"]
    return JSONResponse({"id": await request.state.items.add(name), "name": name}, status_code=201)


async def get(request: Request) -> JSONResponse:
    item_id = request.path_params["item_id"]
    name = await request.state.items.get(item_id)
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
