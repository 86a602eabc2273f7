"""The lab refuses bad input with a message and changes nothing (issue 12: "the lab takes the same care").

One row per bad input: the control pressed, what was typed or chosen, and a phrase the status line
must contain. Every row checks that the press did not raise (unless ``strict=True``), that the
message is shown, and that the cluster's trace, fingerprint and version are exactly as before.
"""

import pytest

from omnilab.sim import Cluster, scenarios
from omnilab.sim.errors import BadInput
from omnilab.widgets import lab
from omnilab.widgets.lab import MAX_TICKS, InputError, parse_index, parse_nodes, parse_priority, parse_ticks


def crashed_node_3() -> Cluster:
    """Nodes 1, 2, 3 with 3 crashed and nothing in flight."""
    return scenarios.replace_crashed_node()


def in_flight() -> Cluster:
    """The same after one tick: heartbeats in flight."""
    cluster = scenarios.replace_crashed_node()
    cluster.tick()
    return cluster


TICKS = "a whole number from 1 to"
ROWS = [
    # --- the ticks box: refused, never clamped ------------------------------------------------------
    ("run", {"ticks": 0}, "0 ticks would do nothing"),
    ("run", {"ticks": "0"}, "0 ticks would do nothing"),
    ("run", {"ticks": "000"}, "0 ticks would do nothing"),
    ("run", {"ticks": -1}, "'-1' ticks: time only goes forward"),
    ("run", {"ticks": "- 3"}, "time only goes forward"),
    ("run", {"ticks": 2.5}, f"'2.5' is not a number of ticks: type {TICKS} {MAX_TICKS}"),
    ("run", {"ticks": "0.5"}, "'0.5' is not a number of ticks"),
    ("run", {"ticks": 10 ** 6}, f"1000000 ticks is more than one click runs (at most {MAX_TICKS})"),
    ("run", {"ticks": MAX_TICKS + 1}, f"{MAX_TICKS + 1} ticks is more than one click runs"),
    ("run", {"ticks": "9" * 5000}, "ticks is more than one click runs"),  # int() of it would raise
    ("run", {"ticks": "1e3"}, "'1e3' is not a number of ticks"),
    ("run", {"ticks": "²"}, "'²' is not a number of ticks"),  # '²'.isdigit() is True; int('²') raises
    ("run", {"ticks": "٣"}, "'٣' is not a number of ticks"),  # an Arabic-Indic 3: ASCII digits only
    ("run", {"ticks": "1_000"}, "'1_000' is not a number of ticks"),
    ("run", {"ticks": "0x10"}, "'0x10' is not a number of ticks"),
    ("run", {"ticks": "3 ticks"}, "'3 ticks' is not a number of ticks"),
    ("run", {"ticks": "abc"}, "'abc' is not a number of ticks"),
    ("run", {"ticks": "many"}, "'many' is not a number of ticks"),
    ("run", {"ticks": True}, "'True' is not a number of ticks"),
    ("run", {"ticks": ""}, "Run needs a number of ticks"),
    ("run", {"ticks": "   "}, "Run needs a number of ticks"),
    ("run", {"ticks": None}, "Run needs a number of ticks"),
    # --- the priority box ----------------------------------------------------------------------------
    ("set_priority", {"node": 1, "priority": "high"}, "'high' is not a priority"),
    ("set_priority", {"node": 1, "priority": "²"}, "'²' is not a priority"),
    ("set_priority", {"node": 1, "priority": -1}, "'-1' is not a priority: type a whole number from 0 up"),
    ("set_priority", {"node": 1, "priority": 2.5}, "'2.5' is not a priority"),
    ("set_priority", {"node": 1, "priority": 10 ** 12}, "is not a priority"),
    ("set_priority", {"node": 1, "priority": ""}, "Set priority needs a priority"),
    ("set_priority", {"node": 3, "priority": 2}, "node 3 is crashed"),
    # --- the log index box ---------------------------------------------------------------------------
    ("trim", {"idx": "two"}, "'two' is not a log index"),
    ("trim", {"idx": "²"}, "'²' is not a log index"),
    ("trim", {"idx": "1e3"}, "'1e3' is not a log index"),
    ("trim", {"idx": "1.5"}, "'1.5' is not a log index"),
    ("snapshot", {"idx": "-1"}, "'-1' is not a log index"),
    ("snapshot", {"idx": "9" * 5000}, "is not a log index"),
    ("snapshot", {"idx": "1", "compact_at": 3}, "node 3 is crashed"),
    ("trim", {"idx": "1", "compact_at": 7}, "there is no node 7"),
    # --- the nodes box -------------------------------------------------------------------------------
    ("reconfigure", {"nodes": "1, two, 4"}, "is not a list of nodes"),
    ("reconfigure", {"nodes": "1, ², 4"}, "is not a list of nodes"),
    ("reconfigure", {"nodes": "1, 2.5, 4"}, "is not a list of nodes"),
    ("reconfigure", {"nodes": "0, 1, 2"}, "is not a list of nodes"),
    ("reconfigure", {"nodes": "1, -2, 4"}, "is not a list of nodes"),
    ("reconfigure", {"nodes": "1, 2, " + "9" * 5000}, "is not a list of nodes"),
    ("reconfigure", {"nodes": ""}, "reconfigure needs the nodes"),
    ("reconfigure", {"nodes": "[]"}, "reconfigure needs the nodes"),
    ("reconfigure", {"nodes": "1, 1"}, "each pid once"),
    ("reconfigure", {"nodes": "1"}, "at least two nodes"),
    # --- put ---------------------------------------------------------------------------------------------
    ("put", {"key": "", "value": "1"}, "put needs a key"),
    ("put", {"key": "   ", "value": "1"}, "put needs a key"),
    ("put", {"key": "a", "value": ""}, "put needs a value"),
    ("put", {"key": "a", "value": "1", "at": 3}, "node 3 is crashed"),
    ("put", {"key": "a", "value": "1", "at": "leader?"}, "there is no node 'leader?'"),
    # --- nodes and links -----------------------------------------------------------------------------
    ("crash", {"node": 9}, "there is no node 9; the nodes are [1, 2, 3]"),
    ("crash", {"node": "1"}, "there is no node '1'"),
    ("crash", {"node": 3}, "node 3 is already crashed"),
    ("recover", {"node": 1}, "node 1 is running"),
    ("try_become_leader", {"node": 3}, "node 3 is crashed"),
    ("cut", {"link_a": 1, "link_b": 1}, "a node always reaches itself"),
    ("cut", {"link_a": 1, "link_b": 2, "one_way": "yes"}, "one_way: 'yes' is not True or False"),
    ("cut", {"link_a": 1, "link_b": 2, "one_way": 1}, "one_way: 1 is not True or False"),
    # --- messages: nothing in flight, or an id that is not in flight ---------------------------------
    ("step", {}, "no message is in flight"),
    ("drop", {}, "no message is in flight, so there is none to drop"),
    ("duplicate", {}, "no message is in flight, so there is none to duplicate"),
    ("drop", {"msg_id": 9999}, "msg_id: message 9999 is not in flight"),
    ("step", {"msg_id": "abc"}, "msg_id: message 'abc' is not in flight"),
    ("step", {"msg_id": 2.5}, "msg_id: message 2.5 is not in flight"),
    ("step", {"msg_id": True}, "msg_id: message True is not in flight"),
    ("duplicate", {"msg_id": [1]}, "msg_id: message [1] is not in flight"),
]
IN_FLIGHT_ROWS = [
    ("step", {"msg_id": 9999}, "msg_id: message 9999 is not in flight (delivered, dropped or never sent); the "
                               "messages in flight are ["),
    ("duplicate", {"msg_id": -1}, "msg_id: message -1 is not in flight"),
    ("run", {"ticks": "²"}, "'²' is not a number of ticks"),
]


