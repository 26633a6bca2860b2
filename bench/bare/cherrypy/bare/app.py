"""The smallest CherryPy app that answers GET / with JSON: the throughput baseline."""

from typing import Any

import cherrypy
from shop.logging_setup import configure_logging


class Root:
    @cherrypy.expose
    @cherrypy.tools.json_out()
    def index(self) -> dict[str, str]:
        return {"message": "Hello"}


def create_app(settings: Any = None) -> Any:
    # The starter's JSON logging (CherryPy's access log included), as the starter has it.
    configure_logging()
    cherrypy.config.update({"log.screen": False})
    return cherrypy.Application(Root(), script_name="")
