"""The deterministic in-notebook world: network, servers, cluster clock, trace and invariants.

``Cluster`` is what a learner drives (see the README's first look); ``scenarios`` builds ready clusters for the
partial-connectivity situations of the OmniPaxos paper (EuroSys'23); ``fuzz`` runs seeded random fault campaigns;
``explore`` searches every schedule within small bounds for the shortest that breaks an invariant; ``Verdict`` is
what each invariant of ``omnilab.sim.invariants`` returns. Importing this package does not import pandas.
"""

from . import campaigns, invariants, scenarios  # noqa: F401
from .campaigns import FAULTS, FuzzResult, fuzz
from .cluster import DEFAULT_RESEND_TICKS, Cluster
from .errors import (
                     BadInput,
                     InvalidConfiguration,
                     InvariantViolation,
                     NodeDown,
                     NodeUp,
                     NoLeader,
                     NoQuiescence,
                     NothingInFlight,
                     NothingToUndo,
                     NotStarted,
                     SimulationError,
                     UnknownMessageId,
                     UnknownNode,
)
from .explore import ExploreResult, explore  # the function; its module is omnilab.sim.explore in sys.modules
from .ledger import ClientOp, Verdict
from .network import Envelope
from .server import Server, ServerStatus
from .service import StartInstance, StateTransfer, TransferAck
from .trace import (  # noqa: F401
                     EVENT_TYPES,
                     OPERATION_TYPES,
                     Append,
                     ClusterCreated,
                     CompactionRefused,
                     Crash,
                     Crashed,
                     Cut,
                     DeliverAll,
                     Delivered,
                     Drop,
                     Dropped,
                     Duplicate,
                     Duplicated,
                     EntryDecided,
                     Event,
                     Get,
                     Heal,
                     InstanceStarted,
                     Operation,
                     Partition,
                     ProposalLost,
                     Proposed,
                     Put,
                     ReadDone,
                     Reconfigure,
                     Recover,
                     Recovered,
                     Refused,
                     Responded,
                     Retired,
                     Run,
                     Sent,
                     ServerCreated,
                     SetPriority,
                     SnapshotInstalled,
                     SnapshotLog,
                     StateInstalled,
                     Step,
                     StepRandom,
                     Tick,
                     Ticked,
                     Trace,
                     TrimLog,
                     TryBecomeLeader,
)

__all__ = [
    "Cluster", "scenarios", "invariants", "campaigns", "fuzz", "FAULTS", "FuzzResult", "explore", "ExploreResult",
    "Verdict", "ClientOp", "Envelope",
    "Server", "ServerStatus", "StartInstance", "StateTransfer", "TransferAck", "Trace", "Operation", "Event",
    "DEFAULT_RESEND_TICKS", "SimulationError", "BadInput", "UnknownNode", "NodeDown", "NodeUp", "NotStarted",
    "UnknownMessageId", "NothingInFlight", "NoLeader", "InvalidConfiguration", "NothingToUndo", "NoQuiescence",
    "InvariantViolation",
] + [cls.__name__ for cls in OPERATION_TYPES + EVENT_TYPES]