def _unchanged(cluster: Cluster):
    return list(cluster.trace), cluster.fingerprint(), cluster.version


@pytest.mark.parametrize("make, name, inputs, says",
                         [(crashed_node_3, *row) for row in ROWS] + [(in_flight, *row) for row in IN_FLIGHT_ROWS],
                         ids=[f"{row[0]}-{k}" for k, row in enumerate(ROWS + IN_FLIGHT_ROWS)])
def test_a_bad_input_is_a_message_and_changes_nothing(make, name, inputs, says):
    cluster = make()
    w = lab(cluster)
    before = _unchanged(cluster)
    status = w.press(name, **inputs)  # never raises
    assert status.startswith("⚠") and says in status, status
    assert w.last_error and says in w.last_error
    assert _unchanged(cluster) == before
    # The same press with strict=True raises it as BadInput, and still changes nothing.
    with pytest.raises(BadInput) as raised:
        w.press(name, strict=True, **inputs)
    assert says in str(raised.value)
    assert _unchanged(cluster) == before


def test_undo_with_nothing_to_undo():
    cluster = Cluster([1, 2, 3])
    w = lab(cluster)
    before = _unchanged(cluster)
    assert w.press("undo").startswith("⚠ nothing to undo")
    assert _unchanged(cluster) == before


