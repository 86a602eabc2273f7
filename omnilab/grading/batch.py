"""The instructor's batch grader: ``omnilab grade SUBMISSIONS --out DIR``.

``SUBMISSIONS`` holds one folder or ``.zip`` per learner, named for the learner, with that learner's
exercise notebooks; a notebook belongs to the exercise whose slug its file name contains
(``01-quorums.ipynb``, ``alice-01-quorums.ipynb``). For every (learner, exercise) the grader

1. takes only the declared answer cells (``bank.answer_sources``: found by their tag, never by
   position) and applies the bank's static guard, in its own process: nothing of the learner's runs
   for that;
2. runs the checks' ``produce`` in a fresh subprocess with a per-check timeout, a memory cap and an
   output cap (`omnilab.grading.sandbox`);
3. runs each check's ``judge`` on the artefacts, here, outside the process that ran learner code.

The points a check is worth come from the bank, never from the submission. Each check ends
``pass``, ``fail``, ``error`` (the answer raised, or its process died), ``timeout`` or ``missing``
(no notebook for the exercise, or an answer cell deleted), with a reason. Hidden checks (run only
with ``--secret``) draw their seeds from the secret and are reported the same way.

Results go to a SQLite store in ``DIR`` (``grades.sqlite``): re-running skips every (learner,
exercise) whose notebook is unchanged since it was graded with the same secret, unless ``--regrade``
(one learner, or everyone). Every row records what produced it (the omnilab version and a hash of the
exercise bank). From the store the grader writes, in ``DIR``:

- ``results.csv``: one row per learner, exercise and check (points, max, status, reason, seed, ...);
- ``grades.csv``: one row per learner, one column per exercise and a total (for an LMS gradebook);
- ``timings.csv``: seconds per check, producing in the sandbox plus judging here (kept apart so
  that the two CSVs above are the same, byte for byte, every time the same submissions are graded);
- ``gradescope/LEARNER/results.json``: the Gradescope autograder format, hidden checks
  ``after_published``;
- ``feedback/LEARNER.md``: what failed and why, with the failing schedules.

`summary` reads a ``DIR`` back as DataFrames: the pass rate per check and the score distribution.
The work runs on a local thread pool driving the subprocesses (``jobs`` at a time), or on a Dask
cluster (``dask=ADDRESS``; ``pip install omnilab[dask]``).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import importlib
import inspect
import io
import json
import os
import sqlite3
import sys
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from omnilab import __version__
from omnilab.grading import sandbox

ALL = "*"                          # --regrade with no learner: everyone
DEFAULT_BANK = "omnilab.grading.bank"
STATUSES = ("pass", "fail", "error", "timeout", "missing")
NOTEBOOK_CAP = 32 * 1024 * 1024    # bytes read from one notebook (a zip member can claim any size)

# The static guard and the judges run in the grader's threads, and some of them parse with `ast`,
# which CPython 3.11 does not make safe across threads (concurrent parses can fail with "SystemError:
# AST constructor recursion depth mismatch"). They take turns; they hold the GIL anyway.
_PARENT_WORK = threading.Lock()

LONG_COLUMNS = ("learner", "exercise", "check", "points", "max", "status", "reason", "seed", "hidden",
                "omnilab_version", "bank_hash")


# ----------------------------------------------------------------------------------------------
# Submissions


@dataclass(frozen=True)
class Submission:
    """One learner's notebooks: file name (within the folder or zip) -> bytes."""

    learner: str
    notebooks: dict[str, bytes]
    problems: tuple[str, ...] = ()   # what could not be read, for the feedback


def discover(submissions: str | os.PathLike) -> list[Submission]:
    """Every learner in `submissions`: its subfolders and ``.zip`` files, sorted by name.

    Raises ValueError when `submissions` is not a folder, or two entries name the same learner.
    """
    root = Path(submissions)
    if not root.is_dir():
        raise ValueError(f"{root} is not a folder: give the folder holding one folder or .zip per learner")
    found: dict[str, Submission] = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            learner, submission = entry.name, _read_folder(entry)
        elif entry.suffix.lower() == ".zip":
            learner, submission = entry.stem, _read_zip(entry)
        else:
            continue
        if learner in found:
            raise ValueError(f"two submissions for learner {learner!r} in {root} (a folder and a zip?): keep one")
        found[learner] = Submission(learner, *submission)
    return [found[name] for name in sorted(found)]


