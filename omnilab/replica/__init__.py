"""The OmniPaxos replica, sans-IO: calls in, outgoing messages out; no network, clock or randomness."""
