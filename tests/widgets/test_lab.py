"""The lab widget, headless: every control is the Cluster method a learner would type."""

import pytest

import omnilab
from omnilab.replica.errors import CompactionErr
from omnilab.sim import Cluster, scenarios
from omnilab.view import palette as P
from omnilab.view.tables import messages as view_messages
from omnilab.widgets import TABS, lab, presets
from omnilab.widgets.lab import parse_index, parse_nodes, parse_value


def twins(make=scenarios.replace_crashed_node):
    """Two identical clusters: one driven by the widget, one by typed calls."""
    return make(), make()


def same(a: Cluster, b: Cluster) -> None:
    assert a.trace == b.trace
    assert a.trace.script() == b.trace.script()


# (press name, inputs, the call a learner types) on replace_crashed_node after one tick
CONTROLS = [
    ("step", {}, lambda c: c.step()),
    ("drop", {}, lambda c: c.drop(c.network.oldest_id())),
    ("duplicate", {}, lambda c: c.duplicate(c.network.oldest_id())),
    ("deliver_all", {}, lambda c: c.deliver_all()),
    ("tick", {}, lambda c: c.tick()),
    ("run", {"ticks": 4}, lambda c: c.run(ticks=4)),
    ("undo", {}, lambda c: c.undo()),
    ("crash", {"node": 1}, lambda c: c.crash(1)),
    ("recover", {"node": 3}, lambda c: c.recover(3)),
    ("cut", {"link_a": 1, "link_b": 2}, lambda c: c.cut(1, 2)),
    ("cut", {"link_a": 2, "link_b": 1, "one_way": True}, lambda c: c.cut(2, 1, one_way=True)),
    ("heal", {}, lambda c: c.heal()),
    ("put", {"key": "c", "value": "3"}, lambda c: c.put("c", 3)),
    ("put", {"key": "d", "value": "'x'", "at": 1}, lambda c: c.put("d", "x", at=1)),
    ("reconfigure", {"nodes": "1, 2, 4"}, lambda c: c.reconfigure([1, 2, 4])),
    ("set_priority", {"node": 1, "priority": 5}, lambda c: c.set_priority(1, 5)),
    ("try_become_leader", {"node": 1}, lambda c: c.try_become_leader(1)),
    ("snapshot", {"idx": "1"}, lambda c: c.snapshot(1)),
    ("snapshot", {"idx": "", "compact_at": 1, "local_only": True}, lambda c: c.snapshot(at=1, local_only=True)),
]


@pytest.mark.parametrize("name, inputs, typed", CONTROLS, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CONTROLS)])
def test_pressing_a_control_equals_calling_the_method(name, inputs, typed):
    widget_side, typed_side = twins()
    for cluster in (widget_side, typed_side):
        cluster.tick()
    w = lab(widget_side)
    status = w.press(name, **inputs)
    typed(typed_side)
    assert status.startswith("✓"), status
    same(widget_side, typed_side)


def test_step_a_chosen_message_and_click_one_in_the_list():
    a, b = twins()
    a.tick(), b.tick()
    w = lab(a)
    third = list(a.network.in_flight)[2]
    w.press("step", msg_id=third)
    b.step(third)
    same(a, b)
    w.draw("messages")
    second = list(a.network.in_flight)[1]
    assert w._message_buttons[1].description.startswith(f"#{second} ")
    w._message_buttons[1].click()
    b.step(second)
    same(a, b)
    assert w.status_text == f"✓ cluster.step({second})"


def test_drop_and_duplicate_act_on_the_chosen_message():
    a, b = twins()
    a.tick(), b.tick()
    w = lab(a)
    second, third = list(a.network.in_flight)[1:3]
    assert w.press("drop", msg_id=third) == f"✓ cluster.drop({third})"
    b.drop(third)
    # The dropped message left the dropdown; the choice fell back to the oldest.
    assert third not in [v for _, v in w.controls.msg_id.options] and w.controls.msg_id.value == "oldest"
    assert w.press("duplicate", msg_id=second) == f"✓ cluster.duplicate({second})"
    copy = b.duplicate(second)
    same(a, b)
    assert copy in a.network.in_flight and third not in a.network.in_flight
    oldest = a.network.oldest_id()
    assert w.press("drop", msg_id=None) == f"✓ cluster.drop({oldest})"  # "oldest": the call names it


