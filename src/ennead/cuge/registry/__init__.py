"""Benchmark registries shipped as YAML (``cuge.yaml``: the paper's; ``standin.yaml``: offline)."""
