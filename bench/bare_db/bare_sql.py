"""The bare database apps' one shared piece: the same single-row insert and select as the
starters' store, built once as the starters build theirs (their models.py), on an engine with
the starter's own settings (its `create_sync_engine`: pool, SQLite pragmas), on the `items`
table the starter's migrations create. No validation, no schemas, no settings module: the
reference the starters' database cost is measured against.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    insert,
    make_url,
    select,
)

# The starter's modules: `shop`, or a root layout's folder (registry `modules`, e.g. chalicelib),
# named by bench/database.py.
create_sync_engine = importlib.import_module(
    os.environ.get("BENCH_STARTER_MODULES", "shop") + ".database"
).create_sync_engine

if TYPE_CHECKING:  # the asyncio extension (greenlet) is installed for async frameworks only
    from sqlalchemy.ext.asyncio import AsyncEngine

ITEMS = Table(
    "items", MetaData(), Column("id", Integer, primary_key=True), Column("name", String(200))
)
INSERT = insert(ITEMS).returning(ITEMS.c.id)
SELECT = select(ITEMS.c.name).where(ITEMS.c.id == bindparam("item_id"))


def url() -> str:
    return os.environ["DATABASE_URL"]


def sync_engine() -> Engine:
    return create_sync_engine(make_url(url()))


def async_engine() -> AsyncEngine:
    from sqlalchemy.ext.asyncio import create_async_engine

    return create_async_engine(url())


def add(engine: Engine, name: str) -> int:
    with engine.begin() as connection:
        item_id: int = connection.execute(INSERT, {"name": name}).scalar_one()
    return item_id


def get(engine: Engine, item_id: int) -> str | None:
    with engine.connect() as connection:
        name: str | None = connection.execute(SELECT, {"item_id": item_id}).scalar()
    return name


async def add_async(engine: AsyncEngine, name: str) -> int:
    async with engine.begin() as connection:
        result = await connection.execute(INSERT, {"name": name})
    item_id: int = result.scalar_one()
    return item_id


async def get_async(engine: AsyncEngine, item_id: int) -> str | None:
    async with engine.connect() as connection:
        result = await connection.execute(SELECT, {"item_id": item_id})
    name: str | None = result.scalar()
    return name


class AsyncItems:
    """What an async bare app awaits, chosen as the async starters choose: SQLite through the
    sync engine in a worker thread, PostgreSQL through SQLAlchemy's asyncio engine."""

    def __init__(self) -> None:
        self.engine = sync_engine() if url().startswith("sqlite") else None
        self.async_engine = None if self.engine is not None else async_engine()

    async def add(self, name: str) -> int:
        if self.async_engine is not None:
            return await add_async(self.async_engine, name)
        return await asyncio.to_thread(add, self.engine, name)

    async def get(self, item_id: int) -> str | None:
        if self.async_engine is not None:
            return await get_async(self.async_engine, item_id)
        return await asyncio.to_thread(get, self.engine, item_id)

    async def close(self) -> None:
        if self.async_engine is not None:
            await self.async_engine.dispose()
        else:
            self.engine.dispose()
