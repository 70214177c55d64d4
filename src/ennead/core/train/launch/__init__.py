"""accelerate configs shipped as package data: cpu_multi, single_gpu, multi_gpu_zero2."""
