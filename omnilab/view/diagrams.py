"""Graphviz pictures of the cluster, its message history and the replica's state machine.

Every function here is pure: it reads a cluster (or a trace, or the replica's own transition table)
and returns a `graphviz.Digraph` that a notebook displays as SVG. Nothing is drawn by hand that the
code already knows: `role_phase_diagram` comes from ``TRANSITIONS``; node colours, edges and marks
come from the cluster's state and trace. Output is deterministic (stable ordering, no object ids), so
the same cluster always gives the same DOT source, and `svg(diagram)` caches renders by that source.
"""

from __future__ import annotations

import math
import textwrap
from functools import lru_cache
from html import escape

import graphviz

from omnilab.replica.entries import StopSign
from omnilab.replica.messages import BLE_MESSAGE_TYPES
from omnilab.replica.sequence_paxos.transitions import ALL_STATES, INITIAL_STATES, TRANSITIONS
from omnilab.replica.state import Phase, Role
from omnilab.sim.service import SERVICE_MESSAGE_TYPES

from . import palette as P
from .text import entry_text

__all__ = ["cluster_diagram", "spacetime", "role_phase_diagram", "svg"]


@lru_cache(maxsize=256)
def _render_svg(source: str, engine: str) -> str:
    return graphviz.Source(source, engine=engine).pipe(format="svg", encoding="utf-8", quiet=True)


def svg(diagram: graphviz.Digraph | graphviz.Graph) -> str:
    """The diagram as SVG text; renders are cached by DOT source, so an unchanged picture is free."""
    return _render_svg(diagram.source, diagram.engine)


# --- the replica's role/phase state machine ------------------------------------------------------

def _state_id(state) -> str:
    role, phase = state
    return f"{role.name}_{phase.name}"


def _wrap(text: str, width: int = 26) -> str:
    return "<BR/>".join(escape(line) for line in textwrap.wrap(text, width))


def role_phase_diagram() -> graphviz.Digraph:
    """Sequence Paxos' (role, phase) state machine, drawn from the replica's own table.

    One box per state of ``ALL_STATES``, grouped by role; one arrow per `Transition` source, labelled
    with its trigger and the handler that makes it. A transition possible from every state starts at
    an "any state" box instead of six arrows; ``INITIAL_STATES`` enter from small start points.
    """
    dot = graphviz.Digraph("role_phase", graph_attr={
        "rankdir": "LR", "fontname": P.FONT, "nodesep": "0.35", "ranksep": "0.9", "newrank": "true", "size": "9.5,7",
        "label": "Sequence Paxos: role and phase of a replica", "labelloc": "t", "fontsize": "16",
    }, node_attr={"fontname": P.FONT, "fontsize": "12", "shape": "box", "style": "rounded,filled"},
        edge_attr={"fontname": P.FONT, "fontsize": "10", "color": "#555555"})
    for role in Role:
        with dot.subgraph(name=f"cluster_{role.name}") as group:
            group.attr(label=role.value, style="rounded,dashed", color="#999999", fontsize="14")
            fill = P.LEADER_FILL if role is Role.LEADER else P.FOLLOWER_FILL
            for state in ALL_STATES:
                if state[0] is role:
                    group.node(_state_id(state), f"{role.value}\n{state[1].value}", fillcolor=fill,
                               penwidth="2.5" if role is Role.LEADER else "1")

    for name, state in INITIAL_STATES.items():
        start = "start_" + name.replace(" ", "_")
        dot.node(start, "", shape="point", width="0.15", fillcolor="#333333")
        dot.edge(start, _state_id(state), label=f"<<I>{_wrap(name, 20)}</I>>")

    everything = set(ALL_STATES)
    any_state_used = False
    for transition in TRANSITIONS:
        label = (f"<{_wrap(transition.trigger)}<BR/>"
                 f"<FONT FACE=\"Courier\" POINT-SIZE=\"9\">{escape(transition.handler)}</FONT>>")
        if set(transition.sources) == everything:
            any_state_used = True
            dot.edge("any_state", _state_id(transition.target), label=label, style="bold")
        else:
            # One arrow per source; the trigger is written once, the others name only the handler.
            short = f"<<FONT FACE=\"Courier\" POINT-SIZE=\"9\">{escape(transition.handler)}</FONT>>"
            for k, source in enumerate(transition.sources):
                dot.edge(_state_id(source), _state_id(transition.target), label=label if k == 0 else short)
    if any_state_used:
        dot.node("any_state", "any state", shape="box", style="dashed,rounded", color="#777777")
    return dot


