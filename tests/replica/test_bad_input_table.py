"""Bad input, one row per input: the call, the error it must raise, a phrase its message must
contain, and a check that nothing changed (the replica's `inspect()`, log and outbox; the storage
file's bytes; the TOML file; the CLI's stdout).

The rows cover what a careless or hostile learner types at the replica layer and the command line:
`PersistentStorage` paths and damaged files, `ServerConfig` / `ClusterConfig` / `with_toml` values,
the replica's indexes and incoming messages, and ``omnilab fuzz`` arguments. Every row must come
back as the named omnilab error, never a raw traceback and never silently accepted.

Run as a script (``python tests/replica/test_bad_input_table.py``) it prints how each row fares,
classified without knowing the expected error: a typed omnilab error (or a ``raise`` in omnilab's
own code, or argparse's exit 2 for the CLI) is *clear*; any other exception is a *raw traceback*;
no exception is *accepted*. Run against an older checkout (``PYTHONPATH=old/checkout``) it gives the
"before" count. The rows import nothing that older code lacks: error classes are named as strings.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import signal
import sqlite3
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

if __name__ == "__main__":  # a script run: import omnilab from PYTHONPATH, or else this checkout
    sys.path.append(str(Path(__file__).resolve().parents[2]))

import pytest

from omnilab.replica import errors
from omnilab.replica.ballot import Ballot, SequenceNumber
from omnilab.replica.config import ClusterConfig, FlexibleQuorum, OmniPaxosConfig, ServerConfig
from omnilab.replica.messages import (AcceptDecide, Accepted, BLEMessage, Decide, HeartbeatReply, HeartbeatRequest,
                                      PaxosMessage, Prepare, Trim)
from omnilab.replica.persistent import PersistentStorage
from omnilab.replica.storage import MemoryStorage


# --- the world a row acts on ----------------------------------------------------------------------

class World:
    """What a row may act on, made on first use: a folder, a 3-node replica network whose leader
    (node 3) decided 4 entries, and storage files in a known state."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._omnis: Optional[dict] = None

    @property
    def omnis(self) -> dict:
        if self._omnis is None:
            nodes = [1, 2, 3]
            self._omnis = {p: ClusterConfig(1, nodes).build_for_server(ServerConfig(pid=p), MemoryStorage())
                           for p in nodes}
            self.deliver_all()
            for _ in range(3):
                for o in self._omnis.values():
                    o.tick()
                self.deliver_all()
            for i in range(4):
                self._omnis[3].append(i)
            self.deliver_all()
            assert self._omnis[1].get_decided_idx() == 4
        return self._omnis

    def deliver_all(self) -> None:
        for _ in range(1000):
            msgs = [m for o in self._omnis.values() for m in o.take_outgoing_messages()]
            if not msgs:
                return
            for m in msgs:
                self._omnis[m.receiver].handle_incoming(m)

    @property
    def leader(self):
        return self.omnis[3]

    @property
    def follower(self):
        return self.omnis[1]

    def store(self, name: str = "node.db", n: int = 30) -> Path:
        """A closed storage file with a promise and `n` entries."""
        path = self.folder / name
        with PersistentStorage(path) as s:
            s.append_entries([f"entry-{i}-" + "z" * 30 for i in range(n)])
            s.set_promise(Ballot(1, 4, 0, 2))
            s.set_decided_idx(n - 2)
        return path

    def file(self, name: str, content: bytes) -> Path:
        path = self.folder / name
        path.write_bytes(content)
        return path


def _replica_picture(omni) -> tuple:
    sp = omni.seq_paxos
    return (omni.inspect(), sp.log.read_entries(0, sp.log.accepted_idx), len(sp.outbox),
            list(omni.ble.heartbeat_replies), omni.ble.hb_round, omni.storage.get_compacted_idx())


def _folder_picture(world: World) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(world.folder.iterdir())
            if p.is_file()}


# --- rows -----------------------------------------------------------------------------------------

@dataclass
class Row:
    id: str
    call: Callable[[World, Any], Any]  # (world, prepared) -> anything; raising is the point
    error: str                          # "StorageError.Corrupt", "ConfigError.InvalidConfig", "exit 2", ...
    phrase: str
    prepare: Callable[[World], Any] = lambda world: None
    state: str = "folder"               # what must stay unchanged: "folder", "leader", "follower", "none"


