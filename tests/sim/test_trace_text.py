"""``trace.script()`` pastes back exactly, and the trace's text does not depend on hash order.

Strings are quoted, so the pasted calls rebuild the values recorded; sets and frozensets list their
elements sorted, so two Python processes (with different string hash seeds) print the same script
for the same seed and calls. (Message summaries inside events still show an entry through its own
``str``, which for a set value is hash-ordered; that rendering lives with the entries, not here.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from omnilab.kv import KeyValue
from omnilab.sim import Cluster
from omnilab.sim.trace import stable_repr

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Tagged:
    name: str
    tags: frozenset


def test_stable_repr_sorts_sets_everywhere_and_is_repr_otherwise():
    assert stable_repr({"b", "c", "a"}) == "{'a', 'b', 'c'}"
    assert stable_repr(frozenset({3, 1, 2})) == "frozenset({1, 2, 3})"
    assert stable_repr(set()) == "set()" and stable_repr(frozenset()) == "frozenset()"
    assert stable_repr([{"y", "x"}, ({"q", "p"},)]) == "[{'x', 'y'}, ({'p', 'q'},)]"
    assert stable_repr({"k": {"b", "a"}}) == "{'k': {'a', 'b'}}"
    assert stable_repr(Tagged("n", frozenset({"z", "y"}))) == "Tagged(name='n', tags=frozenset({'y', 'z'}))"
    for value in ["it's", 'say "hi"', 1.5, None, (1,), (), {"a": 1}, b"x", Tagged("n", frozenset())]:
        assert eval(stable_repr(value), {"Tagged": Tagged, "frozenset": frozenset}) == value


def _cluster() -> Cluster:
    cluster = Cluster([1, 2, 3], seed=4)
    cluster.run(ticks=3)
    cluster.put("colours", frozenset({"red", "green", "blue", "cyan", "magenta"}))
    cluster.put("it's", 'say "hi"\n')
    cluster.put(("a", 1), {"nested": ("x",)})
    cluster.run(ticks=2)
    return cluster


def test_the_script_pastes_back_exactly():
    cluster = _cluster()
    script = cluster.trace.script()
    assert "cluster.put('colours', frozenset({'blue', 'cyan', 'green', 'magenta', 'red'}))" in script
    assert "cluster.put(\"it's\", 'say \"hi\"\\n')" in script
    namespace = {"Cluster": Cluster}
    exec(script, namespace)
    again = namespace["cluster"]
    assert again.trace == cluster.trace
    assert again.trace.script() == script


_PRINT = """
import sys
sys.path.insert(0, sys.argv[1])
from tests.sim.test_trace_text import _cluster
cluster = _cluster()
print(cluster.trace.script())
for line in cluster.trace.format().splitlines():
    if "EntryDecided(" in line or "Proposed(" in line:
        print(line)
"""


def test_the_text_is_the_same_under_every_hash_seed():
    outputs = set()
    for hash_seed in ("1", "2", "3"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        proc = subprocess.run([sys.executable, "-c", _PRINT, str(REPO)], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        outputs.add(proc.stdout)
    assert len(outputs) == 1
    (text,) = outputs
    assert "Proposed(pid=3, config_id=1, proposal=KeyValue(key='colours', value=frozenset({'blue', 'cyan'" in text


def test_every_operation_pastes_back_exactly():
    """String keys and values, a reconfiguration, a partition, priorities, compaction, a crash, a
    message dropped, copied and delivered out of order, an interrupted deliver_all (recorded with its
    limit): exec'ing the script builds an equal trace and the same cluster."""
    cluster = Cluster([1, 2, 3], seed=7, batch_size=1, leader_priority={2: 3})
    cluster.run(ticks=3)
    cluster.put("name", "Ada Lovelace")
    cluster.put("quote", "it's \"fine\"\n\ttab")
    cluster.deliver_all()
    cluster.set_priority(1, 4)
    cluster.try_become_leader(1)
    cluster.step()
    ids = list(cluster.network.in_flight)
    cluster.drop(ids[-1])
    copy_id = cluster.duplicate(ids[0])
    cluster.step(copy_id)  # the copy, ahead of everything else in flight
    cluster.deliver_all(limit=2)
    cluster.run(ticks=3)
    cluster.get("name")
    cluster.get("absent", at=1)
    cluster.partition([1, 2], [3])
    cluster.cut(1, 2, one_way=True)
    cluster.heal(1, 2)
    cluster.heal()
    cluster.run(ticks=2)
    cluster.put("after", "heal")
    cluster.run(ticks=1)
    cluster.snapshot(2, local_only=True)  # (a snapshot after a trim is refused: see the README)
    cluster.trim()
    cluster.put(("a", 1), ("tuple", 1.5, None, b"bytes", -0.0))
    cluster.put("nested", {"k": ["v", {"set", "of", "words"}]})
    cluster.append(KeyValue("via", "append"))
    cluster.crash(2)
    cluster.tick(2)
    cluster.recover(2)
    cluster.step_random()
    cluster.reconfigure([1, 2, 3, 4], metadata="grow to four")
    cluster.run(ticks=6)
    cluster.put("in c2", "yes")
    cluster.run(ticks=1)
    assert cluster.config_id == 2 and cluster.server(4).instances
    script = cluster.trace.script()
    assert "cluster.put('name', 'Ada Lovelace')" in script
    assert "cluster.reconfigure([1, 2, 3, 4], metadata='grow to four')" in script
    assert "cluster.deliver_all(limit=2)" in script and "cluster.snapshot(2, local_only=True)" in script
    assert len(script.splitlines()) == len(cluster.trace.operations())
    namespace = {"Cluster": Cluster, "KeyValue": KeyValue}
    exec(script, namespace)
    again = namespace["cluster"]
    assert again.trace == cluster.trace
    assert again.fingerprint() == cluster.fingerprint()
    assert again.trace.script() == script
