"""The smallest FastAPI app that stores and reads one item in the database: the baseline.

Like the starter: SQLite through the sync engine in a worker thread, PostgreSQL through
SQLAlchemy's asyncio engine (bare_sql.AsyncItems); opened and disposed in the lifespan.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import bare_sql
from fastapi import FastAPI, HTTPException, Request


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.items = bare_sql.AsyncItems()
    yield
    await app.state.items.close()


def create_app() -> FastAPI:
    app = FastAPI(lifespan=lifespan)

    @app.get("/")
    async def index() -> dict[str, str]:
        return {"message": "Hello"}

    @app.post("/items", status_code=201)
    async def add(request: Request) -> dict[str, Any]:
        name = (await request.json())["name"]
        return {"id": await request.app.state.items.add(name), "name": name}

    @app.get("/items/{item_id}")
    async def get(item_id: int, request: Request) -> dict[str, Any]:
        name = await request.app.state.items.get(item_id)
        if name is None:
            raise HTTPException(404)
        return {"id": item_id, "name": name}

    return app
