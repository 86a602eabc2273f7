"""Settings shared by every omnilab test suite. Fixtures belong next to the tests that use them.

Hypothesis: no per-example deadline (timings vary on a loaded 2-core machine, and nothing here
asserts on time); under CI (the ``CI`` environment variable set) it is derandomized, so a CI run
is the same every time. ``HYPOTHESIS_PROFILE=dev`` or ``=ci`` chooses explicitly.
"""

import os

from hypothesis import settings

settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, database=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))
