"""The smallest aiohttp app that stores and reads one item in the database: the baseline.

Like the starter: SQLite through the sync engine in a worker thread, PostgreSQL through
SQLAlchemy's asyncio engine (psycopg's async mode); opened and disposed in cleanup_ctx.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import bare_sql
from aiohttp import web

ADD = web.AppKey("add", Callable[[str], Awaitable[int]])
GET = web.AppKey("get", Callable[[int], Awaitable[str | None]])

routes = web.RouteTableDef()


async def database(app: web.Application) -> AsyncIterator[None]:
    if bare_sql.url().startswith("sqlite"):
        engine = bare_sql.sync_engine()

        async def add(name: str) -> int:
            return await asyncio.to_thread(bare_sql.add, engine, name)

        async def get(item_id: int) -> str | None:
            return await asyncio.to_thread(bare_sql.get, engine, item_id)

        app[ADD], app[GET] = add, get
        yield
        engine.dispose()
    else:
        async_engine = bare_sql.async_engine()

        async def add_async(name: str) -> int:
            return await bare_sql.add_async(async_engine, name)

        async def get_async(item_id: int) -> str | None:
            return await bare_sql.get_async(async_engine, item_id)

        app[ADD], app[GET] = add_async, get_async
        yield
        await async_engine.dispose()


@routes.get("/")
async def index(request: web.Request) -> web.Response:
    return web.json_response({"message": "Hello"})


@routes.post("/items")
async def add_item(request: web.Request) -> web.Response:
    name = (await request.json())["name"]
    item_id = await request.app[ADD](name)
    return web.json_response({"id": item_id, "name": name}, status=201)


@routes.get(r"/items/{item_id:\d+}")
async def get_item(request: web.Request) -> web.Response:
    item_id = int(request.match_info["item_id"])
    name = await request.app[GET](item_id)
    if name is None:
        raise web.HTTPNotFound
    return web.json_response({"id": item_id, "name": name})


def create_app() -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(database)
    app.add_routes(routes)
    return app
