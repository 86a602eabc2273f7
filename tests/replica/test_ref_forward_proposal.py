"""Port of omnipaxos/tests/forward_proposal_test.rs."""

from tests.replica.driver import WAIT_5000_MS, Cluster
from tests.replica.values import Value


def test_forward_proposal_test():
    cluster = Cluster(7)
    leader = cluster.elected_leader(1)
    proposer = min(p for p in cluster.pids if p != leader)  # Rust picks a random non-leader
    cluster.append(proposer, Value(proposer))
    cluster.wait_until(lambda: Value(proposer) in cluster.decided_values(proposer), budget=WAIT_5000_MS,
                       what=f"the proposal forwarded by node {proposer} being decided there")
    assert cluster.sent_by_type["ProposalForward"] >= 1