def test_an_id_from_the_messages_table_is_recorded_as_a_plain_int():
    cluster = Cluster([1, 2, 3])
    cluster.tick()
    w = lab(cluster)
    msg_id = view_messages(cluster).index[1]  # numpy's int64, as a learner copies it from pending()
    status = w.press("drop", msg_id=msg_id)
    assert status == f"✓ cluster.drop({int(msg_id)})"
    assert cluster.trace.script().splitlines()[-1] == f"cluster.drop({int(msg_id)})"


def test_one_way_cut_cuts_one_direction_and_says_so():
    cluster = Cluster([1, 2, 3])
    w = lab(cluster)
    assert w.controls.link_b.description == "↔"
    status = w.press("cut", link_a=1, link_b=3, one_way=True)
    assert status == "✓ cluster.cut(1, 3, one_way=True)"
    assert cluster.network.cut_links == {(1, 3)}
    assert w.controls.link_b.description == "→"
    assert "✂ 1→3" in w.views["diagram"].value
    w.press("heal_link", link_a=1, link_b=3)
    assert w.press("cut", link_a=1, link_b=3, one_way=False) == "✓ cluster.cut(1, 3)"
    assert cluster.network.cut_links == {(1, 3), (3, 1)} and w.controls.link_b.description == "↔"


def test_trim_and_snapshot_call_the_cluster_and_show_refusals():
    def make():
        cluster = Cluster([1, 2, 3])
        cluster.run(ticks=3)
        for key, value in [("a", 1), ("b", 2), ("c", 3)]:
            cluster.put(key, value)
        cluster.deliver_all()
        return cluster

    a, b = make(), make()
    w = lab(a)
    assert w.press("trim", idx="2") == "✓ cluster.trim(2)"
    b.trim(2)
    same(a, b)
    assert "Trim" in {env.kind for env in a.network.in_flight.values()}  # on the wire at once
    # Only the leader trims: the refusal is shown with the call the trace recorded, as when typed.
    follower = next(p for p in a.pids if p != a.leader())
    status = w.press("trim", idx="", compact_at=follower)
    assert status.startswith("⚠ refused by the replica: CompactionErr.NotCurrentLeader: trim refused"), status
    assert status.endswith(f"cluster.trim(at={follower})")
    with pytest.raises(CompactionErr.NotCurrentLeader):
        b.trim(at=follower)
    same(a, b)
    assert type(a.trace[-1]).__name__ == "CompactionRefused"
    # Snapshot with an index at the leader: its log is trimmed, so the replica refuses (a snapshot of
    # a trimmed prefix could not hold the trimmed writes; README divergences). Then a local one at a
    # follower, which has not trimmed yet (its Trim is still on the wire).
    status = w.press("snapshot", idx="3", compact_at=None)
    assert status.startswith("⚠ refused by the replica: CompactionErr.TrimmedPrefix"), status
    assert status.endswith("cluster.snapshot(3)")
    with pytest.raises(CompactionErr.TrimmedPrefix):
        b.snapshot(3)
    same(a, b)
    assert w.press("snapshot", idx="", compact_at=follower, local_only=True) == \
        f"✓ cluster.snapshot(at={follower}, local_only=True)"
    b.snapshot(at=follower, local_only=True)
    same(a, b)
    status = w.press("snapshot", idx="99", compact_at=None, local_only=False)
    assert status.startswith("⚠ refused by the replica: CompactionErr.UndecidedIndex"), status
    assert status.endswith("cluster.snapshot(99)")


