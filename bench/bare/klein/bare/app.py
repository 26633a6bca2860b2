"""The smallest Klein app that answers GET / with JSON, on Twisted Web's own Site: the
throughput baseline."""

import json
from typing import Any

from klein import Klein
from shop.logging_setup import configure_logging
from twisted.web.server import Site

app = Klein()


@app.route("/", methods=["GET"])
def index(request: Any) -> bytes:
    request.setHeader(b"Content-Type", b"application/json")
    return json.dumps({"message": "Hello"}).encode()


def create_app(settings: Any = None, store: Any = None, in_thread: Any = None) -> Site:
    # The starter's JSON logging (Twisted's access log included), as the starter has it.
    configure_logging()
    return Site(app.resource())
