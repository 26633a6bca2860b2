"""The smallest Flask app that answers GET / with JSON: the throughput baseline."""

from flask import Flask


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def index() -> dict[str, str]:
        return {"message": "Hello"}

    return app
