"""DDR: a RAG pipeline trained end to end with Differentiable Data Rewards (Li et al., ICLR 2025,
arXiv 2410.13509).

Work in progress: the building blocks (records and loaders, prompts with token budgets, rewards,
the knowledge-refinement and generation agents, rollouts and preference pairs) are here and tested;
the training stages, the synthetic-world benchmark, the facade and the CLI come next (issue 3).
"""
