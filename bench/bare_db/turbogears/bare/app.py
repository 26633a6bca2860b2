"""The smallest TurboGears app that stores and reads one item in the database: the baseline."""

from typing import Any

import bare_sql
from sqlalchemy import Engine
from tg import (
    MinimalApplicationConfigurator,
    RestController,
    TGController,
    expose,
    request,
    response,
)
from webob.exc import HTTPNotFound


class ItemsController(RestController):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @expose("json")
    def post(self, **kw: Any) -> dict[str, Any]:
        name = request.json_body["name"]
        response.status_int = 201
        return {"id": bare_sql.add(self.engine, name), "name": name}

    @expose("json")
    def get_one(self, item_id: str) -> dict[str, Any]:
        name = bare_sql.get(self.engine, int(item_id))
        if name is None:
            raise HTTPNotFound
        return {"id": int(item_id), "name": name}


class RootController(TGController):
    def __init__(self, engine: Engine) -> None:
        self.items = ItemsController(engine)

    @expose("json")
    def index(self) -> dict[str, str]:
        return {"message": "Hello"}


def create_app() -> Any:
    configurator = MinimalApplicationConfigurator()
    configurator.update_blueprint(
        {
            "root_controller": RootController(bare_sql.sync_engine()),
            "renderers": ["json"],
            "default_renderer": "json",
        }
    )
    return configurator.make_wsgi_app()