def _flip(path: Path, needle: bytes) -> Path:
    data = bytearray(path.read_bytes())
    at = data.index(needle) + 10
    data[at] ^= 0x20
    path.write_bytes(bytes(data))
    return path


def _sql(path: Path, statement: str) -> Path:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(statement)
    db.close()
    return path


def _storage_rows() -> list[Row]:
    S = "StorageError"
    rows = [
        Row("storage: empty path", lambda w, p: PersistentStorage(""), f"{S}.BadPath", "the path is empty"),
        Row("storage: empty bytes path", lambda w, p: PersistentStorage(b""), f"{S}.BadPath", "the path is empty"),
        Row("storage: None path", lambda w, p: PersistentStorage(None), "TypeError", "file path"),
        Row("storage: int path", lambda w, p: PersistentStorage(3), "TypeError", "file path"),
        Row("storage: a folder", lambda w, p: PersistentStorage(w.folder), f"{S}.BadPath", "folder"),
        Row("storage: folder under a file", lambda w, p: PersistentStorage(p / "x.db"), f"{S}.BadPath", "is a file",
            prepare=lambda w: w.file("plain", b"x")),
        Row("storage: 0-byte file", lambda w, p: PersistentStorage(p), f"{S}.Corrupt", "empty (0 bytes)",
            prepare=lambda w: w.file("zero.db", b"")),
        Row("storage: text file", lambda w, p: PersistentStorage(p), f"{S}.Corrupt", "bad header",
            prepare=lambda w: w.file("notes.db", b"not sqlite " * 100)),
        Row("storage: someone else's SQLite file", lambda w, p: PersistentStorage(p), f"{S}.Corrupt",
            "application id", prepare=lambda w: _sql(w.folder / "other.db", "CREATE TABLE t (x)")),
        Row("storage: truncated to half", lambda w, p: PersistentStorage(p), f"{S}.Corrupt", "restore the file from a backup",
            prepare=lambda w: _truncate(w.store(n=300), 0.5)),
        Row("storage: truncated by 100 bytes", lambda w, p: PersistentStorage(p), f"{S}.Corrupt", "truncated",
            prepare=lambda w: _truncate(w.store(n=300), -100)),
        Row("storage: a log row deleted", lambda w, p: PersistentStorage(p), f"{S}.Corrupt", "entry 7 is missing",
            prepare=lambda w: _sql(w.store(), "DELETE FROM log WHERE idx = 7")),
        Row("storage: the last log row deleted", lambda w, p: PersistentStorage(p), f"{S}.Corrupt", "hole",
            prepare=lambda w: _sql(w.store(), "DELETE FROM log WHERE idx = 29")),
        Row("storage: the promise row deleted", lambda w, p: PersistentStorage(p), f"{S}.Corrupt",
            "'promise' is missing", prepare=lambda w: _sql(w.store(), "DELETE FROM meta WHERE key = 'promise'")),
        Row("storage: a damaged value", lambda w, p: PersistentStorage(p), f"{S}.Corrupt", "checksum",
            prepare=lambda w: _flip(w.store(), b"entry-12-")),
        Row("storage: a newer format", lambda w, p: PersistentStorage(p), f"{S}.Corrupt", "format version",
            prepare=lambda w: _sql(w.store(), "PRAGMA user_version = 9")),
        Row("storage: open twice", lambda w, p: PersistentStorage(p[0]), f"{S}.InUse", "another PersistentStorage",
            prepare=lambda w: _held(w)),
        Row("storage: synchronous='sometimes'", lambda w, p: PersistentStorage(w.folder / "s.db", synchronous="sometimes"),
            "ValueError", "synchronous"),
        Row("storage: synchronous=None", lambda w, p: PersistentStorage(w.folder / "s.db", synchronous=None),
            "ValueError", "synchronous"),
    ]
    return rows


def _truncate(path: Path, keep: float) -> Path:
    size = path.stat().st_size
    os.truncate(path, int(size * keep) if keep > 0 else size + int(keep))
    return path


