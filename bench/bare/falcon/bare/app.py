"""The smallest Falcon app that answers GET / with JSON: the throughput baseline."""

import falcon


class Index:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"message": "Hello"}


def create_app() -> falcon.App:  # type: ignore[type-arg]
    app = falcon.App()
    app.add_route("/", Index())
    return app
