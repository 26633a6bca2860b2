"""The smallest Bottle app that answers GET / with JSON: the throughput baseline."""

from bottle import Bottle


def create_app() -> Bottle:
    app = Bottle()

    @app.get("/")
    def index() -> dict[str, str]:
        return {"message": "Hello"}

    return app
