"""The smallest hug API that answers GET / with JSON: the throughput baseline.

gunicorn serves `bare.app:create_app()`: hug's WSGI app for this module, as in the starter.
"""

from __future__ import annotations  # string annotations: hug does not read them as converters

import hug

api = hug.API(__name__)


@hug.get("/")
def index() -> dict[str, str]:
    return {"message": "Hello"}


def create_app() -> object:
    return api.http.server()
