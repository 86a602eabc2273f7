"""The batch grader on a class of 21 mixed submissions, against the toy exercise bank.

The class holds solutions, blanks, a half-right answer, an endless loop, an import error, a memory
hog, a megabyte printer, a monkeypatcher (of omnilab.grading, the invariants, Cluster.check and the
bank's judges, inside its answer cell, reaching them around the static guard), a forger of the result channel, one that calls the reference
implementation, a deleted answer cell, a missing notebook, break-it schedules that violate nothing
or break the reference too, and more. Each must get exactly its score and reason, and nothing may
stop the batch. Timeouts are 3 s so that the whole module stays around a minute.
"""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from omnilab import cli
from omnilab.grading import batch
from tests.grading import toybank
from tests.grading.classroom import notebook, write_learner

BANK = "tests.grading.toybank"
SECRET = "instructor-secret"
LIMITS = batch.Limits(load_timeout=3.0, memory_mb=512)
Q, S = "01-toy-quorums.ipynb", "02-toy-break-it.ipynb"

SOLUTION_Q = "def is_quorum(count, n):\n    return count > n // 2\n"
BLANK_Q = 'def is_quorum(count, n):\n    """True when count of n nodes is a majority."""\n    raise NotImplementedError\n'
SOLUTION_S = "schedule = [['add', 1], ['crash'], ['recover']]\n"
BLANK_S = "raise NotImplementedError('write your schedule here')\n"

ANSWERS_Q = {
    "half-right": "def is_quorum(count, n):\n    if n <= 5:\n        return count > n // 2\n    return count >= n // 2\n",
    "hidden-wrong": "def is_quorum(count, n):\n    if n < 10:\n        return count > n // 2\n    return count > 0\n",
    "loop": "def is_quorum(count, n):\n    while n == 7:\n        pass\n    return count > n // 2\n",
    "import-error": "import omnilab_no_such_module\n" + SOLUTION_Q,
    "hog": "def is_quorum(count, n):\n    hog = []\n    while True:\n        hog.append(bytearray(32 * 2**20))\n",
    "printer": "for _ in range(24):\n    print('x' * 2**20)\n" + SOLUTION_Q,
    "monkeypatch": (
        # It reaches the grader's modules around the static guard (which refuses `import omnilab.grading`).
        "import sys\n"
        "import omnilab.sim, omnilab.sim.invariants\n"
        "loaded = vars(sys)['modu' + 'les']\n"
        "toybank = loaded['tests.grad' + 'ing.toybank']\n"
        "loaded['omnilab.grad' + 'ing'].check = lambda *args, **kwargs: 'full marks'\n"
        "loaded['__main__']._describe = lambda error: 'pass'  # the sandbox runs as __main__\n"
        "omnilab.sim.Cluster.check = lambda self: []\n"
        "omnilab.sim.invariants.check = lambda world: []\n"
        "toybank._judge_table = lambda artefact, seed: toybank.CheckOutcome(True)\n"
        "for exercise in toybank.EXERCISES.values():\n"
        "    for check in exercise.checks:\n"
        "        object.__setattr__(check, 'judge', lambda artefact, seed: toybank.CheckOutcome(True))\n"
        "        object.__setattr__(check, 'points', 100.0)\n"
        "def is_quorum(count, n):\n    return True\n"),
    "forger": (
        "import os\n"
        "for fd in range(3, 64):\n"
        "    try:\n"
        "        os.write(fd, b'0123456789abcdef {\"event\": \"loaded\"}\\n')\n"
        "    except OSError:\n"
        "        pass\n"
        "print('{\"score\": 6, \"tests\": []}')\n"
        "def is_quorum(count, n):\n    return True\n"),
    "reference": ("from tests.grading.toybank import reference_is_quorum\n"
                  "def is_quorum(count, n):\n    return reference_is_quorum(count, n)\n"),
    "syntax-error": "def is_quorum(count, n)\n    return count > n // 2\n",
    "exit": "import os\ndef is_quorum(count, n):\n    os._exit(0)\n",
}
ANSWERS_S = {
    "violates-nothing": "schedule = [['add', 1], ['add', 1], ['crash'], ['recover']]\n",
    "breaks-reference": "schedule = [['add', 1], ['wipe'], ['crash'], ['recover']]\n",
    "top-level-loop": "while True:\n    pass\n",
    "not-a-list": "schedule = 'add'\n",
}

