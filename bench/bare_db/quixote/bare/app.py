"""The smallest Quixote app that stores and reads one item in the database: the baseline.

Its Publisher keeps the current request per thread (Quixote's doc/multi-threaded.txt): the
least Quixote needs to run under the starter's gunicorn settings (gthread workers).
"""

import functools
import json
import threading
from typing import Any, ClassVar

import bare_sql
import quixote
from quixote.directory import Directory
from quixote.errors import TraversalError
from quixote.http_request import HTTPRequest
from quixote.publish import Publisher
from sqlalchemy import Engine


def reply(body: Any, status: int = 200) -> str:
    response = quixote.get_response()
    response.set_status(status)
    response.set_content_type("application/json")
    return json.dumps(body)


class Items(Directory):
    _q_exports: ClassVar[list[str]] = [""]

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self) -> str:  # /items without the slash: no redirect
        return self._q_index()

    def _q_index(self) -> str:
        name = json.loads(quixote.get_request().stdin.read())["name"]
        return reply({"id": bare_sql.add(self.engine, name), "name": name}, 201)

    def _q_lookup(self, component: str) -> Any:
        return functools.partial(self.item, int(component))

    def item(self, item_id: int) -> str:
        name = bare_sql.get(self.engine, item_id)
        if name is None:
            raise TraversalError
        return reply({"id": item_id, "name": name})


class Root(Directory):
    _q_exports: ClassVar[list[str]] = ["", "items"]

    def __init__(self, engine: Engine) -> None:
        self.items = Items(engine)

    def _q_index(self) -> str:
        return reply({"message": "Hello"})


class ThreadedPublisher(Publisher):
    is_thread_safe = True

    def __init__(self, root: Directory) -> None:
        self._local = threading.local()
        super().__init__(root)

    def _set_request(self, request: HTTPRequest) -> None:
        self._local.request = request

    def _clear_request(self) -> None:
        self._local.request = None

    def get_request(self) -> HTTPRequest | None:
        return getattr(self._local, "request", None)


def create_app() -> Any:
    ThreadedPublisher(Root(bare_sql.sync_engine()))
    return quixote.get_wsgi_app()
