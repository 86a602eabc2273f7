"""Bad input to the simulator, one row per input: the call, the error it must raise, a phrase its
message must contain, and a check that nothing changed.

The rows cover what a careless or hostile learner types at a `Cluster`: every operation with bad
types, unknown pids, negative, fractional, boolean and absurd counts, unhashable keys, entries the
ledger cannot compare or the cluster cannot copy, and seeds that would make a run unreplayable. For
every row on a cluster, the cluster's fingerprint, trace, client history and ``version`` must be as
before, and ``Cluster.replay(trace)`` must still rebuild it. (The replica layer, configuration
files, storage and the command line have their own table: tests/replica/test_bad_input_table.py.)

Run as a script (``python tests/sim/test_bad_input_table.py``) it prints how each row fares,
classified without knowing the expected error: an omnilab error is *clear*; any other exception is a
*raw traceback*; no exception is *accepted*; a clear error that changed the cluster is *poisoned*.
"""

from __future__ import annotations

import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

if __name__ == "__main__":  # a script run: import omnilab from PYTHONPATH, or else this checkout
    sys.path.append(str(Path(__file__).resolve().parents[2]))

import numpy as np
import pytest

from omnilab.sim import Cluster, errors


def elected() -> Cluster:
    """Three nodes, node 3 leads, two writes decided, one in flight."""
    cluster = Cluster([1, 2, 3], seed=0)
    cluster.run(ticks=3)
    cluster.put("a", 1)
    cluster.put("b", 2)
    cluster.run(ticks=1)
    cluster.put("c", 3)
    return cluster


def quiet() -> Cluster:
    cluster = elected()
    cluster.deliver_all()
    return cluster


def one_down() -> Cluster:
    cluster = elected()
    cluster.crash(1)
    return cluster


def fresh() -> Cluster:
    return Cluster([1, 2, 3], seed=0)


class Unhashable:
    __hash__ = None  # type: ignore[assignment]


class BadHash:
    def __hash__(self):
        raise ValueError("no hash for you")


class BadEq:
    def __eq__(self, other):
        raise RuntimeError("cannot compare")

    __hash__ = object.__hash__


class Locked:
    """An entry holding something that cannot be copied (an open generator)."""

    def __init__(self):
        self.gen = (i for i in range(3))


@dataclass
class Row:
    id: str
    call: Callable[[Cluster], Any]
    error: str          # a class of omnilab.sim.errors
    phrase: str
    prepare: Optional[Callable[[], Cluster]] = elected  # None: the call builds its own cluster


