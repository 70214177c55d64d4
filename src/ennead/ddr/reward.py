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


def first_chars_accuracy(prediction: str, answers: Sequence[str], n: int = 3) -> float:
    """Multiple choice (commonsense_qa, math_qa): accuracy on the first ``n`` characters, so an
    option letter counts and the same letter later in an explanation does not."""
    return ddr_accuracy(prediction[:n], answers)


def before_rationale_accuracy(
    prediction: str, answers: Sequence[str], marker: str = "COT"
) -> float:
    """Chain-of-thought sets (gsm8k, strategyqa, aqua_rat, ecqa): accuracy on the answer before
    the rationale marker, so a gold string inside the reasoning earns nothing."""
    return ddr_accuracy(prediction.split(marker, 1)[0], answers)


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
    "accuracy_first3": first_chars_accuracy,
    "accuracy_before_cot": before_rationale_accuracy,
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
    # The training mixture's own rewards (spec section 2.4, MiniCPM column; the Llama generator
    # differs on two sets, see LLAMA_TRAINING_METRIC).
    "commonsense_qa": "accuracy_first3",
    "math_qa": "accuracy_first3",
    "aqua_rat": "accuracy_before_cot",
    "ecqa": "accuracy_before_cot",
    "gsm8k": "accuracy_before_cot",
    "strategyqa": "accuracy_before_cot",
    # The reference code samples CoQA but has no reward for it; its answers are free-form
    # spans, scored here with token F1 (CoQA's own metric).
    "coqa": "f1",
}
# Where the reference code scores the Llama generator's rollouts differently.
LLAMA_TRAINING_METRIC = {"aqua_rat": "accuracy_first3", "ecqa": "accuracy"}
# The paper's training mixture (spec section 4): the data types a mixture file may hold.
TRAINING_MIXTURE = (
    "commonsense_qa",
    "math_qa",
    "aqua_rat",
    "ecqa",
    "gsm8k",
    "strategyqa",
    "web_questions",
    "wiki_qa",
    "yahoo_answers_qa",
    "marcoqa",
    "coqa",
)


def reward_for(
    data_type: str | None, default: str = "accuracy", generator: str = "minicpm"
) -> RewardFn:
    """Reward function for a data type (dataset id) or a metric name; ``generator="llama"``
    takes the reference code's Llama variant for the training sets where it differs."""
    key = (data_type or "").lower()
    table = {**DATASET_METRIC, **(LLAMA_TRAINING_METRIC if generator == "llama" else {})}
    name = table.get(key, data_type or default)
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
