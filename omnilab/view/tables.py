"""The cluster as pandas tables: logs side by side, node states, messages in flight, the trace, what
survives a crash, and every node's key-value state.

Every function is pure: it reads a `Cluster` (servers, network, trace) and the replicas' read API
(``read_entries``, ``inspect``) and never changes them. A crashed server has no replica in memory,
so its columns are read from the storage it keeps (``server.durable``), which is exactly what would
survive; those columns are marked crashed. Rows and columns come in a stable order (log index, pid,
configuration id, trace position), and no cell holds an object address, so outputs are deterministic.

`nodes` is every server's state in one row (`ble` narrows it to the leader election).
`logs` returns a `LogTable`: a DataFrame whose ``status`` frame names each cell's class (decided,
undecided, stopsign, compacted, missing). ``table.style`` is a pandas `Styler` coloured with the
palette shared by the diagrams; a notebook shows the coloured table; `html_table` renders any of
these tables to HTML quickly (the widget uses it).
"""

from __future__ import annotations

from html import escape
from typing import Any, Iterable, Optional

import pandas as pd

from omnilab.replica.entries import LogEntry
from omnilab.replica.messages import BLE_MESSAGE_TYPES
from omnilab.replica.stored import stored_entries, stored_state

from . import palette as P
from .text import entry_text, envelope_text, kv_text, message_fields_text

__all__ = ["logs", "nodes", "ble", "messages", "events", "state_split", "kv", "LogTable", "html_table",
           "describe_item", "is_heartbeat"]

_DECIDED, _UNDECIDED, _STOPSIGN = LogEntry.Decided, LogEntry.Undecided, LogEntry.StopSign
_SNAPSHOTTED, _TRIMMED = LogEntry.Snapshotted, LogEntry.Trimmed
NONE = "—"


def config_label(config_id: int) -> str:
    return f"config {config_id}"


def node_label(pid: int) -> str:
    return f"node {pid}"


# --- entries and log slots --------------------------------------------------------------------------

def _read_slots(server: Any, config_id: int) -> list:
    """The slots of `server`'s log in configuration `config_id`, as `LogEntry` values.

    A running instance is read through its public API; a crashed server's log is read from the
    storage it keeps, as a replica rebuilt on it would read it (`omnilab.replica.stored`)."""
    omni = server.instances.get(config_id) if server.up else None
    if omni is not None:
        return omni.read_entries(0) or []
    storage = server.durable.storages.get(config_id)
    if storage is None:
        return []
    return stored_entries(storage)


def _slot_cells(slots: list) -> list[tuple[str, str]]:
    """(text, status) for each log index, expanding a compacted prefix into one cell per index."""
    cells: list[tuple[str, str]] = []
    for slot in slots:
        kind = type(slot)
        if kind is _DECIDED:
            cells.append((f"{entry_text(slot.entry)} {P.MARK[P.DECIDED]}", P.DECIDED))
        elif kind is _UNDECIDED:
            cells.append((f"{entry_text(slot.entry)} {P.MARK[P.UNDECIDED]}", P.UNDECIDED))
        elif kind is _STOPSIGN:
            status = P.STOPSIGN if slot.decided else P.STOPSIGN_UNDECIDED
            cells.append((f"{entry_text(slot.stopsign)} {P.MARK[status]}", status))
        elif kind is _SNAPSHOTTED or kind is _TRIMMED:
            upto = slot.trimmed_idx if kind is _TRIMMED else slot.snapshotted_entry.trimmed_idx
            label = "(trimmed)" if kind is _TRIMMED else "(snapshot)"
            cells.extend((label, P.COMPACTED) for _ in range(len(cells), upto))
    return cells


def _configurations(cluster: Any) -> dict[int, tuple]:
    """Every configuration any server knows: id -> member pids."""
    configs: dict[int, tuple] = {}
    for server in cluster.servers.values():
        for config_id, config in server.durable.configs.items():
            configs.setdefault(config_id, tuple(config.nodes))
    return dict(sorted(configs.items()))


