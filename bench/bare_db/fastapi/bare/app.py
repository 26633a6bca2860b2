"""The smallest FastAPI app that stores and reads one item in the database: the baseline.

Like the starter: SQLite through the sync engine in a worker thread, PostgreSQL through
SQLAlchemy's asyncio engine (psycopg's async mode); opened and disposed in the lifespan.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import bare_sql
from fastapi import FastAPI, HTTPException, Request


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    if bare_sql.url().startswith("sqlite"):
        engine = bare_sql.sync_engine()

        async def add(name: str) -> int:
            return await asyncio.to_thread(bare_sql.add, engine, name)

        async def get(item_id: int) -> str | None:
            return await asyncio.to_thread(bare_sql.get, engine, item_id)

        app.state.add, app.state.get = add, get
        yield
        engine.dispose()
    else:
        async_engine = bare_sql.async_engine()

        async def add_async(name: str) -> int:
            return await bare_sql.add_async(async_engine, name)

        async def get_async(item_id: int) -> str | None:
            return await bare_sql.get_async(async_engine, item_id)

        app.state.add, app.state.get = add_async, get_async
        yield
        await async_engine.dispose()


def create_app() -> FastAPI:
    app = FastAPI(lifespan=lifespan)

    @app.get("/")
    async def index() -> dict[str, str]:
        return {"message": "Hello"}

    @app.post("/items", status_code=201)
    async def add(request: Request) -> dict[str, Any]:
        name = (await request.json())["name"]
        return {"id": await request.app.state.add(name), "name": name}

    @app.get("/items/{item_id}")
    async def get(item_id: int, request: Request) -> dict[str, Any]:
        name = await request.app.state.get(item_id)
        if name is None:
            raise HTTPException(404)
        return {"id": item_id, "name": name}

    return app
