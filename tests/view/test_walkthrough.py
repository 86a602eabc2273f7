"""The notebooks' step-by-step helpers: each step is an ordinary traced `step`, one row per protocol
message, and the progress cells say what each node has decided and accepted."""

import pytest

from omnilab.replica.messages import AcceptDecide, HeartbeatRequest
from omnilab.sim import BadInput, Cluster
from omnilab.view.walkthrough import in_flight, progress, protocol_messages, steps, verdicts


def test_one_put_walked_through_message_by_message():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.put("a", 1)
    accept_decides = in_flight(cluster, "AcceptDecide")
    assert len(accept_decides) == 2 and accept_decides == list(protocol_messages(cluster).index)
    before = len(cluster.trace)
    table = steps(cluster)
    assert list(table.columns) == ["delivered", "node 1", "node 2", "node 3"]
    assert table.iloc[0]["delivered"].startswith(f"#{accept_decides[0]} 3→")
    assert "AcceptDecide" in table.iloc[0]["delivered"]
    assert table.iloc[-1]["node 3"] == "★ 1/1"          # the leader decided the put
    assert all(table.iloc[-1][f"node {p}"] == "1/1" for p in (1, 2))
    assert len(cluster.network) == 0 and len(cluster.trace) > before
    assert verdicts(cluster).count("✓") == len(cluster.check())


def test_steps_in_a_chosen_order_and_a_crashed_receiver():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.put("a", 1)
    first, second = in_flight(cluster, "AcceptDecide")
    cluster.crash(2)
    table = steps(cluster, [second, first])
    assert table.iloc[0]["delivered"].startswith(f"#{second} ")
    assert table.iloc[0]["delivered"].endswith("✗ (receiver crashed)") != table.iloc[1]["delivered"].endswith(
        "✗ (receiver crashed)")
    assert progress(cluster, 2) == "crashed"


def test_messages_are_found_by_their_class_or_its_name():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.put("a", 1)
    cluster.tick(1)
    by_name = in_flight(cluster, "AcceptDecide")
    assert by_name == in_flight(cluster, AcceptDecide) and len(by_name) == 2
    heartbeats = in_flight(cluster, HeartbeatRequest)
    assert heartbeats and not set(heartbeats) & set(protocol_messages(cluster).index)
    assert set(protocol_messages(cluster).index) | set(in_flight(cluster, "HeartbeatReply")) | set(heartbeats) == \
        set(in_flight(cluster))
    with pytest.raises(BadInput, match="'Accept' is not a message type; use one of PrepareReq, Prepare"):
        in_flight(cluster, "Accept")
