"""The smallest Falcon app that stores and reads one item in the database: the baseline."""

import bare_sql
import falcon
from sqlalchemy import Engine


class Index:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"message": "Hello"}


class Items:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        name = req.get_media()["name"]
        resp.media = {"id": bare_sql.add(self.engine, name), "name": name}
        resp.status = falcon.HTTP_201

    def on_get_item(self, req: falcon.Request, resp: falcon.Response, item_id: int) -> None:
        name = bare_sql.get(self.engine, item_id)
        if name is None:
            raise falcon.HTTPNotFound
        resp.media = {"id": item_id, "name": name}


def create_app() -> falcon.App:  # type: ignore[type-arg]
    app = falcon.App()
    items = Items(bare_sql.sync_engine())
    app.add_route("/", Index())
    app.add_route("/items", items)
    app.add_route("/items/{item_id:int}", items, suffix="item")
    return app