# --- the cluster as a picture ----------------------------------------------------------------------

def _fmt(x: float) -> str:
    return f"{x:.3f}".rstrip("0").rstrip(".")


def _ring(pids: list, cx: float, cy: float) -> dict:
    """Positions (inches) of `pids` on a circle around (cx, cy), the first at the top, clockwise."""
    n = len(pids)
    if n == 1:
        return {pids[0]: (cx, cy)}
    radius = max(2.3, 2.1 / math.sin(math.pi / n))
    return {pid: (cx + radius * math.sin(2 * math.pi * k / n), cy + radius * math.cos(2 * math.pi * k / n))
            for k, pid in enumerate(pids)}


_JOINER_GAP_X, _JOINER_GAP_Y, _JOINERS_PER_COLUMN = 2.85, 1.35, 4
_FRAME_X, _FRAME_Y = 1.35, 0.85  # inches from a node's centre to the picture's fixed frame


def _positions(cluster) -> dict:
    """Where each server sits (inches), the same for as long as the cluster lives.

    The nodes the cluster was created with sit on a ring (the first at the top, clockwise); a
    server created later (node 4, joining configuration 2) takes the next free place in a column to
    the right of the ring, in the order servers were created. So nobody moves when a node appears
    or a configuration ends: a learner's eye stays on node 1 wherever it was. Servers are kept in
    creation order (``cluster.servers`` is a dict filled as they are created; a replay fills it the
    same way), so this reads no history."""
    order = list(cluster.servers)
    first = getattr(cluster.trace[0], "nodes", None) if len(cluster.trace) else None
    initial = [pid for pid in (first or order) if pid in cluster.servers] or order
    later = [pid for pid in order if pid not in initial]
    ring = _ring(sorted(initial), 0.0, 0.0)
    pos = dict(ring)
    if later:
        right, top = max(x for x, _ in ring.values()), max(y for _, y in ring.values())
        for k, pid in enumerate(later):
            column, row = divmod(k, _JOINERS_PER_COLUMN)
            pos[pid] = (right + _JOINER_GAP_X * (column + 1), top - _JOINER_GAP_Y * row)
    return pos


def _node_label(pid: int, server, leader: bool, note: str = "") -> str:
    lines = [f"<B>node {pid}</B>" + (" ★" if leader else "")]
    if not server.up:
        lines.append("✗ crashed")
        if server.durable.storages:
            lines.append(f"storage: c{max(server.durable.storages)}")
    elif server.omnipaxos is None:
        lines.append(server.status.value)
        lines.append("waits for its state")
    else:
        state = server.omnipaxos.inspect()
        lines.append(f"{state.role.value} · {state.phase.value}")
        lines.append(f"c{state.configuration_id} · promise {state.promise.short()}")
        lines.append(f"decided {state.decided_idx} · accepted {state.accepted_idx}")
        if server.retired:
            lines.append("retired")
    if note:
        lines.append(f"<I>{escape(note)}</I>")
    return "<" + "<BR/>".join(lines) + ">"


def _node_style(server, leader: bool) -> dict:
    if not server.up:
        return {"fillcolor": P.CRASHED_FILL, "color": P.CRASHED_STROKE, "style": "rounded,dashed,filled",
                "fontcolor": "#555555", "penwidth": "2"}
    omni = server.omnipaxos
    if omni is None or server.retired:
        return {"fillcolor": P.IDLE_FILL, "color": "#888888", "style": "rounded,dotted,filled", "penwidth": "1.5"}
    state = omni.inspect()
    if state.role is Role.LEADER:
        fill = P.LEADER_FILL if state.phase is Phase.ACCEPT else P.CANDIDATE_FILL
    else:
        fill = P.FOLLOWER_FILL
    return {"fillcolor": fill, "color": "#1b1b1b", "style": "rounded,filled", "penwidth": "3.5" if leader else "1.2"}


