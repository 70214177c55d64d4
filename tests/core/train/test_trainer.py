"""The one trainer: a plugged-in loss, callbacks on every step and epoch, TRL through one API."""

import math

import pytest
import torch

from ennead.core.errors import ConfigError
from ennead.core.train import (
    Callback,
    DPOConfig,
    LambdaCallback,
    SFTConfig,
    SFTLoss,
    Trainer,
    TrainLoss,
    train_dpo,
    train_sft,
)
from ennead.core.train.data import collate, encode
from ennead.core.train.dpo import sequence_logps

EXAMPLES = [
    {"prompt": "question : is the sky blue ? answer :", "completion": " yes"},
    {"prompt": "question : is fire cold ? answer :", "completion": " no"},
    {"prompt": "question : is ice cold ? answer :", "completion": " yes"},
]


class Recorder(Callback):
    def __init__(self):
        self.events = []
        self.losses = []
        self.training_flags = []
        self.model = None

    def on_train_begin(self, state):
        self.events.append(("begin", state.step))

    def on_step_end(self, state):
        self.events.append(("step", state.step))
        self.losses.append(state.loss)
        self.training_flags.append(state.model.training)
        self.model = state.model
        state.model.eval()  # as an evaluating callback would; the loop must switch back

    def on_epoch_end(self, state):
        self.events.append(("epoch", state.epoch))

    def on_train_end(self, state):
        self.events.append(("end", state.step))


def test_callbacks_see_every_step_and_epoch_of_dpo(tiny_lm, pairs):
    model, tok = tiny_lm
    rec = Recorder()
    cfg = DPOConfig(max_steps=5, batch_size=2, lr=1e-2)  # 4 pairs: 2 steps per epoch
    res = train_dpo(model, tok, pairs, cfg, callbacks=[rec])
    steps = [("step", i) for i in range(1, 6)]
    expected = [("begin", 0), *steps[:2], ("epoch", 1), *steps[2:4], ("epoch", 2), steps[4]]
    assert rec.events == [*expected, ("end", 5)]
    assert rec.losses == [h["loss"] for h in res.history]
    assert math.isclose(rec.losses[0], math.log(2), abs_tol=1e-5)  # policy == reference
    assert all(rec.training_flags), "the loop did not switch the model back to train()"
    assert rec.model is res.model


def test_a_callback_can_stop_training(tiny_lm, tmp_path):
    model, tok = tiny_lm

    class StopAt2(Callback):
        def on_step_end(self, state):
            state.should_stop = state.step == 2

    cfg = SFTConfig(max_steps=10, batch_size=1, lr=1e-3, output_dir=str(tmp_path / "out"))
    res = train_sft(model, tok, EXAMPLES, cfg, callbacks=[StopAt2()])
    assert res.steps == 2 and len(res.history) == 2
    assert res.checkpoint.endswith("checkpoint-2") and (tmp_path / "out" / "final").is_dir()


def test_sft_epochs_fire_epoch_end(tiny_lm):
    model, tok = tiny_lm
    rec = Recorder()
    ends = []
    per_epoch = LambdaCallback(on_epoch_end=lambda s: ends.append((s.epoch, s.step, s.loss)))
    cfg = SFTConfig(epochs=3, batch_size=2, lr=1e-3)  # 3 examples: 2 steps per epoch
    res = train_sft(model, tok, EXAMPLES, cfg, callbacks=[rec, per_epoch])
    assert res.steps == 6
    assert [e for e in rec.events if e[0] == "epoch"] == [("epoch", 1), ("epoch", 2), ("epoch", 3)]
    assert [(e, s) for e, s, _ in ends] == [(1, 2), (2, 4), (3, 6)]
    assert ends[-1][2] == res.final_loss
    with pytest.raises(TypeError, match="on_epoch_ends"):
        LambdaCallback(on_epoch_ends=print)


class MeanTokenNLL(SFTLoss):
    """Mean per-token NLL of each row, then the mean over rows (SFT averages over all tokens)."""

    name = "mean-token-nll"
    trl_kind = None

    def __init__(self):
        self.calls = 0

    def compute(self, model, batch):
        self.calls += 1
        loss = -sequence_logps(model, batch, average=True).mean()
        return loss, {"tokens": batch["attention_mask"].sum().float()}


def test_a_custom_loss_is_used(tiny_lm):
    model, tok = tiny_lm
    cfg = SFTConfig(max_steps=4, batch_size=3, lr=1e-2, lora={"enabled": False})
    rows = [encode(tok, e["prompt"], e["completion"], cfg.max_length, 384) for e in EXAMPLES]
    batch = collate(rows, tok.pad_token_id)
    with torch.no_grad():
        expected = float(-sequence_logps(model, batch, average=True).mean())
    loss = MeanTokenNLL()
    res = Trainer(loss, cfg).train(model, tok, EXAMPLES)
    assert loss.calls == 4 and res.steps == 4
    assert res.first_loss == pytest.approx(expected, rel=1e-4)
    assert "tokens" in res.history[0] and res.history[0]["tokens"] > 0
    assert res.final_loss < res.first_loss


def test_a_loss_from_scratch_and_bad_plugins(tiny_lm):
    model, tok = tiny_lm

    class L2ToZero(TrainLoss):
        """Pulls every trainable weight to 0; needs no text at all."""

        def prepare(self, tokenizer, rows, cfg, acc):
            return len(rows)

        def collate(self, idx):
            return {"idx": torch.tensor(idx)}

        def compute(self, model, batch):
            params = [p for p in model.parameters() if p.requires_grad]
            return sum((p**2).sum() for p in params), {}

    cfg = SFTConfig(max_steps=3, batch_size=2, lr=1e-2, lora={"enabled": False}, max_grad_norm=None)
    res = Trainer(L2ToZero(), cfg).train(model, tok, [{"x": 1}, {"x": 2}])
    assert res.history[-1]["loss"] < res.history[0]["loss"]

    with pytest.raises(TypeError, match="TrainLoss"):
        Trainer(object(), cfg)
    with pytest.raises(TypeError, match=r"callbacks\[0\]"):
        Trainer(SFTLoss(), cfg, callbacks=[object()])
    with pytest.raises(ConfigError, match="backend 'ennead'"):
        Trainer(MeanTokenNLL(), SFTConfig(backend="trl")).train(model, tok, EXAMPLES)


def test_trl_backend_calls_the_same_callbacks(tiny_lm, pairs, tmp_path):
    pytest.importorskip("trl")
    model, tok = tiny_lm
    rec = Recorder()
    cfg = DPOConfig(backend="trl", max_steps=2, batch_size=2, output_dir=str(tmp_path / "trl"))
    res = train_dpo(model, tok, pairs, cfg, callbacks=[rec])
    assert [e for e in rec.events if e[0] == "step"] == [("step", 1), ("step", 2)]
    assert rec.events[0] == ("begin", 0) and rec.events[-1] == ("end", 2)
    assert rec.losses == [h["loss"] for h in res.history]
    assert math.isclose(rec.losses[0], math.log(2), abs_tol=1e-4)
