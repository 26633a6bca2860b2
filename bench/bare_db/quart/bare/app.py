"""The smallest Quart app that stores and reads one item in the database: the baseline.

Like the starter: the engine is opened before serving and disposed after (bare_sql.AsyncItems
chooses SQLite in a worker thread or PostgreSQL's asyncio engine, as the starter does).
"""

import bare_sql
from quart import Quart, abort, request

items: bare_sql.AsyncItems


def create_app() -> Quart:
    app = Quart(__name__)

    @app.before_serving
    async def open_items() -> None:
        global items
        items = bare_sql.AsyncItems()

    @app.after_serving
    async def close_items() -> None:
        await items.close()

    @app.get("/")
    async def index() -> dict[str, str]:
        return {"message": "Hello"}

    @app.post("/items")
    async def add() -> tuple[dict[str, object], int]:
        name = (await request.get_json())["name"]
        return {"id": await items.add(name), "name": name}, 201

    @app.get("/items/<int:item_id>")
    async def get(item_id: int) -> dict[str, object]:
        name = await items.get(item_id)
        if name is None:
            abort(404)
        return {"id": item_id, "name": name}

    return app
