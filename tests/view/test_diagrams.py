"""The diagrams of omnilab.view: drawn from the replica's table and the cluster's state and trace."""

import html
import re

import graphviz
import pytest

from omnilab.replica.sequence_paxos.transitions import ALL_STATES, ALLOWED, INITIAL_STATES, TRANSITIONS
from omnilab.sim import scenarios
from omnilab.view import diagrams
from omnilab.view import palette as P
from tests.view.test_tables import fingerprint


def node_block(source: str, name: str) -> str:
    """The DOT statement of node `name`."""
    match = re.search(rf"^\s*{re.escape(name)} \[(.*?)\]$", source, re.M | re.S)
    assert match, f"no node {name} in\n{source}"
    return match.group(1)


def edges(source: str) -> set:
    return set(re.findall(r"^\s*(\w+) -> (\w+)", source, re.M))


# --- role / phase -----------------------------------------------------------------------------------

def test_role_phase_diagram_draws_every_allowed_transition_from_the_replicas_table():
    source = diagrams.role_phase_diagram().source
    drawn = edges(source)
    for state in ALL_STATES:
        assert diagrams._state_id(state) in source
    everywhere = {t.target for t in TRANSITIONS if set(t.sources) == set(ALL_STATES)}
    for source_state, target in ALLOWED:
        explicit = (diagrams._state_id(source_state), diagrams._state_id(target)) in drawn
        via_any = target in everywhere and ("any_state", diagrams._state_id(target)) in drawn
        assert explicit or via_any, f"{source_state} -> {target} is not drawn"
    for transition in TRANSITIONS:
        assert transition.handler in source
    for name, state in INITIAL_STATES.items():
        assert ("start_" + name.replace(" ", "_"), diagrams._state_id(state)) in drawn


def test_role_phase_diagram_renders():
    assert "<svg" in diagrams.svg(diagrams.role_phase_diagram())


# --- the cluster ------------------------------------------------------------------------------------

def test_cluster_diagram_marks_the_leader_and_the_crashed_node():
    cluster = scenarios.replace_crashed_node()
    source = diagrams.cluster_diagram(cluster).source
    assert cluster.leader() == 2
    assert "★" in node_block(source, "2") and 'penwidth=3.5' in node_block(source, "2")
    crashed = node_block(source, "3")
    assert "✗ crashed" in crashed and "dashed" in crashed and P.CRASHED_STROKE in crashed
    assert "★" not in node_block(source, "1")
    assert "configuration 1:" not in source and "not in configuration" not in source  # one configuration


def test_cut_links_are_broken_lines_and_messages_are_labelled_arrows():
    cluster = scenarios.chained()
    cluster.tick()
    source = diagrams.cluster_diagram(cluster).source
    assert re.search(r'1 -> 3 \[.*label="✂".*style=dashed', source) or \
        re.search(r'1 -> 3 \[.*style=dashed.*label="✂"', source)
    for msg_id, env in cluster.network.in_flight.items():
        assert f"#{msg_id} {env.kind}" in source


def test_a_one_way_cut_is_an_arrow():
    cluster = scenarios.replace_crashed_node()
    cluster.cut(1, 2, one_way=True)
    assert "✂ 1→2" in diagrams.cluster_diagram(cluster).source


def node_positions(source: str) -> dict:
    return {name: pos for name, pos in re.findall(r'^\s*(\d+) \[.*?pos="([^"]+)"', source, re.M | re.S)}


def test_nodes_keep_their_places_when_node_4_appears():
    cluster = scenarios.replace_crashed_node()
    before = node_positions(diagrams.cluster_diagram(cluster).source)
    assert set(before) == {"1", "2", "3"}
    cluster.reconfigure([1, 2, 4])
    cluster.run(ticks=1)  # node 4 is created, joining configuration 2
    during = node_positions(diagrams.cluster_diagram(cluster).source)
    cluster.run(ticks=3)
    cluster.recover(3)
    after = node_positions(diagrams.cluster_diagram(cluster).source)
    assert "4" in during and during == after
    assert {pid: during[pid] for pid in before} == before  # nobody moved
    x = {pid: float(pos.split(",")[0]) for pid, pos in after.items()}
    assert x["4"] > max(x[p] for p in "123")  # the newcomer stands to the right of the first ring
    # Replaying the trace (Undo, Replay) draws the same places.
    from omnilab.sim import Cluster

    assert node_positions(diagrams.cluster_diagram(Cluster.replay(cluster.trace)).source) == after


