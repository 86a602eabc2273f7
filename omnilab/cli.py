"""The ``omnilab`` command line.

Each subcommand is one function that takes argparse's subparsers object, adds its own parser and
sets ``handler`` to the function that runs it. The handler receives the parsed arguments and
returns the process exit code. To add a subcommand, write such a function and list it in
``COMMANDS``:

    def add_fuzz_command(subparsers):
        parser = subparsers.add_parser("fuzz", help="run a random fault campaign")
        parser.add_argument("--seed", type=int, default=0)
        parser.set_defaults(handler=run_fuzz)

    def run_fuzz(args):
        from omnilab.sim import campaigns  # import heavy modules inside the handler
        ...
        return 0

Keep imports inside handlers so that ``omnilab --help`` stays instant.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from omnilab import __version__

# argparse's subparsers object; argparse keeps its class private.
Subparsers = argparse._SubParsersAction
AddCommand = Callable[[Subparsers], None]

def int_at_least(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse ``type`` for an integer in ``[low, high]``: a bad value becomes argparse's usual
    one-line error (``omnilab fuzz: error: argument --seeds: ...``) and exit status 2."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, not {value}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high}, not {value}")
        return value

    parse.__name__ = "integer"  # argparse names the type in some messages
    return parse


#: The simulator is for clusters one can watch; a bigger --nodes would only look like a hang.
MAX_FUZZ_NODES = 25


def add_fuzz_command(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "fuzz", help="run a seeded random fault campaign against the simulated cluster",
        description="Run random schedules (reorder, drop, duplicate, delayed messages, crash/recover, cuts, "
                    "partitions, appends, trims and snapshots, repeated reconfigurations) with every invariant "
                    "checked after every operation, then heal and check for progress. Exits 1 if any seed "
                    "violates an invariant, 2 on a bad argument.")
    parser.add_argument("--seeds", type=int_at_least(1), default=100, metavar="N",
                        help="number of seeds, at least 1 (default 100)")
    parser.add_argument("--first-seed", type=int_at_least(0), default=0, metavar="SEED",
                        help="start the seeds here (default 0)")
    parser.add_argument("--steps", type=int_at_least(0), default=100, metavar="N",
                        help="random operations per seed, 0 or more (default 100)")
    parser.add_argument("--nodes", type=int_at_least(2, MAX_FUZZ_NODES), default=None, metavar="N",
                        help=f"nodes in configuration 1, 2 to {MAX_FUZZ_NODES} (default 3, or 5 for the mutants "
                             "whose bug needs more: omnilab mutants lists them)")
    parser.add_argument("--faults", default=None,
                        help="comma-separated subset of: reorder,drop,duplicate,delay,crash,cut,partition,append,"
                             "compact,reconfigure")
    parser.add_argument("--no-shrink", action="store_true", help="report failing seeds without shrinking them")
    parser.add_argument("--variant", default="reference",
                        help="the variant to run: 'reference' (default), a mutant's name (omnilab mutants lists "
                             "them) or an importable 'package.module:ATTRIBUTE'")
    parser.set_defaults(handler=run_fuzz, parser=parser)


def parse_faults(text: str | None, known: Sequence[str]) -> tuple[str, ...]:
    """The faults named in ``--faults`` (all of `known` when not given), in order, without repeats.
    Raises ``ValueError`` with the one-line reason for an empty list or an unknown name."""
    if text is None:
        return tuple(known)
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ValueError(f"argument --faults: name at least one of {','.join(known)}")
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"argument --faults: unknown fault {unknown[0]!r}; choose from {','.join(known)}")
    return tuple(dict.fromkeys(names))


def run_fuzz(args: argparse.Namespace) -> int:
    from omnilab.sim import campaigns
    from omnilab.sim.variant import BadInput, resolve

    try:
        faults = parse_faults(args.faults, campaigns.FAULTS)
    except ValueError as err:
        args.parser.error(str(err))  # argparse's one line on stderr, exit status 2
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    try:
        variant = resolve(args.variant)
    except BadInput as err:
        print(f"omnilab fuzz: {err}")
        return 2
    if args.nodes is None:
        from omnilab.sim.mutants import campaign_nodes

        args.nodes = campaign_nodes(variant)
    shown = "" if variant.is_reference else f", variant {variant.name}"
    print(f"fuzz: {args.seeds} seeds x {args.steps} steps, {args.nodes} nodes{shown}, faults: {', '.join(faults)}")
    table = campaigns.fuzz(seeds, args.steps, args.nodes, faults, shrink_failures=not args.no_shrink,
                           variant=variant)
    failed = table[~table["ok"]]
    print(f"seeds ok: {int(table['ok'].sum())}/{len(table)}; reconfigured: {int(table['reconfigured'].sum())}; "
          f"per seed: {table['delivered'].mean():.0f} delivered, {table['dropped'].mean():.0f} dropped, "
          f"{table['duplicated'].mean():.1f} duplicated, {table['crashes'].mean():.1f} crashes, "
          f"{table['decided'].mean():.1f} slots decided")
    if failed.empty:
        print("no invariant violated")
        return 0
    print(f"{len(failed)} seed(s) violated an invariant:")
    for seed, row in failed.iterrows():
        # The whole message, never cut: its useful part (which nodes, which index) is often at the end.
        print(f"  seed {seed}: {row['violation']} after {_operations(row)}: {row['message']}")
    seed = failed.index[0]
    print(f"\nseed {seed}, {_operations(failed.loc[seed])}; replay it with Cluster.replay(trace) after pasting:\n")
    print(failed.loc[seed, "trace"].script())
    return 1


def add_mutants_command(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "mutants", help="run the fault campaign against each buggy variant and say which invariant catches it",
        description="For each mutant of omnilab.sim.mutants (the reference with one rule broken), run the default "
                    "fuzz campaign seed by seed until an invariant fails, shrink that schedule, and print a table: "
                    "mutant, the invariant expected to catch it, the one that did, seeds until caught, shrunk "
                    "length. Exits 1 if a mutant that a safety invariant should catch survives.")
    parser.add_argument("names", nargs="*", help="mutants to run (default: all)")
    parser.add_argument("--seeds", type=int, default=100, help="seeds to try per mutant (default 100, as fuzz)")
    parser.add_argument("--steps", type=int, default=100, help="random operations per seed (default 100, as fuzz)")
    parser.add_argument("--nodes", type=int, default=None,
                        help="nodes in configuration 1 (default 3, or 5 for the mutants that need more)")
    parser.add_argument("--no-shrink", action="store_true", help="do not shrink the failing schedules")
    parser.add_argument("--describe", action="store_true", help="print each mutant's description first")
    parser.set_defaults(handler=run_mutants)


def run_mutants(args: argparse.Namespace) -> int:
    from omnilab.sim import mutants

    unknown = [n for n in args.names if n not in mutants.ALL]
    if unknown:
        print(f"omnilab mutants: unknown mutant(s) {unknown}; the mutants are: {', '.join(mutants.ALL)}")
        return 2
    names = args.names or list(mutants.ALL)
    if args.describe:
        for name in names:
            print(f"{name}:\n  {mutants.ALL[name].description}\n")
    catches = mutants.table(names, args.seeds, args.steps, args.nodes, shrink=not args.no_shrink)
    print(mutants.format_table(catches))
    survivors = [c.mutant for c in catches if c.expected and not c.caught]
    return 1 if survivors else 0


def _operations(row) -> str:
    """"shrunk to 4 operations", or "60 operations (not shrunk)" under --no-shrink or when shrinking
    found nothing smaller that fails the same way."""
    shrunk = row["shrunk_ops"]
    if shrunk is None or shrunk != shrunk:  # None, or NaN once pandas has seen a None in the column
        return f"{int(row['ops'])} operations (not shrunk)"
    return f"shrunk to {int(shrunk)} operations"


def add_exercises_command(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "exercises", help="build the exercise notebooks from the solution sources",
        description="Exercise notebooks. `omnilab exercises build` regenerates solutions/NN-slug.ipynb and "
                    "exercises/NN-slug.ipynb from each solutions/NN-slug.py (jupytext percent format; the "
                    "### BEGIN SOLUTION / ### END SOLUTION regions become raise NotImplementedError), and "
                    "solutions/instructor-NAME.ipynb from each instructor notebook solutions/instructor-NAME.py.")
    actions = parser.add_subparsers(title="actions", dest="action", metavar="ACTION", required=True)
    build = actions.add_parser("build", help="regenerate the notebooks of every solution source")
    build.add_argument("--root", default=".", help="the checkout holding solutions/ and exercises/ (default: .)")
    build.add_argument("--check", action="store_true",
                       help="write nothing; exit 1 if a build would change a notebook")
    build.set_defaults(handler=run_exercises_build)


def run_exercises_build(args: argparse.Namespace) -> int:
    from pathlib import Path

    from omnilab.grading.build import BuildError, build, sources

    root = Path(args.root).resolve()
    if not sources(root):
        print(f"no solution sources in {root / 'solutions'} (expected files such as solutions/01-quorums.py)")
        return 2
    try:
        changed = build(root, check=args.check)
    except BuildError as err:
        print(f"exercises build: {err}")
        return 2
    names = ", ".join(str(p.relative_to(root)) for p in changed)
    if args.check:
        print(f"out of date: {names}; run omnilab exercises build" if changed else "every notebook is up to date")
        return 1 if changed else 0
    print(f"wrote {names}" if changed else "every notebook was up to date")
    return 0


def add_grade_command(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "grade", help="grade a class's exercise notebooks (CSV, Gradescope results.json, feedback)",
        description="Grade SUBMISSIONS (one folder or .zip per learner, named for the learner, holding that "
                    "learner's exercise notebooks) into DIR: results.csv (one row per check), grades.csv (one "
                    "row per learner), gradescope/LEARNER/results.json, feedback/LEARNER.md, and grades.sqlite, "
                    "which makes a re-run skip what is already graded. Each answer runs in a fresh subprocess "
                    "with a per-check timeout and memory and output caps; the verdicts are decided outside it.")
    parser.add_argument("submissions", metavar="SUBMISSIONS", help="folder of learner folders or zips")
    parser.add_argument("--out", metavar="DIR", required=True, help="where the grades and feedback go")
    parser.add_argument("--secret", default=None,
                        help="instructor's secret: adds the hidden checks, with seeds derived from it")
    parser.add_argument("--regrade", nargs="?", const="*", default=None, metavar="LEARNER",
                        help="grade again what is already graded: one learner, or everyone if no name is given")
    parser.add_argument("--jobs", type=int, default=None, help="answers graded at once (default: the cores)")
    parser.add_argument("--dask", metavar="ADDRESS", default=None,
                        help="run on a Dask cluster at this scheduler address (pip install 'omnilab[dask]')")
    parser.add_argument("--exercises", default=None, metavar="IDS",
                        help="comma-separated exercise ids to grade, e.g. ex01,ex02 (default: every exercise)")
    parser.add_argument("--bank", default="omnilab.grading.bank", metavar="MODULE",
                        help="the exercise bank module (default: the course's exercises)")
    parser.add_argument("--memory-mb", type=int, default=1024, help="memory cap per answer, MiB (default 1024)")
    parser.add_argument("--load-timeout", type=float, default=20.0,
                        help="seconds allowed for an answer's cells to run (default 20)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds allowed per check, for every check (default: each check's own)")
    parser.add_argument("--no-prefork", action="store_true",
                        help="start Python afresh for every answer instead of forking it from a process that "
                             "has the exercise bank imported (slower; the same grades)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run_grade)


def run_grade(args: argparse.Namespace) -> int:
    import os
    import sys

    from omnilab.grading import batch

    limits = batch.Limits(load_timeout=args.load_timeout, memory_mb=args.memory_mb, prefork=not args.no_prefork,
                          timeout=args.timeout)
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())  # a bank module of the instructor's own, beside the submissions
    try:
        run = batch.grade(args.submissions, args.out, secret=args.secret, regrade=args.regrade, jobs=args.jobs,
                          dask=args.dask, bank=args.bank, limits=limits, progress=not args.no_progress,
                          exercises=None if args.exercises is None else
                          [e.strip() for e in args.exercises.split(",") if e.strip()])
    except ValueError as error:
        print(f"omnilab grade: {error}", file=sys.stderr)
        return 2
    print(f"graded {run.graded} notebook(s), skipped {run.skipped} already graded"
          + (f" ({run.stale} by an older exercise bank: --regrade to refresh them)" if run.stale else ""))
    print(run.summary)
    print(f"\nwritten to {run.out}: results.csv, grades.csv, gradescope/, feedback/")
    return 0


# The subcommands, in the order ``--help`` lists them. Later issues append to this tuple.
def add_explore_command(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "explore", help="search every schedule within small bounds for the shortest one that breaks an invariant",
        description="Breadth-first over every choice (deliver, drop or duplicate a message, tick, crash/recover, a "
                    "client write, a reconfiguration, a leader change, each within its budget) from a named start "
                    "or scenario; each distinct state once. Prints the summary and the shortest counterexample as "
                    "Cluster calls. Exits 1 if an invariant is violated.")
    parser.add_argument("start", nargs="?", default="steady",
                        help="a named start of omnilab.sim.explore.STARTS (default 'steady') or a scenario name; "
                             "'list' lists them")
    parser.add_argument("--variant", default="reference",
                        help="'reference' (default), a mutant's name or an importable 'package.module:ATTRIBUTE'")
    parser.add_argument("--depth", type=int, default=None, help="choices after the start (default 14)")
    parser.add_argument("--states", type=int, default=None, help="distinct states at most (default 200000)")
    parser.add_argument("--seconds", type=float, default=None, help="wall-time bound (default 60)")
    for budget in ("appends", "crashes", "reconfigurations", "elections", "ticks", "drops", "duplicates"):
        parser.add_argument(f"--{budget}", type=int, default=None, help=f"budget of {budget} (default: the start's)")
    parser.add_argument("--reconfigure-to", action="append", default=None, metavar="NODES",
                        help="a node list to reconfigure to, e.g. 1,2,4 (repeatable)")
    parser.add_argument("--fifo", action="store_true",
                        help="reliable FIFO links: each link delivers its oldest message first "
                             "(no drops, no duplicates)")
    parser.add_argument("--at", default=None, metavar="NODES",
                        help="where writes, reconfigurations and leader changes are made: node ids, e.g. 1,3, or "
                             "'leader' (writes and reconfigurations only at a node that believes itself leader) or "
                             "'named' (only at the node of the latest leader change; needs --leaders)")
    parser.add_argument("--leaders", default=None, metavar="NODES",
                        help="the node of each leader change, in order, e.g. 2,3,1 (as the OmniPaxos TLA+ "
                             "model's election stub); --elections defaults to their number")
    parser.add_argument("--invariants", default=None, help="comma-separated invariant names to check (default all)")
    parser.add_argument("--no-reduction", action="store_true", help="turn the sleep-set reduction off")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes to search with (default 1); the same result on any number "
                             "(forked, level by level, without the sleep sets)")
    parser.set_defaults(handler=run_explore)


def _node_list(flag: str, text: str) -> list[int]:
    """``"2,3,1"`` -> ``[2, 3, 1]``; anything else is refused with what to write."""
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"{flag} takes node ids separated by commas, e.g. 2,3,1; not {text!r}") from None


def run_explore(args: argparse.Namespace) -> int:
    from omnilab.sim.errors import BadInput
    from omnilab.sim.explore import BUDGETS, STARTS, explore
    from omnilab.sim.scenarios import SCENARIOS

    if args.start == "list":
        for name, start in STARTS.items():
            print(f"{name}: {start.description}")
        print("scenarios: " + ", ".join(SCENARIOS))
        return 0
    budgets = {name: getattr(args, name) for name in BUDGETS if getattr(args, name) is not None}
    try:
        if args.reconfigure_to:
            budgets["reconfigure_to"] = [tuple(int(p) for p in nodes.split(",")) for nodes in args.reconfigure_to]
        if args.fifo:
            budgets["fifo"] = True
        if args.at is not None:
            at = args.at.strip()
            budgets["at"] = at if at in ("leader", "named") else _node_list("--at", args.at)
        if args.leaders is not None:
            budgets["leaders"] = _node_list("--leaders", args.leaders)
        result = explore(
            args.start, variant=args.variant, depth=args.depth, max_states=args.states, seconds=args.seconds,
            invariants=None if args.invariants is None else [n.strip() for n in args.invariants.split(",")
                                                             if n.strip()],
            reduction=not args.no_reduction, progress=not args.no_progress, workers=args.workers, **budgets)
    except (BadInput, ValueError) as err:
        print(f"omnilab explore: {err}")
        return 2
    print(result.summary(timing=True))
    if result.violation is None:
        return 0
    print("\nthe counterexample as Cluster calls (Cluster.replay(result.counterexample) or omnilab.lab(...) "
          "plays it):\n")
    print(result.script())
    return 1


# The subcommands, in the order ``--help`` lists them. Later issues append to this tuple.
COMMANDS: tuple[AddCommand, ...] = (add_fuzz_command, add_mutants_command, add_exercises_command,
                                     add_grade_command, add_explore_command)


def build_parser(commands: Sequence[AddCommand] = COMMANDS) -> argparse.ArgumentParser:
    """The top-level parser with every subcommand in ``commands`` registered."""
    parser = argparse.ArgumentParser(
        prog="omnilab",
        description=(
            "omnilab: learn the OmniPaxos replicated log in Jupyter. "
            "Run `make lab` in a checkout to open the course in JupyterLab."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    for add_command in commands:
        add_command(subparsers)
    return parser


def main(argv: Sequence[str] | None = None, commands: Sequence[AddCommand] = COMMANDS) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the chosen subcommand, return its exit code."""
    parser = build_parser(commands)
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        # No subcommand given: say what there is rather than fail.
        parser.print_help()
        return 0
    return int(handler(args) or 0)
