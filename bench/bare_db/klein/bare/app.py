"""The smallest Klein app that stores and reads one item in the database, each call in
Twisted's thread pool, on Twisted Web's own Site: the baseline."""

import json
from typing import Any

import bare_sql
from klein import Klein
from shop.logging_setup import configure_logging
from twisted.internet.threads import deferToThread
from twisted.web.server import Site


class Bare:
    app = Klein()

    def __init__(self) -> None:
        self.engine = bare_sql.sync_engine()

    @app.route("/", methods=["GET"])
    def index(self, request: Any) -> bytes:
        request.setHeader(b"Content-Type", b"application/json")
        return json.dumps({"message": "Hello"}).encode()

    @app.route("/items", methods=["POST"])
    async def create(self, request: Any) -> bytes:
        name = json.loads(request.content.read())["name"]
        item_id = await deferToThread(bare_sql.add, self.engine, name)
        request.setResponseCode(201)
        request.setHeader(b"Content-Type", b"application/json")
        return json.dumps({"id": item_id, "name": name}).encode()

    @app.route("/items/<int:item_id>", methods=["GET"])
    async def read(self, request: Any, item_id: int) -> bytes:
        found = await deferToThread(bare_sql.get, self.engine, item_id)
        request.setHeader(b"Content-Type", b"application/json")
        if found is None:
            request.setResponseCode(404)
            return json.dumps({"error": "not found"}).encode()
        return json.dumps({"id": item_id, "name": found}).encode()


def create_app(settings: Any = None, store: Any = None, in_thread: Any = None) -> Site:
    # The starter's JSON logging (Twisted's access log included), as the starter has it.
    configure_logging()
    return Site(Bare().app.resource())
