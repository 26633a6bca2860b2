"""The smallest Pyramid app that answers GET / with JSON: the throughput baseline.

`python -m bare.app --listen=...` serves it with the starter's own waitress launcher (same
threads, same limits), so that bare app and starter run under the same server. waitress writes no
access log of its own, so the bare app logs one line per request with the starter's access-log
tween and JSON logging, as a server's access log does for the apps served by gunicorn."""

import sys

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.router import Router
from shop.logging_setup import configure_logging


def index(request: Request) -> dict[str, str]:
    return {"message": "Hello"}


def create_app() -> Router:
    configure_logging()
    with Configurator() as config:
        config.add_tween("shop.app.access_log")
        config.add_route("index", "/")
        config.add_view(index, route_name="index", renderer="json")
    return config.make_wsgi_app()


if __name__ == "__main__":
    from shop.app import make_server

    make_server(sys.argv[1:], create_app()).run()
