"""The scenarios' topologies as data: presets the lab widget offers for any set of nodes."""

from omnilab.sim import Cluster, scenarios


def apply(cluster, calls):
    for method, args in calls:
        getattr(cluster, method)(*args)


def up_links(cluster):
    pids = sorted(cluster.servers)
    return {(a, b) for a in pids for b in pids if a < b
            and (a, b) not in cluster.network.cut_links and (b, a) not in cluster.network.cut_links}


def test_quorum_loss_preset_is_the_star_of_the_quorum_loss_scenario():
    cluster = Cluster([1, 2, 3, 4, 5])
    presets = dict(scenarios.network_presets([1, 2, 3, 4, 5], leader=5))
    apply(cluster, presets["quorum loss: only 3 reaches all"])
    assert up_links(cluster) == {(1, 3), (2, 3), (3, 4), (3, 5)}
    assert up_links(scenarios.quorum_loss()) == up_links(cluster)


def test_chained_preset_links_only_neighbours():
    cluster = Cluster([1, 2, 3])
    apply(cluster, dict(scenarios.network_presets([1, 2, 3]))["chained: 1 - 2 - 3"])
    assert up_links(cluster) == {(1, 2), (2, 3)}
    assert up_links(scenarios.chained()) == up_links(cluster)


def test_split_and_isolate_presets():
    presets = dict(scenarios.network_presets([1, 2, 3, 4, 5], leader=5))
    assert presets["split: [1, 2, 3] | [4, 5]"] == [("partition", ([1, 2, 3], [4, 5]))]
    assert presets["isolate the leader 5"] == [("partition", ([5], [1, 2, 3, 4]))]
    assert scenarios.network_presets([1]) == []
