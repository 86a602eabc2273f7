"""Pure functions from sim/replica state to pandas DataFrames, graphviz diagrams and text.

Views only read: they never change a cluster or a replica. ``tables`` gives DataFrames (`logs`,
`nodes`, `ble`, `messages`, `events`, `state_split`, `kv`); ``history`` the client history
(`Cluster.history()`); `storage` gives every configuration's storage per node; `reconfiguration`
gives the stages of each configuration change (drawn by `strip_html`); ``diagrams`` gives graphviz
pictures (`cluster_diagram`, `spacetime`, `role_phase_diagram`); ``text`` is how an entry
(`entry_text`) and a message (`message_text`, `envelope_text` on the wire) read everywhere;
``walkthrough`` steps a run message by message, as the course notebooks do; ``palette`` is the
colours all share. The simulator never imports this package (its table methods reach it through
`omnilab.presentation`).
"""

from .diagrams import cluster_diagram, role_phase_diagram, spacetime, svg
from .reconfiguration import reconfiguration, strip_html
from .storage import storage
from .tables import LogTable, ble, events, html_table, kv, logs, messages, nodes, state_split
from .text import entry_text, envelope_text, message_text

__all__ = ["logs", "nodes", "ble", "messages", "events", "state_split", "kv", "LogTable", "html_table",
           "storage", "reconfiguration", "strip_html", "cluster_diagram", "spacetime", "role_phase_diagram", "svg",
           "entry_text", "message_text", "envelope_text"]
