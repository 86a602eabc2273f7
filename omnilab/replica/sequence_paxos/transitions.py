"""Every change of (role, phase) a Sequence Paxos replica can make, as data.

`SequencePaxos.set_state` refuses any change that is not listed here, so this table is the truth
about the replica's state machine: the views draw the role/phase diagram from it, and a test drives
the replica through many schedules and checks that only these transitions occur.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..state import Phase, Role

F, L = Role.FOLLOWER, Role.LEADER
ALL_STATES = ((F, Phase.NONE), (F, Phase.PREPARE), (F, Phase.ACCEPT), (F, Phase.RECOVER),
              (L, Phase.PREPARE), (L, Phase.ACCEPT))
FOLLOWING = ((F, Phase.PREPARE), (F, Phase.ACCEPT), (F, Phase.RECOVER))

#: The state a replica starts in: fresh storage, or storage that holds a promise (recovery).
INITIAL_STATES = {"fresh": (F, Phase.NONE), "rebuilt from storage": (F, Phase.RECOVER)}


@dataclass(frozen=True)
class Transition:
    """From any of `sources` to `target` when `trigger` happens (handled by `handler`)."""

    sources: tuple
    target: tuple
    trigger: str
    handler: str


TRANSITIONS: tuple[Transition, ...] = (
    Transition(ALL_STATES, (L, Phase.PREPARE), "BLE elects me (or try_become_leader) with a higher ballot",
               "handle_leader"),
    Transition(ALL_STATES, (F, Phase.PREPARE),
               "Prepare with a higher ballot (or equal, while recovering or accepting)", "handle_prepare"),
    Transition(((L, Phase.PREPARE),), (L, Phase.ACCEPT), "a read quorum promised", "handle_majority_promises"),
    Transition(((F, Phase.PREPARE),), (F, Phase.ACCEPT), "AcceptSync from my leader", "handle_acceptsync"),
    Transition(FOLLOWING, (F, Phase.RECOVER), "lost messages from my leader (sequence gap, reconnected)",
               "reconnected"),
    Transition(((F, Phase.PREPARE),), (F, Phase.RECOVER), "resend timeout without a promise to resend",
               "resend_message_timeout"),
)

ALLOWED = frozenset((source, t.target) for t in TRANSITIONS for source in t.sources)


class IllegalTransition(AssertionError):
    """The replica tried a (role, phase) change that TRANSITIONS does not list: a bug in omnilab."""
