"""Hypothesis drives a Cluster with every verb a learner has (but get: a local read at a lagging node
is stale by design), plus holding a message back and releasing it much later (a delay, biased toward
control messages); the invariants must hold after each step, and `check_progress` at the end.

A failure names the broken invariant and prints ``cluster.trace.script()``: the calls that lead there,
ready to paste into a notebook (Hypothesis has already shrunk the step list).
"""

from __future__ import annotations

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from omnilab import CompactionErr, ProposeErr
from omnilab.replica.errors import SnapshotUnsupported
from omnilab.sim import BadInput, Cluster
from omnilab.sim.campaigns import CONTROL_MESSAGES, MAX_RECONFIGURATIONS, _stopsign_pending
from omnilab.sim.invariants import newest_members


class ClusterMachine(RuleBasedStateMachine):
    @initialize(seed=st.integers(0, 3), nodes=st.sampled_from([3, 5]))
    def start(self, seed, nodes):
        self.cluster = Cluster(nodes, seed=seed)
        self.value = 0
        self.reconfigurations = 0
        self.held: set[int] = set()  # messages held back: delivered only by `release`

    def _live(self):
        return [p for p, s in self.cluster.servers.items() if s.up and s.instances]

    def _free(self):
        in_flight = self.cluster.network.in_flight
        self.held &= set(in_flight)
        return sorted(m for m in in_flight if m not in self.held)

    @precondition(lambda self: self._free())
    @rule()
    def deliver_oldest(self):
        self.cluster.step(self._free()[0])

    @precondition(lambda self: self._free())
    @rule(data=st.data())
    def deliver_out_of_order(self, data):
        self.cluster.step(data.draw(st.sampled_from(self._free())))

    @precondition(lambda self: self._free())
    @rule(data=st.data())
    def drop(self, data):
        self.cluster.drop(data.draw(st.sampled_from(self._free())))

    @precondition(lambda self: self._free())
    @rule(data=st.data())
    def duplicate(self, data):
        self.cluster.duplicate(data.draw(st.sampled_from(self._free())))

    @precondition(lambda self: self._free())
    @rule(data=st.data())
    def hold(self, data):
        in_flight = self.cluster.network.in_flight
        free = self._free()
        control = [m for m in free if isinstance(in_flight[m].payload, CONTROL_MESSAGES)]
        self.held.add(data.draw(st.sampled_from(control or free)))

    @precondition(lambda self: self.held & set(self.cluster.network.in_flight))
    @rule(data=st.data())
    def release(self, data):
        msg_id = data.draw(st.sampled_from(sorted(self.held & set(self.cluster.network.in_flight))))
        self.held.discard(msg_id)
        self.cluster.step(msg_id)

    @rule()
    def tick(self):
        self.cluster.tick()

    @rule(ticks=st.integers(1, 3))
    def run(self, ticks):
        self._free()  # forget held messages that are gone
        if self.held:
            self.cluster.tick(ticks)  # run would deliver the held messages too
        else:
            self.cluster.run(ticks)

    @rule(data=st.data())
    def crash_or_recover(self, data):
        pid = data.draw(st.sampled_from(self.cluster.pids))
        if self.cluster.server(pid).up:
            self.cluster.crash(pid)
        else:
            self.cluster.recover(pid)

    @rule(data=st.data())
    def partition(self, data):
        pids = data.draw(st.permutations(self.cluster.pids))
        split = data.draw(st.integers(1, len(pids) - 1))
        self.cluster.partition(pids[:split], pids[split:])

    @rule()
    def heal(self):
        self.cluster.heal()

    @precondition(lambda self: self._live())
    @rule(data=st.data(), key=st.sampled_from("ab"))
    def put(self, data, key):
        self.value += 1
        try:
            self.cluster.put(key, self.value, at=data.draw(st.sampled_from(self._live())))
        except ProposeErr:
            pass

    @precondition(lambda self: self._live() and self.reconfigurations < MAX_RECONFIGURATIONS
                  and not _stopsign_pending(self.cluster))
    @rule(data=st.data())
    def reconfigure(self, data):
        self.reconfigurations += 1
        config_id, current = newest_members(self.cluster)
        at = data.draw(st.sampled_from([p for p in self._live() if self.cluster.server(p).config_id == config_id]
                                       or self._live()))
        leaving = data.draw(st.sampled_from(current))
        try:
            self.cluster.reconfigure([p for p in current if p != leaving] + [max(self.cluster.pids) + 1], at=at)
        except ProposeErr:
            pass

    @rule()
    def trim(self):
        # Safe for the state since every server saves its state before compacting its log.
        try:
            self.cluster.trim()
        except (CompactionErr, BadInput):
            pass  # no leader agreed on, or a node has not accepted that far

    @precondition(lambda self: self._live())
    @rule(data=st.data(), local_only=st.booleans())
    def snapshot(self, data, local_only):
        at = data.draw(st.sampled_from(self._live()))
        decided = self.cluster.server(at).omnipaxos.get_decided_idx()
        idx = data.draw(st.none() | st.integers(0, decided + 1))
        try:
            self.cluster.snapshot(idx, at=at, local_only=local_only)
        except (CompactionErr, SnapshotUnsupported):
            pass

    @precondition(lambda self: self._live())
    @rule(data=st.data(), priority=st.integers(0, 3))
    def set_priority(self, data, priority):
        self.cluster.set_priority(data.draw(st.sampled_from(self._live())), priority)

    @precondition(lambda self: self._live())
    @rule(data=st.data())
    def try_become_leader(self, data):
        self.cluster.try_become_leader(data.draw(st.sampled_from(self._live())))

    @invariant()
    def every_invariant_holds(self):
        failed = [v for v in self.cluster.check() if not v.ok]
        assert not failed, (f"{failed[0].name}: {failed[0].message}\n"
                            f"Paste into a notebook:\n{self.cluster.trace.script()}")


    def teardown(self):
        cluster = getattr(self, "cluster", None)
        if cluster is None:
            return
        verdict = cluster.check_progress(ticks=60)
        assert verdict.ok, f"{verdict.message}\nPaste into a notebook:\n{cluster.trace.script()}"


ClusterMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=40)
test_cluster_machine = ClusterMachine.TestCase