def _held(world: World):
    path = world.store("held.db")
    return path, PersistentStorage(path)  # kept open by the row's prepared value


SC = "ConfigError.InvalidConfig"


def _server_rows() -> list[Row]:
    cases = [("pid", -1, "Server pid must be positive"), ("pid", 1.0, "Server pid must be an integer"),
             ("pid", "1", "Server pid must be an integer"), ("pid", True, "Server pid must be an integer"),
             ("pid", None, "Server pid must be an integer"),
             ("buffer_size", -5, "Buffer size must be greater than 0"),
             ("buffer_size", 10.5, "Buffer size must be an integer"),
             ("batch_size", -1, "Batch size must be greater than 0"), ("batch_size", "5", "Batch size must be an integer"),
             ("batch_size", 2.0, "Batch size must be an integer"),
             ("election_tick_timeout", -1, "Election tick timeout must be greater than 0"),
             ("election_tick_timeout", 0.5, "Election tick timeout must be an integer"),
             ("election_tick_timeout", "10", "Election tick timeout must be an integer"),
             ("resend_message_tick_timeout", -100, "Resend message tick timeout must be greater than 0"),
             ("resend_message_tick_timeout", 1.5, "Resend message tick timeout must be an integer"),
             ("flush_batch_tick_timeout", -1, "Flush batch tick timeout cannot be negative"),
             ("flush_batch_tick_timeout", "200", "Flush batch tick timeout must be an integer"),
             ("leader_priority", -1, "Leader priority must be an integer >= 0"),
             ("leader_priority", 1.5, "Leader priority must be an integer >= 0")]
    rows = []
    for field, value, phrase in cases:
        def call(w, p, field=field, value=value):
            ClusterConfig(1, [1, 2, 3]).build_for_server(ServerConfig(**{"pid": 1, field: value}), MemoryStorage())
        rows.append(Row(f"ServerConfig({field}={value!r}) built", call, SC, phrase, state="none"))
    return rows


def _cluster_rows() -> list[Row]:
    cases = [((1, 3), "Nodes must be a list of pids"), ((1, "123"), "Nodes must be a list of pids"),
             ((1, None), "Nodes must be a list of pids"), ((1, {1, 2, 3}), "Nodes must be a list of pids"),
             ((1, [1, 1, 2]), "Nodes must not list a pid twice"),
             ((1, [0, 1, 2]), "Every pid in nodes must be a positive integer"),
             ((1, [-1, 1, 2]), "Every pid in nodes must be a positive integer"),
             ((1, [1, 2.0, 3]), "Every pid in nodes must be a positive integer"),
             ((1, ["1", "2"]), "Every pid in nodes must be a positive integer"),
             ((-1, [1, 2]), "Configuration ID must be positive"),
             ((1.5, [1, 2]), "Configuration ID must be an integer"),
             ((1, [1, 2, 3], (2, 2)), "flexible_quorum must be a FlexibleQuorum or None"),
             ((1, [1, 2, 3], FlexibleQuorum("2", 2)), "Quorum sizes must be integers")]
    rows = []
    for args, phrase in cases:
        def call(w, p, args=args):
            ClusterConfig(*args).build_for_server(ServerConfig(pid=1), MemoryStorage())
        rows.append(Row(f"ClusterConfig{args!r} built", call, SC, phrase, state="none"))
    return rows


GOOD_TOML = "[cluster_config]\nconfiguration_id = 1\nnodes = [1, 2, 3]\n\n[server_config]\npid = 2\n"


