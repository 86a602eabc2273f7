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
from omnilab.grading.exercises.reconfiguration import BlankReconfigurationService
from omnilab import LogEntry, MemoryStorage

# %% [markdown]
# ## Your task
#
# Every server runs its own reconfiguration service: `self` is the service, `self.server` its server.
# `help(BlankReconfigurationService)` says what `apply_decided` receives and lists the helpers
# (`self.apply_entry`, `self.start_next_instance`, ...) that do the simulator's bookkeeping.

# %% tags=["answer"] omnilab={"exercise": "ex04", "surface": "MyReconfigurationService"}
class MyReconfigurationService(BlankReconfigurationService):
    def apply_decided(self, config_id, omni, replaying=False) -> None:
        """Apply every slot of `config_id` decided at my server since
        ``self.server.applied[config_id]``, then set ``self.server.applied[config_id]`` to the index
        after the last one."""
        # Hint: `read_decided_suffix(idx)` gives every decided slot from idx on; count idx as you go.
        # Hint: the servers new in the next configuration were not in this one, and never see the
        # StopSign: only you can tell them (`self.tell_new_nodes`).
        ### BEGIN SOLUTION
        server = self.server
        idx = server.applied[config_id]
        for slot in omni.read_decided_suffix(idx) or []:
            match slot:
                case LogEntry.Decided(entry):
                    self.apply_entry(config_id, idx, entry, replaying)
                    idx += 1
                case LogEntry.StopSign(stopsign, True):
                    self.record_stopsign(config_id, idx, stopsign, replaying)
                    idx += 1
                    next_config = stopsign.next_config
                    if server.pid in next_config.nodes:
                        if next_config.configuration_id not in server.instances:
                            storage = MemoryStorage()
                            new_omnipaxos = next_config.build_for_server(server.server_config, storage,
                                                                         components=server.variant.replica)
                            self.start_next_instance(config_id, stopsign, new_omnipaxos, storage)
                    else:
                        self.retire(config_id, replaying)
                    old_nodes = server.durable.configs[config_id].nodes
                    new_pids = [p for p in next_config.nodes if p not in old_nodes]
                    self.tell_new_nodes(config_id, stopsign, idx, new_pids, replaying)
                case _:
                    idx = self.apply_compacted(config_id, idx, slot, replaying)
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
