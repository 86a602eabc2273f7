"""The graded exercises, one module each (numbered after the course).

Each module defines ``EXERCISE`` (an `omnilab.grading.bank.Exercise`), the scaffolding its answer
plugs into (blanked classes, the adapter that turns the answer into a simulator variant) and its
checks. Solutions are in ``solutions/NN-slug.py``; the notebooks are generated from them.
"""

from . import ble_round_end, break_it, promises, quorums, reconfiguration, state_transfer

ALL = (quorums.EXERCISE, ble_round_end.EXERCISE, promises.EXERCISE, reconfiguration.EXERCISE, state_transfer.EXERCISE,
       break_it.EXERCISE)
