"""The smallest Pyramid app that stores and reads one item in the database: the baseline.

Plain SQLAlchemy on one engine (bare_sql), no pyramid_tm: the reference the starter's database
cost, its transaction manager included, is measured against. `python -m bare.app --listen=...`
serves it with the starter's own waitress launcher, and it logs an access line per request with
the starter's tween, waitress having no access log (see bench/bare/pyramid)."""

import sys
from collections.abc import Callable
from typing import Any

import bare_sql
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.router import Router
from shop.logging_setup import configure_logging

View = Callable[[Request], dict[str, Any]]


def create_app() -> Router:
    configure_logging()
    engine = bare_sql.sync_engine()

    def add(request: Request) -> dict[str, Any]:
        name = request.json_body["name"]
        request.response.status_code = 201
        return {"id": bare_sql.add(engine, name), "name": name}

    def get(request: Request) -> dict[str, Any]:
        item_id = int(request.matchdict["item_id"])
        name = bare_sql.get(engine, item_id)
        if name is None:
            request.response.status_code = 404
            return {"error": "not found"}
        return {"id": item_id, "name": name}

    with Configurator() as config:
        add_views(config, add, get)
    return config.make_wsgi_app()


def index(request: Request) -> dict[str, str]:
    return {"message": "Hello"}


def add_views(config: Configurator, add: View, get: View) -> None:
    """The access-log tween, the three routes, `index` and the two item views."""
    config.add_tween("shop.app.access_log")
    config.add_route("index", "/")
    config.add_route("items", "/items")
    config.add_route("item", r"/items/{item_id:\d+}")
    config.add_view(index, route_name="index", renderer="json")
    config.add_view(add, route_name="items", request_method="POST", renderer="json")
    config.add_view(get, route_name="item", request_method="GET", renderer="json")


if __name__ == "__main__":
    from shop.app import make_server

    make_server(sys.argv[1:], create_app()).run()
