"""The colours omnilab's tables and diagrams share, so a decided entry is the same green everywhere.

Chosen for contrast with dark text and for colour-blind readers: each status also has a marker
character, so colour is never the only cue (the cell text says it too).
"""

from __future__ import annotations

#: Log-slot statuses, in the order of the legend.
DECIDED, UNDECIDED, STOPSIGN, STOPSIGN_UNDECIDED, COMPACTED, MISSING = (
    "decided", "undecided", "stopsign", "stopsign-undecided", "compacted", "missing")
STATUSES = (DECIDED, UNDECIDED, STOPSIGN, STOPSIGN_UNDECIDED, COMPACTED, MISSING)

#: Cell background per status (light tints: dark text stays readable on all of them).
FILL = {
    DECIDED: "#b8e0c2",             # green
    UNDECIDED: "#ffd98a",           # amber
    STOPSIGN: "#cfbdf0",            # purple
    STOPSIGN_UNDECIDED: "#ece4fa",  # pale purple, with a dashed border
    COMPACTED: "#d4d4d4",           # grey
    MISSING: "#ffffff",             # blank
}
#: The stronger shade of the same hue: borders, arrows, diagram marks.
STROKE = {
    DECIDED: "#1a7f3c",
    UNDECIDED: "#b26b00",
    STOPSIGN: "#6a3fb5",
    STOPSIGN_UNDECIDED: "#6a3fb5",
    COMPACTED: "#6b6b6b",
    MISSING: "#bbbbbb",
}
#: How a status reads in a cell after the entry (so colour is not the only cue).
MARK = {DECIDED: "✓", UNDECIDED: "…", STOPSIGN: "✓", STOPSIGN_UNDECIDED: "…", COMPACTED: "", MISSING: ""}
LEGEND = {
    DECIDED: "decided ✓",
    UNDECIDED: "undecided …",
    STOPSIGN: "StopSign (decided)",
    STOPSIGN_UNDECIDED: "StopSign (undecided)",
    COMPACTED: "compacted",
    MISSING: "missing",
}

# Nodes in the cluster diagram.
LEADER_FILL = "#cfe3f7"     # light blue: the node that leads its configuration
FOLLOWER_FILL = "#ffffff"
CANDIDATE_FILL = "#fff1cc"  # a leader still in its Prepare phase
CRASHED_FILL = "#f3d0d0"    # light red, drawn dashed and greyed
CRASHED_STROKE = "#b22222"
IDLE_FILL = "#eeeeee"       # a server that runs no instance (waiting to join a configuration)
LINK = "#888888"
CUT_LINK = "#d62728"
MESSAGE = "#1f5fa8"         # in-flight message arrows
BLE_MESSAGE = "#737373"     # heartbeats: quieter, they are background traffic
FONT = "Helvetica"


def css() -> list[dict]:
    """`Styler.set_table_styles` rules: one class per status, ``td.<status>``."""
    rules = [{"selector": f"td.{status}", "props": [("background-color", FILL[status]), ("color", "#111111")]}
             for status in STATUSES]
    rules.append({"selector": f"td.{STOPSIGN_UNDECIDED}",
                  "props": [("border", f"1px dashed {STROKE[STOPSIGN_UNDECIDED]}")]})
    rules.append({"selector": f"td.{MISSING}", "props": [("background-color", "transparent")]})
    rules.append({"selector": "td", "props": [("font-family", "monospace"), ("white-space", "nowrap")]})
    # A crashed node's column is greyed, and italic so that the colour is not the only cue.
    rules.append({"selector": "td.crashed", "props": [("opacity", "0.6"), ("font-style", "italic")]})
    return rules
