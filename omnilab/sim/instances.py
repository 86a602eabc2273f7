"""Starting an OmniPaxos instance: the one place the simulator builds a replica.

The cluster starts configuration 1 here, and the reconfiguration service starts each next
configuration (an old member that decided the StopSign, a new server once its state arrived) and
rebuilds every instance of a recovering server from its storage. All of them build from the
cluster's `Variant`, so a variant reaches every replica.
"""

from __future__ import annotations

from typing import Any

from omnilab.replica.config import ClusterConfig, ServerConfig


def start_instance(variant: Any, config: ClusterConfig, server_config: ServerConfig, storage: Any) -> Any:
    """The OmniPaxos instance of `config` for the server `server_config` describes, over `storage`
    (recovering if it holds state), built from `variant`'s replica components."""
    return config.build_for_server(server_config, storage, components=variant.replica)
