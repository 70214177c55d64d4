"""Dynamic ConPET's mixed-adapter batches: one forward whose rows use different PEFT adapters
gives the same logits as one forward per adapter (the tiny backbone, LoRA weights made to
differ between modules)."""

from __future__ import annotations

import pytest

from ennead.conpet.backbone import Backbone
from ennead.conpet.methods import DynamicConPET
from ennead.conpet.streams import build_stream


def _learner(cfg, mixed: bool) -> DynamicConPET:
    cfg = cfg.model_copy(
        update={"dynamic": cfg.dynamic.model_copy(update={"mixed_batches": mixed})}
    )
    stream = build_stream(cfg)
    bb = Backbone.build(cfg.backbone, cfg.lora, stream, seed=cfg.seed)
    bb.torch.manual_seed(7)
    learner = DynamicConPET(bb, stream, cfg, cache=None)
    with bb.torch.no_grad():  # LoRA B starts at zero: give every module its own weights
        for name, p in learner.model.named_parameters():
            if "lora_" in name:
                p.normal_(0.0, 0.3)
    return learner


def test_mixed_batch_logits_equal_per_adapter_passes(small_cfg):
    torch = pytest.importorskip("torch")
    cfg = small_cfg()
    mixed, single = _learner(cfg, True), _learner(cfg, False)
    single.load_state(mixed.state())
    stream = mixed.stream
    examples = [e for task in stream.tasks for e in task.test]
    pairs = [(k % len(stream.tasks), e) for k, e in enumerate(examples)]
    got = mixed._frozen_logits(pairs)
    want = single._frozen_logits(pairs)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
    # the modules differ, so a mix-up of adapters between rows would show
    e = examples[0]
    one, two = mixed._frozen_logits([(0, e), (1, e)])
    assert not torch.allclose(one[:1], two[:1], atol=1e-3)
    assert mixed.cost.passes == 2 and single.cost.passes == len(stream.tasks)
    # routed predictions over every seen task agree too
    t = len(stream.tasks) - 1
    assert mixed.predict(examples, t) == single.predict(examples, t)
