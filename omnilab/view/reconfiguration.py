"""The reconfiguration strip: where each configuration change is in its lifecycle, at a glance.

In OmniPaxos a reconfiguration is a StopSign: the leader of configuration ``c`` proposes it, a
majority of ``c`` accepts it, it is decided (which *seals* configuration ``c``: nothing more is
decided in its log), the nodes that stay start their instance of ``c+1``, and every node new in
``c+1`` is told the configuration (``StartInstance``), receives the state decided before the
StopSign (``StateTransfer``) and only then starts running. `reconfiguration(cluster)` reads those
stages from the trace (``Proposed``, ``EntryDecided``, ``InstanceStarted``, ``StateInstalled`` events
and the delivered ``StartInstance`` messages) and from the replicas' storage (which nodes hold the
StopSign: "accepted by k of n"); `strip_html` draws them as a row of labelled steps.

Pure: it reads the cluster and changes nothing. Every stage says its state in text and a symbol
(``✓`` done, ``…`` the stage the change waits for, ``○`` not yet), never by colour alone.
"""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from omnilab.replica.entries import StopSign
from omnilab.sim.service import StartInstance

from . import palette as P

__all__ = ["reconfiguration", "strip_html", "DONE", "WAITING", "NOT_YET", "MARK"]

#: A stage's state (the ``state`` column), and the symbol shown beside it.
DONE, WAITING, NOT_YET = "done", "waiting", "not yet"
MARK = {DONE: "✓", WAITING: "…", NOT_YET: "○"}
COLUMNS = ["change", "stage", "state", "detail"]


def _nodes(pids) -> str:
    return ", ".join(map(str, sorted(pids))) or "none"


class _Change:
    """What the trace says about the StopSign of one configuration (``old``)."""

    def __init__(self, old: int) -> None:
        self.old = old
        self.proposed: list = []  # (pid, StopSign), in trace order
        self.decided: list = []  # pids that decided the StopSign, in trace order
        self.decided_ss = None


class _Scan:
    """What the trace says so far: the changes by old configuration id; ``started`` config id ->
    pids that started an instance of it (in order); ``told`` and ``installed`` as (pid, config id)
    pairs (``installed`` with the *old* configuration id). A trace only grows, so a scan is kept per
    trace and only its new items are read on the next call (the strip is redrawn after every click;
    reading the whole trace each time would cost more the longer the learner works)."""

    def __init__(self) -> None:
        self.pos = 0
        self.changes: dict[int, _Change] = {}
        self.started: dict[int, list] = {}
        self.told: set = set()
        self.installed: set = set()

    def advance(self, trace) -> None:
        from omnilab.sim import trace as T

        proposed, decided, instance, state, delivered = T.Proposed, T.EntryDecided, T.InstanceStarted, \
            T.StateInstalled, T.Delivered
        changes = self.changes
        for pos in range(self.pos, len(trace)):
            item = trace[pos]
            kind = type(item)
            if kind is proposed:
                if isinstance(item.proposal, StopSign):
                    changes.setdefault(item.config_id, _Change(item.config_id)).proposed.append(
                        (item.pid, item.proposal))
            elif kind is decided:
                if isinstance(item.entry, StopSign):
                    change = changes.setdefault(item.config_id, _Change(item.config_id))
                    change.decided.append(item.pid)
                    change.decided_ss = item.entry
            elif kind is instance:
                self.started.setdefault(item.config_id, []).append(item.pid)
            elif kind is state:
                self.installed.add((item.pid, item.from_config_id))
            elif kind is delivered:
                payload = item.envelope.payload
                if isinstance(payload, StartInstance):
                    self.told.add((item.envelope.receiver, payload.config.configuration_id))
        self.pos = len(trace)


def _scan(trace) -> tuple[dict, dict, set, set]:
    """`_Scan` of `trace` brought up to date: (changes, started, told, installed), copies the
    caller may change. The scan is kept in the trace's `derived` data (valid while the trace only
    grows, copied with a fork); a plain list is scanned from its start."""
    derived = trace.derived() if hasattr(trace, "derived") else {}
    scan = derived.get("reconfiguration")
    if scan is None or scan.pos > len(trace):
        scan = derived["reconfiguration"] = _Scan()
    scan.advance(trace)
    changes = {}
    for old, change in scan.changes.items():
        copy = _Change(old)
        copy.proposed, copy.decided, copy.decided_ss = list(change.proposed), list(change.decided), change.decided_ss
        changes[old] = copy
    return changes, {c: list(p) for c, p in scan.started.items()}, set(scan.told), set(scan.installed)


def config_members(cluster: Any, config_id: int) -> tuple:
    """The pids of configuration `config_id`, sorted, as any server that knows it recorded it
    (``()`` if none does)."""
    for pid in sorted(cluster.servers):
        config = cluster.servers[pid].durable.configs.get(config_id)
        if config is not None:
            return tuple(sorted(config.nodes))
    return ()


def _accepted_by(cluster: Any, config_id: int, members: tuple) -> list:
    """Members of `config_id` whose storage for it holds a StopSign: they accepted it (storage
    survives a crash, so a crashed node's acceptance still counts, as it does for the protocol)."""
    pids = []
    for pid in members:
        server = cluster.servers.get(pid)
        storage = server.durable.storages.get(config_id) if server is not None else None
        if storage is not None and storage.get_stopsign() is not None:
            pids.append(pid)
    return pids


