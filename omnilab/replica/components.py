"""The replica's one seam: which classes an `OmniPaxos` instance is built from.

`OmniPaxos` composes three parts: the quorum rule (how many promises start the Accept phase, how
many acceptances decide an entry, how many replies make a node quorum-connected), Ballot Leader
Election and Sequence Paxos (its leader logic in ``LeaderHandlers``, its follower logic in
``FollowerHandlers``). `Components` names the class of each; the default, `REFERENCE_COMPONENTS`,
is the reference OmniPaxos. A different behaviour (a learner's answer, a deliberately buggy
mutant) is a subclass that overrides a few methods, handed to the builders as ``components=``::

    class EveryoneIsAQuorum(Quorum):
        def is_accept_quorum(self, count):
            return count >= 1

    omni = cluster_config.build_for_server(server_config, storage,
                                           components=Components(quorum=EveryoneIsAQuorum))

Nothing else about the replica changes: every OmniPaxos name keeps its meaning.

The contract each class keeps (a subclass may change behaviour, not the signatures):

* ``quorum``: ``quorum.of(num_nodes, flexible_quorum)`` returns an object with
  ``is_prepare_quorum(count)`` and ``is_accept_quorum(count)`` (see `omnilab.replica.config.Quorum`);
  Sequence Paxos and BLE each build one.
* ``ballot_leader_election``: ``cls(config, recovered_promise, quorum_rule=quorum)``, as
  `omnilab.replica.ballot_leader_election.BallotLeaderElection`.
* ``sequence_paxos``: ``cls(config, storage, recovered_promise, quorum_rule=quorum)``, as
  `omnilab.replica.sequence_paxos.SequencePaxos`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .ballot_leader_election import BallotLeaderElection
from .config import Quorum
from .sequence_paxos import SequencePaxos


@dataclass(frozen=True)
class Components:
    """Which classes one replica is built from. The default is the reference OmniPaxos."""

    quorum: type = Quorum
    ballot_leader_election: type = BallotLeaderElection
    sequence_paxos: type = SequencePaxos

    def is_reference(self) -> bool:
        return self == REFERENCE_COMPONENTS

    def __deepcopy__(self, memo: dict) -> "Components":
        return self  # immutable: a copied replica is built from the very same classes


#: The reference OmniPaxos: what every builder uses when given no ``components``.
REFERENCE_COMPONENTS = Components()
