import pytest
import torch

TEXTS = [
    "question : is the sky blue ? answer : yes",
    "question : is fire cold ? answer : no",
    "question : is ice cold ? answer : yes",
    "question : is the sun dark ? answer : no",
]


def make_pairs():
    """Four yes/no questions: the right answer is chosen, the other rejected."""
    pairs = []
    for text in TEXTS:
        question, answer = text.split(" answer : ")
        other = "no" if answer == "yes" else "yes"
        pairs.append({"prompt": question + " answer :", "chosen": answer, "rejected": other})
    return pairs


def make_tiny(seed=0):
    from ennead.core.backends.tiny_model import build_tiny_lm

    return build_tiny_lm(TEXTS, seed=seed, hidden_size=32, num_layers=1, num_heads=2)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture
def tiny_lm():
    return make_tiny()


@pytest.fixture
def pairs():
    return make_pairs()
