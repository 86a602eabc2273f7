"""ipywidgets front-ends: they call ``omnilab.sim`` and redraw with ``omnilab.view``.

Nothing else in omnilab imports this package. ``omnilab.lab(cluster)`` is `omnilab.widgets.lab`.
"""

from .lab import TABS, Lab, lab, presets

__all__ = ["lab", "Lab", "TABS", "presets"]
