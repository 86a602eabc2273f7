"""A simulated server: one machine, as an actor. It holds a pid, durable storage, one OmniPaxos
instance per configuration, a key-value state machine fed by decided entries, and its
reconfiguration service (`omnilab.sim.service`).

A server takes one input at a time: a delivered message (`Server.deliver`), a tick (`Server.tick`),
a client's proposal, a reconfiguration, a trim or a snapshot, a crash or a recovery. Each returns an
`Out`: what the server sends (receiver, configuration, message) and what happened (the events the
cluster records, in order), as an actor's ``Out`` in Stateright or a ``Node``'s sends in DSLabs. The
server never touches the network, the trace, the ledger or another server: the `Cluster` routes what
it sends and records what happened.

What survives a crash is exactly `Durable`: one storage per configuration (with the `ClusterConfig`
to rebuild its instance), for a server that joined through a state transfer the state it was
handed, and the key-value state it saved before it let a log be compacted. Everything else (the
instances, the key-value state, how far each log was applied, the reconfiguration service and its
bookkeeping) is volatile: `Server.crash` drops it and `Server.recover` rebuilds it from `Durable`.

Why the saved state: a trimmed slot is gone from the log for good, so a server that rebuilt its
key-value state from the log alone would come back without the writes of the trimmed slots (and
hand that loss on in a state transfer). A real application does what the OmniPaxos documentation
asks of it before compacting: it persists its state machine first. The simulated server does the
same; recovery starts from the saved state and re-applies only the log after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Mapping, Optional

from omnilab.kv import KVSnapshot
from omnilab.replica.config import ClusterConfig, ServerConfig
from omnilab.replica.entries import StopSign
from omnilab.replica.messages import AcceptSync, Message
from omnilab.replica.messages import Snapshot as CompactionSnapshot
from omnilab.replica.messages import Trim as CompactionTrim
from omnilab.replica.storage import MemoryStorage

from .instances import start_instance
from .trace import Crashed, Delivered, Dropped, ProposalLost, Recovered

#: The messages that may compact a replica's log: a peer's Trim or Snapshot, and an AcceptSync,
#: which may replace the receiver's decided prefix with the leader's snapshot. A server saves its
#: state before handing one to its instance.
COMPACTION_MESSAGES = (CompactionTrim, CompactionSnapshot, AcceptSync)


class ServerStatus(Enum):
    """Where a server is in the life of the cluster's configurations."""

    JOINING = "joining"  # created by `reconfigure`; waits for StartInstance and its StateTransfer
    ACTIVE = "active"  # runs an instance of the newest configuration it knows
    RETIRED = "retired"  # decided a StopSign whose next configuration leaves it out

    def __repr__(self) -> str:
        return f"ServerStatus.{self.name}"


@dataclass(frozen=True)
class TransferredState:
    """The state a joining server was handed: the key-value contents after every slot decided in
    configuration ``from_config_id`` up to its ``stopsign``."""

    from_config_id: int
    stopsign: StopSign
    state: tuple  # (key, value) pairs

    @property
    def config_id(self) -> int:
        return self.stopsign.next_config.configuration_id


@dataclass(frozen=True)
class SavedState:
    """The key-value ``state`` (key, value pairs) a server held after applying the first
    ``applied_idx`` slots of configuration ``config_id``, saved before it let that log be compacted
    (``applied_idx`` is at or past every compaction point the log had then)."""

    config_id: int
    applied_idx: int
    state: tuple


@dataclass
class Durable:
    """What a server keeps across crashes."""

    configs: dict[int, ClusterConfig] = field(default_factory=dict)
    storages: dict[int, Any] = field(default_factory=dict)
    transferred: Optional[TransferredState] = None
    #: config_id -> the state saved before the newest compaction of that configuration's log.
    saved: dict[int, SavedState] = field(default_factory=dict)


# --- what one input produced ----------------------------------------------------------------------

#: The kinds of the steps of an `Out`.
CALLED, EVENT, DECIDED, SEND, STOPSIGN_DECIDED, COMPACTED, STARTED, NEEDS_SERVER = (
    "called", "event", "decided", "send", "stopsign decided", "compacted", "started", "needs server")


