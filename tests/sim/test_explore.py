"""The explorer: every schedule within small bounds, the shortest counterexample, replayable.

Bounds here are small (a few seconds each); the big bounds live in bench/explore.py. The counts
pinned below are the distinct states of small bounds, as Stateright pins its own: a change to the
replica, the simulator or the fingerprint that changes the state space shows up here.
"""

from __future__ import annotations

import random

import pytest

from omnilab import cli
from omnilab.sim import BadInput, Cluster
from omnilab.sim.cluster import RECORDED_REFUSALS
from omnilab.sim.explore import (
    BUDGETS,
    CATALOGUE,
    STARTS,
    Bounds,
    _apply,
    _believes_leader,
    _choices,
    _independent,
    _public,
    _Search,
    explore,
)
from omnilab.sim.fingerprint import canonical_state
from omnilab.sim.memo import Successors
from omnilab.sim.mutants import EXPECTED, MUTANTS


def test_the_reference_survives_a_small_bound_and_its_state_count_is_pinned():
    result = explore("steady", depth=4)
    assert result.ok and result.exhausted and result.stopped_by == "exhausted"
    assert result.depth == 4
    assert result.distinct == 178  # one write, one leader change, from three elected nodes
    assert result.counterexample is None and result.schedule() == [] and result.length is None


@pytest.mark.parametrize("start, depth", [("steady", 4), ("contested", 6)])
def test_sleep_sets_prune_transitions_never_states(start, depth):
    reduced = explore(start, depth=depth)
    full = explore(start, depth=depth, reduction=False)
    assert full.ok and full.exhausted and reduced.exhausted
    assert reduced.distinct == full.distinct  # every reachable state is still visited
    assert reduced.pruned > 0 and full.pruned == 0
    assert reduced.transitions < full.transitions


def test_independence_is_deliveries_to_different_receivers_and_drops_of_other_messages():
    m12 = (1, 2)  # (message number, receiver): a message to node 2
    m13 = (2, 3)
    m32 = (3, 2)
    assert _independent(("step", *m12), ("step", *m13))
    assert not _independent(("step", *m12), ("step", *m32))  # same receiver
    assert _independent(("drop", *m12), ("step", *m32))
    assert not _independent(("drop", *m12), ("step", *m12))  # same message
    assert not _independent(("step", *m12), ("tick",))
    assert not _independent(("step", *m12), ("crash", 3))


def _walk(successors, cluster, bounds, steps, seed):
    """A random walk of explorer choices through memoized successors; yields (parent, used, choice,
    child) for each choice (child None when the choice was not enabled after all)."""
    rng = random.Random(seed)
    used = (0,) * len(BUDGETS)
    budget = bounds.budget()
    from omnilab.sim.explore import _SLOT

    interner = successors.interner

    def perform(c, choice):
        _apply(c, _public(choice, interner))

    for _ in range(steps):
        choices = _choices(cluster, used, bounds, budget, interner)
        if not choices:
            return
        choice = rng.choice(choices)
        try:
            child = successors.build(cluster, choice, perform)
        except BadInput:
            child = None
        yield cluster, used, choice, child
        slot = _SLOT.get(choice[0])
        if slot is not None:
            used = used[:slot] + (used[slot] + 1,) + used[slot + 1:]
        if child is not None:
            cluster = child


@pytest.mark.parametrize("seed", range(3))
def test_a_memoized_successor_is_the_public_call_on_a_full_copy_and_leaves_its_parent_unchanged(seed):
    bounds = Bounds(appends=2, crashes=1, elections=1, ticks=3, drops=2, duplicates=1,
                    reconfigurations=1, reconfigure_to=((1, 2, 4),))
    start = STARTS["steady"].build(None)
    successors = Successors(start, RECORDED_REFUSALS)
    keys: dict = {}
    steps = 0
    for parent, used, choice, child in _walk(successors, start, bounds, 40, seed):
        before = canonical_state(parent, strict=True)
        predicted = successors.predict(parent, successors.servers(parent), successors.interner.messages(parent),
                                       choice, used)
        full = parent.fork()  # a plain copy: real servers, the public call, no memo
        try:
            _apply(full, _public(choice, successors.interner))
        except BadInput:
            assert child is None, choice
            continue
        assert child is not None, choice
        steps += 1
        assert canonical_state(child, strict=True) == canonical_state(full, strict=True), choice
        assert child.check() == full.check()  # the same evidence, at the same trace positions
        assert len(child.trace) == len(full.trace)
        assert canonical_state(parent, strict=True) == before, f"{choice} changed the parent"
        key = successors.key(child, used)
        assert predicted is None or predicted == key, choice
        keys.setdefault(key, set()).add(hash(canonical_state(child, strict=True)))
    assert steps > 10
    assert all(len(states) == 1 for states in keys.values())  # one key, one canonical state