def test_message_cards_coming_and_going_do_not_move_the_picture():
    cluster = scenarios.replace_crashed_node()

    def frame(svg):
        return re.search(r'viewBox="([^"]+)"', svg).group(1), re.search(r'transform="([^"]+)"', svg).group(1)

    quiet = frame(diagrams.svg(diagrams.cluster_diagram(cluster)))
    cluster.tick(3)  # heartbeats in flight on every link: cards beside every line
    assert cluster.network.in_flight
    assert frame(diagrams.svg(diagrams.cluster_diagram(cluster))) == quiet


def test_the_configurations_are_named_in_the_heading_during_a_reconfiguration():
    cluster = scenarios.replace_crashed_node()
    cluster.reconfigure([1, 2, 4])
    cluster.run(ticks=3)
    source = diagrams.cluster_diagram(cluster).source
    assert "configuration 1: nodes 1, 2, 3 (sealed)" in source and "labelloc=b" in source  # below: nobody moves
    assert "configuration 2: nodes 1, 2, 4 (current)" in source
    assert "c2 · promise" in node_block(source, "4")
    assert "not in configuration 2" in node_block(source, "3")
    assert "not in configuration" not in node_block(source, "1")


def test_every_part_of_the_cluster_diagram_has_a_title_in_words():
    cluster = scenarios.replace_crashed_node()
    cluster.cut(1, 2, one_way=True)
    cluster.tick()
    svg = diagrams.svg(diagrams.cluster_diagram(cluster))
    # The picture's own <title> (read by screen readers), then one per node, link and message card.
    first_title = html.unescape(re.search(r"<title>(.*?)</title>", svg).group(1))
    assert first_title.startswith("cluster of nodes 1, 2, 3; leader 2; configuration 1; crashed 3; ")
    tips = [html.unescape(t) for t in re.findall(r'xlink:title="([^"]*)"', svg)]
    assert any(t.startswith("node 2 (the leader); Leader in phase Accept of configuration 1") for t in tips)
    assert any(t.startswith("node 3; crashed: its memory is lost, its storage (c1) survives") for t in tips)
    assert "link 1 → 2 cut one way: 1 cannot reach 2, 2 still reaches 1" in tips
    env = next(iter(cluster.network.in_flight.values()))
    assert any(f"#{env.id} {env.kind}(" in t and t.startswith(f"{sum(1 for e in cluster.network.in_flight.values() if (e.sender, e.receiver) == (env.sender, env.receiver))} in flight {env.sender} → {env.receiver}")
               for t in tips)


def test_many_messages_on_one_link_are_summarised():
    cluster = scenarios.replace_crashed_node()
    for _ in range(4):
        cluster.tick()
    source = diagrams.cluster_diagram(cluster, max_messages_per_link=2).source
    assert re.search(r"\+\d+ more", source)


# --- space-time -------------------------------------------------------------------------------------

def test_spacetime_has_a_lane_per_node_and_an_arrow_per_message():
    cluster = scenarios.replace_crashed_node()
    cluster.put("c", 3)
    cluster.run(ticks=1)
    source = diagrams.spacetime(cluster, last=40).source
    for pid in (1, 2, 3):
        assert f'label="node {pid}"' in source
    assert "AcceptDecide" in source and "Accepted" in source
    assert "✓ 2: c=3" in source
    assert "cluster.put('c', 3)" in source  # the operation in the margin
    assert "Heartbeat" not in diagrams.spacetime(cluster, last=40).source
    assert "HeartbeatRequest" in diagrams.spacetime(cluster, last=40, ble=True).source


def test_spacetime_marks_crash_recover_stopsign_and_instance_start():
    cluster = scenarios.replace_crashed_node()
    cluster.recover(3)
    cluster.run(ticks=2)
    cluster.crash(3)
    cluster.reconfigure([1, 2, 4])
    cluster.run(ticks=3)
    source = diagrams.spacetime(cluster, last=None).source
    for mark in ("✗ crash", "↻ recover", "✓ 2: StopSign→c2", "▶ start c2", "+ created for c2",
                 "state of c1 installed", "lost"):
        assert mark in source, mark
    assert P.FILL[P.STOPSIGN] in source and P.FILL[P.DECIDED] in source


