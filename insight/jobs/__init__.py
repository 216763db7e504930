"""Insight jobs: functions from a `Dataset` (and parameters) to an Ibis table, the same on every engine."""