class LogTable(pd.DataFrame):
    """`logs(cluster)`: a DataFrame of cell texts, plus ``status`` (a frame of the same shape naming
    each cell's class) and ``crashed`` (the columns read from a crashed server's storage).

    ``table.style`` is the coloured pandas `Styler`; in a notebook the table shows coloured, with a
    legend. Derived frames (slices, copies) are plain DataFrames.
    """

    _metadata = ["status", "crashed", "caption"]

    @property
    def _constructor(self):
        return pd.DataFrame

    @property
    def style(self):
        from pandas.io.formats.style import Styler

        styler = Styler(pd.DataFrame(self), uuid="omnilab_logs", cell_ids=False)
        styler.format(escape="html")  # cell texts are entries' reprs: shown as text, never as markup
        classes = self.status.copy()
        for column in self.crashed:
            classes[column] = classes[column] + " crashed"
        styler.set_td_classes(classes)
        styler.set_table_styles(P.css())
        styler.set_caption(self.caption)
        return styler

    def _repr_html_(self) -> str:
        return html_table(self, cell_classes=self.status, crashed_columns=self.crashed, caption=self.caption,
                          legend=True)


def logs(cluster: Any) -> LogTable:
    """Every node's log side by side: one row per log index, one column per (configuration, node).

    Each configuration is its own OmniPaxos instance with its own log from index 0, so its columns
    form a group. A cell is the entry and its status: ``a=1 ✓`` decided, ``a=1 …`` accepted but not
    (yet) known decided, ``StopSign→c2 [1, 2, 4] ✓`` the StopSign (its own colour), ``(snapshot)`` or
    ``(trimmed)`` compacted, and blank where that node's log ends (missing). A member of a
    configuration that has not started its instance yet has an empty column.
    """
    columns: list[tuple[str, str]] = []
    data: dict = {}
    status: dict = {}
    crashed: list = []
    for config_id, members in _configurations(cluster).items():
        for pid in sorted(set(members) & set(cluster.servers)):
            server = cluster.servers[pid]
            cells = _slot_cells(_read_slots(server, config_id))
            column = (config_label(config_id), node_label(pid))
            columns.append(column)
            data[column] = [text for text, _ in cells]
            status[column] = [state for _, state in cells]
            if not server.up:
                crashed.append(column)
    length = max((len(cells) for cells in data.values()), default=0)
    for column in columns:
        pad = length - len(data[column])
        data[column] = data[column] + [""] * pad
        status[column] = status[column] + [P.MISSING] * pad
    index = pd.RangeIndex(length, name="idx")
    names = ["configuration", "node"]
    header = pd.MultiIndex.from_tuples(columns, names=names) if columns else pd.MultiIndex.from_tuples([], names=names)
    table = LogTable({c: data[c] for c in columns}, index=index, columns=header, dtype=object)
    table.status = pd.DataFrame({c: status[c] for c in columns}, index=index, columns=header, dtype=object)
    table.crashed = crashed
    table.caption = _legend_caption(crashed)
    return table


def _legend_caption(crashed: list) -> str:
    if not crashed:
        return ""
    names = ", ".join(dict.fromkeys(node for _, node in crashed))
    return f"{names} crashed: greyed columns are what its storage kept"


# --- nodes ----------------------------------------------------------------------------------------

NODE_COLUMNS = ["configuration", "role", "phase", "ballot", "promise", "leader", "decided_idx", "accepted_idx",
                "compacted_idx", "status", "server", "ble_leader", "ble_happy"]
BLE_COLUMNS = ["ble_ballot", "ble_leader", "ble_happy", "role", "phase", "promise", "status"]


def _storage_indexes(server: Any, config_id: int) -> tuple:
    stored = stored_state(server.durable.storages[config_id])
    return stored.promise, stored.decided_idx, stored.accepted_idx, stored.compacted_idx