def test_predictions_agree_with_the_built_successors_over_whole_searches(monkeypatch):
    monkeypatch.setattr(_Search, "verify", True)  # build every successor and compare its key
    for start, bounds in (("steady", dict(depth=4, appends=1, crashes=1, drops=1, duplicates=1, ticks=1)),
                          ("replace", dict(depth=5))):
        checked = explore(start, **bounds)
        assert checked.ok and checked.exhausted
        monkeypatch.setattr(_Search, "verify", False)
        plain = explore(start, **bounds)
        monkeypatch.setattr(_Search, "verify", True)
        assert (plain.distinct, plain.transitions, plain.pruned) == (checked.distinct, checked.transitions,
                                                                     checked.pruned)


def test_equal_states_reached_in_different_orders_are_one_state():
    start = STARTS["steady"].build(None)
    start.put("x", 1, at=3)
    successors = Successors(start, RECORDED_REFUSALS)
    ids = [env.id for env in start.network if env.sender == 3]
    assert len(ids) == 2
    a, b = start.fork(), start.fork()
    a.step(ids[0])
    a.step(ids[1])
    b.step(ids[1])
    b.step(ids[0])
    for cluster in (a, b):
        for pid, server in list(cluster.servers.items()):
            cluster.servers[pid] = successors.interner.server(server)[0]
    used = (1,) + (0,) * (len(BUDGETS) - 1)
    assert successors.key(a, used) == successors.key(b, used)
    assert successors.key(a, used) != successors.key(a, (0,) * len(BUDGETS))  # budgets are state
    assert successors.key(a, used) != successors.key(start, used)


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_every_mutant_is_caught_from_its_start(name):
    result = explore(CATALOGUE[name], variant=name)
    assert not result.ok, f"{name} survived {result.summary()}"
    assert result.violation.name in EXPECTED[name], result.violation
    assert result.length == CAUGHT[name][1] and result.violation.name == CAUGHT[name][0]
    # The counterexample is an ordinary trace: it names its variant and replays to the violation.
    again = Cluster.replay(result.counterexample)
    assert again.variant is MUTANTS[name]
    assert any(not v.ok and v.name == result.violation.name for v in again.check())
    # ...and one step earlier nothing was violated.
    assert len(result.schedule()) == result.length
    undone = result.replay()
    undone.undo()
    assert all(v.ok for v in undone.check())


#: mutant -> (the invariant that catches it, the shortest counterexample's length).
CAUGHT = {
    "decide-without-write-quorum": ("Integrity", 7),
    "ignore-most-up-to-date-promise": ("Integrity", 7),
    "accept-lower-ballot": ("Integrity", 8),
    "append-after-stopsign": ("StopSignSeal", 4),
    "stopsign-decided-when-accepted": ("Integrity", 5),
    "start-without-state-transfer": ("ConfigurationTransition", 4),
    "takeover-without-quorum-connected": ("QuorumConnectedTakeover", 2),
}


def test_the_catalogue_table_names_start_invariant_and_length():
    from omnilab.sim.explore import catalogue, format_catalogue

    rows = catalogue(["append-after-stopsign"])
    assert [(r.mutant, r.start, r.invariant, r.length) for r in rows] == [
        ("append-after-stopsign", "replace-write", "StopSignSeal", 4)]
    table = format_catalogue(rows).splitlines()
    assert table[0].split() == ["mutant", "start", "invariant", "length", "seconds", "states"]
    assert table[1].split()[:4] == ["append-after-stopsign", "replace-write", "StopSignSeal", "4"]


def test_the_catalogue_covers_every_mutant_a_safety_invariant_can_catch():
    assert set(CATALOGUE) == {name for name in MUTANTS if EXPECTED[name]}
    assert set(CATALOGUE) == set(CAUGHT)


@pytest.mark.parametrize("start", sorted(set(CATALOGUE.values())))
def test_the_reference_survives_each_start_to_its_mutants_depth(start):
    depth = max(CAUGHT[name][1] for name, s in CATALOGUE.items() if s == start)
    result = explore(start, depth=depth)
    assert result.ok, result.script()
    assert result.exhausted


def test_the_shortest_counterexample_is_shortest_without_the_reduction_too():
    name = "start-without-state-transfer"
    reduced = explore(CATALOGUE[name], variant=name)
    full = explore(CATALOGUE[name], variant=name, reduction=False)
    assert reduced.length == full.length