PASS = ("pass", "")
TQ01 = ("small-clusters", "large-clusters", "random-sizes")


def q(status, reason=""):
    """The same status and reason for every tq01 check."""
    return {name: (status, reason) for name in TQ01}


# learner -> (tq01 notebook text or None, tq02 notebook text or None, expected, total)
#   expected: check -> (status, a phrase its reason must contain); unlisted checks pass.
CLASS = {
    "alice": (SOLUTION_Q, SOLUTION_S, {}, 6),
    "bob": (BLANK_Q, BLANK_S, {**q("fail", "not implemented yet"), "loses-an-add": ("fail", "not implemented yet")}, 0),
    "carol": (ANSWERS_Q["half-right"], SOLUTION_S,
              {"large-clusters": ("fail", "is_quorum(3, 6) returned True"), "random-sizes": ("fail", "returned True")}, 3),
    "dave": (ANSWERS_Q["loop"], SOLUTION_S, {"large-clusters": ("timeout", "did not finish within 3 s")}, 4),
    "erin": (ANSWERS_Q["import-error"], SOLUTION_S, q("error", "ModuleNotFoundError"), 2),
    "frank": (ANSWERS_Q["hog"], SOLUTION_S, q("error", "MemoryError"), 2),
    "grace": (ANSWERS_Q["printer"], SOLUTION_S, {}, 6),
    "heidi": (ANSWERS_Q["monkeypatch"], SOLUTION_S, q("fail", "returned True"), 2),
    "ivan": (ANSWERS_Q["reference"], SOLUTION_S, q("fail", "uses 'reference_is_quorum', which reaches omnilab's reference"), 2),
    "judy": ("deleted", SOLUTION_S, q("missing", "no answer cell for is_quorum"), 2),
    "mallory": (SOLUTION_Q, ANSWERS_S["violates-nothing"],
                {"loses-an-add": ("fail", "violates nothing on the buggy counter")}, 4),
    "niaj": (SOLUTION_Q, ANSWERS_S["breaks-reference"],
             {"loses-an-add": ("fail", "breaks the reference counter too")}, 4),
    "olivia": (SOLUTION_Q, SOLUTION_S, {}, 6),               # a zip, answer cells first
    "peggy": (SOLUTION_Q, None, {"loses-an-add": ("missing", "no notebook for 02-toy-break-it")}, 4),
    "rupert": (SOLUTION_Q, ANSWERS_S["top-level-loop"],
               {"loses-an-add": ("timeout", "did not finish running within 3 s")}, 4),
    "sybil": (ANSWERS_Q["syntax-error"], SOLUTION_S, q("error", "SyntaxError"), 2),
    "trent": (ANSWERS_Q["exit"], SOLUTION_S, q("error", "grading process exited (code 0)"), 2),
    "victor": (ANSWERS_Q["forger"], SOLUTION_S, q("error", "unexpected data on the grader's result channel"), 2),
    "wendy": (SOLUTION_Q, ANSWERS_S["not-a-list"], {"loses-an-add": ("fail", "is not an operation")}, 4),
    "xavier": (ANSWERS_Q["hidden-wrong"], SOLUTION_S, {"random-sizes": ("fail", "returned True")}, 5),
    "zed": (SOLUTION_Q, SOLUTION_S, {}, 6),                  # plus a blank draft notebook that must be ignored
}


def build_class(root, learners=CLASS):
    root.mkdir(parents=True, exist_ok=True)
    for learner, (answer_q, answer_s, _, _) in learners.items():
        files = {}
        if answer_q == "deleted":
            files[Q] = notebook("tq01", {"is_quorum": None})
        elif answer_q is not None:
            files[Q] = notebook("tq01", {"is_quorum": answer_q}, shuffle=learner == "olivia")
        if answer_s is not None:
            files[S] = notebook("tq02", {"schedule": answer_s}, shuffle=learner == "olivia")
        if learner == "zed":
            files["01-toy-quorums-draft.ipynb"] = notebook("tq01", {"is_quorum": BLANK_Q})
        write_learner(root, learner, files, as_zip=learner == "olivia")
    return root