def nodes(cluster: Any) -> pd.DataFrame:
    """One row per server (index ``pid``): its newest configuration, Sequence Paxos role and phase,
    its own ballot (BLE), the ballot it promised, the leader it follows, its decided / accepted /
    compacted index, ``status`` up or crashed, ``server`` active, joining or retired; then what
    Ballot Leader Election thinks: ``ble_leader`` the ballot it follows and ``ble_happy`` whether
    it is happy with that leader (the election turns on these; `ble` shows them next to the role).

    A crashed server has no role, phase or ballots (they were in memory); its promise and indexes
    are read from its storage, which survived."""
    rows = []
    for pid in sorted(cluster.servers):
        server = cluster.servers[pid]
        omni = server.omnipaxos if server.up else None
        ble = [NONE, NONE]
        if omni is not None:
            state = omni.inspect()
            leader = omni.get_current_leader()
            rows.append([state.configuration_id, state.role.value, state.phase.value, state.ble_ballot.short(),
                         state.promise.short(), leader[0] if leader else NONE, state.decided_idx,
                         state.accepted_idx, state.compacted_idx])
            ble = [state.ble_leader.short(), state.ble_happy]
        elif server.durable.storages:
            config_id = max(server.durable.storages)
            promise, decided, accepted, compacted = _storage_indexes(server, config_id)
            rows.append([config_id, NONE, NONE, NONE, promise.short(), NONE, decided, accepted, compacted])
        else:
            rows.append([NONE] * 6 + [0, 0, 0])
        rows[-1] += ["up" if server.up else "crashed", server.status.value, *ble]
    frame = pd.DataFrame(rows, columns=NODE_COLUMNS, index=pd.Index(sorted(cluster.servers), name="pid"),
                         dtype=object)
    return frame


def ble(cluster: Any) -> pd.DataFrame:
    """Ballot Leader Election, one row per server (index ``pid``): ``ble_ballot`` the node's own
    ballot, ``ble_leader`` the ballot it follows, ``ble_happy`` whether it is happy (it heard from a
    quorum, and from the leader it follows), next to its Sequence Paxos ``role``, ``phase`` and
    ``promise``, and ``status`` up or crashed.

    BLE lives in memory only: a crashed server (or one still waiting for its state) shows "—"."""
    rows = []
    for pid in sorted(cluster.servers):
        server = cluster.servers[pid]
        omni = server.omnipaxos if server.up else None
        if omni is None:
            rows.append([NONE] * 6)
        else:
            state = omni.inspect()
            rows.append([state.ble_ballot.short(), state.ble_leader.short(), state.ble_happy, state.role.value,
                         state.phase.value, state.promise.short()])
        rows[-1].append("up" if server.up else "crashed")
    return pd.DataFrame(rows, columns=BLE_COLUMNS, index=pd.Index(sorted(cluster.servers), name="pid"),
                        dtype=object)


# --- messages in flight ---------------------------------------------------------------------------

MESSAGE_COLUMNS = ["from", "to", "config", "type", "fields"]


def messages(cluster: Any) -> pd.DataFrame:
    """The in-flight messages, oldest first, indexed by ``id`` (pass it to ``step(id)``, ``drop(id)``):
    ``from``, ``to``, ``config`` (the sender's configuration), ``type`` and the message's ``fields``."""
    rows, ids = [], []
    for env in cluster.network.in_flight.values():
        kind, fields = message_fields_text(env.message)
        rows.append([env.sender, env.receiver, env.config_id, kind, fields])
        ids.append(env.id)
    return pd.DataFrame(rows, columns=MESSAGE_COLUMNS, index=pd.Index(ids, name="id", dtype="int64"), dtype=object)


# --- the trace ------------------------------------------------------------------------------------