def _rows() -> list[Row]:
    rows: list[Row] = []

    def add(id_, call, error, phrase, prepare=elected):
        rows.append(Row(id_, call, error, phrase, prepare))

    # --- Cluster(...) ----------------------------------------------------------------------------------
    for seed in [None, "x", "0", [1], True, False, 1.5, {}, b"1", np.float64(2.0)]:
        add(f"Cluster(seed={seed!r})", lambda c, s=seed: Cluster([1, 2, 3], seed=s), "BadInput", "takes an integer", None)
    for nodes, phrase in [("abc", "pids are positive integers"), ([1, 1, 2], "each pid once"), ([0, 1], "positive"),
                          ([1], "at least two nodes"), ([], "at least two nodes"), (None, "list of pids"),
                          ([1.5, 2], "positive integers"), ([True, 2], "positive integers"), (10 ** 6, "at most 64"),
                          (-3, "at least two nodes"), ([1, "2"], "positive integers"), ({1: 2}, "at least two")]:
        add(f"Cluster(nodes={nodes!r})", lambda c, n=nodes: Cluster(n), "InvalidConfiguration", phrase, None)
    for fields, phrase in [({"batch_size": "5"}, "Batch size must be an integer"), ({"batch_size": 0}, "Batch size"),
                           ({"election_tick_timeout": -1}, "election_tick_timeout"),
                           ({"election_tick_timeout": 1.5}, "election_tick_timeout"),
                           ({"resend_message_tick_timeout": 0}, "resend_message_tick_timeout"),
                           ({"colour": "red"}, "unknown ServerConfig field"),
                           ({"leader_priority": {0: 1}}, "pids are positive"),
                           ({"leader_priority": {"a": 1}}, "a pid is an integer"),
                           ({"leader_priority": {1: 1.5}}, "priority is an integer")]:
        add(f"Cluster(**{fields!r})", lambda c, f=fields: Cluster([1, 2, 3], **f), "InvalidConfiguration", phrase, None)
    add("Cluster(variant='no-such-mutant')", lambda c: Cluster([1, 2, 3], variant="no-such-mutant"), "BadInput",
        "no-such-mutant", None)
    add("Cluster(check_every_step='yes')", lambda c: Cluster([1, 2, 3], check_every_step="yes"), "BadInput",
        "True or False", None)
    add("Cluster(variant=5)", lambda c: Cluster([1, 2, 3], variant=5), "BadInput", "variant", None)
    add("Cluster.replay(a trace without its start)", lambda c: Cluster.replay(c.trace[1:]), "BadInput",
        "starts with ClusterCreated")
    add("Cluster.replay([])", lambda c: Cluster.replay([]), "BadInput", "starts with ClusterCreated", None)

    # --- client calls ------------------------------------------------------------------------------------
    for key in [[1], {}, {1, 2}, Unhashable()]:
        add(f"put({key!r}, 1)", lambda c, k=key: c.put(k, 1), "BadInput", "cannot be a key")
        add(f"get({key!r})", lambda c, k=key: c.get(k), "BadInput", "cannot be a key")
    add("put([1, 2], 1) suggests a tuple", lambda c: c.put([1, 2], 1), "BadInput", "e.g. (1, 2) instead of [1, 2]")
    add("put(BadHash(), 1)", lambda c: c.put(BadHash(), 1), "BadInput", "cannot be hashed")
    add("put(BadEq(), 1)", lambda c: c.put(BadEq(), 1), "BadInput", "does not compare with ==")
    add("put('k', np.array([1, 2]))", lambda c: c.put("k", np.array([1, 2])), "BadInput", "does not compare with ==")
    add("put('k', Locked())", lambda c: c.put("k", Locked()), "BadInput", "cannot be copied")
    add("append(np.array([1, 2]))", lambda c: c.append(np.array([1, 2])), "BadInput", "list(array)")
    add("append(BadHash())", lambda c: c.append(BadHash()), "BadInput", "cannot be hashed")
    add("append(Locked())", lambda c: c.append(Locked()), "BadInput", "cannot be copied")
    add("append(object())", lambda c: c.append(object()), "BadInput", "cannot be copied")
    for at in [99, 0, -1, "3", True, 1.5, [3]]:
        add(f"put('k', 1, at={at!r})", lambda c, a=at: c.put("k", 1, at=a), "UnknownNode", "there is no node")
        add(f"get('a', at={at!r})", lambda c, a=at: c.get("a", at=a), "UnknownNode", "there is no node")
        add(f"append(1, at={at!r})", lambda c, a=at: c.append(1, at=a), "UnknownNode", "there is no node")
    add("put at a crashed node", lambda c: c.put("k", 1, at=1), "NodeDown", "recover(1) first", one_down)
    add("get at a crashed node", lambda c: c.get("a", at=1), "NodeDown", "recover(1) first", one_down)
    add("put with no leader yet", lambda c: c.put("k", 1), "NoLeader", "run(ticks=3)", fresh)
    add("get with no leader yet", lambda c: c.get("k"), "NoLeader", "run(ticks=3)", fresh)

    # --- the network -------------------------------------------------------------------------------------
    for msg_id in [999, -1, "1", True, 1.5, None, [1]]:
        if msg_id is not None:
            add(f"step({msg_id!r})", lambda c, m=msg_id: c.step(m), "UnknownMessageId", "not in flight")
        add(f"drop({msg_id!r})", lambda c, m=msg_id: c.drop(m), "UnknownMessageId", "not in flight")
        add(f"duplicate({msg_id!r})", lambda c, m=msg_id: c.duplicate(m), "UnknownMessageId", "not in flight")
    add("step() with nothing in flight", lambda c: c.step(), "NothingInFlight", "tick()", quiet)
    add("step_random() with nothing in flight", lambda c: c.step_random(), "NothingInFlight", "tick()", quiet)
    for limit in [0, -1, 1.5, True, "3"]:
        add(f"deliver_all(limit={limit!r})", lambda c, n=limit: c.deliver_all(limit=n), "BadInput", "positive whole number")
    for a, b in [(1, 1), (1, 99), ("1", 2), (None, 2), (1.0, 2)]:
        error, phrase = ("BadInput", "reaches itself") if a == b else ("UnknownNode", "there is no node")
        add(f"cut({a!r}, {b!r})", lambda c, a=a, b=b: c.cut(a, b), error, phrase)
    add("cut(1, 2, one_way='yes')", lambda c: c.cut(1, 2, one_way="yes"), "BadInput", "True or False")
    for groups, error, phrase in [(([1, 2],), "BadInput", "missing [3]"), (([1, 2], [2, 3]), "BadInput", "two groups"),
                                  ((1, 2, 3), "BadInput", "one list of pids per group"),
                                  (([1, 2], [3], []), "BadInput", "no node in it"), ((), "BadInput", "needs the groups"),
                                  (([1, 2], [3, 99]), "UnknownNode", "there is no node"),
                                  (("12", "3"), "BadInput", "one list of pids per group"),
                                  (([1, 2], [3.0]), "UnknownNode", "there is no node")]:
        add(f"partition{groups!r}", lambda c, g=groups: c.partition(*g), error, phrase)
    add("heal(1)", lambda c: c.heal(1), "BadInput", "give both nodes or neither")
    add("heal(1, 1)", lambda c: c.heal(1, 1), "BadInput", "reaches itself")
    add("heal(1, 99)", lambda c: c.heal(1, 99), "UnknownNode", "there is no node")

    # --- time --------------------------------------------------------------------------------------------
    for n in [0, -1, 1.5, True, "3", None, 10 ** 6, 10 ** 100, float("inf"), float("nan")]:
        phrase = "at most 100,000 ticks" if isinstance(n, int) and not isinstance(n, bool) and n > 1 else "positive number"
        add(f"tick({n!r})", lambda c, n=n: c.tick(n), "BadInput", phrase)
        add(f"run(ticks={n!r})", lambda c, n=n: c.run(ticks=n), "BadInput", phrase)
    add("check_progress(ticks=0)", lambda c: c.check_progress(ticks=0), "BadInput", "positive number")

    # --- crashes -----------------------------------------------------------------------------------------
    for pid in [99, 0, "1", True, 1.5, None]:
        add(f"crash({pid!r})", lambda c, p=pid: c.crash(p), "UnknownNode", "there is no node")
        add(f"recover({pid!r})", lambda c, p=pid: c.recover(p), "UnknownNode", "there is no node")
        add(f"try_become_leader({pid!r})", lambda c, p=pid: c.try_become_leader(p), "UnknownNode", "there is no node")
        add(f"set_priority({pid!r}, 1)", lambda c, p=pid: c.set_priority(p, 1), "UnknownNode", "there is no node")
    add("crash a crashed node", lambda c: c.crash(1), "NodeDown", "already crashed", one_down)
    add("recover a running node", lambda c: c.recover(2), "NodeUp", "only a crashed node", one_down)
    add("try_become_leader at a crashed node", lambda c: c.try_become_leader(1), "NodeDown", "crashed", one_down)
    add("set_priority at a crashed node", lambda c: c.set_priority(1, 2), "NodeDown", "crashed", one_down)

    # --- leadership --------------------------------------------------------------------------------------
    for priority, phrase in [(-1, ">= 0"), (1.5, "is an integer"), (True, "is an integer"), ("2", "is an integer"),
                             (None, "is an integer")]:
        add(f"set_priority(1, {priority!r})", lambda c, p=priority: c.set_priority(1, p), "BadInput", phrase)

    # --- reconfiguration ---------------------------------------------------------------------------------
    for nodes, phrase in [([1], "at least two nodes"), ([1, 1, 2], "each pid once"), (["a", 2], "positive integers"),
                          ([], "at least two nodes"), (5, "list of pids"), ([0, 1], "positive integers"),
                          (list(range(1, 1000)), "at most 64 nodes"), ([1.0, 2], "positive integers")]:
        add(f"reconfigure({nodes!r:.30})", lambda c, n=nodes: c.reconfigure(n), "InvalidConfiguration", phrase)
    add("reconfigure([1, 2, 3], at=99)", lambda c: c.reconfigure([1, 2, 3], at=99), "UnknownNode", "there is no node")
    add("reconfigure([1, 2, 3], metadata=np.array([1]))", lambda c: c.reconfigure([1, 2, 3], metadata=np.array([1, 2])),
        "BadInput", "does not compare with ==")
    add("reconfigure([1, 2, 3]) with no leader", lambda c: c.reconfigure([1, 2, 3]), "NoLeader", "run(ticks=3)", fresh)

    # --- compaction --------------------------------------------------------------------------------------
    for idx, phrase in [(-1, "start at 0"), (1.5, "is an integer"), (True, "is an integer"), ("2", "is an integer"),
                        ([1], "is an integer")]:
        add(f"trim({idx!r})", lambda c, i=idx: c.trim(i), "BadInput", phrase)
        add(f"snapshot({idx!r})", lambda c, i=idx: c.snapshot(i), "BadInput", phrase)
    add("trim(at=99)", lambda c: c.trim(at=99), "UnknownNode", "there is no node")
    add("snapshot(at='3')", lambda c: c.snapshot(at="3"), "UnknownNode", "there is no node")
    add("snapshot(local_only='yes')", lambda c: c.snapshot(local_only="yes"), "BadInput", "True or False")
    add("trim() at a crashed node", lambda c: c.trim(at=1), "NodeDown", "crashed", one_down)

    # --- undo --------------------------------------------------------------------------------------------
    add("undo() of a new cluster", lambda c: c.undo(), "NothingToUndo", "nothing to undo", fresh)
    return rows


