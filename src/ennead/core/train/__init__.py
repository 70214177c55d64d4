"""DPO and SFT (our loss by default, TRL optional), LoRA via PEFT, checkpoints, accelerate launch."""
