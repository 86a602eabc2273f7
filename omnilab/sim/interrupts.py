"""Ctrl-C during a long cluster call: stop at the next clean point instead of mid-delivery.

`deferred()` is a context manager for the loops of ``Cluster.run``, ``tick`` and ``deliver_all``.
While it is active, the first SIGINT (Ctrl-C in a terminal, the kernel's "interrupt" in Jupyter) only
sets ``stop.requested``; the loop checks it between rounds, ticks or deliveries, records what it
completed (``Run(ticks=k)``, ``Tick(k)``, ``DeliverAll(limit=k)``) and raises `KeyboardInterrupt`,
so the trace describes exactly what ran and ``Cluster.replay(trace)`` rebuilds the same cluster. A
second SIGINT raises `KeyboardInterrupt` at once, wherever the loop is; the cluster then rebuilds
itself to its last clean point (`omnilab.sim.checkpoints.restore`).

Only the main thread receives signals, and a handler the program installed itself is left alone:
in either case the loop runs without deferral (a `KeyboardInterrupt` still leaves an exact trace,
through the rebuild).
"""

from __future__ import annotations

import signal
import threading
from typing import Any, Literal


class Stop:
    """``requested`` becomes True at the first SIGINT while `deferred` is active."""

    __slots__ = ("requested", "_previous", "_installed")

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None
        self._installed = False

    def _handler(self, signum: int, frame: Any) -> None:
        if self.requested:  # a second Ctrl-C: stop now
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> "Stop":
        if threading.current_thread() is threading.main_thread():
            current = signal.getsignal(signal.SIGINT)
            if current is signal.default_int_handler:
                self._previous = current
                signal.signal(signal.SIGINT, self._handler)
                self._installed = True
        return self

    def __exit__(self, *exc: Any) -> Literal[False]:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False
        return False


def deferred() -> Stop:
    """``with deferred() as stop:`` ... ``if stop.requested:`` (see the module docstring)."""
    return Stop()
