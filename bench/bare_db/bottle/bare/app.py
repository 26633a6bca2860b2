"""The smallest Bottle app that stores and reads one item in the database: the baseline."""

from typing import Any

import bare_sql
from bottle import Bottle, request, response


def create_app() -> Bottle:
    app = Bottle()
    engine = bare_sql.sync_engine()

    @app.get("/")
    def index() -> dict[str, str]:
        return {"message": "Hello"}

    @app.post("/items")
    def add() -> dict[str, Any]:
        name = request.json["name"]
        response.status = 201
        return {"id": bare_sql.add(engine, name), "name": name}

    @app.get("/items/<item_id:int>")
    def get(item_id: int) -> dict[str, Any]:
        name = bare_sql.get(engine, item_id)
        if name is None:
            response.status = 404
            return {"error": "not found"}
        return {"id": item_id, "name": name}

    return app
