"""The smallest hug API that answers GET / with JSON: the throughput baseline.

gunicorn serves `bare.app:__hug_wsgi__`, the WSGI app `hug.API(__name__)` adds to the module.
"""

from __future__ import annotations  # string annotations: hug does not read them as converters

import hug

api = hug.API(__name__)


@hug.get("/")
def index() -> dict[str, str]:
    return {"message": "Hello"}