def _message_colour(env) -> str:
    """Heartbeats in the election's colour, the reconfiguration service's messages in the StopSign's."""
    if isinstance(env.payload, BLE_MESSAGE_TYPES):
        return P.BLE_MESSAGE
    if isinstance(env.payload, SERVICE_MESSAGE_TYPES):
        return P.STROKE[P.STOPSIGN]
    return P.MESSAGE


def cluster_diagram(cluster, max_messages_per_link: int = 4) -> graphviz.Digraph:
    """The cluster now: one node per server, links between them, and the messages in flight.

    Fill says the role (blue: leader in Accept, amber: a leader still preparing, white: follower,
    grey dotted: joining or retired); the cluster's leader has a bold outline and a star; a crashed
    server is red and dashed. A cut link is a red dashed line with ✂ (an arrow when cut one way).
    Messages in flight travel on a labelled arrow per direction (``#12 Prepare``), oldest first.
    Nodes keep their places for as long as the cluster lives (`_positions`): the first nodes on a
    ring, a node created later (node 4 joining) to its right. Once there is more than one
    configuration, the picture's heading names each one's nodes, and a node outside the current
    one says so. Every node, link and message card has a tooltip (an SVG ``<title>``) saying in
    words what it shows, and so does the picture as a whole.
    """
    servers = cluster.servers
    leader = cluster.leader()
    configs = _configurations(cluster)
    current = max(configs) if configs else cluster.config_id
    summary = _summary(cluster, leader)
    graph_attr = {"splines": "line", "outputorder": "edgesfirst", "fontname": P.FONT, "pad": "0.2",
                  "bgcolor": "white", "size": "9.5,8", "tooltip": summary}
    if len(configs) > 1:
        # Which nodes are in which configuration, in words (the nodes stay where they were, so
        # configurations are not boxes around them): oldest first, the current one last.
        lines = [f"configuration {c}: nodes {', '.join(map(str, members))}"
                 + (" (current)" if c == current else " (sealed)")
                 for c, members in sorted(configs.items())]
        # At the bottom: a heading on top would push the nodes down the moment it appears.
        graph_attr.update(label="\\l".join(lines) + "\\l", labelloc="b", labeljust="l", fontsize="12")
    # The graph's name is the SVG's <title>: the picture in words, for a screen reader.
    dot = graphviz.Digraph(summary, engine="neato", graph_attr=graph_attr,
        node_attr={"fontname": P.FONT, "fontsize": "11", "shape": "box", "fixedsize": "shape", "width": "2.15",
                   "height": "0.95"},
        edge_attr={"fontname": P.FONT, "fontsize": "9"})
    pos = _positions(cluster)
    # Two invisible corners a margin beyond the nodes fix the picture's frame, so message cards
    # coming and going near the edge do not shift the nodes on the page.
    xs, ys = [x for x, _ in pos.values()], [y for _, y in pos.values()]
    for name, (cx, cy) in (("frame_nw", (min(xs) - _FRAME_X, max(ys) + _FRAME_Y)),
                           ("frame_se", (max(xs) + _FRAME_X, min(ys) - _FRAME_Y))):
        dot.node(name, "", shape="point", style="invis", width="0.01", height="0.01", fixedsize="true",
                 pos=f"{_fmt(cx)},{_fmt(cy)}!")

    outside = [] if len(configs) < 2 else [p for p in servers if p not in configs.get(current, ())]
    for pid in sorted(servers):
        server = servers[pid]
        px, py = pos[pid]
        note = f"not in configuration {current}" if pid in outside else ""
        dot.node(str(pid), _node_label(pid, server, pid == leader, note), pos=f"{_fmt(px)},{_fmt(py)}!",
                 tooltip=_node_tooltip(pid, server, pid == leader, note), **_node_style(server, pid == leader),
                 **({"height": "1.2"} if note else {}))

    cut = cluster.network.cut_links
    pids = sorted(servers)
    for i, a in enumerate(pids):
        for b in pids[i + 1:]:
            ab, ba = (a, b) in cut, (b, a) in cut
            if ab and ba:
                dot.edge(str(a), str(b), dir="none", style="dashed", color=P.CUT_LINK, penwidth="1.6",
                         label="✂", fontcolor=P.CUT_LINK, fontsize="14",
                         tooltip=f"link {a} ↔ {b} cut both ways: what is sent on it is lost (cluster.heal({a}, {b}))")
            elif ab or ba:
                src, dst = (a, b) if ab else (b, a)
                dot.edge(str(src), str(dst), style="dashed", color=P.CUT_LINK, penwidth="1.6",
                         label=f"✂ {src}→{dst}", fontcolor=P.CUT_LINK,
                         tooltip=f"link {src} → {dst} cut one way: {src} cannot reach {dst}, {dst} still reaches {src}")
            else:
                dot.edge(str(a), str(b), dir="none", color="#c8c8c8", penwidth="1",
                         tooltip=f"link {a} ↔ {b}: up both ways")

    by_link: dict = {}
    for env in cluster.network.in_flight.values():
        by_link.setdefault((env.sender, env.receiver), []).append(env)
    for (src, dst), envs in sorted(by_link.items()):
        if src not in pos or dst not in pos:
            continue
        (sx, sy), (dx, dy) = pos[src], pos[dst]
        length = math.hypot(dx - sx, dy - sy) or 1.0
        nx, ny = (dy - sy) / length, -(dx - sx) / length  # to the right of the direction of travel
        shown = envs[:max_messages_per_link]
        lines = [f"#{e.id} {e.kind}" for e in shown]
        if len(envs) > len(shown):
            lines.append(f"+{len(envs) - len(shown)} more")
        # Far enough to the side that the card clears the line (and the card of the way back).
        half_w, half_h = 0.035 * max(map(len, lines)) + 0.08, 0.075 * len(lines) + 0.05
        offset = abs(nx) * half_w + abs(ny) * half_h + 0.06
        cx, cy = sx + 0.4 * (dx - sx) + offset * nx, sy + 0.4 * (dy - sy) + offset * ny
        colour = _message_colour(shown[0])
        if any(_message_colour(e) == P.MESSAGE for e in envs):
            colour = P.MESSAGE
        card = f"msgs_{src}_{dst}"
        tip = _messages_tooltip(src, dst, envs)
        dot.node(card, "\\n".join(lines), shape="box", style="rounded,filled", fillcolor="#f4f8fd",
                 color=colour, fontcolor=colour, fontsize="9", fixedsize="false", width="0", height="0",
                 margin="0.05,0.02", pos=f"{_fmt(cx)},{_fmt(cy)}!", tooltip=tip)
        short = tip.split(" (", 1)[0]  # the card carries the fields; its two arrows only say the link
        dot.edge(str(src), card, dir="none", color=colour, penwidth="1.4", tooltip=short)
        dot.edge(card, str(dst), color=colour, penwidth="1.4", arrowsize="0.8", tooltip=short)
    return dot


