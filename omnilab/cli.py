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

# The subcommands, in the order ``--help`` lists them. Later issues append to this tuple.
COMMANDS: tuple[AddCommand, ...] = ()


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
