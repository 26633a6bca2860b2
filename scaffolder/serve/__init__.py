"""`scaffold serve`: a web initializr and a typed metadata API over the library the CLI uses.

- `selection.py`: query parameters -> a checked selection, through `scaffolder.project.plan`
  (so every refusal is the CLI's own message), plus its share link and `scaffold new` line.
- `renderer.py`: renders a selection in a worker process of its own (Copier changes the working
  directory; a process can be killed at the time limit), each in its own temporary folder that
  is removed after; bounded concurrency with a queue limit; a cache keyed by the answers and the
  template's commit; zip and tar.gz archives that keep executable bits.
- `worker.py`: the worker process (`python -m scaffolder.serve.worker`).
- `app.py`: the Starlette application (routes, JSON errors, request-size limits).
- `page.py`: the page (`GET /`): plain HTML, usable without JavaScript, and a little script.
"""
