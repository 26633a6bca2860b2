"""The smallest Flask app that stores and reads one item in the database: the baseline."""

from typing import Any

import bare_sql
from flask import Flask, request


def create_app() -> Flask:
    app = Flask(__name__)
    engine = bare_sql.sync_engine()

    @app.get("/")
    def index() -> dict[str, str]:
        return {"message": "Hello"}

    @app.post("/items")
    def add() -> tuple[dict[str, Any], int]:
        name = request.get_json()["name"]
        return {"id": bare_sql.add(engine, name), "name": name}, 201

    @app.get("/items/<int:item_id>")
    def get(item_id: int) -> tuple[dict[str, Any], int]:
        name = bare_sql.get(engine, item_id)
        if name is None:
            return {"error": "not found"}, 404
        return {"id": item_id, "name": name}, 200

    return app
