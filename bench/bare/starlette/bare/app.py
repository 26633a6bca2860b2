"""The smallest Starlette app that answers GET / with JSON: the throughput baseline."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def index(request: Request) -> JSONResponse:
    return JSONResponse({"message": "Hello"})


def create_app() -> Starlette:
    return Starlette(routes=[Route("/", index)])