def test_priority_and_try_become_leader_are_the_calls_they_show():
    a, b = twins(lambda: Cluster([1, 2, 3]))
    for cluster in (a, b):
        cluster.run(ticks=3)
    w = lab(a)
    assert w.press("set_priority", node=1, priority=7) == "✓ cluster.set_priority(1, 7)"
    assert w.press("try_become_leader", node=1) == "✓ cluster.try_become_leader(1)"
    b.set_priority(1, 7), b.try_become_leader(1)
    same(a, b)
    assert w.press("deliver_all").startswith("✓") and a.leader() == 1
    w.draw("nodes")
    assert "/p7" in w.views["nodes"].value


def test_controls_click_from_python_like_press():
    a, b = twins()
    a.tick(), b.tick()
    w = lab(a)
    w.controls.step.click()
    b.step()
    same(a, b)
    w.controls.heal.click()
    b.heal()
    same(a, b)


def test_heal_link_and_partition_presets_are_the_calls_they_show():
    a, b = twins()
    w = lab(a)
    w.press("cut", link_a=1, link_b=2)
    w.press("heal_link", link_a=1, link_b=2)
    b.cut(1, 2), b.heal(1, 2)
    same(a, b)
    for name, calls in presets(a):
        status = w.press("partition", preset=(name, calls))
        for method, args in calls:
            getattr(b, method)(*args)
        same(a, b)
        assert status.startswith("✓ cluster.")


def test_the_presets_are_the_scenario_topologies():
    cluster = scenarios.quorum_loss()
    names = [name for name, _ in presets(cluster)]
    assert "quorum loss: only 3 reaches all" in names
    assert "chained: 1 - 2 - 3 - 4 - 5" in names
    quorum_loss = dict(presets(cluster))["quorum loss: only 3 reaches all"]
    fresh = scenarios.quorum_loss()
    fresh.heal()
    for method, args in quorum_loss:
        getattr(fresh, method)(*args)
    assert fresh.network.cut_links == cluster.network.cut_links


def test_replay_rebuilds_an_identical_cluster():
    cluster = scenarios.chained()
    w = lab(cluster)
    status = w.press("replay")
    assert w.cluster is not cluster and w.cluster.trace == cluster.trace
    assert "Cluster.replay(cluster.trace)" in status
    w2 = lab(cluster.trace)  # a trace (e.g. the grader's schedule) is replayed
    assert w2.cluster.trace == cluster.trace


# Bad input, one row per input: tests/widgets/test_bad_input.py.


def test_a_refused_proposal_is_reported_not_raised():
    cluster = scenarios.replace_crashed_node()
    cluster.reconfigure([1, 2, 4])  # leader 2 holds the StopSign: configuration 1 takes no more entries
    w = lab(cluster)
    before = len(cluster.trace)
    status = w.press("put", key="z", value="1")
    assert status.startswith("⚠ refused by the replica: ProposeErr.PendingReconfigEntry"), status
    assert status.endswith("cluster.put('z', 1)")  # the trace records the refused call, as when typed
    assert [type(item).__name__ for item in cluster.trace[before:]] == ["Put", "Refused"]


def test_the_widget_follows_calls_typed_elsewhere():
    cluster = scenarios.replace_crashed_node()
    w = lab(cluster)
    assert "crashed [3]" in w.title.value and w._seen == (id(cluster), cluster.version)
    cluster.recover(3)  # typed in another cell
    from omnilab.widgets.lab import _after_cell

    _after_cell()  # what IPython runs after that cell
    assert "crashed [" not in w.title.value and w._seen == (id(cluster), cluster.version)
    with pytest.raises(CompactionErr):
        cluster.trim(at=1)  # a refused call is recorded: the version moves, the badges and views follow
    _after_cell()
    assert w._seen == (id(cluster), cluster.version)
    cluster.crash(1)
    w.refresh()
    assert "crashed [1]" in w.title.value
    cluster.undo()  # replaces the trace in place: still noticed
    w.refresh()
    assert "crashed [" not in w.title.value


