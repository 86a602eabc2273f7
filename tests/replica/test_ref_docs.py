"""Port of omnipaxos/tests/docs_integration.rs :: trim: trim on a non-leader
fails with ``CompactionErr.NotCurrentLeader`` carrying the pid of the replica's promise."""

import pytest

from omnilab.replica import ClusterConfig, CompactionErr, MemoryStorage, ServerConfig

from tests.replica.driver import Cluster


def test_trim():
    config = ClusterConfig(configuration_id=1, nodes=[1, 2, 3])
    op = config.build_for_server(ServerConfig(pid=2), MemoryStorage())
    with pytest.raises(CompactionErr.NotCurrentLeader) as refused:
        op.trim(100)
    assert refused.value.pid == 0  # it never promised anyone


def test_trim_on_a_follower_names_the_leader():
    cluster = Cluster(3)
    leader = cluster.elected_leader(1)
    with pytest.raises(CompactionErr.NotCurrentLeader) as refused:
        cluster.node(1).trim(None)
    assert refused.value.pid == leader
    assert isinstance(refused.value, CompactionErr)
