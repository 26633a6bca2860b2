"""`python -m bare`: the starter's own entry point (shop/__main__.py: Twisted Web's Site on the
reactor, WEB_CONCURRENCY processes, production settings) serving the bare app, so that bare app
and starter run under the same server."""

from shop import __main__ as entry

from bare.app import create_app

entry.create_app = create_app
entry.main()
