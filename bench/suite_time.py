"""Print each tox env's test time after install (the target: under 60 s per framework env).

Usage: python bench/suite_time.py [ENV ...]   (default: every env in tox.ini's env_list but report)

Each env is installed first (`tox -e ENV --notest`, not timed), then its commands run with
`--skip-pkg-install` and are timed end to end; pytest's own figure is printed beside it, one
per pytest run (the flax env runs linen, then nnx; the torch env runs the torch target, then
the tools tests).
"""
from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import configparser  # noqa: E402

from common import ROOT, machine  # noqa: E402


def tox_envs() -> list[str]:
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(ROOT / "tox.ini")
    return [e.strip() for e in cfg["tox"]["env_list"].split(",") if e.strip() != "report"]


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
        secs = " + ".join(s for _, s in m) or "?"
        summary = "; ".join(s for s, _ in m) or "?"
        print(f"{env:<10} {wall:>8.1f} {secs:>9}  {summary} (exit {p.returncode})")
        worst = max(worst, p.returncode)
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or tox_envs()))
