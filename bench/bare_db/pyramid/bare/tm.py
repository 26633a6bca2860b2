"""The smallest Pyramid app that stores and reads one item through Pyramid's database idiom:
pyramid_tm and zope.sqlalchemy, set up as the starter sets them up (one session factory joined
to the thread's `transaction.manager`, the statements on the session's connection).

Not served by bench/run: an in-process reference (bench/db_cost.py) that splits the starter's
database cost into the idiom's (this app against bare.app) and the starter's own (the starter
against this app). See bench/README.md, section 7."""

from typing import Any

import bare_sql
import transaction
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.router import Router
from shop.logging_setup import configure_logging
from sqlalchemy.orm import Session, sessionmaker
from zope.sqlalchemy import mark_changed, register

from bare.app import add_views


def create_app() -> Router:
    configure_logging()
    sessions = sessionmaker(bare_sql.sync_engine())
    register(sessions, transaction_manager=transaction.manager)

    def dbsession(request: Request) -> Session:
        return sessions()

    def add(request: Request) -> dict[str, Any]:
        name = request.json_body["name"]
        session = request.dbsession
        item_id = session.connection().execute(bare_sql.INSERT, {"name": name}).scalar_one()
        mark_changed(session)
        request.response.status_code = 201
        return {"id": item_id, "name": name}

    def get(request: Request) -> dict[str, Any]:
        item_id = int(request.matchdict["item_id"])
        connection = request.dbsession.connection()
        name = connection.execute(bare_sql.SELECT, {"item_id": item_id}).scalar()
        if name is None:
            request.response.status_code = 404
            return {"error": "not found"}
        return {"id": item_id, "name": name}

    with Configurator() as config:
        config.include("pyramid_tm")
        config.add_request_method(dbsession, "dbsession", reify=True)
        add_views(config, add, get)
    return config.make_wsgi_app()
