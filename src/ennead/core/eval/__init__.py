"""Metrics (a registry with golden-value tests) and hierarchical aggregation."""
