"""The tables of omnilab.view on the shared scenarios: shapes, labels, statuses and styling."""

import pandas as pd
import pytest

from omnilab.replica.errors import CompactionErr
from omnilab.sim import Cluster, scenarios
from omnilab.view import palette as P
from omnilab.view import tables


@pytest.fixture
def crashed():
    """replace_crashed_node: nodes 1, 2 decided a=1, b=2; node 3 crashed."""
    return scenarios.replace_crashed_node()


@pytest.fixture
def reconfigured():
    cluster = scenarios.replace_crashed_node()
    cluster.reconfigure([1, 2, 4])
    cluster.run(ticks=3)
    return cluster


def fingerprint(cluster):
    """Everything a view could disturb: the trace, what is in flight, every replica's state, every kv."""
    return (list(cluster.trace), list(cluster.network.in_flight), sorted(cluster.network.cut_links),
            [(pid, cfg, repr(omni.inspect()), repr(omni.read_entries(0))) for pid, cfg, omni in cluster.live_replicas()],
            {pid: dict(s.kv) for pid, s in cluster.servers.items()})


ALL_TABLES = [tables.logs, tables.nodes, tables.ble, tables.messages, tables.events, tables.state_split, tables.kv]


def test_logs_rows_are_indexes_and_columns_are_configuration_and_node(crashed):
    table = tables.logs(crashed)
    assert isinstance(table, pd.DataFrame) and isinstance(table, tables.LogTable)
    assert table.index.name == "idx" and list(table.index) == [0, 1]
    assert list(table.columns) == [("config 1", "node 1"), ("config 1", "node 2"), ("config 1", "node 3")]
    assert list(table.columns.names) == ["configuration", "node"]
    assert table.loc[0, ("config 1", "node 1")] == "a=1 ✓"
    assert table.loc[1, ("config 1", "node 2")] == "b=2 ✓"
    assert (table.status == P.DECIDED).all().all()


def test_a_crashed_node_shows_the_log_its_storage_kept(crashed):
    table = tables.logs(crashed)
    assert table.crashed == [("config 1", "node 3")]
    assert list(table[("config 1", "node 3")]) == ["a=1 ✓", "b=2 ✓"]
    assert "node 3 crashed" in table.caption


def test_the_stopsign_row_and_the_configuration_grouping(reconfigured):
    table = tables.logs(reconfigured)
    assert list(dict.fromkeys(table.columns.get_level_values("configuration"))) == ["config 1", "config 2"]
    assert [n for c, n in table.columns if c == "config 2"] == ["node 1", "node 2", "node 4"]
    assert table.loc[2, ("config 1", "node 1")] == "StopSign→c2 [1, 2, 4] ✓"
    assert table.status.loc[2, ("config 1", "node 2")] == P.STOPSIGN
    # node 3 crashed before the StopSign: its slot is missing, and configuration 2 starts empty.
    assert table.loc[2, ("config 1", "node 3")] == ""
    assert table.status.loc[2, ("config 1", "node 3")] == P.MISSING
    assert (table.status[("config 2", "node 4")] == P.MISSING).all()


def test_an_undecided_entry_and_an_undecided_stopsign_have_their_own_class():
    cluster = scenarios.replace_crashed_node()
    cluster.put("c", 3)
    cluster.step()  # the AcceptDecide reaches the follower, nothing more
    table = tables.logs(cluster)
    follower = ("config 1", "node 1")
    assert table.loc[2, follower] == "c=3 …" and table.status.loc[2, follower] == P.UNDECIDED

    cluster = scenarios.replace_crashed_node()
    cluster.reconfigure([1, 2, 4])
    cluster.step()
    table = tables.logs(cluster)
    assert table.loc[2, follower] == "StopSign→c2 [1, 2, 4] …"
    assert table.status.loc[2, follower] == P.STOPSIGN_UNDECIDED


def test_a_compacted_prefix_is_one_cell_per_index():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    for i in range(3):
        cluster.put(f"k{i}", i)
    cluster.run(ticks=1)
    cluster.server(1).omnipaxos.snapshot(2, local_only=True)  # views only read: this test may call the replica
    table = tables.logs(cluster)
    column = ("config 1", "node 1")
    assert list(table[column]) == ["(snapshot)", "(snapshot)", "k2=2 ✓"]
    assert list(table.status[column]) == [P.COMPACTED, P.COMPACTED, P.DECIDED]


def test_the_styler_colours_each_status_with_the_shared_palette(reconfigured):
    styler = tables.logs(reconfigured).style
    html = styler.to_html()
    for status in (P.DECIDED, P.STOPSIGN, P.MISSING):
        assert f"td.{status}" in html and P.FILL[status] in html
    assert f'class="data row2 col0 {P.STOPSIGN}"' in html
    assert "crashed" in html  # node 3's column is greyed
    assert html == tables.logs(reconfigured).style.to_html()  # deterministic: no random ids


