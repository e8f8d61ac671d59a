"""What the benchmark scripts share: the machine line, and the targets (from spec/frameworks.yaml)."""
from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from paramspec.frameworks import installed_targets, target, targets  # noqa: E402

__all__ = ["ROOT", "child_env", "installed_targets", "machine", "targets"]


def machine() -> str:
    """``2 cores (Intel Xeon ...), 24 GiB RAM, Python 3.11.7``."""
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu or platform.machine()}), {mem:.0f} GiB RAM, Python {platform.python_version()}"


def child_env(target_name: str | None = None) -> dict[str, str]:
    """The environment for a fresh process of one target: its own variables, the checkout on the path."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    if target_name:
        env.update(target(target_name).env)
    return env
