"""`omnilab.replica.stored`: a storage read the way a replica rebuilt on it would read it, without
building one and without writing (what the views show for a crashed server)."""

import copy

import pytest

from omnilab.replica import LogEntry, StoredState, stored_entries, stored_state
from omnilab.replica.storage import MemoryStorage
from omnilab.sim import Cluster, scenarios


def _before_and_after_crash(cluster, pid, config_id):
    """(inspect(), read_entries(0)) of node `pid`'s instance of `config_id`, then its storage once crashed."""
    omni = cluster.server(pid).instances[config_id]
    state, entries = omni.inspect(), omni.read_entries(0) or []
    cluster.crash(pid)
    return state, entries, cluster.server(pid).durable.storages[config_id]


@pytest.mark.parametrize("build", ["puts", "trimmed", "stopsign"])
def test_what_storage_reads_is_what_the_replica_read_before_its_crash(build):
    if build == "stopsign":
        cluster = scenarios.replace_crashed_node()
        cluster.reconfigure([1, 2, 4])
        cluster.run(ticks=2)
        pid = 1
    else:
        cluster = Cluster([1, 2, 3])
        cluster.run(ticks=3)
        for value in range(4):
            cluster.put("k", value)
        cluster.run(ticks=2)
        if build == "trimmed":
            cluster.trim(2)
            cluster.run(ticks=2)
        pid = next(p for p in cluster.pids if p != cluster.leader())
    state, entries, storage = _before_and_after_crash(cluster, pid, 1)
    before = copy.deepcopy(storage)
    stored = stored_state(storage)
    assert isinstance(stored, StoredState)
    assert (stored.promise, stored.accepted_round, stored.decided_idx, stored.accepted_idx, stored.compacted_idx,
            stored.stopsign) == (state.promise, state.accepted_round, state.decided_idx, state.accepted_idx,
                                 state.compacted_idx, state.stopsign)
    assert stored.stopsign_decided == state.stopsign_decided
    assert stored_entries(storage) == entries
    assert stored.log_len == storage.get_log_len()
    if build == "trimmed":
        assert stored.compacted_idx == 2 and isinstance(entries[0], LogEntry.Trimmed)
    if build == "stopsign":
        assert stored.stopsign is not None and stored.stopsign_decided
    assert vars(storage) == vars(before)  # nothing was written


def test_a_fresh_storage_reads_as_empty():
    stored = stored_state(MemoryStorage())
    assert (stored.decided_idx, stored.accepted_idx, stored.compacted_idx, stored.stopsign, stored.snapshot,
            stored.log_len) == (0, 0, 0, None, None, 0)
    assert stored_entries(MemoryStorage()) == []
