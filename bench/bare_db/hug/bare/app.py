"""The smallest hug API that stores and reads one item in the database: the baseline.

gunicorn serves `bare.app:create_app()`: hug's WSGI app for this module, as in the starter.
"""

from __future__ import annotations  # string annotations: hug does not read them as converters

from typing import Any

import bare_sql
import hug

api = hug.API(__name__)
engine = bare_sql.sync_engine()


@hug.get("/")
def index() -> dict[str, str]:
    return {"message": "Hello"}


@hug.post("/items", status=hug.HTTP_201)
def add(name: str) -> dict[str, Any]:  # hug passes the JSON body's "name" key
    return {"id": bare_sql.add(engine, name), "name": name}


@hug.get("/items/{item_id:int}")
def get(item_id: int, response: Any) -> dict[str, Any]:
    name = bare_sql.get(engine, item_id)
    if name is None:
        response.status = hug.HTTP_404
        return {"error": "not found"}
    return {"id": item_id, "name": name}


def create_app() -> object:
    return api.http.server()
