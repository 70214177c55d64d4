"""Shared foundation: registries, configs, runs, assets, backends, retrieval, training, eval.

Nothing here imports a system package; systems import core.
"""