def reconfiguration(cluster: Any) -> pd.DataFrame:
    """One row per stage of every configuration change the cluster has seen, oldest change first.

    Columns: ``change`` (``"c1 [1, 2, 3] → c2 [1, 2, 4]"``), ``stage`` (``"StopSign proposed"``,
    ``"accepted by 2 of 3"``, ``"decided: configuration 1 sealed"``, ``"instances of c2 started"``,
    then per new node ``"node 4 told"``, ``"node 4 state received"``, ``"node 4 running"``),
    ``state`` (`DONE`, `WAITING` for the first stage not done yet, `NOT_YET` after it) and
    ``detail`` (where it happened). With no StopSign proposed yet, one row says so.
    """
    changes, started, told, installed = _scan(cluster.trace)
    # A StopSign in some storage without a Proposed event in the trace (a trace that starts later):
    # still a change, read from the storage.
    for pid in sorted(cluster.servers):
        for config_id, storage in sorted(cluster.servers[pid].durable.storages.items()):
            ss = storage.get_stopsign()
            if ss is not None and config_id not in changes:
                changes[config_id] = _Change(config_id)
                changes[config_id].decided_ss = None
                changes[config_id].proposed.append((None, ss))
    rows: list = []
    if not changes:
        config_id = cluster.config_id
        rows.append([f"c{config_id} [{_nodes(config_members(cluster, config_id))}]", "no reconfiguration proposed",
                     NOT_YET, "cluster.reconfigure([...]) proposes a StopSign for the next configuration"])
        return pd.DataFrame(rows, columns=COLUMNS, dtype=object)
    for old in sorted(changes):
        change = changes[old]
        ss = change.decided_ss or change.proposed[-1][1]
        new_id, new_members = ss.next_config.configuration_id, tuple(sorted(ss.next_config.nodes))
        members = config_members(cluster, old)
        label = f"c{old} [{_nodes(members)}] → c{new_id} [{_nodes(new_members)}]"
        stages: list = []  # (stage, done, detail)
        proposers = [pid for pid, _ in change.proposed if pid is not None]
        stages.append(("StopSign proposed", bool(change.proposed),
                       f"at node {_nodes(set(proposers))}" if proposers else "found in storage"))
        accepted = _accepted_by(cluster, old, members)
        majority = len(members) // 2 + 1
        stages.append((f"accepted by {len(accepted)} of {len(members)}",
                       len(accepted) >= majority or bool(change.decided),
                       f"nodes {_nodes(accepted)} (a majority is {majority})" if accepted
                       else f"no node yet (a majority is {majority})"))
        sealed = bool(change.decided)
        stages.append((f"decided: configuration {old} sealed" if sealed else f"decided (seals configuration {old})",
                       sealed, f"at nodes {_nodes(dict.fromkeys(change.decided))}" if sealed else "not yet decided"))
        staying = [pid for pid in new_members if pid in members]
        have_started = set(started.get(new_id, ()))
        staying_started = [pid for pid in staying if pid in have_started]
        stages.append((f"instances of c{new_id} started", bool(staying) and len(staying_started) == len(staying),
                       (f"at nodes {_nodes(staying_started)} of {_nodes(staying)}" if staying_started
                        else f"waits at nodes {_nodes(staying)}") if staying else "no node stays"))
        for pid in new_members:
            if pid in members:
                continue
            stages.append((f"node {pid} told", (pid, new_id) in told, "StartInstance delivered"
                           if (pid, new_id) in told else "waits for StartInstance"))
            stages.append((f"node {pid} state received", (pid, old) in installed, "StateTransfer installed"
                           if (pid, old) in installed else "waits for StateTransfer"))
            stages.append((f"node {pid} running", pid in have_started, f"runs c{new_id}"
                           if pid in have_started else "no instance yet"))
        waiting_given = False
        for stage, done, detail in stages:
            if done:
                state = DONE
            elif not waiting_given:
                state, waiting_given = WAITING, True
            else:
                state = NOT_YET
            rows.append([label, stage, state, detail])
    return pd.DataFrame(rows, columns=COLUMNS, dtype=object)


_STYLE = {  # (border, border style) per state; the symbol and the word carry the meaning too
    DONE: (P.STROKE[P.DECIDED], "solid"),
    WAITING: (P.STROKE[P.UNDECIDED], "dashed"),
    NOT_YET: ("#9a9a9a", "dotted"),
}


def strip_html(frame: pd.DataFrame) -> str:
    """`reconfiguration`'s rows as one strip per change: ``label: ✓ stage → … stage → ○ stage``.
    Each step shows its symbol and stage name; its detail is the tooltip. Theme-aware (JupyterLab's
    CSS variables, with light fallbacks)."""
    parts = ["<div class=\"omnilab-reconfiguration\" style=\"font-size:12px;margin:2px 0 4px 0;"
             "color:var(--jp-ui-font-color1,#111)\">"]
    for change, group in frame.groupby("change", sort=False):
        steps = []
        for stage, state, detail in zip(group.stage, group.state, group.detail):
            colour, style = _STYLE[state]
            weight = "bold" if state == WAITING else "normal"
            steps.append(f"<span class=\"omnilab-stage {state.replace(' ', '-')}\" title=\"{escape(detail)}\" "
                         f"style=\"display:inline-block;white-space:nowrap;padding:0 6px;margin:1px 0;"
                         f"border:1px {style} {colour};border-radius:8px;font-weight:{weight}\">"
                         f"{MARK[state]} {escape(stage)}</span>")
        parts.append(f"<div><b>{escape(change)}</b>: {' → '.join(steps)}</div>")
    parts.append("</div>")
    return "".join(parts)
