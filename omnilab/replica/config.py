"""Configuration of a cluster and of one server, validated exactly as OmniPaxos does (PROTOCOL.md §1.3).

``ClusterConfig`` says who is in a configuration; ``ServerConfig`` says how this server behaves;
``OmniPaxosConfig`` pairs them and builds the replica. Validation checks its rules in the reference
order and the first failure wins, raising ``ConfigError.InvalidConfig`` with a message that says what
to change.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Optional

from .errors import ConfigError


@dataclass(frozen=True)
class FlexibleQuorum:
    """Separate quorum sizes: ``read_quorum_size`` for the Prepare phase and for quorum-connectivity,
    ``write_quorum_size`` for deciding in the Accept phase. They must overlap: ``r + w > N``."""

    read_quorum_size: int
    write_quorum_size: int


@dataclass(frozen=True)
class Quorum:
    """The quorum checks derived from a cluster's size and optional flexible quorum."""

    read_size: int
    write_size: int

    @classmethod
    def of(cls, num_nodes: int, flexible_quorum: Optional[FlexibleQuorum]) -> "Quorum":
        if flexible_quorum is None:
            majority = num_nodes // 2 + 1
            return cls(majority, majority)
        return cls(flexible_quorum.read_quorum_size, flexible_quorum.write_quorum_size)

    def is_prepare_quorum(self, count: int) -> bool:
        return count >= self.read_size

    def is_accept_quorum(self, count: int) -> bool:
        return count >= self.write_size


def _invalid(msg: str, hint: str) -> ConfigError:
    return ConfigError.InvalidConfig(msg, hint)


@dataclass(frozen=True)
class ClusterConfig:
    """Who is in a configuration: ``ClusterConfig(configuration_id, nodes, flexible_quorum=None)``.

    ``nodes`` is a list of pids (positive ints). Equality is field-wise. Configurations replace one
    another through a StopSign; give each new one a larger ``configuration_id``.
    """

    configuration_id: int = 0
    nodes: list = field(default_factory=list)
    flexible_quorum: Optional[FlexibleQuorum] = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", list(self.nodes))

    def __hash__(self) -> int:
        return hash((self.configuration_id, tuple(self.nodes), self.flexible_quorum))

    def validate(self) -> None:
        """Raise ``ConfigError.InvalidConfig`` unless this configuration can work."""
        n = len(self.nodes)
        if n <= 1:
            raise _invalid("Need more than 1 node", "List at least two pids in nodes, e.g. nodes=[1, 2, 3]")
        if self.configuration_id == 0:
            raise _invalid("Configuration ID cannot be 0", "Number configurations from 1")
        fq = self.flexible_quorum
        if fq is not None:
            r, w = fq.read_quorum_size, fq.write_quorum_size
            if not r + w > n:
                raise _invalid("The quorums must overlap i.e., the sum of their sizes must exceed the # of nodes",
                               f"With {n} nodes, read + write must be at least {n + 1}")
            if not 2 <= r <= n:
                raise _invalid("Read quorum must be in range 2 to # of nodes in the cluster",
                               f"Choose read_quorum_size between 2 and {n}")
            if not 2 <= w <= n:
                raise _invalid("Write quorum must be in range 2 to # of nodes in the cluster",
                               f"Choose write_quorum_size between 2 and {n}")
            if not r >= w:
                raise _invalid("Read quorum size must be >= the write quorum size.",
                               "Swap the two sizes or raise read_quorum_size")

    def build_for_server(self, server_config: "ServerConfig", storage: Any, components: Any = None):
        """Build this configuration's replica for one server (validates first). `components`
        (`omnilab.replica.components.Components`, default the reference) says which classes it is
        built from."""
        return OmniPaxosConfig(cluster_config=self, server_config=server_config).build(storage, components)


