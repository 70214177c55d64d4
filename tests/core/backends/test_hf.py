"""The ``hf`` backend on real folders: a saved tiny model, a LoRA adapter, broken folders."""

import pytest
import torch

from ennead.core.backends import load_backend
from ennead.core.backends.base import SamplingParams
from ennead.core.backends.hf import HFBackend, ModelLoadError
from ennead.core.errors import BackendError


def test_folder_roundtrip_matches_in_memory(tiny, saved):
    lm = load_backend("hf", model=str(saved), device="cpu", dtype="float32")
    assert lm.device == "cpu" and lm.model_path == str(saved)
    p = SamplingParams(max_new_tokens=5)
    prompts = ["one two", "the capital of"]
    assert [r[0].token_ids for r in lm.generate(prompts, p)] == [
        r[0].token_ids for r in tiny.generate(prompts, p)
    ]
    assert lm.format_prompt([{"role": "user", "content": "hi"}]) == tiny.format_prompt(
        [{"role": "user", "content": "hi"}]
    )  # the chat template survives saving


def test_lora_adapter_is_applied(tiny, saved, tmp_path):
    peft = pytest.importorskip("peft")
    torch.manual_seed(0)
    base = load_backend("hf", model=str(saved), device="cpu").model
    # init_lora_weights=False: random B, so the adapter really changes the outputs
    cfg = peft.LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    tuned = peft.get_peft_model(base, cfg)
    tuned.save_pretrained(tmp_path / "adapter")
    expected = HFBackend.from_model(tuned, tiny.tokenizer).loglikelihood([("one two", " three")])

    lm = load_backend("hf", model=str(saved), adapter=str(tmp_path / "adapter"), device="cpu")
    got = lm.loglikelihood([("one two", " three")])
    plain = load_backend("hf", model=str(saved), device="cpu").loglikelihood(
        [("one two", " three")]
    )
    assert got == pytest.approx(expected, abs=1e-5)
    assert abs(got[0] - plain[0]) > 1e-3


def test_clear_errors_for_bad_folders(saved, tmp_path):
    with pytest.raises(BackendError, match="not found"):
        load_backend("hf", model=str(tmp_path / "nope"))
    with pytest.raises(BackendError, match=r"no config\.json"):
        load_backend("hf", model=str(tmp_path))
    with pytest.raises(BackendError, match="needs model="):
        load_backend("hf")
    with pytest.raises(BackendError, match="not a LoRA adapter"):
        load_backend("hf", model=str(saved), adapter=str(tmp_path))
    with pytest.raises(BackendError, match="dtype 'float8' unknown"):
        load_backend("hf", model=str(saved), dtype="float8")
    with pytest.raises(BackendError, match="device 'tpu' unknown"):
        load_backend("hf", model=str(saved), device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(BackendError, match="CUDA is not available"):
            load_backend("hf", model=str(saved), device="cuda")


def test_corrupt_weights_raise_model_load_error(saved, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in saved.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(ModelLoadError, match="cannot load a causal LM"):
        load_backend("hf", model=str(broken), device="cpu")
