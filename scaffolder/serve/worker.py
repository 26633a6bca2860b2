"""Render one starter for `scaffold serve`, in a process of its own: `scaffold new`'s code path.

`python -m scaffolder.serve.worker` reads one JSON request on stdin (the template, the plan's
inputs, the destination) and prints one JSON line: `{"ok": true}` or the error's kind and
message. A process because Copier changes the process-wide working directory while it renders,
and because a render past its time limit is stopped by killing its process group.
"""

from __future__ import annotations

import json
import sys

from scaffolder.errors import ScaffoldError, UsageError
from scaffolder.project import create_from_request


def main() -> int:
    try:
        created = create_from_request(json.loads(sys.stdin.read()))
        answer = {"ok": True, "warnings": created.warnings}
    except ScaffoldError as exc:
        kind = "usage" if isinstance(exc, UsageError) else "failure"
        answer = {"ok": False, "kind": kind, "message": " ".join(str(exc).split())}
    print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
