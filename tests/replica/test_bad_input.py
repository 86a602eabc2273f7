"""Caller mistakes come back as typed errors that hand back what was refused and say what to do
.
"""

from __future__ import annotations

import pytest

from omnilab.replica.ballot import Ballot
from omnilab.replica.config import ClusterConfig, FlexibleQuorum, OmniPaxosConfig, ServerConfig
from omnilab.replica.entries import StopSign, entry
from omnilab.replica.errors import CompactionErr, ConfigError, ProposeErr
from omnilab.replica.storage import MemoryStorage



def invalid(call) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        call()
    err = info.value
    assert type(err) is ConfigError.InvalidConfig
    assert isinstance(err, ConfigError)
    return err


def assert_says(err: Exception, msg: str, *advice: str) -> None:
    """The message names the broken rule exactly (as the reference) and then says what to do."""
    assert err.msg == msg
    text = str(err)
    assert text.startswith(f"Invalid config: {msg}")
    assert len(text) > len(f"Invalid config: {msg}") + 5, f"no advice in {text!r}"
    for phrase in advice:
        assert phrase in text, f"{phrase!r} not in {text!r}"


# --- ClusterConfig.validate, rule by rule, first failure wins --------------------------------------

def cluster(cid=1, nodes=(1, 2, 3), r=None, w=None):
    fq = None if r is None else FlexibleQuorum(read_quorum_size=r, write_quorum_size=w)
    return ClusterConfig(configuration_id=cid, nodes=list(nodes), flexible_quorum=fq)


@pytest.mark.parametrize("cfg, msg, advice", [
    # 1. more than one node (wins over everything below)
    (cluster(nodes=[]), "Need more than 1 node", "nodes"),
    (cluster(cid=0, nodes=[1], r=9, w=9), "Need more than 1 node", "nodes"),
    # 2. configuration id
    (cluster(cid=0), "Configuration ID cannot be 0", "from 1"),
    (cluster(cid=0, r=1, w=1), "Configuration ID cannot be 0", "from 1"),
    # 3a. quorums overlap (checked before the ranges)
    (cluster(r=1, w=2), "The quorums must overlap i.e., the sum of their sizes must exceed the # of nodes", "4"),
    (cluster(r=1, w=1), "The quorums must overlap i.e., the sum of their sizes must exceed the # of nodes", "4"),
    # 3b. read quorum range (before the write range)
    (cluster(r=1, w=3), "Read quorum must be in range 2 to # of nodes in the cluster", "read_quorum_size"),
    (cluster(r=4, w=4), "Read quorum must be in range 2 to # of nodes in the cluster", "read_quorum_size"),
    # 3c. write quorum range
    (cluster(r=3, w=1), "Write quorum must be in range 2 to # of nodes in the cluster", "write_quorum_size"),
    (cluster(nodes=[1, 2, 3, 4], r=4, w=5), "Write quorum must be in range 2 to # of nodes in the cluster",
     "write_quorum_size"),
    # 3d. read >= write
    (cluster(r=2, w=3), "Read quorum size must be >= the write quorum size.", "read_quorum_size"),
])
def test_cluster_config_rules_in_order(cfg, msg, advice):
    assert_says(invalid(cfg.validate), msg, advice)


@pytest.mark.parametrize("cfg", [
    cluster(), cluster(nodes=[1, 2]), cluster(r=2, w=2), cluster(r=3, w=2), cluster(r=3, w=3),
    cluster(nodes=list(range(1, 9)), r=6, w=3), cluster(nodes=[1, 3]),
])
def test_valid_cluster_configs_pass(cfg):
    assert cfg.validate() is None


# --- ServerConfig.validate ------------------------------------------------------------------------

