"""A stream and budget small enough for seconds-long harness tests."""

from __future__ import annotations

import pytest

SMALL = [
    "stream.n_tasks=3",
    "stream.labels_per_task=2",
    "stream.train_per_label=12",
    "stream.valid_per_label=2",
    "stream.test_per_label=6",
    "backbone.hidden=32",
    "backbone.pretrain_steps=20",
    "train.batch_size=8",
    "train.batches_per_task=4",
    "train.epochs=1",
    "dynamic.selector_batches=4",
]


@pytest.fixture
def small_cfg():
    from ennead.conpet.config import ConPETConfig
    from ennead.core.config import load_config

    def make(*extra: str):
        return load_config(ConPETConfig, "tiny", [*SMALL, *extra], package="ennead.conpet")

    return make
