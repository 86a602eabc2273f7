"""Benchmark: `omnilab grade` on a generated class.

A class of LEARNERS submissions (default 100), each with a notebook for every exercise of the bank:
the solution (``solutions/<slug>.ipynb``) for most, the untouched exercise (``exercises/<slug>.ipynb``)
for about one in four, so that both the full checks and the quick "not implemented yet" path are
timed. Graded on the local pool (``--jobs``, default: the cores) into a scratch folder, with a
secret so that the hidden checks run too. It prints the wall time, submissions (learners) and
notebooks per minute, the slowest checks, the mean seconds per check, and the pass table of the
solutions (every check of every exercise should pass on every solution).

Run from the repository root: ``python bench/grade.py [--learners N] [--jobs N] [--bank MODULE]``.
Without the course's bank (``omnilab.grading.bank``) it falls back to the test suite's toy bank.
Wall clock only here; it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from omnilab.grading import batch  # noqa: E402


def course_notebooks(module) -> dict[str, tuple[str, str]]:
    """exercise id -> (solution notebook text, blank notebook text), from solutions/ and exercises/."""
    found = {}
    for exercise in module.EXERCISES.values():
        solution = ROOT / "solutions" / f"{exercise.slug}.ipynb"
        blank = ROOT / "exercises" / f"{exercise.slug}.ipynb"
        if not (solution.exists() and blank.exists()):
            raise SystemExit(f"{solution} or {blank} is missing: run `omnilab exercises build` first")
        found[exercise.id] = (solution.read_text(), blank.read_text())
    return found


def toy_notebooks() -> dict[str, tuple[str, str]]:
    from tests.grading.classroom import notebook
    from tests.grading.test_batch import BLANK_Q, BLANK_S, SOLUTION_Q, SOLUTION_S

    return {"tq01": (notebook("tq01", {"is_quorum": SOLUTION_Q}), notebook("tq01", {"is_quorum": BLANK_Q})),
            "tq02": (notebook("tq02", {"schedule": SOLUTION_S}), notebook("tq02", {"schedule": BLANK_S}))}


def is_blank(learner: int, exercise: int) -> bool:
    """About one notebook in four is handed in untouched, spread over learners and exercises."""
    return (learner * 7 + exercise * 3) % 4 == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--no-prefork", action="store_true", help="start Python afresh for every sandbox")
    parser.add_argument("--bank", default=None, help="exercise bank module (default: the course's, else the toy)")
    args = parser.parse_args()

    bank = args.bank
    if bank is None:
        try:
            batch.load_bank(batch.DEFAULT_BANK)
            bank = batch.DEFAULT_BANK
        except ValueError:
            bank = "tests.grading.toybank"
            print("the course's exercise bank is not there: benchmarking the toy bank of the tests")
    module = batch.load_bank(bank)
    notebooks = toy_notebooks() if bank == "tests.grading.toybank" else course_notebooks(module)
    exercises = list(module.EXERCISES.values())

    scratch = Path(tempfile.mkdtemp(prefix="omnilab-bench-grade-"))
    try:
        submissions = scratch / "submissions"
        blanks = set()
        for k in range(args.learners):
            folder = submissions / f"learner{k:03d}"
            folder.mkdir(parents=True)
            for j, exercise in enumerate(exercises):
                blank = is_blank(k, j)
                if blank:
                    blanks.add((f"learner{k:03d}", exercise.id))
                (folder / f"{exercise.slug}.ipynb").write_text(notebooks[exercise.id][blank])
        jobs = args.jobs or os.cpu_count() or 1
        print(f"{args.learners} learners x {len(exercises)} exercises ({bank}), {len(blanks)} notebooks left blank; "
              f"{jobs} at a time on {os.cpu_count()} cores; sandboxes "
              f"{'started afresh' if args.no_prefork else 'forked from a zygote'}; "
              f"load average {os.getloadavg()[0]:.1f}")
        started = time.perf_counter()
        limits = batch.Limits(prefork=not args.no_prefork)
        run = batch.grade(submissions, scratch / "out", secret="bench-secret", bank=bank, jobs=jobs, limits=limits,
                          progress=True)
        wall = time.perf_counter() - started
        notebooks_graded = args.learners * len(exercises)
        print(f"\nwall time {wall:.1f} s: {args.learners / wall * 60:.1f} submissions/min, "
              f"{notebooks_graded / wall * 60:.1f} notebooks/min ({run.graded} graded)")

        with open(scratch / "out" / "timings.csv", newline="") as f:
            timings = list(csv.DictReader(f))
        with open(scratch / "out" / "results.csv", newline="") as f:
            results = list(csv.DictReader(f))
        timings.sort(key=lambda r: -float(r["seconds"]))
        print("\nslowest checks:")
        for r in timings[:5]:
            print(f"  {float(r['seconds']):7.2f} s  {r['exercise']} {r['check']} ({r['learner']}, {r['status']})")
        per_check = defaultdict(list)
        for r in timings:
            per_check[(r["exercise"], r["check"])].append(float(r["seconds"]))
        table = defaultdict(lambda: [0, 0])
        for r in results:
            if (r["learner"], r["exercise"]) not in blanks:
                table[(r["exercise"], r["check"])][0] += r["status"] == "pass"
                table[(r["exercise"], r["check"])][1] += 1
        blank_statuses = defaultdict(int)
        for r in results:
            if (r["learner"], r["exercise"]) in blanks:
                blank_statuses[(r["status"], r["reason"][:40])] += 1
        print("\nper check: mean / max seconds, and the solutions' pass count")
        for exercise in exercises:
            for check in exercise.checks:
                key = (exercise.id, check.name)
                if key not in per_check:
                    continue
                seconds = per_check[key]
                passed, graded = table[key]
                print(f"  {exercise.id} {check.name:40s} {sum(seconds) / len(seconds):6.2f} / {max(seconds):6.2f} s"
                      f"   solutions pass {passed}/{graded}{'  (hidden)' if check.hidden else ''}")
        print("\nblank notebooks: " + "; ".join(f"{n} x {status} ({reason})" for (status, reason), n in
                                                sorted(blank_statuses.items())))
        print("\n" + str(run.summary))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
