"""Embedders, BM25 and a FAISS dense index over JSONL corpora."""
