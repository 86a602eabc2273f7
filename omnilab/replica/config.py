"""Configuration of a cluster and of one server, validated as OmniPaxos does, plus the types.

``ClusterConfig`` says who is in a configuration; ``ServerConfig`` says how this server behaves;
``OmniPaxosConfig`` pairs them and builds the replica. Validation checks its rules in the order of the
OmniPaxos library and the first failure wins, raising ``ConfigError.InvalidConfig`` with a message
that says what to change.

The Rust library's fields are unsigned integers, so it never sees ``-1``, ``2.5``, ``"5"`` or a pid
listed twice; Python does. Each field is therefore also checked for its type and sign, at the place
of the library's own rule for it: pids are positive integers without duplicates, timeouts, batch
and buffer sizes integers of at least 1. ``flush_batch_tick_timeout`` keeps the library's meaning of
0 ("never flush on a timer"), but a negative value, which would silently never fire either, is
refused.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field, fields
from typing import Any, Optional

from .errors import ConfigError, _InvalidConfig


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


def _invalid(msg: str, hint: str, field: str = "") -> ConfigError:
    return ConfigError.InvalidConfig(msg, hint, field=field)


def _is_int(value: Any) -> bool:
    """A true integer: ``bool`` is refused (``pid=True`` is a slip, not node 1), floats too."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _describe(value: Any) -> str:
    return f"{value!r} (a {type(value).__name__})"


