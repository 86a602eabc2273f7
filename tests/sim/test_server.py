"""A `Server` is an actor: one input in, an `Out` back; it never reaches the cluster, the trace or the
network. Its state machine and its reconfiguration service come from the variant."""

from dataclasses import replace

from omnilab.kv import KVStore
from omnilab.replica.config import ClusterConfig, ServerConfig
from omnilab.sim import Cluster, Sent
from omnilab.sim.server import CALLED, EVENT, STARTED, Out, Server
from omnilab.sim.service import ReconfigurationService
from omnilab.sim.trace import Crashed, Delivered, Dropped, Recovered
from omnilab.sim.variant import REFERENCE


def test_a_server_alone_answers_each_input_with_an_out():
    config = ClusterConfig(configuration_id=1, nodes=[1, 2, 3])
    server = Server(1, ServerConfig(pid=1))
    started = server.start(config)
    assert isinstance(started, Out) and [step[0] for step in started] == [STARTED]
    assert server.out is None  # between inputs a server holds no Out
    queued = server.poll()
    assert queued[0][0] == CALLED and queued[0][1] == 1
    heartbeats = queued[0][3]
    assert heartbeats and {m.receiver for m in heartbeats} == {2, 3}
    ticked = server.tick()
    assert all(step[0] in (CALLED, EVENT) for step in ticked)
    crashed = server.crash()
    assert [type(step[1]) for step in crashed] == [Crashed] and not server.up and not server.instances
    recovered = server.recover()
    assert type(recovered[0][1]) is Recovered and server.up and list(server.instances) == [1]


def test_a_message_for_no_instance_is_dropped_by_the_server():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.tick()  # heartbeats in flight
    env = next(iter(cluster.network))
    server = cluster.server(env.receiver)
    out = server.deliver(env._replace(config_id=7))
    assert [type(step[1]) for step in out if step[0] == EVENT] == [Dropped]
    assert "runs no instance of configuration 7 yet" in out[0][1].reason
    assert type(server.deliver(env)[0][1]) is Delivered


def test_a_server_holds_no_reference_to_its_cluster():
    import gc

    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.put("a", 1)
    cluster.run(ticks=1)
    server = cluster.server(1)
    seen, todo = set(), [server]
    while todo:  # everything reachable from the server
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, type):
            continue
        seen.add(id(obj))
        todo.extend(gc.get_referents(obj))
    for part in (cluster, cluster.trace, cluster.ledger, cluster.network, cluster.server(2)):
        assert id(part) not in seen, type(part).__name__


class CountingStore(KVStore):
    """A state machine that counts the entries it applied since it was built."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def apply(self, value):
        self.count += 1
        super().apply(value)


class TalliedService(ReconfigurationService):
    """A service that counts the service messages its server received."""

    def __init__(self, server):
        super().__init__(server)
        self.received = 0

    def handle_message(self, env):
        self.received += 1
        super().handle_message(env)


COUNTING = replace(REFERENCE, name="counting", state_machine=CountingStore, service=TalliedService)


def test_the_variants_state_machine_and_service_are_every_servers():
    cluster = Cluster([1, 2, 3], variant=COUNTING)
    cluster.run(ticks=3)
    cluster.put("a", 1)
    cluster.run(ticks=1)
    assert all(type(s.state_machine) is CountingStore and s.state_machine.count == 1 for s in cluster.servers.values())
    cluster.reconfigure([1, 2, 4])
    cluster.run(ticks=4)
    joiner = cluster.server(4)
    assert type(joiner.state_machine) is CountingStore and dict(joiner.kv) == {"a": 1}  # the transferred state
    assert type(joiner.service) is TalliedService and joiner.service.received >= 2
    cluster.crash(1)
    cluster.recover(1)  # a fresh state machine and service, rebuilt by replaying the log
    assert type(cluster.server(1).state_machine) is CountingStore and dict(cluster.server(1).kv) == {"a": 1}
    assert type(cluster.server(1).service) is TalliedService and cluster.server(1).service.server is cluster.server(1)
    assert all(cluster.check())


def test_the_network_sends_and_drops_on_cut_links():
    cluster = Cluster([1, 2, 3])
    network = cluster.network
    first = network.next_id
    sent = network.send(1, 2, 1, "hello")
    assert type(sent) is Sent and sent.envelope.id == first and sent.envelope.id in network
    network.cut(1, 3, one_way=True)
    dropped = network.send(1, 3, 1, "lost")
    assert type(dropped) is Dropped and dropped.reason == "link 1->3 is cut"
    assert dropped.envelope.id == first + 1 and dropped.envelope.id not in network
