"""``omnilab.grading.check("ex01")`` in a notebook: run an exercise's public checks, show a table.

The check takes the answer from the notebook's own names (the caller's globals, or the `namespace`
given), runs each public check's ``produce`` then ``judge`` here, in the learner's process (batch
grading keeps the two apart: see `omnilab.grading.bank`), and returns a `Report`. The report renders
as a table (check, points, passed, reason); a failing check shows its schedule as `Cluster` calls,
and ``report.lab("check-name")`` opens the lab on that schedule with the learner's variant, stopped
at the call that revealed the failure.
"""

from __future__ import annotations

import html
import inspect
import textwrap
import time
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from .bank import Check, CheckOutcome, Exercise, static_guard
from .bank import exercise as find_exercise

NOT_IMPLEMENTED = "not implemented yet"


@dataclass(frozen=True)
class Row:
    """One check's line of a report."""

    check: str
    points: float
    max_points: float
    passed: bool
    reason: str
    schedule: tuple[str, ...] = ()
    seconds: float = 0.0
    error: Optional[str] = None       # the exception type a produce raised ("NotImplementedError", ...)


@dataclass
class Report:
    """What `check` found: one `Row` per public check, in the exercise's order."""

    exercise: Exercise
    rows: list[Row]
    namespace: Mapping[str, Any] = field(repr=False, default_factory=dict)
    guard: Optional[str] = None

    @property
    def score(self) -> float:
        return sum(r.points for r in self.rows)

    @property
    def max_score(self) -> float:
        return sum(r.max_points for r in self.rows)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows)

    def row(self, check_name: str) -> Row:
        for row in self.rows:
            if row.check == check_name:
                return row
        raise KeyError(f"{self.exercise.id} has no check {check_name!r}; the report has "
                       f"{[r.check for r in self.rows]}")

    def frame(self):
        """The table as a pandas DataFrame (check, points, max, passed, reason)."""
        import pandas as pd

        return pd.DataFrame([{"check": r.check, "points": r.points, "max": r.max_points, "passed": r.passed,
                              "reason": r.reason} for r in self.rows])

    def cluster(self, check_name: str) -> Any:
        """The failing run of `check_name` rebuilt with your variant, as it stood at the call that
        revealed the failure (``Cluster`` replayed from the reported schedule)."""
        row = self.row(check_name)
        if not row.schedule:
            raise ValueError(f"{check_name} has no failing schedule to replay"
                             + (" (it passed)" if row.passed else f" ({row.reason})"))
        if self.exercise.replay is None:
            raise ValueError(f"{self.exercise.id}'s checks run no cluster")
        return self.exercise.replay(self.namespace, row.schedule)

    def trace(self, check_name: str) -> Any:
        """The trace of that rebuilt run (``Cluster.replay(trace, variant=...)`` rebuilds it again)."""
        return self.cluster(check_name).trace

    def lab(self, check_name: str) -> Any:
        """Open ``omnilab.lab`` on the failing run of `check_name`, at the call that revealed the
        failure (the lab shows the cluster as it stood then; Step, Run, ... continue from there).
        ``cluster.trace.script()`` in the lab's cluster prints the same schedule."""
        from omnilab.widgets import lab

        return lab(self.cluster(check_name))

    # --- rendering -------------------------------------------------------------------------------------

    def _title(self) -> str:
        return f"{self.exercise.id} {self.exercise.title}: {_points(self.score)} / {_points(self.max_score)} points"

    def __repr__(self) -> str:
        lines = [self._title()]
        if self.guard:
            lines.append(f"  (0 points: {self.guard})")
        width = max([len(r.check) for r in self.rows] + [5])
        lines.append(f"  {'check':<{width}}  points  passed  reason")
        for r in self.rows:
            mark = "yes" if r.passed else "no"
            lines.append(f"  {r.check:<{width}}  {_points(r.points):>2}/{_points(r.max_points):<3}  "
                         f"{mark:<6}  {r.reason}")
        for r in self.rows:
            if r.schedule:
                lines.append(f"\n{r.check} failed on this schedule (report.lab({r.check!r}) opens it):")
                lines.extend(f"    {line}" for line in r.schedule)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        out = [f"<div class='omnilab-report'><b>{esc(self._title())}</b>"]
        if self.guard:
            out.append(f"<p style='color:#b00'>0 points: {esc(self.guard)}</p>")
        out.append("<table><thead><tr><th style='text-align:left'>check</th><th>points</th><th>passed</th>"
                   "<th style='text-align:left'>reason</th></tr></thead><tbody>")
        for r in self.rows:
            mark = "<span style='color:#080'>✓</span>" if r.passed else "<span style='color:#b00'>✗</span>"
            out.append(f"<tr><td style='text-align:left'><code>{esc(r.check)}</code></td>"
                       f"<td>{_points(r.points)} / {_points(r.max_points)}</td><td>{mark}</td>"
                       f"<td style='text-align:left'>{esc(r.reason)}</td></tr>")
        out.append("</tbody></table>")
        for r in self.rows:
            if r.schedule:
                out.append(f"<details><summary><code>{esc(r.check)}</code> failed on this schedule: "
                           f"<code>report.lab({esc(repr(r.check))})</code> opens it in the lab</summary>"
                           f"<pre>{esc(chr(10).join(r.schedule))}</pre></details>")
        out.append("</div>")
        return "".join(out)