def _is_notebook(parts: Iterable[str]) -> bool:
    parts = list(parts)
    return (bool(parts) and parts[-1].endswith(".ipynb") and not any(p.startswith(".") for p in parts)
            and "__MACOSX" not in parts)


def _read_folder(folder: Path) -> tuple[dict[str, bytes], tuple[str, ...]]:
    notebooks, problems = {}, []
    for path in sorted(folder.rglob("*.ipynb")):
        relative = path.relative_to(folder)
        if not _is_notebook(relative.parts):
            continue
        if path.stat().st_size > NOTEBOOK_CAP:
            problems.append(f"{relative} is larger than {NOTEBOOK_CAP // 2**20} MiB; not read")
            continue
        notebooks[relative.as_posix()] = path.read_bytes()
    return notebooks, tuple(problems)


def _read_zip(path: Path) -> tuple[dict[str, bytes], tuple[str, ...]]:
    notebooks, problems = {}, []
    try:
        with zipfile.ZipFile(path) as archive:
            for info in sorted(archive.infolist(), key=lambda i: i.filename):
                if info.is_dir() or not _is_notebook(info.filename.split("/")):
                    continue
                with archive.open(info) as member:
                    data = member.read(NOTEBOOK_CAP + 1)
                if len(data) > NOTEBOOK_CAP:
                    problems.append(f"{info.filename} is larger than {NOTEBOOK_CAP // 2**20} MiB; not read")
                    continue
                notebooks[info.filename] = data
    except (zipfile.BadZipFile, OSError) as error:
        problems.append(f"{path.name} could not be opened as a zip: {error}")
    return notebooks, tuple(problems)


def find_notebook(submission: Submission, exercise) -> tuple[str | None, bytes | None, str]:
    """The submission's notebook for `exercise`: ``(name, data, "")``, or ``(None, None, reason)``.

    A notebook matches when its file name contains the exercise's slug. When several do, the one
    named exactly ``SLUG.ipynb`` wins; otherwise the match is ambiguous and nothing is graded.
    """
    matches = [name for name in submission.notebooks if exercise.slug in name.rsplit("/", 1)[-1]]
    if not matches:
        return None, None, (f"no notebook for {exercise.slug} in the submission "
                            f"(a .ipynb file whose name contains {exercise.slug!r})")
    if len(matches) > 1:
        exact = [name for name in matches if name.rsplit("/", 1)[-1] == f"{exercise.slug}.ipynb"]
        if len(exact) != 1:
            return None, None, f"several notebooks match {exercise.slug}: {', '.join(matches)}; keep one"
        matches = exact
    return matches[0], submission.notebooks[matches[0]], ""


# ----------------------------------------------------------------------------------------------
# One (learner, exercise): a job, picklable so that a Dask worker can run it


@dataclass(frozen=True)
class Limits:
    load_timeout: float = sandbox.LOAD_TIMEOUT
    memory_mb: int = sandbox.MEMORY_MB
    output_cap: int = sandbox.OUTPUT_CAP
    prefork: bool = True             # fork each sandbox from a zygote with the bank imported (POSIX)
    timeout: float | None = None     # seconds per check for every check, instead of each check's own


@dataclass(frozen=True)
class Job:
    learner: str
    exercise: str                      # exercise id
    bank: str                          # the bank module's importable name
    pythonpath: tuple[str, ...]        # where the child finds the bank
    plan: tuple[tuple[str, tuple[int, ...]], ...]  # (check name, seeds) for every check that runs
    notebook_name: str | None
    notebook: bytes | None
    missing_reason: str                # why there is no notebook, when there is none
    bank_hash: str
    secret_id: str
    limits: Limits = field(default_factory=Limits)

    @property
    def submission_hash(self) -> str:
        return hashlib.sha256(self.notebook).hexdigest()[:16] if self.notebook is not None else ""