def test_a_cluster_or_scenario_start_and_its_variant():
    cluster = Cluster([1, 2, 3])
    cluster.run(3)
    trace_length = len(cluster.trace)
    result = explore(cluster, depth=2, appends=1)
    assert result.ok and result.exhausted and len(cluster.trace) == trace_length  # the start is not changed
    assert result.start == "a cluster" and result.variant == "reference"
    mutant = explore(cluster, variant="start-without-state-transfer", depth=1)
    assert mutant.variant == "start-without-state-transfer"
    scenario = explore("quorum_loss", depth=1)
    assert scenario.start == "quorum_loss" and scenario.ok


def test_bad_bounds_say_what_to_do():
    with pytest.raises(BadInput, match="unknown bound"):
        explore("steady", apends=1)
    with pytest.raises(BadInput, match="reconfigure_to"):
        explore("steady", reconfigurations=1)
    with pytest.raises(BadInput, match="the names are"):
        explore("no-such-start")
    with pytest.raises(BadInput, match="unknown invariant"):
        explore("steady", invariants=["Agreement"])
    with pytest.raises(BadInput, match="non-negative"):
        explore("steady", depth=-1)
    with pytest.raises(BadInput, match="seconds is a non-negative number"):
        explore("steady", seconds="10")


def test_the_state_and_time_bounds_stop_the_search():
    by_states = explore("steady", max_states=20)
    assert by_states.stopped_by == "states" and not by_states.exhausted and by_states.distinct == 20
    by_time = explore("steady", seconds=0.0)
    assert by_time.stopped_by == "seconds" and not by_time.exhausted


def test_the_result_shows_itself_and_opens_the_lab_at_the_violation():
    result = explore("replace-write", variant="append-after-stopsign")
    text = repr(result)
    assert "VIOLATED StopSignSeal after 4 choices" in text and " s," not in text
    assert "distinct states/s" in result.summary(timing=True)
    html = result._repr_html_()
    assert "StopSignSeal" in html and "<ol>" in html
    script = result.script()
    assert script.startswith("# the start: replace-write\ncluster = Cluster([1, 2, 3], seed=0, variant=")
    assert all(call.startswith("cluster.") for call in result.schedule())
    assert [op.call() for op in result.after_start().operations()] == result.schedule()
    lab = result.lab()
    assert "violates StopSignSeal" in lab.status_text
    assert "✗ StopSignSeal" in lab.summary()
    lab.press("undo")  # one step back: the write not yet made, every invariant holds
    assert "✗" not in lab.summary()


