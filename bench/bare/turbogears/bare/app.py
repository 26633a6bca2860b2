"""The smallest TurboGears app that answers GET / with JSON: the throughput baseline."""

from typing import Any

from tg import MinimalApplicationConfigurator, TGController, expose


class RootController(TGController):
    @expose("json")
    def index(self) -> dict[str, str]:
        return {"message": "Hello"}


def create_app() -> Any:
    configurator = MinimalApplicationConfigurator()
    configurator.update_blueprint(
        {"root_controller": RootController(), "renderers": ["json"], "default_renderer": "json"}
    )
    return configurator.make_wsgi_app()
