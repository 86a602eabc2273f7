"""The deterministic in-notebook world: network, servers, cluster clock, trace and invariants."""