def grade_job(job: Job) -> dict:
    """Grade one (learner, exercise): ``{"learner", "exercise", "submission_hash", "output",
    "rows": [one dict per check, in the bank's order]}``. Never raises for anything in the
    submission; runs in the grader's process (or a Dask worker), learner code only in the sandbox."""
    bank = importlib.import_module(job.bank)
    exercise = bank.EXERCISES[job.exercise]
    checks = {check.name: check for check in exercise.checks}
    seeds = dict(job.plan)
    output = ""

    def row(name: str, status: str, reason: str = "", seed: str = "", schedule=(), duration: float = 0.0):
        check = checks[name]
        return {"check": name, "position": [c.name for c in exercise.checks].index(name),
                "points": float(check.points) if status == "pass" else 0.0, "max": float(check.points),
                "status": status, "reason": reason, "seed": seed, "hidden": bool(check.hidden),
                "schedule": list(schedule), "duration": round(duration, 4)}

    def every(status: str, reason: str) -> list[dict]:
        return [row(name, status, reason) for name in seeds]

    if job.notebook is None:
        rows = every("missing", job.missing_reason)
    else:
        sources, problem = _answer_sources(bank, exercise, job)
        if problem:
            rows = every(*problem)
        else:
            with _PARENT_WORK:
                guard = bank.static_guard(exercise, sources)
            if guard:
                rows = every("fail", guard)
            else:
                result = sandbox.run(
                    job.bank, exercise.id, sources, [(name, list(s)) for name, s in job.plan],
                    timeouts={name: float(job.limits.timeout or checks[name].timeout) for name in seeds},
                    load_timeout=job.limits.load_timeout, memory_mb=job.limits.memory_mb,
                    output_cap=job.limits.output_cap, pythonpath=list(job.pythonpath),
                    prefork=job.limits.prefork)
                output = result.output
                rows = [_judged(row, checks[name], result.runs[name]) for name in seeds]
    return {"learner": job.learner, "exercise": job.exercise, "submission_hash": job.submission_hash,
            "output": output, "rows": rows}


def _answer_sources(bank, exercise, job: Job) -> tuple[dict[str, str], tuple[str, str] | None]:
    """The answer cells' sources, or the (status, reason) that ends the exercise here."""
    try:
        import nbformat

        notebook = nbformat.reads(job.notebook.decode("utf-8"), as_version=4)
    except Exception as error:  # noqa: BLE001 - any unreadable file is the submission's problem
        return {}, ("error", f"{job.notebook_name} could not be read as a notebook ({type(error).__name__}: "
                             f"{str(error)[:300]})")
    try:
        sources = bank.answer_sources(notebook)
    except Exception as error:  # noqa: BLE001
        return {}, ("error", f"the answer cells of {job.notebook_name} could not be read "
                             f"({type(error).__name__}: {str(error)[:300]})")
    absent = [name for name in exercise.surface if name not in sources]
    if absent:
        return {}, ("missing", f"no answer cell for {', '.join(absent)} in {job.notebook_name} (answer cells "
                               f"carry the tag {getattr(bank, 'ANSWER_TAG', 'answer')!r}; restore the cell "
                               "from a fresh copy of the exercise and paste your answer back)")
    return {name: sources[name] for name in exercise.surface}, None