def _toml_rows() -> list[Row]:
    def toml(text):
        return lambda w: w.file("node.toml", text.encode() if isinstance(text, str) else text)

    def load(w, p):
        return OmniPaxosConfig.with_toml(p)

    P = "ConfigError.Parse"
    return [
        Row("toml: unknown server key", load, P, "unknown key 'colour' in [server_config]",
            prepare=toml(GOOD_TOML + "colour = 'red'\n")),
        Row("toml: unknown cluster key", load, P, "unknown key 'colour' in [cluster_config]",
            prepare=toml("[cluster_config]\ncolour = 3\n")),
        Row("toml: unknown top-level table", load, P, "unknown key 'logging'",
            prepare=toml(GOOD_TOML + "[logging]\nlevel = 1\n")),
        Row("toml: section that is a number", load, P, "cluster_config must be a table",
            prepare=toml("cluster_config = 3\n")),
        Row("toml: section that is a list", load, P, "server_config must be a table",
            prepare=toml("server_config = [1, 2]\n")),
        Row("toml: flexible_quorum a number", load, P, "flexible_quorum must be a table",
            prepare=toml("[cluster_config]\nconfiguration_id = 1\nnodes = [1, 2, 3]\nflexible_quorum = 3\n")),
        Row("toml: flexible_quorum half given", load, P, "lacks write_quorum_size",
            prepare=toml("[cluster_config]\nnodes = [1, 2, 3]\nflexible_quorum = { read_quorum_size = 2 }\n")),
        Row("toml: not UTF-8", load, P, "not UTF-8", prepare=toml(b"[cluster_config]\n# \xff\xfe\n")),
        Row("toml: negative pid", load, SC, "node.toml, [server_config] pid",
            prepare=toml(GOOD_TOML.replace("pid = 2", "pid = -2"))),
        Row("toml: pid as a string", load, SC, "Server pid must be an integer",
            prepare=toml(GOOD_TOML.replace("pid = 2", 'pid = "2"'))),
        Row("toml: duplicate nodes", load, SC, "[cluster_config] nodes",
            prepare=toml(GOOD_TOML.replace("[1, 2, 3]", "[1, 2, 2, 3]"))),
        Row("toml: fractional timeout", load, SC, "[server_config] election_tick_timeout",
            prepare=toml(GOOD_TOML + "election_tick_timeout = 0.5\n")),
        Row("toml: None as the path", lambda w, p: OmniPaxosConfig.with_toml(None), "ConfigError.ReadFile",
            "path of a TOML file"),
        Row("toml: a dict as the path", lambda w, p: OmniPaxosConfig.with_toml({"nodes": [1]}), "ConfigError.ReadFile",
            "path of a TOML file"),
        Row("toml: a folder as the path", lambda w, p: OmniPaxosConfig.with_toml(w.folder), "ConfigError.ReadFile",
            "cannot read"),
    ]


B = Ballot(1, 2, 0, 3)
IA = "InvalidArgument"


