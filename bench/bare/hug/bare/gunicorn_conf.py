"""The starter's gunicorn settings, so that bare app and starter run under the same server."""

from shop.gunicorn_conf import *  # noqa: F403