def read_rows(out):
    import csv

    with open(out / "results.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class graded twice, into two fresh folders: once forking each sandbox from a zygote, once
    starting Python afresh for each."""
    base = tmp_path_factory.mktemp("grading")
    submissions = build_class(base / "submissions")
    first = batch.grade(submissions, base / "out1", secret=SECRET, bank=BANK, limits=LIMITS, jobs=2, progress=False)
    spawned = dataclasses.replace(LIMITS, prefork=False)
    second = batch.grade(submissions, base / "out2", secret=SECRET, bank=BANK, limits=spawned, jobs=2, progress=False)
    return base, submissions, first, second


@pytest.mark.parametrize("learner", sorted(CLASS))
def test_each_submission_gets_its_score_and_reason(graded, learner):
    base, _, _, _ = graded
    _, _, expected, total = CLASS[learner]
    rows = [r for r in read_rows(base / "out1") if r["learner"] == learner]
    assert [(r["exercise"], r["check"]) for r in rows] == [
        ("tq01", "small-clusters"), ("tq01", "large-clusters"), ("tq01", "random-sizes"), ("tq02", "loses-an-add")]
    for r in rows:
        status, phrase = expected.get(r["check"], PASS)
        assert (r["check"], r["status"]) == (r["check"], status), r["reason"]
        assert phrase in r["reason"], r
        maximum = {c.name: c.points for e in toybank.EXERCISES.values() for c in e.checks}[r["check"]]
        assert float(r["max"]) == maximum                    # from the bank, whatever the submission did
        assert float(r["points"]) == (maximum if status == "pass" else 0)
    grades = {line.split(",")[0]: line.split(",")[1:] for line in (base / "out1" / "grades.csv").read_text().splitlines()}
    assert float(grades[learner][-1]) == total


def test_the_same_csvs_twice_in_a_row(graded):
    base, _, first, second = graded
    for name in ("results.csv", "grades.csv"):
        assert (base / "out1" / name).read_bytes() == (base / "out2" / name).read_bytes()
    assert first.graded == second.graded == 2 * len(CLASS)


def test_the_long_csv_records_what_produced_each_row(graded):
    base, _, _, _ = graded
    rows = read_rows(base / "out1")
    assert len(rows) == 4 * len(CLASS)
    assert {r["omnilab_version"] for r in rows} == {__import__("omnilab").__version__}
    assert {r["bank_hash"] for r in rows} == {batch.bank_hash(toybank)}
    hidden = [r for r in rows if r["check"] == "random-sizes"]
    assert {r["hidden"] for r in hidden} == {"yes"}
    seeds = {r["seed"] for r in hidden if r["status"] == "pass"}
    assert seeds == {" ".join(map(str, toybank.QUORUMS.seeds(toybank.QUORUMS.checks[2], SECRET)))}


def test_rerunning_skips_what_is_graded_and_regrade_redoes_one_learner(graded, tmp_path):
    base, submissions, _, _ = graded
    out = tmp_path / "out"
    shutil.copytree(base / "out1", out)
    again = batch.grade(submissions, out, secret=SECRET, bank=BANK, limits=LIMITS, progress=False)
    assert (again.graded, again.skipped) == (0, 2 * len(CLASS))
    assert (out / "results.csv").read_bytes() == (base / "out1" / "results.csv").read_bytes()

    # carol resubmits a fixed tq01: only that notebook is graded again.
    (submissions / "carol" / Q).write_text(notebook("tq01", {"is_quorum": SOLUTION_Q}))
    try:
        fixed = batch.grade(submissions, out, secret=SECRET, bank=BANK, limits=LIMITS, progress=False)
        assert fixed.graded == 1
        carol = {r["check"]: r["status"] for r in read_rows(out) if r["learner"] == "carol"}
        assert set(carol.values()) == {"pass"}
        one = batch.grade(submissions, out, secret=SECRET, bank=BANK, limits=LIMITS, regrade="alice", progress=False)
        assert (one.graded, one.skipped) == (2, 2 * len(CLASS) - 2)
    finally:
        (submissions / "carol" / Q).write_text(notebook("tq01", {"is_quorum": CLASS["carol"][0]}))
    with pytest.raises(ValueError, match="no such learner"):
        batch.grade(submissions, out, bank=BANK, regrade="nobody", progress=False)


def test_gradescope_results_per_submission(graded):
    base, _, _, _ = graded
    results = json.loads((base / "out1" / "gradescope" / "carol" / "results.json").read_text())
    assert results["score"] == 3
    assert {"execution_time", "output", "tests"} <= set(results)
    tests = {t["name"]: t for t in results["tests"]}
    assert tests["tq01 large-clusters"]["status"] == "failed"
    assert tests["tq01 large-clusters"]["max_score"] == 2 and tests["tq01 large-clusters"]["score"] == 0
    assert "is_quorum(3, 6) returned True" in tests["tq01 large-clusters"]["output"]
    assert tests["tq01 random-sizes"]["visibility"] == "after_published"
    assert tests["tq02 loses-an-add"]["visibility"] == "visible"
    assert tests["tq02 loses-an-add"]["status"] == "passed" and tests["tq02 loses-an-add"]["score"] == 2


def test_feedback_names_the_failing_schedule_and_withholds_hidden_ones(graded):
    base, _, _, _ = graded
    mallory = (base / "out1" / "feedback" / "mallory.md").read_text()
    assert "violates nothing on the buggy counter" in mallory
    assert "counter.add(1)\ncounter.add(1)\ncounter.crash()\ncounter.recover()" in mallory
    carol = (base / "out1" / "feedback" / "carol.md").read_text()
    assert "is_quorum(3, 6)" in carol and "hidden check: its schedule is not shown" in carol
    dave = (base / "out1" / "feedback" / "dave.md").read_text()
    assert "timeout" in dave and "Total: 4 of 6 points." in dave


def test_the_printer_keeps_only_the_start_of_its_output(graded):
    base, _, _, _ = graded
    import sqlite3

    db = sqlite3.connect(base / "out1" / "grades.sqlite")
    (output,) = db.execute("SELECT output FROM graded WHERE learner = 'grace' AND exercise = 'tq01'").fetchone()
    db.close()
    assert output.startswith("x" * 1000) and output.endswith("discarded]") and len(output) < 70_000


def test_summary_gives_pass_rates_and_the_score_distribution(graded):
    base, _, _, _ = graded
    summary = batch.summary(base / "out1")
    passed = sum(1 for _, _, expected, _ in CLASS.values() if expected.get("loses-an-add", PASS) == PASS)
    assert summary.pass_rates.loc[("tq02", "loses-an-add"), "passed"] == passed
    assert summary.pass_rates.loc[("tq02", "loses-an-add"), "graded"] == len(CLASS)
    assert summary.pass_rates.loc[("tq01", "large-clusters"), "timeout"] == 1
    assert summary.distribution["learners"].sum() == len(CLASS)
    assert summary.scores.set_index("learner").loc["alice", "total"] == 6
    assert "pass rate per check" in str(summary)


def test_hidden_checks_run_only_with_a_secret(graded, tmp_path):
    base, _, _, _ = graded
    submissions = build_class(tmp_path / "subs", {"xavier": CLASS["xavier"]})
    batch.grade(submissions, tmp_path / "out", bank=BANK, limits=LIMITS, progress=False)
    rows = read_rows(tmp_path / "out")
    assert [r["check"] for r in rows] == ["small-clusters", "large-clusters", "loses-an-add"]
    assert {r["status"] for r in rows} == {"pass"}
    # Another secret: other seeds, still graded the same way.
    other = batch.grade(submissions, tmp_path / "out2", secret="another", bank=BANK, limits=LIMITS, progress=False)
    hidden = [r for r in read_rows(tmp_path / "out2") if r["check"] == "random-sizes"]
    assert hidden[0]["status"] == "fail" and other.graded == 2


def test_dask_local_cluster_gives_the_same_rows(graded, tmp_path):
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    base, _, _, _ = graded
    chosen = {name: CLASS[name] for name in ("alice", "carol", "trent", "judy")}
    submissions = build_class(tmp_path / "subs", chosen)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        batch.grade(submissions, tmp_path / "out", secret=SECRET, bank=BANK, limits=LIMITS,
                    dask=cluster.scheduler_address, progress=False)
    local = [r for r in read_rows(base / "out1") if r["learner"] in chosen]
    assert read_rows(tmp_path / "out") == local


def test_the_command_line(tmp_path, capsys):
    submissions = build_class(tmp_path / "subs", {"alice": CLASS["alice"], "bob": CLASS["bob"]})
    code = cli.main(["grade", str(submissions), "--out", str(tmp_path / "out"), "--secret", SECRET, "--bank", BANK,
                     "--jobs", "2", "--load-timeout", "3", "--no-progress"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "graded 4 notebook(s)" in printed and "pass rate per check" in printed
    assert (tmp_path / "out" / "grades.csv").read_text() == "learner,tq01,tq02,total\nalice,4,2,6\nbob,0,0,0\n"
    args = ["grade", str(submissions), "--out", str(tmp_path / "out"), "--secret", SECRET, "--bank", BANK,
            "--no-progress"]
    assert cli.main(args) == 0 and "graded 0 notebook(s), skipped 4" in capsys.readouterr().out
    assert cli.main(args + ["--regrade"]) == 0 and "graded 4 notebook(s), skipped 0" in capsys.readouterr().out
    code = cli.main(["grade", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"), "--bank", BANK])
    assert code == 2 and "is not a folder" in capsys.readouterr().err


def test_a_failure_of_the_grader_on_one_notebook_does_not_stop_the_batch(tmp_path, monkeypatch, capsys):
    submissions = build_class(tmp_path / "subs", {"alice": CLASS["alice"], "bob": CLASS["bob"]})
    real = batch.grade_job

    def flaky(job):
        if (job.learner, job.exercise) == ("alice", "tq01"):
            raise RuntimeError("the disk is on fire")
        return real(job)

    monkeypatch.setattr(batch, "grade_job", flaky)
    batch.grade(submissions, tmp_path / "out", bank=BANK, limits=LIMITS, progress=False)
    assert "alice tq01: the grader itself failed" in capsys.readouterr().err
    rows = {(r["learner"], r["exercise"], r["check"]): r for r in read_rows(tmp_path / "out")}
    assert rows[("alice", "tq01", "small-clusters")]["status"] == "error"
    assert "the disk is on fire" in rows[("alice", "tq01", "small-clusters")]["reason"]
    assert rows[("alice", "tq02", "loses-an-add")]["status"] == "pass"
    assert rows[("bob", "tq01", "small-clusters")]["reason"] == "not implemented yet (NotImplementedError)"
    # Fixed: the next run grades again what the grader failed on, and only that.
    monkeypatch.setattr(batch, "grade_job", real)
    again = batch.grade(submissions, tmp_path / "out", bank=BANK, limits=LIMITS, progress=False)
    assert (again.graded, again.skipped) == (1, 3)
    assert {r["status"] for r in read_rows(tmp_path / "out") if r["learner"] == "alice"} == {"pass"}


def test_grading_one_exercise_as_for_a_gradescope_assignment(tmp_path, capsys):
    submissions = build_class(tmp_path / "subs", {"alice": CLASS["alice"], "mallory": CLASS["mallory"]})
    args = ["grade", str(submissions), "--out", str(tmp_path / "out"), "--bank", BANK, "--exercises", "tq02",
            "--no-progress"]
    assert cli.main(args) == 0
    assert (tmp_path / "out" / "grades.csv").read_text() == "learner,tq02,total\nalice,2,2\nmallory,0,0\n"
    results = json.loads((tmp_path / "out" / "gradescope" / "mallory" / "results.json").read_text())
    assert [t["name"] for t in results["tests"]] == ["tq02 loses-an-add"] and results["score"] == 0
    assert cli.main(args[:-2] + ["tq09"]) == 2 and "no exercise tq09" in capsys.readouterr().err


def test_the_monkeypatcher_would_credit_itself_if_judged_where_it_ran():
    # The control for heidi: in the process that ran her answer the judges do say "passed", so only
    # judging elsewhere is what gives her the 0 she gets above.
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "from tests.grading import toybank\n"
        f"namespace = toybank.load_answers(toybank.QUORUMS, {{'is_quorum': {ANSWERS_Q['monkeypatch']!r}}})\n"
        "check = toybank.QUORUMS.checks[1]\n"
        "print(check.judge(check.produce(namespace, 0), 0).passed, check.points)\n")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["True", "100.0"], done.stderr
