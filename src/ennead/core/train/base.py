"""What both training backends share: the result, the callback API and the output folder.

Both the ennead loop (:mod:`~ennead.core.train.trainer`) and the TRL backend
(:mod:`~ennead.core.train.trl_backend`) import from here and not from each other.

A callback is any object with some of the methods of :class:`Callback`; each gets the
:class:`TrainState` of the moment::

    class Every10(Callback):
        def on_step_end(self, state):
            if state.step % 10 == 0:
                print(state.step, state.loss)

    train_dpo(model, tok, pairs, cfg, callbacks=[Every10()])

Setting ``state.should_stop = True`` in a callback ends training after that step (the final
checkpoint and model export still happen).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ennead.core.runs import RunDir
from ennead.core.train.config import TrainConfig


class TrainResult(BaseModel):
    """What a training call did. ``model`` is the trained (possibly PEFT-wrapped) model."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    steps: int = Field(description="optimizer steps done, counting those before a resume")
    first_loss: float | None = Field(None, description="loss of the first step run in this call")
    final_loss: float | None = Field(None, description="loss of the last step")
    history: list[dict[str, float]] = Field(default_factory=list, description="metrics per step")
    output_dir: str | None = Field(None, description="folder with the final adapter or model")
    checkpoint: str | None = Field(None, description="last complete checkpoint")
    resumed_from: int | None = Field(None, description="step of the checkpoint resumed from")
    model: Any = Field(None, exclude=True, repr=False)


@dataclass
class TrainState:
    """Where training is, as the callbacks see it.

    ``model`` is the unwrapped model being trained (a PEFT wrapper with LoRA); a callback that
    evaluates it may switch it to ``eval()``, the loop switches it back to ``train()``.
    ``metrics`` is the row of the last optimizer step (``loss``, ``lr`` and the loss's own
    statistics, averaged over processes). Callbacks run on every process; guard side effects
    with ``is_main_process``.
    """

    model: Any = None
    step: int = 0
    epoch: int = 0
    total_steps: int = 0
    steps_per_epoch: int = 0
    loss: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)
    output_dir: Path | None = None
    is_main_process: bool = True
    backend: str = "ennead"
    should_stop: bool = False


class Callback:
    """Base of training callbacks: override the events you need; the others do nothing.

    ``on_epoch_end`` fires when a whole pass over the data is done (``state.epoch`` is the
    number of passes done, 1 after the first); a run stopped by ``max_steps`` mid-pass gets no
    ``on_epoch_end`` for that pass. ``on_train_end`` fires once, after the final export.
    """

    def on_train_begin(self, state: TrainState) -> None:
        """Before the first step (after a resume restored the step count)."""

    def on_step_end(self, state: TrainState) -> None:
        """After each optimizer step; ``state.loss`` is that step's loss."""

    def on_epoch_end(self, state: TrainState) -> None:
        """After each complete pass over the data."""

    def on_train_end(self, state: TrainState) -> None:
        """After the last step and the export of the final model."""


EVENTS = ("on_train_begin", "on_step_end", "on_epoch_end", "on_train_end")


class LambdaCallback(Callback):
    """A callback from plain functions of the state, e.g.
    ``LambdaCallback(on_epoch_end=lambda state: scores.append(evaluate(state.model)))``."""

    def __init__(self, **events: Callable[[TrainState], None]):
        unknown = sorted(set(events) - set(EVENTS))
        if unknown:
            raise TypeError(f"unknown callback events {unknown}; known: {', '.join(EVENTS)}")
        for name, fn in events.items():
            setattr(self, name, fn)


def check_callbacks(callbacks: Sequence[Any] | None) -> list[Any]:
    """The callbacks as a list; a TypeError names one that has none of the events."""
    out = list(callbacks or [])
    for i, cb in enumerate(out):
        if not any(callable(getattr(cb, name, None)) for name in EVENTS):
            raise TypeError(
                f"callbacks[{i}] ({type(cb).__name__}) has none of the methods {', '.join(EVENTS)}"
            )
    return out


def fire(callbacks: Sequence[Any], event: str, state: TrainState) -> None:
    """Call ``event`` on every callback that has it, in order."""
    for cb in callbacks:
        method = getattr(cb, event, None)
        if callable(method):
            method(state)


def output_dir(cfg: TrainConfig, run_dir: RunDir | None) -> Path | None:
    """Where checkpoints and the final model go: ``output_dir``, else ``<run_dir>/train``."""
    if cfg.output_dir:
        return Path(cfg.output_dir)
    return run_dir.path / "train" if run_dir is not None else None


def result_from_history(
    history: list[dict[str, float]],
    *,
    steps: int,
    final: Path | str | None,
    checkpoint: Path | str | None,
    resumed_from: int | None,
    model: Any,
) -> TrainResult:
    """A :class:`TrainResult` from the per-step rows, as both backends report it."""
    return TrainResult(
        steps=steps,
        first_loss=history[0]["loss"] if history else None,
        final_loss=history[-1]["loss"] if history else None,
        history=history,
        output_dir=str(final) if final is not None else None,
        checkpoint=str(checkpoint) if checkpoint is not None else None,
        resumed_from=resumed_from,
        model=model,
    )
