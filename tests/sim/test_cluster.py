"""The Cluster API as a learner uses it: the README's snippet, the network verbs, crashes, tables,
determinism, replay and undo, and bad input that leaves the cluster unchanged."""

from __future__ import annotations

import pytest

import omnilab
from omnilab import ProposeErr
from omnilab.kv import KeyValue
from omnilab.sim import (
    BadInput,
    Cluster,
    Crashed,
    Delivered,
    Dropped,
    Duplicated,
    EntryDecided,
    InvariantViolation,
    NodeDown,
    NodeUp,
    NoLeader,
    NothingInFlight,
    NothingToUndo,
    Proposed,
    Recovered,
    Refused,
    Sent,
    Ticked,
    Trace,
    UnknownMessageId,
    UnknownNode,
    Verdict,
)
from omnilab.sim.campaigns import FAULTS
from omnilab.sim.ledger import Clash


def test_the_design_snippet_runs_as_written():
    cluster = omnilab.Cluster(nodes=[1, 2, 3], seed=0)
    cluster.run(ticks=3)
    assert cluster.leader() == 3
    cluster.put("a", 1)
    assert list(cluster.pending().columns) == ["from", "to", "config", "type", "fields"]
    assert len(cluster.pending()) == 2  # AcceptDecide to each follower
    delivered = cluster.step()
    assert delivered.kind == "AcceptDecide"
    msg_id = cluster.pending().index[0]
    copy_id = cluster.duplicate(msg_id)
    cluster.drop(copy_id)
    cluster.crash(3)
    cluster.recover(3)
    cluster.partition([1, 2], [3])
    cluster.cut(1, 3)
    cluster.heal()
    cluster.run(ticks=3)
    cluster.reconfigure([1, 2, 4])
    cluster.run(ticks=3)
    logs = cluster.logs()
    assert ("config 2", "node 4") in logs.columns
    verdicts = cluster.check()
    assert all(isinstance(v, Verdict) for v in verdicts) and all(v.ok for v in verdicts), verdicts
    assert {v.name for v in verdicts} == {"UniformAgreement", "Integrity", "Validity", "LocalWellFormedness", "OneLeaderPerBallot",
                                          "QuorumConnectedTakeover", "StopSignSeal", "ConfigurationTransition", "KVLinearizability"}
    assert Cluster.replay(cluster.trace).trace == cluster.trace
    assert cluster.server(4).kv == {"a": 1}
    assert cluster.server(4).omnipaxos.inspect().configuration_id == 2


def test_operations_never_deliver_by_themselves():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    assert not cluster.network.in_flight
    cluster.put("a", 1)
    cluster.crash(1)
    cluster.cut(2, 3)
    assert all(not isinstance(item, Delivered) for item in cluster.trace[-6:])
    assert len(cluster.network.in_flight) == 2


def test_default_delivery_is_fifo_per_link_and_step_can_reorder():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    for value in range(3):
        cluster.put("k", value)
    to_one = [env for env in cluster.network if env.receiver == 1]
    assert [env.payload.entries[0].value for env in to_one] == [0, 1, 2]
    oldest = min(cluster.network.in_flight)
    assert cluster.step().id == oldest
    newest = max(cluster.network.in_flight)
    assert cluster.step(newest).id == newest  # out of order: the follower sees a gap and asks to resync


def test_a_message_sent_on_a_cut_link_is_dropped_at_send_time_and_recorded():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.cut(3, 1, one_way=True)
    cluster.put("a", 1)
    drops = [e for e in cluster.trace if isinstance(e, Dropped)]
    assert [(d.envelope.sender, d.envelope.receiver, d.reason) for d in drops] == [(3, 1, "link 3->1 is cut")]
    assert [(env.sender, env.receiver) for env in cluster.network] == [(3, 2)]


def test_drop_and_duplicate_act_on_one_message():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.put("a", 1)
    first, second = list(cluster.network.in_flight)
    copy = cluster.duplicate(first)
    assert copy not in (first, second) and cluster.network.in_flight[copy].message is cluster.network.in_flight[first].message
    assert isinstance(cluster.trace[-1], Duplicated)
    cluster.drop(second)
    assert isinstance(cluster.trace[-1], Dropped) and second not in cluster.network
    cluster.deliver_all()
    assert cluster.server(3).kv == {"a": 1}


