"""Exercise 5, state transfer: a server new in a configuration starts with exactly the state decided
before the StopSign, whatever the network does to the messages that bring it.

A new server never sees the StopSign: it is not a member of the old configuration. Every old member
that decides the StopSign sends it a `StartInstance` (the new configuration) and a `StateTransfer`
(the key-value state after the StopSign), and resends both until a `TransferAck` comes back. The
learner writes the new server's side: what to do with each of the three service messages, as the
``handle_message(env)`` method of a subclass of `BlankStateTransfer` (the variant's ``service``).
Messages may come in any order, twice, or not at all until a resend; the server must start its
instance once, and only when it holds both the configuration and the state.

Every server runs its own service object (``self``), so the answer uses the service's bookkeeping
and helpers: ``self.join(config_id)`` starts the instance from ``self.told[config_id]`` and
``self.transfers[config_id]`` and acknowledges the transfer; ``self.send(to, config_id, message)``
sends a message from the server.

The checks replace crashed node 3 with node 4 (the seed story of the OmniPaxos reconfiguration
documentation, `omnilab.sim.scenarios.replace_crashed_node`) with the service messages delivered in
order, reordered, dropped and duplicated; each run is judged for ConfigurationTransition (node 4 starts
configuration 2 once, with the state decided before the StopSign), the safety invariants, and
progress in the new configuration.
"""

from __future__ import annotations

from typing import Any, Mapping

from omnilab.sim import scenarios
from omnilab.sim.service import ReconfigurationService

from ..bank import Exercise
from ..runs import decided_by, record_starts
from .common import answer, cluster_check, lazy_lines, replayer, scenario_lines

SURFACE = "MyStateTransfer"
PREAMBLE = ("from omnilab.grading.exercises.state_transfer import BlankStateTransfer\n"
            "from omnilab.sim import StartInstance, StateTransfer, TransferAck\n")


class BlankStateTransfer(ReconfigurationService):
    """The reconfiguration service of one server, with the handling of service messages left to you.

    ``handle_message(self, env)`` is called when the server receives a service message;
    ``env.message`` is a `StartInstance` (``.config``, the new `ClusterConfig`), a `StateTransfer`
    (``.config_id``, ``.state``, ...) or a `TransferAck` (``.config_id``), ``env.sender`` who sent
    it. ``self`` is the server's service. What you can use:

    * ``self.server.instances``: the configurations the server runs (config_id -> instance);
    * ``self.told``: config_id -> ClusterConfig, the StartInstances kept so far;
    * ``self.transfers``: config_id -> (sender, StateTransfer), the transfers kept so far;
    * ``self.unacked``: new pid -> messages this (old) member still resends (pop a pid to stop);
    * ``self.join(config_id)``: start the instance from ``self.told[config_id]`` and
      ``self.transfers[config_id]`` (both must be there; it removes them), install the transferred
      state and acknowledge it;
    * ``self.send(receiver, config_id, message)``: send a message from the server.
    """

    def handle_message(self, env: Any) -> None:
        raise NotImplementedError("handle_message is yours to write")


def variant(namespace: Mapping[str, Any]) -> Any:
    from dataclasses import replace

    from omnilab.sim.variant import REFERENCE

    cls = answer(namespace, SURFACE, BlankStateTransfer)
    return replace(REFERENCE, name="your MyStateTransfer", description="the learner's state transfer", service=cls)


LABEL = "your_state_transfer"
VARIANTS = {LABEL: variant}

#: Replace crashed node 3 by node 4. The links to node 4 are cut while the StopSign is decided, so the
#: first StartInstance and StateTransfer are lost; after the heal, two ticks make nodes 1 and 2 resend
#: them, and they are in flight (not delivered) when the variant's part begins.
RECONFIGURE = ("cluster.reconfigure([1, 2, 4])", "cluster.cut(1, 4)", "cluster.cut(2, 4)", "cluster.deliver_all()",
               "cluster.heal()", "cluster.tick(2)")
AFTER = ("cluster.run(ticks=4)", "cluster.put('c', 3, at=4)", "cluster.run(ticks=3)")


def _service_ids(prefix: list[str]) -> dict[str, list[int]]:
    """The ids of the service messages to node 4 in flight after `prefix` (on the reference; the
    learner's code has not run yet at that point, so the ids are the same on every variant)."""
    from ..runs import parse_schedule, replay_schedule

    cluster = replay_schedule(parse_schedule(prefix))
    ids: dict[str, list[int]] = {"StartInstance": [], "StateTransfer": []}
    for env in cluster.network.in_flight.values():
        if env.receiver == 4 and env.kind in ids:
            ids[env.kind].append(env.id)
    return ids


