"""The reconfiguration strip: the stages of the seed story (node 3 crashed, replace it with node 4),
read at each point of the change."""

from omnilab import view
from omnilab.sim import Cluster, scenarios
from omnilab.sim import trace as T
from omnilab.view.reconfiguration import DONE, MARK, NOT_YET, WAITING, reconfiguration, strip_html

def stages(cluster):
    frame = reconfiguration(cluster)
    return list(zip(frame.stage, frame.state))


def step_until(cluster, done, limit=400):
    """Deliver (or tick when nothing is in flight) one thing at a time until `done(cluster)`."""
    for _ in range(limit):
        if done(cluster):
            return
        if cluster.network.in_flight:
            cluster.step()
        else:
            cluster.tick()
    raise AssertionError("the condition never held")


def state_of(cluster, prefix):
    matching = [state for stage, state in stages(cluster) if stage.startswith(prefix)]
    assert len(matching) == 1, stages(cluster)
    return matching[0]


def test_seed_story_stage_by_stage():
    cluster = scenarios.replace_crashed_node()
    # Before proposing: one row, nothing proposed.
    assert stages(cluster) == [("no reconfiguration proposed", NOT_YET)]
    assert list(reconfiguration(cluster).change) == ["c1 [1, 2, 3]"]

    # Proposed at the leader (node 2), which accepts it itself: 1 of 3, short of a majority.
    cluster.reconfigure([1, 2, 4])
    frame = reconfiguration(cluster)
    assert set(frame.change) == {"c1 [1, 2, 3] → c2 [1, 2, 4]"}
    assert list(frame.stage) == ["StopSign proposed", "accepted by 1 of 3", "decided (seals configuration 1)",
                                 "instances of c2 started", "node 4 told", "node 4 state received", "node 4 running"]
    assert list(frame.state) == [DONE, WAITING] + [NOT_YET] * 5
    assert frame.detail[0] == "at node 2"

    # Node 1 accepts: 2 of 3 is a majority; the decision is what it waits for now.
    step_until(cluster, lambda c: any(s.startswith("accepted by 2") for s, _ in stages(c)))
    assert stages(cluster)[1:3] == [("accepted by 2 of 3", DONE), ("decided (seals configuration 1)", WAITING)]
    assert reconfiguration(cluster).detail[1] == "nodes 1, 2 (a majority is 2)"

    # Decided: configuration 1 is sealed.
    step_until(cluster, lambda c: state_of(c, "decided") == DONE)
    assert ("decided: configuration 1 sealed", DONE) in stages(cluster)
    assert any(isinstance(item, T.EntryDecided) and item.config_id == 1 for item in cluster.trace)

    # Node 4: told, then its state, then running.
    step_until(cluster, lambda c: state_of(c, "node 4 told") == DONE)
    assert state_of(cluster, "instances of c2 started") == DONE
    assert state_of(cluster, "node 4 state received") == WAITING
    step_until(cluster, lambda c: state_of(c, "node 4 running") == DONE)
    assert all(state == DONE for _, state in stages(cluster))
    assert cluster.servers[4].omnipaxos is not None


def test_the_strip_says_each_state_in_text_not_only_colour():
    cluster = scenarios.replace_crashed_node()
    cluster.reconfigure([1, 2, 4])
    markup = strip_html(reconfiguration(cluster))
    assert f"{MARK[DONE]} StopSign proposed" in markup
    assert f"{MARK[WAITING]} accepted by 1 of 3" in markup
    assert f"{MARK[NOT_YET]} node 4 running" in markup
    assert "var(--jp-ui-font-color1" in markup  # follows JupyterLab's theme
    assert view.reconfiguration is reconfiguration


def test_a_crashed_members_acceptance_counts_and_views_only_read():
    """The StopSign accepted by node 1 stays in its storage through a crash (it counts); and reading
    the strip changes nothing in the cluster."""
    cluster = scenarios.replace_crashed_node()
    cluster.reconfigure([1, 2, 4])
    step_until(cluster, lambda c: state_of(c, "accepted") == DONE)
    assert state_of(cluster, "decided") == WAITING  # node 1 accepted; node 2 has not heard it yet
    cluster.crash(1)
    before = (list(cluster.trace), list(cluster.network.in_flight), cluster.version)
    assert stages(cluster)[1] == ("accepted by 2 of 3", DONE)
    assert (list(cluster.trace), list(cluster.network.in_flight), cluster.version) == before


def test_two_changes_each_get_their_strip():
    cluster = scenarios.replace_crashed_node()
    cluster.reconfigure([1, 2, 4])
    cluster.run(ticks=3)
    cluster.run(ticks=3)
    cluster.reconfigure([1, 2, 4, 5])
    frame = reconfiguration(cluster)
    assert list(dict.fromkeys(frame.change)) == ["c1 [1, 2, 3] → c2 [1, 2, 4]", "c2 [1, 2, 4] → c3 [1, 2, 4, 5]"]
    first = frame[frame.change == frame.change[0]]
    assert set(first.state) == {DONE}
    second = frame[frame.change != frame.change[0]]
    assert list(second.stage)[-3:] == ["node 5 told", "node 5 state received", "node 5 running"]
    assert "node 4 told" not in list(second.stage)  # node 4 stays: it is not new in c3


def test_no_change_on_a_fresh_cluster():
    assert stages(Cluster([1, 2, 3])) == [("no reconfiguration proposed", NOT_YET)]


def test_the_scan_kept_per_trace_matches_a_fresh_one_at_every_step():
    # The strip reads only the trace's new items on each call; a replayed copy (a new trace, so a
    # fresh scan) must give the same rows at every point of a reconfiguration.
    from omnilab.sim import Cluster

    cluster = scenarios.replace_crashed_node()
    cluster.reconfigure([1, 2, 4])
    for _ in range(40):
        cluster.step() if cluster.network.in_flight else cluster.tick()
        kept = reconfiguration(cluster)
        fresh = reconfiguration(Cluster.replay(cluster.trace))
        assert kept.equals(fresh)
    assert "node 4 running" in set(kept.stage) and set(kept.state) == {"done"}