def _points(value: float) -> str:
    return f"{value:g}"


def run_check(exercise: Exercise, check: Check, namespace: Mapping[str, Any],
              seed: int) -> tuple[CheckOutcome, Optional[str]]:
    """Produce then judge one check on one seed, in this process. Returns the outcome and the type
    name of the exception a produce raised (None if it returned)."""
    try:
        artefact = check.produce(namespace, seed)
    except NotImplementedError:
        return CheckOutcome(False, NOT_IMPLEMENTED), "NotImplementedError"
    except Exception as err:  # noqa: BLE001 - the learner's code may raise anything
        return CheckOutcome(False, f"{type(err).__name__}: {err}"), type(err).__name__
    try:
        return check.judge(artefact, seed), None
    except Exception as err:  # noqa: BLE001 - a malformed artefact is the answer's fault
        return CheckOutcome(False, f"the check could not read what your code produced ({type(err).__name__}: {err})"), \
            type(err).__name__


def check(exercise_id: str, namespace: Optional[Mapping[str, Any]] = None, *, progress: bool = True,
          sources: Optional[Mapping[str, str]] = None) -> Report:
    """Grade exercise `exercise_id` on the answers defined in `namespace` (default: the calling
    notebook's globals). Runs every public check with a progress bar; returns a `Report`.

    An answer whose source (`sources`, or the source of the notebook's functions and classes) reaches
    the reference implementation scores 0 with the reason given.
    """
    exercise = find_exercise(exercise_id)
    if namespace is None:
        caller = inspect.currentframe().f_back
        namespace = caller.f_globals if caller is not None else {}
    if sources is None:
        sources = _sources_of(exercise, namespace)
    guard = static_guard(exercise, sources)
    checks = [c for c in exercise.checks if not c.hidden]
    rows: list[Row] = []
    bar = _progress(checks, exercise) if progress else None
    missing = [name for name in exercise.surface if name not in namespace]
    for c in checks:
        if bar is not None:
            bar.set_postfix_str(c.name)
        started = time.perf_counter()
        if missing:
            outcome, error = CheckOutcome(False, f"{', '.join(missing)} is not defined: run its answer cell first"), \
                "NameError"
        elif guard:
            outcome, error = CheckOutcome(False, guard), None
        else:
            outcome, error = CheckOutcome(True), None
            for seed in exercise.seeds(c, None):
                outcome, error = run_check(exercise, c, namespace, seed)
                if not outcome.passed:
                    break
        rows.append(Row(c.name, float(c.points) if outcome.passed else 0.0, float(c.points), outcome.passed,
                        outcome.reason, tuple(outcome.schedule), time.perf_counter() - started, error))
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.set_postfix_str("done")
        bar.close()
    return Report(exercise, rows, namespace, guard)


def _progress(checks: list, exercise: Exercise):
    from tqdm.auto import tqdm

    return tqdm(total=len(checks), desc=f"{exercise.id} checks", unit="check", leave=False)


def _sources_of(exercise: Exercise, namespace: Mapping[str, Any]) -> dict[str, str]:
    """The source of each surface the namespace defines (for the static guard in a notebook): the
    function's or class's source text, or the repr of a value."""
    found = {}
    for name in exercise.surface:
        value = namespace.get(name)
        if value is None:
            continue
        parts = [value] if not inspect.isclass(value) else [
            v for v in vars(value).values() if inspect.isfunction(v) or isinstance(v, (classmethod, staticmethod))]
        texts = []
        for part in parts:
            try:
                texts.append(inspect.getsource(getattr(part, "__func__", part)))
            except (TypeError, OSError):
                pass
        # A class's methods are dedented so that the pieces parse on their own.
        found[name] = "\n".join(textwrap.dedent(t) for t in texts)
    return found