def _configurations(cluster) -> dict:
    """Every configuration some server knows: config id -> its nodes (sorted)."""
    found: dict = {}
    for pid in sorted(cluster.servers):
        for config_id, config in cluster.servers[pid].durable.configs.items():
            found.setdefault(config_id, tuple(sorted(config.nodes)))
    return found


def _summary(cluster, leader) -> str:
    """The whole picture in one sentence (the SVG's own title, for a screen reader and a tooltip)."""
    crashed = [p for p, s in sorted(cluster.servers.items()) if not s.up]
    return (f"cluster of nodes {', '.join(map(str, sorted(cluster.servers)))}; leader "
            f"{leader if leader is not None else 'none agreed'}; configuration {cluster.config_id}"
            + (f"; crashed {', '.join(map(str, crashed))}" if crashed else "")
            + f"; {len(cluster.network.in_flight)} messages in flight"
            + (f"; {len(cluster.network.cut_links)} links cut one way or both" if cluster.network.cut_links else ""))


def _node_tooltip(pid: int, server, leader: bool, note: str) -> str:
    """Node `pid`'s state in words (its label says it in short)."""
    parts = [f"node {pid}" + (" (the leader)" if leader else "")]
    if not server.up:
        kept = ", ".join(f"c{c}" for c in sorted(server.durable.storages)) or "none"
        parts.append(f"crashed: its memory is lost, its storage ({kept}) survives; cluster.recover({pid}) restarts it")
    elif server.omnipaxos is None:
        parts.append("joining: it waits to be told its configuration and to receive the state decided before")
    else:
        state = server.omnipaxos.inspect()
        parts.append(f"{state.role.value} in phase {state.phase.value} of configuration {state.configuration_id}")
        parts.append(f"promised ballot {state.promise.short()}; decided up to index {state.decided_idx}, "
                     f"accepted up to {state.accepted_idx}")
        if server.retired:
            parts.append("retired: its configuration ended and it is not in the next one")
    if note:
        parts.append(note)
    return "; ".join(parts)


