"""Exercise 4, the reconfiguration service: the application's loop over the decided log.

This is the loop of the OmniPaxos reconfiguration documentation, run by every server after anything
that may have decided something: read the decided suffix from where I stopped; apply each decided
entry to the key-value store; on ``LogEntry.StopSign(stopsign, True)`` start my instance of the next
configuration with ``build_for_server`` if I am a member (else retire), and tell the servers new in
it to start (they never see the StopSign). The learner writes it as ``apply_decided`` in a subclass
of `BlankReconfigurationService`, the variant's ``service``: every server runs one, as ``self``. The
simulator's bookkeeping (the events the trace records, the evidence the invariants read, client
responses) is done by the service's helpers, which the answer calls: ``self.apply_entry``,
``self.record_stopsign``, ``self.apply_compacted``, ``self.start_next_instance``, ``self.retire``
and ``self.tell_new_nodes`` (`omnilab.sim.service.ReconfigurationService`).

The checks replace crashed node 3 with node 4 (`omnilab.sim.scenarios.replace_crashed_node`), run two
reconfigurations in a row with a crash between, and move the cluster to all-new nodes; each run is
judged for ConfigurationTransition (every node starts a configuration once, with the state decided
before the StopSign), the safety invariants, progress in the new configuration, and the old nodes'
retirement.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from omnilab.replica.entries import StopSign
from omnilab.sim import scenarios
from omnilab.sim.server import ServerStatus
from omnilab.sim.service import ReconfigurationService

from ..bank import Exercise
from ..runs import decided_by, record_starts
from .common import answer, cluster_check, lazy_lines, replayer, scenario_lines

SURFACE = "MyReconfigurationService"
PREAMBLE = ("from omnilab.grading.exercises.reconfiguration import BlankReconfigurationService\n"
            "from omnilab import LogEntry, MemoryStorage\n")


class BlankReconfigurationService(ReconfigurationService):
    """The reconfiguration service of one server, with its decided-suffix loop left to you.

    ``apply_decided(self, config_id, omni, replaying=False)``: apply every slot of `config_id`
    decided at the server since ``self.server.applied[config_id]``, then move that on. ``omni`` is
    the server's OmniPaxos instance of `config_id`; ``replaying`` is True while a recovering server
    re-applies what it applied before its crash (pass it on to the helpers). ``self.server`` is the
    `omnilab.sim.Server`: ``.pid``, ``.server_config``, ``.instances`` (config_id -> instance),
    ``.durable.configs`` (config_id -> ClusterConfig) and ``.variant.replica`` (the components to
    build replicas from) are there to read.

    The helpers do the simulator's bookkeeping; call them rather than changing the server yourself:

    * ``self.apply_entry(config_id, idx, entry, replaying)``: slot `idx` holds the decided `entry`;
    * ``self.record_stopsign(config_id, idx, stopsign, replaying)``: slot `idx` is the StopSign;
    * ``self.apply_compacted(config_id, idx, slot, replaying)``: a ``Snapshotted`` / ``Trimmed``
      slot; returns the index after it;
    * ``self.start_next_instance(config_id, stopsign, omnipaxos, storage)``: run the instance you
      built with ``build_for_server`` over `storage` as the server's next configuration;
    * ``self.retire(config_id, replaying)``: the server is not in the next configuration;
    * ``self.tell_new_nodes(config_id, stopsign, decided_idx, new_pids, replaying)``: send the
      servers new in the next configuration their StartInstance and StateTransfer.
    """

    def apply_decided(self, config_id: int, omni: Any, replaying: bool = False) -> None:
        raise NotImplementedError("apply_decided is yours to write")

    def on_stopsign_decided(self, config_id: int, stopsign: StopSign, decided_idx: int, replaying: bool) -> None:
        raise NotImplementedError("the decided StopSign is yours to handle, in apply_decided")


def variant(namespace: Mapping[str, Any]) -> Any:
    from omnilab.sim.variant import REFERENCE

    cls = answer(namespace, SURFACE, BlankReconfigurationService)
    return replace(REFERENCE, name="your MyReconfigurationService", description="the learner's service loop",
                   service=cls)


LABEL = "your_service"
VARIANTS = {LABEL: variant}


def _kv(key: str, value: int) -> str:
    return f"KeyValue(key={key!r}, value={value})"


REPLACE_3_BY_4 = lazy_lines(lambda: scenario_lines(
    scenarios.replace_crashed_node, "cluster.reconfigure([1, 2, 4])", "cluster.run(ticks=4)",
    "cluster.put('c', 3, at=4)", "cluster.run(ticks=3)"))

TWO_IN_A_ROW = [
    "cluster = Cluster([1, 2, 3], seed=0)",
    "cluster.run(ticks=3)",
    "cluster.put('a', 1, at=3)",
    "cluster.run(ticks=1)",
    "cluster.reconfigure([1, 2, 4], at=3)",
    "cluster.run(ticks=4)",
    "cluster.put('b', 2, at=4)",
    "cluster.run(ticks=2)",
    "cluster.crash(1)",
    "cluster.run(ticks=4)",
    "cluster.reconfigure([2, 4, 5], at=4)",
    "cluster.run(ticks=5)",
    "cluster.put('c', 3, at=5)",
    "cluster.run(ticks=3)",
]

ALL_NEW = [
    "cluster = Cluster([1, 2, 3], seed=0)",
    "cluster.run(ticks=3)",
    "cluster.put('a', 1, at=3)",
    "cluster.put('b', 2, at=3)",
    "cluster.run(ticks=1)",
    "cluster.reconfigure([4, 5, 6], at=3)",
    "cluster.run(ticks=5)",
    "cluster.put('c', 3, at=6)",
    "cluster.run(ticks=3)",
]


def record(cluster: Any, items: list, k: int, artefact: dict) -> None:
    """Extra records: instance starts, and after the last call which servers retired."""
    record_starts(cluster, items, k, artefact)
    artefact["retired_now"] = {str(p): s.status is ServerStatus.RETIRED for p, s in cluster.servers.items()}


def _final_retired(artefact: Mapping) -> Mapping:
    return artefact.get("retired_now", {})


def retired(pids: list) -> Any:
    def condition(artefact: Mapping) -> Any:
        now = _final_retired(artefact)
        missing = [p for p in pids if now.get(str(p)) is not True]
        if missing:
            return f"node {missing[0]} is not in the newest configuration but never retired"
        return None
    return condition


CHECKS = (
    cluster_check("replace-crashed-node", 3, REPLACE_3_BY_4, variant, LABEL,
                  [decided_by(_kv("c", 3), [1, 2, 4], config_id=2)], extra=record,
                  description="scenarios.replace_crashed_node(): reconfigure([1, 2, 4]); node 4 starts with a=1, "
                              "b=2 and configuration 2 decides"),
    cluster_check("two-in-a-row", 3, TWO_IN_A_ROW, variant, LABEL,
                  [decided_by(_kv("b", 2), [1, 2, 4], config_id=2), decided_by(_kv("c", 3), [2, 4, 5], config_id=3),
                   retired([3])], extra=record,
                  description="[1, 2, 3] -> [1, 2, 4], node 1 crashes, -> [2, 4, 5]"),
    cluster_check("all-new-nodes", 2, ALL_NEW, variant, LABEL,
                  [decided_by(_kv("c", 3), [4, 5, 6], config_id=2), retired([1, 2, 3])], extra=record,
                  description="[1, 2, 3] -> [4, 5, 6]: every old node retires, the new ones start with a=1, b=2"),
)

EXERCISE = Exercise(
    id="ex04", title="The reconfiguration service", slug="04-reconfiguration", surface=(SURFACE,),
    forbidden=("ReconfigurationService", "on_stopsign_decided", "mutants", "StartWithoutStateTransfer", "__func__",
               "__dataclass_fields__", "getmro"),
    checks=CHECKS, preamble=PREAMBLE, replay=replayer(VARIANTS), variant=variant,
)