ROWS = _rows()


def picture(cluster: Cluster) -> tuple:
    return (cluster.fingerprint(), list(cluster.trace), cluster.version, cluster.history().to_string(),
            cluster.clock, cluster.network.next_id)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_bad_input_is_refused_clearly_and_changes_nothing(row):
    cluster = row.prepare() if row.prepare else None
    before = picture(cluster) if cluster is not None else None
    expected = getattr(errors, row.error)
    with pytest.raises(expected) as info:
        row.call(cluster)
    assert row.phrase in str(info.value), f"{row.phrase!r} not in {str(info.value)!r}"
    if cluster is not None:
        assert picture(cluster) == before
        again = Cluster.replay(cluster.trace)
        assert again.trace == cluster.trace and again.fingerprint() == cluster.fingerprint()
        cluster.run(ticks=2)  # and the cluster goes on
        assert Cluster.replay(cluster.trace).fingerprint() == cluster.fingerprint()


def test_the_table_covers_every_operation():
    text = " ".join(r.id for r in ROWS)
    for name in ["Cluster(seed=", "Cluster(nodes=", "put(", "get(", "append(", "step(", "step_random(", "drop(",
                 "duplicate(", "deliver_all(", "cut(", "partition", "heal(", "tick(", "run(", "crash(", "recover(",
                 "reconfigure(", "set_priority(", "try_become_leader(", "trim(", "snapshot(", "undo("]:
        assert name in text, name
    assert len(ROWS) >= 200