def test_only_the_visible_tab_is_redrawn():
    cluster = scenarios.replace_crashed_node()
    w = lab(cluster)
    assert w.tabs.selected_index == 0 and w.views["diagram"].value
    assert w._stale == {key for key, _ in TABS} - {"diagram"}
    assert w.views["logs"].value == ""
    w.tabs.selected_index = 1
    assert "logs" not in w._stale and P.DECIDED in w.views["logs"].value
    w.press("tick")
    assert "logs" not in w._stale and "diagram" in w._stale


def test_headless_views_show_what_a_learner_sees():
    cluster = scenarios.replace_crashed_node()
    cluster.reconfigure([1, 2, 4])
    cluster.run(ticks=3)
    w = omnilab.lab(cluster)
    for key, _ in TABS:
        w.draw(key)
        assert w.views[key].value, key
    assert "✗ crashed" in w.views["diagram"].value and "<svg" in w.views["diagram"].value
    assert f'class="{P.STOPSIGN}"' in w.views["logs"].value
    assert "configuration 2" in w.views["diagram"].value
    kv = w.views["kv"].value
    assert "node 4" in kv and kv.count("<td>1</td>") == 3 and kv.count("<td>2</td>") == 3
    text = repr(w)
    assert text.startswith("omnilab lab · nodes [1, 2, 3, 4] · configuration 2")
    assert "✓ UniformAgreement" in text and "0x" not in text


def test_badges_show_a_violation_message():
    from omnilab.sim.ledger import Verdict
    from omnilab.widgets.lab import _badge

    html = _badge(Verdict(False, "UniformAgreement", "nodes 2 and 3 decided different entries at idx 4"))
    assert "✗ UniformAgreement: nodes 2 and 3 decided different entries at idx 4" in html
    assert "✓ Validity" in _badge(Verdict(True, "Validity"))


def test_text_is_escaped_once_in_html_and_read_back_plain(monkeypatch):
    from omnilab.sim.ledger import Verdict

    message = "node 2 decided KeyValue(key='b', value=\"<x> & y\") which nobody proposed"
    cluster = Cluster([1, 2, 3])
    monkeypatch.setattr(cluster, "check", lambda: [Verdict(True, "UniformAgreement"),
                                                     Verdict(False, "Validity", message)])
    w = lab(cluster)
    badges = w.badges.value
    assert "KeyValue(key=&#x27;b&#x27;, value=&quot;&lt;x&gt; &amp; y&quot;)" in badges  # escaped once...
    assert "&amp;#x27;" not in badges and "&amp;lt;" not in badges  # ...not twice
    checks = w.summary().splitlines()[-1]
    assert checks == f"checks: ✓ UniformAgreement ✗ Validity: {message}"
    assert "&#" not in repr(w) and "&quot;" not in repr(w)
    # The status line too: a key with HTML in it is shown as typed.
    monkeypatch.undo()
    cluster.run(ticks=3)
    status = w.press("put", key="<b>&amp;", value="'it''s'")
    assert status == "✓ cluster.put('<b>&amp;', 'its')"
    assert "&lt;b&gt;&amp;amp;" in w.status.value


def test_press_rejects_names_that_are_not_controls():
    w = lab(Cluster([1, 2, 3]))
    with pytest.raises(ValueError, match="no button"):
        w.press("explode")
    with pytest.raises(ValueError, match="no input"):
        w.press("step", colour="red")


def test_parsers():
    assert parse_nodes("1, 2, 4") == parse_nodes("[1,2,4]") == parse_nodes("1 2 4") == [1, 2, 4]
    assert parse_value("3") == 3 and parse_value("'x'") == "x" and parse_value("hello") == "hello"
    assert parse_index(" ") is None and parse_index(" 4 ") == 4


def test_nothing_imports_widgets():
    import subprocess
    import sys

    code = ("import omnilab, omnilab.sim, omnilab.view, omnilab.view.tables, omnilab.view.diagrams, sys; "
            "assert not any(m.startswith('omnilab.widgets') or m == 'ipywidgets' for m in sys.modules), "
            "sorted(m for m in sys.modules if 'widget' in m)")
    subprocess.run([sys.executable, "-c", code], check=True)


# --- the reconfiguration strip ---------------------------------------------------------------------

