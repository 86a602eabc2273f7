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

def add_fuzz_command(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "fuzz", help="run a seeded random fault campaign against the simulated cluster",
        description="Run random schedules (reorder, drop, duplicate, crash/recover, cuts, partitions, appends, "
                    "one reconfiguration) with every invariant checked after every operation, then heal and "
                    "check for progress. Exits 1 if any seed violates an invariant.")
    parser.add_argument("--seeds", type=int, default=100, help="number of seeds, 0..N-1 (default 100)")
    parser.add_argument("--first-seed", type=int, default=0, help="start the seeds here (default 0)")
    parser.add_argument("--steps", type=int, default=100, help="random operations per seed (default 100)")
    parser.add_argument("--nodes", type=int, default=3, help="nodes in configuration 1 (default 3)")
    parser.add_argument("--faults", default=None,
                        help="comma-separated subset of: reorder,drop,duplicate,crash,cut,partition,append,reconfigure")
    parser.add_argument("--no-shrink", action="store_true", help="report failing seeds without shrinking them")
    parser.add_argument("--variant", default="reference",
                        help="the variant to run: 'reference' (default), a mutant's name (omnilab mutants lists "
                             "them) or an importable 'package.module:ATTRIBUTE'")
    parser.set_defaults(handler=run_fuzz)


def run_fuzz(args: argparse.Namespace) -> int:
    from omnilab.sim import campaigns
    from omnilab.sim.variant import BadInput, resolve

    faults = campaigns.FAULTS if args.faults is None else tuple(f.strip() for f in args.faults.split(",") if f.strip())
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    try:
        variant = resolve(args.variant)
    except BadInput as err:
        print(f"omnilab fuzz: {err}")
        return 2
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
    print(failed[["violation", "shrunk_ops", "message"]].to_string(max_colwidth=120))
    seed = failed.index[0]
    print(f"\nseed {seed}, shrunk to {failed.loc[seed, 'shrunk_ops']} operations; replay it with "
          f"Cluster.replay(trace) after pasting:\n")
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
    parser.add_argument("--nodes", type=int, default=3, help="nodes in configuration 1 (default 3)")
    parser.add_argument("--no-shrink", action="store_true", help="do not shrink the failing schedules")
    parser.add_argument("--describe", action="store_true", help="print each mutant's description first")
    parser.set_defaults(handler=run_mutants)


def run_mutants(args: argparse.Namespace) -> int:
    from omnilab.sim import mutants

    unknown = [n for n in args.names if n not in mutants.MUTANTS]
    if unknown:
        print(f"omnilab mutants: unknown mutant(s) {unknown}; the mutants are: {', '.join(mutants.MUTANTS)}")
        return 2
    names = args.names or list(mutants.MUTANTS)
    if args.describe:
        for name in names:
            print(f"{name}:\n  {mutants.MUTANTS[name].description}\n")
    catches = mutants.table(names, args.seeds, args.steps, args.nodes, shrink=not args.no_shrink)
    print(mutants.format_table(catches))
    survivors = [c.mutant for c in catches if c.expected and not c.caught]
    return 1 if survivors else 0


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
    parser.add_argument("--invariants", default=None, help="comma-separated invariant names to check (default all)")
    parser.add_argument("--no-reduction", action="store_true", help="turn the sleep-set reduction off")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run_explore)


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
        result = explore(
            args.start, variant=args.variant, depth=args.depth, max_states=args.states, seconds=args.seconds,
            invariants=None if args.invariants is None else [n.strip() for n in args.invariants.split(",")
                                                             if n.strip()],
            reduction=not args.no_reduction, progress=not args.no_progress, **budgets)
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
COMMANDS: tuple[AddCommand, ...] = (add_fuzz_command, add_mutants_command, add_explore_command)


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
