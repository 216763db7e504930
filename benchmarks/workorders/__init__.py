"""Benchmarks of the work-order loop (issue 16): dispatch latency, overdue detection, a storm day and
exactly-once escalation. `python -m benchmarks.workorders.run`; see run.py."""