def test_strict_press_of_a_good_input_raises_nothing():
    cluster = Cluster([1, 2, 3])
    w = lab(cluster)
    assert w.press("run", strict=True, ticks=MAX_TICKS // 100) == f"✓ cluster.run(ticks={MAX_TICKS // 100})"
    assert w.press("run", strict=True, ticks=" 2 ") == "✓ cluster.run(ticks=2)"


def test_a_refused_proposal_under_strict_is_the_replicas_own_error():
    from omnilab.replica.errors import ProposeErr

    cluster = scenarios.replace_crashed_node()
    cluster.reconfigure([1, 2, 4])
    w = lab(cluster)
    with pytest.raises(ProposeErr):  # as a typed cluster.put would raise; the trace records it, as typed
        w.press("put", strict=True, key="z", value="1")


# --- a message id that is in flight now, whatever the last redraw showed ------------------------------

def test_step_takes_an_id_sent_by_a_call_in_the_same_cell():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    w = lab(cluster)
    assert list(w.controls.msg_id.options) == [("oldest", "oldest")]  # nothing was in flight when drawn
    cluster.tick()  # typed in the cell that also presses: no post-cell redraw in between
    msg_id = list(cluster.network.in_flight)[2]
    twin = Cluster([1, 2, 3])
    twin.run(ticks=3), twin.tick()
    assert w.press("step", msg_id=msg_id) == f"✓ cluster.step({msg_id})"
    twin.step(msg_id)
    assert cluster.trace == twin.trace


def test_step_takes_an_id_the_dropdown_does_not_list():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.tick(60)  # hundreds of heartbeats in flight: the dropdown lists the oldest ones only
    w = lab(cluster)
    listed = [v for _, v in w.controls.msg_id.options]
    newest = list(cluster.network.in_flight)[-1]
    assert newest not in listed
    assert w.press("drop", msg_id=newest) == f"✓ cluster.drop({newest})"
    assert newest not in cluster.network.in_flight


def test_a_chosen_message_delivered_elsewhere_is_not_replaced_by_another():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.tick()
    w = lab(cluster)
    chosen = list(cluster.network.in_flight)[1]
    w.controls.msg_id.value = chosen  # the learner picks it in the dropdown...
    cluster.step(chosen)  # ...and a cell delivers it before the click (no redraw in between)
    before = _unchanged(cluster)
    status = w.controls.step.click() or w.status_text
    assert status.startswith(f"⚠ message {chosen} is not in flight"), status
    assert _unchanged(cluster) == before


# --- the parsers -----------------------------------------------------------------------------------

@pytest.mark.parametrize("parse, text", [
    (parse_ticks, "²"), (parse_ticks, "0"), (parse_ticks, "-2"), (parse_ticks, "2.0"), (parse_ticks, ""),
    (parse_ticks, str(MAX_TICKS + 1)), (parse_priority, "-1"), (parse_priority, "²"), (parse_priority, "1.0"),
    (parse_index, "²"), (parse_index, "-0"), (parse_nodes, "1 ² 3"), (parse_nodes, "1, 2, 3.0"),
])
def test_parsers_raise_input_error_never_a_raw_value_error(parse, text):
    with pytest.raises(InputError):
        parse(text)
    assert issubclass(InputError, BadInput)


def test_parsers_read_what_they_should():
    assert parse_ticks(" 3 ") == 3 and parse_ticks("007") == 7 and parse_ticks(str(MAX_TICKS)) == MAX_TICKS
    assert parse_priority("0") == 0 and parse_priority(" 12 ") == 12
    assert parse_index("") is None and parse_index("0") == 0
    assert parse_nodes("(1; 2; 4)") == [1, 2, 4]
