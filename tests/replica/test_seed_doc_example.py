"""The seed documentation's reconfiguration example (the OmniPaxos reconfiguration documentation), written exactly as shown and run end
to end: node 3 of [1, 2, 3] crashes, node 2 proposes the next configuration [1, 2, 4], every
surviving node that reads ``StopSign(ss, True)`` builds its instance of configuration 2, node 4 is
started fresh for it, and the new configuration elects a leader and decides entries with node 4.
"""

from omnilab import ClusterConfig, LogEntry, MemoryStorage, ServerConfig

from tests.replica.driver import WAIT_3000_MS, Cluster
from tests.replica.values import create_proposals, verify_log


def _start_next_configuration(omni_paxos, pid):
    """The documentation's loop, for the server `pid` (the example shows pid 2)."""
    idx = 0
    new_omnipaxos = None
    # --- as in the OmniPaxos documentation -------------------------------------------------------------------------
    current_config = ServerConfig(pid=pid)
    decided_entries = omni_paxos.read_decided_suffix(idx)           # list[LogEntry] | None
    for d in decided_entries or []:
        match d:
            case LogEntry.StopSign(stopsign, True):
                new_configuration = stopsign.next_config
                if current_config.pid in new_configuration.nodes:
                    new_omnipaxos = new_configuration.build_for_server(current_config, MemoryStorage())
    # ---------------------------------------------------------------------------------------------
    return new_omnipaxos


def test_seed_doc_example():
    old = Cluster(3)
    old.make_proposals(1, create_proposals(1, 5))
    old.crash(3)
    old.tick(5)
    omni_paxos = old.node(2)

    # --- as in the OmniPaxos documentation -----------------------------------------------------------------------------
    new_configuration = ClusterConfig(configuration_id=2, nodes=[1, 2, 4])
    omni_paxos.reconfigure(new_configuration, metadata=None)        # raises ProposeErr on failure
    # -------------------------------------------------------------------------------------------------
    old.wait_until(lambda: all(old.node(p).is_reconfigured() is not None for p in old.alive()),
                   budget=WAIT_3000_MS, what="the StopSign being decided by nodes 1 and 2")

    instances = {pid: _start_next_configuration(old.node(pid), pid) for pid in old.alive()}
    assert all(op is not None for op in instances.values()), "a surviving member did not start config 2"
    assert _start_next_configuration(old.node(1), 9) is None  # a pid outside [1, 2, 4] starts nothing
    # Node 4 never saw the StopSign: the application starts it fresh for configuration 2.
    instances[4] = new_configuration.build_for_server(ServerConfig(pid=4), MemoryStorage())

    new = Cluster.from_instances(instances)
    leader = new.elected_leader(1)
    assert leader == 4  # equal priorities: the highest pid of the new configuration
    for pid in new.pids:
        assert new.node(pid).get_promise().config_id == 2
    proposals = create_proposals(100, 104)
    new.make_proposals(1, proposals)
    for pid in new.pids:
        verify_log(new.decided_log(pid), proposals)
