"""Exercise checks (feedback in the notebook) and the instructor's batch grader.

Filled by later issues.
"""
