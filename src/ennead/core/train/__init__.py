"""DPO and SFT (own loss by default, TRL optional), LoRA via PEFT, checkpoints, accelerate."""
