"""Answers with one known mistake each, as answer-cell sources (shared by the grading tests).

Each entry: exercise id -> {name: (sources, the checks that must fail, the rest must pass)}.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

QUORUM_TOO_SMALL = '''
def is_quorum(count, num_nodes, flexible_quorum, phase):
    if flexible_quorum is None:
        return count >= num_nodes // 2
    return count >= flexible_quorum.write_quorum_size
'''

QUORUM_ALL_NODES = '''
def is_quorum(count, num_nodes, flexible_quorum, phase):
    return count >= num_nodes
'''

BLE_BASE = '''
from dataclasses import replace

class MyBallotLeaderElection(BlankBallotLeaderElection):
    def update_leader(self):
        claimed = [r.ballot for r in self.heartbeat_replies if r.leader == r.ballot]
        if claimed and max(claimed) > self.leader:
            self.leader = max(claimed)

    def update_happiness(self, sp_state):
        replies = self.heartbeat_replies
        if self.leader == self.current_ballot:
            followers = sum(1 for r in replies if r.leader <= self.current_ballot) + 1
            if sp_state == (Role.LEADER, Phase.ACCEPT):
                enough = self.quorum.is_accept_quorum(followers)
            else:
                enough = self.quorum.is_prepare_quorum(followers)
            self.happy = enough or any(r.leader > self.current_ballot and r.happy for r in replies)
        else:
            self.happy = any(r.ballot == self.leader and r.happy for r in replies)

    def check_takeover(self):
        replies = self.heartbeat_replies
        if TAKEOVER:
            self.current_ballot = replace(self.current_ballot, n=self.leader.n + 1)
            self.leader = self.current_ballot
            self.happy = True
'''

BLE_NO_QUORUM_CONNECTED = BLE_BASE.replace("TAKEOVER", "not self.happy and all(not r.happy for r in replies)")
BLE_IGNORES_HAPPY_NEIGHBOURS = BLE_BASE.replace(
    "TAKEOVER", "not self.happy and self.quorum.is_prepare_quorum(len(replies) + 1)")
BLE_NEVER_TAKES_OVER = BLE_BASE.replace("TAKEOVER", "False")

SP_BASE = '''
class MySequencePaxos(BlankSequencePaxos):
    def is_more_up_to_date(self, promise, best):
        UP_TO_DATE

    def sync_point(self, follower, adopted):
        SYNC
'''
RIGHT_UP_TO_DATE = ("return promise.n_accepted > best.n_accepted or (promise.n_accepted == best.n_accepted "
                    "and promise.accepted_idx > best.accepted_idx)")
RIGHT_SYNC = ("return (follower.accepted_idx if follower.n_accepted == self.leader_state.n_leader else "
              "min(adopted.accepted_idx, follower.accepted_idx) if follower.n_accepted == adopted.n_accepted "
              "else follower.decided_idx)")
SP_LONGEST_LOG = SP_BASE.replace("UP_TO_DATE", "return promise.accepted_idx > best.accepted_idx").replace(
    "SYNC", RIGHT_SYNC)
SP_KEEPS_OWN_LOG = SP_BASE.replace("UP_TO_DATE", "return best.pid == 0").replace("SYNC", RIGHT_SYNC)
SP_SYNC_TOO_HIGH = SP_BASE.replace("UP_TO_DATE", RIGHT_UP_TO_DATE).replace("SYNC", "return follower.accepted_idx")
SP_SYNC_TOO_LOW = SP_BASE.replace("UP_TO_DATE", RIGHT_UP_TO_DATE).replace("SYNC", "return follower.decided_idx")

BREAK_NOTHING = '''
def schedule():
    return ["cluster.run(ticks=3)", "cluster.put('a', 1)", "cluster.run(ticks=2)"]
'''
BREAK_THE_REFERENCE_TOO = '''
def schedule():
    return ["cluster = Cluster([1, 2, 3], seed=0)", "cluster.run(ticks=3)", "cluster.cut(3, 1)",
            "cluster.put('a', 1, at=3)", "cluster.run(ticks=1)", "cluster.get('a', at=1)"]
'''
BREAK_WITH_CODE = '''
def schedule():
    return ["__import__('os').system('true')"]
'''

RC_BASE = '''
class MyReconfigurationService(BlankReconfigurationService):
    def apply_decided(self, config_id, omni, replaying=False):
        server = self.server
        idx = server.applied[config_id]
        for slot in omni.read_decided_suffix(idx) or []:
            match slot:
                case LogEntry.Decided(entry):
                    self.apply_entry(config_id, idx, entry, replaying)
                    idx += 1
                case LogEntry.StopSign(stopsign, True):
                    self.record_stopsign(config_id, idx, stopsign, replaying)
                    idx += 1
                    next_config = stopsign.next_config
                    if server.pid in next_config.nodes:
                        if next_config.configuration_id not in server.instances:
                            storage = MemoryStorage()
                            new_omnipaxos = next_config.build_for_server(server.server_config, storage,
                                                                         components=server.variant.replica)
                            self.start_next_instance(config_id, stopsign, new_omnipaxos, storage)
                    else:
                        RETIRE
                    old_nodes = server.durable.configs[config_id].nodes
                    new_pids = [p for p in next_config.nodes if p not in old_nodes]
                    TELL
                case _:
                    idx = self.apply_compacted(config_id, idx, slot, replaying)
        server.applied[config_id] = idx
'''
_RETIRE = "self.retire(config_id, replaying)"
_TELL = "self.tell_new_nodes(config_id, stopsign, idx, new_pids, replaying)"
RC_SOLVED = RC_BASE.replace("RETIRE", _RETIRE).replace("TELL", _TELL)
RC_NEVER_TELLS = RC_BASE.replace("RETIRE", _RETIRE).replace("TELL", "pass")
RC_NEVER_RETIRES = RC_BASE.replace("RETIRE", "pass").replace("TELL", _TELL)
#: Starts the next configuration (and hands the new nodes) an empty key-value state.
RC_FORGETS_THE_STATE = RC_SOLVED.replace(
    "                    self.record_stopsign(config_id, idx, stopsign, replaying)\n",
    "                    self.record_stopsign(config_id, idx, stopsign, replaying)\n"
    "                    server.state_machine = type(server.state_machine)()\n")

ST_BASE = '''
class MyStateTransfer(BlankStateTransfer):
    def handle_message(self, env):
        msg = env.message
        if isinstance(msg, TransferAck):
            self.unacked.pop(env.sender, None)
            return
        if isinstance(msg, StartInstance):
            config_id = msg.config.configuration_id
            if RUNNING:
                return
            self.told[config_id] = msg.config
        else:
            config_id = msg.config_id
            if EARLY:
                return
            if RUNNING:
                ACK
                return
            self.transfers[config_id] = (env.sender, msg)
        if config_id in self.told and config_id in self.transfers:
            self.join(config_id)
'''
_ACK = "self.send(env.sender, config_id, TransferAck(config_id))"
ST_NEEDS_ORDER = ST_BASE.replace("RUNNING", "config_id in self.server.instances").replace("ACK", _ACK).replace(
    "EARLY", "config_id not in self.told and config_id not in self.server.instances")
ST_NO_ACK_WHEN_RUNNING = ST_BASE.replace("RUNNING", "config_id in self.server.instances").replace("ACK", "pass").replace(
    "EARLY", "False")
ST_JOINS_TWICE = ST_BASE.replace("RUNNING", "False").replace("ACK", _ACK).replace("EARLY", "False")

#: exercise id -> name -> (answer sources, the checks that must fail)
WRONG = {
    "ex01": {
        "too-small": ({"is_quorum": QUORUM_TOO_SMALL}, {"majority", "flexible", "overlap", "split-brain",
                                                        "flexible-split"}),
        "all-nodes": ({"is_quorum": QUORUM_ALL_NODES}, {"majority", "flexible", "flexible-split", "two-crashes"}),
    },
    "ex02": {
        "no-quorum-connected": ({"MyBallotLeaderElection": BLE_NO_QUORUM_CONNECTED}, {"isolated-node"}),
        "ignores-happy-neighbours": ({"MyBallotLeaderElection": BLE_IGNORES_HAPPY_NEIGHBOURS}, {"chained"}),
        "never-takes-over": ({"MyBallotLeaderElection": BLE_NEVER_TAKES_OVER},
                             {"re-election-after-crash", "priorities", "quorum-loss", "constrained-election"}),
    },
    "ex03": {
        "longest-log": ({"MySequencePaxos": SP_LONGEST_LOG}, {"most-up-to-date", "round-beats-length"}),
        "keeps-own-log": ({"MySequencePaxos": SP_KEEPS_OWN_LOG},
                          {"most-up-to-date", "constrained-election", "missing-decided-entry", "round-beats-length"}),
        "sync-too-high": ({"MySequencePaxos": SP_SYNC_TOO_HIGH}, {"sync-point", "round-beats-length"}),
        "sync-too-low": ({"MySequencePaxos": SP_SYNC_TOO_LOW}, {"sync-point", "efficient-sync"}),
    },
    "ex04": {
        "never-tells-new-nodes": ({"MyReconfigurationService": RC_NEVER_TELLS},
                                  {"replace-crashed-node", "two-in-a-row", "all-new-nodes"}),
        "never-retires": ({"MyReconfigurationService": RC_NEVER_RETIRES}, {"two-in-a-row", "all-new-nodes"}),
        "forgets-the-state": ({"MyReconfigurationService": RC_FORGETS_THE_STATE},
                              {"replace-crashed-node", "two-in-a-row", "all-new-nodes"}),
    },
    "ex05": {
        "needs-order": ({"MyStateTransfer": ST_NEEDS_ORDER}, {"reordered"}),
        "no-ack-when-running": ({"MyStateTransfer": ST_NO_ACK_WHEN_RUNNING},
                                {"in-order", "reordered", "dropped", "duplicated"}),
        "joins-twice": ({"MyStateTransfer": ST_JOINS_TWICE}, {"in-order", "reordered", "dropped", "duplicated"}),
    },
    "ex06": {
        "breaks-nothing": ({"schedule": BREAK_NOTHING}, {"breaks-the-mutant"}),
        "breaks-the-reference-too": ({"schedule": BREAK_THE_REFERENCE_TOO},
                                     {"breaks-the-mutant", "fair-on-the-reference"}),
        "code-not-data": ({"schedule": BREAK_WITH_CODE}, {"breaks-the-mutant", "fair-on-the-reference"}),
    },
}
