"""LoRA helpers: adapters save small, load back and merge into the same function."""

import pytest
import torch

from ennead.core.errors import BackendError
from ennead.core.train import LoraSettings, apply_lora, load_adapter, merge_lora, save_adapter
from ennead.core.train.lora import lora_parameters

from .conftest import make_tiny


def test_save_load_merge_keep_the_outputs(tmp_path):
    model, tok = make_tiny()
    peft_model = apply_lora(model, LoraSettings(r=4, alpha=8))
    torch.manual_seed(0)
    for name, p in lora_parameters(peft_model).items():
        if "lora_B" in name:
            p.data.normal_(0, 0.5)  # as if trained
    ids = tok(["question : is ice cold ? answer :"], return_tensors="pt")["input_ids"]
    with torch.no_grad():
        want = peft_model(input_ids=ids).logits
    folder = save_adapter(peft_model, tmp_path / "adapter")
    assert (folder / "adapter_config.json").is_file()
    assert not (folder / "model.safetensors").exists()

    fresh, _ = make_tiny()
    loaded = load_adapter(fresh, folder)
    with torch.no_grad():
        assert torch.allclose(loaded(input_ids=ids).logits, want, atol=1e-5)
        merged = merge_lora(loaded)
        assert not lora_parameters(merged)
        assert torch.allclose(merged(input_ids=ids).logits, want, atol=1e-4)


def test_lora_errors_are_typed(tmp_path):
    model, _ = make_tiny()
    with pytest.raises(BackendError, match="no LoRA adapter"):
        load_adapter(model, tmp_path)
    with pytest.raises(BackendError, match="needs a PEFT model"):
        merge_lora(model)
    with pytest.raises(BackendError, match="cannot add LoRA adapters"):
        apply_lora(model, LoraSettings(target_modules=["no_such_module"]))
