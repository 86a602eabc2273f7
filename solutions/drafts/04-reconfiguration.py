# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---


# %% [markdown]
# # Exercise 4: The reconfiguration service
#
# OmniPaxos decides *that* a configuration ends (a StopSign in the log); the application decides
# what to do about it. Every server runs the loop of the OmniPaxos reconfiguration documentation
# after anything that may have decided something:
#
# ```python
# decided_entries = omni_paxos.read_decided_suffix(idx)
# for d in decided_entries or []:
#     match d:
#         case LogEntry.StopSign(stopsign, True):
#             new_configuration = stopsign.next_config
#             if current_config.pid in new_configuration.nodes:
#                 new_omnipaxos = new_configuration.build_for_server(current_config, MemoryStorage())
# ```
#
# You write that loop for omnilab's servers: apply each decided entry to the key-value store, and on
# the decided StopSign start the next instance if this server is a member (else retire), and tell
# the servers that are new in the next configuration, since they never see the StopSign.

# %%
import omnilab
import omnilab.grading
from omnilab.grading.exercises.reconfiguration import (BlankReconfigurationService, apply_compacted,
    apply_entry, record_stopsign, retire, start_next_instance, tell_new_nodes)
from omnilab import LogEntry, MemoryStorage

# %% [markdown]
# ## Your task
#
# `help(BlankReconfigurationService)` says what `_apply_decided` receives; the helpers
# (`help(apply_entry)`, ...) do the simulator's bookkeeping. `self` is the cluster.

# %% tags=["answer"] omnilab={"exercise": "ex04", "surface": "MyReconfigurationService"}
class MyReconfigurationService(BlankReconfigurationService):
    def _apply_decided(self, server, config_id, omni, replaying=False) -> None:
        """Apply every slot of `config_id` decided at `server` since ``server.applied[config_id]``,
        then set ``server.applied[config_id]`` to the index after the last one."""
        # Hint: set server.applied[config_id] before starting the next instance: starting it may
        # decide (and apply) at once.
        ### BEGIN SOLUTION
        idx = server.applied[config_id]
        for slot in omni.read_decided_suffix(idx) or []:
            match slot:
                case LogEntry.Decided(entry):
                    apply_entry(self, server, config_id, idx, entry, replaying)
                    idx += 1
                case LogEntry.StopSign(stopsign, True):
                    record_stopsign(self, server, config_id, idx, stopsign, replaying)
                    idx += 1
                    server.applied[config_id] = idx
                    next_config = stopsign.next_config
                    if server.pid in next_config.nodes:
                        if next_config.configuration_id not in server.instances:
                            storage = MemoryStorage()
                            new_omnipaxos = next_config.build_for_server(server.server_config, storage,
                                                                         components=self.variant.replica)
                            start_next_instance(self, server, config_id, stopsign, new_omnipaxos, storage)
                    else:
                        retire(self, server, config_id, replaying)
                    old_nodes = server.durable.configs[config_id].nodes
                    new_pids = [p for p in next_config.nodes if p not in old_nodes]
                    tell_new_nodes(self, server, config_id, stopsign, idx, new_pids, replaying)
                case _:
                    idx = apply_compacted(self, server, config_id, idx, slot, replaying)
        server.applied[config_id] = idx
        ### END SOLUTION


# %% [markdown]
# ## Grade it
#
# `check` replaces crashed node 3 with node 4, runs two reconfigurations in a row with a crash
# between, and moves the cluster to all-new nodes; each run is judged for ConfigurationTransition
# (every node starts a configuration once, with the state decided before the StopSign), the safety
# invariants, progress in the new configuration, and the old nodes' retirement.

# %%
report = omnilab.grading.check("ex04")
report

# %% tags=["solution-only"]
assert report.score == report.max_score, report
