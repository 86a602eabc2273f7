"""A small deterministic driver that links OmniPaxos replicas for the ported reference suite.

It plays the Rust test harness without threads, clocks or randomness:

* Every replica is sans-IO. The driver takes a replica's outgoing messages with
  ``take_outgoing_messages()`` and hands each one to its receiver with ``handle_incoming()``.
* The network is one global FIFO queue, so every directed link is FIFO. Link cuts are *directional*
  and are applied at send time, when the driver takes a message out of its sender (as the Rust harness
  drops a message the moment an actor sends it to a "disconnected" pid). A message already in flight
  when a link is cut still arrives.
* ``deliver()`` runs the network to quiescence. Only ticks create new traffic (heartbeats, resends),
  so quiescence is always reached; a generous message budget turns a livelock into a clear failure.
* One tick = one election timeout (``election_tick_timeout = 1``). The reference's millisecond
  timeouts convert as in the reference tests: resend every 2 ticks, flush every 10 ticks, ``sleep(1 s)`` = 5
  ticks, ``wait_timeout`` 3000 ms = 15 ticks.
* ``tick(n)``: n times {tick every running replica in pid order, then deliver to quiescence}.
* Crash discards the replica object (and everything queued to it) and keeps its storage; ``recover``
  builds a new replica over that storage with the same configuration, so it starts in Recover.
  Pause keeps the object but stops ticking it and holds messages addressed to it until ``resume``.

By default the driver takes a replica's outgoing messages right after each message it handles and
after each driver verb ("each send flushes", the Rust timing). With ``take_after_each=False`` it takes
them only when the network has nothing else to deliver, which lets AcceptDecide/Accepted messages
coalesce (). Calling a replica's methods directly (``cluster.node(p).append(v)``) never moves
messages by itself; the next ``deliver()``/``tick()`` picks them up, unless the test takes them first.
"""

from __future__ import annotations

from collections import Counter, deque
from typing import Any, Callable, Iterable, Optional

from omnilab.replica.config import ClusterConfig, FlexibleQuorum, ServerConfig
from omnilab.replica.entries import LogEntry
from omnilab.replica.messages import BLEMessage, Message
from omnilab.replica.storage import MemoryStorage

#: Tick budgets converted from the reference's ``wait_timeout`` values (one tick = 200 ms).
WAIT_3000_MS = 15
WAIT_5000_MS = 25
WAIT_7000_MS = 35
WAIT_8000_MS = 40
#: ``thread::sleep(1 s)`` in the reconnect and recovery tests.
SLEEP_1_S = 5


class BudgetExceeded(AssertionError):
    """A driver wait ran out of ticks (or the network out of messages) before its condition held."""


