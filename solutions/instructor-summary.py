# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Instructor: grading a class and reading its summary
#
# This notebook is for the instructor; learners never receive it. It builds a small class of
# submissions, grades them with the batch grader (`omnilab grade SUBMISSIONS --out DIR` on the
# command line, `omnilab.grading.batch.grade` from Python), and reads the results the way you will
# after grading your own class: the **pass rate per check** (which parts of an exercise the class
# found hard) and the **score distribution**, as pandas DataFrames, plus the CSV files the grader
# writes for a gradebook.
#
# The class: six learners, two exercises (1, Quorums, and 6, Break it), each learner a folder of
# notebooks named for them. Their answers are made from the solution and exercise notebooks next to
# this one:
#
# | learner | Exercise 1 (`is_quorum`) | Exercise 6 (the schedule) |
# |---|---|---|
# | ada | the solution | the solution |
# | alan | untouched (`raise NotImplementedError`) | untouched |
# | barbara | counts half the nodes as a majority | the solution |
# | edsger | ignores flexible quorums | did not hand it in |
# | grace | the solution | a schedule that breaks nothing |
# | leslie | deleted the answer cell | the solution |

# %%
import copy
import re
import tempfile
from pathlib import Path

import nbformat
import pandas as pd
from IPython.display import display

from omnilab.grading import bank, batch

pd.set_option("display.max_colwidth", None)  # reasons are sentences: show them whole

# The checkout: this notebook sits in solutions/, next to the exercises' solution notebooks.
ROOT = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "solutions" / "01-quorums.py").exists())
EXERCISES = ["ex01", "ex06"]
SLUG = {exercise_id: bank.exercise(exercise_id).slug for exercise_id in EXERCISES}
SOLUTION = {e: nbformat.read(ROOT / "solutions" / f"{SLUG[e]}.ipynb", as_version=4) for e in EXERCISES}
BLANK = {e: nbformat.read(ROOT / "exercises" / f"{SLUG[e]}.ipynb", as_version=4) for e in EXERCISES}


def is_answer(cell) -> bool:
    return "answer" in (cell.metadata.get("tags") or [])


def answered(exercise_id: str, body: str):
    """The exercise notebook with `body` written where it says ``raise NotImplementedError``."""
    notebook = copy.deepcopy(BLANK[exercise_id])
    for cell in filter(is_answer, notebook.cells):
        indent = re.search(r"^( *)raise NotImplementedError$", cell.source, re.M).group(1)
        lines = "\n".join(indent + line for line in body.strip().splitlines())
        cell.source = cell.source.replace(f"{indent}raise NotImplementedError", lines, 1)
    return notebook


def without_answer_cell(exercise_id: str):
    notebook = copy.deepcopy(BLANK[exercise_id])
    notebook.cells = [cell for cell in notebook.cells if not is_answer(cell)]
    return notebook


CLASS = {
    "ada": {"ex01": SOLUTION["ex01"], "ex06": SOLUTION["ex06"]},
    "alan": {"ex01": BLANK["ex01"], "ex06": BLANK["ex06"]},
    "barbara": {"ex01": answered("ex01", "return count >= num_nodes // 2"), "ex06": SOLUTION["ex06"]},
    "edsger": {"ex01": answered("ex01", "return count > num_nodes // 2")},
    "grace": {"ex01": SOLUTION["ex01"],
              "ex06": answered("ex06", "return ['cluster.run(ticks=3)', \"cluster.put('a', 1)\", 'cluster.run(ticks=3)']")},
    "leslie": {"ex01": without_answer_cell("ex01"), "ex06": SOLUTION["ex06"]},
}

work = tempfile.TemporaryDirectory(prefix="omnilab-class-")  # removed at the end of the notebook
submissions, out = Path(work.name) / "submissions", Path(work.name) / "graded"
for learner, notebooks in CLASS.items():
    (submissions / learner).mkdir(parents=True)
    for exercise_id, notebook in notebooks.items():
        nbformat.write(notebook, submissions / learner / f"{SLUG[exercise_id]}.ipynb")
sorted(p.relative_to(submissions).as_posix() for p in submissions.rglob("*.ipynb"))

# %% [markdown]
# ## Grade the class
#
# The same as `omnilab grade SUBMISSIONS --out DIR --jobs 2` in a terminal. Every (learner,
# exercise) runs in a fresh subprocess with a per-check timeout and memory and output caps, and the
# verdicts are decided here, outside the process that ran the learner's code. Running it again skips
# what is already graded (`regrade="*"` grades everyone again).

# %%
run = batch.grade(submissions, out, jobs=2, exercises=EXERCISES, progress=False)
print(f"graded {run.graded} (learner, exercise) pairs, skipped {run.skipped}")

# %% [markdown]
# ## Pass rate per check
#
# One row per check of each exercise: how many learners were graded, how many passed, the pass rate
# and the count of each status (`fail` includes "not implemented yet"; `missing` is a deleted answer
# cell or a notebook not handed in). A check most of the class fails is the one to go over in class.

# %%
summary = batch.summary(out)
display(summary.pass_rates)

# %% [markdown]
# ## The score distribution
#
# Every learner's total, in five bins from 0 to the most a learner could score (`low` inclusive,
# `high` exclusive except in the last bin). The bar is one `█` per learner.

# %%
distribution = summary.distribution.assign(bar=summary.distribution["learners"].map(lambda n: "█" * n))
display(distribution)
totals = summary.scores["total"]
print(f"mean {totals.mean():.2f}, median {totals.median():g}, min {totals.min():g}, max {totals.max():g}")

# %% [markdown]
# ## The files the grader wrote
#
# `grades.csv` is one row per learner, one column per exercise and a total: import it into an LMS
# gradebook. `results.csv` is one row per learner, exercise and check, with the status, the reason
# and the seed (below: the checks that did not pass); `feedback/LEARNER.md` is what each learner
# gets back, with the failing schedules; `gradescope/LEARNER/results.json` is the Gradescope
# autograder format. `timings.csv` holds the seconds per check, apart from the other two so that
# grading the same class twice writes the same `results.csv` and `grades.csv`, byte for byte.

# %%
print("\n".join(sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())))
display(pd.read_csv(out / "grades.csv"))

# %%
results = pd.read_csv(out / "results.csv", keep_default_na=False)
display(results.query("status != 'pass'")[["learner", "exercise", "check", "points", "max", "status", "reason"]])

# %%
print((out / "feedback" / "barbara.md").read_text())

# %% [markdown]
# What the summary must show for this class (so that this notebook is also a test of the grader):

# %%
scores = summary.scores.set_index("learner")
full = {e: bank.exercise(e).max_points for e in EXERCISES}
assert scores.loc["ada", "total"] == sum(full.values())
assert scores.loc["alan", "total"] == 0
assert set(results.loc[results["learner"] == "alan", "reason"]) == {"not implemented yet (NotImplementedError)"}
assert (results.loc[results["learner"] == "leslie"].query("exercise == 'ex01'")["status"] == "missing").all()
assert (results.loc[results["learner"] == "edsger"].query("exercise == 'ex06'")["status"] == "missing").all()
assert scores.loc["barbara", "ex06"] == full["ex06"] and scores.loc["barbara", "ex01"] < full["ex01"]
assert 0 < scores.loc["edsger", "ex01"] < full["ex01"]
assert scores.loc["grace", "ex01"] == full["ex01"] and scores.loc["grace", "ex06"] < full["ex06"]
assert (summary.pass_rates["graded"] == len(CLASS)).all()
assert summary.distribution["learners"].sum() == len(CLASS)

# %%
work.cleanup()
