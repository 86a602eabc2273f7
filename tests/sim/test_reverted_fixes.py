"""The fault fixes of issue 8 (faults 1, 2, 3 and 5 in the replica, 4 in the servers) and the
duplicated-heartbeat fix QuorumConnectedTakeover led to, each reverted
by a mutant: the regression test of each fix, run on a cluster of that mutant, must fail, and pass on
the reference.

The regression schedules live in tests/replica/test_faults.py and tests/sim/test_compaction_state.py;
they build their clusters with ``Cluster(...)``, which this module points at the mutant for the
length of one call.
"""

from __future__ import annotations

import functools

import pytest

import tests.replica.test_faults as faults
import tests.sim.test_compaction_state as compaction
from omnilab.sim import Cluster
from omnilab.sim.mutants import REVERTED as MUTANTS
from omnilab.sim.mutants import REVERTED_FIXES

#: mutant -> the regression tests of the fix it reverts.
REGRESSIONS = {
    "apply-late-acceptsync": (faults.test_late_acceptsync_from_an_earlier_session_is_ignored,
                              faults.test_late_acceptsync_is_ignored_after_a_restart_too,
                              faults.test_late_acceptsync_loses_no_decided_write_when_the_follower_leads_and_restarts),
    "silent-on-repeated-acceptstopsign": (
        faults.test_reconfiguration_completes_when_the_accepted_replies_to_the_stopsign_are_lost,),
    "keep-buffered-behind-stopsign": (faults.test_proposal_buffered_behind_a_synced_stopsign_is_reported_lost,),
    "ignore-prepare-while-accepting": (faults.test_follower_and_leader_find_each_other_after_a_late_preparereq,),
    "count-duplicate-heartbeat-replies": (faults.test_a_duplicated_heartbeat_reply_is_not_a_second_voice,),
    "compact-without-saving-state": (
        compaction.test_a_recovered_member_and_the_new_node_it_hands_the_state_to_keep_the_trimmed_writes,
        compaction.test_the_leader_recovering_after_its_own_trim_keeps_the_trimmed_writes),
}
CASES = [(name, test) for name, tests in REGRESSIONS.items() for test in tests]


def test_every_reverted_fix_has_its_regressions():
    assert set(REGRESSIONS) == set(REVERTED_FIXES)


@pytest.mark.parametrize("name, regression", CASES, ids=[f"{n}-{t.__name__}" for n, t in CASES])
def test_the_regression_fails_on_the_mutant(monkeypatch, name, regression):
    regression()  # the reference passes it
    module = faults if regression.__module__ == faults.__name__ else compaction
    monkeypatch.setattr(module, "Cluster", functools.partial(Cluster, variant=MUTANTS[name]))
    with pytest.raises(AssertionError):
        regression()


def test_the_invariants_catch_the_late_acceptsync(monkeypatch):
    """Fault 1 is a safety fault: the schedule leaves the follower with a decided index beyond its
    log, and the invariants say so."""
    monkeypatch.setattr(faults, "Cluster", functools.partial(Cluster, variant=MUTANTS["apply-late-acceptsync"]))
    cluster, _, follower = faults.late_acceptsync_schedule()
    state = cluster.server(follower).omnipaxos.inspect()
    assert state.decided_idx > state.accepted_idx
    assert {v.name for v in cluster.check() if not v.ok} & {"Integrity", "LocalWellFormedness"}


def buffered_behind_stopsign(variant):
    """The schedule of fault 3 (tests/replica/test_faults.py), on `variant`: the old leader recovers
    and buffers a client write; the AcceptSync it then gets ends in the StopSign the others
    decided. Returns the cluster."""
    c = Cluster(nodes=[1, 2, 3], seed=0, variant=variant)
    c.run(ticks=3)
    old = c.leader()
    c.put("a", 1)
    c.run(ticks=1)
    c.crash(old)
    c.run(ticks=5)
    c.reconfigure([1, 2, 3], at=c.leader())
    c.run(ticks=2)
    c.recover(old)
    c.put("lost", 7, at=old)
    return c


def test_no_silent_proposal_loss_fails_on_the_mutant_and_holds_on_the_reference():
    """The invariant for fault 3: once the cluster made progress again, no replica may still hold a
    client write back (every one is decided or reported lost). `check_progress` checks it."""
    from omnilab.sim import invariants
    from omnilab.sim.variant import REFERENCE

    reference = buffered_behind_stopsign(REFERENCE)
    assert reference.check_progress(ticks=40, in_place=True).ok
    assert invariants.no_silent_proposal_loss(reference).ok
    mutant = buffered_behind_stopsign(MUTANTS["keep-buffered-behind-stopsign"])
    verdict = mutant.check_progress(ticks=40, in_place=True)
    assert not verdict.ok and verdict.name == invariants.NO_SILENT_LOSS
    old = next(p for p in mutant.pids if mutant.server(p).instances[1].inspect().buffered_proposals)
    assert f"node {old}" in verdict.message and "put('lost', 7)" in verdict.message
    assert "never decided and no ProposalLost reports it" in verdict.message
    assert verdict == invariants.no_silent_proposal_loss(mutant)  # a pure function of the state
