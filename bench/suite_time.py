"""Suite time: each tox env's test time after install (target: pytest <= 60 s per env), or the
whole `tox` from a fresh clone (target: <= 300 s wall on 2 cores).

Usage:
  python bench/suite_time.py [ENV ...]   each env (default: tox.ini's env_list but report)
  python bench/suite_time.py --whole     the README's test command on a fresh clone of HEAD

Per env: the env is installed first (`tox -e ENV --notest`, not timed), then its commands run
with `--skip-pkg-install` and are timed end to end; pytest's own figures are printed beside
it, one per pytest run (keras-flax runs keras, keras-jax, linen, then nnx; the torch env runs
the torch target and the tools tests in one run, then the tools' full run).

--whole clones HEAD into a temporary folder, runs the README's second command there (the
package registries' files are on this machine's disk, so there is no download cache to
warm), and prints tox's own summary (each env's setup and command seconds) and the wall time.

Recorded on 2 cores (AMD EPYC), 24 GiB, Python 3.11.7 (README, "Figures"):
  before (8651f75, one env per target, flax installed twice): tox 644 s; setup 246 s
  after one env per install (3487827): tox 515 s; setup 179 s
  after --jobs, one trace per linen build and integer fitting (61e46e5): tox 368-396 s
  after keras-flax (one install for Keras and Flax), no bytecode compiled at install, one
  pytest run for torch and its tools, zero-filled tools' builds (720e3b6): tox 250-277 s;
  each target's pytest run 36-48 s (README, "Figures")
"""
from __future__ import annotations

import configparser
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, machine  # noqa: E402


def tox_envs() -> list[str]:
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(ROOT / "tox.ini")
    return [e.strip() for e in cfg["tox"]["env_list"].split(",") if e.strip() != "report"]


def readme_test_command() -> str:
    """The README's second command (the first lines of the README are the two commands)."""
    text = (ROOT / "README.md").read_text()
    block = text.split("```", 2)[1]
    lines = [ln.split("#", 1)[0].strip() for ln in block.splitlines()[1:] if ln.strip()]
    return lines[1]


def whole() -> int:
    command = readme_test_command()
    with tempfile.TemporaryDirectory(prefix="paramspec-suite-") as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        print(f"machine: {machine()}")
        print(f"command: {command} (fresh clone of HEAD)")
        t0 = time.perf_counter()
        p = subprocess.run(["bash", "-c", command], cwd=clone, capture_output=True, text=True)
        wall = time.perf_counter() - t0
    for line in p.stdout.splitlines():
        if re.match(r"^  \S+: (OK|FAIL)", line) or "congratulations" in line or "evaluation failed" in line:
            print(line)
    print(f"wall: {wall:.0f} s (exit {p.returncode})")
    return p.returncode


def main(envs: list[str]) -> int:
    tox = [sys.executable, "-m", "tox"]
    print(f"machine: {machine()}")
    print(f"{'env':<10} {'wall s':>8} {'pytest s':>15}  result")
    worst = 0
    for env in envs:
        subprocess.run([*tox, "-e", env, "--notest"], cwd=ROOT, capture_output=True, check=True)
        t0 = time.perf_counter()
        p = subprocess.run([*tox, "-e", env, "--skip-pkg-install"], cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        m = re.findall(r"(\d+ (?:passed|failed).*?) in ([\d.]+)s", p.stdout)
        secs = " + ".join(s for _, s in m) or "?"
        summary = "; ".join(s for s, _ in m) or "?"
        print(f"{env:<10} {wall:>8.1f} {secs:>15}  {summary} (exit {p.returncode})")
        worst = max(worst, p.returncode)
    return worst


if __name__ == "__main__":
    if sys.argv[1:] == ["--whole"]:
        sys.exit(whole())
    sys.exit(main(sys.argv[1:] or tox_envs()))
