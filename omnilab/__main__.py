"""``python -m omnilab`` is the same as the ``omnilab`` console script."""

from omnilab.cli import main

raise SystemExit(main())
