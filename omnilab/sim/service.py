"""The reconfiguration service: the seed documentation's loop, one object per server.

Every `Server` builds its service from the cluster's variant (``variant.service(server)``); the
service reads and changes that server only, and writes what it sends and what happened into the
server's `Out` (``self.server.out``), never into the cluster. It does four things:

* **The decided-suffix loop** (`ReconfigurationService.apply_decided`), run after every event that
  may have decided something. It reads the instance's decided suffix from where it stopped and
  applies it:

  * ``LogEntry.Decided(entry)``: feed the key-value state machine (`apply_entry`);
  * ``LogEntry.Snapshotted`` / ``Trimmed``: a compacted prefix past what I applied (a lagging node
    synced with a snapshot): a snapshot's writes go on top of my state; a trimmed prefix brings none
    (`apply_compacted`);
  * ``LogEntry.StopSign(ss, True)``: configuration k is over (`on_stopsign_decided`). If my pid is in
    ``ss.next_config`` I start my next instance with ``ss.next_config.build_for_server(server_config,
    storage)``, on top of the state I have now; if not, I retire. Servers that are new in the next
    configuration never saw the StopSign: every old member that decides it sends each of them a
    `StartInstance` and a `StateTransfer` (the state after the StopSign) (`tell_new_nodes`), and
    resends both every ``resend_message_tick_timeout`` ticks (`tick`) until a `TransferAck` arrives.

* **The service messages** (`handle_message`): a new server starts its instance only once it has
  both StartInstance and StateTransfer (`join`); it then holds everything decided before the StopSign
  and applies the new configuration's entries on top. The service's messages are frozen dataclasses
  travelling through the same network as the replicas' (with ids, visible in ``pending()``,
  droppable); they go to the server's service, not to an instance.

* **Saving the state before compaction** (`save_state`). My own trims never lose a write: before I
  let my log be compacted (a ``trim`` or ``snapshot`` call, a peer's ``Trim`` / ``Snapshot``
  message, or an ``AcceptSync``, which may replace my decided prefix with the leader's snapshot) I
  save my key-value state in my durable part (`SavedState`), as a real application persists its state
  machine first.

* **Recovery** (`recover`): after a crash I start from that saved state and re-apply only the log
  after it.

A variant replaces this class with a subclass (``Variant.service``); the methods above are its
surface, and `send`, ``self.server`` and the server's `install_instance` / `new_storage` what a
subclass builds on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

from omnilab.kv import KVSnapshot, KVStore
from omnilab.replica.config import ClusterConfig
from omnilab.replica.entries import LogEntry, StopSign

from .instances import start_instance
from .server import Out, SavedState, Server, ServerStatus, TransferredState
from .trace import Retired, StateInstalled

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
    """What one server does with decided entries and service messages (see the module docstring).

    ``self.server`` is the `Server` it runs in. Its own bookkeeping, volatile (a crash loses it with
    the rest of the service): ``told`` (config_id -> the ClusterConfig a StartInstance announced) and
    ``transfers`` (config_id -> (sender, StateTransfer)) on the joining side; ``unacked`` (new pid ->
    the (StartInstance, StateTransfer) it has not acknowledged) and ``resend_clock`` on the old
    member's side.
    """

    def __init__(self, server: Server) -> None:
        self.server = server
        self.told: dict[int, ClusterConfig] = {}
        self.transfers: dict[int, tuple[int, StateTransfer]] = {}
        self.unacked: dict[int, tuple[StartInstance, StateTransfer]] = {}
        self.resend_clock = 0

    @property
    def _out(self) -> Out:
        # I act only within a call into my server, which sets its `Out` for that call.
        out = self.server.out
        assert out is not None, "the service acts only within a call into its server"
        return out

    def send(self, receiver: int, config_id: int, message: Any) -> None:
        """Send `message` from my server to `receiver`, as sent by my instance of `config_id`."""
        self._out.send(receiver, config_id, message)

    # --- the decided-suffix loop (exercise 4's surface) ----------------------------------------------

    def apply_decided(self, config_id: int, omni: Any, replaying: bool = False) -> None:
        """Apply every slot of `config_id` decided at my server since ``server.applied[config_id]``
        (my instance of it is `omni`), then move ``server.applied[config_id]`` past them. While
        `replaying` (recovery) the slots were applied before the crash: they are not recorded again
        as decided and answer no client."""
        server = self.server
        idx = server.applied[config_id]
        suffix = omni.read_decided_suffix(idx)
        if not suffix:
            return
        for slot in suffix:
            kind = type(slot)
            if kind is _DECIDED:
                self.apply_entry(config_id, idx, slot.entry, replaying)
                idx += 1
            elif kind is _STOPSIGN:
                self.record_stopsign(config_id, idx, slot.stopsign, replaying)
                idx += 1
                server.applied[config_id] = idx
                self.on_stopsign_decided(config_id, slot.stopsign, idx, replaying)
            elif kind is _SNAPSHOTTED or kind is _TRIMMED:
                idx = self.apply_compacted(config_id, idx, slot, replaying)
        server.applied[config_id] = idx

    def apply_entry(self, config_id: int, idx: int, entry: Any, replaying: bool) -> None:
        """Slot `idx` of `config_id` is decided here and holds `entry`: record it (the cluster answers
        the client that proposed it) and apply it to the key-value state machine."""
        server = self.server
        self._out.decided(config_id, idx, entry, replaying)
        server.state_machine.apply(entry)

    def record_stopsign(self, config_id: int, idx: int, stopsign: StopSign, replaying: bool) -> None:
        """Slot `idx` of `config_id` is the decided `stopsign`: record it (it writes no key)."""
        self._out.stopsign_decided(config_id, idx, stopsign, replaying)

    def apply_compacted(self, config_id: int, idx: int, slot: Any, replaying: bool) -> int:
        """`slot` is a compacted prefix (``LogEntry.Snapshotted`` / ``LogEntry.Trimmed``); if it reaches
        past `idx`, take a snapshot's writes. Returns the index after what is applied now."""
        # A snapshot's writes go on top of my state (later writes win, so what I applied before is
        # overwritten by the same or newer values); one taken after a trim starts at the trim point,
        # which is why I merge rather than replace. A trimmed prefix brings nothing: the writes in it
        # that I had not applied are lost to me.
        trimmed = type(slot) is _TRIMMED
        upto = slot.trimmed_idx if trimmed else slot.snapshotted_entry.trimmed_idx
        if upto <= idx:
            return idx
        snapshot = None if trimmed else slot.snapshotted_entry.snapshot
        if isinstance(snapshot, KVSnapshot):
            self.server.state_machine.apply_snapshot(snapshot)
        self._out.compacted(config_id, upto, trimmed, replaying)
        return upto

    def on_stopsign_decided(self, config_id: int, stopsign: StopSign, decided_idx: int, replaying: bool) -> None:
        """The seed loop's ``case LogEntry.StopSign(stopsign, True)``: the `decided_idx` slots of
        `config_id` are decided, the last being `stopsign`. Start my next instance or retire; tell
        the servers new in the next configuration."""
        server = self.server
        next_config = stopsign.next_config
        next_id = next_config.configuration_id
        if server.pid in next_config.nodes:
            if next_id in server.instances:  # rebuilt by recovery: it starts from this state again
                server.start_state.setdefault(next_id, dict(server.kv))
            else:
                storage = server.new_storage(next_config)
                omni = start_instance(server.variant, next_config, server.server_config, storage)
                self.start_next_instance(config_id, stopsign, omni, storage)
        else:
            self.retire(config_id, replaying)
        old_nodes = server.durable.configs[config_id].nodes
        newcomers = [p for p in next_config.nodes if p not in old_nodes]
        if newcomers:
            self.tell_new_nodes(config_id, stopsign, decided_idx, newcomers, replaying)

    def start_next_instance(self, config_id: int, stopsign: StopSign, omnipaxos: Any, storage: Any) -> None:
        """Run `omnipaxos` (built with ``build_for_server`` over `storage`) as my instance of the
        configuration `stopsign` names, starting from my key-value state now."""
        server = self.server
        next_config = stopsign.next_config
        next_id = next_config.configuration_id
        server.durable.configs[next_id] = next_config
        server.durable.storages[next_id] = storage
        server.install_instance(next_id, omnipaxos, dict(server.kv), config_id, stopsign)

    def retire(self, config_id: int, replaying: bool) -> None:
        """My server is not in the configuration after `config_id`: it stops serving."""
        server = self.server
        if server.status is not ServerStatus.RETIRED:
            server.status = ServerStatus.RETIRED
            if not replaying:
                self._out.record(Retired(server.pid, config_id))

    def tell_new_nodes(self, config_id: int, stopsign: StopSign, decided_idx: int, new_pids: list,
                       replaying: bool) -> None:
        """Send each of `new_pids` (servers in the next configuration that were not in `config_id`) a
        StartInstance and a StateTransfer (my key-value state now, after `decided_idx` slots); `tick`
        resends them until acknowledged. While `replaying` nothing is sent (it was, before the crash)."""
        out = self._out
        start = StartInstance(stopsign.next_config)
        transfer = StateTransfer(config_id, stopsign, decided_idx, tuple(self.server.kv.items()))
        for new_pid in new_pids:
            out.needs_server(new_pid, stopsign.next_config.configuration_id)
            self.unacked[new_pid] = (start, transfer)
            if not replaying:
                self.send(new_pid, config_id, start)
                self.send(new_pid, config_id, transfer)

    # --- service messages (exercise 5's surface) -----------------------------------------------------

    def handle_message(self, env: Any) -> None:
        """My server received the service message ``env.message`` (a StartInstance, StateTransfer or
        TransferAck) from ``env.sender``. Keep what arrives; start the instance once both messages
        are there (`join`); acknowledge a StateTransfer for an instance that already runs (its
        sender resends until it gets a TransferAck); on a TransferAck, stop resending."""
        msg = env.message
        kind = type(msg)
        if kind is TransferAck:
            self.unacked.pop(env.sender, None)
            return
        running = self.server.instances
        if kind is StartInstance:
            config_id = msg.config.configuration_id
            if config_id in running:
                return
            self.told[config_id] = msg.config
        else:  # StateTransfer
            config_id = msg.config_id
            if config_id in running:
                self.send(env.sender, config_id, TransferAck(config_id))  # already running
                return
            self.transfers[config_id] = (env.sender, msg)
        if config_id in self.told and config_id in self.transfers:
            self.join(config_id)

    def join(self, config_id: int) -> None:
        """Start my instance of `config_id` on the transferred state: ``told[config_id]`` and
        ``transfers[config_id]`` are both there (this removes them). Installs the state, acknowledges
        it to its sender and starts the instance."""
        server = self.server
        sender, transfer = self.transfers.pop(config_id)
        config = self.told.pop(config_id)
        state = dict(transfer.state)
        server.durable.transferred = TransferredState(transfer.from_config_id, transfer.stopsign, transfer.state)
        storage = server.new_storage(config)
        server.state_machine = server.new_state_machine(state)
        self._out.record(StateInstalled(server.pid, transfer.from_config_id, sender, len(state)))
        self.send(sender, config_id, TransferAck(config_id))
        omni = start_instance(server.variant, config, server.server_config, storage)
        server.install_instance(config_id, omni, state, transfer.from_config_id, transfer.stopsign)

    def tick(self) -> None:
        """Resend unacknowledged state transfers every ``resend_message_tick_timeout`` ticks."""
        if not self.unacked:
            self.resend_clock = 0
            return
        self.resend_clock += 1
        if self.resend_clock >= self.server.server_config.resend_message_tick_timeout:
            self.resend_clock = 0
            for new_pid, (start, transfer) in list(self.unacked.items()):
                self.send(new_pid, transfer.from_config_id, start)
                self.send(new_pid, transfer.from_config_id, transfer)

    # --- saving the state before compaction ----------------------------------------------------------

    def save_state(self, config_id: int) -> None:
        """Persist my server's key-value state before its log of `config_id` is compacted. The state
        covers every slot applied so far, which is at or past any index the compaction can reach (a
        replica compacts only decided slots, and I apply what is decided after every replica call).
        A decided StopSign slot is left out of the saved count (it writes no key), so a recovery still
        replays it and starts the next configuration as before."""
        server = self.server
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
            state: Optional[Mapping] = server.start_state.get(min(later))
            if state is None:
                return
        else:
            state = server.kv
        server.durable.saved[config_id] = SavedState(config_id, applied, tuple(state.items()))

    # --- recovery ------------------------------------------------------------------------------------

    def recover(self, config_ids: list[int]) -> None:
        """My server restarted with its instances of `config_ids` rebuilt from storage (oldest
        first): rebuild the key-value state by re-applying the decided logs in that order. A
        configuration whose log was compacted starts from the state saved before the compaction
        and re-applies only the slots after it; a server that joined by a state transfer starts its
        first configuration from the transferred state."""
        server = self.server
        durable = server.durable
        transferred = durable.transferred
        for config_id in config_ids:
            if transferred is not None and transferred.config_id == config_id:
                state = dict(transferred.state)
                server.state_machine = server.new_state_machine(state)
                server.start_state[config_id] = state
            else:
                server.start_state.setdefault(config_id, dict(server.kv))
            saved = durable.saved.get(config_id)
            if saved is not None:
                server.state_machine = server.new_state_machine(dict(saved.state))
                server.applied[config_id] = saved.applied_idx
            self.apply_decided(config_id, server.instances[config_id], replaying=True)