def test_the_explore_command_prints_the_summary_and_the_schedule(capsys):
    assert cli.main(["explore", "replace-write", "--variant", "append-after-stopsign", "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "VIOLATED StopSignSeal after 4 choices" in out
    assert "cluster.reconfigure([1, 2, 4], at=3)" in out and "distinct states/s" in out
    assert cli.main(["explore", "steady", "--depth", "2", "--no-progress"]) == 0
    assert "no invariant violated" in capsys.readouterr().out
    assert cli.main(["explore", "steady", "--variant", "no-such-variant", "--no-progress"]) == 2
    assert cli.main(["explore", "list"]) == 0
    assert "steady:" in capsys.readouterr().out


# --- reliable FIFO links (fifo=True) ----------------------------------------------------------------

def test_with_fifo_only_the_oldest_message_of_each_link_may_be_delivered():
    start = STARTS["steady"].build(None)
    start.put("x", 1, at=3)
    start.put("y", 2, at=3)  # two Accepts on each link from node 3
    successors = Successors(start, RECORDED_REFUSALS, fifo=True)
    bounds = Bounds(fifo=True)
    steps = [c for c in _choices(start, (0,) * len(BUDGETS), bounds, bounds.budget(), successors.interner)
             if c[0] == "step"]
    oldest: dict = {}
    for env in start.network:
        oldest.setdefault((env.sender, env.receiver), successors.interner.message(env))
    assert len(start.network) > len(oldest)  # some link holds two messages
    assert sorted(c[1] for c in steps) == sorted(oldest.values())


def test_with_fifo_the_state_keeps_each_links_order():
    start = STARTS["steady"].build(None)
    start.put("x", 1, at=3)
    start.put("y", 2, at=3)
    successors = Successors(start, RECORDED_REFUSALS, fifo=True)
    on_link = [env.id for env in start.network if (env.sender, env.receiver) == (3, 1)]
    assert len(on_link) == 2
    swapped = start.fork()
    first = swapped.network.in_flight.pop(on_link[0])
    swapped.network.in_flight[first.id] = first  # the same messages, the link's order reversed
    swapped.servers = dict(start.servers)  # the same representatives
    used = (0,) * len(BUDGETS)
    assert canonical_state(swapped) == canonical_state(start)  # the fingerprint sees a multiset
    assert successors.key(swapped, used) != successors.key(start, used)
    any_order = Successors(start, RECORDED_REFUSALS)
    swapped.servers = dict(start.servers)
    assert any_order.key(swapped, used) == any_order.key(start, used)


@pytest.mark.parametrize("start, depth, distinct", [("steady", 5, 307), ("contested", 6, 159), ("replace", 5, 1073)])
def test_fifo_searches_lose_no_state_to_the_reduction_and_their_counts_are_pinned(start, depth, distinct, monkeypatch):
    monkeypatch.setattr(_Search, "verify", True)  # every prediction compared with the built successor
    reduced = explore(start, depth=depth, fifo=True)
    full = explore(start, depth=depth, fifo=True, reduction=False)
    assert reduced.ok and reduced.exhausted and full.exhausted
    assert reduced.distinct == full.distinct == distinct
    assert reduced.pruned > 0 and reduced.transitions < full.transitions
    assert distinct < explore(start, depth=depth).distinct  # fewer schedules than with any delivery order


def test_fifo_links_hide_the_fault_that_needs_a_message_held_back():
    # accept-lower-ballot breaks agreement only when an old Accept overtakes a newer Prepare on the
    # same link: with FIFO links (the TLA+ model's) the same bound finds nothing.
    assert not explore("contested", variant="accept-lower-ballot").ok
    assert explore("contested", variant="accept-lower-ballot", fifo=True).ok


def test_fifo_takes_no_drops_or_duplicates():
    with pytest.raises(BadInput, match="fifo=True explores reliable FIFO links"):
        explore("steady", fifo=True, drops=1)
    with pytest.raises(BadInput, match="fifo is True or False"):
        explore("steady", fifo="yes")


def test_the_explore_command_takes_fifo(capsys):
    assert cli.main(["explore", "contested", "--variant", "accept-lower-ballot", "--fifo", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "FIFO links" in out and "no invariant violated" in out
    assert cli.main(["explore", "steady", "--fifo", "--drops", "1", "--no-progress"]) == 2
    assert "reliable FIFO links" in capsys.readouterr().out


def _choice_nodes(cluster, bounds, used=(0,) * len(BUDGETS)):
    """kind -> the nodes the explorer would make that choice at, in `cluster`."""
    nodes: dict = {}
    for choice in _choices(cluster, used, bounds, bounds.budget(), Successors(cluster, RECORDED_REFUSALS).interner):
        if choice[0] in ("put", "reconfigure", "elect"):
            nodes.setdefault(choice[0], []).append(choice[1])
    return nodes


def test_at_leader_writes_only_where_a_node_believes_itself_leader():
    start = STARTS["steady"].build(None)
    bounds = Bounds(appends=1, elections=1, reconfigurations=1, reconfigure_to=((1, 2, 4),), at="leader")
    assert start.servers[3].omnipaxos.get_current_leader() == (3, True)  # the steady start's leader
    assert _choice_nodes(start, bounds) == {"put": [3], "reconfigure": [3], "elect": [1, 2, 3]}
    start.try_become_leader(1)  # node 1 prepares a higher ballot; node 3 has not heard of it yet
    assert _choice_nodes(start, bounds) == {"put": [1, 3], "reconfigure": [1, 3], "elect": [1, 2, 3]}
    everywhere = Bounds(appends=1)
    assert _choice_nodes(start, everywhere) == {"put": [1, 2, 3]}


def test_leaders_fix_the_node_of_each_leader_change_in_order():
    start = STARTS["steady"].build(None)
    bounds = Bounds(elections=3, leaders=(2, 3, 1))
    used = [0] * len(BUDGETS)
    for expected in (2, 3, 1):
        assert _choice_nodes(start, bounds, tuple(used)) == {"elect": [expected]}
        used[BUDGETS.index("elections")] += 1
    assert _choice_nodes(start, bounds, tuple(used)) == {}  # the budget is spent
    start.crash(2)
    assert _choice_nodes(start, bounds) == {}  # the stub names node 2, which is down


def test_at_named_writes_only_at_the_node_of_the_latest_leader_change():
    start = STARTS["steady"].build(None)
    bounds = Bounds(appends=1, elections=2, reconfigurations=1, reconfigure_to=((1, 2, 4),), at="named",
                    leaders=(1, 2))
    used = [0] * len(BUDGETS)
    # Before any leader change: the node that believes itself leader (the steady start's, node 3).
    assert _choice_nodes(start, bounds, tuple(used)) == {"put": [3], "reconfigure": [3], "elect": [1]}
    start.try_become_leader(1)
    used[BUDGETS.index("elections")] = 1
    # Node 3 still believes itself leader (it has not heard of node 1's ballot), but the client
    # goes to the leader the stub named last, node 1.
    assert _believes_leader(start.servers[3])
    assert _choice_nodes(start, bounds, tuple(used)) == {"put": [1], "reconfigure": [1], "elect": [2]}
    start.crash(1)
    assert _choice_nodes(start, bounds, tuple(used)) == {"elect": [2]}  # nobody to take the write


def test_the_tla_stub_bound_loses_no_state_to_the_reduction_and_its_count_is_pinned(monkeypatch):
    monkeypatch.setattr(_Search, "verify", True)  # every prediction compared with the built successor
    bounds = dict(depth=6, appends=2, at="leader", leaders=[2, 3], fifo=True)
    reduced = explore("steady", **bounds)
    full = explore("steady", reduction=False, **bounds)
    assert reduced.bounds.elections == 2  # from the leaders given
    assert reduced.ok and reduced.exhausted and full.exhausted
    assert reduced.distinct == full.distinct == 863
    assert "writes at the leader, leader changes at [2, 3]" in reduced.summary()
    # Each option only narrows the choices: fewer states than with writes and leader changes anywhere.
    assert 863 < explore("steady", depth=6, appends=2, leaders=[2, 3], fifo=True).distinct \
        < explore("steady", depth=6, appends=2, elections=2, fifo=True).distinct


def test_the_tla_model_bound_from_its_initial_state_is_pinned(monkeypatch):
    # bench/explore.py's bound (a), cut to depth 7: from the TLA+ model's initial state (nobody
    # elected), its election stub's three leaders in turn, three writes at the leader it named
    # last, FIFO links.
    monkeypatch.setattr(_Search, "verify", True)  # every prediction compared with the built successor
    start = STARTS["unelected"].build(None)
    assert not start.network.in_flight and all(s.omnipaxos.get_current_leader() is None for s in start.servers.values())
    bounds = dict(depth=7, appends=3, at="named", leaders=[1, 2, 3], fifo=True)
    reduced = explore("unelected", **bounds)
    full = explore("unelected", reduction=False, **bounds)
    assert reduced.ok and reduced.exhausted and full.exhausted
    assert reduced.distinct == full.distinct == 1914
    assert reduced.pruned > 0
    # Writes at the leader named last are fewer choices than writes at any node that believes
    # itself leader (an old leader that has not heard of the new ballot yet).
    assert 1914 < explore("unelected", depth=7, appends=3, at="leader", leaders=[1, 2, 3], fifo=True).distinct


def test_at_and_leaders_refuse_what_they_cannot_mean():
    for bad, message in ((dict(leaders=[9]), r"leaders names node\(s\) \[9\]"),
                         (dict(at=[1, 7]), r"at names node\(s\) \[7\]"),
                         (dict(at="somewhere"), 'at is a list of node ids, "leader" or "named"'),
                         (dict(at="named"), 'at="named" makes writes at the node of the latest leader change'),
                         (dict(leaders=5), "leaders is the list of nodes of the leader changes"),
                         (dict(leaders=[2], elections=2), "elections=2 leader changes need as many nodes")):
        with pytest.raises(BadInput, match=message):
            explore("steady", depth=2, **bad)


def test_the_explore_command_takes_at_and_leaders(capsys):
    assert cli.main(["explore", "steady", "--depth", "4", "--appends", "1", "--at", "leader", "--leaders", "2,3",
                     "--fifo", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "elections 2" in out and "writes at the leader, leader changes at [2, 3]" in out
    assert cli.main(["explore", "steady", "--leaders", "2,x", "--no-progress"]) == 2
    assert "--leaders takes node ids separated by commas" in capsys.readouterr().out
    assert cli.main(["explore", "unelected", "--depth", "5", "--appends", "1", "--at", "named", "--leaders", "1,2",
                     "--fifo", "--no-progress"]) == 0
    assert "writes at the leader named last, leader changes at [1, 2]" in capsys.readouterr().out
    assert cli.main(["explore", "unelected", "--at", "named", "--no-progress"]) == 2
    assert 'at="named"' in capsys.readouterr().out


def test_the_progress_bar_counts_distinct_states_and_gives_one_rate(capsys):
    result = explore("steady", depth=4, progress=True)
    err = capsys.readouterr().err
    last = err.replace("\r", "\n").strip().splitlines()[-1]
    assert f"explore, {result.distinct:,} distinct states, depth {result.depth}," in last
    assert last.count("states/s") == 1