class Out(list):
    """What one input to a server produced, in the order it happened: a list of steps, each a tuple
    starting with its kind. The `Cluster` carries them out in order (`Cluster._apply`):

    * ``(CALLED, config_id, omnipaxos, messages)``: my instance of `config_id` was called; the
      cluster reads its local state for the invariants' evidence, then sends the replica messages it
      queued (a list, each to its ``message.receiver``, or None);
    * ``(EVENT, event)``: record a trace event (`omnilab.sim.trace`);
    * ``(SEND, receiver, config_id, message)``: put `message` on the wire (a service message);
    * ``(DECIDED, config_id, idx, entry, replaying)`` and ``(STOPSIGN_DECIDED, ...)``: a decided slot
      was applied (recorded as `EntryDecided` unless `replaying`, and shown to the ledger, which may answer
      the client);
    * ``(COMPACTED, config_id, upto_idx, trimmed, replaying)``: a compacted prefix was installed;
    * ``(STARTED, config_id, nodes, prev_config_id, stopsign, state)``: an instance started;
    * ``(NEEDS_SERVER, pid, config_id)``: a server new in configuration `config_id` is told to start
      (the cluster creates it if it does not exist yet).

    The methods below append one step each.
    """

    __slots__ = ()

    def called(self, config_id: int, omni: Any, messages: Optional[list]) -> None:
        self.append((CALLED, config_id, omni, messages))

    def record(self, event: Any) -> None:
        self.append((EVENT, event))

    def send(self, receiver: int, config_id: int, message: Any) -> None:
        self.append((SEND, receiver, config_id, message))

    def decided(self, config_id: int, idx: int, entry: Any, replaying: bool) -> None:
        self.append((DECIDED, config_id, idx, entry, replaying))

    def stopsign_decided(self, config_id: int, idx: int, stopsign: StopSign, replaying: bool) -> None:
        self.append((STOPSIGN_DECIDED, config_id, idx, stopsign, replaying))

    def compacted(self, config_id: int, upto_idx: int, trimmed: bool, replaying: bool) -> None:
        self.append((COMPACTED, config_id, upto_idx, trimmed, replaying))

    def started(self, config_id: int, nodes: tuple, prev_config_id: Optional[int], stopsign: Optional[StopSign],
                state: dict) -> None:
        self.append((STARTED, config_id, nodes, prev_config_id, stopsign, state))

    def needs_server(self, pid: int, config_id: int) -> None:
        self.append((NEEDS_SERVER, pid, config_id))

    def __repr__(self) -> str:
        return f"<Out {[step[0] for step in self]}>"


# --- the server -----------------------------------------------------------------------------------

