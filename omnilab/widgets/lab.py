"""`lab(cluster)`: one widget to drive a `Cluster` by buttons and watch it in tables and diagrams.

Rules it keeps:

* **A button is a method call.** Every control calls the public `Cluster` method a learner would
  type (Step calls ``cluster.step(id)``, Crash calls ``cluster.crash(pid)``, ...), so the trace
  records it as if typed, and the status line shows the call. Nothing here changes the cluster any
  other way.
* **No traceback from a click.** Input is checked first (a malformed node list, an empty key, an
  index that is not a number, a tick count that is not a whole number from 1 to `MAX_TICKS`:
  refused, never clamped; only ASCII digits count, so ``²`` is a message, not a ``ValueError``);
  the simulator refuses the rest with `BadInput` and leaves the cluster unchanged. Either way the
  status line says what was wrong and what to do (`InputError` is a `BadInput`). A proposal or
  a compaction the replica refuses (``ProposeErr``, ``CompactionErr``) is reported the same way,
  with the call the trace recorded (as it does for a typed call).
* **The widget follows its cluster.** Calls typed in other cells are picked up after every cell
  (an IPython ``post_run_cell`` hook), on every control and on `refresh()`; a change is noticed by
  ``cluster.version``, which every operation and `undo` move on (a new cluster, after Replay, is
  noticed by its identity).
* **Lazy drawing.** Only when the cluster changed (a refused click redraws nothing), and only the
  visible tab: the others are marked stale and drawn when shown. Diagrams are cached by their DOT
  source (`omnilab.view.diagrams.svg`).
* **Both themes.** Text, borders and warnings use JupyterLab's CSS variables (`THEME_CSS`), so the
  lab reads the same in the light and the dark theme; no state is shown by colour alone.
* **Headless.** Everything works without a frontend: ``w.press("step")`` or
  ``w.controls.step.click()`` from Python, and ``w.views["logs"].value`` holds the same HTML a
  learner sees.
"""

from __future__ import annotations

import ast
import html
import itertools
import operator
import re
import weakref
from types import SimpleNamespace
from typing import Any, Callable, Optional

import ipywidgets as W
from traitlets import TraitError

from omnilab.replica.errors import CompactionErr, ProposeErr, SnapshotUnsupported
from omnilab.sim import Cluster, Trace, checkpoints, scenarios
from omnilab.sim.errors import BadInput, SimulationError
from omnilab.view import diagrams, tables
from omnilab.view import palette as P
from omnilab.view.reconfiguration import reconfiguration, strip_html
from omnilab.view.storage import storage as storage_view
from omnilab.view.text import message_fields_text

__all__ = ["lab", "Lab", "TABS"]

#: The views, in tab order: (key, tab title).
TABS = (("diagram", "Diagram"), ("logs", "Logs"), ("messages", "Messages"), ("nodes", "Nodes"),
        ("spacetime", "Space-time"), ("events", "Events"), ("kv", "Key-value"), ("storage", "Storage"))
MAX_MESSAGE_BUTTONS = 30
MAX_MESSAGE_CHOICES = 60  # messages listed in the message dropdown (the oldest)
MAX_LOG_ROWS = 200
EVENTS_SHOWN = 40  # rows of the Events tab
SPACETIME_SHOWN = 60  # trace items in the Space-time window (the default of `diagrams.spacetime`)
# Dropdown values for "no choice": a Dropdown shows None as an empty box, so these are words.
_LEADER, _OLDEST = "leader", "oldest"


class InputError(BadInput):
    """A control's input that cannot be turned into a call (checked before calling the cluster, so
    nothing is recorded). One of the `BadInput` family: the message says what to type instead."""


#: The most ticks one click of Run performs (it stays a click, not a wait); more is a call to type in a cell.
MAX_TICKS = 1000
# Only ASCII digits make a number here: str.isdigit() accepts '²' and '٣', and int('²') raises.
_DIGITS = re.compile(r"[0-9]+")


def parse_nodes(text: str) -> list[int]:
    """``"1, 2, 4"`` (or ``"[1, 2, 4]"``, ``"1 2 4"``) -> ``[1, 2, 4]``; anything else raises InputError."""
    body = text.strip().strip("[]()").strip()
    if not body:
        raise InputError("reconfigure needs the nodes of the next configuration, e.g. 1, 2, 4")
    parts = [p for p in re.split(r"[\s,;]+", body) if p]
    pids = []
    for part in parts:
        if not _DIGITS.fullmatch(part) or len(part) > 9 or int(part) <= 0:
            raise InputError(f"{text.strip()!r} is not a list of nodes: write positive pids separated by "
                             "commas, e.g. 1, 2, 4")
        pids.append(int(part))
    return pids


def parse_index(text: str) -> Optional[int]:
    """A log index typed in a box: blank -> None (the method's default), ``"4"`` -> 4; anything else
    raises InputError."""
    body = text.strip()
    if not body:
        return None
    if not _DIGITS.fullmatch(body) or len(body) > 18:
        raise InputError(f"{body!r} is not a log index: type a number such as 4, or leave the box empty "
                         "to compact as far as the replica may")
    return int(body)