def test_crash_loses_volatile_state_and_recover_rebuilds_from_storage():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.put("a", 1)
    cluster.put("b", 2)
    cluster.run(ticks=1)
    cluster.crash(1)
    assert cluster.server(1).omnipaxos is None and dict(cluster.server(1).kv) == {}
    assert isinstance(cluster.trace[-1], Crashed)
    cluster.put("c", 3)
    cluster.run(ticks=1)
    cluster.recover(1)
    assert isinstance(cluster.trace[-1] if isinstance(cluster.trace[-1], Recovered) else
                      next(e for e in reversed(cluster.trace) if isinstance(e, Recovered)), Recovered)
    assert cluster.server(1).kv == {"a": 1, "b": 2}  # rebuilt from its own decided log
    cluster.run(ticks=4)
    assert cluster.server(1).kv == {"a": 1, "b": 2, "c": 3}
    assert all(cluster.check())


def test_messages_to_a_crashed_node_are_dropped_on_arrival():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.put("a", 1)
    cluster.crash(1)
    cluster.deliver_all()
    reasons = [e.reason for e in cluster.trace if isinstance(e, Dropped)]
    assert "node 1 is crashed" in reasons


def test_a_refused_proposal_is_traced_and_reraised():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.reconfigure([1, 2, 4])
    with pytest.raises(ProposeErr.PendingReconfigEntry):
        cluster.put("late", 1)
    refused = cluster.trace[-1]
    assert isinstance(refused, Refused) and refused.pid == 3 and "PendingReconfigEntry" in refused.error
    assert cluster.ledger.history[-1].status == "refused"


def test_put_at_a_follower_is_forwarded_to_the_leader():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.put("a", 1, at=1)
    assert [(env.sender, env.receiver, env.kind) for env in cluster.network] == [(1, 3, "ProposalForward")]
    cluster.run(ticks=1)
    assert all(cluster.server(p).kv == {"a": 1} for p in (1, 2, 3))
    assert cluster.ledger.history[0].status == "done"


def test_leader_is_none_while_members_disagree_or_the_leader_is_down():
    cluster = Cluster([1, 2, 3])
    assert cluster.leader() is None
    cluster.run(ticks=3)
    cluster.crash(3)
    assert cluster.leader() is None
    cluster.run(ticks=4)
    assert cluster.leader() == 2


# --- determinism, replay, undo ------------------------------------------------------------------------

def _scripted(cluster: Cluster) -> Cluster:
    cluster.run(ticks=3)
    cluster.put("a", 1)
    cluster.step()
    cluster.duplicate(max(cluster.network.in_flight))
    cluster.step_random()
    cluster.crash(2)
    cluster.tick(2)
    cluster.step_random()
    cluster.recover(2)
    cluster.partition([1, 2], [3])
    cluster.run(ticks=4)
    cluster.heal()
    cluster.put("b", 2, at=1)
    cluster.run(ticks=3)
    return cluster


def test_same_seed_and_calls_give_the_same_trace():
    first, second = _scripted(Cluster([1, 2, 3], seed=7)), _scripted(Cluster([1, 2, 3], seed=7))
    assert first.trace == second.trace
    assert repr(first.trace) == repr(second.trace)
    assert first.trace.format() == second.trace.format()


def test_replay_rebuilds_an_identical_cluster():
    cluster = _scripted(Cluster([1, 2, 3], seed=3, batch_size=1))
    with pytest.raises(ProposeErr):
        cluster.reconfigure([1, 2])
        cluster.put("x", 9)  # refused: a StopSign is stored at the leader
    again = Cluster.replay(cluster.trace)
    assert again.trace == cluster.trace
    assert {p: dict(s.kv) for p, s in again.servers.items()} == {p: dict(s.kv) for p, s in cluster.servers.items()}
    assert again.logs().equals(cluster.logs())


def test_undo_goes_back_one_operation():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    before = Trace(cluster.trace)
    cluster.crash(3)
    cluster.undo()
    assert cluster.trace == before and cluster.server(3).up
    cluster.undo()
    assert len(cluster.trace.operations()) == 1
    with pytest.raises(NothingToUndo):
        cluster.undo()


