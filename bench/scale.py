"""Count any size without weight memory: Llama-3.1-405B and DeepSeek-V3 (671B, a mixture of
experts) in every framework, and the ratio against materializing GPT-2 normally.

Usage: python bench/scale.py [TARGET ...]   (default: every installed target)

Each measurement runs in a fresh process, so its peak RSS is its own:
- ``count``: paramspec.count() of the Llama-3.1-405B preset (405,853,388,800 parameters) and of
  the DeepSeek-V3 preset (671,026,404,352),
  after warm-up counts of a small Linear and Embedding (spec, framework, initializers loaded): wall time of the count,
  peak RSS of the whole process (framework import included), and how much the count grew it;
- ``gpt2``: the gpt2 preset counted abstractly vs built with real weights (torch on the CPU,
  Keras without StatelessScope, Flax's real init), wall time and peak RSS of each.
Targets: under 15 s and under 2 GB peak RSS per framework for each count; DeepSeek-V3 in torch
under 2 s.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import child_env, installed_targets, machine  # noqa: E402

CHILD = r"""
import json, resource, sys, time
def hwm():  # this process's peak RSS in MB (VmHWM: unlike ru_maxrss, not inherited through fork)
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024
import paramspec
from paramspec.configs import resolve_case
from paramspec.frameworks import adapter
target, config, materialize = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3] == "1"
ad = adapter(target)
for warm in ({"kind": "Linear", "in_features": 4, "out_features": 4}, {"kind": "Embedding", "num_embeddings": 4, "embedding_dim": 4}):
    paramspec.count(warm, framework=target)  # warm-up: the spec, the framework, its initializers
base = hwm()
t0 = time.perf_counter()
if materialize:  # built with real weights, then read: what a user does without paramspec
    case = resolve_case(config)
    reading = ad.read(ad.build(case.kind.name, case.values, materialize=True), native=False)
    params, agrees = reading.params, reading.params == case.expected(ad.framework).params
else:
    r = paramspec.count(config, framework=target, native=False)
    params, agrees = r.params, r.agrees
wall = time.perf_counter() - t0
peak = hwm()
print(json.dumps({"params": params, "agrees": agrees, "wall": wall, "rss_mb": peak, "grew_mb": peak - base}))
"""


def run(target: str, config: dict, materialize: bool = False) -> dict:
    p = subprocess.run([sys.executable, "-c", CHILD, target, json.dumps(config), "1" if materialize else "0"],
                       capture_output=True, text=True, env=child_env(target))
    if p.returncode != 0:
        return {"error": (p.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(p.stdout.strip().splitlines()[-1])


# the counts at scale, and each one's targets: seconds for torch, seconds for the others, peak RSS MB
BIG = [("Llama-3.1-405B", 15, 15, 2048), ("DeepSeek-V3", 2, 15, 2048)]


def main(targets: list[str]) -> int:
    print(f"machine: {machine()}")
    small = {"model": "gpt2", "preset": "gpt2"}
    bad = 0
    for preset, torch_s, other_s, rss in BIG:
        big = {"model": "llama", "preset": preset}
        print(f"\n{preset}, counted without weights (target: < {torch_s} s in torch, < {other_s} s elsewhere, "
              f"< {rss / 1024:.0f} GB peak RSS)")
        print(f"{'target':<11} {'params':>17} {'count s':>8} {'peak RSS MB':>12} {'grew MB':>8}  agrees")
        for t in targets:
            r = run(t, big)
            if "error" in r:
                print(f"{t:<11} error: {r['error']}")
                bad = 1
                continue
            ok = r["agrees"] and r["wall"] < (torch_s if t == "torch" else other_s) and r["rss_mb"] < rss
            bad |= not ok
            print(f"{t:<11} {r['params']:>17,} {r['wall']:>8.2f} {r['rss_mb']:>12.0f} {r['grew_mb']:>8.0f}  {r['agrees']}")
    print("\ngpt2 (124,439,808 parameters): abstract count vs materialized build")
    print(f"{'target':<11} {'abstract s':>10} {'grew MB':>8} {'materialized s':>15} {'grew MB':>8} {'time x':>7}")
    for t in targets:
        a, m = run(t, small), run(t, small, materialize=True)
        if "error" in a or "error" in m:
            print(f"{t:<11} error: {a.get('error') or m.get('error')}")
            bad = 1
            continue
        print(f"{t:<11} {a['wall']:>10.2f} {a['grew_mb']:>8.0f} {m['wall']:>15.2f} {m['grew_mb']:>8.0f} "
              f"{m['wall'] / a['wall']:>7.1f}")
    return bad


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or installed_targets()))
