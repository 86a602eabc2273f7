"""The explorer's speed: each server's transitions computed once, and states named by small ints.

`omnilab.sim.explore` forks a cluster once per choice and fingerprints the result. Done plainly
(copy the servers a choice touches, run the replica, walk every server's attributes for the
fingerprint) that cost about 1.4 ms per distinct state: 739 distinct states/s on bench/explore.py's
bound (a), not exhausted in 60 s. Most of it was repeated work. On that bound the first 31,000
distinct cluster states hold only about 1,500 distinct server states: a cluster state is a
combination of a few server states and the messages in flight, and the same server meets the same
message in thousands of combinations. A server is an actor (`omnilab.sim.server`): what it does with
one input depends only on its own state and that input. So this module

* **interns servers** (`Interner.server`): one object, a *representative*, per distinct server state
  (the fingerprint's canonical form of the server, `omnilab.sim.fingerprint`), numbered 0, 1, 2, ...
  Clusters in the search hold representatives only, and a representative is never changed again:
  it is shared by every cluster in that server state;
* **interns messages** (`Interner.message`): one number per distinct message content (sender,
  receiver, configuration, message; not the id), so the multiset of messages in flight is a sorted
  tuple of ints and a network choice is a small tuple of ints;
* **memoizes transitions** (`Transitions`): the first time a representative meets an input (a
  message delivered, a tick, a crash, a recovery, a proposal, a reconfiguration, a leader change),
  a copy of it (`omnilab.sim.copying.deep_copy`) takes the input; the copy's new state is interned
  and the server's `Out` kept. Each later time the answer is looked up. An `Out` is only read by
  the cluster (what it sends, what it records, what the ledger is shown), so it can be carried out
  again in another cluster;
* **predicts a successor's state key** (`Successors.predict`) from the memo alone, without building
  the successor: the servers it replaces and the messages it sends are in the memo. A successor
  whose state was seen already (about half of them) is then not built at all: no ledger copy, no
  trace, no check. A new state is built through the cluster's public calls (`Successors.build`)
  with the memoized servers standing in (`_Stand`), and its key is computed from what was built
  and compared with the prediction, so a prediction that strayed from what the cluster does raises
  `SimulationError` instead of losing a state.

What it assumes is what the fingerprint already assumes (two servers with equal canonical forms
behave alike), and what the `Server` docstring promises: a server reads nothing but its own state
and its input. The ledger is not interned: each state built keeps its own copy (the evidence of the
path that first reached it), so every invariant is checked as before.

The bench figure (bound (a) of bench/explore.py, the same busy 2-core machine): 739 distinct
states/s before (48,519 in 60 s); with this module 6,017/s (120,348 in 20 s), with the same states.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from .copying import deep_copy
from .errors import SimulationError
from .fingerprint import _Walker
from .server import CALLED, NEEDS_SERVER, SEND, Server
from .trace import Trace


def _canonical_server(server: Any) -> Any:
    """The fingerprint's canonical form of one server (`Cluster.fingerprint` walks each server the
    same way); a server holding an unhashable value inside a frozen one is walked strictly."""
    try:
        canon = _Walker(False).canon(server)
        hash(canon)
    except TypeError:
        canon = _Walker(True).canon(server)
    return canon


def message_key(env: Any) -> tuple:
    """``(sender, receiver, config_id, message)``, hashable: a message that holds an unhashable
    value (a snapshot) is replaced by its canonical form (walked field by field)."""
    message = env.message
    try:
        hash(message)
    except TypeError:
        message = ("<canonical>", _Walker(True).canon(message))
    return (env.sender, env.receiver, env.config_id, message)


class Interner:
    """Numbers for the server states and message contents of one search (see the module docstring)."""

    def __init__(self) -> None:
        #: index -> the representative server of that state.
        self.reps: list[Server] = []
        self._by_canon: dict[Any, int] = {}
        #: index -> hash of the representative's canonical form, and message number -> hash of its
        #: content: what a `Successors(portable=True)` key is made of, so that searches forked from
        #: one process (`omnilab.sim.workers`), whose numbers differ, give a state one key.
        self.server_hashes: list[int] = []
        self.message_hashes: list[int] = []
        self._index: dict[int, int] = {}  # id(representative) -> index; reps are kept alive in `reps`
        #: message number -> its content key (`message_key`) and one envelope that carried it.
        self.message_keys: list[tuple] = []
        #: message number -> its link, (sender, receiver).
        self.links: list[tuple[int, int]] = []
        self.envelopes: list[Any] = []
        self._by_content: dict[tuple, int] = {}
        # (sender, receiver, config_id, id(message)) -> number: most messages in flight are the very
        # objects a memoized Out sends again, so they are found without hashing their content. The
        # message objects are kept alive in `_alive`, so an id is never reused for another one.
        self._by_object: dict[tuple, int] = {}
        self._alive: list[Any] = []

    def server(self, server: Server) -> tuple[Server, int]:
        """The representative of `server`'s state and its number (`server` itself when its state is
        new: from now on it must not change)."""
        index = self._index.get(id(server))
        if index is not None and self.reps[index] is server:
            return server, index
        canon = _canonical_server(server)
        index = self._by_canon.get(canon)
        if index is None:
            index = self._by_canon[canon] = len(self.reps)
            self.reps.append(server)
            self.server_hashes.append(hash(canon))
            self._index[id(server)] = index
        return self.reps[index], index

    def index(self, server: Server) -> int:
        """The number of a representative."""
        return self._index[id(server)]

    def message(self, env: Any) -> int:
        """The number of the content of envelope `env`."""
        fast = (env.sender, env.receiver, env.config_id, id(env.message))
        number = self._by_object.get(fast)
        if number is None:
            content = message_key(env)
            number = self._by_content.get(content)
            if number is None:
                number = self._by_content[content] = len(self.message_keys)
                self.message_keys.append(content)
                self.message_hashes.append(hash(content))
                self.links.append((env.sender, env.receiver))
                self.envelopes.append(env)
            self._by_object[fast] = number
            self._alive.append(env.message)
        return number

    def messages(self, cluster: Any, fifo: bool = False) -> tuple:
        """The multiset of messages in flight, as a sorted tuple of numbers; with `fifo`, the
        sequence each link holds in send order instead, links one after another (`flight_key`)."""
        message = self.message
        return self.flight_key([message(env) for env in cluster.network.in_flight.values()], fifo)

    def flight_key(self, numbers: list, fifo: bool) -> tuple:
        """The messages with these `numbers` (in send order) as a state key holds them: a sorted
        tuple (a multiset), or with `fifo` grouped by link, each link's messages in send order (the
        sort is stable, so a message sent later stays behind the earlier ones of its link). Sorts
        `numbers` in place."""
        numbers.sort(key=self.links.__getitem__ if fifo else None)
        return tuple(numbers)


class _Entry:
    """One memoized transition: the representative after the input, its number, the `Out` (None
    when the server refused the input) and the refusal, with what the Out sends (numbers of the
    messages that go on the wire, cut links aside) and the servers it asks for."""

    __slots__ = ("rep", "index", "out", "refusal", "sends", "needs")

    def __init__(self, rep: Server, index: int, out: Any, refusal: Optional[BaseException], sends: tuple,
                 needs: tuple) -> None:
        self.rep, self.index, self.out, self.refusal, self.sends, self.needs = rep, index, out, refusal, sends, needs


class Transitions:
    """The memo of server transitions of one search: (representative number, input) -> `_Entry`."""

    def __init__(self, interner: Interner, shared: dict, refusals: tuple, cut_links: frozenset) -> None:
        self.interner = interner
        self._shared = shared  # objects a copy keeps (the client's proposals, see `Successors`)
        self._refusals = refusals
        self._cut = cut_links
        self._table: dict[tuple, _Entry] = {}
        self.misses = 0

    def get(self, index: int, key: tuple) -> Optional[_Entry]:
        return self._table.get((index, key))

    def compute(self, index: int, key: tuple, call: Callable[[Server], Any]) -> _Entry:
        """The entry of (`index`, `key`), computed by `call` on a copy of the representative if it is
        not memoized yet. A refusal (`refusals`: a ProposeErr, a CompactionErr) is memoized with the
        state the server was left in; any other error propagates and nothing is memoized."""
        entry = self._table.get((index, key))
        if entry is not None:
            return entry
        self.misses += 1
        server = deep_copy(self.interner.reps[index], dict(self._shared))
        refusal: Optional[BaseException] = None
        try:
            out = call(server)
        except self._refusals as err:
            out, refusal = None, err
        rep, new_index = self.interner.server(server)
        sends, needs = self._effects(server.pid, out)
        entry = self._table[(index, key)] = _Entry(rep, new_index, out, refusal, sends, needs)
        return entry

    def _effects(self, pid: int, out: Any) -> tuple[tuple, tuple]:
        """What carrying out `out` (`Cluster._apply`) puts on the wire and which servers it creates."""
        if out is None:
            return (), ()
        sends: list[int] = []
        needs: list[int] = []
        message = self.interner.message
        for step in out:
            kind = step[0]
            if kind == CALLED:
                config_id, messages = step[1], step[3]
                for msg in messages or ():
                    if (pid, msg.receiver) not in self._cut:
                        sends.append(message(_Sample(pid, msg.receiver, config_id, msg)))
            elif kind == SEND:
                if (pid, step[1]) not in self._cut:
                    sends.append(message(_Sample(pid, step[1], step[2], step[3])))
            elif kind == NEEDS_SERVER:
                needs.append(step[1])
        return tuple(sends), tuple(needs)


class _Sample:
    """An envelope without an id (what `Interner.message` reads)."""

    __slots__ = ("sender", "receiver", "config_id", "message", "id")

    def __init__(self, sender: int, receiver: int, config_id: int, message: Any) -> None:
        self.sender, self.receiver, self.config_id, self.message, self.id = sender, receiver, config_id, message, None


class _Stand:
    """Stands in for a representative server in a cluster being built: the cluster's calls into the
    server (`deliver`, `tick`, `propose`, ...) are looked up in the memo (computed on a copy the
    first time), the representative of the state after the call takes the stand-in's place in
    ``cluster.servers``, and the `Out` is returned for the cluster to carry out. Everything else is
    read from the current representative; a server method that is not memoized raises rather than
    change a representative."""

    __slots__ = ("_rep", "_index", "_pid", "_cluster", "_memo")

    def __init__(self, rep: Server, index: int, cluster: Any, memo: Transitions) -> None:
        self._rep, self._index, self._pid, self._cluster, self._memo = rep, index, rep.pid, cluster, memo

    def __getattr__(self, name: str) -> Any:
        if callable(getattr(type(self._rep), name, None)):
            raise SimulationError(f"explore: the cluster called Server.{name}, which the explorer does not memoize "
                                  "(omnilab/sim/memo.py)")
        return getattr(self._rep, name)

    def _call(self, key: tuple, call: Callable[[Server], Any]) -> Any:
        entry = self._memo.compute(self._index, key, call)
        self._rep, self._index = entry.rep, entry.index
        self._cluster.servers[self._pid] = entry.rep
        if entry.refusal is not None:
            raise entry.refusal.with_traceback(None)
        return entry.out

    def deliver(self, env: Any) -> Any:
        return self._call(("deliver", self._memo.interner.message(env)), lambda s: s.deliver(env))

    def tick(self) -> Any:
        return self._call(("tick",), lambda s: s.tick())

    def crash(self) -> Any:
        return self._call(("crash",), lambda s: s.crash())

    def recover(self) -> Any:
        return self._call(("recover",), lambda s: s.recover())

    def try_become_leader(self) -> Any:
        return self._call(("elect",), lambda s: s.try_become_leader())

    def propose(self, proposal: Any) -> Any:
        return self._call(("propose", _input_key(proposal)), lambda s: s.propose(proposal))

    def reconfigure(self, config: Any, metadata: Any = None) -> Any:
        return self._call(("reconfigure", _input_key(config), _input_key(metadata)),
                          lambda s: s.reconfigure(config, metadata))

    def set_priority(self, priority: int) -> Any:
        return self._call(("set_priority", priority), lambda s: s.set_priority(priority))


def _input_key(value: Any) -> Any:
    """A hashable key equal for equal inputs (a value's canonical form, walked field by field)."""
    return _Walker(True).canon(value)


class Successors:
    """Builds and predicts the successors of search states (see the module docstring): the memo,
    the numbering, and the state key of a cluster in the search.

    The state key is a hash of (the servers' numbers by pid, the sorted numbers of the messages in
    flight, the cut links, the budgets used): equal exactly when `omnilab.sim.fingerprint`'s
    canonical states (and the budgets) are equal, since a number stands for one canonical server or
    message. With `fifo` the messages are each link's sequence in send order instead of a multiset
    (a finer key: the order decides what a FIFO link delivers next). `root` is changed: its servers
    are replaced by their representatives (equal objects until now; the search owns it).

    With `portable`, the key is made of the hashes of the canonical servers and message contents
    (`Interner.server_hashes`, `message_hashes`) rather than their numbers: the same in every
    process forked from this one after the numbering diverged (`omnilab.sim.workers`); two states
    get one key only if they are equal or their 64-bit hashes collide."""

    def __init__(self, root: Any, refusals: tuple, fifo: bool = False, portable: bool = False) -> None:
        self.interner = Interner()
        #: the state key keeps each link's order (the explorer delivers each link's oldest first).
        self.fifo = fifo
        self.portable = portable
        self.cut = frozenset(root.network.cut_links)
        self.memo = Transitions(self.interner, _proposals_kept(root.ledger), refusals, self.cut)
        for pid, server in list(root.servers.items()):
            root.servers[pid] = self.interner.server(server)[0]
        self._variant = root.variant
        self._server_config = root._server_config
        self._fresh: dict[int, int] = {}  # pid -> number of a server just created for that pid
        self._inputs: dict[tuple, Any] = {}  # put choice -> its memo key

    # --- keys --------------------------------------------------------------------------------------

    def servers(self, cluster: Any) -> tuple:
        index = self.interner.index
        return tuple(sorted([(pid, index(server)) for pid, server in cluster.servers.items()]))

    def key(self, cluster: Any, used: tuple) -> int:
        """The state key of a cluster whose servers are representatives."""
        if self.portable:
            index, message = self.interner.index, self.interner.message
            return self._portable_key([(pid, index(server)) for pid, server in cluster.servers.items()],
                                      [message(env) for env in cluster.network.in_flight.values()],
                                      frozenset(cluster.network.cut_links), used)
        return hash((self.servers(cluster), self.interner.messages(cluster, self.fifo),
                     frozenset(cluster.network.cut_links), used))

    def _portable_key(self, servers: list, numbers: list, cut: frozenset, used: tuple) -> int:
        """The portable key (see the class docstring) of servers given as (pid, number) and the
        numbers of the messages in flight in send order (sorted in place)."""
        interner = self.interner
        server_hashes, message_hashes = interner.server_hashes, interner.message_hashes
        named = tuple(sorted([(pid, server_hashes[index]) for pid, index in servers]))
        if self.fifo:
            numbers.sort(key=interner.links.__getitem__)  # stable: each link's order is kept
            flight = tuple([message_hashes[n] for n in numbers])
        else:
            flight = tuple(sorted([message_hashes[n] for n in numbers]))
        return hash((named, flight, cut, used))

    # --- building ----------------------------------------------------------------------------------

    def build(self, parent: Any, choice: tuple, apply: Callable[[Any, tuple], None]) -> Any:
        """A new cluster: `parent` after `choice`, performed by `apply` (public `Cluster` calls) on a
        sharing copy: its own servers dict (memoized stand-ins for the parent's representatives),
        network, trace (a new list of the same items) and ledger (a copy, `_ledger_copy`; a drop or a
        duplicate only moves messages, so it shares its parent's). `parent` is not changed."""
        child = object.__new__(type(parent))
        state = child.__dict__
        state.update(parent.__dict__)
        index, memo = self.interner.index, self.memo
        servers: dict[int, Any] = {pid: _Stand(rep, index(rep), child, memo) for pid, rep in parent.servers.items()}
        state["servers"] = servers
        network = parent.network
        copied = state["network"] = object.__new__(type(network))
        copied.__dict__.update(network.__dict__)
        copied.in_flight = dict(network.in_flight)
        copied.cut_links = set(network.cut_links)
        if choice[0] not in ("drop", "duplicate"):
            state["ledger"] = _ledger_copy(parent.ledger)
        state["trace"] = Trace(parent.trace)  # positions stay as in the public calls: the ledger's clock
        try:
            apply(child, choice)
        finally:
            for pid, server in list(servers.items()):
                if type(server) is _Stand:
                    servers[pid] = server._rep
                else:  # a server the call created
                    servers[pid] = self.interner.server(server)[0]
        return child

    # --- predicting --------------------------------------------------------------------------------

    def predict(self, cluster: Any, servers: tuple, messages: tuple, choice: tuple, used: tuple) -> Optional[int]:
        """The state key of `cluster` (whose `servers` and `messages` keys are given) after
        `choice`, from the memo alone; None when a server input it needs is not memoized yet (or
        the choice is a reconfiguration, whose checks `build` leaves to the cluster)."""
        kind = choice[0]
        calls: list[tuple[int, tuple]] = []
        flight = list(messages)
        if kind == "step":
            flight.remove(choice[1])
            receiver = cluster.servers.get(choice[2])
            if receiver is not None and receiver.up:
                calls.append((choice[2], ("deliver", choice[1])))
        elif kind == "drop":
            flight.remove(choice[1])
        elif kind == "duplicate":
            flight.append(choice[1])
        elif kind == "tick":
            calls = [(pid, ("tick",)) for pid, s in cluster.servers.items() if s.up and s.instances]
        elif kind == "put":
            calls.append((choice[1], self._put_input(choice)))
        elif kind in _SIMPLE:
            calls.append((choice[1], (_SIMPLE[kind],)))
        else:
            return None
        numbers = dict(servers)
        get = self.memo.get
        for pid, key in calls:
            entry = get(numbers[pid], key)
            if entry is None:
                return None
            numbers[pid] = entry.index
            flight.extend(entry.sends)
            for new in entry.needs:
                if new not in numbers:
                    numbers[new] = self._fresh_server(new)
        # A delivered message was the oldest of its link, so `remove` took the right one; the
        # messages sent go behind the others of their links.
        if self.portable:
            return self._portable_key(list(numbers.items()), flight, self.cut, used)
        return hash((tuple(sorted(numbers.items())), self.interner.flight_key(flight, self.fifo), self.cut, used))

    def _put_input(self, choice: tuple) -> tuple:
        key = self._inputs.get(choice)
        if key is None:
            from omnilab.kv import KeyValue

            key = self._inputs[choice] = ("propose", _input_key(KeyValue(choice[2], choice[3])))
        return key

    def _fresh_server(self, pid: int) -> int:
        """The number of the server `Cluster._ensure_server` creates for `pid`."""
        number = self._fresh.get(pid)
        if number is None:
            number = self._fresh[pid] = self.interner.server(Server(pid, self._server_config(pid), self._variant))[1]
        return number


#: Explorer choices that make one call into one server, and the memo key of that call.
_SIMPLE = {"crash": "crash", "recover": "recover", "elect": "elect"}


def _proposals_kept(ledger: Any) -> dict:
    """A copy memo keeping the client's proposals as the very same objects (the ledger matches
    decided values to proposals by identity first), as `Cluster.fork` does."""
    memo: dict = {}
    for op in getattr(ledger, "history", ()):
        memo[id(op.proposal)] = op.proposal
    for proposal in getattr(ledger, "proposed", ()):
        memo[id(proposal)] = proposal
    return memo


def _ledger_copy(ledger: Any) -> Any:
    """A copy of the ledger that goes on independently (`Ledger.__deepcopy__`: it shares the
    proposals and the final client operations, copies the pending ones, and shares every other
    container until one of the two ledgers changes it)."""
    return ledger.__deepcopy__({})