def _messages_tooltip(src: int, dst: int, envs: list) -> str:
    """The messages in flight on one link, with their fields (the card shows their kinds)."""
    from .tables import message_fields_text

    lines = []
    for env in envs[:12]:
        kind, fields = message_fields_text(env.message)
        lines.append(f"#{env.id} {kind}({_short_text(fields, 90)})")
    more = f"\n… {len(envs) - 12} more" if len(envs) > 12 else ""
    return f"{len(envs)} in flight {src} → {dst} (cluster.step(id) delivers one):\n" + "\n".join(lines) + more


# --- the message history as a space-time (Lamport) diagram ----------------------------------------

_LANE_GAP = 2.0  # inches between lanes
_ROW = 0.3  # inches per row


def _short_text(text: str, limit: int = 26) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def spacetime(cluster_or_trace, last: int | None = 60, ble: bool = False,
              upto: int | None = None) -> graphviz.Digraph:
    """A Lamport diagram of the trace: one vertical lane per node, time going down, one arrow per
    message from its send to its delivery.

    Marks on the lanes: ✓ decided slots (green; the StopSign purple), ✗ crash (the lane turns red and
    dashed until ↻ recover), ▶ an instance starting, + a server created, the proposals made there.
    The left margin names each operation (``cluster.step(12)``) and tick. Dropped messages end in ✗;
    messages still in flight end at the bottom, dashed. Only the last `last` trace items are drawn
    (``None``: all). Heartbeats (Ballot Leader Election) are left out unless ``ble=True``: they are
    most of the traffic and hide the Sequence Paxos exchanges. ``upto`` ends the window before that
    trace position instead of at the end of the trace (the picture as it was then: a message sent
    before ``upto`` and delivered after it is drawn in flight), so a moment can be held in view while
    the trace grows. Accepts a cluster or a trace.
    """
    from omnilab.sim import trace as T

    trace = getattr(cluster_or_trace, "trace", cluster_or_trace)

    def is_ble(item) -> bool:
        env = getattr(item, "envelope", None)
        return env is not None and isinstance(env.payload, BLE_MESSAGE_TYPES)

    # The window: the last `last` items (heartbeats skipped unless `ble`), found from the end.
    window_end = len(trace) if upto is None else max(0, min(int(upto), len(trace)))
    window: list = []
    for pos in range(window_end - 1, -1, -1):
        if last is not None and len(window) >= last:
            break
        if ble or not is_ble(trace[pos]):
            window.append(pos)
    window.reverse()
    start = window[0] if window else window_end

    # Lanes: the servers that existed when the window opens (and whether crashed), plus the ones
    # that appear inside it; the messages sent before it and still on the wire.
    before = _prefix_state(trace, start)
    exists_at_start = set(before.pids)
    crashed_at_start = set(before.crashed)
    sends_before = {i: env for i, env in before.outstanding.items()
                    if ble or not isinstance(env.payload, BLE_MESSAGE_TYPES)}
    pids = set(exists_at_start)
    for pos in window:
        item = trace[pos]
        kind = type(item)
        if kind is T.ClusterCreated:
            pids.update(item.nodes)
            exists_at_start.update(item.nodes)
        elif kind is T.ServerCreated:
            pids.add(item.pid)
        elif kind is T.Sent or kind is T.Delivered or kind is T.Dropped:
            pids.update((item.envelope.sender, item.envelope.receiver))
    lanes = sorted(pids)
    lane_x = {pid: k * _LANE_GAP for k, pid in enumerate(lanes)}

    from .tables import message_fields_text

    def about(env, what: str) -> str:
        kind, fields = message_fields_text(env.message)
        return (f"#{env.id} {kind} from node {env.sender} to node {env.receiver}, "
                f"{what}: {kind}({_short_text(fields, 120)})")

    # The graph's name is the SVG's <title>: what the picture shows, in words.
    title = (f"space-time diagram of nodes {', '.join(map(str, lanes))}: trace positions {start} to {window_end}"
             + ("" if ble else ", heartbeats hidden"))
    dot = graphviz.Digraph(title, engine="neato", graph_attr={
        "splines": "line", "outputorder": "edgesfirst", "fontname": P.FONT, "pad": "0.2", "bgcolor": "white"},
        node_attr={"fontname": P.FONT, "fontsize": "9", "shape": "point", "width": "0.07", "color": "#333333"},
        edge_attr={"fontname": P.FONT, "fontsize": "8", "arrowsize": "0.6"})

    counter = iter(range(10 ** 9))

    def place(x: float, row: float, **attrs) -> str:
        name = f"n{next(counter)}"
        dot.node(name, pos=f"{_fmt(x)},{_fmt(-row * _ROW)}!", **attrs)
        return name

    def mark(pid: int, row: float, text: str, fill: str, stroke: str, **attrs) -> str:
        attrs = {"shape": "box", "style": "rounded,filled", "fontcolor": "#111111", "fixedsize": "false",
                 "width": "0", "height": "0", "margin": "0.04,0.01", **attrs}
        attrs.setdefault("tooltip", f"node {pid}: {text}")
        return place(lane_x[pid], row, label=text, fillcolor=fill, color=stroke, **attrs)

    def margin(row: float, text: str, **attrs) -> None:
        width = 0.075 * len(text)
        place(-0.45 - width / 2, row, label=text, shape="plaintext", fixedsize="shape", width=_fmt(width),
              height="0.2", fontname="Courier", **attrs)

    for pid in lanes:
        place(lane_x[pid], -1.2, label=f"node {pid}", shape="box", style="rounded,filled", fillcolor="#eef2f7",
              color="#555555", fontsize="12", fixedsize="false", width="0", height="0", margin="0.1,0.04")

    # Lane segments: (pid, from_row, to_row, kind) with kind "up" or "crashed".
    lane_state = {pid: ("crashed" if pid in crashed_at_start else "up") if pid in exists_at_start else None
                  for pid in lanes}
    lane_from = {pid: -0.6 for pid in lanes}
    segments: list = []

    def lane_change(pid: int, row: float, new_state) -> None:
        if lane_state[pid] is not None:
            segments.append((pid, lane_from[pid], row, lane_state[pid]))
        lane_state[pid], lane_from[pid] = new_state, row

    send_point: dict = {}
    for env_id, env in sends_before.items():
        send_point[env_id] = (env.sender, -0.4, env)
    row = 0.0
    last_send_sender = None
    decided_run: dict = {}  # pid -> (row, [texts], status, node name) for consecutive decisions

    def flush_decided() -> None:
        decided_run.clear()

    for pos in window:
        item = trace[pos]
        if not isinstance(item, T.Sent):
            last_send_sender = None
        if not isinstance(item, T.EntryDecided):
            flush_decided()
        if isinstance(item, T.Operation):
            row += 1
            margin(row, _short_text(item.call(), 34), fontcolor="#1f3a5f")
        elif isinstance(item, T.Ticked):
            row += 1
            margin(row, f"tick {item.clock}", fontcolor="#777777")
            left = place(-0.3, row, shape="point", width="0.01", color="#dddddd")
            right = place(lane_x[lanes[-1]] + 0.8 if lanes else 0.5, row, shape="point", width="0.01",
                          color="#dddddd")
            dot.edge(left, right, dir="none", style="dotted", color="#cccccc")
        elif isinstance(item, T.Sent):
            env = item.envelope
            if last_send_sender != env.sender:
                row += 1
                last_send_sender = env.sender
            send_point[env.id] = (env.sender, row, env)
        elif isinstance(item, (T.Delivered, T.Dropped)):
            env = item.envelope
            row += 1
            origin = send_point.pop(env.id, None)
            colour = _message_colour(env)
            label = f"#{env.id} {env.kind}"
            if origin is None and isinstance(item, T.Dropped):  # dropped at send time: its link was cut
                start_point = place(lane_x[env.sender], row, width="0.05")
                end_x = lane_x[env.sender] + 0.35 * (lane_x[env.receiver] - lane_x[env.sender])
            else:
                sender, send_row, _ = origin if origin else (env.sender, -0.4, env)
                start_point = place(lane_x[sender], send_row, width="0.06", color=colour)
                end_x = lane_x[env.receiver] if isinstance(item, T.Delivered) else \
                    lane_x[sender] + 0.7 * (lane_x[env.receiver] - lane_x[sender])
            if isinstance(item, T.Delivered):
                end = place(end_x, row, width="0.07", color=colour)
                dot.edge(start_point, end, color=colour, fontcolor=colour, label=label,
                         style="solid" if origin else "dashed", penwidth="1.1", tooltip=about(env, "delivered"))
            else:
                end = place(end_x, row, shape="plaintext", label="✗", fontcolor=P.CUT_LINK, fontsize="12",
                            width="0.15", height="0.15", fixedsize="shape")
                dot.edge(start_point, end, color=colour, fontcolor=colour, label=f"{label} lost",
                         style="dashed", arrowhead="none", tooltip=about(env, f"lost ({item.reason})"))
        elif isinstance(item, T.Duplicated):
            row += 1
            origin = send_point.get(item.envelope.id)
            if origin is not None:
                send_point[item.copy_id] = origin
            mark(item.envelope.sender, row, f"⧉ #{item.envelope.id} → #{item.copy_id}", "#ffffff", "#888888")
        elif isinstance(item, T.EntryDecided):
            is_stopsign = isinstance(item.entry, StopSign)
            text = f"{item.idx}: {_short_text(_entry_label(item.entry), 22)}"
            run = decided_run.get(item.pid)
            status = P.STOPSIGN if is_stopsign else P.DECIDED
            if run is not None and run[2] == status == P.DECIDED and len(run[1]) < 3:
                run[1].append(text)  # consecutive decisions at one node share one mark
                dot.node(run[3], label="✓ " + ", ".join(run[1]))
                continue
            row += 1
            name = mark(item.pid, row, "✓ " + text, P.FILL[status], P.STROKE[status])
            decided_run[item.pid] = (row, [text], status, name)
        elif isinstance(item, T.Crashed):
            row += 1
            mark(item.pid, row, "✗ crash", P.CRASHED_FILL, P.CRASHED_STROKE, fontcolor=P.CRASHED_STROKE)
            lane_change(item.pid, row, "crashed")
        elif isinstance(item, T.Recovered):
            row += 1
            lane_change(item.pid, row, "up")
            mark(item.pid, row, "↻ recover", "#e3f1e6", P.STROKE[P.DECIDED])
        elif isinstance(item, T.ServerCreated):
            row += 1
            lane_change(item.pid, row, "up")
            mark(item.pid, row, f"+ created for c{item.config_id}", P.IDLE_FILL, "#888888")
        elif isinstance(item, T.InstanceStarted):
            row += 1
            mark(item.pid, row, f"▶ start c{item.config_id}", "#ffffff", P.STROKE[P.STOPSIGN],
                 style="rounded,filled,bold")
        elif isinstance(item, T.Proposed):
            row += 1
            what = _entry_label(item.proposal)
            mark(item.pid, row, f"propose {_short_text(what, 22)}", "#fff7e0", P.STROKE[P.UNDECIDED])
        elif isinstance(item, (T.Refused, T.ProposalLost)):
            row += 1
            verb = "refused" if isinstance(item, T.Refused) else "lost"
            mark(item.pid, row, f"{verb} {_short_text(_entry_label(item.proposal), 20)}", "#fde2e2",
                 P.CRASHED_STROKE)
        elif isinstance(item, T.Retired):
            row += 1
            mark(item.pid, row, f"retired (c{item.config_id})", P.IDLE_FILL, "#888888")
        elif isinstance(item, T.StateInstalled):
            row += 1
            mark(item.pid, row, f"state of c{item.from_config_id} installed", "#f1ebfb", P.STROKE[P.STOPSIGN])
        elif isinstance(item, T.SnapshotInstalled):
            row += 1
            mark(item.pid, row, f"snapshot [0, {item.upto_idx})", P.FILL[P.COMPACTED], P.STROKE[P.COMPACTED])

    bottom = row + 1.5
    for env_id, (sender, send_row, env) in send_point.items():  # still in flight at the end
        colour = _message_colour(env)
        a = place(lane_x[sender], send_row, width="0.06", color=colour)
        b = place(lane_x[env.receiver], bottom - 0.5, shape="point", width="0.02", color=colour)
        dot.edge(a, b, color=colour, fontcolor=colour, style="dashed", label=f"#{env_id} {env.kind} (in flight)",
                 tooltip=about(env, "still in flight"))
    for pid in lanes:
        if lane_state[pid] is not None:
            segments.append((pid, lane_from[pid], bottom, lane_state[pid]))
    for pid, top, end, kind in segments:
        a = place(lane_x[pid], top, shape="point", width="0.01", color="#777777")
        b = place(lane_x[pid], end, shape="point", width="0.01", color="#777777")
        if kind == "crashed":
            dot.edge(a, b, dir="none", style="dashed", color=P.CRASHED_STROKE, penwidth="1.5")
        else:
            dot.edge(a, b, dir="none", color="#9a9a9a", penwidth="2")
    notes = [f"… {start} earlier trace items"] if start else []
    if window_end < len(trace):
        notes.append(f"up to trace position {window_end} of {len(trace)} ({len(trace) - window_end} later items "
                     "not drawn)")
    if not ble:
        notes.append("heartbeats hidden (ble=True shows them)")
    if notes:
        dot.attr(label="; ".join(notes), labelloc="t", labeljust="l", fontsize="10", fontcolor="#777777")
    return dot


