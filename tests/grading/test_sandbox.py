"""The sandbox subprocess on its own: what comes back for answers that misbehave in one way each."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnilab.grading import sandbox

ROOT = str(Path(__file__).resolve().parents[2])
BANK = "tests.grading.toybank"
PLAN = [("small-clusters", [0]), ("large-clusters", [0])]
TIMEOUTS = {"small-clusters": 3.0, "large-clusters": 3.0}
SOLUTION = "def is_quorum(count, n):\n    return count > n // 2\n"


@pytest.fixture(params=[True, False], ids=["forked", "spawned"])
def run(request):
    """Run an answer in the sandbox, forked from a zygote or started afresh."""
    def run(source: str, plan=PLAN, **options):
        return sandbox.run(BANK, "tq01", {"is_quorum": source}, plan, timeouts=TIMEOUTS, pythonpath=[ROOT],
                           load_timeout=3.0, prefork=request.param, **options)
    yield run
    sandbox.shutdown_zygotes()


def test_artefacts_come_back_and_only_produce_ran(run):
    result = run(SOLUTION)
    assert result.processes == 1
    assert [run.state for run in result.runs.values()] == ["produced", "produced"]
    (seed, table), = result.runs["small-clusters"].artefacts
    assert seed == 0 and [1, 1, True] in table and [2, 1, False] in table


def test_an_endless_check_costs_that_check_and_a_fresh_process_does_the_rest(run):
    result = run("def is_quorum(count, n):\n    while n == 2:\n        pass\n    return count > n // 2\n")
    assert result.runs["small-clusters"].state == "timeout"
    assert result.runs["large-clusters"].state == "produced"
    assert result.processes == 2


def test_output_beyond_the_cap_is_read_and_discarded(run):
    result = run("import sys\nsys.stdout.write('y' * 3_000_000)\nsys.stderr.write('z' * 10)\n" + SOLUTION,
                 output_cap=1000)
    assert result.output_truncated and result.output.startswith("y" * 1000) and "z" not in result.output
    assert [run.state for run in result.runs.values()] == ["produced", "produced"]


def test_the_answer_reads_no_job_from_stdin(run):
    result = run("import sys\nleak = sys.stdin.read()\n"
                 "def is_quorum(count, n):\n    assert leak == '', leak[:80]\n    return count > n // 2\n")
    assert result.runs["small-clusters"].state == "produced", result.runs["small-clusters"].reason


def test_a_fake_message_on_the_channel_is_tampering_not_a_result(run):
    # The answer finds the channel and writes a well-formed but tokenless "loaded" and artefacts.
    forger = ("import os\n"
              "for fd in range(3, 64):\n"
              "    try:\n"
              "        os.write(fd, b'x {\"event\": \"loaded\"}\\n')\n"
              "    except OSError:\n"
              "        pass\n" + SOLUTION)
    result = run(forger)
    assert {run.state for run in result.runs.values()} == {"error"}
    assert "result channel" in result.runs["small-clusters"].reason


def test_a_memory_cap_turns_a_hog_into_memory_error(run):
    result = run("def is_quorum(count, n):\n    return len(bytearray(2 * 2**30)) > 0\n", memory_mb=256)
    assert result.runs["small-clusters"].state == "error"
    assert "MemoryError" in result.runs["small-clusters"].reason


def test_not_implemented_is_told_apart_from_other_errors(run):
    blank = run("def is_quorum(count, n):\n    raise NotImplementedError\n")
    assert {run.state for run in blank.runs.values()} == {"not-implemented"}
    wrong = run("def is_quorum(count, n):\n    return 1 / 0\n")
    assert {run.state for run in wrong.runs.values()} == {"error"}
    assert "ZeroDivisionError" in wrong.runs["small-clusters"].reason


def test_every_run_is_a_fresh_process_that_nothing_earlier_touched(run):
    first = run("import os\nprint(os.getpid())\nfrom tests.grading import toybank\ntoybank.LEAK = True\n" + SOLUTION)
    second = run("import os\nprint(os.getpid())\nfrom tests.grading import toybank\n"
                 "assert not hasattr(toybank, 'LEAK'), 'an earlier answer leaked in'\n" + SOLUTION)
    assert second.runs["small-clusters"].state == "produced", second.runs["small-clusters"].reason
    assert first.output.split()[0] != second.output.split()[0]


def test_an_answer_that_kills_its_zygote_costs_nothing_but_a_new_zygote():
    killer = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n" + SOLUTION
    try:
        for source in (SOLUTION, killer, SOLUTION):
            result = sandbox.run(BANK, "tq01", {"is_quorum": source}, PLAN, timeouts=TIMEOUTS, pythonpath=[ROOT],
                                 load_timeout=3.0, prefork=True)
            assert [run.state for run in result.runs.values()] == ["produced", "produced"]
    finally:
        sandbox.shutdown_zygotes()
