"""The in-notebook network: every message in flight, with a stable id, and the state of each link.

Rules it keeps:

* Every message gets the next integer id when it is sent; ids are never reused.
* In-flight messages are kept in send order, so delivering "the oldest" is FIFO on every link.
  Any message may still be delivered out of order by its id (reordering).
* Links are directional. A message sent on a cut link is dropped *at send time* (the cluster records
  it as a `Dropped` event); a message already in flight when its link is cut still arrives, as on a
  real wire and in the reference test harness (OmniPaxos' test utilities).
* An `Envelope` carries the configuration id of the instance that sent it, so a message of an old
  configuration's instance can never be handed to a newer instance of the receiver.

The network never calls a replica: the `Cluster` sends through `Network.send`, takes envelopes out
and delivers them.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, NamedTuple, Optional

from omnilab.replica.messages import Message

from .trace import Dropped, Event, Sent


class Envelope(NamedTuple):
    """One message on the wire: ``id``, ``sender`` -> ``receiver``, the sender's ``config_id``, and the
    ``message`` (a replica `Message` or a reconfiguration-service message). Immutable (a named
    tuple: every message in flight gets one, so it must be cheap to make)."""

    id: int
    sender: int
    receiver: int
    config_id: int
    message: Any

    @property
    def payload(self) -> Any:
        """The protocol message itself (inside the replica's `PaxosMessage`/`BLEMessage` wrapper)."""
        message = self.message
        return message.msg if isinstance(message, Message) else message

    @property
    def kind(self) -> str:
        """The payload's class name, e.g. ``"Prepare"`` or ``"StateTransfer"``."""
        return type(self.payload).__name__

    def __repr__(self) -> str:
        return f"#{self.id} {self.sender}->{self.receiver} c{self.config_id} {self.payload!r}"


class Network:
    """In-flight envelopes (oldest first) and the set of cut directional links."""

    def __init__(self) -> None:
        #: id -> envelope, in send order (dicts keep insertion order).
        self.in_flight: dict[int, Envelope] = {}
        #: directional links ``(sender, receiver)`` that drop what is sent on them.
        self.cut_links: set[tuple[int, int]] = set()
        self.next_id = 1

    def __len__(self) -> int:
        return len(self.in_flight)

    def __contains__(self, msg_id: object) -> bool:
        return msg_id in self.in_flight

    def __iter__(self) -> Iterator[Envelope]:
        return iter(self.in_flight.values())

    def send(self, sender: int, receiver: int, config_id: int, message: Any) -> Event:
        """Put `message` on the wire with the next id, or drop it at once if the link `sender` ->
        `receiver` is cut. Returns what happened: `Sent` or `Dropped` (the cluster records it)."""
        msg_id = self.next_id
        self.next_id = msg_id + 1
        env = Envelope(msg_id, sender, receiver, config_id, message)
        cut_links = self.cut_links
        if cut_links and (sender, receiver) in cut_links:
            return Dropped(env, f"link {sender}->{receiver} is cut")
        self.in_flight[msg_id] = env
        return Sent(env)

    def envelope(self, sender: int, receiver: int, config_id: int, message: Any) -> Envelope:
        """A new envelope with the next id (not yet in flight)."""
        env = Envelope(self.next_id, sender, receiver, config_id, message)
        self.next_id += 1
        return env

    def is_up(self, sender: int, receiver: int) -> bool:
        return (sender, receiver) not in self.cut_links

    def put(self, env: Envelope) -> None:
        self.in_flight[env.id] = env

    def oldest_id(self) -> Optional[int]:
        for msg_id in self.in_flight:
            return msg_id
        return None

    def take(self, msg_id: int) -> Envelope:
        """Remove and return the envelope `msg_id` (KeyError if it is not in flight)."""
        return self.in_flight.pop(msg_id)

    def get(self, msg_id: int) -> Optional[Envelope]:
        return self.in_flight.get(msg_id)

    # --- links ---------------------------------------------------------------------------------------

    def cut(self, a: int, b: int, one_way: bool = False) -> None:
        self.cut_links.add((a, b))
        if not one_way:
            self.cut_links.add((b, a))

    def restore(self, a: int, b: int) -> None:
        self.cut_links.discard((a, b))
        self.cut_links.discard((b, a))

    def partition(self, groups: Iterable[Iterable[int]]) -> None:
        """Cut every link between different groups (both ways); links inside a group are up."""
        group_of = {pid: g for g, members in enumerate(groups) for pid in members}
        self.cut_links = {(a, b) for a in group_of for b in group_of
                          if a != b and group_of[a] != group_of[b]}

    def heal(self) -> None:
        self.cut_links.clear()