class _PrefixState:
    """The lanes after the first `pos` items of a trace: servers, crashed servers, and messages sent
    but not yet delivered or dropped. Kept per trace object and extended as the trace grows (a trace
    only ever appends), so redrawing a long history costs only its new items."""

    def __init__(self) -> None:
        self.pos = 0
        self.pids: set = set()
        self.crashed: set = set()
        self.outstanding: dict = {}

    def advance(self, trace, upto: int) -> None:
        from omnilab.sim import trace as T

        sent, delivered, dropped = T.Sent, T.Delivered, T.Dropped
        for pos in range(self.pos, upto):
            item = trace[pos]
            kind = type(item)
            if kind is sent:
                self.outstanding[item.envelope.id] = item.envelope
            elif kind is delivered or kind is dropped:
                self.outstanding.pop(item.envelope.id, None)
            elif kind is T.ClusterCreated:
                self.pids.update(item.nodes)
            elif kind is T.ServerCreated:
                self.pids.add(item.pid)
            elif kind is T.Crashed:
                self.crashed.add(item.pid)
            elif kind is T.Recovered:
                self.crashed.discard(item.pid)
        self.pos = upto


def _prefix_state(trace, upto: int) -> _PrefixState:
    # Kept in the trace's `derived` data (a `Trace` keeps it as it grows, copies it with the cluster
    # and drops it when rewritten), so redrawing, and drawing a fork or an undone cluster, reads only
    # the items since the last drawing. A plain list is scanned from its start.
    derived = trace.derived() if hasattr(trace, "derived") else {}
    state = derived.get("spacetime")
    if state is None:
        state = derived["spacetime"] = _PrefixState()
    elif state.pos > upto:  # a window further back (upto=): lanes of their own, the end's kept
        state = derived.get("spacetime-back")
        if state is None or state.pos > upto:
            state = derived["spacetime-back"] = _PrefixState()
    state.advance(trace, upto)
    return state


def _entry_label(value) -> str:
    return entry_text(value, members=False)  # a lane mark is short: the StopSign without its members
