"""One renderer for an entry and one for a message: every view reads them the same way."""

from omnilab.kv import KeyValue
from omnilab.replica.ballot import Ballot
from omnilab.replica.config import ClusterConfig
from omnilab.replica.entries import StopSign
from omnilab.replica.messages import AcceptDecide, HeartbeatRequest, PaxosMessage, Prepare
from omnilab.sim import Cluster, Sent, scenarios
from omnilab.sim.service import StartInstance
from omnilab.view import tables
from omnilab.view.text import entry_text, envelope_text, message_fields, message_fields_text, message_text, payload

STOPSIGN = StopSign(ClusterConfig(configuration_id=2, nodes=[1, 2, 4]))


def test_an_entry_reads_as_the_learner_wrote_it():
    assert entry_text(KeyValue("a", 1)) == "a=1"
    assert entry_text(STOPSIGN) == "StopSign→c2 [1, 2, 4]"
    assert entry_text(STOPSIGN, members=False) == "StopSign→c2"
    assert entry_text(7) == "7" and entry_text("x") == "x"

    class Plain:
        def __repr__(self):
            return "Plain()"

    assert entry_text(Plain()) == "Plain()"


def test_a_message_reads_on_one_line_with_short_ballots():
    prepare = Prepare(n=Ballot(config_id=1, n=2, priority=0, pid=3), decided_idx=4,
                      n_accepted=Ballot(config_id=1, n=1, priority=0, pid=3), accepted_idx=5)
    assert message_text(prepare) == "Prepare(n=2.3, decided_idx=4, n_accepted=1.3, accepted_idx=5)"
    wrapped = PaxosMessage(3, 1, prepare)
    assert payload(wrapped) is prepare and message_text(wrapped) == message_text(prepare)
    assert message_fields_text(prepare) == ("Prepare", "n=2.3, decided_idx=4, n_accepted=1.3, accepted_idx=5")
    assert message_fields(HeartbeatRequest(round=7)) == {"round": 7}
    assert message_text(StartInstance(ClusterConfig(configuration_id=2, nodes=[1, 2, 4]))) == \
        "StartInstance(config=c2 [1, 2, 4])"


def test_entries_inside_a_message_read_as_entries():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.put("a", 1)
    env = next(env for env in cluster.network if isinstance(env.payload, AcceptDecide))
    assert "entries=[a=1]" in message_text(env.message)
    long = AcceptDecide(**{**{f: getattr(env.payload, f) for f in env.payload.__dataclass_fields__},
                           "entries": tuple(KeyValue("k", v) for v in range(6))})
    assert "entries=[k=0, k=1, k=2, ... 6 entries]" in message_text(long)


def test_the_tables_use_the_same_renderers():
    cluster = scenarios.replace_crashed_node()
    cluster.reconfigure([1, 2, 4])
    pending = tables.messages(cluster)
    for msg_id, row in pending.iterrows():
        env = cluster.network.in_flight[msg_id]
        assert (row["type"], row["fields"]) == message_fields_text(env.message)
    events = tables.events(cluster, last=None)
    sent = [text for what, text in zip(events["what"], events["text"]) if what == "Sent"]
    assert sent and all(message_text(env.message) in text for text, env in
                        zip(sent, [item.envelope for item in cluster.trace if isinstance(item, Sent)]))
    assert any(entry_text(STOPSIGN) in text for text in events["text"])


def test_an_envelope_reads_as_its_header_and_its_message():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.put("a", 1)
    env = next(iter(cluster.network))
    assert envelope_text(env) == f"#{env.id} {env.sender}→{env.receiver} c1 {message_text(env.message)}"
