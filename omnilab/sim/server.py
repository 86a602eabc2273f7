"""A simulated server: a pid, durable storage, one OmniPaxos instance per configuration, and a
key-value state machine fed by decided entries.

What survives a crash is exactly `Durable`: one storage per configuration (with the `ClusterConfig`
to rebuild its instance), for a server that joined through a state transfer the state it was
handed, and the key-value state it saved before it let a log be compacted. Everything else on
`Server` (instances, key-value state, how far each log was applied, the reconfiguration service's
bookkeeping) is volatile: `crash` wipes it and `recover` rebuilds it from `Durable`.

Why the saved state: a trimmed slot is gone from the log for good, so a server that rebuilt its
key-value state from the log alone would come back without the writes of the trimmed slots (and
hand that loss on in a state transfer). A real application does what the OmniPaxos documentation
asks of it before compacting: it persists its state machine first. The simulated server does the
same; recovery starts from the saved state and re-applies only the log after it.

The reconfiguration service that drives a server lives in `omnilab.sim.service`; this module only
holds state, as plain attributes that views can read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Mapping, Optional

from omnilab.kv import KVStore
from omnilab.replica.config import ClusterConfig, ServerConfig
from omnilab.replica.entries import StopSign


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


class Server:
    """One server of the simulated cluster. Read its attributes; change it only through `Cluster`.

    ``omnipaxos`` is the instance of the newest configuration it runs (None while joining or
    crashed); ``instances`` maps every configuration id it runs to its instance (older ones keep
    answering peers that lag behind); ``kv`` is its key-value state, a read-only mapping.
    """

    def __init__(self, pid: int, server_config: ServerConfig) -> None:
        self.pid = pid
        self.server_config = server_config
        self.durable = Durable()
        self.up = True
        self.status = ServerStatus.JOINING
        # --- volatile -------------------------------------------------------------------------------
        self.instances: dict[int, Any] = {}
        self.kvstore = KVStore()
        #: config_id -> slots of that configuration read and applied to `kv`.
        self.applied: dict[int, int] = {}
        #: config_id -> key-value contents when that configuration started here.
        self.start_state: dict[int, dict] = {}
        #: joining side: configurations I was told to start, and state transfers received.
        self.told: dict[int, ClusterConfig] = {}
        self.transfers: dict[int, tuple[int, Any]] = {}  # config_id -> (sender, StateTransfer)
        #: old-member side: new pid -> the (StartInstance, StateTransfer) it has not acknowledged.
        self.unacked: dict[int, tuple] = {}
        self.service_clock = 0

    def __repr__(self) -> str:
        state = "up" if self.up else "crashed"
        items = list(self.kvstore.data.items())
        kv = ", ".join(f"{k!r}: {v!r}" for k, v in items[:5]) + (f", ... {len(items)} keys" if len(items) > 5 else "")
        return f"<Server {self.pid} {state} {self.status.value} configs={sorted(self.instances)} kv={{{kv}}}>"

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
        return self.kvstore.data

    @property
    def storage(self) -> Any:
        """The storage of the newest configuration (survives crashes), or None."""
        return self.durable.storages[max(self.durable.storages)] if self.durable.storages else None

    @property
    def retired(self) -> bool:
        return self.status is ServerStatus.RETIRED

    def reset_volatile(self) -> None:
        """Forget everything a crash loses."""
        self.instances = {}
        self.kvstore = KVStore()
        self.applied = {}
        self.start_state = {}
        self.told = {}
        self.transfers = {}
        self.unacked = {}
        self.service_clock = 0
