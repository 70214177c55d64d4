import json
from pathlib import Path

import pytest

from ennead.core.errors import UnknownNameError
from ennead.core.runs import RunDir
from ennead.core.systems import SystemSpec, systems
from ennead.core.tour import run_tour
from ennead.core.tour_report import normalised_tree, parse_markdown_table

CALLS: list[str] = []


def good_demo(run: RunDir) -> dict:
    CALLS.append("good")
    img = run.artifact("curve.png")
    # a 1x1 PNG, so the report embeds a real image
    img.write_bytes(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
        )
    )
    return {
        "title": "Good <system>",
        "summary": "It works.",
        "tasks": {"qa": {"acc": 0.6, "latency": 2.0}},
        "baselines": {"qa": {"acc": 0.4, "latency": 4.0}},
        "higher_is_better": {"acc": True, "latency": False},
        "images": ["artifacts/curve.png"],
        "tables": ["| a | b |\n|---|---|\n| 1 | 2 |\n"],
    }


def bad_demo(run: RunDir) -> dict:
    raise RuntimeError("demo exploded")


@pytest.fixture
def fake_systems(monkeypatch):
    monkeypatch.setattr(systems, "_targets", dict(systems._targets))
    monkeypatch.setattr(systems, "_meta", dict(systems._meta))
    systems.names()  # load real plugins first so ours are added on top
    systems.register("zgood", SystemSpec("zgood", "good", cli="x:y", demo=f"{__name__}:good_demo"))
    systems.register("zbad", SystemSpec("zbad", "bad", cli="x:y", demo=f"{__name__}:bad_demo"))
    CALLS.clear()


def test_tour_writes_report_and_survives_a_failing_demo(tmp_path: Path, fake_systems):
    res = run_tour(tmp_path / "tour", only=["zgood", "zbad"])
    assert res["failed"] == ["zbad"]
    md = Path(res["markdown"]).read_text()
    html = Path(res["html"]).read_text()
    assert "demo exploded" in md
    # acc 0.6 over baseline 0.4 -> 150; latency 2 vs 4 lower-is-better -> 200; mean 175
    assert "175.00" in md
    assert "&lt;system&gt;" in html and "<system>" not in html
    assert "data:image/png;base64," in html
    assert "| 1 | 2 |" in md
    manifest = json.loads((tmp_path / "tour" / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["failed"] == ["zbad"]

    # a rerun in the same folder does not redo the finished demo
    run_tour(tmp_path / "tour", only=["zgood", "zbad"])
    assert CALLS == ["good"]


def test_unknown_system_suggests(fake_systems):
    with pytest.raises(UnknownNameError, match="did you mean 'zgood'"):
        run_tour(None, only=["zgoood"])


def test_normalised_tree_skips_leaves_without_baseline():
    tree = normalised_tree(
        [
            {"name": "a", "tasks": {"t": {"m": 1.0, "n": 2.0}}, "baselines": {"t": {"m": 0.5}}},
            {"name": "b", "tasks": {"t": {"m": 1.0}}},
            {"name": "c", "error": "boom"},
        ]
    )
    assert tree == {"a": {"t": {"m": {"score": 1.0, "baseline": 0.5, "higher_is_better": True}}}}


def test_parse_markdown_table():
    assert parse_markdown_table("| x | y |\n|:-|-:|\n| 1 | 2 |") == [{"x": "1", "y": "2"}]
    assert parse_markdown_table("not a table") is None


def test_foundation_demo_on_embedded_defaults(tmp_path: Path):
    from ennead.core.tour import foundation_demo

    section = foundation_demo(RunDir.create(tmp_path / "f"))
    assert section["tasks"]["assets"]["prepared"] == 1.0
    assert section["tasks"]["retrieval"]["hit@1"] >= 0.75
    assert section["tasks"]["qa"]["substring_accuracy"] >= 1 / 3  # Paris at least
    assert "Paris" in section["tables"][0]
