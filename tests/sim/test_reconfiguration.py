"""The reconfiguration service through `Cluster`: the seed story end to end, the state transfer to
new nodes (visible, droppable, resent), retirement, and configuration ids on every message."""

from __future__ import annotations

from omnilab.replica import LogEntry, StopSign
from omnilab.sim import (Cluster, EntryDecided, Delivered, Dropped, InstanceStarted, Retired, ServerCreated,
                         ServerStatus, StartInstance, StateInstalled, StateTransfer, TransferAck, scenarios)


def _service(cluster: Cluster, kind: type) -> list:
    return [env for env in cluster.network if isinstance(env.message, kind)]


def test_the_seed_story_end_to_end():
    cluster = scenarios.replace_crashed_node()
    assert cluster.leader() == 2 and not cluster.server(3).up
    stopsign = cluster.reconfigure([1, 2, 4])
    assert isinstance(stopsign, StopSign) and stopsign.next_config.configuration_id == 2
    assert cluster.server(4).status is ServerStatus.JOINING and cluster.server(4).omnipaxos is None
    cluster.run(ticks=3)
    node4 = cluster.server(4)
    assert node4.kv == {"a": 1, "b": 2}
    assert node4.config_id == 2 and node4.omnipaxos.inspect().nodes == (1, 2, 4)
    for pid in (1, 2):
        decided = cluster.server(pid).instances[1].read_decided_suffix(0)
        assert decided[-1] == LogEntry.StopSign(stopsign, True)
        assert cluster.server(pid).config_id == 2
    assert cluster.leader() in (1, 2, 4)
    cluster.put("c", 3)
    cluster.run(ticks=2)
    assert all(cluster.server(p).kv == {"a": 1, "b": 2, "c": 3} for p in (1, 2, 4))
    assert all(v.ok for v in cluster.check()), cluster.check()
    kinds = {type(e) for e in cluster.trace}
    assert {ServerCreated, InstanceStarted, StateInstalled, EntryDecided} <= kinds


def test_every_step_of_the_transfer_is_visible_in_pending_and_the_trace():
    cluster = scenarios.replace_crashed_node()
    cluster.reconfigure([1, 2, 4])
    while not _service(cluster, StartInstance):
        cluster.step()
    pending = cluster.pending()
    assert {"StartInstance", "StateTransfer"} <= set(pending["type"])
    transfer = _service(cluster, StateTransfer)[0]
    assert transfer.receiver == 4 and transfer.config_id == 1
    assert dict(transfer.message.state) == {"a": 1, "b": 2}
    cluster.deliver_all()
    installed = [e for e in cluster.trace if isinstance(e, StateInstalled)]
    assert len(installed) == 1 and installed[0].pid == 4
    acks = [e for e in cluster.trace if isinstance(e, Delivered) and isinstance(e.envelope.message, TransferAck)]
    assert {e.envelope.receiver for e in acks} == {1, 2}


def test_a_dropped_transfer_is_resent_on_a_later_tick():
    cluster = scenarios.replace_crashed_node()
    cluster.reconfigure([1, 2, 4])
    while cluster.network.in_flight:
        env = cluster.network.in_flight[next(iter(cluster.network.in_flight))]
        if isinstance(env.message, (StartInstance, StateTransfer)):
            cluster.drop(env.id)
        else:
            cluster.step()
    assert cluster.server(4).omnipaxos is None
    dropped = [e for e in cluster.trace if isinstance(e, Dropped) and isinstance(e.envelope.message, StateTransfer)]
    assert len(dropped) == 2  # one from each old member
    cluster.run(ticks=2)  # resend_message_tick_timeout is 2 ticks
    assert cluster.server(4).config_id == 2 and cluster.server(4).kv == {"a": 1, "b": 2}
    assert not cluster.server(1).unacked and not cluster.server(2).unacked
    assert all(v.ok for v in cluster.check())


def test_a_node_left_out_retires():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.put("a", 1)
    cluster.reconfigure([1, 2])
    cluster.run(ticks=2)
    assert cluster.server(3).status is ServerStatus.RETIRED and cluster.server(3).retired
    assert any(isinstance(e, Retired) and e.pid == 3 for e in cluster.trace)
    assert cluster.server(3).kv == {"a": 1}
    assert cluster.server(1).config_id == 2 and 3 not in cluster.server(1).omnipaxos.inspect().nodes


def test_messages_carry_their_configuration_and_never_reach_a_newer_instance():
    cluster = scenarios.replace_crashed_node()
    cluster.reconfigure([1, 2, 4])
    cluster.run(ticks=3)
    for event in cluster.trace:
        if isinstance(event, Delivered) and not isinstance(event.envelope.message,
                                                              (StartInstance, StateTransfer, TransferAck)):
            inner = event.envelope.payload
            ballot = getattr(inner, "n", None) or getattr(inner, "ballot", None)
            if ballot is not None and ballot.config_id:
                assert ballot.config_id == event.envelope.config_id, event
    # Configuration-2 messages that reached node 4 before its instance started were dropped, with a
    # reason, instead of being handed to some other instance.
    early = [e for e in cluster.trace if isinstance(e, Dropped) and e.envelope.receiver == 4]
    assert early and all(e.envelope.config_id == 2 for e in early)
    assert all(e.reason == "node 4 runs no instance of configuration 2 yet" for e in early)


def test_a_crashed_member_of_the_next_configuration_catches_up_after_recovery():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.put("a", 1)
    cluster.run(ticks=1)
    cluster.crash(1)
    cluster.reconfigure([1, 2, 3, 4])
    cluster.run(ticks=3)
    assert cluster.server(4).kv == {"a": 1}
    cluster.put("b", 2)
    cluster.run(ticks=2)
    cluster.recover(1)
    cluster.run(ticks=6)
    assert cluster.server(1).config_id == 2
    assert cluster.server(1).kv == {"a": 1, "b": 2}
    assert all(v.ok for v in cluster.check())


def test_a_recovered_new_node_rebuilds_from_its_transferred_state():
    cluster = scenarios.replace_crashed_node()
    cluster.reconfigure([1, 2, 4])
    cluster.run(ticks=3)
    cluster.put("c", 3)
    cluster.run(ticks=2)
    cluster.crash(4)
    cluster.recover(4)
    assert cluster.server(4).kv == {"a": 1, "b": 2, "c": 3}
    cluster.run(ticks=3)
    assert all(v.ok for v in cluster.check())
