import pytest
import torch

TEXTS = [
    "question : is the sky blue ? answer : yes",
    "question : is fire cold ? answer : no",
    "question : is ice cold ? answer : yes",
    "question : is the sun dark ? answer : no",
]


def make_pairs():
    pairs = []
    for t in TEXTS:
        q, a = t.split(" answer : ")
        other = "no" if a == "yes" else "yes"
        pairs.append({"prompt": q + " answer :", "chosen": " " + a, "rejected": " " + other})
    return pairs


@pytest.fixture
def tiny_lm():
    from ennead.core.backends.tiny_model import build_tiny_lm

    torch.manual_seed(0)
    torch.set_num_threads(1)
    return build_tiny_lm(TEXTS, seed=0, hidden_size=32, num_layers=1, num_heads=2)


@pytest.fixture
def pairs():
    return make_pairs()
