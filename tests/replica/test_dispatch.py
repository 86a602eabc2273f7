"""The replica's explicit state machine: every message type has a handler, and only the declared
(role, phase) transitions ever happen."""

import random

import pytest

from omnilab.replica import ClusterConfig, MemoryStorage, ServerConfig
from omnilab.replica.messages import BLE_MESSAGE_TYPES, PAXOS_MESSAGE_TYPES, PaxosMessage
from omnilab.replica.sequence_paxos import transitions
from omnilab.replica.sequence_paxos.core import UnknownMessage
from omnilab.replica.state import Phase, Role


def build(pid, nodes=(1, 2, 3), storage=None):
    return ClusterConfig(1, list(nodes)).build_for_server(
        ServerConfig(pid=pid, resend_message_tick_timeout=2), storage or MemoryStorage())


def test_every_paxos_message_type_has_a_handler():
    sp = build(1).seq_paxos
    assert set(sp.handlers) == set(PAXOS_MESSAGE_TYPES)
    for handler in sp.handlers.values():
        assert handler.__name__.startswith("handle_")


def test_ble_handles_both_heartbeat_messages():
    assert {m.__name__ for m in BLE_MESSAGE_TYPES} == {"HeartbeatRequest", "HeartbeatReply"}


def test_unknown_message_is_refused_with_a_peer_error():
    with pytest.raises(UnknownMessage, match="not a Sequence Paxos message"):
        build(1).seq_paxos.handle(PaxosMessage(2, 1, "hello"))


def test_transition_table_names_real_handlers():
    sp = build(1).seq_paxos
    for t in transitions.TRANSITIONS:
        assert callable(getattr(sp, t.handler)), t.handler
        assert t.target in transitions.ALL_STATES


def test_undeclared_transition_is_refused():
    sp = build(1).seq_paxos
    assert sp.state == (Role.FOLLOWER, Phase.NONE)
    with pytest.raises(transitions.IllegalTransition):
        sp.set_state(Role.LEADER, Phase.ACCEPT)  # skipping the Prepare phase is not Paxos
    assert sp.state == (Role.FOLLOWER, Phase.NONE)


def test_random_schedules_only_take_declared_transitions():
    """Random delivery, loss, crashes and appends: set_state raises on any undeclared change, so
    reaching the end proves the table is complete for what these schedules exercise."""
    seen = set()
    for seed in range(30):
        rng = random.Random(seed)
        storages = {p: MemoryStorage() for p in (1, 2, 3)}
        nodes = {p: build(p, storage=storages[p]) for p in (1, 2, 3)}
        inflight = []
        for step in range(300):
            for node in nodes.values():
                inflight.extend(node.take_outgoing_messages())
            r = rng.random()
            if r < 0.55 and inflight:
                msg = inflight.pop(rng.randrange(len(inflight)))
                if msg.receiver in nodes and rng.random() > 0.1:
                    nodes[msg.receiver].handle_incoming(msg)
            elif r < 0.75:
                rng.choice(list(nodes.values())).tick()
            elif r < 0.9:
                try:
                    rng.choice(list(nodes.values())).append((seed, step))
                except Exception:
                    pass
            elif r < 0.93:
                pid = rng.choice([1, 2, 3])
                nodes[pid] = build(pid, storage=storages[pid])  # crash and rebuild from storage
            for node in nodes.values():
                seen.add(node.seq_paxos.state)
    assert (Role.LEADER, Phase.ACCEPT) in seen and (Role.FOLLOWER, Phase.RECOVER) in seen
