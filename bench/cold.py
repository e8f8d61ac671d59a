"""Cold start: a fresh process's `paramspec count` of the Llama-3-8B config.json, per target,
beside the framework's own import, and the framework-free `-f formula` of Llama-3.1-405B and of
DeepSeek-V3 (target: 0.3 s).

Usage: python bench/cold.py [TARGET ...] [--runs 5]   (default: every installed target)

Each figure is the median wall time of RUNS fresh processes (interpreter start included):
`python -c "import <framework>"` and `paramspec count -f TARGET --hf-config llama-3-8b.json`.
The target: a cold count within the framework's own import time + 0.5 s.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, machine, targets  # noqa: E402

LLAMA_3_8B = {"model_type": "llama", "vocab_size": 128256, "hidden_size": 4096, "intermediate_size": 14336,
              "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
              "tie_word_embeddings": False}  # meta-llama/Meta-Llama-3-8B's config.json, the counted keys
IMPORTS = {"torch": "import torch", "keras": "import keras", "flax-linen": "import flax.linen",
           "flax-nnx": "from flax import nnx"}


def timed(argv: list[str], env: dict[str, str], runs: int) -> float:
    subprocess.run(argv, env=env, capture_output=True, cwd=ROOT)  # writes the bytecode; not timed
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
        if p.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(argv)}: exit {p.returncode}: {p.stderr.strip()[-300:]}")
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("targets", nargs="*")
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args(argv)
    from paramspec.frameworks import target

    names = args.targets or [t for t in targets() if target(t).installed()]
    cfg = Path(tempfile.mkdtemp()) / "config.json"
    cfg.write_text(json.dumps(LLAMA_3_8B))
    # bytecode is written, as an installed package has it (tox sets PYTHONDONTWRITEBYTECODE), and
    # one unmeasured run of each command first writes it: the figures are of warm-disk cold starts
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    base.update({"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"})
    print(f"machine: {machine()}; median of {args.runs} fresh processes")
    print(f"{'target':<11} {'import s':>9} {'count s':>8} {'over s':>7}")
    for name in names:
        t = target(name)
        env = {**base, **t.env}
        imp = timed([sys.executable, "-c", IMPORTS[t.framework]], env, args.runs)
        cnt = timed([sys.executable, "-m", "paramspec", "count", "-f", name, "--hf-config", str(cfg)], env, args.runs)
        print(f"{name:<11} {imp:>9.2f} {cnt:>8.2f} {cnt - imp:>7.2f}")
    for preset in ("Llama-3.1-405B", "DeepSeek-V3"):  # target: 0.3 s
        formula = timed([sys.executable, "-m", "paramspec", "count", "-f", "formula", "--spec",
                         f"{{model: llama, preset: {preset}}}"], base, args.runs)
        print(f"{'formula':<11} {'':>9} {formula:>8.2f}   ({preset}, no framework)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
