"""Tables of the cluster's state: lists of row dicts first, pandas DataFrames on top.

The ``*_rows`` functions are plain Python (no pandas) so the view layer (`omnilab.view`) can reuse
or restyle them; the ``*_frame`` functions import pandas lazily, keeping ``import omnilab.sim`` and
the simulator's hot path free of it.
"""

from __future__ import annotations

from typing import Any

from omnilab.replica.entries import LogEntry

from .describe import message_fields

#: Cell marks in `logs_frame`.
DECIDED_MARK, ACCEPTED_MARK = "✓", "…"


def pending_rows(cluster: Any) -> list[dict]:
    """One row per in-flight message, oldest first: id, from, to, config, type, the message's fields,
    and whether its link is currently cut (it will still arrive: it was sent before the cut)."""
    rows = []
    for env in cluster.network.in_flight.values():
        row = {"id": env.id, "from": env.sender, "to": env.receiver, "config": env.config_id}
        fields = message_fields(env.message)
        row["type"] = fields.pop("type")
        row["fields"] = ", ".join(f"{k}={v}" for k, v in fields.items())
        rows.append(row)
    return rows


def _entry_text(value: Any) -> str:
    return str(value) if type(value).__str__ is not object.__str__ else repr(value)


def log_rows(cluster: Any) -> list[dict]:
    """Long format: one row per (node, configuration, idx) slot of every running instance, with
    ``kind`` (entry / stopsign / snapshot / trimmed), ``entry`` and ``decided``."""
    rows = []
    for pid, config_id, omni in cluster.live_replicas():
        slots = omni.read_entries(0) or []
        idx = 0
        for slot in slots:
            kind = type(slot)
            if kind is LogEntry.Snapshotted or kind is LogEntry.Trimmed:
                upto = slot.trimmed_idx if kind is LogEntry.Trimmed else slot.snapshotted_entry.trimmed_idx
                label = "trimmed" if kind is LogEntry.Trimmed else "snapshot"
                for i in range(idx, upto):
                    rows.append({"pid": pid, "config_id": config_id, "idx": i, "kind": label, "entry": None,
                                 "decided": True})
                idx = upto
                continue
            if kind is LogEntry.StopSign:
                rows.append({"pid": pid, "config_id": config_id, "idx": idx, "kind": "stopsign",
                             "entry": slot.stopsign, "decided": slot.decided})
            else:
                rows.append({"pid": pid, "config_id": config_id, "idx": idx, "kind": "entry", "entry": slot.entry,
                             "decided": kind is LogEntry.Decided})
            idx += 1
    return rows


def log_cell(row: dict) -> str:
    """The text of one slot: ``a=1 ✓`` (decided), ``a=1 …`` (accepted only), ``StopSign→c2 ✓``,
    ``(snapshot)``."""
    kind = row["kind"]
    if kind in ("snapshot", "trimmed"):
        return f"({kind})"
    mark = DECIDED_MARK if row["decided"] else ACCEPTED_MARK
    if kind == "stopsign":
        ss = row["entry"]
        return f"StopSign→c{ss.next_config.configuration_id} {list(ss.next_config.nodes)} {mark}"
    return f"{_entry_text(row['entry'])} {mark}"


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


def pending_frame(cluster: Any):
    import pandas as pd

    columns = ["id", "from", "to", "config", "type", "fields"]
    return pd.DataFrame(pending_rows(cluster), columns=columns).set_index("id")


def logs_frame(cluster: Any):
    import pandas as pd

    rows = log_rows(cluster)
    table: dict = {(f"config {config_id}", f"node {pid}"): {} for pid, config_id, _ in cluster.live_replicas()}
    if not table:
        return pd.DataFrame(index=pd.Index([], name="idx"))
    for row in rows:
        table.setdefault((f"config {row['config_id']}", f"node {row['pid']}"), {})[row["idx"]] = log_cell(row)
    order = sorted(table, key=lambda c: (int(c[0].split()[1]), int(c[1].split()[1])))
    frame = pd.DataFrame({c: pd.Series(table[c], dtype=object) for c in order})
    frame.columns = pd.MultiIndex.from_tuples(order, names=["configuration", "node"])
    frame.index.name = "idx"
    return frame.sort_index().fillna("")


def history_frame(cluster: Any):
    import pandas as pd

    columns = ["op", "kind", "at", "key", "value", "invoked", "completed", "status", "config", "idx"]
    return pd.DataFrame(history_rows(cluster), columns=columns).set_index("op")