@pytest.mark.parametrize("fields, msg, advice", [
    (dict(pid=0), "Server pid cannot be 0", "pid"),
    (dict(pid=0, buffer_size=0, batch_size=0, election_tick_timeout=0, resend_message_tick_timeout=0),
     "Server pid cannot be 0", "pid"),
    (dict(pid=1, buffer_size=0, batch_size=0), "Buffer size must be greater than 0", "buffer_size"),
    (dict(pid=1, batch_size=0, election_tick_timeout=0), "Batch size must be greater than 0", "batch_size=1"),
    (dict(pid=1, election_tick_timeout=0, resend_message_tick_timeout=0),
     "Election tick timeout must be greater than 0", "election_tick_timeout"),
    (dict(pid=1, resend_message_tick_timeout=0), "Resend message tick timeout must be greater than 0",
     "resend_message_tick_timeout"),
])
def test_server_config_rules_in_order(fields, msg, advice):
    assert_says(invalid(ServerConfig(**fields).validate), msg, advice)


def test_server_config_defaults_and_unvalidated_flush_timeout():
    sc = ServerConfig(pid=1)
    assert (sc.election_tick_timeout, sc.resend_message_tick_timeout, sc.buffer_size, sc.batch_size,
            sc.flush_batch_tick_timeout, sc.leader_priority) == (1, 100, 100000, 1, 200, 0)
    assert ServerConfig(pid=1, flush_batch_tick_timeout=0).validate() is None  # 0 = never flush


# --- OmniPaxosConfig.validate: cluster, then server, then membership -------------------------------

@pytest.mark.parametrize("cc, sc, msg, advice", [
    (cluster(cid=0), ServerConfig(pid=0), "Configuration ID cannot be 0", "from 1"),
    (cluster(), ServerConfig(pid=0), "Server pid cannot be 0", "pid"),
    (cluster(), ServerConfig(pid=9, batch_size=0), "Batch size must be greater than 0", "batch_size"),
    (cluster(), ServerConfig(pid=9), "Nodes must include own server pid", "9"),
])
def test_omnipaxos_config_checks_cluster_then_server_then_membership(cc, sc, msg, advice):
    cfg = OmniPaxosConfig(cluster_config=cc, server_config=sc)
    assert_says(invalid(cfg.validate), msg, advice)


def test_default_omnipaxos_config_is_invalid():
    assert_says(invalid(OmniPaxosConfig().validate), "Need more than 1 node")


def test_build_validates_first():
    storage = MemoryStorage()
    err = invalid(lambda: OmniPaxosConfig(cluster(), ServerConfig(pid=4)).build(storage))
    assert err.msg == "Nodes must include own server pid"
    err = invalid(lambda: cluster(cid=0).build_for_server(ServerConfig(pid=1), storage))
    assert err.msg == "Configuration ID cannot be 0"
    assert storage.get_promise() is None  # nothing was built, nothing written


# --- OmniPaxosConfig.with_toml --------------------------------------------------------------------



def test_with_toml_missing_file_is_a_read_error(tmp_path):
    with pytest.raises(ConfigError.ReadFile) as info:
        OmniPaxosConfig.with_toml(tmp_path / "nope.toml")
    assert isinstance(info.value, ConfigError)
    assert "nope.toml" in str(info.value)


@pytest.mark.parametrize("text", [
    "[cluster_config\nnodes = [1, 2]",                  # not TOML
    "[cluster_config]\nnodes = [1, 2]\ncolour = 3\n",   # unknown field of ClusterConfig
])
def test_with_toml_bad_content_is_a_parse_error(tmp_path, text):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError.Parse) as info:
        OmniPaxosConfig.with_toml(path)
    assert isinstance(info.value, ConfigError)
    assert "bad.toml" in str(info.value)


def test_with_toml_fills_defaults(tmp_path):
    path = tmp_path / "node.toml"
    path.write_text("[cluster_config]\nconfiguration_id = 1\nnodes = [1, 2, 3]\n\n[server_config]\npid = 2\n")
    cfg = OmniPaxosConfig.with_toml(path)
    assert cfg.cluster_config == ClusterConfig(1, [1, 2, 3])
    assert cfg.server_config == ServerConfig(pid=2)