def test_trace_script_is_pasteable_python():
    cluster = _scripted(Cluster([1, 2, 3], seed=5))
    namespace = {"Cluster": Cluster}
    exec(cluster.trace.script(), namespace)
    assert namespace["cluster"].trace == cluster.trace


def test_every_event_kind_has_a_readable_repr():
    cluster = _scripted(Cluster([1, 2, 3]))
    text = cluster.trace.format()
    for needle in ("cluster.run(ticks=3)", "Sent(envelope=#", "Delivered(", "Ticked(clock=", "Crashed(pid=2",
                   "Recovered(pid=2", "Proposed(pid=3", "EntryDecided(pid=", "Duplicated("):
        assert needle in text
    assert {type(e) for e in cluster.trace} >= {Sent, Delivered, Ticked, Crashed, Recovered, Proposed, EntryDecided}


# --- bad input ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, hint", [
    (lambda c: c.crash(9), UnknownNode, "the nodes are [1, 2, 3]"),
    (lambda c: c.server(0), UnknownNode, "there is no node 0"),
    (lambda c: c.recover(1), NodeUp, "crash(1) first"),
    (lambda c: c.step(999), UnknownMessageId, "pending()"),
    (lambda c: c.drop(999), UnknownMessageId, "not in flight"),
    (lambda c: c.duplicate(-1), UnknownMessageId, "not in flight"),
    (lambda c: c.reconfigure([1]), BadInput, "at least two nodes"),
    (lambda c: c.reconfigure([1, 1, 2]), BadInput, "each pid once"),
    (lambda c: c.reconfigure([1, 2, "x"]), BadInput, "positive integers"),
    (lambda c: c.partition([1, 2]), BadInput, "missing [3]"),
    (lambda c: c.partition([1, 2], [2, 3]), BadInput, "two groups"),
    (lambda c: c.cut(1, 1), BadInput, "two different nodes"),
    (lambda c: c.run(0), BadInput, "positive number"),
    (lambda c: c.heal(1), BadInput, "both nodes or neither"),
    (lambda c: c.put("a", 1, at=7), UnknownNode, "there is no node 7"),
])
def test_bad_input_says_what_to_do_and_changes_nothing(call, error, hint):
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    before = Trace(cluster.trace)
    in_flight = dict(cluster.network.in_flight)
    with pytest.raises(error) as info:
        call(cluster)
    assert hint in str(info.value)
    assert cluster.trace == before and cluster.network.in_flight == in_flight


def test_more_bad_input():
    cluster = Cluster([1, 2, 3])
    with pytest.raises(NothingInFlight, match="tick"):
        cluster.step()
    with pytest.raises(NoLeader, match="run"):
        cluster.put("a", 1)
    cluster.run(ticks=3)
    cluster.crash(2)
    with pytest.raises(NodeDown, match="already crashed; recover"):
        cluster.crash(2)
    with pytest.raises(NodeDown, match="recover"):
        cluster.put("a", 1, at=2)
    with pytest.raises(BadInput, match="unknown ServerConfig field"):
        Cluster([1, 2, 3], election_ticks=1)
    with pytest.raises(BadInput, match="Invalid config"):
        Cluster([1, 2, 3], batch_size=0)
    with pytest.raises(BadInput, match="starts with ClusterCreated"):
        Cluster.replay([])


def test_check_every_step_raises_at_the_first_violation_with_the_trace(monkeypatch):
    cluster = Cluster([1, 2, 3], check_every_step=True)
    cluster.run(ticks=3)
    # Pretend node 2 decided something else at idx 0: the ledger sees the disagreement.
    cluster.put("a", 1)
    cluster.ledger.clashes.append(Clash(1, 0, KeyValue("a", 1), 2, KeyValue("a", 2), 3, len(cluster.trace) - 1))
    with pytest.raises(InvariantViolation) as info:
        cluster.step()
    assert info.value.verdicts[0].name == "UniformAgreement"
    assert info.value.trace is cluster.trace and "nodes 2 and 3" in str(info.value)
    replayed = Cluster.replay(info.value.trace)  # replays up to the violation without raising
    assert replayed.check_every_step and len(replayed.trace.operations()) == len(cluster.trace.operations())


def test_faults_of_a_campaign_are_named():
    assert set(FAULTS) == {"reorder", "drop", "duplicate", "delay", "crash", "cut", "partition", "append", "compact",
                           "reconfigure"}
