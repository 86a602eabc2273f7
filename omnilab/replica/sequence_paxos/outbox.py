"""The outgoing message list of Sequence Paxos, with coalescing.

Between two `take` calls, consecutive appends extend the AcceptDecide already waiting for a follower
instead of queuing a new one (one sequence number for the lot), and a follower's new Accepted
overwrites the one it has not sent yet. Those two messages therefore wait here as mutable *drafts*;
`take` freezes every draft into its immutable message and ends coalescing.
"""

from __future__ import annotations

from typing import Union

from ..ballot import Ballot, SequenceNumber
from ..messages import AcceptDecide, Accepted, PaxosMessage


class AcceptDecideDraft:
    """An AcceptDecide still in the outbox: more entries may join it and its decided index may rise."""

    __slots__ = ("receiver", "n", "seq_num", "decided_idx", "entries")

    def __init__(self, receiver: int, n: Ballot, seq_num: SequenceNumber, decided_idx: int, entries: list):
        self.receiver, self.n, self.seq_num = receiver, n, seq_num
        self.decided_idx, self.entries = decided_idx, list(entries)

    def freeze(self) -> AcceptDecide:
        return AcceptDecide(self.n, self.seq_num, self.decided_idx, tuple(self.entries))


class AcceptedDraft:
    """An Accepted still in the outbox: a newer accepted index replaces the one it carries."""

    __slots__ = ("receiver", "n", "accepted_idx")

    def __init__(self, receiver: int, n: Ballot, accepted_idx: int):
        self.receiver, self.n, self.accepted_idx = receiver, n, accepted_idx

    def freeze(self) -> Accepted:
        return Accepted(self.n, self.accepted_idx)


Draft = Union[AcceptDecideDraft, AcceptedDraft]


class Outbox:
    """Messages I created since the last `take`, in creation order."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._items: list = []  # (receiver, msg) pairs or drafts

    def send(self, receiver: int, msg) -> None:
        self._items.append((receiver, msg))

    def add_draft(self, draft: Draft) -> Draft:
        self._items.append(draft)
        return draft

    def __len__(self) -> int:
        return len(self._items)

    def take(self) -> list[PaxosMessage]:
        """Hand over everything, freezing drafts. The caller must forget its draft pointers."""
        items, self._items = self._items, []
        pid = self.pid
        out = []
        for item in items:
            if isinstance(item, tuple):
                out.append(PaxosMessage(pid, item[0], item[1]))
            else:
                out.append(PaxosMessage(pid, item.receiver, item.freeze()))
        return out