def parse_ticks(text: str, most: int = MAX_TICKS) -> int:
    """The ticks box: a whole number from 1 to `most` (``"3"`` -> 3). Anything else, including 0,
    a negative or fractional number and more than `most`, raises InputError: never clamped, so the
    call in the status line is always the number typed."""
    body = text.strip()
    if not body:
        raise InputError(f"Run needs a number of ticks: type one in the ticks box, from 1 to {most}, e.g. 3")
    if re.fullmatch(r"-\s*[0-9]+", body):
        raise InputError(f"{body!r} ticks: time only goes forward; type a number of ticks from 1 to {most}, e.g. 3")
    if not _DIGITS.fullmatch(body):
        raise InputError(f"{body!r} is not a number of ticks: type a whole number from 1 to {most}, e.g. 3")
    if len(body.lstrip("0")) > len(str(most)) or int(body) > most:
        shown = body if len(body) <= 12 else f"{body[:6]}… ({len(body)} digits)"
        raise InputError(f"{shown} ticks is more than one click runs (at most {most}): type a smaller number, "
                         f"or call cluster.run(ticks=...) in a cell")
    if int(body) == 0:
        raise InputError(f"0 ticks would do nothing: type a number of ticks from 1 to {most}, e.g. 3")
    return int(body)


def parse_priority(text: str) -> int:
    """The priority box: a whole number >= 0 (``"5"`` -> 5); anything else raises InputError."""
    body = text.strip()
    if not body:
        raise InputError("Set priority needs a priority: type a whole number in the priority box, e.g. 5")
    if not _DIGITS.fullmatch(body) or len(body) > 9:
        raise InputError(f"{body!r} is not a priority: type a whole number from 0 up (the highest priority "
                         "wins an election), e.g. 5")
    return int(body)


def parse_value(text: str) -> Any:
    """A value typed in a box: a Python literal (``1``, ``2.5``, ``'x'``, ``[1, 2]``) or else the text."""
    text = text.strip()
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):  # "{[1]: 2}" raises TypeError
        return text


#: The lab in JupyterLab's light and dark themes: text, borders and warnings take the theme's CSS
#: variables (with the light theme's values as fallbacks outside JupyterLab). Cells coloured by
#: status keep dark text on their light fills in both themes (the tables set it).
THEME_CSS = """<style>
.omnilab-lab .omnilab-table caption, .omnilab-lab .omnilab-table td.omitted,
.omnilab-lab .omnilab-tab-note { color: var(--jp-ui-font-color2, #555); }
.omnilab-lab .omnilab-table td, .omnilab-lab .omnilab-table th { border-color: var(--jp-border-color2, #e2e2e2); }
.omnilab-lab .omnilab-table th.crashed, .omnilab-lab .omnilab-status.error,
.omnilab-lab .omnilab-status.note { color: var(--jp-error-color1, #b22222); }
.omnilab-lab .omnilab-table td.crashed { opacity: 0.75; }
</style>"""


_COMMENT = re.compile(r"<!--.*?-->", re.S)
_BETWEEN_TAGS = re.compile(r">\s+<")


def _svg_html(svg: str, css_class: str, max_height: str = "") -> str:
    """Inline SVG that shrinks to the tab's width (never grows past its natural size)."""
    start = svg.find("<svg")
    body = svg[start:] if start >= 0 else svg
    # Less to send and parse: graphviz's comments (one per element) and the whitespace between tags.
    body = _BETWEEN_TAGS.sub("><", _COMMENT.sub("", body))
    fit = f"max-height:{max_height};width:auto;" if max_height else ""
    # The diagrams' colours are chosen for a light page: in a dark theme they stay on a white card.
    return (f"<div class=\"{css_class}\" style=\"overflow:auto;max-height:760px;background:#fff;border-radius:4px\">"
            f"<style>.{css_class} svg "
            f"{{max-width:100%;height:auto;{fit}}}</style>{body}</div>")


