"""Rewards: the whole pipeline's final answer scored against the gold answers.

``accuracy`` follows the reference code: 1 if a gold answer, its lower-case or capitalised form is a
substring of the prediction (no further normalisation). The other metrics come from core.eval.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ennead.core.errors import ConfigError, DataError

RewardFn = Callable[[str, Sequence[str]], float]


def ddr_accuracy(prediction: str, answers: Sequence[str]) -> float:
    for gold in answers:
        if gold and any(g in prediction for g in (gold, gold.lower(), gold.capitalize())):
            return 1.0
    return 0.0


def _core(name: str) -> RewardFn:
    def fn(prediction: str, answers: Sequence[str]) -> float:
        from ennead.core.eval.metrics import get_metric

        return float(get_metric(name).fn(prediction, list(answers)))

    fn.__name__ = name
    return fn


REWARDS: dict[str, RewardFn] = {
    "accuracy": ddr_accuracy,
    "em": _core("exact_match"),
    "f1": _core("token_f1"),
    "rouge_l": _core("rouge_l"),
}
# The metric the paper uses per evaluation dataset (KILT identifiers), spec section 3.2.
DATASET_METRIC = {
    "nq": "accuracy",
    "tqa": "accuracy",
    "triviaqa": "accuracy",
    "hotpotqa": "accuracy",
    "t-rex": "accuracy",
    "trex": "accuracy",
    "marco": "rouge_l",
    "marcoqa": "rouge_l",
    "wow": "f1",
    "web_questions": "accuracy",
    "wiki_qa": "rouge_l",
    "yahoo_answers_qa": "rouge_l",
    "synthetic": "accuracy",
    "qa": "accuracy",
}


def reward_for(data_type: str | None, default: str = "accuracy") -> RewardFn:
    """Reward function for a data type (dataset id) or a metric name."""
    name = DATASET_METRIC.get((data_type or "").lower(), data_type or default)
    if name not in REWARDS:
        raise ConfigError(
            f"no reward for {data_type!r}; use a metric ({', '.join(REWARDS)}) or a dataset id "
            f"({', '.join(sorted(DATASET_METRIC))})"
        )
    return REWARDS[name]


def score(prediction: str, answers: Sequence[str], data_type: str | None = None) -> float:
    if not answers:
        raise DataError("a question without gold answers cannot be scored")
    return reward_for(data_type)(prediction, answers)