def _replica_rows() -> list[Row]:
    calls = [
        ("trim(-1)", lambda o: o.trim(-1)), ("trim(2.0)", lambda o: o.trim(2.0)), ("trim('2')", lambda o: o.trim("2")),
        ("trim(True)", lambda o: o.trim(True)), ("snapshot(-3)", lambda o: o.snapshot(-3)),
        ("snapshot(1.5)", lambda o: o.snapshot(1.5)),
        ("snapshot(2, local_only='yes')", lambda o: o.snapshot(2, local_only="yes")),
        ("read(-1)", lambda o: o.read(-1)), ("read('0')", lambda o: o.read("0")),
        ("read_entries(-2, 3)", lambda o: o.read_entries(-2, 3)),
        ("read_entries(0, 2.5)", lambda o: o.read_entries(0, 2.5)),
        ("read_decided_suffix(-1)", lambda o: o.read_decided_suffix(-1)),
        ("reconnected(99)", lambda o: o.reconnected(99)), ("reconnected('2')", lambda o: o.reconnected("2")),
        ("set_priority(-1)", lambda o: o.set_priority(-1)), ("set_priority(None)", lambda o: o.set_priority(None)),
        ("reconfigure([1, 2, 3])", lambda o: o.reconfigure([1, 2, 3])),
    ]
    rows = [Row(f"leader.{label}", lambda w, p, f=f: f(w.leader), IA, "must be", state="leader")
            for label, f in calls]
    rows.append(Row("leader.reconfigure(ClusterConfig(2, [1, 1]))",
                    lambda w, p: w.leader.reconfigure(ClusterConfig(2, [1, 1])), "ProposeErr.ConfigError",
                    "Nodes must not list a pid twice", state="leader"))
    M = "MessageErr"
    messages = [
        ("to another pid", BLEMessage(3, 2, HeartbeatRequest(1)), f"{M}.NotForMe", "addressed to node 2"),
        ("to a pid outside", PaxosMessage(3, 7, Decide(B, SequenceNumber(1, 9), 4)), f"{M}.NotForMe", "node 7"),
        ("from a stranger", BLEMessage(9, 1, HeartbeatRequest(1)), f"{M}.UnknownSender", "sender 9"),
        ("from myself", BLEMessage(1, 1, HeartbeatRequest(1)), f"{M}.UnknownSender", "sender 1"),
        ("Prepare of configuration 2", PaxosMessage(3, 1, Prepare(Ballot(2, 9, 0, 3), 0, Ballot(), 0)),
         f"{M}.OtherConfiguration", "configuration 2"),
        ("Accepted of configuration 5", PaxosMessage(3, 1, Accepted(Ballot(5, 1, 0, 3), 2)),
         f"{M}.OtherConfiguration", "configuration 5"),
        ("HeartbeatReply(ballot=None)", BLEMessage(3, 1, HeartbeatReply(1, None, B, True)), f"{M}.Malformed",
         "ballot=None"),
        ("HeartbeatReply(happy='yes')", BLEMessage(3, 1, HeartbeatReply(1, B, B, "yes")), f"{M}.Malformed", "happy"),
        ("HeartbeatRequest(-1)", BLEMessage(3, 1, HeartbeatRequest(-1)), f"{M}.Malformed", "round=-1"),
        ("Decide(decided_idx=-4)", PaxosMessage(3, 1, Decide(B, SequenceNumber(1, 9), -4)), f"{M}.Malformed",
         "decided_idx=-4"),
        ("AcceptDecide(entries=[5])", PaxosMessage(3, 1, AcceptDecide(B, SequenceNumber(1, 9), 4, [5])),
         f"{M}.Malformed", "entries=[5]"),
        ("AcceptDecide(seq_num=None)", PaxosMessage(3, 1, AcceptDecide(B, None, 4, (5,))), f"{M}.Malformed",
         "seq_num=None"),
        ("Trim(-1)", PaxosMessage(3, 1, Trim(-1)), f"{M}.Malformed", "idx=-1"),
        ("Accepted(Ballot(n=None))", PaxosMessage(3, 1, Accepted(Ballot(1, None, 0, 3), 2)), f"{M}.Malformed",
         "Ballot of integers"),
        ("a BLE message in a Paxos envelope", PaxosMessage(3, 1, HeartbeatRequest(1)), f"{M}.Malformed",
         "not a Sequence Paxos message"),
        ("a string in a Paxos envelope", PaxosMessage(3, 1, "hello"), f"{M}.Malformed", "not a Sequence Paxos"),
        ("a bare HeartbeatRequest", HeartbeatRequest(1), f"{M}.Malformed", "takes a Message"),
        ("None", None, f"{M}.Malformed", "takes a Message"),
    ]
    rows += [Row(f"follower.handle_incoming({label})", lambda w, p, m=m: w.follower.handle_incoming(m), error, phrase,
                 state="follower") for label, m, error, phrase in messages]
    return rows


def _cli_rows() -> list[Row]:
    cases = [(["--seeds", "0"], "argument --seeds: must be at least 1"),
             (["--seeds", "-3"], "argument --seeds: must be at least 1"),
             (["--seeds", "2.5"], "argument --seeds: expected a whole number"),
             (["--steps", "-5"], "argument --steps: must be at least 0"),
             (["--first-seed", "-1"], "argument --first-seed: must be at least 0"),
             (["--nodes", "1"], "argument --nodes: must be at least 2"),
             (["--nodes", "three"], "argument --nodes: expected a whole number"),
             (["--nodes", "100000"], "argument --nodes: must be at most"),
             (["--faults", ""], "argument --faults: name at least one"),
             (["--faults", "earthquake"], "argument --faults: unknown fault 'earthquake'")]
    return [Row(f"omnilab fuzz {' '.join(argv) or repr('')}", lambda w, p, argv=argv: _cli(argv), "exit 2", phrase,
                state="none") for argv, phrase in cases]


class CliRefused(Exception):
    """`omnilab fuzz` exited 2: the message is what it printed on stderr."""


class CliAccepted(AssertionError):
    """`omnilab fuzz` started a campaign with the bad argument."""


