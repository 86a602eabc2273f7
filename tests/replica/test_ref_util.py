"""Port of the unit test in omnipaxos/src/util.rs: preparable_peers_test.

The reference checks that a leader state over sparse pids (peers [6, 7, 8] with max_pid 8, and
[7, 1, 100, 4, 6] with max_pid 100) finds every peer "preparable", in the given order. omnilab
exposes the same helper as ``LeaderState.preparable_peers(me)``; the public behaviour behind it
(a leader over sparse pids sends Prepare to every peer, and re-sends it to those that have not
promised) is tested too.
"""

import pytest

from omnilab.replica import Ballot
from omnilab.replica.config import Quorum
from omnilab.replica.messages import Prepare
from omnilab.replica.state import PromiseState
from omnilab.replica.sequence_paxos.leader_state import LeaderState

from tests.replica.driver import Cluster


@pytest.mark.parametrize("peers", [[6, 7, 8], [7, 1, 100, 4, 6]])
def test_preparable_peers_test(peers):
    me = 5
    nodes = tuple(peers) + (me,)
    state = LeaderState(Ballot(1, 1, 0, me), nodes, Quorum.of(len(nodes), None))
    assert state.preparable_peers(me) == peers


@pytest.mark.parametrize("pids", [[1, 3], [6, 7, 8], [7, 1, 100, 4, 6]])
def test_leader_over_sparse_pids_prepares_every_peer(pids):
    cluster = Cluster(pids, take_after_each=False)
    leader = max(pids)
    op = cluster.node(leader)
    for pid in pids:  # one BLE round with the start-up replies delivered: only the max pid leads
        cluster.node(pid).tick()
    sent = op.take_outgoing_messages()
    prepares = [m.receiver for m in sent if isinstance(m.msg, Prepare)]
    assert prepares == [p for p in pids if p != leader]
    for m in sent:
        cluster.send(m)
    cluster.deliver()
    cluster.tick(1)
    for pid in pids:
        assert cluster.node(pid).get_current_leader() == (leader, True)
    promised = op.inspect().leader_promised
    assert promised == {p: PromiseState.PROMISED for p in pids}


def test_leader_resends_prepare_only_to_peers_that_have_not_promised():
    pids = [2, 5, 9]
    cluster = Cluster(pids, resend_ticks=2)
    cluster.disconnect(2)
    cluster.tick(1)
    leader = cluster.node(9)
    assert leader.get_current_leader() == (9, True)
    leader.tick()
    leader.tick()  # the resend timer fires on the second tick
    resent = [m.receiver for m in leader.take_outgoing_messages() if isinstance(m.msg, Prepare)]
    assert resent == [2]