def describe_item(item: Any) -> tuple[str, Any, str]:
    """(what, node, text) for one trace item: an operation reads as the Python call, an event as a
    short sentence; ``node`` is the pid it happened at (or "" when it is not one node's)."""
    from omnilab.sim import trace as T

    kind = type(item).__name__
    if isinstance(item, T.Operation):
        node = getattr(item, "pid", None) or getattr(item, "at", None) or ""
        return kind, node, item.call()
    if isinstance(item, T.Sent):
        return kind, item.envelope.sender, envelope_text(item.envelope)
    if isinstance(item, T.Delivered):
        return kind, item.envelope.receiver, envelope_text(item.envelope)
    if isinstance(item, T.Dropped):
        return kind, item.envelope.receiver, f"{envelope_text(item.envelope)}: {item.reason}"
    if isinstance(item, T.Duplicated):
        return kind, item.envelope.sender, f"{envelope_text(item.envelope)} copied as #{item.copy_id}"
    if isinstance(item, T.Ticked):
        return kind, "", f"tick {item.clock}: nodes {', '.join(map(str, item.pids)) or 'none'} ticked"
    if isinstance(item, T.Crashed):
        return kind, item.pid, (f"node {item.pid} crashed: lost its instances "
                                f"{_configs(item.config_ids)}, its key-value state and "
                                f"{item.unsaved_proposals} unsaved proposal(s); its storage survives")
    if isinstance(item, T.Recovered):
        return kind, item.pid, f"node {item.pid} rebuilt {_configs(item.config_ids)} from storage"
    if isinstance(item, T.Proposed):
        return kind, item.pid, f"node {item.pid} proposed {entry_text(item.proposal)} in c{item.config_id}"
    if isinstance(item, T.Refused):
        return kind, item.pid, f"node {item.pid} refused {entry_text(item.proposal)}: {item.error}"
    if isinstance(item, T.CompactionRefused):
        return kind, item.pid, f"node {item.pid} refused {item.request} in c{item.config_id}: {item.error}"
    if isinstance(item, T.ProposalLost):
        return kind, item.pid, f"node {item.pid} discarded {entry_text(item.proposal)} (c{item.config_id})"
    if isinstance(item, T.EntryDecided):
        return kind, item.pid, f"node {item.pid} decided idx {item.idx} of c{item.config_id}: {entry_text(item.entry)}"
    if isinstance(item, T.SnapshotInstalled):
        how = "trimmed" if item.trimmed else "a snapshot"
        return kind, item.pid, f"node {item.pid} got c{item.config_id} [0, {item.upto_idx}) as {how}"
    if isinstance(item, T.Responded):
        return kind, "", f"client op {item.op_id} done: decided at idx {item.idx} of c{item.config_id}"
    if isinstance(item, T.ReadDone):
        return kind, item.pid, f"node {item.pid} read {item.key!r} = {item.value!r}"
    if isinstance(item, T.ServerCreated):
        return kind, item.pid, f"node {item.pid} created for c{item.config_id}; it waits for its state"
    if isinstance(item, T.InstanceStarted):
        return kind, item.pid, f"node {item.pid} started c{item.config_id} with nodes {list(item.nodes)}"
    if isinstance(item, T.StateInstalled):
        return kind, item.pid, (f"node {item.pid} took the state of c{item.from_config_id} from node "
                                f"{item.sender} ({item.keys} keys)")
    if isinstance(item, T.Retired):
        return kind, item.pid, f"node {item.pid} retired after the StopSign of c{item.config_id}"
    return kind, getattr(item, "pid", ""), repr(item)


def _configs(config_ids: Iterable[int]) -> str:
    ids = list(config_ids)
    return ", ".join(f"c{c}" for c in ids) if ids else "none"


def is_heartbeat(item: Any) -> bool:
    """Whether a trace item is a Ballot Leader Election heartbeat being sent, delivered, dropped or
    copied (most of the traffic; it hides the Sequence Paxos exchanges)."""
    env = getattr(item, "envelope", None)
    return env is not None and isinstance(env.payload, BLE_MESSAGE_TYPES)


