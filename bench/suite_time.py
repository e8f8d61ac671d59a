"""Print each tox env's test time after install (the target: under 60 s per framework env).

Usage: python bench/suite_time.py [ENV ...]   (default: spec torch keras keras-jax flax)

Each env is installed first (`tox -e ENV --notest`, not timed), then its commands run with
`--skip-pkg-install` and are timed end to end; pytest's own figure is printed beside it.
"""
from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENVS = ["spec", "torch", "keras", "keras-jax", "flax"]


def machine() -> str:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu or platform.machine()}), {mem:.0f} GiB RAM, Python {platform.python_version()}"


def main(envs: list[str]) -> int:
    tox = [sys.executable, "-m", "tox"]
    print(f"machine: {machine()}")
    print(f"{'env':<10} {'wall s':>8} {'pytest s':>9}  result")
    worst = 0
    for env in envs:
        subprocess.run([*tox, "-e", env, "--notest"], cwd=ROOT, capture_output=True, check=True)
        t0 = time.perf_counter()
        p = subprocess.run([*tox, "-e", env, "--skip-pkg-install"], cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        m = re.findall(r"(\d+ (?:passed|failed).*?) in ([\d.]+)s", p.stdout)
        summary, secs = (m[-1] if m else ("?", "?"))
        print(f"{env:<10} {wall:>8.1f} {secs:>9}  {summary} (exit {p.returncode})")
        worst = max(worst, p.returncode)
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ENVS))
