"""sampling_backend: a trained in-memory model sampled through hf or ct2, as the config says."""

import copy

import pytest

from ennead.core.backends import load_backend
from ennead.core.backends.base import SamplingParams
from ennead.core.backends.hf import HFBackend
from ennead.core.backends.sampling import SamplerConfig, sampling_backend

pytest.importorskip("ctranslate2")
torch = pytest.importorskip("torch")

TEXTS = [
    "the capital of france is paris .",
    "the capital of italy is rome .",
    "a cat sat on the mat and a dog sat on the log .",
    "one two three four five six seven eight nine ten .",
]
PROMPTS = [
    "one two",
    "the capital of",
    "a cat sat on the",
    "the capital of italy is",
    "five six seven",
    [{"role": "user", "content": "the capital of france"}],
]
GREEDY = SamplingParams(max_new_tokens=8)
CT2 = {"name": "ct2", "options": {"intra_threads": 1}}


@pytest.fixture(autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ENNEAD_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def tiny():
    return load_backend("tiny", batch_size=4, options={"texts": TEXTS, "seed": 1})


def ids(rows):
    return [[c.token_ids for c in row] for row in rows]


def test_hf_sampler_is_the_object_itself(tiny, tmp_path):
    lm = sampling_backend(tiny.model, tiny.tokenizer, "hf", tmp_path / "work")
    assert isinstance(lm, HFBackend) and lm.model is tiny.model
    assert not (tmp_path / "work").exists()


def test_ct2_float32_greedy_equals_hf(tiny, tmp_path, cache):
    lm = sampling_backend(tiny.model, tiny.tokenizer, CT2, tmp_path / "work", batch_size=2)
    assert lm.engine == "ct2" and lm.compute_type == "float32"
    ref = HFBackend.from_model(tiny.model, tiny.tokenizer, batch_size=2)
    assert ids(lm.generate(PROMPTS, GREEDY)) == ids(ref.generate(PROMPTS, GREEDY))
    assert set(lm.prepare_seconds) == {"hash_s", "merge_s", "save_s", "convert_load_s", "reused"}


def test_lora_model_is_merged_on_a_copy(tiny, tmp_path, cache):
    from ennead.core.train.config import LoraSettings
    from ennead.core.train.lora import apply_lora, is_peft_model

    peft_model = apply_lora(copy.deepcopy(tiny.model), LoraSettings(r=4, alpha=8))
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():  # LoRA B starts at zero: make the adapters change the outputs
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    lm = sampling_backend(peft_model, tiny.tokenizer, CT2, tmp_path / "work", batch_size=2)
    ref = HFBackend.from_model(peft_model, tiny.tokenizer, batch_size=2)
    base = HFBackend.from_model(tiny.model, tiny.tokenizer, batch_size=2)
    got = ids(lm.generate(PROMPTS, GREEDY))
    assert got == ids(ref.generate(PROMPTS, GREEDY))
    assert got != ids(base.generate(PROMPTS, GREEDY))  # the adapters did change something
    assert is_peft_model(peft_model)  # the caller's model keeps its adapters
    assert not (lm.folder / "adapter_config.json").exists()
    assert lm.prepare_seconds["reused"] is False


def test_same_weights_reuse_the_saved_folder_and_conversion(tiny, tmp_path, cache):
    from ennead.core import assets

    model = copy.deepcopy(tiny.model)
    first = sampling_backend(model, tiny.tokenizer, CT2, tmp_path / "work")
    marker = (first.folder / "sampler.json").stat().st_mtime_ns
    again = sampling_backend(model, tiny.tokenizer, CT2, tmp_path / "work")
    assert again.folder == first.folder and again.prepare_seconds["reused"] is True
    assert (again.folder / "sampler.json").stat().st_mtime_ns == marker
    assert again.converted_path == first.converted_path
    with torch.no_grad():
        next(model.parameters()).add_(0.01)
    changed = sampling_backend(model, tiny.tokenizer, CT2, tmp_path / "work")
    assert changed.folder != first.folder and changed.prepare_seconds["reused"] is False
    assert len([p for p in (tmp_path / "work").iterdir() if p.is_dir()]) == 2
    assert len([p for p in assets.ct2_dir().iterdir() if p.is_dir()]) == 2


def test_exact_hf_uses_the_object_while_int8_samples(tiny, tmp_path, cache):
    spec = {"name": "ct2", "options": {"compute_type": "int8", "exact": "hf", "intra_threads": 1}}
    lm = sampling_backend(tiny.model, tiny.tokenizer, spec, tmp_path / "work", batch_size=2)
    assert lm.compute_type == "int8" and lm._exact is lm.twin and lm.twin.model is tiny.model
    ref = HFBackend.from_model(tiny.model, tiny.tokenizer, batch_size=2)
    assert ids(lm.generate(PROMPTS, GREEDY)) == ids(ref.generate(PROMPTS, GREEDY))
    sampled = lm.generate(PROMPTS[:2], SamplingParams(temperature=1.0, n=2, seed=3))
    assert all(len(row) == 2 for row in sampled)


@pytest.fixture(scope="module")
def gpt_neo(tiny):
    import transformers

    cfg = transformers.GPTNeoConfig(
        vocab_size=len(tiny.tokenizer),
        hidden_size=32,
        num_layers=2,
        num_heads=2,
        attention_types=[[["global", "local"], 1]],
        max_position_embeddings=64,
        eos_token_id=tiny.tokenizer.eos_token_id,
        pad_token_id=tiny.tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    return transformers.GPTNeoForCausalLM(cfg).eval()


def test_unconvertible_model_raises_unless_fallback_hf(tiny, gpt_neo, tmp_path, cache):
    from ennead.core.assets import CT2ConversionError

    with pytest.raises(CT2ConversionError, match=r"GPTNeoForCausalLM"):
        sampling_backend(gpt_neo, tiny.tokenizer, CT2, tmp_path / "work")
    spec = {"name": "ct2", "options": {"fallback": "hf"}}
    lm = sampling_backend(gpt_neo, tiny.tokenizer, spec, tmp_path / "work")
    assert lm.engine == "hf" and lm._hf is lm.twin and lm.twin.model is gpt_neo
    ref = HFBackend.from_model(gpt_neo, tiny.tokenizer)
    assert ids(lm.generate(PROMPTS[:2], GREEDY)) == ids(ref.generate(PROMPTS[:2], GREEDY))


def test_sampler_config_names_and_errors():
    assert SamplerConfig.model_validate("ct2").name == "ct2"
    assert SamplerConfig().name == "hf"
    with pytest.raises(ValueError, match="unknown ct2 sampler options: threads"):
        SamplerConfig.model_validate({"name": "ct2", "options": {"threads": 2}})
    with pytest.raises(ValueError, match="ct2 sampler only"):
        SamplerConfig.model_validate({"name": "hf", "options": {"compute_type": "int8"}})
    with pytest.raises(ValueError):
        SamplerConfig.model_validate("vllm")
