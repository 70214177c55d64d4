import json

import pytest

from ennead.core.retrieval.embedders import get_embedder
from ennead.persllm import build as B
from ennead.persllm import language as L
from ennead.persllm.config import BuildSettings
from ennead.persllm.materials import load_personas, shipped_personas_dir
from ennead.persllm.teacher import Question, TemplateTeacher, parse_response

EMB = get_embedder("hashing", dim=256)


def settings(**kw):
    return BuildSettings(embedder="hashing", **kw)


def test_template_build_writes_three_kinds_with_stage_negatives_and_splits(
    world_personas, tmp_path
):
    ps = load_personas(world_personas)
    counts = B.build(ps, settings(), TemplateTeacher(), tmp_path / "data", EMB)
    assert counts["written"] > 0 and counts["skipped"] == 0
    stats = B.finish(tmp_path / "data", settings(), EMB, seed=0)
    assert set(stats["by_kind"]) == {"ordinary", "thought", "error"}
    assert stats["duplicates"] > 0  # the template teacher repeats forms; dedup drops them
    assert 0.15 < stats["test"] / (stats["train"] + stats["test"]) < 0.25
    train = B.load_split(tmp_path / "data", "train")
    p = ps[0]
    for it in train:
        if it["kind"] == "error":
            assert it["answer"].startswith(f"{p.marker} {L.CORRECTION}") or it["persona"] != p.key
        if it["subject"] and it["subject"][0] == "topic":
            topic = it["subject"][1]
            persona = next(x for x in ps if x.key == it["persona"])
            assert L.read_stance(it["answer"], topic) == persona.stances[it["stage"]][topic]
            if topic in persona.flipped():
                other = next(s for s in persona.stages if s != it["stage"])
                assert (
                    L.read_stance(it["negatives"][other], topic)
                    != persona.stances[it["stage"]][topic]
                )
        assert it["knowledge"] and it["style"]  # retrieved context went into the prompt


class FlakyTeacher(TemplateTeacher):
    """Malformed replies for some items, and a crash after ``crash_after`` answer batches."""

    def __init__(self, crash_after=None):
        self.calls = 0
        self.crash_after = crash_after

    def answers(self, requests, questions):
        self.calls += 1
        if self.crash_after is not None and self.calls > self.crash_after:
            raise KeyboardInterrupt("killed")
        out = super().answers(requests, questions)
        return [None if i % 5 == 0 else a for i, a in enumerate(out)]


def test_a_killed_build_resumes_without_losing_or_repeating_items(world_personas, tmp_path):
    ps = load_personas(world_personas)
    cfg = settings(stage_negatives=False)
    with pytest.raises(KeyboardInterrupt):
        B.build(ps, cfg, FlakyTeacher(crash_after=2), tmp_path / "d", EMB, batch_size=8)
    first = (tmp_path / "d" / "raw.jsonl").read_text().splitlines()
    assert first  # the finished batches were kept
    B.build(ps, cfg, FlakyTeacher(), tmp_path / "d", EMB, batch_size=8)
    raw = [json.loads(x) for x in (tmp_path / "d" / "raw.jsonl").read_text().splitlines()]
    skipped = [json.loads(x) for x in (tmp_path / "d" / "skipped.jsonl").read_text().splitlines()]
    keys = [r["key"] for r in raw] + [r["key"] for r in skipped]
    todo, _ = B.plan(ps, cfg)
    assert len(keys) == len(set(keys)) == len(todo)
    stats = B.finish(tmp_path / "d", cfg, EMB, 0)
    assert stats["skipped"] == len(skipped) > 0
    assert stats["skipped_by_reason"] == {"teacher reply empty or malformed": len(skipped)}


def test_a_persona_with_fewer_paragraphs_than_asked_is_counted(world_personas, tmp_path):
    ps = load_personas(world_personas)
    cfg = settings(seeds_per_stage=50, kinds=["ordinary"], variants=1)
    counts = B.build(ps, cfg, TemplateTeacher(), tmp_path / "d", EMB)
    assert set(counts["short_personas"]) == {f"{p.key}/{s}" for p in ps for s in p.stages}


def test_cot_replies_keep_only_the_response():
    assert parse_response("[Analysis] checks . [Response] no , that is wrong .", True) == (
        "no , that is wrong ."
    )
    assert parse_response("no analysis here", True) is None
    assert parse_response("   ", False) is None
    assert parse_response(None, False) is None


class EchoLM:
    """A backend stand-in: replies are set per call; empty text is a malformed reply."""

    def __init__(self, replies):
        self.replies = list(replies)

    def generate(self, prompts, params):
        from ennead.core.backends.base import Completion

        return [
            [Completion(text=self.replies.pop(0) if self.replies else "", token_ids=[])]
            for _ in prompts
        ]


def test_backend_teacher_prompts_and_malformed_replies(tmp_path):
    from ennead.persllm.teacher import BackendTeacher, Request

    p = load_personas(shipped_personas_dir())[0]
    reqs = [
        Request(p, "II", p.knowledge["II"][0], "error", cot=True),
        Request(p, "I", p.style["I"][0], "thought"),
    ]
    assert "obvious factual error" in reqs[0].question_prompt()
    sys_prompt = reqs[0].system_prompt()
    assert (
        "Now it's stage II" in sys_prompt
        and "misleading" in sys_prompt
        and "[Response]" in sys_prompt
    )
    t = BackendTeacher(EchoLM(["Is it true you hate the sea?\nextra", ""]))
    qs = t.questions(reqs)
    assert qs[0].text == "Is it true you hate the sea?" and qs[1] is None
    t.lm = EchoLM(["[Analysis] false . [Response] Well, now, no.", "no response tag"])
    assert t.answers(reqs, [Question("q1"), Question("q2")]) == [
        "Well, now, no.",
        "no response tag",
    ]


def test_shipped_personas_build_with_the_template_teacher(tmp_path):
    ps = load_personas(shipped_personas_dir())
    cfg = settings(variants=1)
    B.build(ps, cfg, TemplateTeacher(), tmp_path / "d", EMB)
    stats = B.finish(tmp_path / "d", cfg, EMB, 0)
    assert stats["train"] > 150 and stats["skipped"] == 0
