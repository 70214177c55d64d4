"""Shared fixtures for the backend tests: a tiny in-process Llama and one torch thread."""

import pytest

TEXTS = [
    "the capital of france is paris .",
    "the capital of italy is rome .",
    "a cat sat on the mat and a dog sat on the log .",
    "one two three four five six seven eight nine ten .",
]


@pytest.fixture(autouse=True)
def one_torch_thread():
    """On a busy 2-core machine two OpenMP threads spin against other processes and generation
    runs 5-30x slower; one thread keeps these tests fast. Restored after each test."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny():
    from ennead.core.backends import load_backend

    # batch_size 4 < the prompt counts used below, so chunking is exercised too
    return load_backend("tiny", batch_size=4, options={"texts": TEXTS, "seed": 1})


@pytest.fixture(scope="module")
def saved(tiny, tmp_path_factory):
    """The tiny model saved as a transformers folder."""
    folder = tmp_path_factory.mktemp("tiny-model")
    tiny.model.save_pretrained(folder)
    tiny.tokenizer.save_pretrained(folder)
    return folder
