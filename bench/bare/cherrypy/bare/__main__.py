"""`python -m bare`: the starter's own entry point (shop/__main__.py: CherryPy's engine, Cheroot
with the starter's threads, production settings) and its JSON logging, serving the bare app,
so that bare app and starter run under the same server."""

from typing import Any

from shop import __main__ as entry
from shop.logging_setup import configure_logging

from bare.app import create_app


def create_logged_app(settings: Any) -> Any:
    configure_logging(settings.log_level)  # the access log, as the starter writes it
    return create_app()


entry.create_app = create_logged_app
entry.main()
