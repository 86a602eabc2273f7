"""The replica's explicit state: the `Role`, `Phase` and `PromiseState` enums, and `ReplicaState`, a
read-only picture of one replica for the simulator, the views and the invariant checkers (its states
stay enums all the way: a view compares ``state.phase is Phase.ACCEPT``, never a string)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Optional

from .ballot import Ballot
from .entries import StopSign


class Role(Enum):
    """Who I am in Sequence Paxos."""

    FOLLOWER = "Follower"
    LEADER = "Leader"

    def __repr__(self) -> str:
        return f"Role.{self.name}"


class Phase(Enum):
    """Where I am in my role: ``NONE`` (fresh), ``PREPARE`` (phase 1), ``ACCEPT`` (phase 2), or
    ``RECOVER`` (restarted or lost messages: asking the leader to prepare me again)."""

    NONE = "None"
    PREPARE = "Prepare"
    ACCEPT = "Accept"
    RECOVER = "Recover"

    def __repr__(self) -> str:
        return f"Phase.{self.name}"


class PromiseState(Enum):
    """What a leader knows of a member's promise for its ballot: ``NOT_PROMISED`` (not yet, or it
    asked to be prepared again), ``PROMISED``, or ``PROMISED_HIGHER`` (it promised a higher ballot)."""

    NOT_PROMISED = "NotPromised"
    PROMISED = "Promised"
    PROMISED_HIGHER = "PromisedHigher"

    def __repr__(self) -> str:
        return f"PromiseState.{self.name}"


@dataclass(frozen=True)
class ReplicaState:
    """A snapshot of one replica, taken by `OmniPaxos.inspect()`. Nothing here can change the replica.

    ``accepted_idx``, ``decided_idx`` and ``compacted_idx`` follow the OmniPaxos source's conventions (lengths
    from index 0; the StopSign slot counts once stored). ``n_leader`` is the ballot I lead (None when I
    am a follower); ``leader_accepted`` / ``leader_promised`` are what I, as leader, know of each member
(its accepted index; its `PromiseState`).
    ``ble_*`` is Ballot Leader Election's view: my own ballot, the ballot I follow, and my happiness.
    """

    pid: int
    configuration_id: int
    nodes: tuple
    role: Role
    phase: Phase
    promise: Ballot
    accepted_round: Ballot
    decided_idx: int
    accepted_idx: int
    compacted_idx: int
    stopsign: Optional[StopSign]
    n_leader: Optional[Ballot]
    ble_ballot: Ballot
    ble_leader: Ballot
    ble_happy: bool
    buffered_proposals: int
    buffered_stopsign: Optional[StopSign]
    batched: int
    leader_accepted: dict = field(default_factory=dict)
    leader_promised: dict = field(default_factory=dict)

    @property
    def stopsign_decided(self) -> bool:
        return self.stopsign is not None and self.decided_idx == self.accepted_idx


@dataclass(frozen=True)
class ClusterState:
    """The leader's view of the cluster, for dashboards: accepted index per pid and last heartbeats."""

    accepted_indexes: dict
    heartbeats: tuple


@dataclass(frozen=True)
class OmniPaxosStates:
    """What `OmniPaxos.get_ui_states()` returns."""

    current_ballot: Ballot
    current_leader: Optional[int]
    decided_idx: int
    heartbeats: tuple
    cluster_state: ClusterState
    extra: Any = None
