"""Session fixtures shared across the suite (real embedded models are loaded once)."""

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def smollm2_backend():
    """The embedded SmolLM2 backend (prepared into the user cache once, then reused)."""
    from ennead.core.backends import load_backend

    return load_backend("smollm2", device="cpu")