def test_spacetime_of_a_trace_equals_spacetime_of_its_cluster():
    cluster = scenarios.chained()
    assert diagrams.spacetime(cluster).source == diagrams.spacetime(cluster.trace).source
    assert diagrams.spacetime(cluster).source == diagrams.spacetime(scenarios.chained()).source


def test_spacetime_upto_draws_the_trace_as_it_was_then():
    cluster = scenarios.replace_crashed_node()
    cluster.reconfigure([1, 2, 4])
    cluster.run(ticks=1)
    decided = next(pos for pos, item in enumerate(cluster.trace)
                   if type(item).__name__ == "EntryDecided" and item.config_id == 1 and item.idx == 2)
    held = diagrams.spacetime(cluster, upto=decided + 1).source
    assert "✓ 2: StopSign→c2" in held
    cluster.run(ticks=3)
    for k in range(4):  # the trace grows: the end-anchored window loses the decision...
        cluster.put(f"k{k}", k)
        cluster.run(ticks=1)
    assert "✓ 2: StopSign→c2" not in diagrams.spacetime(cluster).source
    # ...the held window does not, and it is the same picture as the prefix of the trace.
    again = diagrams.spacetime(cluster, upto=decided + 1).source
    assert again.split("up to trace position")[0] == held.split("up to trace position")[0]
    assert f"up to trace position {decided + 1} of {len(cluster.trace)}" in again
    assert diagrams.spacetime(cluster.trace[:decided + 1]).source.split("label=\"…")[0] == \
        again.split("label=\"…")[0]
    assert diagrams.spacetime(cluster, upto=len(cluster.trace)).source == diagrams.spacetime(cluster).source


def test_messages_still_in_flight_end_dashed_at_the_bottom():
    cluster = scenarios.replace_crashed_node()
    cluster.put("c", 3)
    source = diagrams.spacetime(cluster, last=10).source
    assert "(in flight)" in source


# --- all diagrams -----------------------------------------------------------------------------------

DIAGRAMS = [diagrams.cluster_diagram, diagrams.spacetime]


@pytest.mark.parametrize("draw", DIAGRAMS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("scenario", sorted(scenarios.SCENARIOS))
def test_every_scenario_renders_without_graphviz_warnings(draw, scenario, capfd):
    cluster = scenarios.SCENARIOS[scenario]()
    diagram = draw(cluster)
    assert isinstance(diagram, graphviz.Digraph)
    svg = diagram.pipe(format="svg", encoding="utf-8")  # not quiet: a warning would show in a notebook
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    assert capfd.readouterr().err == ""
    assert "0x" not in diagram.source


@pytest.mark.parametrize("draw", DIAGRAMS, ids=lambda f: f.__name__)
def test_diagrams_never_change_the_cluster(draw):
    cluster = scenarios.replace_crashed_node()
    cluster.reconfigure([1, 2, 4])
    cluster.step()
    before = fingerprint(cluster)
    draw(cluster)
    assert fingerprint(cluster) == before


def test_svg_is_cached_by_source():
    diagram = diagrams.role_phase_diagram()
    first = diagrams.svg(diagram)
    hits = diagrams._render_svg.cache_info().hits
    assert diagrams.svg(diagrams.role_phase_diagram()) is first
    assert diagrams._render_svg.cache_info().hits == hits + 1


def test_the_spacetime_svg_says_what_it_shows_and_each_arrow_its_message():
    cluster = scenarios.replace_crashed_node()
    cluster.put("c", 3)
    cluster.run(ticks=1)
    cluster.tick()
    svg = diagrams.svg(diagrams.spacetime(cluster, last=40))
    title = html.unescape(re.search(r"<title>(.*?)</title>", svg).group(1))
    assert title.startswith("space-time diagram of nodes 1, 2, 3: trace positions ")
    assert title.endswith(f"to {len(cluster.trace)}, heartbeats hidden")
    tips = [html.unescape(t) for t in re.findall(r'xlink:title="([^"]*)"', svg)]
    assert any(re.match(r"#\d+ AcceptDecide from node 2 to node 1, delivered: AcceptDecide\(", t) for t in tips), tips
    assert any(t.startswith("node 2: ✓ 2: c=3") or t.startswith("node 1: ✓ 2: c=3") for t in tips), tips
