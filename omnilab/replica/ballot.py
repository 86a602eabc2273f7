"""Ballots and accept-sequence numbers: the two ordered values of the protocol.

A `Ballot` names a round of leadership. OmniPaxos orders ballots by ``(n, priority, pid)`` and
ignores ``config_id`` when ordering, but two ballots are *equal* only when all four fields agree.
So two ballots of different configurations can be "neither less nor greater" yet unequal; the
replica uses both kinds of comparison on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, eq=False, order=False)
class Ballot:
    """A leader's round: ``Ballot(config_id, n, priority, pid)``; the default is all zeros.

    Ordering (``<``, ``<=``, ``>``, ``>=``) compares ``(n, priority, pid)``; equality and hashing use
    all four fields, ``config_id`` included.
    """

    config_id: int = 0
    n: int = 0
    priority: int = 0
    pid: int = 0

    def _order_key(self) -> tuple[int, int, int]:
        return (self.n, self.priority, self.pid)

    def same_round(self, other: "Ballot") -> bool:
        """True when `other` is the same round of leadership: equal ``(n, priority, pid)``, whatever
        the configuration. (``==`` also compares ``config_id``.)"""
        return self._order_key() == other._order_key()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Ballot):
            return NotImplemented
        return (self.config_id, self.n, self.priority, self.pid) == (
            other.config_id, other.n, other.priority, other.pid)

    def __hash__(self) -> int:
        return hash((self.config_id, self.n, self.priority, self.pid))

    def __lt__(self, other: Ballot) -> bool:
        return self._order_key() < other._order_key()

    def __le__(self, other: Ballot) -> bool:
        return self._order_key() <= other._order_key()

    def __gt__(self, other: Ballot) -> bool:
        return self._order_key() > other._order_key()

    def __ge__(self, other: Ballot) -> bool:
        return self._order_key() >= other._order_key()

    def __repr__(self) -> str:
        return f"Ballot(config_id={self.config_id}, n={self.n}, priority={self.priority}, pid={self.pid})"

    def short(self) -> str:
        """Compact form for tables: ``n.pid`` (and ``/pPRIO`` when the priority is set)."""
        prio = f"/p{self.priority}" if self.priority else ""
        return f"{self.n}.{self.pid}{prio}"


@dataclass(frozen=True, order=True)
class SequenceNumber:
    """Position of a message in a leader's accept stream to one follower.

    A new AcceptSync starts a new ``session``; each AcceptDecide, Decide and AcceptStopSign sent after
    it takes the next ``counter``. Ordered lexicographically, session first.
    """

    session: int = 0
    counter: int = 0
