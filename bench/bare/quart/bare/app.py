"""The smallest Quart app that answers GET / with JSON: the throughput baseline."""

from quart import Quart


def create_app() -> Quart:
    app = Quart(__name__)

    @app.get("/")
    async def index() -> dict[str, str]:
        return {"message": "Hello"}

    return app
