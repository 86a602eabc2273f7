"""`OmniPaxos`: one replica, composing Ballot Leader Election and Sequence Paxos, with the API of
the OmniPaxos library.

Sans-IO: the application calls methods and moves messages. It drains `take_outgoing_messages()`
and delivers each message with `handle_incoming()` on the receiver; it calls `tick()` to let time
pass (every timeout counts ticks). Nothing here reads a clock, uses randomness, or prints.

The facade is also the replica's door (see checks.py): a bad argument raises `InvalidArgument`, a
message that is not for this replica or is malformed raises a `MessageErr`, both before anything
changes, so a refused call leaves the replica, its storage and its outbox as they were.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Optional

from . import checks
from .ballot import Ballot
from .components import REFERENCE_COMPONENTS, Components
from .config import ClusterConfig, OmniPaxosConfig
from .entries import LogEntry, StopSign
from .errors import InvalidArgument
from .messages import Message, PaxosMessage
from .state import ClusterState, OmniPaxosStates, Phase, ReplicaState, Role


class LogicalClock:
    """Counts ticks and fires every `timeout` ticks (a timeout of 0 never fires, as in the reference)."""

    __slots__ = ("time", "timeout")

    def __init__(self, timeout: int) -> None:
        self.time, self.timeout = 0, timeout

    def tick_and_check(self) -> bool:
        self.time += 1
        if self.time == self.timeout:
            self.time = 0
            return True
        return False


class OmniPaxos:
    """A replica of the OmniPaxos replicated log. Build it with `OmniPaxosConfig.build(storage)` or
    `ClusterConfig.build_for_server(server_config, storage)`; a storage that holds state makes the
    replica recover (it starts in the Recover phase and asks its peers to prepare it).

    `components` (`omnilab.replica.components.Components`; None: the reference) names the classes of
    the quorum rule, Ballot Leader Election and Sequence Paxos this replica is built from."""

    def __init__(self, config: OmniPaxosConfig, storage: Any, components: Optional[Components] = None) -> None:
        self.config = config
        self.storage = storage
        self.components = parts = REFERENCE_COMPONENTS if components is None else components
        self.pid: int = config.server_config.pid
        recovered = storage.get_promise()
        self.ble = parts.ballot_leader_election(config, recovered, quorum_rule=parts.quorum)
        server = config.server_config
        self.election_clock = LogicalClock(server.election_tick_timeout)
        self.resend_clock = LogicalClock(server.resend_message_tick_timeout)
        self.flush_clock = LogicalClock(server.flush_batch_tick_timeout)
        self.seq_paxos = parts.sequence_paxos(config, storage, recovered, quorum_rule=parts.quorum)
        # Written back even when fresh: a later rebuild from this storage then recovers.
        self.seq_paxos.log.set_promise(recovered or Ballot())

    def __repr__(self) -> str:
        sp = self.seq_paxos
        return (f"<OmniPaxos pid={self.pid} config={sp.configuration_id} {sp.role.value}/{sp.phase.value} "
                f"promise={sp.log.promise.short()} decided={sp.log.decided_idx} accepted={sp.log.accepted_idx}>")

    # --- proposing -----------------------------------------------------------------------------------

    def append(self, entry: Any) -> None:
        """Propose `entry`. Returning means *queued*, not decided. Raises
        ``ProposeErr.PendingReconfigEntry`` (with ``.entry``) once a StopSign is stored here."""
        self.seq_paxos.append(entry)

    def reconfigure(self, new_config: ClusterConfig, metadata: Any = None) -> None:
        """Propose a StopSign that ends this configuration and names `new_config` as the next one.
        Raises ``ProposeErr.ConfigError`` for an invalid configuration and
        ``ProposeErr.PendingReconfigConfig`` if a StopSign is already stored here."""
        if not isinstance(new_config, ClusterConfig):
            raise InvalidArgument("reconfigure(new_config)", "new_config", new_config,
                                  "a ClusterConfig, e.g. ClusterConfig(2, [1, 2, 4])")
        self.seq_paxos.reconfigure(new_config, metadata)

    # --- reading -------------------------------------------------------------------------------------

    def read(self, idx: int) -> Optional[LogEntry]:
        """The slot at `idx` as a `LogEntry`, or None beyond the log."""
        checks.index(idx, "read(idx)")
        entries = self.seq_paxos.log.read_entries(idx, idx + 1)
        return entries[0] if entries else None

    def read_entries(self, start, stop: Optional[int] = None) -> Optional[list]:
        """Slots ``[start, stop)``; pass a ``range`` (``read_entries(range(2, 5))``, the Rust ``2..5``)
        or two ints; ``stop=None`` reads to the end. None if the range leaves the log."""
        if isinstance(start, range):
            if start.step != 1:
                raise ValueError(f"read_entries takes a contiguous range, not {start!r}")
            start, stop = start.start, start.stop
        checks.index(start, "read_entries(start, stop)", "start")
        if stop is None:
            stop = self.seq_paxos.log.accepted_idx
        checks.index(stop, "read_entries(start, stop)", "stop")
        return self.seq_paxos.log.read_entries(start, stop)

    def read_decided_suffix(self, idx: int) -> Optional[list]:
        """Decided slots from `idx` on, or None if nothing is decided from there."""
        checks.index(idx, "read_decided_suffix(idx)")
        log = self.seq_paxos.log
        return log.read_entries(idx, log.decided_idx) if idx < log.decided_idx else None

    def get_decided_idx(self) -> int:
        return self.seq_paxos.log.decided_idx

    def get_compacted_idx(self) -> int:
        return self.seq_paxos.log.compacted_idx

    def get_current_leader(self) -> Optional[tuple[int, bool]]:
        """``(pid, accept_phase)`` of the leader I promised, or None; ``accept_phase`` is True iff I am
        myself in the Accept phase."""
        pid = self.seq_paxos.leader_pid()
        if pid == 0:
            return None
        return (pid, self.seq_paxos.phase is Phase.ACCEPT)

    def get_promise(self) -> Ballot:
        return self.seq_paxos.log.promise

    def is_reconfigured(self) -> Optional[StopSign]:
        """The StopSign if it is stored and decided here, else None."""
        log = self.seq_paxos.log
        return log.stopsign if log.stopsign_is_decided() else None

    # --- messages and time ---------------------------------------------------------------------------

    def take_outgoing_messages(self) -> list[Message]:
        """Everything to send since the last call: Sequence Paxos messages first, then BLE's."""
        return self.seq_paxos.take_outgoing() + self.ble.take_outgoing()

    def handle_incoming(self, message: Message) -> None:
        """Handle one message from a peer. Raises a `MessageErr` (and changes nothing) if it is not
        addressed to me, not from a peer of my configuration, of another configuration, or
        malformed; a network that routes correctly never causes one."""
        sp = self.seq_paxos
        checks.check_message(message, self.pid, sp.configuration_id, sp.nodes)
        if isinstance(message, PaxosMessage):
            sp.handle(message)
        else:
            self.ble.handle(message)

    def tick(self) -> None:
        """Let one tick pass: an election round every `election_tick_timeout` ticks, resends every
        `resend_message_tick_timeout`, a batch flush every `flush_batch_tick_timeout`."""
        if self.election_clock.tick_and_check():
            sp = self.seq_paxos
            ballot = self.ble.hb_timeout(sp.state, sp.log.promise)
            if ballot is not None:
                sp.handle_leader(ballot)
        if self.resend_clock.tick_and_check():
            self.seq_paxos.resend_message_timeout()
        if self.flush_clock.tick_and_check():
            self.seq_paxos.flush_batch_timeout()

    def reconnected(self, pid: int) -> None:
        """Tell me the link to `pid` came back; I ask it to prepare me again."""
        if not checks.is_int(pid) or pid not in self.seq_paxos.nodes:
            raise InvalidArgument("reconnected(pid)", "pid", pid,
                                  f"a pid of my configuration, one of {list(self.seq_paxos.nodes)}")
        self.seq_paxos.reconnected(pid)

    # --- leadership ----------------------------------------------------------------------------------

    def try_become_leader(self) -> None:
        """Start a Prepare phase now with a ballot just above my promise."""
        promise = self.seq_paxos.log.promise
        self.seq_paxos.handle_leader(replace(self.ble.current_ballot, n=promise.n + 1))

    def set_priority(self, priority: int) -> None:
        """Change my ballot's priority for future elections."""
        if not checks.is_int(priority) or priority < 0:
            raise InvalidArgument("set_priority(priority)", "priority", priority, "an integer >= 0")
        self.ble.current_ballot = replace(self.ble.current_ballot, priority=priority)

    # --- compaction ----------------------------------------------------------------------------------

    def trim(self, idx: Optional[int] = None) -> None:
        """Leader only: forget decided entries below `idx` on every node (None: as far as all
        accepted). Raises ``CompactionErr`` subclasses when that is not possible, and
        `InvalidArgument` for an index that is not an integer >= 0 (nothing is trimmed or sent)."""
        self.seq_paxos.trim(checks.optional_index(idx, "trim(idx)"))

    def snapshot(self, idx: Optional[int] = None, local_only: bool = False) -> None:
        """Fold decided entries below `idx` (None: all decided) into a snapshot, here and (unless
        `local_only`) on every peer. `InvalidArgument` for an index that is not an integer >= 0."""
        idx = checks.optional_index(idx, "snapshot(idx)")
        if not isinstance(local_only, bool):
            raise InvalidArgument("snapshot(idx, local_only)", "local_only", local_only, "True or False")
        self.seq_paxos.snapshot(idx, local_only)

    # --- looking inside (omnilab extras) -------------------------------------------------------------

    def take_dropped_proposals(self) -> list:
        """Proposals this replica had to discard since the last call (a forwarded proposal reaching
        a sealed log, or buffered proposals left behind by a sync that ended in a StopSign)."""
        return self.seq_paxos.take_dropped_proposals()

    def inspect(self) -> ReplicaState:
        """A read-only picture of this replica (for simulators, tables and invariant checkers)."""
        sp, log, ble = self.seq_paxos, self.seq_paxos.log, self.ble
        leading = sp.role is Role.LEADER
        ls = sp.leader_state
        return ReplicaState(
            pid=self.pid, configuration_id=sp.configuration_id, nodes=sp.nodes, role=sp.role, phase=sp.phase,
            promise=log.promise, accepted_round=log.accepted_round, decided_idx=log.decided_idx,
            accepted_idx=log.accepted_idx, compacted_idx=log.compacted_idx, stopsign=log.stopsign,
            n_leader=ls.n_leader if leading else None, ble_ballot=ble.current_ballot, ble_leader=ble.leader,
            ble_happy=ble.happy, buffered_proposals=len(sp.buffered_proposals),
            buffered_stopsign=sp.buffered_stopsign, batched=len(log.batch),
            leader_accepted=dict(ls.accepted_idx) if leading else {},
            leader_promised=dict(ls.promise_state) if leading else {},
        )

    def get_ui_states(self) -> OmniPaxosStates:
        sp = self.seq_paxos
        leader = self.get_current_leader()
        heartbeats = tuple(self.ble.prev_replies)
        return OmniPaxosStates(
            current_ballot=self.ble.current_ballot,
            current_leader=leader[0] if leader else None,
            decided_idx=sp.log.decided_idx,
            heartbeats=heartbeats,
            cluster_state=ClusterState(accepted_indexes=dict(sp.leader_state.accepted_idx), heartbeats=heartbeats),
        )
