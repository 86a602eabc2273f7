"""Variants: which classes a simulated cluster is built from.

A `Variant` names the swappable parts of the world: the replica's `Components` (quorum rule, Ballot
Leader Election, Sequence Paxos), the reconfiguration service and the key-value state machine. The
default, `REFERENCE`, is the reference behaviour; a learner's answer, or one of the deliberately
buggy `omnilab.sim.mutants`, is a Variant whose classes override a few methods::

    class EveryoneIsAQuorum(Quorum):
        def is_accept_quorum(self, count):
            return count >= 1

    LONE_DECIDER = REFERENCE.with_components("lone-decider", quorum=EveryoneIsAQuorum)
    cluster = Cluster([1, 2, 3], variant=LONE_DECIDER)

The trace records the variant by its importable name (``"package.module:ATTRIBUTE"``) so that
``Cluster.replay(trace)`` rebuilds the same world. A variant defined in a notebook cannot be
imported back: replay it with ``Cluster.replay(trace, variant=LONE_DECIDER)``.

What each field reaches:

* ``replica``: every OmniPaxos instance the cluster starts (``omnilab.sim.instances.start_instance``).
* ``service``: a subclass of `ReconfigurationService`; every server builds one
  (``service(server)``) and runs it: its decided-suffix loop (``apply_decided``), its handler of the
  service messages StartInstance, StateTransfer and TransferAck (``handle_message``), its resends
  (``tick``), the state it saves before a compaction (``save_state``) and its recovery
  (``recover``). A subclass overrides the methods it changes.
* ``state_machine``: the class of each server's key-value state machine (`omnilab.kv.KVStore`
  interface: ``apply``, ``apply_snapshot``, ``data``); every server builds its own, and a fresh one
  when it crashes, recovers or installs a transferred state.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, replace
from typing import Any, Optional

from omnilab.kv import KVStore
from omnilab.replica.components import REFERENCE_COMPONENTS, Components

from .errors import BadInput
from .service import ReconfigurationService


class UnknownVariant(BadInput):
    """A variant name that names no variant (not "reference", not a mutant, not importable)."""


@dataclass(frozen=True)
class Variant:
    """The classes a cluster is built from; ``name`` is shown in ``repr(cluster)``, the lab and the
    trace; ``description`` says what differs from the reference (for a mutant: what is wrong and
    which invariant should catch it)."""

    name: str
    description: str = ""
    replica: Components = REFERENCE_COMPONENTS
    service: type = ReconfigurationService
    state_machine: type = KVStore

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise BadInput(f"a Variant needs a name (a non-empty string), not {self.name!r}")
        if not isinstance(self.replica, Components):
            raise BadInput(f"Variant(replica=...) takes omnilab.replica.components.Components, not {self.replica!r}")
        if not (isinstance(self.service, type) and issubclass(self.service, ReconfigurationService)):
            raise BadInput(f"Variant(service=...) takes a subclass of ReconfigurationService, not {self.service!r}")

    def with_components(self, name: Optional[str] = None, **replica_fields: Any) -> "Variant":
        """This variant with some replica classes replaced (``quorum=``, ``ballot_leader_election=``,
        ``sequence_paxos=``), renamed `name` if given."""
        known = set(Components.__dataclass_fields__)
        unknown = sorted(set(replica_fields) - known)
        if unknown:
            raise BadInput(f"with_components: unknown component(s) {unknown}; the components are {sorted(known)}")
        return replace(self, name=self.name if name is None else name, replica=replace(self.replica, **replica_fields))

    @property
    def is_reference(self) -> bool:
        return self == REFERENCE

    def __deepcopy__(self, memo: dict) -> "Variant":
        return self  # immutable: a forked cluster runs the very same variant


#: The reference behaviour: what every `Cluster` runs unless told otherwise.
REFERENCE = Variant("reference", "the reference OmniPaxos, reconfiguration service and key-value store")


def _catalogue() -> dict:
    from .mutants import ALL  # the catalogue imports this module

    return ALL


def resolve(spec: Any) -> Variant:
    """The `Variant` `spec` names: a Variant itself, None or ``"reference"`` (the reference), a mutant's
    catalogue name (``omnilab.sim.mutants.MUTANTS``) or ``"package.module:ATTRIBUTE"``. Raises
    `UnknownVariant` (a `BadInput`) saying what exists."""
    if spec is None:
        return REFERENCE
    if isinstance(spec, Variant):
        return spec
    if not isinstance(spec, str):
        raise UnknownVariant(f"variant= takes a Variant or its name, not {spec!r}")
    if spec == REFERENCE.name:
        return REFERENCE
    if ":" not in spec:
        catalogue = _catalogue()
        if spec in catalogue:
            return catalogue[spec]
        raise UnknownVariant(f"there is no variant {spec!r}: name 'reference', a mutant ({', '.join(catalogue)}) "
                             "or an importable 'package.module:ATTRIBUTE'")
    module_name, _, attribute = spec.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError as err:
        raise UnknownVariant(f"variant {spec!r}: cannot import module {module_name!r} ({err}); a variant "
                             "defined in a notebook is passed as the object itself "
                             "(Cluster.replay(trace, variant=...))") from None
    for part in attribute.split("."):
        found = getattr(found, part, None)
        if found is None:
            raise UnknownVariant(f"variant {spec!r}: module {module_name!r} has no attribute {attribute!r}")
    if not isinstance(found, Variant):
        raise UnknownVariant(f"variant {spec!r} names {found!r}, which is not a Variant")
    return found


def importable_name(variant: Variant) -> Optional[str]:
    """``"package.module:ATTRIBUTE"`` under which `variant` can be imported back (``"reference"`` for
    the reference), else None (e.g. defined in a notebook). Found by looking for a module-level
    attribute equal to `variant` in the modules that define its classes, and checked by resolving it."""
    if variant == REFERENCE:
        return REFERENCE.name
    classes = [variant.replica.quorum, variant.replica.ballot_leader_election, variant.replica.sequence_paxos,
               variant.service, variant.state_machine]
    modules = ["omnilab.sim.mutants"] + [cls.__module__ for cls in classes]
    for module_name in dict.fromkeys(modules):
        if module_name == "__main__" or module_name.startswith("omnilab.replica"):
            continue
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for attribute, value in vars(module).items():
            if value is variant or (isinstance(value, Variant) and value == variant):
                name = f"{module_name}:{attribute}"
                try:
                    if resolve(name) == variant:
                        return name
                except BadInput:
                    pass
    return None