def _cli(argv: list[str]) -> None:
    from omnilab import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(["fuzz", *argv])
        except SystemExit as exit_:
            code = exit_.code
    if out.getvalue():
        raise CliAccepted(f"the campaign started: {out.getvalue()[:200]!r}")
    if code == 2:
        raise CliRefused(err.getvalue())


ROWS: list[Row] = _storage_rows() + _server_rows() + _cluster_rows() + _toml_rows() + _replica_rows() + _cli_rows()


def resolve(name: str) -> Optional[type]:
    """The error class a row names, or None when this version of omnilab lacks it."""
    if name == "exit 2":
        return CliRefused
    builtin = {"TypeError": TypeError, "ValueError": ValueError}
    if name in builtin:
        return builtin[name]
    obj: Any = errors
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def state_of(row: Row, world: World) -> Any:
    if row.state == "leader":
        return _replica_picture(world.leader)
    if row.state == "follower":
        return _replica_picture(world.follower)
    if row.state == "folder":
        return _folder_picture(world)
    return None


# --- the test -------------------------------------------------------------------------------------

@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_bad_input_is_refused_clearly_and_changes_nothing(row, tmp_path):
    world = World(tmp_path)
    prepared = row.prepare(world)
    try:
        if row.state in ("leader", "follower"):
            world.omnis  # build the replicas before taking the picture
        before = state_of(row, world)
        expected = resolve(row.error)
        assert expected is not None, f"no error class {row.error}"
        with pytest.raises(expected) as info:
            row.call(world, prepared)
        assert row.phrase in str(info.value), f"{row.phrase!r} not in {str(info.value)!r}"
        if row.error.startswith("StorageError"):
            assert str(info.value.path) in str(info.value)  # every storage error names its file
        assert state_of(row, world) == before
    finally:
        _release(prepared)


def _release(prepared: Any) -> None:
    if isinstance(prepared, tuple) and len(prepared) == 2 and isinstance(prepared[1], PersistentStorage):
        prepared[1].close()


def test_the_table_covers_every_family():
    families = {r.id.split(":")[0].split("(")[0].split(".")[0].split(" ")[0] for r in ROWS}
    assert {"storage", "ServerConfig", "ClusterConfig", "toml", "leader", "follower", "omnilab"} <= families
    assert len(ROWS) >= 100


# --- the count, as a script -----------------------------------------------------------------------

def classify(row: Row, folder: Path, seconds: int = 20) -> tuple[str, str]:
    """("clear" | "raw" | "accepted", detail), judged without the row's expected class."""
    world = World(folder)
    prepared = None

    def too_long(*_):
        raise TimeoutError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(seconds)
    try:
        prepared = row.prepare(world)
        row.call(world, prepared)
        return "accepted", "no error"
    except CliRefused:
        return "clear", "exit 2"
    except CliAccepted as exc:
        return "accepted", str(exc)[:100]
    except TimeoutError as exc:
        return "accepted", str(exc)
    except BaseException as exc:  # noqa: B036 - SystemExit from the CLI is a traceback-less exit too
        if isinstance(exc, SystemExit):
            return ("clear" if exc.code == 2 else "raw"), f"exit {exc.code}"
        if row.error == "exit 2":
            return "raw", f"{type(exc).__name__} escaped main(): a traceback"  # the CLI prints it
        if type(exc).__module__.startswith("omnilab"):
            return "clear", type(exc).__qualname__
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        if "omnilab" in frame.filename and (frame.line or "").lstrip().startswith("raise"):
            return "clear", f"{type(exc).__name__} raised by omnilab"
        return "raw", f"{type(exc).__name__}: {exc}"[:160]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        _release(prepared)


def main() -> None:
    tally = {"clear": 0, "raw": 0, "accepted": 0}
    for row in ROWS:
        with tempfile.TemporaryDirectory() as folder:
            verdict, detail = classify(row, Path(folder))
        tally[verdict] += 1
        print(f"{verdict:9} {row.id:60} {detail}")
    print(f"\n{len(ROWS)} bad inputs: {tally['clear']} clear errors, {tally['raw']} raw tracebacks, "
          f"{tally['accepted']} silently accepted")


if __name__ == "__main__":
    main()
