"""The smallest Sanic app that stores and reads one item in the database: the baseline.

Like the starter: the engine is opened in before_server_start and disposed in
after_server_stop (bare_sql.AsyncItems chooses as the starter does).
"""

import bare_sql
from sanic import Request, Sanic
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse, json


def create_app() -> Sanic:
    app = Sanic("bare")
    # Like the starter: one access line per request (see bench/bare/sanic).
    app.config.ACCESS_LOG = True

    @app.before_server_start
    async def open_items(app: Sanic) -> None:
        app.ctx.items = bare_sql.AsyncItems()

    @app.after_server_stop
    async def close_items(app: Sanic) -> None:
        await app.ctx.items.close()

    @app.get("/")
    async def index(request: Request) -> HTTPResponse:
        return json({"message": "Hello"})

    @app.post("/items")
    async def add(request: Request) -> HTTPResponse:
        name = request.json["name"]
        return json({"id": await request.app.ctx.items.add(name), "name": name}, status=201)

    @app.get("/items/<item_id:int>")
    async def get(request: Request, item_id: int) -> HTTPResponse:
        name = await request.app.ctx.items.get(item_id)
        if name is None:
            raise NotFound
        return json({"id": item_id, "name": name})

    return app
