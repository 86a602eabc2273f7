"""The client history as a table: one row per put, append or get, with its invocation and response.

`history_rows` is plain data (a list of row dicts); `history` is the pandas DataFrame on
top, indexed by ``op`` (what `Cluster.history()` returns). Columns: ``kind`` (put, append, get),
``at`` (the node it was sent to), ``key`` and ``value`` (for a get, the value read), ``invoked`` and
``completed`` (trace positions), ``status``, and ``config`` / ``idx``, the log slot the operation was
decided at (for a get, the configuration it read from).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["HISTORY_COLUMNS", "history_rows", "history"]

HISTORY_COLUMNS = ["op", "kind", "at", "key", "value", "invoked", "completed", "status", "config", "idx"]


def history_rows(cluster: Any) -> list[dict]:
    """One row per client operation of `cluster`'s history, oldest first."""
    rows = []
    for op in cluster.ledger.history:
        rows.append({"op": op.op_id, "kind": op.kind, "at": op.at, "key": op.key,
                     "value": op.result if op.kind == "get" else getattr(op.proposal, "value", op.proposal),
                     "invoked": op.invoked, "completed": op.completed, "status": op.status,
                     "config": op.position[0] if op.position else (op.observed[0] if op.observed else None),
                     "idx": op.position[1] if op.position else None})
    return rows


def history(cluster: Any):
    """`history_rows` as a pandas DataFrame indexed by ``op``."""
    return pd.DataFrame(history_rows(cluster), columns=HISTORY_COLUMNS).set_index("op")
