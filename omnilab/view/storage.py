"""What every node keeps in storage, for every configuration it has seen.

In OmniPaxos each configuration runs its own Sequence Paxos instance with its own storage: its own
promise, accepted round, log, decided index and (once decided) the StopSign that sealed it. A node
that takes part in several configurations keeps one storage per configuration; a node new in a
configuration gets it from ``StartInstance`` and the state decided before the StopSign from a state
transfer. `storage(cluster)` shows all of them side by side, one group of rows per configuration, so
the sealed configuration and the new one can be compared (`omnilab.view.state_split` shows only the
newest one, next to what a crash loses).

Pure: it reads ``server.durable`` (what survives a crash) through the replica's own log reader,
which only reads. Deterministic: configurations and nodes in id order, no object ids.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from omnilab.replica.stored import stored_state

from .reconfiguration import config_members
from .tables import NONE, entry_text, node_label
from .text import kv_text

__all__ = ["storage", "FIELDS"]

#: The rows of each configuration's group.
FIELDS = ["members", "promise", "accepted round", "decided_idx", "compacted_idx", "log entries", "StopSign",
          "snapshot", "state handed over"]
NOT_MEMBER = ""  # a node outside the configuration: blank, so the members stand out
NO_STORAGE = "— (no storage yet)"  # a member that has not been told the configuration yet






def _column(server: Any, config_id: int, members: tuple) -> list:
    durable = server.durable
    stored = durable.storages.get(config_id)
    if stored is None:
        if server.pid in members:
            return ["member"] + [NO_STORAGE] * (len(FIELDS) - 1)
        return ["not a member"] + [NOT_MEMBER] * (len(FIELDS) - 1)
    log = stored_state(stored)
    snapshot = log.snapshot
    transferred = durable.transferred
    handed = NONE
    if transferred is not None and transferred.stopsign.next_config.configuration_id == config_id:
        handed = f"from c{transferred.from_config_id}: {kv_text(dict(transferred.state))}"
    return [
        "member" + ("" if server.up else " (crashed: storage kept)"),
        log.promise.short(),
        log.accepted_round.short(),
        log.decided_idx,
        log.compacted_idx,
        log.log_len,
        entry_text(log.stopsign) if log.stopsign is not None else NONE,
        kv_text(getattr(snapshot, "snapshotted", None)) if snapshot is not None else NONE,
        handed,
    ]


def storage(cluster: Any) -> pd.DataFrame:
    """Every node's storage in every configuration: rows ``(configuration, field)`` grouped by
    configuration (oldest first, labelled ``c2 [1, 2, 4]``), one column per node. A node outside a
    configuration is blank there; a member not yet told the configuration says so. The StopSign row
    shows which storages hold the StopSign that sealed the configuration."""
    config_ids = sorted({c for s in cluster.servers.values() for c in (*s.durable.configs, *s.durable.storages)})
    tuples, columns = [], {node_label(pid): [] for pid in sorted(cluster.servers)}
    for config_id in config_ids:
        members = config_members(cluster, config_id)
        label = f"c{config_id} [{', '.join(map(str, members))}]"
        tuples.extend((label, f) for f in FIELDS)
        for pid in sorted(cluster.servers):
            columns[node_label(pid)].extend(_column(cluster.servers[pid], config_id, members))
    index = pd.MultiIndex.from_tuples(tuples, names=["configuration", "field"]) if tuples else \
        pd.MultiIndex.from_tuples([], names=["configuration", "field"])
    return pd.DataFrame(columns, index=index, dtype=object)