def _judged(row, check, run: sandbox.CheckRun) -> dict:
    """The verdict on one check's sandbox run, decided here from its artefacts."""
    if run.state == "timeout":
        return row(check.name, "timeout", run.reason, _seed(run.seed), duration=run.duration)
    if run.state == "not-implemented":
        return row(check.name, "fail", "not implemented yet (NotImplementedError)", _seed(run.seed),
                   duration=run.duration)
    if run.state == "error":
        return row(check.name, "error", run.reason, _seed(run.seed), duration=run.duration)
    started = time.perf_counter()
    for seed, artefact in run.artefacts:
        try:
            with _PARENT_WORK:
                outcome = check.judge(artefact, seed)
        except Exception as error:  # noqa: BLE001 - an artefact the judge cannot read is a failed answer
            return row(check.name, "error", f"the answer produced something the check cannot read "
                                            f"({type(error).__name__}: {str(error)[:300]})", _seed(seed),
                       duration=run.duration + time.perf_counter() - started)
        if not outcome.passed:
            return row(check.name, "fail", outcome.reason, _seed(seed), tuple(outcome.schedule),
                       duration=run.duration + time.perf_counter() - started)
    return row(check.name, "pass", "", " ".join(str(seed) for seed, _ in run.artefacts),
               duration=run.duration + time.perf_counter() - started)


def _seed(seed) -> str:
    return "" if seed is None else str(seed)


# ----------------------------------------------------------------------------------------------
# The bank: its identity, and which checks run


def load_bank(bank: str):
    """Import the exercise bank module `bank` (raises ValueError saying what to do if it is absent)."""
    try:
        module = importlib.import_module(bank)
    except ImportError as error:
        raise ValueError(f"the exercise bank {bank!r} cannot be imported ({error})") from error
    if not getattr(module, "EXERCISES", None):
        raise ValueError(f"the exercise bank {bank!r} has no EXERCISES")
    return module


def bank_hash(module) -> str:
    """A short hash of everything that decides a grade: the bank's exercises (ids, surfaces, checks,
    points, timeouts) and the source of the modules their produce and judge functions live in."""
    digest = hashlib.sha256()
    files = {inspect.getsourcefile(module)}
    for exercise in module.EXERCISES.values():
        digest.update(repr((exercise.id, exercise.slug, tuple(exercise.surface), tuple(exercise.forbidden))).encode())
        for check in exercise.checks:
            digest.update(repr((check.name, float(check.points), bool(check.hidden), float(check.timeout))).encode())
            for function in (check.produce, check.judge):
                try:
                    files.add(inspect.getsourcefile(inspect.unwrap(function)))
                except TypeError:
                    pass
    for content in sorted(Path(f).read_bytes() for f in files if f):
        digest.update(hashlib.sha256(content).digest())
    return digest.hexdigest()[:12]


def secret_id(secret: str | None) -> str:
    """Which secret graded a row, without storing the secret ("" for none)."""
    if secret is None:
        return ""
    return hmac.new(secret.encode(), b"omnilab grade: secret id", hashlib.sha256).hexdigest()[:12]


def plan_for(exercise, secret: str | None) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """The checks that run and their seeds: every public check, and the hidden ones with a secret."""
    plan = []
    for check in exercise.checks:
        if check.hidden and secret is None:
            continue
        seeds = tuple(int(s) for s in exercise.seeds(check, secret))
        if seeds:
            plan.append((check.name, seeds))
    return tuple(plan)


def _import_root(module) -> str:
    """The folder to put on the child's path so that it imports `module` under the same name."""
    path = Path(inspect.getsourcefile(module)).resolve()
    depth = module.__name__.count(".") + (1 if path.name == "__init__.py" else 0)
    return str(path.parents[depth])


# ----------------------------------------------------------------------------------------------
# The store


_SCHEMA = """
CREATE TABLE IF NOT EXISTS graded (
    learner TEXT NOT NULL, exercise TEXT NOT NULL, submission_hash TEXT NOT NULL, secret_id TEXT NOT NULL,
    bank_hash TEXT NOT NULL, omnilab_version TEXT NOT NULL, output TEXT NOT NULL,
    PRIMARY KEY (learner, exercise));
CREATE TABLE IF NOT EXISTS checks (
    learner TEXT NOT NULL, exercise TEXT NOT NULL, position INTEGER NOT NULL, check_name TEXT NOT NULL,
    points REAL NOT NULL, max_points REAL NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL,
    seed TEXT NOT NULL, hidden INTEGER NOT NULL, schedule TEXT NOT NULL, duration REAL NOT NULL,
    omnilab_version TEXT NOT NULL, bank_hash TEXT NOT NULL,
    PRIMARY KEY (learner, exercise, check_name));
"""


