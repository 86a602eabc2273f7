"""Variants: a cluster is built from the classes its variant names, records it, and replays it."""

from __future__ import annotations

import pytest

from omnilab import cli
from omnilab.replica.components import REFERENCE_COMPONENTS, Components
from omnilab.replica.config import ClusterConfig, Quorum, ServerConfig
from omnilab.replica.storage import MemoryStorage
from omnilab.sim import BadInput, Cluster
from omnilab.sim.variant import REFERENCE, UnknownVariant, Variant, importable_name, resolve


class EveryNodeQuorum(Quorum):
    """Deciding needs every node's acceptance (a legal but unavailable rule: one crash stops it)."""

    @classmethod
    def of(cls, num_nodes, flexible_quorum):
        majority = num_nodes // 2 + 1
        return cls(majority, num_nodes)


#: Importable (module-level): the trace records "tests.sim.test_variant:EVERY_NODE".
EVERY_NODE = REFERENCE.with_components("every-node-decides", quorum=EveryNodeQuorum)


def _crash_a_follower_and_put(variant):
    cluster = Cluster([1, 2, 3], variant=variant)
    cluster.run(3)
    leader = cluster.leader()
    follower = next(p for p in cluster.pids if p != leader)
    cluster.crash(follower)
    op = cluster.put("k", 1)
    cluster.run(3)
    return cluster, op


def test_reference_is_the_default():
    cluster = Cluster([1, 2, 3])
    assert cluster.variant is REFERENCE
    assert cluster.trace[0].variant is None and cluster.trace[0].variant_name is None
    assert "variant" not in repr(cluster)
    assert "variant" not in cluster.trace.script()
    assert all(omni.components is REFERENCE_COMPONENTS for _, _, omni in cluster.live_replicas())
    assert resolve(None) is REFERENCE and resolve("reference") is REFERENCE and resolve(REFERENCE) is REFERENCE


def test_a_custom_quorum_rule_changes_behaviour():
    _, op = _crash_a_follower_and_put(REFERENCE)
    assert op.completed is not None  # a majority of two decides
    cluster, op = _crash_a_follower_and_put(EVERY_NODE)
    assert op.completed is None  # every node must accept, and one is down
    assert all(type(omni.seq_paxos.quorum) is EveryNodeQuorum for _, _, omni in cluster.live_replicas())
    assert all(type(omni.ble.quorum) is EveryNodeQuorum for _, _, omni in cluster.live_replicas())
    assert "variant='every-node-decides'" in repr(cluster)


def test_the_variant_reaches_instances_started_later():
    cluster, _ = _crash_a_follower_and_put(EVERY_NODE)
    crashed = next(p for p, s in cluster.servers.items() if not s.up)
    cluster.recover(crashed)  # rebuilt from storage
    cluster.run(3)
    cluster.reconfigure([1, 2, 3, 4])  # a new server started by the state transfer
    cluster.run(6)
    assert 4 in cluster.servers and cluster.servers[4].instances
    for _, _, omni in cluster.live_replicas():
        assert omni.components is EVERY_NODE.replica


def test_replay_rebuilds_the_recorded_variant():
    cluster, _ = _crash_a_follower_and_put(EVERY_NODE)
    assert cluster.trace[0].variant == "tests.sim.test_variant:EVERY_NODE"
    assert "variant='tests.sim.test_variant:EVERY_NODE'" in cluster.trace.script()
    again = Cluster.replay(cluster.trace)
    assert again.variant == EVERY_NODE
    assert list(again.trace) == list(cluster.trace)
    cluster.undo()
    assert cluster.variant == EVERY_NODE


def test_a_variant_that_cannot_be_imported_is_passed_to_replay():
    class Lonely(Quorum):
        def is_accept_quorum(self, count):
            return count >= 1

    local = REFERENCE.with_components("local-variant", quorum=Lonely)
    assert importable_name(local) is None
    cluster, _ = _crash_a_follower_and_put(local)
    first = cluster.trace[0]
    assert first.variant is None and first.variant_name == "local-variant"
    assert "variant=VARIANT" in first.call() and "local-variant" in first.call()
    with pytest.raises(BadInput, match="local-variant.*cannot be imported.*variant="):
        Cluster.replay(cluster.trace)
    again = Cluster.replay(cluster.trace, variant=local)
    assert list(again.trace) == list(cluster.trace)
    cluster.undo()  # undo keeps the variant it runs
    assert cluster.variant is local


@pytest.mark.parametrize("spec, match", [
    ("no-such-mutant", "there is no variant 'no-such-mutant'.*reference"),
    ("no.such.module:X", "cannot import module 'no.such.module'"),
    ("omnilab.sim.variant:NOPE", "has no attribute 'NOPE'"),
    ("omnilab.sim.variant:resolve", "not a Variant"),
    (42, "takes a Variant or its name"),
])
def test_unknown_variants_give_a_clear_error(spec, match):
    with pytest.raises(UnknownVariant, match=match):
        Cluster([1, 2, 3], variant=spec)


def test_bad_variants_are_refused():
    with pytest.raises(BadInput, match="unknown component"):
        REFERENCE.with_components(quorum_rule=Quorum)
    with pytest.raises(BadInput, match="ReconfigurationService"):
        Variant("x", service=int)
    with pytest.raises(BadInput, match="Components"):
        Variant("x", replica=Quorum)


def test_the_replica_hook_defaults_to_the_reference():
    config = ClusterConfig(1, [1, 2, 3])
    omni = config.build_for_server(ServerConfig(pid=1), MemoryStorage())
    assert omni.components is REFERENCE_COMPONENTS
    omni = config.build_for_server(ServerConfig(pid=1), MemoryStorage(), components=Components(quorum=EveryNodeQuorum))
    assert omni.seq_paxos.quorum == EveryNodeQuorum(2, 3)


def test_fuzz_takes_a_variant(capsys):
    spec = "tests.sim.test_variant:EVERY_NODE"
    assert cli.main(["fuzz", "--seeds", "1", "--steps", "10", "--variant", spec]) in (0, 1)
    assert "variant every-node-decides" in capsys.readouterr().out
    assert cli.main(["fuzz", "--seeds", "1", "--variant", "nope"]) == 2
    assert "there is no variant 'nope'" in capsys.readouterr().out


def test_the_lab_shows_the_variant_and_replays_it():
    from omnilab.widgets import lab

    class Lonely(Quorum):
        def is_accept_quorum(self, count):
            return count >= 1

    local = REFERENCE.with_components("lonely-quorum", quorum=Lonely)
    cluster = Cluster([1, 2, 3], variant=local)
    cluster.run(3)
    w = lab(cluster)
    assert "variant lonely-quorum" in w.summary()
    w.press("replay")  # a variant defined here cannot be imported: the lab hands it over
    assert w.cluster is not cluster and w.cluster.variant is local and w.cluster.trace == cluster.trace
    assert "variant" not in lab(Cluster([1, 2, 3])).summary()


def test_the_simulator_builds_instances_in_one_place():
    """Every instance the simulator starts goes through `start_instance`, so a variant reaches all."""
    import ast
    from pathlib import Path

    import omnilab.sim

    def builds(path):
        return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                   and node.func.attr == "build_for_server"
                   for node in ast.walk(ast.parse(path.read_text())))

    sim = Path(omnilab.sim.__file__).parent
    assert sorted(p.name for p in sim.glob("*.py") if builds(p)) == ["instances.py"]