def _check_count(value: Any, name: str, label: str, example: str, *, zero_allowed: bool = False) -> None:
    """`value` must be an integer >= 1 (>= 0 with `zero_allowed`); the library's own rule for 0 comes
    first, so its message is kept for 0 and, as "greater than 0" covers them, for negatives."""
    if not _is_int(value):
        raise _invalid(f"{label} must be an integer", f"{name}={_describe(value)} is not; e.g. {name}={example}",
                       name)
    if zero_allowed:
        if value < 0:
            raise _invalid(f"{label} cannot be negative",
                           f"{name}={value} would never fire; use 0 for never, or e.g. {name}={example}", name)
    elif value <= 0:
        raise _invalid(f"{label} must be greater than 0", f"{name}={value}; e.g. {name}={example}", name)


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
        # A list, tuple or range becomes a list; anything else (a number, a string, a set) is kept
        # as given so that validate() can say what is wrong with it.
        if isinstance(self.nodes, (list, tuple, range)):
            object.__setattr__(self, "nodes", list(self.nodes))

    def __hash__(self) -> int:
        nodes = tuple(self.nodes) if isinstance(self.nodes, list) else repr(self.nodes)
        return hash((self.configuration_id, nodes, self.flexible_quorum))

    def validate(self) -> None:
        """Raise ``ConfigError.InvalidConfig`` unless this configuration can work."""
        nodes = self.nodes
        if not isinstance(nodes, list):
            raise _invalid("Nodes must be a list of pids", f"nodes={_describe(nodes)}; e.g. nodes=[1, 2, 3]",
                           "nodes")
        n = len(nodes)
        if n <= 1:
            raise _invalid("Need more than 1 node", "List at least two pids in nodes, e.g. nodes=[1, 2, 3]",
                           "nodes")
        cid = self.configuration_id
        if not _is_int(cid):
            raise _invalid("Configuration ID must be an integer",
                           f"configuration_id={_describe(cid)}; number configurations from 1", "configuration_id")
        if cid == 0:
            raise _invalid("Configuration ID cannot be 0", "Number configurations from 1", "configuration_id")
        if cid < 0:
            raise _invalid("Configuration ID must be positive", f"configuration_id={cid}; number configurations "
                           "from 1", "configuration_id")
        for pid in nodes:
            if not _is_int(pid) or pid <= 0:
                raise _invalid("Every pid in nodes must be a positive integer",
                               f"{_describe(pid)} is not; e.g. nodes=[1, 2, 3]", "nodes")
        duplicates = sorted({pid for pid in nodes if nodes.count(pid) > 1})
        if duplicates:
            raise _invalid("Nodes must not list a pid twice",
                           f"{', '.join(map(str, duplicates))} appears more than once in {nodes}", "nodes")
        fq = self.flexible_quorum
        if fq is not None:
            if not isinstance(fq, FlexibleQuorum):
                raise _invalid("flexible_quorum must be a FlexibleQuorum or None",
                               f"got {_describe(fq)}; e.g. FlexibleQuorum(read_quorum_size=2, "
                               "write_quorum_size=2)", "flexible_quorum")
            r, w = fq.read_quorum_size, fq.write_quorum_size
            for name, size in (("read_quorum_size", r), ("write_quorum_size", w)):
                if not _is_int(size):
                    raise _invalid("Quorum sizes must be integers", f"{name}={_describe(size)}",
                                   f"flexible_quorum.{name}")
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
        pid = self.pid
        if not _is_int(pid):
            raise _invalid("Server pid must be an integer", f"pid={_describe(pid)}; e.g. ServerConfig(pid=1)", "pid")
        if pid == 0:
            raise _invalid("Server pid cannot be 0", "pids are positive integers, e.g. ServerConfig(pid=1)", "pid")
        if pid < 0:
            raise _invalid("Server pid must be positive", f"pid={pid}; pids are positive integers, e.g. "
                           "ServerConfig(pid=1)", "pid")
        if _is_int(self.buffer_size) and self.buffer_size == 0:
            raise _invalid("Buffer size must be greater than 0", "Leave buffer_size at its default", "buffer_size")
        _check_count(self.buffer_size, "buffer_size", "Buffer size", "100000")
        if _is_int(self.batch_size) and self.batch_size == 0:
            raise _invalid("Batch size must be greater than 0", "Use batch_size=1 for no batching", "batch_size")
        _check_count(self.batch_size, "batch_size", "Batch size", "1 (no batching)")
        if _is_int(self.election_tick_timeout) and self.election_tick_timeout == 0:
            raise _invalid("Election tick timeout must be greater than 0", "Use election_tick_timeout=1",
                           "election_tick_timeout")
        _check_count(self.election_tick_timeout, "election_tick_timeout", "Election tick timeout", "1")
        if _is_int(self.resend_message_tick_timeout) and self.resend_message_tick_timeout == 0:
            raise _invalid("Resend message tick timeout must be greater than 0",
                           "Use a positive resend_message_tick_timeout, e.g. 100", "resend_message_tick_timeout")
        _check_count(self.resend_message_tick_timeout, "resend_message_tick_timeout", "Resend message tick timeout",
                     "100")
        _check_count(self.flush_batch_tick_timeout, "flush_batch_tick_timeout", "Flush batch tick timeout", "200",
                     zero_allowed=True)
        priority = self.leader_priority
        if not _is_int(priority) or priority < 0:
            raise _invalid("Leader priority must be an integer >= 0",
                           f"leader_priority={_describe(priority)}; e.g. leader_priority=0 (higher wins ties)",
                           "leader_priority")


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
                           f"Add {self.server_config.pid} to nodes or build for one of {self.cluster_config.nodes}",
                           "nodes")

    def build(self, storage: Any, components: Any = None):
        """Validate, then build an `OmniPaxos` replica over `storage` (recovering if it holds state)
        from `components` (`omnilab.replica.components.Components`; None: the reference OmniPaxos)."""
        from .omnipaxos import OmniPaxos  # the facade imports this module; import late

        self.validate()
        return OmniPaxos(self, storage, components)

    @classmethod
    def with_toml(cls, path: Any) -> "OmniPaxosConfig":
        """Read ``[cluster_config]`` and ``[server_config]`` tables from a TOML file, then validate.

        Missing fields take their defaults; ``flexible_quorum`` is a table with ``read_quorum_size``
        and ``write_quorum_size``. The reference's ``logger_file_path`` is accepted and ignored (there
        is no logger here); any other key, or a section that is not a table, is refused. Raises
        ``ConfigError.ReadFile`` (cannot read the file), ``ConfigError.Parse`` (not UTF-8 TOML, an
        unknown key, a section that is not a table) or ``ConfigError.InvalidConfig`` (a value that
        fails validation; its hint ends with the file and the key), every one naming the file.
        """
        try:
            import tomllib
        except ModuleNotFoundError as exc:  # Python 3.10
            raise ConfigError.Parse(f"reading TOML needs Python 3.11 or newer ({exc})") from exc
        # A str or a path-like object (pathlib.Path); this module does no other file work.
        name = path.__fspath__() if hasattr(path, "__fspath__") else path
        if not isinstance(name, str):
            raise ConfigError.ReadFile(f"with_toml takes the path of a TOML file (a str or pathlib.Path), "
                                       f"not {path!r}")
        try:
            with open(name, "rb") as f:
                raw = tomllib.load(f)
        except OSError as exc:
            raise ConfigError.ReadFile(f"cannot read {name}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError.Parse(f"{name} is not UTF-8 text, so not TOML (byte {exc.start}: {exc.reason})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError.Parse(f"{name} is not valid TOML: {exc}") from exc

        def table(value: Any, key: str) -> dict:
            if not isinstance(value, dict):
                raise ConfigError.Parse(f"{name}: {key} must be a table ([{key}] or {key} = {{ ... }}), "
                                        f"not {_describe(value)}")
            return value

        def only(keys: dict, allowed: set, where: str) -> None:
            unknown = sorted(set(keys) - allowed)
            if unknown:
                raise ConfigError.Parse(f"{name}: unknown key {unknown[0]!r} in {where}; the keys there are "
                                        f"{', '.join(sorted(allowed))}")

        only(raw, {"cluster_config", "server_config"}, "the top level")
        cc = dict(table(raw.get("cluster_config", {}), "cluster_config"))
        sc = dict(table(raw.get("server_config", {}), "server_config"))
        only(cc, {f.name for f in fields(ClusterConfig)}, "[cluster_config]")
        only(sc, {f.name for f in fields(ServerConfig)} | _IGNORED_SERVER_KEYS, "[server_config]")
        for key in _IGNORED_SERVER_KEYS:
            sc.pop(key, None)
        if "flexible_quorum" in cc:
            fq = table(cc["flexible_quorum"], "flexible_quorum")
            sizes = {"read_quorum_size", "write_quorum_size"}
            only(fq, sizes, "[cluster_config.flexible_quorum]")
            missing = sorted(sizes - set(fq))
            if missing:
                raise ConfigError.Parse(f"{name}: flexible_quorum lacks {missing[0]}; give both "
                                        "read_quorum_size and write_quorum_size")
            cc["flexible_quorum"] = FlexibleQuorum(**fq)
        config = cls(ClusterConfig(**cc), ServerConfig(**sc))
        try:
            config.validate()
        except _InvalidConfig as err:
            section = "server_config" if err.field in {f.name for f in fields(ServerConfig)} else "cluster_config"
            where = f"{name}, [{section}] {err.field}" if err.field else name
            raise ConfigError.InvalidConfig(err.msg, f"{err.hint} (in {where})".lstrip(), field=err.field) from None
        return config


#: Keys of the reference's server configuration that have no meaning here (there is no logger).
_IGNORED_SERVER_KEYS = {"logger_file_path"}


class _ReadFile(ConfigError):
    pass


class _Parse(ConfigError):
    pass


ConfigError.ReadFile = _ReadFile
ConfigError.Parse = _Parse
_ReadFile.__name__ = _ReadFile.__qualname__ = "ConfigError.ReadFile"
_Parse.__name__ = _Parse.__qualname__ = "ConfigError.Parse"
