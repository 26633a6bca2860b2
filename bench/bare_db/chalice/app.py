"""The smallest Chalice app that stores and reads one item in the database: the baseline.

Served by `chalice local` from this folder; bare_sql (bench/bare_db/, on PYTHONPATH) uses the
starter's engine settings (chalicelib.database, on PYTHONPATH too)."""

import bare_sql
from chalice.app import Chalice, NotFoundError, Response

app = Chalice(app_name="bare", configure_logs=False)
engine = bare_sql.sync_engine()


@app.route("/")
def index() -> dict[str, str]:
    return {"message": "Hello"}


@app.route("/items", methods=["POST"])
def create_item() -> Response:
    request = app.current_request
    assert request is not None  # noqa: S101
    name = request.json_body["name"]
    return Response(body={"id": bare_sql.add(engine, name), "name": name}, status_code=201)


@app.route("/items/{item_id}")
def read_item(item_id: str) -> dict[str, object]:
    name = bare_sql.get(engine, int(item_id))
    if name is None:
        raise NotFoundError
    return {"id": int(item_id), "name": name}