def events(cluster: Any, last: Optional[int] = 20, heartbeats: bool = True) -> pd.DataFrame:
    """The last `last` items of the trace (all of them with ``last=None``), indexed by trace position:
    ``what`` (the operation or event class), ``node`` and ``text`` (the Python call of an operation,
    a sentence for an event). With ``heartbeats=False`` the heartbeats are left out (the last `last`
    of the other items are shown; their positions keep the gaps)."""
    trace = cluster.trace if hasattr(cluster, "trace") else cluster
    if heartbeats:
        start = 0 if last is None else max(0, len(trace) - last)
        positions = list(range(start, len(trace)))
    else:
        positions = []
        for pos in range(len(trace) - 1, -1, -1):  # from the end: a long trace costs only what is shown
            if last is not None and len(positions) >= last:
                break
            if not is_heartbeat(trace[pos]):
                positions.append(pos)
        positions.reverse()
    if heartbeats and last is None:
        rows = _event_rows(trace)
    else:
        rows = [describe_item(trace[pos]) for pos in positions]
    index = (pd.RangeIndex(positions[0] if positions else len(trace), len(trace), name="pos") if heartbeats
             else pd.Index(positions, name="pos", dtype="int64"))
    return pd.DataFrame(rows, columns=["what", "node", "text"], index=index, dtype=object)


class _EventRows:
    """`describe_item` of the first `pos` items of a trace, kept in the trace's derived data and
    extended as it grows, so that ``events(last=None)`` called again (every redraw of a full table)
    describes only the new items."""

    def __init__(self, rows: Optional[list] = None) -> None:
        self.rows: list = rows if rows is not None else []

    @property
    def pos(self) -> int:
        return len(self.rows)

    def truncated(self, upto: int) -> "_EventRows":
        """The rows of the first `upto` items (after an undo, the trace's first items are the same)."""
        return _EventRows(self.rows[:upto])


def _event_rows(trace: Any) -> list:
    derived = trace.derived() if hasattr(trace, "derived") else None
    if derived is None:
        return [describe_item(item) for item in trace]
    kept = derived.get("event-rows")
    if kept is None or kept.pos > len(trace):
        kept = derived["event-rows"] = _EventRows()
    rows = kept.rows
    rows.extend(describe_item(trace[pos]) for pos in range(len(rows), len(trace)))
    return list(rows)


# --- storage versus memory ------------------------------------------------------------------------

STORAGE, MEMORY = "storage (survives a crash)", "memory (lost in a crash)"
STORAGE_FIELDS = ["configurations", "promise", "accepted round", "decided_idx", "compacted_idx", "log entries",
                  "StopSign", "snapshot", "state handed over"]
MEMORY_FIELDS = ["instances", "role / phase", "leader", "BLE ballot", "BLE leader", "buffered proposals",
                 "batched entries", "applied", "key-value state"]




def _storage_column(server: Any) -> list:
    durable = server.durable
    if not durable.storages:
        return [NONE] * len(STORAGE_FIELDS)
    config_id = max(durable.storages)
    stored = stored_state(durable.storages[config_id])
    snapshot = stored.snapshot
    transferred = durable.transferred
    return [
        _configs(sorted(durable.storages)),
        f"{stored.promise.short()} (c{config_id})",
        stored.accepted_round.short(),
        stored.decided_idx,
        stored.compacted_idx,
        stored.log_len,
        entry_text(stored.stopsign) if stored.stopsign is not None else NONE,
        kv_text(getattr(snapshot, "snapshotted", None)) if snapshot is not None else NONE,
        (f"from c{transferred.from_config_id}: {kv_text(dict(transferred.state))}" if transferred else NONE),
    ]


