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
# # Exercise 5: State transfer
#
# When a reconfiguration adds a node, that node was never a member of the old configuration: it
# never sees the StopSign, and it holds none of the state decided before it. In omnilab, every old
# member that decides the StopSign sends each new node two service messages through the same network
# as everything else (visible in `pending()`, droppable):
#
# * `StartInstance(config)`: configuration `config` has started and includes you;
# * `StateTransfer(...)`: the key-value state after the StopSign (`.state`, `.config_id`, ...);
#
# and resends both every `resend_message_tick_timeout` ticks until the new node answers with a
# `TransferAck(config_id)`. The new node must start its instance **once**, and only when it holds
# **both** the configuration and the state, so it starts with exactly the state decided before the
# StopSign, however the network reorders, drops or duplicates these messages, and whichever old
# member's copy arrives first.
#
# You write the new node's side: what a server does with each service message it receives.

# %%
import omnilab
import omnilab.grading
from omnilab.grading.exercises.state_transfer import BlankStateTransfer
from omnilab.sim import StartInstance, StateTransfer, TransferAck

# %% [markdown]
# ## Your task
#
# `help(BlankStateTransfer)` lists what you can use. `self` is the server's reconfiguration service
# (every server runs its own): `self.join(config_id)` starts the server's instance from what it kept
# in `self.told` and `self.transfers` (and acknowledges the transfer), `self.send(...)` sends.

# %% tags=["answer"] omnilab={"exercise": "ex05", "surface": "MyStateTransfer"}
class MyStateTransfer(BlankStateTransfer):
    def handle_message(self, env) -> None:
        """My server received `env.message` (a StartInstance, StateTransfer or TransferAck) from
        `env.sender`. Keep what arrives, start the instance once both messages are there, answer a
        StateTransfer for an instance that already runs with a TransferAck (the sender keeps resending
        until it gets one), and let an old member that receives a TransferAck stop resending."""
        # Hint: a message for a configuration the server already runs changes nothing, but a
        # StateTransfer still deserves its acknowledgement.
        # Hint: keep a StateTransfer that arrives before its StartInstance; do not wait for the order.
        ### BEGIN SOLUTION
        msg = env.message
        if isinstance(msg, TransferAck):
            self.unacked.pop(env.sender, None)
            return
        if isinstance(msg, StartInstance):
            config_id = msg.config.configuration_id
            if config_id in self.server.instances:
                return
            self.told[config_id] = msg.config
        else:
            config_id = msg.config_id
            if config_id in self.server.instances:
                self.send(env.sender, config_id, TransferAck(config_id))
                return
            self.transfers[config_id] = (env.sender, msg)
        if config_id in self.told and config_id in self.transfers:
            self.join(config_id)
        ### END SOLUTION


# %% [markdown]
# ## Try it
#
# Node 3 crashed; replace it with node 4. Watch the service messages in `pending()` after the StopSign
# is decided, then let them arrive.

# %%
scenario = omnilab.scenarios.replace_crashed_node()
cluster = omnilab.Cluster.replay(scenario.trace, variant=omnilab.grading.variant("ex05"))
cluster.reconfigure([1, 2, 4])
cluster.run(ticks=3)
dict(cluster.server(4).kv)

# %% [markdown]
# ## Grade it
#
# `check` replaces node 3 by node 4 four times: with the service messages in order, reordered
# (every StateTransfer first), lost twice, and duplicated. Each run must start node 4 once, with
# the state decided before the StopSign (ConfigurationTransition), keep every safety invariant, and
# decide a new write in configuration 2. `report.lab("reordered")` opens a failing run.

# %%
report = omnilab.grading.check("ex05")
report

# %% tags=["solution-only"]
assert report.score == report.max_score, report
