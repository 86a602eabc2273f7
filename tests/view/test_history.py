"""The client history table (`Cluster.history()`, drawn by `omnilab.view.history`) and the other
tables a cluster's own methods return: DataFrames whose rows are plain data."""

from omnilab.sim import Cluster
from omnilab.view.history import HISTORY_COLUMNS, history_rows


def test_tables_are_dataframes_and_their_rows_are_plain_data():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.put("a", 1)
    pending = cluster.pending()
    first = pending.iloc[0]
    assert (first["from"], first["to"], first["type"]) == (3, 1, "AcceptDecide")
    assert "entries=[a=1]" in first["fields"]
    assert history_rows(cluster)[0]["status"] == "pending"
    cluster.run(ticks=1)
    logs = cluster.logs()
    assert logs.loc[0, ("config 1", "node 2")] == "a=1 ✓"
    history = cluster.history()
    assert history.loc[0, "status"] == "done" and history.loc[0, "idx"] == 0


def test_history_rows_name_each_operation_and_where_it_was_decided():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.put("a", 1)
    cluster.append(7)
    cluster.run(ticks=2)
    cluster.get("a")
    cluster.run(ticks=2)
    rows = history_rows(cluster)
    assert [row["kind"] for row in rows] == ["put", "append", "get"]
    assert all(set(row) == set(HISTORY_COLUMNS) for row in rows)
    assert [row["status"] for row in rows] == ["done"] * 3
    assert [row["idx"] for row in rows[:2]] == [0, 1] and rows[0]["config"] == 1
    assert [(row["key"], row["value"]) for row in rows[:2]] == [("a", 1), (None, 7)]
    assert rows[2]["value"] == cluster.server(cluster.leader()).kv["a"]
    frame = cluster.history()
    assert list(frame.index) == [0, 1, 2] and list(frame.columns) == HISTORY_COLUMNS[1:]
