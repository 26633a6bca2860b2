"""The smallest aiohttp app that answers GET / with JSON: the throughput baseline."""

from aiohttp import web

routes = web.RouteTableDef()


@routes.get("/")
async def index(request: web.Request) -> web.Response:
    return web.json_response({"message": "Hello"})


def create_app() -> web.Application:
    app = web.Application()
    app.add_routes(routes)
    return app
