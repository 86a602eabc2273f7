"""The kept-running Graphviz process (omnilab.view.rendering) draws what a one-shot `dot` call draws."""

import graphviz

from omnilab.sim import scenarios
from omnilab.view import diagrams, rendering


def one_shot(diagram) -> str:
    return graphviz.Source(diagram.source, engine=diagram.engine).pipe(format="svg", encoding="utf-8", quiet=True)


def pictures():
    """Cluster diagrams and space-time windows along a reconfiguration (crash, cut, node 4 joining),
    and the role/phase diagram (the dot engine), in the order the lab would draw them."""
    cluster = scenarios.replace_crashed_node()
    yield diagrams.role_phase_diagram()
    for step in range(6):
        if step == 1:
            cluster.cut(1, 2)
        if step == 2:
            cluster.heal()
            cluster.reconfigure([1, 2, 4])
        cluster.run(ticks=2)
        yield diagrams.cluster_diagram(cluster)
        yield diagrams.spacetime(cluster, last=30)


def test_the_kept_process_draws_byte_for_byte_what_one_dot_call_draws():
    drawn = 0
    for diagram in pictures():
        kept = rendering.render(diagram.source, diagram.engine)
        assert kept is not None, "the kept Graphviz process gave no picture"
        assert kept == one_shot(diagram)
        drawn += 1
    assert drawn == 13


def test_svg_goes_through_the_kept_process_and_a_source_of_several_graphs_does_not():
    diagram = diagrams.cluster_diagram(scenarios.replace_crashed_node())
    assert diagrams.svg(diagram) == one_shot(diagram)
    two = graphviz.Source("digraph { a -> b }\ndigraph { c -> d }")
    both = diagrams.svg(two)  # one `dot` call: both pictures, as graphviz gives them
    assert both.count("</svg>") == 2


def test_a_graph_graphviz_refuses_gives_none_and_the_next_picture_still_comes():
    assert rendering.render("digraph { a -> }", "dot") is None  # a syntax error: dot says so on stderr
    diagram = diagrams.role_phase_diagram()
    assert rendering.render(diagram.source, diagram.engine) == one_shot(diagram)
