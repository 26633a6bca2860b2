"""The smallest aiohttp app that stores and reads one item in the database: the baseline.

Like the starter: SQLite through the sync engine in a worker thread, PostgreSQL through
SQLAlchemy's asyncio engine (bare_sql.AsyncItems); opened and disposed in cleanup_ctx.
"""

from collections.abc import AsyncIterator

import bare_sql
from aiohttp import web

ITEMS = web.AppKey("items", bare_sql.AsyncItems)

routes = web.RouteTableDef()


async def database(app: web.Application) -> AsyncIterator[None]:
    app[ITEMS] = bare_sql.AsyncItems()
    yield
    await app[ITEMS].close()


@routes.get("/")
async def index(request: web.Request) -> web.Response:
    return web.json_response({"message": "Hello"})


@routes.post("/items")
async def add_item(request: web.Request) -> web.Response:
    name = (await request.json())["name"]
    item_id = await request.app[ITEMS].add(name)
    return web.json_response({"id": item_id, "name": name}, status=201)


@routes.get(r"/items/{item_id:\d+}")
async def get_item(request: web.Request) -> web.Response:
    item_id = int(request.match_info["item_id"])
    name = await request.app[ITEMS].get(item_id)
    if name is None:
        raise web.HTTPNotFound
    return web.json_response({"id": item_id, "name": name})


def create_app() -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(database)
    app.add_routes(routes)
    return app
