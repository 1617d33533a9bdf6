"""Monitoring read from run records: metrics over a time window (and the health of dependencies)."""
