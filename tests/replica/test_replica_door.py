"""The replica rejects what is not for it, before anything changes.

Caller misuse (``trim(-1)``, ``snapshot(2.5)``, ``reconnected(99)``) is `InvalidArgument`; a message
for another pid, from outside the configuration, of another configuration, or malformed
(``HeartbeatReply(ballot=None)``) is a `MessageErr` subclass. Either way the replica, its storage
and its outbox are exactly as before, and nothing is broadcast.
"""

from __future__ import annotations

import pytest

from omnilab.replica.ballot import Ballot, SequenceNumber
from omnilab.replica.errors import InvalidArgument, MessageErr
from omnilab.replica.messages import (AcceptDecide, Accepted, BLEMessage, Decide, HeartbeatReply, HeartbeatRequest,
                                      PaxosMessage, Prepare, Trim)
from tests.replica.property_net import Net


def picture(omni) -> tuple:
    """Everything observable about a replica, without draining anything."""
    sp = omni.seq_paxos
    return (omni.inspect(), sp.log.read_entries(0, sp.log.accepted_idx), len(sp.outbox),
            list(omni.ble.heartbeat_replies), omni.ble.hb_round, omni.storage.get_compacted_idx())


@pytest.fixture
def net():
    n = Net([1, 2, 3])
    n.run(3)
    assert n.leader() == 3
    for i in range(4):
        n.omnis[3].append(i)
    n.deliver_all()
    assert n.omnis[1].get_decided_idx() == 4
    return n


def test_trim_minus_one_is_refused_and_not_broadcast(net):
    leader = net.omnis[3]
    before = picture(leader)
    with pytest.raises(InvalidArgument, match=r"trim\(idx\): idx must be a log index") as info:
        leader.trim(-1)
    assert info.value.value == -1 and info.value.argument == "idx"
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)
    assert picture(leader) == before
    assert leader.take_outgoing_messages() == []  # no Trim(-1) to any peer


@pytest.mark.parametrize("call", [
    lambda o: o.trim(-1), lambda o: o.trim(2.0), lambda o: o.trim("2"), lambda o: o.trim(True),
    lambda o: o.snapshot(-3), lambda o: o.snapshot(1.5), lambda o: o.snapshot(2, local_only="yes"),
    lambda o: o.read(-1), lambda o: o.read("0"), lambda o: o.read_entries(-2, 3), lambda o: o.read_entries(0, 2.5),
    lambda o: o.read_decided_suffix(-1), lambda o: o.reconnected(99), lambda o: o.reconnected("2"),
    lambda o: o.set_priority(-1), lambda o: o.set_priority(None), lambda o: o.reconfigure([1, 2, 3]),
])
def test_caller_misuse_is_invalid_argument_and_changes_nothing(net, call):
    leader = net.omnis[3]
    before = picture(leader)
    with pytest.raises(InvalidArgument):
        call(leader)
    assert picture(leader) == before


B = Ballot(1, 2, 0, 3)


@pytest.mark.parametrize("message, kind, phrase", [
    (BLEMessage(3, 2, HeartbeatRequest(1)), MessageErr.NotForMe, "addressed to node 2"),
    (PaxosMessage(3, 7, Decide(B, SequenceNumber(1, 9), 4)), MessageErr.NotForMe, "addressed to node 7"),
    (BLEMessage(9, 1, HeartbeatRequest(1)), MessageErr.UnknownSender, "sender 9"),
    (BLEMessage(1, 1, HeartbeatRequest(1)), MessageErr.UnknownSender, "sender 1"),
    (PaxosMessage(3, 1, Prepare(Ballot(2, 9, 0, 3), 0, Ballot(), 0)), MessageErr.OtherConfiguration,
     "configuration 2"),
    (PaxosMessage(3, 1, Accepted(Ballot(5, 1, 0, 3), 2)), MessageErr.OtherConfiguration, "configuration 5"),
    (BLEMessage(3, 1, HeartbeatReply(1, None, B, True)), MessageErr.Malformed, "ballot=None"),
    (BLEMessage(3, 1, HeartbeatReply(1, B, B, "yes")), MessageErr.Malformed, "happy='yes'"),
    (BLEMessage(3, 1, HeartbeatRequest(-1)), MessageErr.Malformed, "round=-1"),
    (PaxosMessage(3, 1, Decide(B, SequenceNumber(1, 9), -4)), MessageErr.Malformed, "decided_idx=-4"),
    (PaxosMessage(3, 1, AcceptDecide(B, SequenceNumber(1, 9), 4, [5])), MessageErr.Malformed, "entries=[5]"),
    (PaxosMessage(3, 1, AcceptDecide(B, None, 4, (5,))), MessageErr.Malformed, "seq_num=None"),
    (PaxosMessage(3, 1, Trim(-1)), MessageErr.Malformed, "idx=-1"),
    (PaxosMessage(3, 1, Accepted(Ballot(1, None, 0, 3), 2)), MessageErr.Malformed, "Ballot of integers"),
    (PaxosMessage(3, 1, HeartbeatRequest(1)), MessageErr.Malformed, "not a Sequence Paxos message"),
    (BLEMessage(3, 1, Decide(B, SequenceNumber(), 1)), MessageErr.Malformed, "not a Ballot Leader Election"),
    (PaxosMessage(3, 1, "hello"), MessageErr.Malformed, "str is not a Sequence Paxos message"),
    (HeartbeatRequest(1), MessageErr.Malformed, "takes a Message.SequencePaxos or Message.BLE"),
    (None, MessageErr.Malformed, "takes a Message"),
])
def test_a_message_not_for_me_is_refused_and_changes_nothing(net, message, kind, phrase):
    follower = net.omnis[1]
    before = picture(follower)
    with pytest.raises(kind) as info:
        follower.handle_incoming(message)
    err = info.value
    assert isinstance(err, MessageErr) and err.message is message and err.pid == 1
    assert phrase in str(err), str(err)
    assert "dropped; nothing changed" in str(err)
    assert picture(follower) == before


def test_the_default_ballot_of_a_fresh_node_is_of_every_configuration():
    # A fresh node's promise is Ballot() (configuration 0): its PrepareReq must be heard.
    net = Net([1, 2, 3])
    net.run(3)
    from omnilab.replica.messages import PrepareReq
    net.omnis[3].handle_incoming(PaxosMessage(1, 3, PrepareReq(Ballot())))
    assert net.omnis[3].take_outgoing_messages()  # the leader answers with a Prepare


def test_a_heartbeat_reply_of_another_configuration_is_ignored_as_the_library_does(net):
    follower = net.omnis[1]
    before = list(follower.ble.heartbeat_replies)
    follower.handle_incoming(BLEMessage(3, 1, HeartbeatReply(follower.ble.hb_round, Ballot(2, 1, 0, 3),
                                                             Ballot(2, 1, 0, 3), True)))
    assert follower.ble.heartbeat_replies == before  # stale news, not an error (BLE's own rule)


def test_well_formed_traffic_still_flows_after_refusals(net):
    leader = net.omnis[3]
    with pytest.raises(InvalidArgument):
        leader.trim(-1)
    with pytest.raises(MessageErr):
        net.omnis[1].handle_incoming(BLEMessage(3, 1, HeartbeatReply(1, None, B, True)))
    leader.append(99)
    net.deliver_all()
    assert all(o.get_decided_idx() == 5 for o in net.omnis.values())
    leader.trim(2)
    net.deliver_all()
    assert all(o.get_compacted_idx() == 2 for o in net.omnis.values())
