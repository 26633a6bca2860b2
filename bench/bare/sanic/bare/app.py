"""The smallest Sanic app that answers GET / with JSON: the throughput baseline."""

from sanic import Request, Sanic
from sanic.response import HTTPResponse, json


def create_app() -> Sanic:
    app = Sanic("bare")

    @app.get("/")
    async def index(request: Request) -> HTTPResponse:
        return json({"message": "Hello"})

    return app