def test_with_toml_all_fields(tmp_path):
    # The reference's tests/config/node1.toml (config_all_fields_test); the logger path is ignored.
    path = tmp_path / "node1.toml"
    path.write_text(
        "[cluster_config]\nconfiguration_id = 1\nnodes = [1, 2, 3, 4, 5]\n"
        "flexible_quorum = { read_quorum_size = 4, write_quorum_size = 2 }\n\n"
        "[server_config]\npid = 1\nelection_tick_timeout = 10\nresend_message_tick_timeout = 100\n"
        "flush_batch_tick_timeout = 200\nbuffer_size = 10000\nbatch_size = 2\n"
        "logger_file_path = \"logs/paxos_1.log\"\nleader_priority = 2\n")
    cfg = OmniPaxosConfig.with_toml(path)
    assert cfg.cluster_config == ClusterConfig(1, [1, 2, 3, 4, 5], FlexibleQuorum(4, 2))
    assert cfg.server_config == ServerConfig(pid=1, election_tick_timeout=10, resend_message_tick_timeout=100,
                                             flush_batch_tick_timeout=200, buffer_size=10000, batch_size=2,
                                             leader_priority=2)
    cfg.build(MemoryStorage())


def test_with_toml_validates(tmp_path):
    path = tmp_path / "node.toml"
    path.write_text("[cluster_config]\nconfiguration_id = 1\nnodes = [1, 2, 3]\n\n[server_config]\npid = 7\n")
    assert_says(invalid(lambda: OmniPaxosConfig.with_toml(path)), "Nodes must include own server pid")


# --- ProposeErr ----------------------------------------------------------------------------------

SS = StopSign(ClusterConfig(2, [1, 2, 4]), metadata=b"md")


def replica_over(storage, pid=1, nodes=(1, 2, 3)):
    return ClusterConfig(1, list(nodes)).build_for_server(ServerConfig(pid=pid), storage)


def storage_with_stopsign(decided: bool) -> MemoryStorage:
    storage = MemoryStorage()
    storage.append_entries(["a", "b"])
    storage.set_stopsign(SS)
    storage.set_accepted_round(Ballot(1, 1, 0, 3))
    storage.set_promise(Ballot(1, 1, 0, 3))
    storage.set_decided_idx(3 if decided else 2)
    return storage


@pytest.mark.parametrize("decided", [False, True])
def test_append_after_a_stopsign_hands_the_entry_back(decided):
    omni = replica_over(storage_with_stopsign(decided))
    proposal = {"key": "x", "value": 1}
    with pytest.raises(ProposeErr.PendingReconfigEntry) as info:
        omni.append(proposal)
    err = info.value
    assert isinstance(err, ProposeErr)
    assert err.entry is proposal
    assert "StopSign" in str(err) and "next configuration" in str(err)
    assert (omni.is_reconfigured() == SS) == decided


@pytest.mark.parametrize("decided", [False, True])
def test_reconfigure_after_a_stopsign_hands_config_and_metadata_back(decided):
    omni = replica_over(storage_with_stopsign(decided))
    new = ClusterConfig(3, [1, 2, 5])
    with pytest.raises(ProposeErr.PendingReconfigConfig) as info:
        omni.reconfigure(new, metadata=[7, 8])
    err = info.value
    assert isinstance(err, ProposeErr)
    assert err.config is new
    assert err.metadata == [7, 8]
    assert "already" in str(err) and "Wait" in str(err)


def test_reconfigure_with_an_invalid_config_hands_everything_back():
    omni = replica_over(MemoryStorage())
    bad = ClusterConfig(2, [1])
    with pytest.raises(ProposeErr.ConfigError) as info:
        omni.reconfigure(bad, metadata=b"m")
    err = info.value
    assert isinstance(err, ProposeErr)
    assert err.config is bad
    assert err.metadata == b"m"
    assert type(err.error) is ConfigError.InvalidConfig
    assert err.error.msg == "Need more than 1 node"
    assert "Need more than 1 node" in str(err) and "nodes=" in str(err)


def test_an_invalid_config_is_reported_before_a_pending_stopsign():
    omni = replica_over(storage_with_stopsign(decided=False))
    with pytest.raises(ProposeErr.ConfigError) as info:
        omni.reconfigure(ClusterConfig(0, [1, 2]))
    assert info.value.error.msg == "Configuration ID cannot be 0"
    assert info.value.metadata is None


