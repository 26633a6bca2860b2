"""The starter's Hypercorn settings, so that bare app and starter run under the same server."""

from shop.hypercorn_conf import *  # noqa: F403
