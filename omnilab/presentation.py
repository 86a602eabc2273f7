"""How the simulator's own table methods reach the views without the simulator importing them.

`Cluster.pending()`, `Cluster.logs()` and `Cluster.history()` return pandas tables, and an explorer's
counterexample opens in the lab (`ExploreResult.lab()`). Those are drawn by `omnilab.view` and
`omnilab.widgets`, the layers *above* the simulator: they read the simulator, never the other way
round, so that ``import omnilab.sim`` loads no pandas, no graphviz and no ipywidgets, and nothing in
`omnilab.sim` depends on how things are shown (the tests check both).

The methods stay on `Cluster`, where a learner looks for them (the README's first look calls them);
each asks this module for its presenter by name. The mapping below is the one place that knows both
layers, and it belongs to the package root, which sits above both. It holds import paths, not
imports: nothing is loaded until a table is asked for. (A registry the view fills when imported
would leave ``Cluster(...).logs()`` broken until something imported the view; wiring here keeps it
working from a bare ``from omnilab.sim import Cluster``.)
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

__all__ = ["PRESENTERS", "presenter", "present"]

#: name -> "module:function"; each function takes the simulator's object (a cluster) and returns
#: what is shown.
PRESENTERS: dict[str, str] = {
    "pending": "omnilab.view.tables:messages",
    "logs": "omnilab.view.tables:logs",
    "history": "omnilab.view.history:history",
    "lab": "omnilab.widgets.lab:lab",
}


def presenter(name: str) -> Callable[[Any], Any]:
    """The function registered as `name` (imported on first use)."""
    try:
        module, function = PRESENTERS[name].split(":")
    except KeyError:
        raise LookupError(f"no presenter named {name!r}; known: {', '.join(sorted(PRESENTERS))}") from None
    return getattr(importlib.import_module(module), function)


def present(name: str, subject: Any) -> Any:
    """``presenter(name)(subject)``: e.g. ``present("logs", cluster)`` is `omnilab.view.tables.logs`."""
    return presenter(name)(subject)