def test_the_strip_above_the_tabs_follows_every_action():
    w = lab(scenarios.replace_crashed_node())
    assert w.children.index(w.strip) == w.children.index(w.tabs) - 1  # right above the tabs
    assert w.strip_text == "c1 [1, 2, 3]: ○ no reconfiguration proposed"
    w.press("reconfigure", nodes="1, 2, 4")
    assert w.strip_text.startswith("c1 [1, 2, 3] → c2 [1, 2, 4]: ✓ StopSign proposed → … accepted by 1 of 3 → "
                                   "○ decided (seals configuration 1)")
    w.press("run", ticks=3)
    assert w.strip_text == ("c1 [1, 2, 3] → c2 [1, 2, 4]: ✓ StopSign proposed → ✓ accepted by 2 of 3 → ✓ decided: "
                            "configuration 1 sealed → ✓ instances of c2 started → ✓ node 4 told → ✓ node 4 state "
                            "received → ✓ node 4 running")
    w.press("undo")
    assert "✓ node 4 running" not in w.strip_text
    w.cluster.run(ticks=3)  # typed in a cell: the strip follows on the next refresh
    w.refresh()
    assert "✓ node 4 running" in w.strip_text


# --- view controls: the Events heartbeat filter and the Space-time window ----------------------------

def test_events_hide_heartbeats_by_default_and_the_box_says_its_call():
    w = lab(scenarios.replace_crashed_node())
    w.tabs.selected_index = [k for k, _ in TABS].index("events")
    assert w.controls.hide_heartbeats.value is True
    assert "Heartbeat" not in w.views["events"].value
    before = list(w.cluster.trace)
    w.controls.hide_heartbeats.value = False
    assert w.status_text == "✓ view.events(cluster, last=40)"
    assert "Heartbeat" in w.views["events"].value
    w.controls.hide_heartbeats.value = True
    assert w.status_text == "✓ view.events(cluster, last=40, heartbeats=False)"
    assert list(w.cluster.trace) == before  # a view control never changes the cluster


def test_the_spacetime_window_holds_a_moment_while_the_trace_grows():
    w = lab(scenarios.replace_crashed_node())
    c = w.controls
    w.tabs.selected_index = [k for k, _ in TABS].index("spacetime")
    w.press("reconfigure", nodes="1, 2, 4")
    w.press("run", ticks=1)
    assert c.follow.value and c.window.value == c.window.max == len(w.cluster.trace)
    decided = next(pos for pos, item in enumerate(w.cluster.trace)
                   if type(item).__name__ == "EntryDecided" and item.config_id == 1 and item.idx == 2)
    c.window.value = decided + 1
    assert not c.follow.value
    assert w.status_text == f"✓ view.spacetime(cluster, last=60, upto={decided + 1})"
    for k in range(4):
        w.press("put", key=f"k{k}", value=str(k))
        w.press("run", ticks=1)
    assert c.window.value == decided + 1 and c.window.max == len(w.cluster.trace)  # held, not scrolled
    assert "StopSign→c2" in w.views["spacetime"].value
    c.follow.value = True
    assert c.window.value == len(w.cluster.trace)
    assert w.status_text == "✓ view.spacetime(cluster, last=60)"
    assert "StopSign→c2" not in w.views["spacetime"].value


def test_the_storage_tab_shows_every_configuration_and_the_memory():
    cluster = scenarios.replace_crashed_node()
    cluster.reconfigure([1, 2, 4])
    cluster.run(ticks=3)
    w = lab(cluster)
    w.draw("storage")
    shown = w.views["storage"].value
    assert "<b>configuration 1 [1, 2, 3]</b>" in shown and "<b>configuration 2 [1, 2, 4]</b>" in shown
    assert shown.count("<table class=\"omnilab-table omnilab-storage\">") == 2  # one table per configuration
    assert shown.count("StopSign→c2 [1, 2, 4]") >= 2 and "from c1: a=1, b=2" in shown
    assert "BLE ballot" in shown and "view.storage(cluster)" in shown and "view.state_split(cluster)" in shown
