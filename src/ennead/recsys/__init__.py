"""Recsys: pre-training for recommendation, transferred to cold-start users (Zeng et al. 2021)."""
