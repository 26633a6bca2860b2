"""Render one `scaffold check` case in a process of its own: `scaffold new`'s code path.

`python -m scaffolder.check.render_worker REQUEST_JSON` plans and creates the starter that the
request describes and prints one line, `scaffold-check-result: {...}`: whether it was created,
whether its uv.lock was written, and the messages a user of `scaffold new` would have seen.

Why a process: Copier changes the process-wide working directory while it renders, so renders
on threads of one process interfere (see `scaffolder.check.steps`). Here one process renders
one case, and the check process that starts it never imports Copier.
"""

from __future__ import annotations

import json
import sys

from scaffolder.check.steps import RESULT_MARKER
from scaffolder.errors import ScaffoldError
from scaffolder.project import create_from_request


def main(argv: list[str]) -> int:
    try:
        created = create_from_request(json.loads(argv[0]))
        answer = {"ok": True, "locked": created.locked, "messages": created.warnings}
    except ScaffoldError as exc:
        answer = {"ok": False, "locked": False, "messages": [str(exc)]}
    print(RESULT_MARKER + json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
