"""omnilab: learn the OmniPaxos replicated log in Jupyter.

Layers (see the README's layout): ``omnilab.replica`` is the sans-IO OmniPaxos replica, ``omnilab.sim``
the deterministic in-notebook world around it, ``omnilab.view`` turns their state into tables
and diagrams, ``omnilab.widgets`` and ``omnilab.grading`` sit on top.

This module stays tiny: ``import omnilab`` must never pull in Jupyter, ipywidgets or other
heavy front-end libraries, so the command line and the replica stay quick to import.
"""

__version__ = "0.1.0"

# --- public API re-exports (filled by the replica layer) ---
from omnilab.replica import (  # noqa: E402  (the replica is light: pure Python, standard library only)
    Ballot,
    BLEMessage,
    ClusterConfig,
    CompactionErr,
    ConfigError,
    FlexibleQuorum,
    LogEntry,
    MemoryStorage,
    Message,
    OmniPaxos,
    OmniPaxosConfig,
    PaxosMessage,
    PersistentStorage,
    Phase,
    ProposeErr,
    ReplicaState,
    Role,
    ServerConfig,
    SnapshottedEntry,
    StopSign,
    Storage,
    StorageOp,
    entry,
)

# The simulator and the widget pull in pandas / ipywidgets: load them on first use only.
_LAZY = {"Cluster": ("omnilab.sim", "Cluster"), "scenarios": ("omnilab.sim", "scenarios"),
         "lab": ("omnilab.widgets", "lab")}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'omnilab' has no attribute {name!r}")