class Server:
    """One server of the simulated cluster, built from the cluster's `Variant`. Read its attributes;
    change it only through `Cluster` (which records what it does).

    ``omnipaxos`` is the instance of the newest configuration it runs (None while joining or
    crashed); ``instances`` maps every configuration id it runs to its instance (older ones keep
    answering peers that lag behind); ``kv`` is its key-value state, a read-only mapping;
    ``service`` is its reconfiguration service (``variant.service``), ``state_machine`` its
    key-value store (``variant.state_machine``).
    """

    def __init__(self, pid: int, server_config: ServerConfig, variant: Any = None) -> None:
        if variant is None:
            from .variant import REFERENCE  # the variant module imports the service, which imports this one

            variant = REFERENCE
        self.pid = pid
        self.server_config = server_config
        #: the classes this server is built from (`omnilab.sim.variant`): the cluster's variant.
        self.variant = variant
        self.durable = Durable()
        self.up = True
        self.status = ServerStatus.JOINING
        #: the `Out` of the input being handled, which the service writes into; None between inputs
        #: (each input sets it and clears it in a ``finally``, so equal states stay equal).
        self.out: Optional[Out] = None
        self.reset_volatile()

    def reset_volatile(self) -> None:
        """Forget everything a crash loses: instances, key-value state, applied indexes and the
        service (a fresh one, with no bookkeeping)."""
        self.instances: dict[int, Any] = {}
        self.state_machine = self.variant.state_machine()
        #: config_id -> slots of that configuration read and applied to `kv`.
        self.applied: dict[int, int] = {}
        #: config_id -> key-value contents when that configuration started here.
        self.start_state: dict[int, dict] = {}
        self.service = self.variant.service(self)

    def __repr__(self) -> str:
        state = "up" if self.up else "crashed"
        items = list(self.kv.items())
        kv = ", ".join(f"{k!r}: {v!r}" for k, v in items[:5]) + (f", ... {len(items)} keys" if len(items) > 5 else "")
        return f"<Server {self.pid} {state} {self.status.value} configs={sorted(self.instances)} kv={{{kv}}}>"

    # --- inputs: each returns what it produced -------------------------------------------------------

    def start(self, config: ClusterConfig) -> Out:
        """Start my instance of the first configuration `config` (I am one of its founding members),
        on an empty key-value state. What the new instance queued is handed over by `poll`."""
        out = self.out = Out()
        try:
            omni = start_instance(self.variant, config, self.server_config, self.new_storage(config))
            self._add_instance(config.configuration_id, omni, {}, None, None)
        finally:
            self.out = None
        return out

    def poll(self) -> Out:
        """Hand over what my instances queued (messages, dropped proposals) and apply what they
        decided, without any new input."""
        out = self.out = Out()
        try:
            for config_id, omni in list(self.instances.items()):
                self.after_call(config_id, omni)
        finally:
            self.out = None
        return out

    def deliver(self, env: Any) -> Out:
        """Message `env` arrives (I am up). A reconfiguration-service message goes to my service; a
        replica message goes to my instance of ``env.config_id``, or is dropped if I run none."""
        out = self.out = Out()
        try:
            message, config_id = env.message, env.config_id
            if not isinstance(message, Message):
                out.record(Delivered(env))
                self.service.handle_message(env)
            else:
                omni = self.instances.get(config_id)
                if omni is None:
                    out.record(Dropped(env, f"node {self.pid} runs no instance of configuration {config_id}"
                                       + (" (it retired)" if config_id in self.durable.configs else " yet")))
                else:
                    out.record(Delivered(env))
                    if type(message.msg) in COMPACTION_MESSAGES:
                        self.service.save_state(config_id)  # my log may be compacted: persist my state first
                    omni.handle_incoming(message)
                    self.after_call(config_id, omni)
        finally:
            self.out = None
        return out

    def tick(self) -> Out:
        """One tick: every instance runs its timers (heartbeats, resends); then my service resends
        the state transfers nobody acknowledged yet."""
        out = self.out = Out()
        try:
            for config_id, omni in list(self.instances.items()):
                omni.tick()
                self.after_call(config_id, omni)
            self.service.tick()
        finally:
            self.out = None
        return out

    def propose(self, proposal: Any) -> Out:
        """A client proposes `proposal` here: ``append`` on my newest instance (raises its
        ``ProposeErr`` when it refuses, having produced nothing)."""
        return self._call_newest(lambda omni: omni.append(proposal))

    def reconfigure(self, config: ClusterConfig, metadata: Any = None) -> Out:
        """Propose the StopSign ending my newest configuration, for the next one `config`."""
        return self._call_newest(lambda omni: omni.reconfigure(config, metadata=metadata))

    def set_priority(self, priority: int) -> Out:
        return self._call_newest(lambda omni: omni.set_priority(priority))

    def try_become_leader(self) -> Out:
        return self._call_newest(lambda omni: omni.try_become_leader())

    def trim(self, idx: Optional[int]) -> Out:
        """``trim`` my newest instance's decided log below `idx`, having saved my state first (the
        replica's ``CompactionErr`` is raised on refusal)."""
        return self._compact(lambda omni: omni.trim(idx))

    def snapshot(self, idx: Optional[int], local_only: bool = False) -> Out:
        """``snapshot`` my newest instance's decided log below `idx`, having saved my state first."""
        return self._compact(lambda omni: omni.snapshot(idx, local_only=local_only))

    def crash(self) -> Out:
        """Crash: my instances, key-value state, service bookkeeping and buffered proposals are lost;
        `durable` survives."""
        out = Out()
        unsaved = 0
        for omni in self.instances.values():
            state = omni.inspect()
            unsaved += state.buffered_proposals + state.batched + (state.buffered_stopsign is not None)
        config_ids = tuple(self.instances)
        self.up = False
        self.reset_volatile()
        out.record(Crashed(self.pid, config_ids, unsaved))
        return out

    def recover(self) -> Out:
        """Restart after a crash: rebuild every instance from its storage (each starts in Recover and
        asks its peers to prepare it), then my service rebuilds the key-value state (`recover` of
        `omnilab.sim.service.ReconfigurationService`)."""
        out = self.out = Out()
        try:
            self.up = True
            durable = self.durable
            config_ids = sorted(durable.storages)
            for config_id in config_ids:
                self.instances[config_id] = start_instance(self.variant, durable.configs[config_id], self.server_config,
                                                           durable.storages[config_id])
                self.applied[config_id] = 0
            out.record(Recovered(self.pid, tuple(config_ids)))
            self.service.recover(config_ids)
            if not config_ids:
                self.status = ServerStatus.JOINING
            else:
                sealed = self.instances[config_ids[-1]].is_reconfigured()
                out_of_it = sealed is not None and self.pid not in sealed.next_config.nodes
                self.status = ServerStatus.RETIRED if out_of_it else ServerStatus.ACTIVE
            for config_id in config_ids:
                self.after_call(config_id, self.instances[config_id])
        finally:
            self.out = None
        return out

    # --- what the service uses -----------------------------------------------------------------------

    def after_call(self, config_id: int, omni: Any) -> None:
        """After every call into my instance `omni` of `config_id`: let the cluster read its state,
        send what it queued, record the proposals it discarded, and let my service apply what it
        decided."""
        out = self.out
        assert out is not None, "after_call runs within a call of mine, which sets self.out"
        out.called(config_id, omni, omni.take_outgoing_messages() or None)
        dropped = omni.take_dropped_proposals()
        if dropped:
            for proposal in dropped:
                out.record(ProposalLost(self.pid, config_id, proposal))
        if omni.get_decided_idx() > self.applied[config_id]:
            self.service.apply_decided(config_id, omni)

    def new_storage(self, config: ClusterConfig) -> MemoryStorage:
        """A new, empty storage for my instance of `config`, kept (with `config`) in `durable`."""
        config_id = config.configuration_id
        self.durable.configs[config_id] = config
        storage = self.durable.storages[config_id] = MemoryStorage()
        return storage

    def new_state_machine(self, state: Mapping) -> Any:
        """A fresh state machine (``variant.state_machine``) holding the key-value `state`."""
        machine = self.variant.state_machine()
        if state:
            machine.apply_snapshot(KVSnapshot(dict(state)))
        return machine

    def install_instance(self, config_id: int, omni: Any, state: dict, prev_config_id: Optional[int],
                         stopsign: Optional[StopSign]) -> None:
        """Run `omni` as my instance of `config_id`, started from the key-value `state` (what was
        decided up to `stopsign` of `prev_config_id`), and hand over what it does at once."""
        self._add_instance(config_id, omni, state, prev_config_id, stopsign)
        self.after_call(config_id, omni)

    def _add_instance(self, config_id: int, omni: Any, state: dict, prev_config_id: Optional[int],
                      stopsign: Optional[StopSign]) -> None:
        self.instances[config_id] = omni
        self.applied[config_id] = 0
        self.start_state[config_id] = state
        self.status = ServerStatus.ACTIVE
        assert self.out is not None, "an instance is added within a call of mine, which sets self.out"
        self.out.started(config_id, tuple(omni.config.cluster_config.nodes), prev_config_id, stopsign, dict(state))

    def _call_newest(self, call: Callable[[Any], None]) -> Out:
        out = self.out = Out()
        try:
            omni, config_id = self.omnipaxos, self.config_id
            call(omni)  # with no instance (omni None) this raises before after_call
            assert config_id is not None
            self.after_call(config_id, omni)
        finally:
            self.out = None
        return out

    def _compact(self, call: Callable[[Any], None]) -> Out:
        out = self.out = Out()
        try:
            omni, config_id = self.omnipaxos, self.config_id
            self.service.save_state(config_id)  # a server persists its state before compacting its log
            call(omni)  # with no instance (omni None) this raises before after_call
            assert config_id is not None
            self.after_call(config_id, omni)
        finally:
            self.out = None
        return out

    # --- what views read -----------------------------------------------------------------------------

    @property
    def config_id(self) -> Optional[int]:
        """The newest configuration this server runs (None when it runs none)."""
        return max(self.instances) if self.instances else None

    @property
    def omnipaxos(self) -> Any:
        """The instance of the newest configuration this server runs, or None."""
        return self.instances[max(self.instances)] if self.instances else None

    @property
    def kv(self) -> Mapping:
        """The key-value state (read-only): everything decided and applied here so far."""
        return self.state_machine.data

    @property
    def kvstore(self) -> Any:
        """The key-value state machine (``state_machine``)."""
        return self.state_machine

    @property
    def storage(self) -> Any:
        """The storage of the newest configuration (survives crashes), or None."""
        return self.durable.storages[max(self.durable.storages)] if self.durable.storages else None

    @property
    def retired(self) -> bool:
        return self.status is ServerStatus.RETIRED

    @property
    def told(self) -> dict:
        """Joining side: config_id -> the ClusterConfig a StartInstance told me to start (the service's)."""
        return self.service.told

    @property
    def transfers(self) -> dict:
        """Joining side: config_id -> (sender, StateTransfer) received (the service's)."""
        return self.service.transfers

    @property
    def unacked(self) -> dict:
        """Old-member side: new pid -> the (StartInstance, StateTransfer) it has not acknowledged."""
        return self.service.unacked

    @property
    def service_clock(self) -> int:
        """Ticks since the service last resent the unacknowledged state transfers."""
        return self.service.resend_clock
