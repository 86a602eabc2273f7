"""Port of omnipaxos/tests/ble_test.rs: repeated crash-driven re-election."""

from tests.replica.driver import Cluster

# ble_test section of tests/config/test.toml: 10 nodes, election 100 ms, so resend 500 ms = 5 ticks,
# flush 2000 ms = 20 ticks, and "10 election timeouts" = 10 ticks.
NUM_NODES = 10


def test_ble_test():
    cluster = Cluster(NUM_NODES, resend_ticks=5, flush_ticks=20)
    leaders = []
    for _ in range(5):
        cluster.tick(10)
        asker = min(cluster.alive())
        leader = cluster.leader_of(asker)
        assert leader is not None, f"node {asker} knows no leader after 10 election timeouts"
        assert not leaders or leader != leaders[-1], f"leader {leader} was not replaced after its crash"
        leaders.append(leader)
        cluster.crash(leader)
    # Equal priorities: the highest quorum-connected pid wins every takeover.
    assert leaders == [10, 9, 8, 7, 6]
