"""Pure functions from sim/replica state to pandas DataFrames and graphviz diagrams.

Views only read: they never change a cluster or a replica. Filled by later issues.
"""