def _text(markup: str) -> str:
    """What a learner reads in a piece of the widget's HTML: tags removed, entities decoded once
    (the HTML was escaped exactly once where it was made, so this gives back the original text)."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup.replace("<br>", "\n")))


def _badge(verdict: Any) -> str:
    name = html.escape(verdict.name)
    if verdict.ok:
        return (f"<span class=\"omnilab-badge ok\" title=\"{name}: holds\" style=\"background:"
                f"{P.FILL[P.DECIDED]};color:#111;border:1px solid {P.STROKE[P.DECIDED]};"
                f"border-radius:10px;padding:1px 8px;"
                f"margin-right:4px;font-size:12px;line-height:16px;display:inline-block;white-space:nowrap\">"
                f"✓ {name}</span>")
    message = html.escape(verdict.message)
    return (f"<span class=\"omnilab-badge violated\" title=\"{message}\" style=\"background:"
            f"{P.CRASHED_FILL};color:#111;border:1px solid {P.CRASHED_STROKE};border-radius:10px;padding:1px 8px;"
            f"margin-right:4px;font-size:12px\">✗ {name}: {message}</span>")


class Lab(W.VBox):
    """The lab widget over one `Cluster` (``lab.cluster``). See the module docstring for its rules.

    ``controls`` holds every control by name (``controls.step``, ``controls.node``, ...);
    ``press(name, **inputs)`` fills a control's inputs and presses it; ``views`` maps each tab key
    to the widget that shows it; ``status`` is the status line; `refresh()` redraws now.
    """

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        checkpoints.keep(cluster)  # the Undo button replays a bounded stretch
        self._seen: tuple = ()
        self._stale: set = set()
        self._building = True
        self.last_error: Optional[str] = None
        self._last_exception: Optional[BaseException] = None
        self._chosen: Any = _OLDEST  # the message dropdown's value when the control was pressed
        c = SimpleNamespace()
        self.controls = c
        button = self._button

        # --- network and time ---------------------------------------------------------------------
        c.msg_id = W.Dropdown(options=[(_OLDEST, _OLDEST)], value=_OLDEST, description="message",
                              layout=W.Layout(width="230px"), style={"description_width": "60px"})
        c.step = button("Step", self._do_step, "deliver the chosen message (the oldest by default): cluster.step(id)",
                        icon="step-forward")
        c.drop = button("Drop", lambda: self.cluster.drop(self._chosen_message("drop")),
                        "lose the chosen message (the oldest by default): cluster.drop(id)", icon="trash")
        c.duplicate = button("Duplicate", lambda: self.cluster.duplicate(self._chosen_message("duplicate")),
                             "put a copy of the chosen message on the wire (the oldest by default): "
                             "cluster.duplicate(id)", icon="clone")
        c.deliver_all = button("Deliver all", lambda: self.cluster.deliver_all(),
                               "deliver until nothing is in flight: cluster.deliver_all()", icon="fast-forward")
        c.tick = button("Tick", lambda: self.cluster.tick(), "tick every live server once: cluster.tick()",
                        icon="clock-o")
        # Text boxes, not number boxes: a number box clamps (0 becomes 1) or drops what it cannot
        # parse without a word; here every typed text is checked and refused with a message.
        c.ticks = W.Text(value="3", description="ticks", layout=W.Layout(width="110px"),
                         style={"description_width": "36px"}, tooltip=f"a whole number from 1 to {MAX_TICKS}")
        c.run = button("Run", lambda: self.cluster.run(ticks=parse_ticks(c.ticks.value)),
                       "tick and deliver, `ticks` times: cluster.run(ticks=n)", icon="play")
        c.undo = button("Undo", self._do_undo, "go back one operation: cluster.undo()", icon="undo")
        c.replay = button("Replay", self._do_replay, "rebuild the cluster from its trace: Cluster.replay(trace)",
                          icon="repeat")

        # --- nodes (faults and leadership) and links --------------------------------------------
        c.node = W.Dropdown(options=[], description="node", layout=W.Layout(width="140px"),
                            style={"description_width": "40px"})
        c.crash = button("Crash", lambda: self.cluster.crash(self._pid(c.node.value)),
                         "crash the node: cluster.crash(pid)", style="danger", icon="power-off")
        c.recover = button("Recover", lambda: self.cluster.recover(self._pid(c.node.value)),
                           "restart the node from its storage: cluster.recover(pid)", style="success", icon="refresh")
        c.priority = W.Text(value="0", description="priority", layout=W.Layout(width="130px"),
                            style={"description_width": "55px"}, tooltip="a whole number from 0 up")
        c.set_priority = button("Set priority", lambda: self.cluster.set_priority(self._pid(c.node.value),
                                                                                  parse_priority(c.priority.value)),
                                "the node's leader-election priority, from its next heartbeat round: "
                                "cluster.set_priority(pid, p)", icon="sort-amount-desc")
        c.try_become_leader = button("Try become leader", lambda: self.cluster.try_become_leader(
                                         self._pid(c.node.value)),
                                     "the node starts a Prepare phase now: cluster.try_become_leader(pid)",
                                     icon="star")
        c.link_a = W.Dropdown(options=[], description="link", layout=W.Layout(width="130px"),
                              style={"description_width": "35px"})
        c.link_b = W.Dropdown(options=[], description="↔", layout=W.Layout(width="110px"),
                              style={"description_width": "20px"})
        c.one_way = W.Checkbox(value=False, description="one way", indent=False, layout=W.Layout(width="80px"),
                               tooltip="cut only a → b: cluster.cut(a, b, one_way=True)")
        c.one_way.observe(lambda change: setattr(c.link_b, "description", "→" if change["new"] else "↔"), "value")
        c.cut = button("Cut", self._do_cut, "cut the link both ways, or only a → b when 'one way' is ticked: "
                       "cluster.cut(a, b) / cluster.cut(a, b, one_way=True)", icon="cut")
        c.heal_link = button("Heal link", lambda: self.cluster.heal(self._pid(c.link_a.value),
                                                                    self._pid(c.link_b.value)),
                             "bring this link back: cluster.heal(a, b)", icon="link")
        c.heal = button("Heal all", lambda: self.cluster.heal(), "bring every link back: cluster.heal()",
                        icon="chain")
        c.preset = W.Dropdown(options=[], description="preset", layout=W.Layout(width="300px"),
                              style={"description_width": "45px"})
        c.partition = button("Apply", self._do_preset, "apply the network preset (the calls show in the status line)",
                             icon="sitemap")

        # --- clients and configuration ------------------------------------------------------------
        c.key = W.Text(value="", placeholder="key", description="put", layout=W.Layout(width="150px"),
                       style={"description_width": "30px"})
        c.value = W.Text(value="", placeholder="value", layout=W.Layout(width="90px"))
        c.at = W.Dropdown(options=[(_LEADER, _LEADER)], value=_LEADER, description="at", layout=W.Layout(width="120px"),
                          style={"description_width": "20px"})
        c.put = button("Put", self._do_put, "propose the write: cluster.put(key, value, at=...)", icon="pencil")
        c.nodes = W.Text(value="", placeholder="1, 2, 4", description="nodes", layout=W.Layout(width="170px"),
                         style={"description_width": "40px"})
        c.reconfigure = button("Reconfigure", self._do_reconfigure,
                               "propose a StopSign for the next configuration: cluster.reconfigure([...])",
                               icon="exchange")

        # --- compaction ---------------------------------------------------------------------------
        c.idx = W.Text(value="", placeholder="all", description="below idx", layout=W.Layout(width="165px"),
                       style={"description_width": "72px"})
        c.compact_at = W.Dropdown(options=[(_LEADER, _LEADER)], value=_LEADER, description="at",
                                  layout=W.Layout(width="120px"), style={"description_width": "20px"})
        c.trim = button("Trim", self._do_trim, "drop the decided log below idx (empty: as far as every node "
                        "accepted): cluster.trim(idx, at=...)", icon="scissors")
        c.local_only = W.Checkbox(value=False, description="local only", indent=False,
                                  layout=W.Layout(width="85px"))
        c.snapshot = button("Snapshot", self._do_snapshot, "fold the decided log below idx (empty: all of it) "
                            "into a snapshot: cluster.snapshot(idx, at=..., local_only=...)", icon="camera")

        c.refresh = button("Refresh", self.refresh, "redraw the views from the cluster", icon="eye", record=False)
        c.heartbeats = W.Checkbox(value=False, description="heartbeats in space-time", indent=False,
                                  layout=W.Layout(width="220px"))
        c.heartbeats.observe(lambda _: self._view_control_changed("spacetime"), "value")
        self._build_view_controls(c)

        # --- status, badges and views -------------------------------------------------------------
        self.title = W.HTML()
        self.theme = W.HTML(value=THEME_CSS, layout=W.Layout(display="none"))  # styles only, never shown
        self.status = W.HTML(value="")
        self.badges = W.HTML(value="")
        self.strip = W.HTML(value="")  # the reconfiguration strip (see _update_strip)
        # A view wider than the tab (the nodes table, a long log) scrolls sideways instead of being cut off.
        self.views = {key: W.HTML(value="", layout=W.Layout(overflow="auto", max_width="100%")) for key, _ in TABS}
        self._message_buttons: list[W.Button] = []
        self._message_ids: list[int] = []
        self.message_list = W.VBox(layout=W.Layout(max_height="260px", overflow="auto"))
        messages_tab = W.VBox([W.HTML("<b>Click a message to deliver it</b> (the same as "
                                      "<code>cluster.step(id)</code>):"), self.message_list, self.views["messages"]])
        spacetime_tab = W.VBox([W.HBox([c.heartbeats, c.window, c.follow]), self.views["spacetime"]])
        events_tab = W.VBox([c.hide_heartbeats, self.views["events"]])
        children = {"messages": messages_tab, "spacetime": spacetime_tab, "events": events_tab}
        self.tabs = W.Tab(children=[children.get(key, self.views[key]) for key, _ in TABS])
        for k, (_, title) in enumerate(TABS):
            self.tabs.set_title(k, title)
        self.tabs.observe(self._on_tab, "selected_index")

        rows = [  # messages and time; nodes; links; clients and configuration; compaction and history
            [c.step, c.msg_id, c.drop, c.duplicate, c.deliver_all, c.tick, c.run, c.ticks],
            [c.node, c.crash, c.recover, c.priority, c.set_priority, c.try_become_leader],
            [c.link_a, c.link_b, c.one_way, c.cut, c.heal_link, c.heal, c.preset, c.partition],
            [c.key, c.value, c.at, c.put, c.nodes, c.reconfigure],
            [c.trim, c.snapshot, c.idx, c.compact_at, c.local_only, W.HTML(layout=W.Layout(width="24px")), c.undo,
             c.replay, c.refresh],
        ]
        rows = [W.HBox(row, layout=W.Layout(flex_flow="row wrap")) for row in rows]
        super().__init__([self.theme, self.title, *rows, self.status, self.badges, self.strip, self.tabs])
        self.add_class("omnilab-lab")
        self._building = False
        self.refresh()
        _follow(self)

    # --- pressing controls ----------------------------------------------------------------------------

    def _button(self, label: str, action: Callable[[], Any], tooltip: str, style: str = "", icon: str = "",
                record: bool = True) -> W.Button:
        b = W.Button(description=label, tooltip=tooltip, button_style=style, icon=icon,
                     layout=W.Layout(width="auto"))
        b.on_click(lambda _button: self._act(label, action) if record else action())
        return b

    def press(self, name: str, *, strict: bool = False, **inputs: Any) -> str:
        """Fill a control's inputs and press it, as a learner would; returns the status line's text.

        ``press("step")``, ``press("step", msg_id=12)``, ``press("drop", msg_id=12)``,
        ``press("duplicate")`` (the oldest), ``press("run", ticks=5)``, ``press("crash", node=3)``,
        ``press("cut", link_a=1, link_b=2)``, ``press("cut", link_a=1, link_b=2, one_way=True)``,
        ``press("put", key="a", value="1")``, ``press("reconfigure", nodes="1, 2, 4")``,
        ``press("partition", preset=...)``, ``press("set_priority", node=1, priority=5)``,
        ``press("try_become_leader", node=1)``, ``press("trim", idx="4")``, ``press("snapshot", idx="",
        compact_at=2, local_only=True)``. Inputs are the names in ``controls``; a text box takes any
        value as the text a learner would type (``ticks=2.5`` types ``2.5``, which Run refuses).

        The widget first catches up with its cluster (calls typed earlier in the same cell count):
        ``msg_id`` may be any message in flight now, listed in the dropdown or not. A value a control
        cannot take (a node that does not exist, a message not in flight, not True or False for a
        box) is refused like a bad click: the status line says why and nothing changes. With
        ``strict=True`` a refusal is also raised (`BadInput`, or the replica's own refusal) once shown,
        for a script that must not go on after it."""
        button = getattr(self.controls, name, None)
        if not isinstance(button, W.Button):
            names = sorted(k for k, v in vars(self.controls).items() if isinstance(v, W.Button))
            raise InputError(f"no button {name!r}; the buttons are {names}")
        for field in inputs:
            control = getattr(self.controls, field, None)
            if control is None or isinstance(control, W.Button):
                raise InputError(f"no input {field!r} on the lab")
        self._sync_if_changed()  # options as the cluster is now, not as the last redraw saw it
        self._last_exception = None
        for field, value in inputs.items():
            if not self._fill(field, value):
                if strict:
                    raise self._last_exception
                return self.status_text
        button.click()
        if strict and self._last_exception is not None:
            raise self._last_exception
        return self.status_text

    def _fill(self, field: str, value: Any) -> bool:
        """Put `value` in input `field` as a learner would; False (and a message) if it cannot hold it."""
        control = getattr(self.controls, field)
        if isinstance(control, W.Dropdown):
            if value is None and field in ("msg_id", "at", "compact_at"):
                value = _OLDEST if field == "msg_id" else _LEADER
            allowed = [v for _, v in control.options]
            if field == "msg_id" and value not in allowed:
                value = self._offer_message(value)
                if value is None:
                    return False
                allowed = [v for _, v in control.options]
            if value not in allowed:
                choices = [v for v in allowed if v not in (None, _OLDEST, _LEADER)]
                if field in ("node", "link_a", "link_b", "at", "compact_at"):
                    self._refuse(f"there is no node {value!r}; the nodes are {choices}")
                else:
                    self._refuse(f"{field}: {value!r} is not one of the choices {choices or '(none)'}")
                return False
            value = allowed[allowed.index(value)]  # the option itself: np.int64(5) -> 5, as typed
        elif isinstance(control, W.Text):
            value = "" if value is None else str(value)
        elif isinstance(control, W.Checkbox) and not isinstance(value, bool):
            self._refuse(f"{field}: {value!r} is not True or False")
            return False
        try:
            control.value = value
        except TraitError:
            self._refuse(f"{field}: {value!r} is not a value this box takes")
            return False
        return True

    def _offer_message(self, value: Any) -> Any:
        """`value` as the id of a message in flight now (added to the dropdown if it was not listed:
        the dropdown lists the oldest ones only), or None after saying it is not in flight."""
        in_flight = self.cluster.network.in_flight
        try:
            msg_id = operator.index(value) if not isinstance(value, bool) else None
        except TypeError:
            msg_id = None
        if msg_id is None or msg_id not in in_flight:
            ids = list(in_flight)
            shown = ids if len(ids) <= 20 else ids[:20] + ["..."]
            self._refuse(f"msg_id: message {value!r} is not in flight (delivered, dropped or never sent); "
                         f"the messages in flight are {shown or 'none: Tick or Run makes the servers send'}")
            return None
        options = list(self.controls.msg_id.options)
        if msg_id not in [v for _, v in options]:
            env = self.cluster.network.in_flight[msg_id]
            options.append((f"#{env.id} {env.sender}→{env.receiver} {env.kind}", env.id))
            self.controls.msg_id.options = options
        return msg_id

    def _refuse(self, message: str) -> None:
        self._last_exception = InputError(message)
        self._say_error(message)

    @property
    def status_text(self) -> str:
        """The status line without its HTML."""
        return _text(self.status.value)

    def _pid(self, value: Any) -> int:
        if value is None:
            raise InputError("choose a node first")
        return value

    def _act(self, label: str, action: Callable[[], Any]) -> None:
        """Run one control: call the cluster, report the call (or why it could not be made), redraw.

        The message chosen in the dropdown is read before catching up with the cluster: if a call
        typed elsewhere delivered it meanwhile, Step says so instead of stepping another one."""
        self._chosen = self.controls.msg_id.value
        self._sync_if_changed()
        before = (id(self.cluster.trace), len(self.cluster.trace))
        self._last_exception = None
        try:
            result = action()
        except BadInput as err:  # the lab's own checks (InputError) and the cluster's
            self._last_exception = err
            self._say_error(str(err))
        except (ProposeErr, CompactionErr, SnapshotUnsupported) as err:  # recorded in the trace, as when typed
            self._last_exception = err
            self._say_error(f"refused by the replica: {type(err).__qualname__}: {err}", calls=self._new_calls(before))
        except (SimulationError, ValueError, TypeError, KeyError) as err:
            self._last_exception = err
            self._say_error(f"{type(err).__name__}: {err}")
        except Exception as err:  # never let a traceback reach the notebook from a click
            self._last_exception = err
            self._say_error(f"unexpected {type(err).__name__}: {err} (please report this)")
        else:
            calls = self._new_calls(before) if not isinstance(result, str) else [result]
            self._say_ok(calls or [f"{label}: nothing changed"])
        # Redraw only if the cluster changed (its version moved, or Replay made a new one): a refused
        # click leaves every pane as it is, and the status line already says why.
        self._sync_if_changed()

    def _new_calls(self, before: tuple) -> list[str]:
        trace = self.cluster.trace
        if id(trace) != before[0]:
            return []
        from omnilab.sim.trace import Operation

        return [item.call() for item in trace[before[1]:] if isinstance(item, Operation)]

    def _say_ok(self, calls: list[str]) -> None:
        self.last_error = None
        code = "<br>".join(f"<code>{html.escape(call)}</code>" for call in calls)
        self.status.value = f"<span class=\"omnilab-status ok\">✓ {code}</span>"

    def _say_error(self, message: str, calls: Optional[list] = None) -> None:
        self.last_error = message
        recorded = "".join(f" · recorded: <code>{html.escape(c)}</code>" for c in calls or [])
        self.status.value = (f"<span class=\"omnilab-status error\" "
                             f"style=\"color:var(--jp-error-color1,{P.CRASHED_STROKE})\">⚠ "
                             f"{html.escape(message)}</span>{recorded}")

    def announce(self, message: str) -> None:
        """Show `message` in the status line, highlighted, without calling the cluster (e.g. the
        explorer naming the invariant a counterexample's last step violates)."""
        self.status.value = (f"<span class=\"omnilab-status note\" "
                             f"style=\"color:var(--jp-error-color1,{P.CRASHED_STROKE});"
                             f"font-weight:bold\">⚑ {html.escape(message)}</span>")

    # --- the actions that need more than one call or some parsing ---------------------------------------

    def _do_step(self) -> Any:
        chosen = self._chosen
        return self.cluster.step(None if chosen == _OLDEST else chosen)

    def _chosen_message(self, verb: str) -> int:
        """The id in the message dropdown; for "oldest", the oldest message's id (``drop`` and
        ``duplicate`` take an id, so the call shows which message it was)."""
        chosen = self._chosen
        if chosen != _OLDEST:
            return chosen
        oldest = self.cluster.network.oldest_id()
        if oldest is None:
            raise InputError(f"no message is in flight, so there is none to {verb}: Tick or Run makes the "
                             "servers send")
        return oldest

    def _do_cut(self) -> Any:
        a, b = self._pid(self.controls.link_a.value), self._pid(self.controls.link_b.value)
        if self.controls.one_way.value:
            return self.cluster.cut(a, b, one_way=True)
        return self.cluster.cut(a, b)

    def _deliver(self, slot: int) -> None:
        if slot < len(self._message_ids):
            msg_id = self._message_ids[slot]
            self._act(f"step {msg_id}", lambda: self.cluster.step(msg_id))

    def _do_put(self) -> Any:
        key = self.controls.key.value.strip()
        if not key:
            raise InputError("put needs a key: type one in the key box, e.g. a")
        if not self.controls.value.value.strip():
            raise InputError("put needs a value: type one in the value box, e.g. 1")
        at = self.controls.at.value
        return self.cluster.put(key, parse_value(self.controls.value.value), at=None if at == _LEADER else at)

    def _compaction_at(self) -> Optional[int]:
        at = self.controls.compact_at.value
        return None if at == _LEADER else at

    def _do_trim(self) -> Any:
        return self.cluster.trim(parse_index(self.controls.idx.value), at=self._compaction_at())

    def _do_snapshot(self) -> Any:
        return self.cluster.snapshot(parse_index(self.controls.idx.value), at=self._compaction_at(),
                                     local_only=self.controls.local_only.value)

    def _do_reconfigure(self) -> Any:
        return self.cluster.reconfigure(parse_nodes(self.controls.nodes.value))

    def _do_undo(self) -> str:
        ops = self.cluster.trace.operations()
        self.cluster.undo()
        return f"cluster.undo()  # took back {ops[-1].call()}"

    def _do_replay(self) -> str:
        self.cluster = Cluster.replay(self.cluster.trace, variant=self.cluster.variant)
        checkpoints.keep(self.cluster)
        return "cluster = Cluster.replay(cluster.trace)  # the lab now shows this copy: lab.cluster"

    def _do_preset(self) -> Any:
        preset = self.controls.preset.value
        if preset is None:
            raise InputError("choose a network preset first")
        for method, args in preset[1]:
            getattr(self.cluster, method)(*args)

    def replay(self, trace: Any) -> None:
        """Show a new cluster rebuilt from `trace` (``Cluster.replay(trace)``), e.g. a failing
        schedule the grader reported."""
        self._act("replay", lambda: setattr(self, "cluster", Cluster.replay(trace))
                  or "cluster = Cluster.replay(trace)")

    # --- following the cluster ------------------------------------------------------------------------

    def _signature(self) -> tuple:
        return (id(self.cluster), self.cluster.version)

    def _sync_if_changed(self) -> bool:
        if self._signature() != self._seen:
            self._redraw()
            return True
        return False

    def refresh(self) -> None:
        """Redraw from the cluster now (every view is stale; the visible one is drawn)."""
        self._redraw()

    def _mark_stale(self, keys: set) -> None:
        self._stale |= keys
        self._draw_visible()

    def _on_tab(self, _change: dict) -> None:
        self._draw_visible()

    def _redraw(self) -> None:
        self._seen = self._signature()
        self._update_controls()
        self._update_badges()
        self._update_strip()
        self._stale = {key for key, _ in TABS}
        self._draw_visible()

    def _draw_visible(self) -> None:
        index = self.tabs.selected_index or 0
        key = TABS[index][0]
        if key in self._stale:
            self.draw(key)

    def draw(self, key: str) -> None:
        """Draw one view now (whether or not it is visible). The Space-time window's slider lives in
        its tab, so it follows the trace's length when that tab is drawn (nothing to send otherwise)."""
        if key == "spacetime":
            self._update_window()
        self.views[key].value = self.render(key)
        if key == "messages":
            self._update_message_buttons()
        self._stale.discard(key)

    def render(self, key: str) -> str:
        """The HTML of one view for the current cluster (what its tab shows)."""
        cluster = self.cluster
        if key == "diagram":
            return _svg_html(diagrams.svg(diagrams.cluster_diagram(cluster)), "omnilab-diagram", max_height="560px")
        if key == "spacetime":
            return _svg_html(diagrams.svg(diagrams.spacetime(cluster, ble=self.controls.heartbeats.value,
                                                             upto=self._window_upto())), "omnilab-spacetime")
        if key == "logs":
            table = tables.logs(cluster)
            return tables.html_table(table, cell_classes=table.status, crashed_columns=table.crashed,
                                     caption=table.caption, legend=True, max_rows=MAX_LOG_ROWS)
        if key == "messages":
            frame = tables.messages(cluster)
            if frame.empty:
                return "<i>No message is in flight. Tick or Run to make the servers send.</i>"
            return tables.html_table(frame, table_class="omnilab-table omnilab-messages")
        if key == "nodes":
            frame = tables.nodes(cluster)
            crashed = [c for c in frame.index if frame.loc[c, "status"] == "crashed"]
            return tables.html_table(frame, caption=f"crashed: {crashed}" if crashed else "",
                                     table_class="omnilab-table omnilab-nodes")
        if key == "events":
            return tables.html_table(tables.events(cluster, last=EVENTS_SHOWN,
                                                   heartbeats=not self.controls.hide_heartbeats.value),
                                     table_class="omnilab-table omnilab-events")
        if key == "kv":
            frame = tables.kv(cluster)
            if frame.empty:
                return "<i>No key is written anywhere yet. Put one!</i>"
            return tables.html_table(frame, table_class="omnilab-table omnilab-kv")
        if key == "storage":
            # One table per configuration (view.storage), then what a crash loses (view.state_split).
            frame = storage_view(cluster)
            parts = ["<div class=\"omnilab-tab-note\">What each node keeps in <b>storage</b> (it survives a crash), "
                     "one table per configuration: <code>view.storage(cluster)</code></div>"]
            for label in dict.fromkeys(frame.index.get_level_values(0)):
                parts.append(f"<div class=\"omnilab-tab-note\" style=\"margin-top:6px\"><b>configuration "
                             f"{html.escape(label[1:])}</b></div>")
                parts.append(tables.html_table(frame.loc[label], table_class="omnilab-table omnilab-storage"))
            memory = tables.state_split(cluster).loc[tables.MEMORY]
            parts.append("<div class=\"omnilab-tab-note\" style=\"margin-top:8px\">What each node keeps in "
                         "<b>memory</b> (a crash loses it): <code>view.state_split(cluster)</code></div>")
            parts.append(tables.html_table(memory, table_class="omnilab-table omnilab-memory"))
            return "".join(parts)
        raise KeyError(key)

    def _update_badges(self) -> None:
        try:
            verdicts = self.cluster.check()
        except Exception as err:  # a checker must not break the widget
            self.badges.value = (f"<span class=\"omnilab-badge violated\">checks failed to run: "
                                 f"{html.escape(str(err))}</span>")
            return
        self.badges.value = "<div class=\"omnilab-badges\">" + "".join(_badge(v) for v in verdicts) + "</div>"

    # --- view controls: what a tab shows (they never change the cluster) --------------------------------
    #
    # Each one says its equivalent view call in the status line, as the buttons say their cluster call.

    def _build_view_controls(self, c: SimpleNamespace) -> None:
        # Events tab: heartbeats hidden by default. They are most of the trace (every tick sends
        # them), so with them shown the 40 rows are mostly HeartbeatRequest/Reply and the protocol's
        # own steps scroll away; the box shows them again.
        c.hide_heartbeats = W.Checkbox(value=True, description="hide heartbeats", indent=False,
                                       layout=W.Layout(width="150px"),
                                       tooltip="leave Ballot Leader Election heartbeats out of the table: "
                                               "view.events(cluster, heartbeats=False)")
        c.hide_heartbeats.observe(lambda _: self._view_control_changed("events"), "value")
        # Space-time tab: which window of the trace is drawn. The slider is the trace position the
        # window ends at; "follow" keeps it at the end as the trace grows. Moving the slider turns
        # follow off, so the moment chosen (a decision, say) stays in view after Run.
        c.window = W.IntSlider(value=0, min=0, max=0, description="up to", continuous_update=False,
                               layout=W.Layout(width="420px"), style={"description_width": "40px"},
                               tooltip="draw the trace up to this position: view.spacetime(cluster, upto=pos)")
        c.follow = W.Checkbox(value=True, description="follow the end", indent=False, layout=W.Layout(width="120px"),
                              tooltip="keep the window at the end of the trace as it grows")
        self._syncing_window = False
        c.window.observe(self._on_window, "value")
        c.follow.observe(self._on_follow, "value")

    def _view_call(self, key: str) -> str:
        c = self.controls
        if key == "events":
            hidden = ", heartbeats=False" if c.hide_heartbeats.value else ""
            return f"view.events(cluster, last={EVENTS_SHOWN}{hidden})"
        args = [f"last={SPACETIME_SHOWN}"]
        if c.heartbeats.value:
            args.append("ble=True")
        if self._window_upto() is not None:
            args.append(f"upto={self._window_upto()}")
        return f"view.spacetime(cluster, {', '.join(args)})"

    def _view_control_changed(self, key: str) -> None:
        if self._building:
            return
        self._say_ok([self._view_call(key)])
        self._mark_stale({key})

    def _window_upto(self) -> Optional[int]:
        """The trace position the Space-time window ends at; None when it follows the end."""
        c = self.controls
        if c.follow.value or c.window.value >= len(self.cluster.trace):
            return None
        return int(c.window.value)

    def _update_window(self) -> None:
        """Keep the slider's range the trace's length; at the end when following."""
        c, length = self.controls, len(self.cluster.trace)
        self._syncing_window = True
        try:
            if c.window.value > length:
                c.window.value = length
            c.window.max = length
            if c.follow.value:
                c.window.value = length
        finally:
            self._syncing_window = False

    def _on_window(self, _change: dict) -> None:
        if self._syncing_window or self._building:
            return
        c = self.controls
        at_end = c.window.value >= len(self.cluster.trace)
        if c.follow.value != at_end:
            self._syncing_window = True
            try:
                c.follow.value = at_end
            finally:
                self._syncing_window = False
        self._view_control_changed("spacetime")

    def _on_follow(self, _change: dict) -> None:
        if self._syncing_window or self._building:
            return
        if self.controls.follow.value:
            self._update_window()
        self._view_control_changed("spacetime")

    # --- the reconfiguration strip ----------------------------------------------------------------------

    def _update_strip(self) -> None:
        """Redraw the reconfiguration strip above the tabs (after every action, like the badges):
        `omnilab.view.reconfiguration(cluster)`, the stages of each StopSign."""
        try:
            self.strip.value = strip_html(reconfiguration(self.cluster))
        except Exception as err:  # a view must not break the widget
            self.strip.value = (f"<span class=\"omnilab-badge violated\">the reconfiguration strip failed: "
                                f"{html.escape(str(err))}</span>")

    @property
    def strip_text(self) -> str:
        """The reconfiguration strip as text, one line per configuration change."""
        lines = _text(self.strip.value.replace("</div>", "</div>\n")).splitlines()
        return "\n".join(line.strip() for line in lines if line.strip())

    def _update_controls(self) -> None:
        cluster, c = self.cluster, self.controls
        pids = sorted(cluster.servers)
        leader = cluster.leader()
        crashed = [p for p in pids if not cluster.servers[p].up]
        self.title.value = (f"<b>omnilab lab</b> · nodes {pids} · configuration {cluster.config_id} · leader "
                            f"{leader if leader is not None else '—'} · clock {cluster.clock} · "
                            f"{len(cluster.network)} in flight"
                            + (f" · crashed {crashed}" if crashed else "")
                            + ("" if cluster.variant.is_reference else
                               f" · variant <b>{html.escape(cluster.variant.name)}</b>")
                            + (f"<details style=\"color:var(--jp-ui-font-color2,#555);font-size:12px\">"
                               f"<summary>about this scenario</summary>"
                               f"{html.escape(cluster.description)}</details>"
                               if cluster.description else ""))
        # The oldest messages only (each redraw sends the whole list to the browser); press() and
        # the Messages tab reach any other one, and a chosen one stays listed while in flight.
        flying = cluster.network.in_flight
        listed = list(itertools.islice(flying.values(), MAX_MESSAGE_CHOICES))
        chosen = c.msg_id.value
        if chosen in flying and all(e.id != chosen for e in listed):
            listed.append(flying[chosen])
        options = [(_OLDEST, _OLDEST)] + [(f"#{e.id} {e.sender}→{e.receiver} {e.kind}", e.id) for e in listed]
        _set_options(c.msg_id, options)
        node_options = [(str(p), p) for p in pids]
        for dropdown in (c.node, c.link_a, c.link_b):
            _set_options(dropdown, node_options)
        if c.link_b.value == c.link_a.value and len(pids) > 1:
            c.link_b.value = pids[1] if c.link_a.value == pids[0] else pids[0]
        _set_options(c.at, [(_LEADER, _LEADER)] + node_options)
        _set_options(c.compact_at, [(_LEADER, _LEADER)] + node_options)
        _set_options(c.preset, [(name, (name, calls)) for name, calls in presets(cluster)])

    def _update_message_buttons(self) -> None:
        envs = list(self.cluster.network.in_flight.values())
        shown = envs[:MAX_MESSAGE_BUTTONS]
        while len(self._message_buttons) < len(shown):
            slot = len(self._message_buttons)
            b = W.Button(layout=W.Layout(width="auto", height="26px"))
            b.add_class("omnilab-message")
            b.on_click(lambda _b, slot=slot: self._deliver(slot))
            self._message_buttons.append(b)
        self._message_ids = [e.id for e in shown]
        for b, env in zip(self._message_buttons, shown):
            kind, fields = message_fields_text(env.message)
            b.description = f"#{env.id}  {env.sender} → {env.receiver}  {kind}"
            b.tooltip = f"cluster.step({env.id}): {kind}({fields})"
        children = self._message_buttons[:len(shown)]
        if len(envs) > len(shown):
            children = children + [W.HTML(f"<i>… {len(envs) - len(shown)} more (Step delivers the oldest)</i>")]
        self.message_list.children = children

    def __repr__(self) -> str:
        # Headless (nbval, a terminal) shows this text: deterministic, no model ids.
        return self.summary()

    def summary(self) -> str:
        """What the widget shows, as text: title, status and invariant badges."""
        title = _text(self.title.value.split("<details")[0])
        badges = _text(self.badges.value.replace("</span>", " </span>"))
        badges = re.sub(r"\s+", " ", badges).strip()
        lines = [title, f"status: {self.status_text or '-'}", f"checks: {badges}"]
        return "\n".join(lines)


def _set_options(dropdown: W.Dropdown, options: list) -> None:
    if list(dropdown.options) == options:
        return
    value = dropdown.value
    values = [v for _, v in options]
    with dropdown.hold_sync():  # options and value reach the browser in one message
        dropdown.options = options
        dropdown.value = value if value in values else (values[0] if values else None)


def presets(cluster: Cluster) -> list[tuple[str, list]]:
    """Network presets for the current nodes: `omnilab.sim.scenarios.network_presets` (the
    topologies of the scenarios, the OmniPaxos paper's partial-connectivity scenarios, applied to these nodes)."""
    return scenarios.network_presets(list(cluster.servers), cluster.leader())


# --- following a cluster across cells --------------------------------------------------------------

_FOLLOWED: "weakref.WeakSet[Lab]" = weakref.WeakSet()
_HOOKED = False


def _after_cell(*_args: Any) -> None:
    for widget in list(_FOLLOWED):
        try:
            widget._sync_if_changed()
        except Exception:  # a broken view must not break the notebook
            pass


def _follow(widget: Lab) -> None:
    """Redraw `widget` after every cell that changed its cluster (IPython only)."""
    global _HOOKED
    _FOLLOWED.add(widget)
    if _HOOKED:
        return
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return
    shell = get_ipython()
    if shell is not None:
        shell.events.register("post_run_cell", _after_cell)
        _HOOKED = True


def lab(cluster: Any = None) -> Lab:
    """The lab widget over `cluster` (a `Cluster`; a trace is replayed first; nothing: three nodes)."""
    if cluster is None:
        cluster = Cluster([1, 2, 3])
    elif isinstance(cluster, (Trace, list)):
        cluster = Cluster.replay(cluster)
    elif not isinstance(cluster, Cluster):
        raise TypeError(f"lab() takes a Cluster (or a trace to replay), not {type(cluster).__name__}")
    return Lab(cluster)
