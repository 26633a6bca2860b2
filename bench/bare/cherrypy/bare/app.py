"""The smallest CherryPy app that answers GET / with JSON: the throughput baseline."""

from typing import Any

import cherrypy


class Root:
    @cherrypy.expose
    @cherrypy.tools.json_out()
    def index(self) -> dict[str, str]:
        return {"message": "Hello"}


def create_app(settings: Any = None) -> Any:
    return cherrypy.Application(Root(), script_name="")
