"""`omnilab fuzz` refuses bad arguments the argparse way: one error line naming the argument on
stderr, exit status 2, no traceback; and a failing campaign prints every violation message whole
and never "shrunk to None"."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from omnilab import cli

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("argv, phrase", [
    (["--seeds", "0"], "argument --seeds: must be at least 1, not 0"),
    (["--seeds", "-3"], "argument --seeds: must be at least 1, not -3"),
    (["--seeds", "2.5"], "argument --seeds: expected a whole number, not '2.5'"),
    (["--seeds", "many"], "argument --seeds: expected a whole number, not 'many'"),
    (["--steps", "-5"], "argument --steps: must be at least 0, not -5"),
    (["--steps", "1e3"], "argument --steps: expected a whole number, not '1e3'"),
    (["--first-seed", "-1"], "argument --first-seed: must be at least 0, not -1"),
    (["--nodes", "1"], "argument --nodes: must be at least 2, not 1"),
    (["--nodes", "0"], "argument --nodes: must be at least 2, not 0"),
    (["--nodes", "three"], "argument --nodes: expected a whole number, not 'three'"),
    (["--nodes", "100000"], f"argument --nodes: must be at most {cli.MAX_FUZZ_NODES}, not 100000"),
    (["--faults", ""], "argument --faults: name at least one of reorder,"),
    (["--faults", " , ,"], "argument --faults: name at least one of reorder,"),
    (["--faults", "earthquake"], "argument --faults: unknown fault 'earthquake'; choose from reorder,"),
    (["--faults", "drop,Crash"], "argument --faults: unknown fault 'Crash'"),
    (["--seeds"], "argument --seeds: expected one argument"),
])
def test_a_bad_argument_is_one_error_line_and_exit_2(capsys, argv, phrase):
    with pytest.raises(SystemExit) as info:
        cli.main(["fuzz", *argv])
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # the campaign never started
    errors = [line for line in captured.err.splitlines() if "error:" in line]
    assert errors == [f"omnilab fuzz: error: {phrase}"] or (
        len(errors) == 1 and errors[0].startswith(f"omnilab fuzz: error: {phrase}")), captured.err
    assert "Traceback" not in captured.err


def test_the_real_command_exits_2_without_a_traceback():
    proc = subprocess.run([sys.executable, "-m", "omnilab", "fuzz", "--seeds", "0"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == "omnilab fuzz: error: argument --seeds: must be at least 1, not 0"
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_repeated_faults_count_once():
    assert cli.parse_faults("drop, drop,crash", ("drop", "crash", "cut")) == ("drop", "crash")
    assert cli.parse_faults(None, ("drop", "crash")) == ("drop", "crash")


def test_zero_steps_still_settles_and_probes(capsys):
    assert cli.main(["fuzz", "--seeds", "1", "--steps", "0"]) == 0
    assert "seeds ok: 1/1" in capsys.readouterr().out


@pytest.fixture
def broken_quorum(monkeypatch):
    """A mutant: every slot counts as chosen at once, so agreement breaks under partitions."""
    from omnilab.replica.sequence_paxos.leader_state import LeaderState

    monkeypatch.setattr(LeaderState, "is_chosen", lambda self, idx: True)


ARGS = ["fuzz", "--seeds", "10", "--steps", "60", "--nodes", "5", "--faults", "partition,append"]


def test_no_shrink_never_prints_shrunk_to_none(capsys, broken_quorum):
    assert cli.main([*ARGS, "--no-shrink"]) == 1
    out = capsys.readouterr().out
    assert "None" not in out
    assert "(not shrunk)" in out and "shrunk to" not in out


def test_every_violation_message_is_printed_whole(capsys, broken_quorum):
    from omnilab.sim import campaigns

    assert cli.main(ARGS) == 1
    out = capsys.readouterr().out
    table = campaigns.fuzz(range(10), 60, 5, ("partition", "append"))
    failed = table[~table["ok"]]
    assert not failed.empty
    for seed, row in failed.iterrows():
        assert f"seed {seed}: {row['violation']} after " in out
        assert row["message"] in out  # whole, however long
    assert "shrunk to None" not in out
