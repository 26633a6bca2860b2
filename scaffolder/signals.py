"""Signal handlers installed for the length of a block, the one way scaffolder does it.

`scaffold new` turns SIGTERM and SIGHUP into an exception (cleaned up as Ctrl-C is), holds
the stop signals back while a finished project moves into place, and `scaffold check` records
them for its main loop; each is `handling(signals, handler)` with its own handler.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from types import FrameType
from typing import Any

# What stops a run: Ctrl-C, `kill`, a closed terminal (those a platform has).
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)

Handler = Callable[[int, FrameType | None], Any]


@contextlib.contextmanager
def handling(signals: Iterable[int], handler: Handler) -> Iterator[None]:
    """Run `handler` for `signals` while the block runs, then restore the previous handlers.

    Only the main thread may install handlers; elsewhere (a library caller on a thread of its
    own) signals are left alone. A signal whose current handler was not installed from Python
    (`getsignal` is None) is left alone too: it could not be restored.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {
        signum: signal.signal(signum, handler)
        for signum in signals
        if signal.getsignal(signum) is not None
    }
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Hold back the stop signals for a short critical section, then deliver them.

    Python-level handlers, not a signal mask: Python runs handlers in the main thread whichever
    thread the signal reached (the progress spinner's, for one), so only this defers them all.
    """
    pending: list[int] = []
    try:
        with handling(STOP_SIGNALS, lambda signum, _frame: pending.append(signum)):
            yield
    finally:
        for signum in dict.fromkeys(pending):
            signal.raise_signal(signum)  # now handled as it would have been
