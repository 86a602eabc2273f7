"""The OmniPaxos replica, sans-IO: no network, no clock, no randomness, no printing.

It takes calls (`append`, `reconfigure`, `tick`, `handle_incoming`, ...) and hands back outgoing
messages. Its API mirrors the OmniPaxos documentation name for name (https://omnipaxos.com/docs/).
"""

from .ballot import Ballot, SequenceNumber
from .config import ClusterConfig, FlexibleQuorum, OmniPaxosConfig, ServerConfig
from .entries import LogEntry, NoSnapshot, SnapshottedEntry, StopSign, entry
from .errors import (
                     CompactionErr,
                     ConfigError,
                     InvalidArgument,
                     MessageErr,
                     ProposeErr,
                     SnapshotUnsupported,
                     StorageError,
)
from .messages import BLEMessage, LogSync, Message, PaxosMessage, SnapshotType
from .omnipaxos import OmniPaxos
from .persistent import PersistentStorage
from .state import OmniPaxosStates, Phase, PromiseState, ReplicaState, Role
from .storage import MemoryStorage, Storage, StorageOp
from .stored import StoredState, stored_entries, stored_state

__all__ = [
    "Ballot", "SequenceNumber", "ClusterConfig", "FlexibleQuorum", "OmniPaxosConfig", "ServerConfig",
    "LogEntry", "NoSnapshot", "SnapshottedEntry", "StopSign", "entry", "CompactionErr", "ConfigError",
    "InvalidArgument", "MessageErr", "ProposeErr", "SnapshotUnsupported", "StorageError", "BLEMessage", "LogSync",
    "Message", "PaxosMessage", "SnapshotType",
    "OmniPaxos", "PersistentStorage", "OmniPaxosStates", "Phase", "PromiseState", "ReplicaState", "Role",
    "MemoryStorage",
    "Storage", "StorageOp", "StoredState", "stored_state", "stored_entries",
]
