"""Errors the simulator raises.

Two families. `BadInput` is a call the cluster cannot carry out as asked (an unknown pid, crashing a
node that is already down, a message id that is no longer in flight, ...): the message says what to
do instead, and the cluster is left exactly as it was (nothing is recorded in the trace; the checks
run before anything changes, `omnilab.sim.validation`).
`InvariantViolation` is raised by ``Cluster(check_every_step=True)`` after the first operation that
broke a safety invariant; it carries the failed verdicts and the trace that led there.

A proposal the replica refuses is neither: it is the replica's own ``ProposeErr``, recorded in the
trace and re-raised to the caller unchanged.
"""

from __future__ import annotations

from typing import Any


class SimulationError(Exception):
    """Base class of the simulator's own errors."""


class BadInput(SimulationError, ValueError):
    """A call the cluster cannot carry out; the cluster is unchanged. The message says what to do."""


class UnknownNode(BadInput, KeyError):
    """No server has that pid."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class NodeDown(BadInput):
    """The server is crashed, so it cannot do what was asked."""


class NodeUp(BadInput):
    """The server is running, so it cannot be recovered."""


class NotStarted(BadInput):
    """The server waits for its state transfer and runs no instance yet."""


class UnknownMessageId(BadInput, KeyError):
    """No in-flight message has that id (it was delivered or dropped, or never existed)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class NothingInFlight(BadInput):
    """`step()` was called while no message is in flight."""


class NoLeader(BadInput):
    """A client call needs a leader and the live members do not agree on one."""


class InvalidConfiguration(BadInput):
    """A `reconfigure` or `Cluster(...)` argument that can never work."""


class NothingToUndo(BadInput):
    """`undo()` with no operation after the cluster was created."""


class NoQuiescence(SimulationError):
    """Delivering to quiescence did not end within the message budget (a livelock). The trace
    records what ran: ``deliver_all(limit=...)`` with the deliveries made, or a `run` cut back to
    the rounds it completed, so ``Cluster.replay(trace)`` rebuilds the same cluster."""


class InvariantViolation(SimulationError, AssertionError):
    """A safety invariant failed. ``.verdicts`` are the failed verdicts, ``.trace`` the way there
    (replay it with ``Cluster.replay(err.trace)``)."""

    def __init__(self, verdicts: list, trace: Any) -> None:
        self.verdicts = list(verdicts)
        self.trace = trace
        lines = [f"{v.name}: {v.message}" for v in self.verdicts]
        super().__init__("invariant violated after operation "
                         f"{len(trace.operations()) - 1}:\n  " + "\n  ".join(lines)
                         + "\nReplay it with Cluster.replay(err.trace); err.trace.script() prints the calls.")
