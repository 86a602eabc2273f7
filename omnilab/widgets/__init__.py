"""ipywidgets front-ends: they call ``omnilab.sim`` and redraw with ``omnilab.view``.

Nothing else in omnilab imports this package. Filled by later issues.
"""