def _memory_column(server: Any) -> list:
    if not server.up:
        return ["— (lost in the crash)"] + [NONE] * (len(MEMORY_FIELDS) - 1)
    omni = server.omnipaxos
    if omni is None:
        return ["none (waiting for its state)"] + [NONE] * (len(MEMORY_FIELDS) - 2) + [kv_text(server.kv)]
    state = omni.inspect()
    leader = omni.get_current_leader()
    return [
        _configs(sorted(server.instances)),
        f"{state.role.value} / {state.phase.value}",
        leader[0] if leader else NONE,
        state.ble_ballot.short(),
        state.ble_leader.short(),
        state.buffered_proposals + (state.buffered_stopsign is not None),
        state.batched,
        ", ".join(f"c{c}: {n}" for c, n in sorted(server.applied.items())),
        kv_text(server.kv),
    ]


def state_split(cluster: Any) -> pd.DataFrame:
    """What each node keeps in storage (it survives a crash) versus in memory (a crash loses it).

    Rows are grouped ``storage (survives a crash)`` / ``memory (lost in a crash)``; one column per
    node. Storage is the newest configuration's (the configurations row lists all of them)."""
    index = pd.MultiIndex.from_tuples([(STORAGE, f) for f in STORAGE_FIELDS] + [(MEMORY, f) for f in MEMORY_FIELDS],
                                      names=["kept in", "field"])
    data = {node_label(pid): _storage_column(cluster.servers[pid]) + _memory_column(cluster.servers[pid])
            for pid in sorted(cluster.servers)}
    return pd.DataFrame(data, index=index, dtype=object)


# --- key-value state ------------------------------------------------------------------------------

def _key_order(key: Any) -> tuple:
    return (type(key).__name__, str(key))


def kv(cluster: Any) -> pd.DataFrame:
    """Every node's key-value state: one row per key, one column per node; blank where a node does
    not hold the key (a crashed node lost its state until it recovers and re-applies its log)."""
    keys = sorted({k for s in cluster.servers.values() for k in s.kv}, key=_key_order)
    data = {}
    for pid in sorted(cluster.servers):
        state = cluster.servers[pid].kv
        data[node_label(pid)] = [state[k] if k in state else "" for k in keys]
    return pd.DataFrame(data, index=pd.Index(keys, name="key", dtype=object), columns=list(data), dtype=object)


# --- fast HTML --------------------------------------------------------------------------------------

def _header_rows(frame: pd.DataFrame, crashed_columns: Iterable = ()) -> str:
    crashed = set(crashed_columns)
    columns = frame.columns
    index_name = frame.index.name or ""
    if isinstance(columns, pd.MultiIndex):
        levels = columns.nlevels
        rows = []
        for level in range(levels):
            cells = [f"<th class=\"index_name\">{escape(str(columns.names[level] or ''))}</th>"]
            values = [c[level] for c in columns]
            k = 0
            while k < len(values):
                span = 1
                if level < levels - 1:
                    while k + span < len(values) and values[k + span] == values[k] and \
                            columns[k + span][:level] == columns[k][:level]:
                        span += 1
                cls = " crashed" if level == levels - 1 and columns[k] in crashed else ""
                attr = f" colspan=\"{span}\"" if span > 1 else ""
                cells.append(f"<th class=\"col_heading level{level}{cls}\"{attr}>{escape(str(values[k]))}</th>")
                k += span
            rows.append("<tr>" + "".join(cells) + "</tr>")
        if index_name:
            rows.append(f"<tr><th class=\"index_name\">{escape(str(index_name))}</th>"
                        + "<th></th>" * len(columns) + "</tr>")
        return "".join(rows)
    cells = "".join(f"<th class=\"col_heading{' crashed' if c in crashed else ''}\">{escape(str(c))}</th>"
                    for c in columns)
    return f"<tr><th class=\"index_name\">{escape(str(index_name))}</th>{cells}</tr>"


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return escape(str(value))