# --- the count, as a script -----------------------------------------------------------------------

def classify(row: Row, seconds: int = 10) -> tuple[str, str]:
    """("clear" | "raw" | "accepted" | "poisoned", detail), judged without the row's expected class;
    a call still running after `seconds` (``tick(10**6)`` on an older checkout) counts as accepted."""
    def too_long(*_):
        raise TimeoutError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(seconds)
    try:
        cluster = row.prepare() if row.prepare else None
        before = picture(cluster) if cluster is not None else None
        row.call(cluster)
        return "accepted", "no error"
    except TimeoutError as exc:
        return "accepted", str(exc)
    except Exception as exc:
        if not type(exc).__module__.startswith("omnilab"):
            return "raw", f"{type(exc).__name__}: {exc}"[:160]
        if cluster is not None and picture(cluster) != before:
            return "poisoned", f"{type(exc).__name__} but the cluster changed"
        return "clear", type(exc).__name__
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def main() -> None:
    tally = {"clear": 0, "raw": 0, "accepted": 0, "poisoned": 0}
    for row in ROWS:
        verdict, detail = classify(row)
        tally[verdict] += 1
        print(f"{verdict:9} {row.id:60} {detail}")
    print(f"\n{len(ROWS)} bad inputs: {tally['clear']} clear errors, {tally['raw']} raw tracebacks, "
          f"{tally['accepted']} silently accepted, {tally['poisoned']} that changed the cluster")


if __name__ == "__main__":
    main()
