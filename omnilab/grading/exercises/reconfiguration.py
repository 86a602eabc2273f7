"""Exercise 4 (draft), the reconfiguration service: the application's loop over the decided log.

This is the loop of the OmniPaxos reconfiguration documentation, run by every server after anything
that may have decided something: read the decided suffix from where I stopped; apply each decided
entry to the key-value store; on ``LogEntry.StopSign(stopsign, True)`` start my instance of the next
configuration with ``build_for_server`` if I am a member (else retire), and tell the servers new in
it to start (they never see the StopSign). The learner writes it as ``_apply_decided`` in a subclass
of `BlankReconfigurationService`; the simulator's bookkeeping (trace events, the ledger the
invariants read, client responses) is done by the helper functions below, which the answer calls.

**Waiting for the seam.** A variant replaces only the service's handling of service messages
(``_handle_service``) today: the cluster calls its own ``_apply_decided``, so an answer here would
never run. `service_seam_reaches_the_loop` tells whether that has changed; until it does, this
exercise is not in the bank (``omnilab.grading.exercises.ALL``) and its solution source waits in
``solutions/drafts/04-reconfiguration.py``. The checks are complete and are tested with the seam
put in place by the test itself (tests/grading/test_reconfiguration_draft.py).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from omnilab.replica.entries import StopSign
from omnilab.sim import scenarios
from omnilab.sim.server import Server, ServerStatus
from omnilab.sim.service import ReconfigurationService, StartInstance, StateTransfer
from omnilab.sim.trace import Decided, Responded, Retired, SnapshotInstalled

from ..bank import Exercise
from ..runs import decided_by, record_starts
from .common import answer, cluster_check, lazy_lines, replayer, scenario_lines

SURFACE = "MyReconfigurationService"
PREAMBLE = ("from omnilab.grading.exercises.reconfiguration import (BlankReconfigurationService, apply_compacted,\n"
            "    apply_entry, record_stopsign, retire, start_next_instance, tell_new_nodes)\n"
            "from omnilab import LogEntry, MemoryStorage\n")


# --- the bookkeeping the answer calls ---------------------------------------------------------------

def apply_entry(cluster: Any, server: Server, config_id: int, idx: int, entry: Any, replaying: bool) -> None:
    """Slot `idx` of `config_id` is decided at `server` and holds `entry`: record it, answer the
    client that proposed it, apply it to the key-value store."""
    trace, ledger = cluster.trace, cluster.ledger
    if not replaying:
        trace.append(Decided(server.pid, config_id, idx, entry))
    op = ledger.on_decided(server.pid, config_id, idx, entry, len(trace) - 1)
    if op is not None:
        trace.append(Responded(op.op_id, config_id, idx))
    server.kvstore.apply(entry)


def record_stopsign(cluster: Any, server: Server, config_id: int, idx: int, stopsign: StopSign,
                    replaying: bool) -> None:
    """Slot `idx` of `config_id` is the decided StopSign: record it (nothing to apply)."""
    if not replaying:
        cluster.trace.append(Decided(server.pid, config_id, idx, stopsign))
    cluster.ledger.on_decided(server.pid, config_id, idx, stopsign, len(cluster.trace) - 1)


def apply_compacted(cluster: Any, server: Server, config_id: int, idx: int, slot: Any, replaying: bool) -> int:
    """A compacted prefix (``LogEntry.Snapshotted`` / ``LogEntry.Trimmed``) reaching past `idx`: take a
    snapshot's writes; return the index after the prefix."""
    trimmed = hasattr(slot, "trimmed_idx")
    upto = slot.trimmed_idx if trimmed else slot.snapshotted_entry.trimmed_idx
    if upto <= idx:
        return idx
    cluster.ledger.on_compacted(server.pid, config_id, upto)
    if not trimmed:
        server.kvstore.apply_snapshot(slot.snapshotted_entry.snapshot)
    if not replaying:
        cluster.trace.append(SnapshotInstalled(server.pid, config_id, upto, trimmed))
    return upto


def start_next_instance(cluster: Any, server: Server, config_id: int, stopsign: StopSign, omnipaxos: Any,
                        storage: Any) -> None:
    """Run `omnipaxos` (built with ``build_for_server`` over `storage`) as `server`'s instance of
    the configuration `stopsign` names, starting from the server's key-value state now."""
    next_config = stopsign.next_config
    next_id = next_config.configuration_id
    server.durable.configs[next_id] = next_config
    server.durable.storages[next_id] = storage
    cluster._install_instance(server, next_id, omnipaxos, dict(server.kvstore.data), config_id, stopsign)


def retire(cluster: Any, server: Server, config_id: int, replaying: bool) -> None:
    """`server` is not in the next configuration: it stops serving after `config_id`."""
    if server.status is not ServerStatus.RETIRED:
        server.status = ServerStatus.RETIRED
        if not replaying:
            cluster.trace.append(Retired(server.pid, config_id))


def tell_new_nodes(cluster: Any, server: Server, config_id: int, stopsign: StopSign, decided_idx: int,
                   new_pids: list, replaying: bool) -> None:
    """Send each of `new_pids` (servers in the next configuration that were not in `config_id`) a
    StartInstance and a StateTransfer (the key-value state now, after `decided_idx` slots); they are
    resent until acknowledged."""
    next_config = stopsign.next_config
    start = StartInstance(next_config)
    transfer = StateTransfer(config_id, stopsign, decided_idx, tuple(dict(server.kvstore.data).items()))
    for new_pid in new_pids:
        cluster._ensure_server(new_pid, next_config.configuration_id)
        server.unacked[new_pid] = (start, transfer)
        if not replaying:
            cluster._send(server.pid, new_pid, config_id, start)
            cluster._send(server.pid, new_pid, config_id, transfer)


class BlankReconfigurationService(ReconfigurationService):
    """The reconfiguration service with its decided-suffix loop left to you.

    ``_apply_decided(self, server, config_id, omni, replaying=False)``: apply every slot of
    `config_id` decided at `server` since ``server.applied[config_id]`` (then move that on). ``self``
    is the cluster; ``omni`` is the server's OmniPaxos instance of `config_id`; ``replaying`` is True
    while a recovering server re-applies what it applied before its crash (pass it on to the
    helpers). ``server.pid``, ``server.server_config``, ``server.instances`` (config_id -> instance),
    ``server.durable.configs`` (config_id -> ClusterConfig) and ``self.variant.replica`` (the
    components to build replicas from) are there to read.
    """

    def _apply_decided(self, server: Any, config_id: int, omni: Any, replaying: bool = False) -> None:
        raise NotImplementedError("_apply_decided is yours to write")


def service_seam_reaches_the_loop() -> bool:
    """True if a variant's ``service`` replaces the cluster's decided-suffix loop (``_apply_decided``)."""
    from omnilab.sim import Cluster
    from omnilab.sim.variant import REFERENCE

    class Probe(ReconfigurationService):
        def _apply_decided(self, server: Any, config_id: int, omni: Any, replaying: bool = False) -> None:
            raise LookupError("the variant's loop runs")

    cluster = Cluster([1, 2, 3], variant=replace(REFERENCE, name="probe", service=Probe))
    try:
        cluster.run(ticks=3)
        cluster.put("probe", 1)
        cluster.run(ticks=1)
    except LookupError:
        return True
    return False


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
    forbidden=("ReconfigurationService", "_on_stopsign_decided", "mutants", "__func__"),
    checks=CHECKS, preamble=PREAMBLE, replay=replayer(VARIANTS), variant=variant,
)
