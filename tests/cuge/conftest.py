"""Shared fixtures: the tiny stand-in suite is built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from ennead.cuge import CUGE, CUGEConfig


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cuge-data")
    CUGE(CUGEConfig(data_dir=str(path), max_items=40, max_train=20)).prepare()
    return path


@pytest.fixture()
def cuge(tiny_dir: Path, tmp_path: Path) -> CUGE:
    cfg = CUGEConfig(data_dir=str(tiny_dir), out=str(tmp_path))
    cfg.service.db = str(tmp_path / "board.sqlite")
    return CUGE(cfg)


class FakeLM:
    """Implements the core LM protocol's ``generate``: canned answers by prompt keyword."""

    name = "fake"

    def __init__(self) -> None:
        self.prompts: list[object] = []

    def generate(self, prompts, params=None):  # type: ignore[no-untyped-def]
        from ennead.core.backends.base import Completion

        out = []
        for p in prompts:
            text = p[-1]["content"] if isinstance(p, list) else p
            self.prompts.append(text)
            if "成语" in text:
                answer = "B"
            elif "评论" in text:
                answer = "正面"
            elif "关键词：" in text:
                answer = "A"
            elif "数学" in text:
                answer = "答案是 42"
            elif "改正" in text:
                answer = text.split("句子：")[1].split("\n")[0]
            elif "关键词按顺序" in text:
                answer = "这是一个句子。\n多余的第二行"
            else:
                answer = "我 爱 北京"
            out.append([Completion(text=answer, token_ids=[])])
        return out


@pytest.fixture()
def fake_lm() -> FakeLM:
    return FakeLM()
