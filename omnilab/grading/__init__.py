"""Exercise checks (feedback in the notebook) and the instructor's batch grader.

In an exercise notebook, ``omnilab.grading.check("ex01")`` grades the answers the notebook defined
and returns a report (a table of checks, points and reasons; ``report.lab(check)`` opens a failing
run in the lab). The exercises themselves are in `omnilab.grading.bank` (``EXERCISES``);
``omnilab exercises build`` regenerates the notebooks from ``solutions/*.py``. The instructor's
``omnilab grade`` is `omnilab.grading.batch` (`grade`, `summary`).
"""

from __future__ import annotations

import inspect
from typing import Any, Mapping, Optional


def check(exercise_id: str, namespace: Optional[Mapping[str, Any]] = None, **options: Any):
    """Grade exercise `exercise_id` on the answers in `namespace` (default: the calling notebook's
    globals); returns a `omnilab.grading.report.Report`. See `omnilab.grading.report.check`."""
    from .report import check as run

    if namespace is None:
        caller = inspect.currentframe().f_back
        namespace = caller.f_globals if caller is not None else {}
    return run(exercise_id, namespace, **options)


def variant(exercise_id: str, namespace: Optional[Mapping[str, Any]] = None):
    """Your answer to `exercise_id` as a simulator variant: ``Cluster([1, 2, 3], variant=...)``."""
    from .bank import exercise

    if namespace is None:
        caller = inspect.currentframe().f_back
        namespace = caller.f_globals if caller is not None else {}
    ex = exercise(exercise_id)
    if ex.variant is None:
        raise ValueError(f"{exercise_id}'s answer is not a variant")
    return ex.variant(namespace)


def grade(submissions, out, **options):
    """Grade a class's notebooks into `out`: see `omnilab.grading.batch.grade` (``omnilab grade``)."""
    from omnilab.grading.batch import grade as batch_grade

    return batch_grade(submissions, out, **options)


def summary(out_dir):
    """The pass rate per check and the score distribution of a grading folder, as DataFrames
    (`omnilab.grading.batch.Summary`)."""
    from omnilab.grading.batch import summary as batch_summary

    return batch_summary(out_dir)
