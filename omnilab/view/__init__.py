"""Pure functions from sim/replica state to pandas DataFrames and graphviz diagrams.

Views only read: they never change a cluster or a replica. ``tables`` gives DataFrames (`logs`,
`nodes`, `ble`, `messages`, `events`, `state_split`, `kv`); `storage` gives every configuration's
storage per node; `reconfiguration` gives the stages of
each configuration change (drawn by `strip_html`); ``diagrams`` gives graphviz pictures
(`cluster_diagram`, `spacetime`, `role_phase_diagram`); ``palette`` is the colours all share.
"""

from .diagrams import cluster_diagram, role_phase_diagram, spacetime, svg
from .reconfiguration import reconfiguration, strip_html
from .storage import storage
from .tables import LogTable, ble, events, html_table, kv, logs, messages, nodes, state_split

__all__ = ["logs", "nodes", "ble", "messages", "events", "state_split", "kv", "LogTable", "html_table",
           "storage", "reconfiguration", "strip_html", "cluster_diagram", "spacetime", "role_phase_diagram", "svg"]