def test_no_status_is_shown_by_colour_alone(reconfigured):
    # Every coloured status also reads in the cell's text, and a crashed column is named in words.
    table = tables.logs(reconfigured)
    for column in table.columns:
        for text, status in zip(table[column], table.status[column]):
            if status in (P.DECIDED, P.UNDECIDED, P.STOPSIGN, P.STOPSIGN_UNDECIDED):
                assert text.endswith(P.MARK[status]), (column, text, status)
            elif status == P.COMPACTED:
                assert text in ("(trimmed)", "(snapshot)")
            else:
                assert status == P.MISSING and text == ""
    assert P.MARK[P.DECIDED] != P.MARK[P.UNDECIDED]
    assert table.crashed == [("config 1", "node 3")] and "node 3 crashed" in table.caption
    assert "font-style:italic" in table._repr_html_() and "font-style: italic" in table.style.to_html()


def test_the_notebook_html_carries_the_classes_and_a_legend(reconfigured):
    html = tables.logs(reconfigured)._repr_html_()
    assert f'<td class="{P.STOPSIGN}">StopSign→c2 [1, 2, 4] ✓</td>' in html
    assert "omnilab-legend" in html and P.FILL[P.UNDECIDED] in html
    assert "0x" not in html


def test_nodes_has_one_row_per_server(reconfigured):
    frame = tables.nodes(reconfigured)
    assert frame.index.name == "pid" and list(frame.index) == [1, 2, 3, 4]
    assert list(frame.columns) == tables.NODE_COLUMNS
    assert frame.loc[4, "configuration"] == 2 and frame.loc[4, "status"] == "up"
    assert frame.loc[3, "status"] == "crashed" and frame.loc[3, "role"] == "—"
    assert frame.loc[3, "decided_idx"] == 2  # read from the storage it kept
    leader = reconfigured.leader()
    assert frame.loc[leader, "role"] == "Leader" and frame.loc[leader, "phase"] == "Accept"
    assert set(frame.loc[[1, 2, 4], "leader"]) == {leader}


def test_nodes_keeps_its_columns_and_adds_what_ble_thinks(crashed):
    frame = tables.nodes(crashed)
    assert list(frame.columns) == ["configuration", "role", "phase", "ballot", "promise", "leader", "decided_idx",
                                   "accepted_idx", "compacted_idx", "status", "server", "ble_leader", "ble_happy"]
    for pid in (1, 2):
        state = crashed.server(pid).omnipaxos.inspect()
        assert frame.loc[pid, "ballot"] == state.ble_ballot.short()
        assert frame.loc[pid, "ble_leader"] == state.ble_leader.short() == "2.2"
        assert frame.loc[pid, "ble_happy"] is True
    assert frame.loc[3, "ble_leader"] == frame.loc[3, "ble_happy"] == "—"  # crashed: BLE was in memory


def test_ble_shows_the_election_next_to_the_role():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.crash(3)
    cluster.run(ticks=1)
    frame = tables.ble(cluster)
    assert frame.index.name == "pid" and list(frame.index) == [1, 2, 3]
    assert list(frame.columns) == tables.BLE_COLUMNS
    for pid in (1, 2):
        state = cluster.server(pid).omnipaxos.inspect()
        assert list(frame.loc[pid, ["ble_ballot", "ble_leader", "ble_happy", "role", "phase", "promise"]]) == [
            state.ble_ballot.short(), state.ble_leader.short(), state.ble_happy, state.role.value,
            state.phase.value, state.promise.short()]
    assert frame.loc[3, "status"] == "crashed" and frame.loc[3, "ble_ballot"] == "—"
    assert list(tables.nodes(cluster)["ble_leader"]) == list(frame["ble_leader"])


def test_a_joining_server_has_no_instance_yet():
    cluster = scenarios.replace_crashed_node()
    cluster.reconfigure([1, 2, 4])
    frame = tables.nodes(cluster)
    assert frame.loc[4, "server"] == "joining" and frame.loc[4, "configuration"] == "—"


def test_messages_lists_what_is_in_flight_by_id(reconfigured):
    reconfigured.put("c", 3)
    frame = tables.messages(reconfigured)
    assert frame.index.name == "id"
    assert list(frame.index) == list(reconfigured.network.in_flight)
    assert list(frame.columns) == ["from", "to", "config", "type", "fields"]
    assert set(frame["type"]) == {"AcceptDecide"} and set(frame["config"]) == {2}
    assert "entries=[c=3]" in frame["fields"].iloc[0]


def test_events_are_the_last_trace_items_with_operations_as_calls(crashed):
    frame = tables.events(crashed, last=20)
    assert len(frame) == 20 and frame.index[-1] == len(crashed.trace) - 1
    crashed.recover(3)
    frame = tables.events(crashed, last=6)
    assert "cluster.recover(3)" in list(frame["text"])
    whole = tables.events(crashed, last=None)
    assert len(whole) == len(crashed.trace) and whole.loc[0, "what"] == "ClusterCreated"
    assert any("node 3 crashed" in text for text in whole["text"])


