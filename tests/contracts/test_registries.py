"""Every registered plugin conforms: it loads lazily, says what it is, and does its job.

The registries are iterated, so an entry added later (a backend, a system's metric, a system) is
checked without editing this file -- except a new backend, which needs a recipe below saying how
to build it around the tiny model (the test fails and says so until it has one).

- lazy: listing every registry after ``import ennead`` imports no heavy library and none of the
  lazily registered modules;
- described: each entry has a one-line summary;
- behaves: a backend generates with the tiny model (or is skipped, with the reason, where its
  engine is not installed); a metric returns values in its declared range on golden inputs; an
  embedder returns unit rows of its declared width; a system's spec names an importable Typer
  app (with a ``demo`` verb) and importable demo/claims functions.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import math
import subprocess
import sys

import pytest

from ennead.core.backends import backends, load_backend
from ennead.core.errors import DataError, MissingExtraError
from ennead.core.eval.metrics import Metric, corpus_score, get_metric, metrics
from ennead.core.registry import load_target
from ennead.core.retrieval.embedders import embedders, get_embedder
from ennead.core.systems import SystemSpec, get_system, systems

REGISTRIES = {
    "backend": "ennead.core.backends:backends",
    "metric": "ennead.core.eval.metrics:metrics",
    "embedder": "ennead.core.retrieval.embedders:embedders",
    "system": "ennead.core.systems:systems",
}
HEAVY = (
    "torch",
    "transformers",
    "sentence_transformers",
    "faiss",
    "peft",
    "trl",
    "accelerate",
    "ctranslate2",
    "vllm",
    "ray",
    "matplotlib",
)


# -- lazy ---------------------------------------------------------------------------------------
def test_listing_every_registry_imports_nothing_heavy_and_no_lazy_target():
    code = f"""
import json, sys
import ennead
from ennead.core.registry import load_target
out = {{"lazy": {{}}, "names": {{}}}}
for kind, where in {REGISTRIES!r}.items():
    reg = load_target(where)
    out["names"][kind] = reg.names()
    for name in reg.names():
        target = reg._targets[name]  # the registered target, before any get()
        if isinstance(target, str):
            out["lazy"][kind + ":" + name] = target.partition(":")[0]
        reg.meta(name)
out["loaded"] = sorted(sys.modules)
print(json.dumps(out))
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    loaded = set(out["loaded"])
    assert not loaded & set(HEAVY), f"listing registries imported {sorted(loaded & set(HEAVY))}"
    eager = {entry: mod for entry, mod in out["lazy"].items() if mod in loaded}
    assert not eager, f"listing names imported these lazily registered modules: {eager}"
    for kind, names in out["names"].items():
        assert names, f"the {kind} registry is empty"


# -- described ----------------------------------------------------------------------------------
def _summary(registry, name: str) -> str:
    text = registry.meta(name).get("summary")
    if not text:  # entry-point plugins carry their summary on the object
        text = getattr(registry.get(name), "summary", "")
    return str(text or "")


@pytest.mark.parametrize(
    "registry",
    [backends, metrics, embedders, systems],
    ids=["backends", "metrics", "embedders", "systems"],
)
def test_every_entry_has_a_summary(registry):
    missing = [n for n in registry.names() if len(_summary(registry, n).strip()) < 10]
    assert not missing, f"{registry.kind}s without a one-line summary: {missing}"


# -- backends -----------------------------------------------------------------------------------
TEXTS = [
    "the capital of france is paris .",
    "one two three four five six seven eight nine ten .",
    "a cat sat on the mat and a dog sat on the log .",
]
PROMPTS = ["one two three", "the capital of france is"]


@pytest.fixture(scope="module")
def tiny():
    pytest.importorskip("torch")
    return load_backend("tiny", batch_size=2, options={"texts": TEXTS, "seed": 3})


