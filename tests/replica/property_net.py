"""A tiny in-process network of replicas for the replica tests (no simulator: only omnilab.replica).

``Net([1, 2, 3])`` builds one replica per pid over its own storage (kept across crashes), collects
outgoing messages into an in-flight list, and lets a test deliver, drop, duplicate, cut directional
links, tick, crash and recover. Deliberately small and explicit; the course's real simulator lives
in omnilab.sim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional

from omnilab.replica.config import ClusterConfig, ServerConfig
from omnilab.replica.storage import MemoryStorage


@dataclass
class Net:
    nodes: list
    config_id: int = 1
    server_fields: dict = field(default_factory=dict)
    make_storage: Callable[[int], Any] = lambda pid: MemoryStorage()
    build: Optional[Callable[[Any, Any], Any]] = None  # (OmniPaxosConfig, storage) -> replica

    def __post_init__(self) -> None:
        self.storages = {p: self.make_storage(p) for p in self.nodes}
        self.omnis: dict = {}
        self.down: set = set()          # crashed pids
        self.cut_links: set = set()     # (sender, receiver) pairs whose messages are lost at send
        self.in_flight: list = []
        for p in self.nodes:
            self.omnis[p] = self._build(p)
        self.collect()

    # --- building -----------------------------------------------------------------------------

    def config_for(self, pid: int):
        from omnilab.replica.config import OmniPaxosConfig

        return OmniPaxosConfig(ClusterConfig(self.config_id, list(self.nodes)),
                               ServerConfig(pid=pid, **self.server_fields))

    def _build(self, pid: int):
        config = self.config_for(pid)
        if self.build is not None:
            return self.build(config, self.storages[pid])
        return config.build(self.storages[pid])

    # --- messages -----------------------------------------------------------------------------

    def collect(self) -> None:
        """Move every live replica's outgoing messages into the network (cut links lose them)."""
        for p in self.nodes:
            if p in self.down:
                continue
            for m in self.omnis[p].take_outgoing_messages():
                if (m.sender, m.receiver) not in self.cut_links:
                    self.in_flight.append(m)

    def deliver(self, i: int) -> None:
        m = self.in_flight.pop(i)
        if m.receiver in self.down or m.receiver not in self.omnis:
            return
        self.omnis[m.receiver].handle_incoming(m)
        self.collect()

    def deliver_all(self, limit: int = 100_000) -> None:
        """Collect what the replicas have sent so far, then deliver until nothing is in flight."""
        self.collect()
        for _ in range(limit):
            if not self.in_flight:
                return
            self.deliver(0)
        raise AssertionError("the network did not become quiet")

    def tick(self, pid: Optional[int] = None, times: int = 1) -> None:
        for _ in range(times):
            for p in ([pid] if pid is not None else self.nodes):
                if p not in self.down:
                    self.omnis[p].tick()
            self.collect()

    def run(self, ticks: int) -> None:
        """Tick every live node `ticks` times, delivering to quiescence around each tick."""
        self.deliver_all()
        for _ in range(ticks):
            self.tick()
            self.deliver_all()

    # --- faults -------------------------------------------------------------------------------

    def crash(self, pid: int) -> None:
        self.down.add(pid)

    def recover(self, pid: int) -> None:
        self.down.discard(pid)
        self.omnis[pid] = self._build(pid)
        self.collect()

    def cut(self, a: int, b: int) -> None:
        self.cut_links.add((a, b))

    def isolate(self, pid: int) -> None:
        for q in self.nodes:
            if q != pid:
                self.cut_links |= {(pid, q), (q, pid)}

    def heal(self) -> None:
        self.cut_links.clear()

    # --- reading ------------------------------------------------------------------------------

    def leader(self, pid: Optional[int] = None) -> Optional[int]:
        """The leader pid as `pid` (default: the first live node) sees it, or None."""
        pid = pid if pid is not None else next(p for p in self.nodes if p not in self.down)
        got = self.omnis[pid].get_current_leader()
        return None if got is None else got[0]

    def live(self) -> Iterable[int]:
        return [p for p in self.nodes if p not in self.down]
