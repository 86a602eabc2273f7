"""omnilab: learn the OmniPaxos replicated log in Jupyter.

Layers (see DESIGN.md): ``omnilab.replica`` is the sans-IO OmniPaxos replica, ``omnilab.sim``
the deterministic in-notebook world around it, ``omnilab.view`` turns their state into tables
and diagrams, ``omnilab.widgets`` and ``omnilab.grading`` sit on top.

This module stays tiny: ``import omnilab`` must never pull in Jupyter, ipywidgets or other
heavy front-end libraries, so the command line and the replica stay quick to import.
"""

__version__ = "0.1.0"

# --- public API re-exports (filled by the replica layer) ---