class Store:
    """The graded rows, in ``DIR/grades.sqlite`` (stdlib sqlite3)."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(path)
        self.db.executescript(_SCHEMA)

    def graded(self, learner: str, exercise: str) -> tuple[str, str, str] | None:
        """(submission hash, secret id, bank hash) of the stored grading, if any."""
        return self.db.execute("SELECT submission_hash, secret_id, bank_hash FROM graded "
                               "WHERE learner = ? AND exercise = ?", (learner, exercise)).fetchone()

    def save(self, result: dict, job: Job) -> None:
        with self.db:
            key = (result["learner"], result["exercise"])
            self.db.execute("DELETE FROM checks WHERE learner = ? AND exercise = ?", key)
            self.db.execute("INSERT OR REPLACE INTO graded VALUES (?, ?, ?, ?, ?, ?, ?)",
                            (*key, result["submission_hash"], job.secret_id, job.bank_hash, __version__,
                             result["output"]))
            self.db.executemany(
                "INSERT INTO checks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(*key, r["position"], r["check"], r["points"], r["max"], r["status"], r["reason"], r["seed"],
                  int(r["hidden"]), json.dumps(r["schedule"]), r["duration"], __version__, job.bank_hash)
                 for r in result["rows"]])

    def rows(self, learners: Iterable[str], order: list[str]) -> list[dict]:
        """The stored check rows of `learners`, sorted by learner, exercise (in `order`) and check."""
        learners = list(learners)
        if not learners:
            return []
        marks = ", ".join("?" * len(learners))
        cursor = self.db.execute(
            "SELECT learner, exercise, position, check_name, points, max_points, status, reason, seed, hidden, "
            f"schedule, duration, omnilab_version, bank_hash FROM checks WHERE learner IN ({marks})", learners)
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, values)) for values in cursor.fetchall()]
        rank = {exercise: i for i, exercise in enumerate(order)}
        rows.sort(key=lambda r: (r["learner"], rank.get(r["exercise"], len(rank)), r["exercise"], r["position"]))
        return rows

    def outputs(self, learner: str) -> dict[str, str]:
        return dict(self.db.execute("SELECT exercise, output FROM graded WHERE learner = ?", (learner,)))

    def close(self) -> None:
        self.db.close()


# ----------------------------------------------------------------------------------------------
# The run


@dataclass
class GradeRun:
    """What `grade` did: how many (learner, exercise) it graded and skipped, and the summary."""

    out: Path
    graded: int
    skipped: int
    stale: int                       # skipped rows graded by a different bank (``--regrade`` refreshes them)
    summary: "Summary"


def grade(submissions: str | os.PathLike, out: str | os.PathLike, *, secret: str | None = None,
          regrade: str | None = None, jobs: int | None = None, dask: Any = None, bank: str = DEFAULT_BANK,
          limits: Limits = Limits(), progress: bool = True, exercises: Iterable[str] | None = None) -> GradeRun:
    """Grade every learner in `submissions` into `out` (see the module docstring).

    `regrade` is None (skip what is graded), `ALL`, or one learner's name; `jobs` the number of
    sandboxes at once (default: the number of cores); `dask` a Dask scheduler address or a
    ``distributed.Client``; `bank` the exercise bank's module name (tests pass a small one);
    `exercises` the ids of the exercises to grade and report (default: all of the bank's), as for
    a Gradescope assignment of one exercise.
    """
    module = load_bank(bank)
    chosen = _chosen(module, exercises)
    learners = discover(submissions)
    if regrade not in (None, ALL) and regrade not in {s.learner for s in learners}:
        raise ValueError(f"--regrade {regrade}: no such learner in {submissions}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    store = Store(out / "grades.sqlite")
    try:
        identity = bank_hash(module)
        sid = secret_id(secret)
        pythonpath = (_import_root(module),)
        todo, skipped, stale = [], 0, 0
        for submission in learners:
            for exercise in chosen:
                name, data, reason = find_notebook(submission, exercise)
                job = Job(submission.learner, exercise.id, bank, pythonpath, plan_for(exercise, secret),
                          name, data, reason, identity, sid, limits)
                stored = store.graded(submission.learner, exercise.id)
                wanted = regrade == ALL or regrade == submission.learner
                if stored and not wanted and stored[:2] == (job.submission_hash, sid):
                    skipped += 1
                    stale += stored[2] != identity
                    continue
                todo.append(job)
        for job, result in _execute(todo, jobs=jobs, dask=dask, progress=progress):
            store.save(result, job)
        order = [exercise.id for exercise in chosen]
        rows = [r for r in store.rows([s.learner for s in learners], order) if r["exercise"] in order]
        write_outputs(out, rows, chosen, {s.learner: s for s in learners},
                      {s.learner: store.outputs(s.learner) for s in learners})
    finally:
        store.close()
    return GradeRun(out, len(todo), skipped, stale, summary(out))


def _chosen(module, ids: Iterable[str] | None) -> list:
    """The bank's exercises named by `ids` (all when None), in the bank's order."""
    if ids is None:
        return list(module.EXERCISES.values())
    ids = list(ids)
    unknown = [i for i in ids if i not in module.EXERCISES]
    if unknown:
        raise ValueError(f"no exercise {', '.join(unknown)} in the bank; "
                         f"its exercises are {', '.join(module.EXERCISES)}")
    return [exercise for exercise in module.EXERCISES.values() if exercise.id in ids]


def _execute(todo: list[Job], *, jobs: int | None, dask: Any, progress: bool):
    """Run `todo`, yielding (job, result) as each finishes."""
    if not todo:
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=len(todo), desc="grading", unit="notebook", disable=not progress, file=sys.stderr)
    try:
        if dask is not None:
            yield from _execute_dask(todo, dask, bar)
            return
        workers = max(1, jobs or os.cpu_count() or 1)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="omnilab-grade") as pool:
            futures = {pool.submit(grade_job, job): job for job in todo}
            for future in as_completed(futures):
                bar.update(1)
                yield futures[future], _result(future, futures[future])
    finally:
        bar.close()
        sandbox.shutdown_zygotes()


def _result(future, job: Job) -> dict:
    """The future's result; a failure of the grader itself (never of the submission: `grade_job`
    turns those into rows) becomes an ``error`` row per check, so the rest of the batch goes on,
    and is reported on stderr."""
    try:
        return future.result()
    except Exception as error:  # noqa: BLE001
        reason = f"the grader itself failed on this notebook ({type(error).__name__}: {str(error)[:300]})"
        print(f"omnilab grade: {job.learner} {job.exercise}: {reason}", file=sys.stderr)
        module = importlib.import_module(job.bank)
        checks = {c.name: c for c in module.EXERCISES[job.exercise].checks}
        positions = [c.name for c in module.EXERCISES[job.exercise].checks]
        return {"learner": job.learner, "exercise": job.exercise, "submission_hash": "", "output": "",
                "rows": [{"check": name, "position": positions.index(name), "points": 0.0,
                          "max": float(checks[name].points), "status": "error", "reason": reason, "seed": "",
                          "hidden": bool(checks[name].hidden), "schedule": [], "duration": 0.0}
                         for name, _ in job.plan]}


def _execute_dask(todo: list[Job], dask: Any, bar):
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError as error:
        raise ValueError("--dask needs the dask extra: pip install 'omnilab[dask]'") from error
    client = dask if isinstance(dask, Client) else Client(dask)
    try:
        futures = client.map(grade_job, todo, pure=False)
        jobs = {future.key: job for future, job in zip(futures, todo)}
        for future in dask_completed(futures):
            bar.update(1)
            yield jobs[future.key], _result(future, jobs[future.key])
    finally:
        if client is not dask:
            client.close()


# ----------------------------------------------------------------------------------------------
# Outputs


def _number(value: float) -> str:
    """Points as an instructor writes them: 2, 1.5 (never 2.0000000001 or 2.0)."""
    value = round(float(value), 6)
    return str(int(value)) if value == int(value) else f"{value:g}"


def _csv(path: Path, header, rows) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def write_outputs(out: Path, rows: list[dict], exercises: list, submissions: dict[str, Submission],
                  outputs: dict[str, dict[str, str]]) -> None:
    """results.csv, grades.csv, timings.csv, gradescope/*/results.json and feedback/*.md from `rows`
    (the rows of `exercises`, in order)."""
    _csv(out / "results.csv", LONG_COLUMNS,
         [(r["learner"], r["exercise"], r["check_name"], _number(r["points"]), _number(r["max_points"]),
           r["status"], r["reason"], r["seed"], "yes" if r["hidden"] else "no", r["omnilab_version"],
           r["bank_hash"]) for r in rows])
    _csv(out / "timings.csv", ("learner", "exercise", "check", "status", "seconds"),
         [(r["learner"], r["exercise"], r["check_name"], r["status"], f"{r['duration']:.3f}") for r in rows])
    by_learner: dict[str, list[dict]] = {learner: [] for learner in submissions}
    for r in rows:
        by_learner.setdefault(r["learner"], []).append(r)
    grades = []
    for learner, mine in by_learner.items():
        per = {e.id: sum(r["points"] for r in mine if r["exercise"] == e.id) for e in exercises}
        grades.append((learner, *(_number(per[e.id]) for e in exercises), _number(sum(per.values()))))
    _csv(out / "grades.csv", ("learner", *(e.id for e in exercises), "total"), grades)
    for learner, mine in by_learner.items():
        folder = out / "gradescope" / learner
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "results.json").write_text(json.dumps(gradescope_results(mine, exercises), indent=2) + "\n",
                                             encoding="utf-8")
        (out / "feedback").mkdir(exist_ok=True)
        (out / "feedback" / f"{learner}.md").write_text(
            feedback(learner, mine, exercises, submissions[learner].problems, outputs.get(learner, {})),
            encoding="utf-8")


def gradescope_results(rows: list[dict], exercises) -> dict:
    """One submission in Gradescope's results.json format (score, execution_time, output, tests)."""
    numbers = {e.id: i + 1 for i, e in enumerate(exercises)}
    tests = []
    for r in rows:
        tests.append({
            "name": f"{r['exercise']} {r['check_name']}",
            "number": f"{numbers.get(r['exercise'], 0)}.{r['position'] + 1}",
            "score": r["points"], "max_score": r["max_points"],
            "status": "passed" if r["status"] == "pass" else "failed",
            "output": r["status"] if not r["reason"] else f"{r['status']}: {r['reason']}",
            "tags": [r["exercise"]],
            "visibility": "after_published" if r["hidden"] else "visible"})
    score = sum(r["points"] for r in rows)
    maximum = sum(r["max_points"] for r in rows if not r["hidden"])
    passed = sum(r["status"] == "pass" for r in rows)
    return {"score": score, "execution_time": round(sum(r["duration"] for r in rows), 3),
            "output": f"{passed} of {len(rows)} checks passed; {_number(score)} points "
                      f"(public checks are worth {_number(maximum)}).",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def feedback(learner: str, rows: list[dict], exercises, problems=(), outputs=None) -> str:
    """The markdown a learner reads: per exercise, each check's result; for a failure its reason and
    the failing schedule (withheld for hidden checks, whose schedules come from the secret)."""
    titles = {e.id: e.title for e in exercises}
    lines = [f"# Feedback for {learner}", ""]
    total = sum(r["points"] for r in rows)
    maximum = sum(r["max_points"] for r in rows)
    lines += [f"Total: {_number(total)} of {_number(maximum)} points.", ""]
    for problem in problems:
        lines += [f"- Note: {problem}"]
    for exercise in exercises:
        mine = [r for r in rows if r["exercise"] == exercise.id]
        if not mine:
            continue
        got = sum(r["points"] for r in mine)
        lines += ["", f"## {exercise.id}: {titles[exercise.id]} ({_number(got)} of "
                      f"{_number(sum(r['max_points'] for r in mine))})", "",
                  "| check | points | result | reason |", "|---|---|---|---|"]
        for r in mine:
            name = r["check_name"] + (" (hidden)" if r["hidden"] else "")
            reason = r["reason"].replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {name} | {_number(r['points'])} / {_number(r['max_points'])} | {r['status']} | {reason} |")
        for r in mine:
            schedule = json.loads(r["schedule"]) if isinstance(r["schedule"], str) else r["schedule"]
            if r["status"] == "pass" or not schedule:
                continue
            lines += ["", f"### {r['check_name']}: the failing schedule", ""]
            if r["hidden"]:
                lines.append("This is a hidden check: its schedule is not shown. "
                             "The reason above says what went wrong.")
            else:
                seed = f" (seed {r['seed']})" if r["seed"] else ""
                lines += [f"Replay it{seed}:", "", "```python", *schedule, "```"]
        printed = (outputs or {}).get(exercise.id, "")
        if printed and any(r["status"] in ("error", "timeout") for r in mine):
            lines += ["", "What your code printed (the start of it):", "", "```", printed[:2000].rstrip(), "```"]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------
# Summary


@dataclass
class Summary:
    """What an instructor looks at after a run.

    ``pass_rates``: one row per (exercise, check): learners graded, how many passed, the pass rate,
    and the count of each status. ``scores``: ``grades.csv`` (one row per learner). ``distribution``:
    the total scores in bins (``low`` inclusive, ``high`` exclusive but the last) with a learner count.
    """

    pass_rates: Any
    scores: Any
    distribution: Any

    def __str__(self) -> str:
        if self.scores.empty:
            return "no learners graded"
        totals = self.scores["total"]
        text = ["pass rate per check:", self.pass_rates.to_string(), "",
                f"total score: mean {totals.mean():.2f}, median {totals.median():g}, min {totals.min():g}, "
                f"max {totals.max():g} ({len(totals)} learners)", self.distribution.to_string(index=False)]
        return "\n".join(text)


def summary(out: str | os.PathLike, bins: int = 5) -> Summary:
    """The `Summary` of a grading output folder (``results.csv`` and ``grades.csv`` in it)."""
    import pandas as pd

    out = Path(out)
    long = pd.read_csv(out / "results.csv", dtype={"seed": str, "reason": str}, keep_default_na=False)
    scores = pd.read_csv(out / "grades.csv", dtype={"learner": str}, keep_default_na=False)
    if long.empty:
        rates = pd.DataFrame(columns=["graded", "passed", "pass_rate", *STATUSES])
    else:
        counts = pd.crosstab([long["exercise"], long["check"]], long["status"])
        counts = counts.reindex(columns=list(STATUSES), fill_value=0)
        order = long[["exercise", "check"]].drop_duplicates().apply(tuple, axis=1).tolist()
        counts = counts.reindex(order)
        counts.columns.name = None
        rates = pd.DataFrame({"graded": counts.sum(axis=1), "passed": counts["pass"]})
        rates["pass_rate"] = (rates["passed"] / rates["graded"]).round(3)
        rates = rates.join(counts)
    totals = scores["total"].astype(float) if not scores.empty else pd.Series(dtype=float)
    if totals.empty:
        distribution = pd.DataFrame(columns=["low", "high", "learners"])
    else:
        # Bins over the possible range: 0 to the most any learner could score (their checks' maxima).
        possible = long.groupby("learner")["max"].sum().max() if not long.empty else 0.0
        low, high = 0.0, float(max(possible, totals.max(), 1.0))
        width = (high - low) / bins
        edges = [round(low + i * width, 3) for i in range(bins + 1)]
        counts = [int(((totals >= edges[i]) & ((totals < edges[i + 1]) | (i == bins - 1) & (totals <= high))).sum())
                  for i in range(bins)]
        distribution = pd.DataFrame({"low": edges[:-1], "high": edges[1:], "learners": counts})
    return Summary(rates, scores, distribution)
