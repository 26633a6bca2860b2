"""The smallest FastAPI app that answers GET / with JSON: the throughput baseline."""

from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/")
    async def index() -> dict[str, str]:
        return {"message": "Hello"}

    return app