class Cluster:
    """A set of OmniPaxos replicas joined by a deterministic in-memory network.

    ``Cluster(5)`` builds pids 1..5; ``Cluster([6, 7, 8])`` uses the given pids. All replicas share one
    `ClusterConfig` (``configuration_id=config_id``) and get ``ServerConfig(pid, election_tick_timeout,
    resend_message_tick_timeout=resend_ticks, flush_batch_tick_timeout=flush_ticks, batch_size)``.
    ``storage_factory(pid)`` makes each replica's storage (default: `MemoryStorage`); with
    ``reopen_storage=True`` a recovering replica gets a fresh ``storage_factory(pid)`` object instead
    of the surviving one (a file-backed storage reopened after a process restart).

    The constructor delivers the start-up heartbeats (round 1) but does not tick, so appends made
    right after construction happen "before the nodes start" in the reference's sense: no replica
    knows a leader yet.
    """

    def __init__(
        self,
        pids: int | Iterable[int] = 3,
        *,
        config_id: int = 1,
        election_ticks: int = 1,
        resend_ticks: int = 2,
        flush_ticks: int = 10,
        batch_size: int = 1,
        flexible_quorum: Optional[FlexibleQuorum] = None,
        priorities: Optional[dict[int, int]] = None,
        storage_factory: Optional[Callable[[int], Any]] = None,
        reopen_storage: bool = False,
        take_after_each: bool = True,
        max_messages_per_delivery: int = 2_000_000,
    ) -> None:
        self.pids: list[int] = list(range(1, pids + 1)) if isinstance(pids, int) else list(pids)
        self.cluster_config = ClusterConfig(configuration_id=config_id, nodes=list(self.pids),
                                            flexible_quorum=flexible_quorum)
        self.server_configs = {
            pid: ServerConfig(pid=pid, election_tick_timeout=election_ticks,
                              resend_message_tick_timeout=resend_ticks,
                              flush_batch_tick_timeout=flush_ticks, batch_size=batch_size,
                              leader_priority=(priorities or {}).get(pid, 0))
            for pid in self.pids
        }
        self.storage_factory = storage_factory or (lambda pid: MemoryStorage())
        self.reopen_storage = reopen_storage
        self.take_after_each = take_after_each
        self.max_messages_per_delivery = max_messages_per_delivery

        self.storages: dict[int, Any] = {pid: self.storage_factory(pid) for pid in self.pids}
        self.nodes: dict[int, Any] = {}
        self.crashed: set[int] = set()
        self.paused: set[int] = set()
        self.cut_links: set[tuple[int, int]] = set()
        self.queue: deque[Message] = deque()
        self.held: dict[int, list[Message]] = {}
        #: messages taken from replicas, by kind: "sp" (Sequence Paxos) and "ble"; and how many a cut dropped.
        self.sent: Counter = Counter()
        self.sent_by_type: Counter = Counter()
        self.dropped = 0
        self.ticks = 0
        for pid in self.pids:
            self.nodes[pid] = self._build(pid)
        self.deliver()

    @classmethod
    def from_instances(cls, instances: dict[int, Any], **kwargs: Any) -> "Cluster":
        """Wrap replicas that were built elsewhere (e.g. a next configuration started from a StopSign).

        Links, pauses, ticks and `crash` work as usual; `recover` does not (the driver does not know
        how those replicas were configured).
        """
        cluster = cls.__new__(cls)
        cluster.pids = sorted(instances)
        cluster.cluster_config = None
        cluster.server_configs = {}
        cluster.storage_factory = None
        cluster.reopen_storage = False
        cluster.take_after_each = kwargs.get("take_after_each", True)
        cluster.max_messages_per_delivery = kwargs.get("max_messages_per_delivery", 2_000_000)
        cluster.storages = {pid: getattr(op, "storage", None) for pid, op in instances.items()}
        cluster.nodes = dict(instances)
        cluster.crashed, cluster.paused, cluster.cut_links = set(), set(), set()
        cluster.queue, cluster.held = deque(), {}
        cluster.sent, cluster.sent_by_type, cluster.dropped, cluster.ticks = Counter(), Counter(), 0, 0
        cluster.deliver()
        return cluster

    def _build(self, pid: int) -> Any:
        return self.cluster_config.build_for_server(self.server_configs[pid], self.storages[pid])

    # --- who is there --------------------------------------------------------------------------------

    def node(self, pid: int) -> Any:
        """The live replica of `pid` (paused replicas included); fails clearly if it is crashed."""
        if pid in self.crashed:
            raise AssertionError(f"node {pid} is crashed; recover({pid}) first")
        return self.nodes[pid]

    def alive(self) -> list[int]:
        """Pids that are not crashed (paused ones included), ascending."""
        return [p for p in self.pids if p not in self.crashed]

    def running(self) -> list[int]:
        """Pids that are neither crashed nor paused, ascending: the ones that tick and handle messages."""
        return [p for p in self.pids if p not in self.crashed and p not in self.paused]

    # --- the network ---------------------------------------------------------------------------------

    def take(self, pid: int) -> None:
        """Take `pid`'s outgoing messages and send them (cuts apply now, at send time)."""
        for msg in self.nodes[pid].take_outgoing_messages():
            self.send(msg)

    def send(self, msg: Message) -> None:
        """Put `msg` on the network as if its sender had just sent it (cuts apply now)."""
        kind = "ble" if isinstance(msg, BLEMessage) else "sp"
        self.sent[kind] += 1
        self.sent_by_type[type(msg.msg).__name__] += 1
        if (msg.sender, msg.receiver) in self.cut_links or msg.receiver in self.crashed \
                or msg.receiver not in self.nodes:
            self.dropped += 1
            return
        self.queue.append(msg)

    def _take_running(self) -> None:
        for pid in self.running():
            self.take(pid)

    def step(self) -> Optional[Message]:
        """Deliver the oldest deliverable message and return it (None when the network is quiet).

        Messages to a paused replica are set aside until `resume`; messages to a crashed one are lost.
        """
        while True:
            if not self.queue:
                self._take_running()
                if not self.queue:
                    return None
            msg = self.queue.popleft()
            receiver = msg.receiver
            if receiver in self.crashed or receiver not in self.nodes:
                self.dropped += 1
                continue
            if receiver in self.paused:
                self.held.setdefault(receiver, []).append(msg)
                continue
            self.nodes[receiver].handle_incoming(msg)
            if self.take_after_each:
                self.take(receiver)
            return msg

    def deliver(self) -> int:
        """Run the network to quiescence; returns how many messages were handled."""
        handled = 0
        while self.step() is not None:
            handled += 1
            if handled > self.max_messages_per_delivery:
                raise BudgetExceeded(f"the network did not quiesce within {handled} deliveries (livelock?)")
        return handled

    def run_until(self, predicate: Callable[[], bool], *, what: str = "condition",
                  max_steps: int = 100_000) -> None:
        """Deliver one message at a time until `predicate()` holds (checked before every step)."""
        for _ in range(max_steps):
            if predicate():
                return
            if self.step() is None:
                break
        if not predicate():
            raise BudgetExceeded(f"{what} did not hold before the network went quiet "
                                 f"(or within {max_steps} deliveries)")

    # --- links ---------------------------------------------------------------------------------------

    def cut(self, sender: int, receiver: int) -> None:
        """Drop every message `sender` sends to `receiver` from now on (one direction only)."""
        self.cut_links.add((sender, receiver))

    def restore(self, sender: int, receiver: int) -> None:
        """Undo `cut(sender, receiver)`."""
        self.cut_links.discard((sender, receiver))

    def disconnect(self, pid: int) -> None:
        """Cut both directions between `pid` and every other node (Rust ``set_node_connections(pid, false)``)."""
        for q in self.pids:
            if q != pid:
                self.cut_links.update({(pid, q), (q, pid)})

    def reconnect(self, pid: int) -> None:
        """Restore both directions between `pid` and every other node."""
        for q in self.pids:
            self.cut_links.discard((pid, q))
            self.cut_links.discard((q, pid))

    def set_topology(self, links: Iterable[tuple[int, int]]) -> None:
        """Keep exactly the undirected `links` (``(a, b)`` = both directions) up; cut every other pair."""
        up = {frozenset(link) for link in links}
        self.cut_links = {(a, b) for a in self.pids for b in self.pids
                          if a != b and frozenset((a, b)) not in up}

    def heal(self) -> None:
        """Bring every link back up."""
        self.cut_links.clear()

    # --- time, crashes, pauses -----------------------------------------------------------------------

    def tick(self, n: int = 1, *, deliver: bool = True) -> None:
        """`n` times: tick every running replica (ascending pid), then deliver to quiescence.

        With ``deliver=False`` the messages the ticks created are sent but not delivered (for tests
        that then `step` through them).
        """
        for _ in range(n):
            for pid in self.running():
                self.nodes[pid].tick()
                if self.take_after_each:
                    self.take(pid)
            self.ticks += 1
            if deliver:
                self.deliver()

    def crash(self, pid: int) -> None:
        """Discard `pid`'s replica and everything in flight to it; its storage survives."""
        self.nodes.pop(pid, None)
        self.crashed.add(pid)
        self.paused.discard(pid)
        self.held.pop(pid, None)
        self.queue = deque(m for m in self.queue if m.receiver != pid)
        if self.reopen_storage:
            close = getattr(self.storages[pid], "close", None)
            if callable(close):
                close()

    def recover(self, pid: int) -> Any:
        """Build a new replica for crashed `pid` over its surviving storage (it starts in Recover).

        Its start-up messages (PrepareReqs, heartbeats) are sent at the next `deliver`/`tick`.
        """
        assert pid in self.crashed, f"node {pid} is not crashed"
        if self.reopen_storage:
            self.storages[pid] = self.storage_factory(pid)
        self.crashed.discard(pid)
        self.nodes[pid] = self._build(pid)
        return self.nodes[pid]

    def pause(self, pid: int) -> None:
        """Stop ticking `pid` and hold the messages sent to it; its in-memory state is kept."""
        self.paused.add(pid)

    def resume(self, pid: int) -> None:
        """Undo `pause`: the held messages are delivered first, in their original order."""
        self.paused.discard(pid)
        self.queue.extendleft(reversed(self.held.pop(pid, [])))

    # --- client verbs --------------------------------------------------------------------------------

    def append(self, pid: int, value: Any) -> None:
        """``append(value)`` at `pid`, then deliver to quiescence. ProposeErr propagates."""
        self.node(pid).append(value)
        self.take(pid)
        self.deliver()

    def reconfigure(self, pid: int, new_config: ClusterConfig, metadata: Any = None) -> None:
        """``reconfigure(new_config, metadata)`` at `pid`, then deliver to quiescence."""
        self.node(pid).reconfigure(new_config, metadata=metadata)
        self.take(pid)
        self.deliver()

    def wait_until(self, predicate: Callable[[], bool], *, budget: int, what: str) -> int:
        """Tick until `predicate()` holds, at most `budget` ticks; returns the ticks used.

        Raises `BudgetExceeded` naming `what` when the budget runs out.
        """
        for used in range(budget + 1):
            if predicate():
                return used
            if used < budget:
                self.tick()
        raise BudgetExceeded(f"{what} did not happen within {budget} ticks")

    def make_proposals(self, pid: int, values: list, *, decided_at: Optional[int] = None,
                       budget: int = WAIT_3000_MS) -> None:
        """Append each of `values` at `pid` (delivering after each), then tick until all of them are
        decided at `decided_at` (default `pid`), within `budget` ticks (Rust ``make_proposals``)."""
        watcher = pid if decided_at is None else decided_at
        for v in values:
            self.append(pid, v)
        wanted = set(values)
        self.wait_until(lambda: wanted <= set(self.decided_values(watcher)), budget=budget,
                        what=f"deciding {len(values)} proposals made at node {pid} (checked at node {watcher})")

    # --- leaders -------------------------------------------------------------------------------------

    def leader_of(self, pid: int) -> Optional[int]:
        """The leader `pid` currently follows (its promise pid), or None."""
        current = self.node(pid).get_current_leader()
        return None if current is None else current[0]

    def elected_leader(self, pid: int, budget: int = WAIT_3000_MS) -> int:
        """`pid`'s promised leader, ticking until it has one (Rust ``get_elected_leader``)."""
        self.wait_until(lambda: self.leader_of(pid) is not None, budget=budget,
                        what=f"node {pid} learning of a leader")
        return self.leader_of(pid)

    def next_leader(self, pid: int, budget: int = WAIT_3000_MS) -> int:
        """Tick until `pid`'s promise grows, then return its leader (Rust ``get_next_leader``)."""
        before = self.node(pid).get_promise()
        self.wait_until(lambda: self.node(pid).get_promise() > before, budget=budget,
                        what=f"node {pid} promising a new leader")
        return self.leader_of(pid)

    def force_leader_change(self, new_leader: int, budget: int = WAIT_3000_MS) -> None:
        """Elect `new_leader` by a star around it (): cut every link, bring back only the links of
        `new_leader`, tick until it leads in its own view, then bring every link back up."""
        self.set_topology((new_leader, q) for q in self.pids if q != new_leader)
        self.wait_until(lambda: self.leader_of(new_leader) == new_leader, budget=budget,
                        what=f"node {new_leader} being elected in a star around it")
        self.heal()

    # --- reading logs --------------------------------------------------------------------------------

    def decided_log(self, pid: int) -> list:
        """``read_decided_suffix(0)`` of `pid` as a list ([] when nothing is decided)."""
        return list(self.node(pid).read_decided_suffix(0) or [])

    def decided_values(self, pid: int) -> list:
        """The values decided at `pid` in log order: Decided entries and the contents of a
        Snapshotted prefix (its ``snapshotted`` list, when the snapshot keeps one). StopSigns skipped."""
        out: list = []
        for e in self.decided_log(pid):
            match e:
                case LogEntry.Decided(v):
                    out.append(v)
                case LogEntry.Snapshotted(se):
                    out.extend(getattr(se.snapshot, "snapshotted", []))
        return out

    def decided_idx(self, pid: int) -> int:
        return self.node(pid).get_decided_idx()
