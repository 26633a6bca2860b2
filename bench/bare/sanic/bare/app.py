"""The smallest Sanic app that answers GET / with JSON: the throughput baseline."""

from sanic import Request, Sanic
from sanic.response import HTTPResponse, json


def create_app() -> Sanic:
    app = Sanic("bare")
    # Like the starter: one access line per request (Sanic logs none outside debug mode unless
    # told), here in Sanic's own plain-text format.
    app.config.ACCESS_LOG = True

    @app.get("/")
    async def index(request: Request) -> HTTPResponse:
        return json({"message": "Hello"})

    return app