def _base() -> list[str]:
    return scenario_lines(scenarios.replace_crashed_node, *RECONFIGURE)


def _in_order() -> list[str]:
    return _base() + list(AFTER)


def _reordered() -> list[str]:
    base = _base()
    ids = _service_ids(base)
    # Every StateTransfer first, then the StartInstances.
    return base + [f"cluster.step({i})" for i in ids["StateTransfer"] + ids["StartInstance"]] + list(AFTER)


def _dropped() -> list[str]:
    base = _base()
    ids = _service_ids(base)
    # These resends are lost too; the next ones must do.
    return base + [f"cluster.drop({i})" for i in ids["StartInstance"] + ids["StateTransfer"]] + list(AFTER)


def _duplicated() -> list[str]:
    base = _base()
    ids = _service_ids(base)
    return base + [f"cluster.duplicate({i})" for i in ids["StartInstance"] + ids["StateTransfer"]] + [
        "cluster.deliver_all()", "cluster.run(ticks=2)"] + list(AFTER)


def _put_c(artefact: Mapping) -> Any:
    return decided_by("KeyValue(key='c', value=3)", [1, 2, 4], config_id=2)(artefact)


def _holds_state(artefact: Mapping) -> Any:
    """Node 4 ends with every write: a=1, b=2 (transferred) and c=3 (decided in configuration 2)."""
    state = dict(tuple(pair) for pair in artefact["final"]["kv"].get("4", []))
    wanted = {"'a'": "1", "'b'": "2", "'c'": "3"}
    missing = [f"{k}: {v}" for k, v in wanted.items() if state.get(k) != v]
    if missing:
        return f"node 4 ends without {', '.join(missing)} in its key-value state"
    return None


def record(cluster: Any, items: list, k: int, artefact: dict) -> None:
    """Extra records: the instance starts (`record_starts`) and ``service_sent`` = [k, sender,
    receiver, kind] for every service message put on the wire."""
    from omnilab.sim.trace import Sent

    record_starts(cluster, items, k, artefact)
    rows = artefact.setdefault("service_sent", [])
    for item in items:
        if type(item) is Sent and item.envelope.kind in ("StartInstance", "StateTransfer", "TransferAck"):
            rows.append([k, item.envelope.sender, item.envelope.receiver, item.envelope.kind])


def _acknowledged(artefact: Mapping) -> Any:
    """Node 4 acknowledged the transfer: by the last call nobody resends it any more."""
    last = len(artefact["schedule"]) - 1
    resent = [r for r in artefact.get("service_sent", []) if r[0] == last and r[2] == 4]
    if resent:
        return (f"node {resent[0][1]} still resends {resent[0][3]} to node 4 at the end: node 4 never acknowledged "
                f"the transfer with a TransferAck")
    return None


def _started_after_steps(artefact: Mapping) -> Any:
    """Reordered: node 4 starts as soon as it holds both messages, at the last step, whatever their order."""
    lines = artefact["schedule"]
    last_step = max(i for i, line in enumerate(lines) if line.startswith("cluster.step("))
    started = [r for r in artefact.get("starts", []) if r[1] == 4 and r[2] == 2]
    if not started or started[0][0] > last_step:
        return ("node 4 did not start configuration 2 once both the StateTransfer and the StartInstance had "
                "arrived (a transfer that arrives before the StartInstance must be kept)")
    return None


def _check(name: str, points: float, lines: Any, description: str, *more: Any) -> Any:
    return cluster_check(name, points, lazy_lines(lines), variant, LABEL, [*more, _put_c, _holds_state, _acknowledged],
                         description=description, extra=record)


CHECKS = (
    _check("in-order", 2, _in_order, "replace crashed node 3 by node 4; the service messages arrive in order"),
    _check("reordered", 2, _reordered, "every StateTransfer reaches node 4 before any StartInstance",
           _started_after_steps),
    _check("dropped", 2, _dropped, "the StartInstances and StateTransfers are lost twice; the next resends arrive"),
    _check("duplicated", 2, _duplicated, "every service message to node 4 arrives twice"),
)

EXERCISE = Exercise(
    id="ex05", title="State transfer", slug="05-state-transfer", surface=(SURFACE,),
    forbidden=("ReconfigurationService", "mutants", "StartWithoutStateTransfer", "__func__", "__dataclass_fields__",
               "getmro"),
    checks=CHECKS, preamble=PREAMBLE, replay=replayer(VARIANTS), variant=variant,
)
