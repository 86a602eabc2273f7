"""The client history as a table: a list of row dicts first, a pandas DataFrame on top.

`history_rows` is plain Python (no pandas); `history_frame` imports pandas lazily, keeping
``import omnilab.sim`` and the simulator's hot path free of it. The other tables (logs, messages in
flight, node states) are drawn by `omnilab.view.tables`.
"""

from __future__ import annotations

from typing import Any


def history_rows(cluster: Any) -> list[dict]:
    """One row per client operation of the history."""
    rows = []
    for op in cluster.ledger.history:
        rows.append({"op": op.op_id, "kind": op.kind, "at": op.at, "key": op.key,
                     "value": op.result if op.kind == "get" else getattr(op.proposal, "value", op.proposal),
                     "invoked": op.invoked, "completed": op.completed, "status": op.status,
                     "config": op.position[0] if op.position else (op.observed[0] if op.observed else None),
                     "idx": op.position[1] if op.position else None})
    return rows


def history_frame(cluster: Any):
    import pandas as pd

    columns = ["op", "kind", "at", "key", "value", "invoked", "completed", "status", "config", "idx"]
    return pd.DataFrame(history_rows(cluster), columns=columns).set_index("op")
