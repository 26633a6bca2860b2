"""The smallest CherryPy app that stores and reads one item in the database: the baseline."""

from typing import Any

import bare_sql
import cherrypy
from shop.logging_setup import configure_logging


class Root:
    def __init__(self) -> None:
        self.engine = bare_sql.sync_engine()

    @cherrypy.expose
    @cherrypy.tools.json_out()
    def index(self) -> dict[str, str]:
        return {"message": "Hello"}

    @cherrypy.expose
    @cherrypy.tools.json_in()
    @cherrypy.tools.json_out()
    def items(self, item_id: str | None = None) -> dict[str, Any]:
        if item_id is None:  # POST /items
            name = cherrypy.request.json["name"]
            cherrypy.response.status = 201
            return {"id": bare_sql.add(self.engine, name), "name": name}
        found = bare_sql.get(self.engine, int(item_id))
        if found is None:
            cherrypy.response.status = 404
            return {"error": "not found"}
        return {"id": int(item_id), "name": found}


def create_app(settings: Any = None) -> Any:
    # The starter's JSON logging (CherryPy's access log included), as the starter has it.
    configure_logging()
    cherrypy.config.update({"log.screen": False})
    return cherrypy.Application(Root(), script_name="")