@dataclass(frozen=True)
class ServerConfig:
    """How one server runs. Timeouts count `tick()` calls (no clock anywhere).

    ``election_tick_timeout`` ticks per leader-election round; ``resend_message_tick_timeout`` ticks
    between resends of possibly lost messages; ``batch_size`` entries are gathered before they are
    written and sent (1 = no batching); ``flush_batch_tick_timeout`` ticks force a flush of a partial
    batch (0 never fires); ``leader_priority`` breaks ties in favour of higher priorities;
    ``buffer_size`` is only a capacity hint, never a limit.
    """

    pid: int = 0
    election_tick_timeout: int = 1
    resend_message_tick_timeout: int = 100
    buffer_size: int = 100000
    batch_size: int = 1
    flush_batch_tick_timeout: int = 200
    leader_priority: int = 0

    def validate(self) -> None:
        """Raise ``ConfigError.InvalidConfig`` unless this server configuration can work."""
        if self.pid == 0:
            raise _invalid("Server pid cannot be 0", "pids are positive integers, e.g. ServerConfig(pid=1)")
        if self.buffer_size == 0:
            raise _invalid("Buffer size must be greater than 0", "Leave buffer_size at its default")
        if self.batch_size == 0:
            raise _invalid("Batch size must be greater than 0", "Use batch_size=1 for no batching")
        if self.election_tick_timeout == 0:
            raise _invalid("Election tick timeout must be greater than 0", "Use election_tick_timeout=1")
        if self.resend_message_tick_timeout == 0:
            raise _invalid("Resend message tick timeout must be greater than 0",
                           "Use a positive resend_message_tick_timeout, e.g. 100")


@dataclass(frozen=True)
class OmniPaxosConfig:
    """A cluster configuration and a server configuration together; `build` makes the replica."""

    cluster_config: ClusterConfig = field(default_factory=ClusterConfig)
    server_config: ServerConfig = field(default_factory=ServerConfig)

    def validate(self) -> None:
        self.cluster_config.validate()
        self.server_config.validate()
        if self.server_config.pid not in self.cluster_config.nodes:
            raise _invalid("Nodes must include own server pid",
                           f"Add {self.server_config.pid} to nodes or build for one of {self.cluster_config.nodes}")

    def build(self, storage: Any, components: Any = None):
        """Validate, then build an `OmniPaxos` replica over `storage` (recovering if it holds state)
        from `components` (`omnilab.replica.components.Components`; None: the reference OmniPaxos)."""
        from .omnipaxos import OmniPaxos  # the facade imports this module; import late

        self.validate()
        return OmniPaxos(self, storage, components)

    @classmethod
    def with_toml(cls, path: str) -> "OmniPaxosConfig":
        """Read ``[cluster_config]`` and ``[server_config]`` tables from a TOML file, then validate.

        Missing fields take their defaults; ``flexible_quorum`` is a table with ``read_quorum_size``
        and ``write_quorum_size``. Raises ``ConfigError.ReadFile`` or ``ConfigError.Parse``.
        """
        try:
            import tomllib
        except ModuleNotFoundError as exc:  # Python 3.10
            raise ConfigError.Parse(f"reading TOML needs Python 3.11 or newer ({exc})") from exc
        try:
            with open(path, "rb") as f:
                raw = tomllib.load(f)
        except OSError as exc:
            raise ConfigError.ReadFile(f"cannot read {path}: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError.Parse(f"{path} is not valid TOML: {exc}") from exc
        cc = dict(raw.get("cluster_config", {}))
        if isinstance(cc.get("flexible_quorum"), dict):
            cc["flexible_quorum"] = FlexibleQuorum(**cc["flexible_quorum"])
        known = {f.name for f in fields(ServerConfig)}
        sc = {k: v for k, v in raw.get("server_config", {}).items() if k in known}
        try:
            config = cls(ClusterConfig(**cc), ServerConfig(**sc))
        except TypeError as exc:
            raise ConfigError.Parse(f"{path}: {exc}") from exc
        config.validate()
        return config


class _ReadFile(ConfigError):
    pass


class _Parse(ConfigError):
    pass


ConfigError.ReadFile = _ReadFile
ConfigError.Parse = _Parse
_ReadFile.__name__ = _ReadFile.__qualname__ = "ConfigError.ReadFile"
_Parse.__name__ = _Parse.__qualname__ = "ConfigError.Parse"