def test_append_at_a_leader_holding_an_undecided_stopsign_is_refused():
    from tests.replica.property_net import Net

    net = Net([1, 2, 3])
    net.run(3)
    leader = net.leader()
    assert leader is not None
    omni = net.omnis[leader]
    omni.reconfigure(ClusterConfig(2, [1, 2, 3]))  # stored at the leader at once, decided later
    with pytest.raises(ProposeErr.PendingReconfigEntry) as info:
        omni.append(42)
    assert info.value.entry == 42
    net.run(2)
    assert omni.is_reconfigured() == StopSign(ClusterConfig(2, [1, 2, 3]), None)
    with pytest.raises(ProposeErr.PendingReconfigEntry):
        omni.append(43)


# --- CompactionErr -------------------------------------------------------------------------------

class CountSnapshot:
    """Snapshot of a run of `Item`s: how many and the last one."""

    def __init__(self, count=0, last=None):
        self.count, self.last = count, last

    @classmethod
    def create(cls, entries):
        entries = list(entries)
        return cls(len(entries), entries[-1] if entries else None)

    def merge(self, delta):
        self.count += delta.count
        if delta.last is not None:
            self.last = delta.last

    def __eq__(self, other):
        return isinstance(other, CountSnapshot) and (self.count, self.last) == (other.count, other.last)


@entry(snapshot=CountSnapshot)
class Item:
    def __init__(self, n):
        self.n = n

    def __eq__(self, other):
        return isinstance(other, Item) and other.n == self.n

    def __repr__(self):
        return f"Item({self.n})"


def test_trim_on_a_fresh_node_is_not_current_leader_with_pid_0():
    omni = replica_over(MemoryStorage(), pid=2)
    for call in (lambda: omni.trim(100), lambda: omni.trim()):
        with pytest.raises(CompactionErr.NotCurrentLeader) as info:
            call()
        assert isinstance(info.value, CompactionErr)
        assert info.value.pid == 0
        assert "leader" in str(info.value)


@pytest.fixture
def net():
    from tests.replica.property_net import Net

    n = Net([1, 2, 3])
    n.run(3)
    assert n.leader() == 3
    return n


def test_trim_on_a_follower_names_the_leader(net):
    with pytest.raises(CompactionErr.NotCurrentLeader) as info:
        net.omnis[1].trim(0)
    assert info.value.pid == 3
    assert "node 3" in str(info.value)


def test_trim_beyond_what_every_node_accepted_is_not_all_decided(net):
    net.isolate(1)
    for i in range(5):
        net.omnis[3].append(Item(i))
        net.deliver_all()
    leader = net.omnis[3]
    assert leader.get_decided_idx() == 5
    with pytest.raises(CompactionErr.NotAllDecided) as info:
        leader.trim(3)
    err = info.value
    assert isinstance(err, CompactionErr)
    assert err.idx == net.omnis[1].get_decided_idx() == 0
    assert "Trim at most up to 0" in str(err) and "wait" in str(err)
    leader.trim()  # None = as far as every node accepted: allowed, a no-op here
    assert leader.get_compacted_idx() == 0


def test_compaction_beyond_the_decided_index_is_undecided_index(net):
    for i in range(4):
        net.omnis[3].append(Item(i))
    net.deliver_all()
    for pid in (1, 2, 3):
        omni = net.omnis[pid]
        assert omni.get_decided_idx() == 4
        with pytest.raises(CompactionErr.UndecidedIndex) as info:
            omni.snapshot(5, local_only=True)
        assert isinstance(info.value, CompactionErr)
        assert info.value.idx == 4
        assert "Use an index <= 4" in str(info.value)


def test_compaction_at_or_below_the_compacted_index_is_a_silent_no_op(net):
    for i in range(6):
        net.omnis[3].append(Item(i))
    net.deliver_all()
    leader = net.omnis[3]
    assert leader.snapshot(4, local_only=True) is None
    assert leader.get_compacted_idx() == 4
    assert leader.snapshot(2, local_only=True) is None  # TrimmedIndex is unreachable
    assert leader.snapshot(4, local_only=True) is None
    assert leader.get_compacted_idx() == 4
    net.deliver_all()
    assert leader.trim(3) is None
    assert leader.get_compacted_idx() == 4
