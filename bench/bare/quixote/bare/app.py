"""The smallest Quixote app that answers GET / with JSON: the throughput baseline.

Its Publisher keeps the current request per thread (Quixote's doc/multi-threaded.txt): the
least Quixote needs to run under the starter's gunicorn settings (gthread workers).
"""

import json
import threading
from typing import Any, ClassVar

import quixote
from quixote.directory import Directory
from quixote.http_request import HTTPRequest
from quixote.publish import Publisher


class Root(Directory):
    _q_exports: ClassVar[list[str]] = [""]

    def _q_index(self) -> str:
        quixote.get_response().set_content_type("application/json")
        return json.dumps({"message": "Hello"})


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
    ThreadedPublisher(Root())
    return quixote.get_wsgi_app()
