"""view.storage: every node's storage in every configuration, side by side."""

from omnilab.sim import Cluster, scenarios
from omnilab.view import storage
from omnilab.view.storage import FIELDS, NO_STORAGE


def test_one_configuration_one_group():
    cluster = scenarios.replace_crashed_node()
    frame = storage(cluster)
    assert list(frame.columns) == ["node 1", "node 2", "node 3"]
    assert list(frame.index) == [("c1 [1, 2, 3]", f) for f in FIELDS]
    assert frame.loc[("c1 [1, 2, 3]", "members"), "node 3"] == "member (crashed: storage kept)"
    assert frame.loc[("c1 [1, 2, 3]", "decided_idx"), "node 1"] == 2


def test_every_configuration_is_shown_with_the_stopsign_that_sealed_the_old_one():
    cluster = scenarios.replace_crashed_node()
    cluster.reconfigure([1, 2, 4])
    cluster.run(ticks=3)
    frame = storage(cluster)
    assert [label for label in dict.fromkeys(frame.index.get_level_values(0))] == ["c1 [1, 2, 3]", "c2 [1, 2, 4]"]
    old, new = "c1 [1, 2, 3]", "c2 [1, 2, 4]"
    for pid in (1, 2):  # both stayed: one storage per configuration
        assert frame.loc[(old, "StopSign"), f"node {pid}"] == "StopSign→c2 [1, 2, 4]"
        assert frame.loc[(new, "members"), f"node {pid}"] == "member"
    assert frame.loc[(old, "members"), "node 4"] == "not a member" and frame.loc[(old, "promise"), "node 4"] == ""
    assert frame.loc[(new, "members"), "node 3"] == "not a member"
    assert frame.loc[(new, "state handed over"), "node 4"] == "from c1: a=1, b=2"
    assert frame.loc[(new, "promise"), "node 4"] == frame.loc[(new, "promise"), "node 1"]


def test_a_member_not_yet_told_says_so():
    cluster = scenarios.replace_crashed_node()
    cluster.reconfigure([1, 2, 4])
    # Step until configuration 2 exists at node 1 or 2 but node 4 has not been told it yet.
    for _ in range(100):
        known = any(2 in cluster.servers[p].durable.configs for p in (1, 2))
        if known and 2 not in cluster.servers[4].durable.storages:
            break
        cluster.step() if cluster.network.in_flight else cluster.tick()
    else:
        raise AssertionError("never saw configuration 2 before node 4 was told it")
    frame = storage(cluster)
    new = "c2 [1, 2, 4]"
    assert frame.loc[(new, "members"), "node 4"] == "member"
    assert set(frame.loc[new, "node 4"].iloc[1:]) == {NO_STORAGE}


def test_pure_and_deterministic():
    a, b = Cluster([1, 2, 3]), Cluster([1, 2, 3])
    for cluster in (a, b):
        cluster.run(ticks=3)
        cluster.put("k", 1)
        cluster.deliver_all()
    trace = list(a.trace)
    assert storage(a).equals(storage(b))
    assert list(a.trace) == trace
