"""The smallest Chalice app that answers GET / with JSON: the throughput baseline.

A root layout: `chalice local` serves it from this folder (bench.py runs it here), as the starter
is served from its own root."""

from chalice.app import Chalice

app = Chalice(app_name="bare", configure_logs=False)


@app.route("/")
def index() -> dict[str, str]:
    return {"message": "Hello"}