def test_events_without_heartbeats_keep_the_protocol_and_their_trace_positions(crashed):
    from omnilab.sim import trace as T

    with_all = tables.events(crashed, last=None)
    assert any("Heartbeat" in text for text in with_all["text"])  # most of what a tick sends
    quiet = tables.events(crashed, last=None, heartbeats=False)
    assert not any("Heartbeat" in text for text in quiet["text"])
    expected = [pos for pos, item in enumerate(crashed.trace) if not tables.is_heartbeat(item)]
    assert list(quiet.index) == expected  # positions keep the gaps: trace[pos] is the row
    assert any(isinstance(crashed.trace[pos], T.EntryDecided) for pos in quiet.index)
    last = tables.events(crashed, last=5, heartbeats=False)
    assert list(last.index) == expected[-5:]
    assert last.equals(quiet.loc[expected[-5:]])
    assert tables.events(crashed, last=20).equals(tables.events(crashed, last=20, heartbeats=True))


def test_events_describe_the_leadership_and_compaction_operations():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.put("a", 1)
    cluster.deliver_all()
    follower = next(p for p in cluster.pids if p != cluster.leader())
    with pytest.raises(CompactionErr.NotCurrentLeader):
        cluster.trim(at=follower)
    cluster.snapshot()
    cluster.set_priority(follower, 4)
    cluster.try_become_leader(follower)
    texts = list(tables.events(cluster, last=None)["text"])
    refused = next(t for t in texts if t.startswith(f"node {follower} refused"))
    assert refused.startswith(f"node {follower} refused trim() in c1: CompactionErr.NotCurrentLeader")
    for call in (f"cluster.trim(at={follower})", "cluster.snapshot()", f"cluster.set_priority({follower}, 4)",
                 f"cluster.try_become_leader({follower})"):
        assert call in texts


def test_state_split_separates_what_survives_a_crash(reconfigured):
    frame = tables.state_split(reconfigured)
    assert list(frame.index.levels[0]) == sorted([tables.STORAGE, tables.MEMORY])
    assert list(frame.columns) == ["node 1", "node 2", "node 3", "node 4"]
    assert frame.loc[(tables.STORAGE, "decided_idx"), "node 3"] == 2
    assert frame.loc[(tables.MEMORY, "instances"), "node 3"].startswith("—")
    assert frame.loc[(tables.MEMORY, "key-value state"), "node 1"] == "a=1, b=2"
    assert frame.loc[(tables.STORAGE, "state handed over"), "node 4"] == "from c1: a=1, b=2"


def test_kv_shows_each_nodes_state(reconfigured):
    frame = tables.kv(reconfigured)
    assert list(frame.index) == ["a", "b"] and frame.index.name == "key"
    assert list(frame["node 4"]) == [1, 2]
    assert list(frame["node 3"]) == ["", ""]  # crashed: its state is gone until it recovers


@pytest.mark.parametrize("view", ALL_TABLES, ids=lambda f: f.__name__)
def test_views_never_change_the_cluster(view, reconfigured):
    reconfigured.put("c", 3)
    reconfigured.step()
    before = fingerprint(reconfigured)
    view(reconfigured)
    assert fingerprint(reconfigured) == before


@pytest.mark.parametrize("view", ALL_TABLES, ids=lambda f: f.__name__)
def test_views_are_deterministic(view):
    first, second = scenarios.quorum_loss(), scenarios.quorum_loss()
    a, b = view(first), view(second)
    assert a.equals(b)
    assert tables.html_table(a) == tables.html_table(b)


def test_html_table_shows_only_the_last_rows_when_asked():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    for i in range(12):
        cluster.put(f"k{i}", i)
    cluster.run(ticks=1)
    table = tables.logs(cluster)
    html = tables.html_table(table, cell_classes=table.status, max_rows=5)
    assert "… 7 earlier rows" in html and html.count("<tr><th class=\"row_heading\">") == 5


def test_the_full_events_table_describes_only_new_items_and_matches_a_fresh_one(monkeypatch):
    from omnilab.sim import checkpoints
    from omnilab.view import tables as view_tables

    cluster = Cluster([1, 2, 3])
    checkpoints.keep(cluster)
    cluster.run(ticks=3)
    for i in range(20):
        cluster.put(f"k{i}", i)
        cluster.deliver_all()
    view_tables.events(cluster, last=None)
    described = []
    original = view_tables.describe_item
    monkeypatch.setattr(view_tables, "describe_item", lambda item: described.append(item) or original(item))
    before = len(cluster.trace)
    cluster.put("new", 1)
    cluster.deliver_all()
    table = view_tables.events(cluster, last=None)
    assert len(described) == len(cluster.trace) - before  # only the new items
    monkeypatch.undo()
    assert table.equals(view_tables.events(Cluster.replay(cluster.trace), last=None))
    cluster.undo()  # the rows of the items before the undone call still hold
    assert view_tables.events(cluster, last=None).equals(view_tables.events(Cluster.replay(cluster.trace), last=None))
