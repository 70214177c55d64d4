"""Facts about this installation for ``ennead env`` and run manifests."""

from __future__ import annotations

import os
import platform
from typing import Any

from ennead.core.runs import package_versions


def device_summary() -> str:
    try:
        import torch
    except ImportError:
        return "torch not installed (pip install 'ennead[lm]')"
    if torch.cuda.is_available():
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        return f"cuda: {', '.join(names)} (torch {torch.__version__})"
    threads = torch.get_num_threads()
    return f"cpu: {os.cpu_count()} cores, {threads} torch threads (torch {torch.__version__})"


def environment_report(prepare: bool = False) -> dict[str, Any]:
    from ennead import __version__
    from ennead.core import assets

    return {
        "ennead": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": device_summary(),
        "cache": str(assets.cache_dir()),
        "packages": package_versions(),
        "assets": assets.asset_status(prepare=prepare),
    }
