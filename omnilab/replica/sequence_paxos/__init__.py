"""Sequence Paxos: the replicated log's consensus, split the way the paper splits it.

- `core`: the replica's shared state, the dispatch table, proposals, compaction, timers.
- `leader`: what only a leader does (Prepare phase, syncing followers, accepting and deciding).
- `follower`: what only a follower does (promising, accepting, learning decisions).
- `log`: storage and its cached indices; `leader_state`: the leader's per-follower bookkeeping;
  `outbox`: outgoing messages with coalescing.
"""

from .core import SequencePaxos

__all__ = ["SequencePaxos"]
