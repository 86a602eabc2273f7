"""The mutant catalogue: every mutant breaks one rule, and the campaigns' invariants catch it.

Each mutant (the reverted fixes of the replica's faults included) must be caught by the default
campaign (100 steps a seed) within the default budget of 100 seeds, by an invariant expected to
catch it, and the shrunk failing trace replays to the same failure. The hunts start at the seed
known to fail (`FOUND`, measured from seed 0; `omnilab mutants` prints the full table), so the test
stays cheap while the figures it pins are those of the default campaign.
"""

from __future__ import annotations

import pytest

from omnilab import cli
from omnilab.sim import Cluster, invariants
from omnilab.sim.mutants import CAMPAIGN_NODES, EXPECTED, MUTANTS, REVERTED, format_table, hunt
from omnilab.sim.variant import REFERENCE, importable_name, resolve

#: For each mutant the default campaign catches (100 steps a seed, `omnilab mutants` prints the
#: table): the seed that first fails it (the campaign runs seeds 0, 1, ...: caught within seed + 1
#: seeds, inside the default budget of 100), the invariant that catches it, and the length its
#: failing schedule shrinks to. The test starts at that seed (cheap); the figures are those of the
#: hunt from seed 0.
FOUND = {
    "takeover-without-quorum-connected": (0, "QuorumConnectedTakeover", 1),
    "accept-lower-ballot": (40, "UniformAgreement", 136),
    "ignore-most-up-to-date-promise": (6, "UniformAgreement", 278),
    "stopsign-decided-when-accepted": (16, "Integrity", 171),
    "append-after-stopsign": (0, "StopSignSeal", 30),
    "decide-without-write-quorum": (1, "Integrity", 1),
    "start-without-state-transfer": (0, "ConfigurationTransition", 2),
    # the replica's fixed faults, reverted (issue 8): each needs a schedule the campaign's shapes draw
    "apply-late-acceptsync": (82, "Integrity", 78),
    "silent-on-repeated-acceptstopsign": (29, "Progress", 90),
    "keep-buffered-behind-stopsign": (8, "NoSilentProposalLoss", 5),
    "ignore-prepare-while-accepting": (21, "Progress", 370),
    "compact-without-saving-state": (3, "Integrity", 26),
    "count-duplicate-heartbeat-replies": (2, "QuorumConnectedTakeover", 12),
}
CAUGHT = list(FOUND)
#: The default seed budget of ``omnilab fuzz`` and ``omnilab mutants``.
DEFAULT_SEEDS = 100
#: Nodes of the campaign that hunts each mutant (3 unless said).
NODES = CAMPAIGN_NODES


def test_the_catalogue_names_every_required_mutant():
    assert set(MUTANTS) >= {
        "takeover-without-quorum-connected", "accept-lower-ballot", "ignore-most-up-to-date-promise",
        "stopsign-decided-when-accepted", "append-after-stopsign", "decide-without-write-quorum",
        "start-without-state-transfer"}
    assert set(EXPECTED) == set(MUTANTS) | set(REVERTED)
    for name, variant in {**MUTANTS, **REVERTED}.items():
        assert variant.name == name and variant != REFERENCE
        assert variant.description.startswith("BUG") and "catch" in variant.description
        assert all(invariant in variant.description for invariant in EXPECTED[name])
        spec = importable_name(variant)
        assert spec is not None and spec.startswith("omnilab.sim.mutants:") and resolve(spec) is variant
        assert resolve(name) is variant


@pytest.mark.parametrize("name", CAUGHT)
def test_each_mutant_is_caught_by_an_expected_invariant(name):
    seed, invariant, shrunk = FOUND[name]
    catch = hunt(name, seeds=seed + 1, steps=100, nodes=NODES.get(name, 3), shrink=True, first_seed=seed)
    assert catch.caught, f"{name} survived seed {seed}"
    assert catch.caught_by in EXPECTED[name], catch.message
    assert (catch.seeds, catch.caught_by, catch.shrunk_ops) == (seed + 1, invariant, shrunk)
    assert catch.seeds <= DEFAULT_SEEDS
    # The shrunk trace names its variant and replays to the same failure.
    variant = {**MUTANTS, **REVERTED}[name]
    assert catch.trace[0].variant == importable_name(variant)
    again = Cluster.replay(catch.trace)
    assert again.variant is variant
    if invariant == "NoSilentProposalLoss":
        assert not invariants.no_silent_proposal_loss(again).ok
    elif invariant == "Progress":  # the trace ends with the campaign's progress check: still stuck
        assert not again.check_progress(ticks=60).ok
    else:
        assert any(not v.ok and v.name == invariant for v in again.check())


def test_the_reference_survives_the_same_budget():
    from omnilab.sim import campaigns

    results = campaigns.run_campaign(range(25), 100, 3, shrink_failures=False)
    assert all(r.ok for r in results), [(r.seed, r.violation) for r in results if not r.ok]


def test_a_takeover_without_quorum_connection_disrupts_a_healed_cluster():
    """What the quorum-connected rule prevents: an isolated node raises its ballot every round and
    takes the leadership over when its links come back. QuorumConnectedTakeover says so on the
    mutant, and holds on the reference."""
    leaders = {}
    for variant in (REFERENCE, MUTANTS["takeover-without-quorum-connected"]):
        cluster = Cluster([1, 2, 3], variant=variant)
        cluster.run(3)
        leader = cluster.leader()
        isolated = min(p for p in cluster.pids if p != leader)
        cluster.partition([isolated], [p for p in cluster.pids if p != isolated])
        cluster.run(10)
        cluster.heal()
        cluster.run(5)
        failed = [v.name for v in cluster.check() if not v.ok]
        assert failed == ([] if variant is REFERENCE else ["QuorumConnectedTakeover"])
        leaders[variant.name] = (leader, cluster.leader(), isolated)
    before, after, _ = leaders["reference"]
    assert after == before  # the reference keeps its leader
    before, after, isolated = leaders["takeover-without-quorum-connected"]
    assert after == isolated != before  # the mutant hands it to the node that was cut off


def test_the_mutants_command_prints_the_table(capsys):
    assert cli.main(["mutants", "append-after-stopsign", "--seeds", "10", "--no-shrink"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["mutant", "expected", "caught", "by", "seeds", "shrunk", "ops"]
    assert "append-after-stopsign" in out and "StopSignSeal" in out
    assert cli.main(["mutants", "no-such-mutant"]) == 2
    assert "unknown mutant" in capsys.readouterr().out
    assert "NOT CAUGHT" in format_table([hunt("compact-without-saving-state", seeds=1, steps=10)])


def test_fuzz_catches_a_mutant(capsys):
    assert cli.main(["fuzz", "--seeds", "5", "--variant", "append-after-stopsign", "--no-shrink"]) == 1
    out = capsys.readouterr().out
    assert "variant append-after-stopsign" in out and "StopSignSeal" in out
    assert "variant='omnilab.sim.mutants:APPEND_AFTER_STOPSIGN'" in out
