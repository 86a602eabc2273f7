"""Random fault campaigns: a clean sweep over many seeds, and a broken replica caught and shrunk."""

from __future__ import annotations

import pytest

from omnilab.sim import Cluster, FAULTS, fuzz
from omnilab.sim.campaigns import run_campaign, run_seed

CAMPAIGN_SEEDS = 200
CAMPAIGN_STEPS = 250


def test_a_campaign_of_200_seeds_finds_no_violation():
    results = run_campaign(CAMPAIGN_SEEDS, CAMPAIGN_STEPS, 3, FAULTS)
    failures = [(r.seed, r.violation, r.message) for r in results if not r.ok]
    assert not failures, failures
    assert sum(r.reconfigured for r in results) > CAMPAIGN_SEEDS // 3  # the one reconfiguration happens
    assert sum(r.crashes for r in results) > CAMPAIGN_SEEDS and sum(r.duplicated for r in results) > 0


def test_a_delay_holds_mostly_control_messages_and_releases_them_much_later():
    from omnilab.sim.campaigns import CONTROL_MESSAGES, DELAY_RANGE, ScheduleDrawer, _perform
    from omnilab.sim.trace import DeliverAll, Run

    released = []  # (operations held, message class)
    for seed in range(6):
        cluster = Cluster([1, 2, 3], seed=seed)
        drawer = ScheduleDrawer(cluster, ("reorder", "drop", "duplicate", "delay", "crash", "append"))
        since: dict[int, tuple[int, type]] = {}
        for step in range(300):
            for msg_id in drawer.held:
                since.setdefault(msg_id, (step, type(cluster.network.in_flight[msg_id].payload)))
            op = drawer.draw()
            if drawer.held and set(drawer.held) & set(cluster.network.in_flight):
                assert not isinstance(op, (Run, DeliverAll))  # nothing delivers a held message
            if getattr(op, "msg_id", None) in since and op.msg_id not in drawer.held:
                start, name = since.pop(op.msg_id)
                released.append((step - start, name))
            _perform(cluster, op)
    assert len(released) >= 10
    # released at its time (at least DELAY_RANGE[0] random choices later, each one or more
    # operations) or earlier, just ahead of a newer message of its type to the same node
    assert max(gap for gap, _ in released) >= 50
    assert sum(gap >= DELAY_RANGE[0] - 1 for gap, _ in released) >= len(released) // 3
    control = sum(name in CONTROL_MESSAGES for _, name in released)
    assert control > len(released) // 2, released


def test_campaigns_reconfigure_again_and_again_with_crashes_and_trims_between():
    from omnilab.sim.campaigns import ScheduleDrawer, _perform
    from omnilab.sim.trace import Crash, Reconfigure, TrimLog

    reached, between = [], 0
    for seed in range(10):
        cluster = Cluster([1, 2, 3], seed=seed)
        drawer = ScheduleDrawer(cluster, ("reconfigure", "compact", "crash", "append"))
        for _ in range(300):
            _perform(cluster, drawer.draw())
        reached.append(cluster.config_id)
        kinds = [type(op) for op in cluster.trace.operations()]
        reconfigurations = [i for i, kind in enumerate(kinds) if kind is Reconfigure]
        if len(reconfigurations) >= 2:
            middle = kinds[reconfigurations[0]:reconfigurations[-1]]
            between += Crash in middle and TrimLog in middle
    assert max(reached) >= 3, reached  # more than one reconfiguration in a seed
    assert between >= 1


def test_fuzz_returns_one_row_per_seed():
    table = fuzz(range(3), 30, 3)
    assert list(table.index) == [0, 1, 2]
    assert {"ok", "violation", "message", "delivered", "trace"} <= set(table.columns)
    assert table["ok"].all() and table["trace"].isna().all()


def test_a_seed_is_a_schedule():
    first, second = run_seed(11, 60), run_seed(11, 60)
    assert first == second


def test_a_replica_that_skips_the_quorum_check_is_caught_with_a_shrunk_trace(monkeypatch):
    from omnilab.replica.sequence_paxos.leader_state import LeaderState

    monkeypatch.setattr(LeaderState, "is_chosen", lambda self, idx: True)  # decide on any Accepted
    table = fuzz(range(30), 60, 5, ("partition", "append"))
    failed = table[~table["ok"]]
    assert not failed.empty
    seed = failed.index[0]
    row = failed.loc[seed]
    assert row["violation"] in ("UniformAgreement", "Integrity")
    assert row["shrunk_ops"] < row["ops"]
    replayed = Cluster.replay(row["trace"])
    assert not all(v.ok for v in replayed.check())
    assert row["trace"].script().startswith(f"cluster = Cluster([1, 2, 3, 4, 5], seed={seed})")


def test_unknown_faults_are_refused():
    with pytest.raises(ValueError, match="unknown fault"):
        fuzz(1, 5, 3, ("earthquake",))


def test_the_fuzz_command_prints_a_summary_and_exits_zero(capsys):
    from omnilab import cli

    assert cli.main(["fuzz", "--seeds", "4", "--steps", "30"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("fuzz: 4 seeds x 30 steps, 3 nodes") and "seeds ok: 4/4" in out


def test_the_fuzz_command_exits_nonzero_and_prints_the_shrunk_calls(capsys, monkeypatch):
    from omnilab import cli
    from omnilab.replica.sequence_paxos.leader_state import LeaderState

    monkeypatch.setattr(LeaderState, "is_chosen", lambda self, idx: True)
    code = cli.main(["fuzz", "--seeds", "10", "--steps", "60", "--nodes", "5", "--faults", "partition,append"])
    out = capsys.readouterr().out
    assert code == 1
    assert "violated an invariant" in out and "cluster = Cluster([1, 2, 3, 4, 5], seed=" in out


def test_each_seed_draws_a_shape_and_every_shape_is_drawn():
    from omnilab.sim.campaigns import SHAPES, shapes_for

    results = run_campaign(range(40), 20, 3, FAULTS, shrink_failures=False)
    assert {r.shape for r in results} == {shape.name for shape in SHAPES}
    assert shapes_for(("partition", "append")) == (SHAPES[0],)  # a restricted campaign: the plain mix
    assert {r.shape for r in run_campaign(range(5), 10, 3, ("partition", "append"))} == {"plain"}


def test_an_exception_in_the_replica_is_reported_as_a_failure(monkeypatch):
    from omnilab.replica.sequence_paxos import SequencePaxos

    def broken(self, sender, acc):
        raise RuntimeError("boom")

    monkeypatch.setattr(SequencePaxos, "handle_accepted", broken)
    result = run_seed(0, 40, 3, ("append",))
    assert result.violation == "UnexpectedException" and "RuntimeError: boom" in result.message
