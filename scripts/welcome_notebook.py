"""Write notebooks/00-welcome.ipynb from the cells below.

    python scripts/welcome_notebook.py          # (re)write the notebook
    python scripts/welcome_notebook.py --check  # exit 1 if the stored notebook differs

The notebook is stored the way every omnilab notebook is: no outputs and ``execution_count: null``,
except cells marked ``# NBVAL_CHECK_OUTPUT``, which carry the output nbval compares with a fresh
run (and an execution count, without which nbval would not compare them).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

PATH = Path(__file__).resolve().parent.parent / "notebooks" / "00-welcome.ipynb"

CHECK_OUTPUT = "# NBVAL_CHECK_OUTPUT"

# (cell id, kind, source, expected stdout of a NBVAL_CHECK_OUTPUT cell)
CELLS: list[tuple[str, str, str, str | None]] = [
    ("welcome", "markdown", """\
# Welcome to omnilab

omnilab is a laboratory for **OmniPaxos**, a protocol that keeps one log replicated across a group
of servers, so that every server decides the same entries in the same order even when some of them
crash or the network between them fails. In these notebooks you run a small cluster of OmniPaxos
servers inside Python: you deliver, drop and duplicate their messages one by one, crash and recover
servers, cut links, and change the set of servers while the log keeps growing. Every server's log is
a table you can read, and every step can be replayed exactly: the simulated world has no wall clock
and no randomness except a seeded generator.""", None),
    ("outline", "markdown", """\
## How the course is organised

Each notebook is one topic, numbered in the order to read them, and runs top to bottom:

| # | Topic |
|---|---|
| 00 | Welcome: what omnilab is, and a check that your set-up works (this notebook) |
| 01 | [The lab](01-the-lab.ipynb): a cluster you can step, break and reconfigure; every view and every control |
| 02 | [Messages in flight](02-messages-in-flight.ipynb): stepping, dropping, duplicating and reordering messages; cuts, partitions, the trace and replay |
| 03 | [Ballot Leader Election](03-ballot-leader-election.ipynb): ballots, heartbeats, quorum-connectivity, and the partial-connectivity scenarios |
| 04 | [Sequence Paxos](04-sequence-paxos.ipynb): Prepare and Promise, then AcceptDecide, Accepted and Decide, message by message |
| 05 | [Failures](05-failures.ipynb): crashes, recovery from storage, partitions and losing a quorum |
| 06 | [Reconfiguration](06-reconfiguration.ipynb): proposing a StopSign and starting the next configuration |
| 07 | [Log compaction](07-compaction.ipynb): trimming the log and taking snapshots |
| 08 | [Checking safety](08-checking-safety.ipynb): invariants, random fault campaigns, and a broken replica caught |

Graded **exercises** are planned: in each you will write one small function inside an otherwise
complete system, and a check in the notebook will tell you which scenario it got wrong.""", None),
    ("setup-md", "markdown", """\
## Check your set-up

Run each cell in order (Shift+Enter). The first one imports what the course uses.""", None),
    ("imports", "code", """\
import graphviz
import ipywidgets as widgets
import pandas as pd

import omnilab

print("omnilab", omnilab.__version__, "with pandas", pd.__version__)""", None),
    ("diagram-md", "markdown", """\
Diagrams are drawn by Graphviz's `dot` program. Here are three servers, each linked to the others,
the way the first notebooks start. If this cell fails, `dot` is missing: `make lab` tells you how to
install it.""", None),
    ("diagram", "code", """\
servers = graphviz.Graph("servers", graph_attr={"rankdir": "LR"}, node_attr={"shape": "circle"})
for a, b in [(1, 2), (2, 3), (1, 3)]:
    servers.edge(str(a), str(b))
servers""", None),
    ("diagram-check", "code", f"""\
{CHECK_OUTPUT}
svg = servers.pipe(format="svg", encoding="utf-8")
print("dot drew", svg.count('class="node"'), "servers and", svg.count('class="edge"'), "links")""",
     "dot drew 3 servers and 3 links\n"),
    ("clock-md", "markdown", """\
## A first control: the logical clock

OmniPaxos servers have no clock on the wall. Time advances in **ticks**: each tick, a server counts
down its timeouts (when did I last hear from the leader?). In omnilab the simulator hands out the
ticks, so a run is the same every time.

Press **Tick** below: the label shows the logical time going up by one per press.""", None),
    ("clock", "code", """\
class LogicalClock:
    \"\"\"Time as a count of ticks: the only time a server knows.\"\"\"

    def __init__(self):
        self.now = 0

    def tick(self):
        self.now += 1


clock = LogicalClock()
time_label = widgets.Label(value=f"logical time: {clock.now}")
tick_button = widgets.Button(description="Tick", tooltip="advance the logical clock by one tick")


def on_tick(button):
    clock.tick()
    time_label.value = f"logical time: {clock.now}"


tick_button.on_click(on_tick)
widgets.HBox([tick_button, time_label])""", None),
    ("clock-python-md", "markdown", """\
Every control in omnilab has a plain Python call that does the same thing. Pressing **Tick** calls
`on_tick`; `tick_button.click()` presses it from code. The cell below ticks twice, once each way,
and the label above follows.""", None),
    ("clock-python", "code", f"""\
{CHECK_OUTPUT}
tick_button.click()   # exactly what a press of the button does
on_tick(tick_button)  # the same, calling the handler directly
print(clock.now, "|", time_label.value)""", "2 | logical time: 2\n"),
    ("next", "markdown", """\
Your set-up works: Python, pandas, Graphviz and live widgets. Press **Tick** a few more times and
watch the label; the buttons of the omnilab lab widget work the same way, each one a method call on
the cluster you are studying.

Next: [01 · The lab](01-the-lab.ipynb), a cluster of OmniPaxos servers and every way to look at it.""", None),
]


def build() -> nbformat.NotebookNode:
    cells = []
    code_cells_seen = 0
    for cell_id, kind, source, expected in CELLS:
        if kind == "markdown":
            cells.append(new_markdown_cell(source, id=cell_id))
            continue
        code_cells_seen += 1
        cell = new_code_cell(source, id=cell_id)
        if source.startswith(CHECK_OUTPUT):
            assert expected is not None, f"{cell_id}: a checked cell needs its expected output"
            cell.execution_count = code_cells_seen
            cell.outputs = [new_output("stream", name="stdout", text=expected)]
        cells.append(cell)
    notebook = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    )
    nbformat.validate(notebook)
    return notebook


def render() -> str:
    return nbformat.writes(build()) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the stored notebook differs")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        stored = PATH.read_text(encoding="utf-8") if PATH.exists() else ""
        if stored != text:
            print(f"{PATH} is out of date: run python scripts/welcome_notebook.py", file=sys.stderr)
            return 1
        return 0
    PATH.write_text(text, encoding="utf-8")
    print(f"wrote {PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