@pytest.fixture(scope="module")
def saved(tiny, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-model")
    tiny.model.save_pretrained(folder)
    tiny.tokenizer.save_pretrained(folder)
    return folder


def _openai(tiny, saved, request):
    """The tiny model behind a minimal OpenAI-compatible server on a loopback port."""
    fastapi = pytest.importorskip("fastapi")
    from ennead.core.backends.base import SamplingParams

    app = fastapi.FastAPI()

    @app.post("/v1/completions")
    async def completions(body: dict):
        prompts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
        params = SamplingParams(max_new_tokens=body.get("max_tokens") or 16)
        rows = tiny.generate(prompts, params)
        choices = [
            {"index": i, "text": row[0].text, "finish_reason": row[0].finish_reason}
            for i, row in enumerate(rows)
        ]
        return {"choices": choices}

    url = request.getfixturevalue("serve_app")(app) + "/v1"
    return load_backend("openai", model="tiny", options={"base_url": url, "retries": 0})


def _ray(tiny, saved, request):
    request.getfixturevalue("ray_local")
    options = {"backend": "hf", "replicas": 1, "gpus_per_replica": 0}
    lm = load_backend("ray", model=str(saved), device="cpu", batch_size=2, options=options)
    request.addfinalizer(lm.release)
    return lm


def _vllm(tiny, saved, request):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("the vllm backend needs a CUDA GPU")
    return load_backend("vllm", model=str(saved), options={"gpu_memory_utilization": 0.2})


def _ct2(tiny, saved, request):
    monkeypatch = request.getfixturevalue("monkeypatch")
    monkeypatch.setenv("ENNEAD_CACHE", str(request.getfixturevalue("tmp_path") / "cache"))
    return load_backend("ct2", model=str(saved), device="cpu", options={"intra_threads": 1})


# How to build each registered backend around the tiny model; a new backend needs a line here.
RECIPES = {
    "tiny": lambda tiny, saved, request: tiny,
    "hf": lambda tiny, saved, request: load_backend("hf", model=str(saved), device="cpu"),
    "smollm2": lambda tiny, saved, request: load_backend("smollm2", model=str(saved), device="cpu"),
    "ct2": _ct2,
    "openai": _openai,
    "vllm": _vllm,
    "ray": _ray,
}
SLOW_BACKENDS = {"ray"}  # starting a local Ray cluster takes many seconds
SCORES = {"tiny", "hf", "smollm2", "ct2", "ray", "vllm"}  # the fake OpenAI server does not score


def _backend_params():
    for name in backends.names():
        marks = [pytest.mark.slow] if name in SLOW_BACKENDS else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", list(_backend_params()))
def test_every_backend_generates_with_the_tiny_model(name, tiny, saved, request):
    from ennead.core.backends.base import LM, Completion, SamplingParams

    recipe = RECIPES.get(name)
    assert recipe is not None, (
        f"backend {name!r} has no conformance recipe: add one to RECIPES in {__file__}"
    )
    try:
        lm = recipe(tiny, saved, request)
    except MissingExtraError as exc:
        pytest.skip(f"{name}: its engine is not installed here ({exc})")
    assert isinstance(lm, LM), f"{name} does not implement the LM protocol"
    params = SamplingParams(max_new_tokens=4)
    rows = lm.generate(PROMPTS, params)
    assert len(rows) == len(PROMPTS) and all(len(r) == 1 for r in rows)
    for row in rows:
        done = row[0]
        assert isinstance(done, Completion) and isinstance(done.text, str)
        assert done.finish_reason in ("stop", "length")
        assert len(done.token_ids) <= 4
    again = lm.generate(PROMPTS, params)
    assert [r[0].text for r in again] == [r[0].text for r in rows], "greedy is not repeatable"
    if name in SCORES:
        (ll,) = lm.loglikelihood([("one two", " three")])
        assert math.isfinite(ll) and ll <= 0


# -- metrics ------------------------------------------------------------------------------------
# (prediction, references, an unrelated prediction) in the formats metrics take: text, Chinese,
# labels, numbers, and JSON strings for structured items (sets, spans, rankings, tagged words,
# GEC sources). A metric may refuse a format with a DataError; it must accept at least one.
GOLDEN = [
    ("the cat sat on the mat", ["the cat sat on the mat"], "a dog ran far away"),
    ("Paris", ["paris", "Paris, France"], "Rome"),
    ("北京是中国的首都", ["北京是中国的首都"], "上海很大"),
    ("A", ["A"], "B"),
    ("42", ["42"], "7"),
    ('["d1", "d2"]', ['["d1", "d2"]'], '["d7", "d8"]'),
    ('[["北京", "LOC"]]', ['[["北京", "LOC"]]'], '[["上海", "PER"]]'),
    ("我/r 爱/v 北京/ns", ["我/r 爱/v 北京/ns"], "我爱/v 北/r 京/ns"),
    ("我爱北京", ['{"source": "我爱背景", "references": ["我爱北京"]}'], "我爱背景"),
]


@pytest.mark.parametrize("name", metrics.names())
def test_every_metric_stays_in_its_declared_range(name):
    metric = get_metric(name)
    assert isinstance(metric, Metric) and metric.name == name
    low, high = metric.range
    assert math.isfinite(low) and math.isfinite(high) and low < high, metric.range
    # reference-free metrics (distinct-n) score a copy and an unrelated text alike
    compares = getattr(metric, "needs_gold", True)

    def score(pred, refs):
        try:
            return metric(pred, refs)
        except DataError:
            return None  # not this metric's input format: a typed refusal is fine

    accepted = []
    for pred, refs, other in GOLDEN:
        same, apart = score(pred, refs), score(other, refs)
        if same is None or apart is None:
            continue
        accepted.append((pred, refs))
        for value in (same, apart):
            assert isinstance(value, float) and low - 1e-9 <= value <= high + 1e-9, (pred, value)
        if compares:  # a copy of the reference never scores worse than an unrelated answer
            better = same >= apart if metric.higher_is_better else same <= apart
            assert better, (pred, same, apart)
    assert accepted, f"{name} refused every golden input; add one in its format to GOLDEN"
    total = corpus_score([p for p, _ in accepted], [r for _, r in accepted], metric)
    assert low - 1e-9 <= total <= high + 1e-9


# -- embedders ----------------------------------------------------------------------------------
SLOW_EMBEDDERS = {"minilm"}  # loads a sentence-transformers model


def _embedder_params():
    for name in embedders.names():
        marks = [pytest.mark.slow] if name in SLOW_EMBEDDERS else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", list(_embedder_params()))
def test_every_embedder_returns_unit_rows_of_its_width(name):
    np = pytest.importorskip("numpy")
    try:
        emb = get_embedder(name)
    except MissingExtraError as exc:
        pytest.skip(f"{name}: not installed here ({exc})")
    texts = ["a cat sat on the mat", "the capital of france is paris", ""]
    x = emb.encode(texts)
    assert x.shape == (3, emb.dim) and x.dtype == np.float32
    norms = np.linalg.norm(x[:2], axis=1)
    assert np.allclose(norms, 1.0, atol=1e-4)
    assert np.allclose(emb.encode(texts[:1]), x[:1], atol=1e-5), "encoding is not repeatable"
    assert float(x[0] @ x[0]) > float(x[0] @ x[1])


# -- systems ------------------------------------------------------------------------------------
def _extras() -> set[str]:
    return set(importlib.metadata.metadata("ennead").get_all("Provides-Extra") or [])


@pytest.mark.parametrize("name", systems.names())
def test_every_system_spec_names_importable_parts(name):
    typer = pytest.importorskip("typer")
    spec = get_system(name)
    assert isinstance(spec, SystemSpec) and spec.name == name
    app = load_target(spec.cli)
    assert isinstance(app, typer.Typer), f"{spec.cli} is not a Typer app"
    verbs = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}
    assert "demo" in verbs, f"{name}'s CLI has no demo verb (has {sorted(verbs)})"
    for field in ("demo", "claims"):
        target = getattr(spec, field)
        if target is not None:
            assert callable(load_target(target)), f"{name}: {field}={target!r} is not callable"
    if spec.extra is not None:
        assert spec.extra in _extras(), f"{name}: extra {spec.extra!r} is not in pyproject"


def test_system_cli_modules_import_no_torch():
    mods = sorted({get_system(n).cli.partition(":")[0] for n in systems.names()})
    code = "import importlib, sys\n"
    code += "".join(f"importlib.import_module({m!r})\n" for m in mods)
    code += "print(' '.join(sorted(sys.modules)))"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    heavy = set(res.stdout.split()) & set(HEAVY)
    assert not heavy, f"importing the system CLIs {mods} imported {sorted(heavy)}"


def test_importable_registry_modules():
    for where in REGISTRIES.values():
        module = importlib.import_module(where.partition(":")[0])
        assert hasattr(module, where.partition(":")[2])