def html_table(frame: pd.DataFrame, cell_classes: Optional[pd.DataFrame] = None, crashed_columns: Iterable = (),
               caption: str = "", legend: bool = False, max_rows: Optional[int] = None,
               table_class: str = "omnilab-table") -> str:
    """`frame` as an HTML table, quickly: each ``<td>`` carries the class named in `cell_classes`
    (the palette's CSS colours it), crashed columns are greyed, and with `max_rows` only the last
    rows are shown (a note says how many are left out). Deterministic: no ids, no addresses."""
    crashed = list(crashed_columns)
    crashed_positions = {k for k, c in enumerate(frame.columns) if c in set(crashed)}
    values = frame.to_numpy(dtype=object)
    classes = cell_classes.to_numpy(dtype=object) if cell_classes is not None else None
    labels = list(frame.index)
    start = 0 if max_rows is None or len(labels) <= max_rows else len(labels) - max_rows
    body = []
    if start:
        body.append(f"<tr><td class=\"omitted\" colspan=\"{len(frame.columns) + 1}\">… {start} earlier rows "
                    f"(the table in Python has all {len(labels)})</td></tr>")
    for r in range(start, len(labels)):
        label = labels[r]
        label_text = " · ".join(map(str, label)) if isinstance(label, tuple) else str(label)
        tds = []
        for c, value in enumerate(values[r]):
            cls = classes[r][c] if classes is not None else ""
            if c in crashed_positions:
                cls = f"{cls} crashed".strip()
            tds.append(f"<td class=\"{cls}\">{_cell(value)}</td>" if cls else f"<td>{_cell(value)}</td>")
        body.append(f"<tr><th class=\"row_heading\">{escape(label_text)}</th>{''.join(tds)}</tr>")
    caption_html = f"<caption>{escape(caption)}</caption>" if caption else ""
    legend_html = _legend_html() if legend else ""
    return (f"<div class=\"{table_class}-wrap\" style=\"overflow-x:auto;max-width:100%\">"
            f"{_style_block()}{legend_html}<table class=\"{table_class}\">"
            f"{caption_html}<thead>{_header_rows(frame, crashed)}</thead><tbody>{''.join(body)}</tbody></table></div>")


def _legend_html() -> str:
    items = "".join(f"<span class=\"omnilab-swatch {status}\">{escape(P.LEGEND[status])}</span>"
                    for status in P.STATUSES if status != P.MISSING)
    return f"<div class=\"omnilab-legend\">{items}</div>"


def _style_block() -> str:
    rules = []
    for status in P.STATUSES:
        rules.append(f".omnilab-table td.{status}, .omnilab-swatch.{status} "
                     f"{{background-color:{P.FILL[status]};color:#111;}}")
    rules.append(f".omnilab-table td.{P.STOPSIGN_UNDECIDED}, .omnilab-swatch.{P.STOPSIGN_UNDECIDED} "
                 f"{{border:1px dashed {P.STROKE[P.STOPSIGN_UNDECIDED]};}}")
    rules.append(f".omnilab-table td.{P.MISSING} {{background-color:transparent;}}")
    rules.append(".omnilab-table td.crashed {opacity:0.6;font-style:italic;}")
    rules.append(f".omnilab-table th.crashed {{color:{P.CRASHED_STROKE};text-decoration:line-through dashed;}}")
    rules.append(".omnilab-table {border-collapse:collapse;font-size:12px;}")
    rules.append(".omnilab-table td, .omnilab-table th {padding:2px 8px;border:1px solid #e2e2e2;"
                 "font-family:monospace;white-space:nowrap;text-align:left;}")
    rules.append(".omnilab-table caption {caption-side:bottom;font-size:11px;color:#555;text-align:left;}")
    rules.append(".omnilab-table td.omitted {color:#777;font-style:italic;}")
    rules.append(".omnilab-legend {margin:2px 0 4px 0;font-size:11px;}")
    rules.append(".omnilab-swatch {display:inline-block;padding:1px 6px;margin-right:4px;border-radius:3px;}")
    return "<style>" + "".join(rules) + "</style>"
