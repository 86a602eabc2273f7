"""The reconfiguration service: the seed documentation's loop, running inside every server.

After every event that may have decided something, a server reads its instance's decided suffix
from where it stopped and applies it:

* ``LogEntry.Decided(entry)``: feed the key-value state machine (``KVStore.apply``);
* ``LogEntry.Snapshotted`` / ``Trimmed``: a compacted prefix past what I applied (a lagging node
  synced with a snapshot): a snapshot's writes go on top of my state; a trimmed prefix brings none.
  My own trims never lose a write: before I let my log be compacted (a ``trim`` or ``snapshot``
  call, a peer's ``Trim`` / ``Snapshot`` message, or an ``AcceptSync``, which may replace my decided
  prefix with the leader's snapshot) I save my key-value state in my durable part
  (`SavedState`), as a real application persists its state machine first; after a crash I start
  from that saved state and re-apply only the log after it;
* ``LogEntry.StopSign(ss, True)``: configuration k is over. If my pid is in ``ss.next_config`` I start
  my next instance with ``ss.next_config.build_for_server(server_config, storage)``, on top of the
  state I have now; if not, I retire. Servers that are new in the next configuration never saw the
  StopSign: every old member that decides it sends each of them a `StartInstance` and a
  `StateTransfer` (the state after the StopSign), and resends both every
  ``resend_message_tick_timeout`` ticks until a `TransferAck` arrives.

A new server starts its instance only once it has both messages; it then holds everything decided
before the StopSign and applies the new configuration's entries on top. The service's messages are
frozen dataclasses travelling through the same network as the replicas' (with ids, visible in
``pending()``, droppable); they go to the server, not to an instance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omnilab.kv import KVSnapshot, KVStore
from omnilab.replica.config import ClusterConfig
from omnilab.replica.entries import LogEntry, StopSign
from omnilab.replica.storage import MemoryStorage

from .instances import start_instance
from .ledger import InstanceStart
from .network import Envelope
from .server import SavedState, Server, ServerStatus, TransferredState
from .trace import Decided, InstanceStarted, Recovered, Responded, Retired, ServerCreated, SnapshotInstalled, \
    StateInstalled

_DECIDED, _STOPSIGN = LogEntry.Decided, LogEntry.StopSign
_SNAPSHOTTED, _TRIMMED = LogEntry.Snapshotted, LogEntry.Trimmed


@dataclass(frozen=True, slots=True)
class StartInstance:
    """Old member -> new server: configuration ``config`` has started and includes you; the state
    to start from follows in a `StateTransfer`."""

    config: ClusterConfig


@dataclass(frozen=True, slots=True)
class StateTransfer:
    """Old member -> new server: the key-value ``state`` (key, value pairs) after all ``decided_idx``
    slots of configuration ``from_config_id``, the last of which is ``stopsign``."""

    from_config_id: int
    stopsign: StopSign
    decided_idx: int
    state: tuple

    @property
    def config_id(self) -> int:
        return self.stopsign.next_config.configuration_id


@dataclass(frozen=True, slots=True)
class TransferAck:
    """New server -> old member: I started configuration ``config_id``; stop resending the state."""

    config_id: int


SERVICE_MESSAGE_TYPES = (StartInstance, StateTransfer, TransferAck)


def kv_store_from(state: dict) -> KVStore:
    """A fresh `KVStore` holding `state`."""
    store = KVStore()
    if state:
        store.apply_snapshot(KVSnapshot(dict(state)))
    return store


class ReconfigurationService:
    """Mixed into `Cluster`: what each server does with decided entries and service messages.

    Relies on the cluster's ``servers``, ``trace``, ``ledger``, ``variant``, ``_send`` and
    ``_after_replica_call``.
    """

    # --- applying decided entries --------------------------------------------------------------------

    def _apply_decided(self, server: Server, config_id: int, omni: Any, replaying: bool = False) -> None:
        """Apply every slot of `config_id` decided at `server` since the last call. While `replaying`
        (recovery) the slots were applied before the crash: no Decided events, no client responses."""
        start = server.applied[config_id]
        suffix = omni.read_decided_suffix(start)
        if not suffix:
            return
        pid, trace, ledger = server.pid, self.trace, self.ledger
        idx = start
        for slot in suffix:
            kind = type(slot)
            if kind is _DECIDED:
                value = slot.entry
                if not replaying:
                    trace.append(Decided(pid, config_id, idx, value))
                op = ledger.on_decided(pid, config_id, idx, value, len(trace) - 1)
                if op is not None:
                    trace.append(Responded(op.op_id, config_id, idx))
                server.kvstore.apply(value)
                idx += 1
            elif kind is _STOPSIGN:
                ss = slot.stopsign
                if not replaying:
                    trace.append(Decided(pid, config_id, idx, ss))
                ledger.on_decided(pid, config_id, idx, ss, len(trace) - 1)
                idx += 1
                server.applied[config_id] = idx
                self._on_stopsign_decided(server, config_id, ss, idx, replaying)
            elif kind is _SNAPSHOTTED or kind is _TRIMMED:
                # A compacted prefix reaching past what I applied. A snapshot's writes go on top of my
                # state (later writes win, so what I applied before is overwritten by the same or
                # newer values); one taken after a trim starts at the trim point, which is why I merge
                # rather than replace. A trimmed prefix brings nothing: the writes in it that I had
                # not applied are lost to me.
                trimmed = kind is _TRIMMED
                upto = slot.trimmed_idx if trimmed else slot.snapshotted_entry.trimmed_idx
                if upto > idx:
                    ledger.on_compacted(pid, config_id, upto)
                    snapshot = None if trimmed else slot.snapshotted_entry.snapshot
                    if isinstance(snapshot, KVSnapshot):
                        server.kvstore.apply_snapshot(snapshot)
                    if not replaying:
                        trace.append(SnapshotInstalled(pid, config_id, upto, trimmed))
                    idx = upto
        server.applied[config_id] = idx

    def _on_stopsign_decided(self, server: Server, config_id: int, ss: StopSign, decided_idx: int,
                             replaying: bool) -> None:
        """The seed loop's ``case LogEntry.StopSign(stopsign, True)``."""
        next_config = ss.next_config
        next_id = next_config.configuration_id
        pid = server.pid
        state = dict(server.kvstore.data)
        if pid in next_config.nodes:
            if next_id in server.instances:  # rebuilt by recovery: it starts from this state again
                server.start_state.setdefault(next_id, state)
            else:
                storage = MemoryStorage()
                server.durable.configs[next_id] = next_config
                server.durable.storages[next_id] = storage
                omni = start_instance(self.variant, next_config, server.server_config, storage)
                self._install_instance(server, next_id, omni, state, config_id, ss)
        elif server.status is not ServerStatus.RETIRED:
            server.status = ServerStatus.RETIRED
            if not replaying:
                self.trace.append(Retired(pid, config_id))
        old_nodes = server.durable.configs[config_id].nodes
        newcomers = [p for p in next_config.nodes if p not in old_nodes]
        if newcomers:
            start = StartInstance(next_config)
            transfer = StateTransfer(config_id, ss, decided_idx, tuple(state.items()))
            for new_pid in newcomers:
                self._ensure_server(new_pid, next_id)
                server.unacked[new_pid] = (start, transfer)
                if not replaying:
                    self._send(pid, new_pid, config_id, start)
                    self._send(pid, new_pid, config_id, transfer)

    def _install_instance(self, server: Server, config_id: int, omni: Any, state: dict,
                          prev_config_id: Any, stopsign: Any) -> None:
        server.instances[config_id] = omni
        server.applied[config_id] = 0
        server.start_state[config_id] = state
        server.status = ServerStatus.ACTIVE
        self.trace.append(InstanceStarted(server.pid, config_id, tuple(omni.config.cluster_config.nodes)))
        self.ledger.on_instance_started(InstanceStart(server.pid, config_id, prev_config_id, stopsign, dict(state),
                                                      len(self.trace) - 1))
        self._after_replica_call(server, config_id, omni)

    def _ensure_server(self, pid: int, config_id: int) -> Server:
        server = self.servers.get(pid)
        if server is None:
            server = Server(pid, self._server_config(pid))
            self.servers[pid] = server
            self.trace.append(ServerCreated(pid, config_id))
        return server

    # --- service messages ----------------------------------------------------------------------------

    def _handle_service(self, server: Server, env: Envelope) -> None:
        msg = env.message
        kind = type(msg)
        if kind is TransferAck:
            server.unacked.pop(env.sender, None)
            return
        if kind is StartInstance:
            config_id = msg.config.configuration_id
            if config_id in server.instances:
                return
            server.told[config_id] = msg.config
        else:  # StateTransfer
            config_id = msg.config_id
            if config_id in server.instances:
                self._send(server.pid, env.sender, config_id, TransferAck(config_id))  # already running
                return
            server.transfers[config_id] = (env.sender, msg)
        if config_id in server.told and config_id in server.transfers:
            self._join(server, config_id)

    def _join(self, server: Server, config_id: int) -> None:
        """Start a new server's instance on the transferred state (both service messages arrived)."""
        sender, transfer = server.transfers.pop(config_id)
        config = server.told.pop(config_id)
        state = dict(transfer.state)
        server.durable.transferred = TransferredState(transfer.from_config_id, transfer.stopsign, transfer.state)
        server.durable.configs[config_id] = config
        storage = server.durable.storages[config_id] = MemoryStorage()
        server.kvstore = kv_store_from(state)
        self.trace.append(StateInstalled(server.pid, transfer.from_config_id, sender, len(state)))
        self._send(server.pid, sender, config_id, TransferAck(config_id))
        omni = start_instance(self.variant, config, server.server_config, storage)
        server.status = ServerStatus.ACTIVE
        self._install_instance(server, config_id, omni, state, transfer.from_config_id, transfer.stopsign)

    def _service_tick(self, server: Server) -> None:
        """Resend unacknowledged state transfers every ``resend_message_tick_timeout`` ticks."""
        if not server.unacked:
            server.service_clock = 0
            return
        server.service_clock += 1
        if server.service_clock >= server.server_config.resend_message_tick_timeout:
            server.service_clock = 0
            for new_pid, (start, transfer) in list(server.unacked.items()):
                self._send(server.pid, new_pid, transfer.from_config_id, start)
                self._send(server.pid, new_pid, transfer.from_config_id, transfer)

    # --- saving the state before compaction ----------------------------------------------------------

    def _save_state(self, server: Server, config_id: int) -> None:
        """Persist `server`'s key-value state before its log of `config_id` is compacted. The state
        covers every slot applied so far, which is at or past any index the compaction can reach (a
        replica compacts only decided slots, and I apply what is decided after every replica call).
        A decided StopSign slot is left out of the saved count (it writes no key), so a recovery still
        replays it and starts the next configuration as before."""
        omni = server.instances.get(config_id)
        if omni is None:
            return
        applied = server.applied[config_id]
        if applied and omni.is_reconfigured() is not None and applied == omni.get_decided_idx():
            applied -= 1
        later = [c for c in server.instances if c > config_id]
        if later:
            # An old instance (it keeps answering peers that lag behind): my key-value state has moved
            # on to later configurations. Its state is the one my next configuration started from.
            state = server.start_state.get(min(later))
            if state is None:
                return
        else:
            state = server.kvstore.data
        server.durable.saved[config_id] = SavedState(config_id, applied, tuple(state.items()))

    # --- recovery ------------------------------------------------------------------------------------

    def _rebuild(self, server: Server) -> None:
        """Rebuild a crashed server from `Durable`: every instance from its storage (they start in
        Recover), then the key-value state by re-applying the decided logs, oldest configuration first;
        a configuration whose log was compacted starts from the state saved before the compaction and
        re-applies only the slots after it."""
        durable = server.durable
        config_ids = sorted(durable.storages)
        for config_id in config_ids:
            server.instances[config_id] = start_instance(self.variant, durable.configs[config_id],
                                                         server.server_config, durable.storages[config_id])
            server.applied[config_id] = 0
        self.trace.append(Recovered(server.pid, tuple(config_ids)))
        transferred = durable.transferred
        for config_id in config_ids:
            if transferred is not None and transferred.config_id == config_id:
                state = dict(transferred.state)
                server.kvstore = kv_store_from(state)
                server.start_state[config_id] = state
            else:
                server.start_state.setdefault(config_id, dict(server.kvstore.data))
            saved = durable.saved.get(config_id)
            if saved is not None:
                server.kvstore = kv_store_from(dict(saved.state))
                server.applied[config_id] = saved.applied_idx
            self._apply_decided(server, config_id, server.instances[config_id], replaying=True)
        if not config_ids:
            server.status = ServerStatus.JOINING
        else:
            sealed = server.instances[config_ids[-1]].is_reconfigured()
            out = sealed is not None and server.pid not in sealed.next_config.nodes
            server.status = ServerStatus.RETIRED if out else ServerStatus.ACTIVE
        for config_id in config_ids:
            self._after_replica_call(server, config_id, server.instances[config_id])
