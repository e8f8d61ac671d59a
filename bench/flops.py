"""Measure the forward-pass compute of Llama-3.1-405B (batch 1, 2048 tokens) without weights or
activations, each target under its own counter, through the one path (``paramspec.run.count``).

Usage: python bench/flops.py [TARGET ...] [--all] [--native]
    (default: torch and flax-nnx; --all: torch, flax-nnx, flax-linen and keras-jax)

- ``torch``: the model built on the meta device, one forward pass under
  ``torch.utils.flop_counter.FlopCounterMode`` on a meta input;
- ``flax-nnx``, ``flax-linen``, ``keras-jax``: built abstractly (``nnx.eval_shape``,
  ``jax.eval_shape`` of ``init``, Keras's ``StatelessScope``) and the forward pass lowered over
  ``jax.ShapeDtypeStruct`` arguments, never compiled: XLA's cost analysis of it
  (``adapters/jax_cost.py``). flax-nnx is the default JAX target: of the three it is the
  fastest and the smallest, and all three read the same figures.
  Any other target of spec/frameworks.yaml can be named (``keras``: TensorFlow's profiler).

XLA's figure beyond the matmul part is approximate at this size: HloCostAnalysis sums in
float32 (a total near 1.7e15 is a multiple of 2**27), and it costs the whole program after
operands that are constants are folded, where the per-op breakdown costs each equation alone,
so that breakdown's ``(unattributed)`` comes out negative. The matmul part is exact.

Each measurement runs in a fresh process, so its wall time and peak RSS are its own: the
process's whole wall time (interpreter start and framework import included), the seconds
``count()`` spent building, reading and measuring (timed around the adapter's own methods),
and its peak RSS (the larger of the child's VmHWM and ``os.wait4``'s ``ru_maxrss`` for it).
Printed per target: the counter, the measured total flops, its matmul part, the spec's
expected figure for that counter's matmul part (``2 * macs`` unless the kind records another),
whether they agree, the canonical MACs, the times and the peak RSS. The weights alone would take 1.6 TB at fp32, so a
peak RSS in the hundreds of MB shows that nothing was materialized.

``--native`` also reads each framework's own parameter totals (``parameters()``,
``count_params()``, linen's ``nn.tabulate``...), which this benchmark has no use for: off by
default (linen's tabulate traces the model again, about 3.5 s here).
Targets: at most 30 s wall and 2 GB peak RSS per measurement, and the matmul part equal to
the spec's figure; exit status 1 if any target misses.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import child_env, machine, run_child, targets

CONFIG = {"model": "llama", "preset": "Llama-3.1-405B", "batch": 1, "seq_len": 2048}
DEFAULT = ["torch", "flax-nnx"]
ALL = ["torch", "flax-nnx", "flax-linen", "keras-jax"]
WALL_S, RSS_MB = 30.0, 2048.0

CHILD = r"""
import json, sys, time
t_start = time.perf_counter()
def hwm():  # this process's peak RSS in MB so far (VmHWM)
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024
from paramspec.frameworks import adapter
from paramspec.run import count
target, config, native = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3] == "1"
ad = adapter(target)  # imports the framework
t_import, rss_import = time.perf_counter() - t_start, hwm()
seconds, rss = {}, {}
def timed(name, method):  # count() calls the adapter's own build, read and measure: time each
    def call(*args, **kwargs):
        t = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - t
            rss[name] = hwm()
    return call
for name in ("build", "read", "measure"):
    setattr(ad, name, timed(name, getattr(ad, name)))
t0 = time.perf_counter()
r = count(config, framework=target, native=native, measure=True)
t_count = time.perf_counter() - t0
f = r.compute
mm = f.quantities.get("matmul")
print(json.dumps({
    "counter": f.counter, "counter_name": f.counter_name, "version": r.framework_version,
    "measured": f.measured, "matmul": f.matmul, "rest": f.remainder, "compares": f.compares,
    "expected": f.expected, "expected_matmul": mm.expected if mm else None,
    "expected_formula": mm.formula if mm else None, "macs": f.macs, "agrees": f.agrees,
    "verdict": r.verdict, "problems": r.all_problems, "params": r.params,
    "import_s": t_import, "count_s": t_count, "seconds": seconds, "rss_mb": rss, "import_rss_mb": rss_import,
    "hwm_mb": hwm()}))
"""


def run(target: str, native: bool, timeout: float = 600) -> dict:
    """One measurement in a fresh process: its JSON line, plus its wall time and peak RSS."""
    return run_child(CHILD, [target, json.dumps(CONFIG), "1" if native else "0"], child_env(target), timeout)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("targets", nargs="*", metavar="TARGET", help=f"targets to measure (default: {' '.join(DEFAULT)}; "
                    f"known: {', '.join(targets())})")
    ap.add_argument("--all", action="store_true", help=f"measure {', '.join(ALL)}")
    ap.add_argument("--native", action="store_true", help="also read each framework's own parameter totals")
    args = ap.parse_args(argv)
    chosen = ALL if args.all else (args.targets or DEFAULT)
    unknown = [t for t in chosen if t not in targets()]
    if unknown:
        ap.error(f"unknown target {unknown[0]!r} (known: {', '.join(targets())})")

    print(f"machine: {machine()}")
    print(f"config: {json.dumps(CONFIG)}   (targets: <= {WALL_S:.0f} s wall, <= {RSS_MB:.0f} MB peak RSS, "
          f"matmul part = the spec's figure)")
    rows, bad = [], 0
    for t in chosen:
        r = run(t, args.native)
        rows.append((t, r))
        if "error" in r:
            print(f"\n{t}: error: {r['error']}")
            bad = 1
            continue
        s, rss = r["seconds"], r["rss_mb"]
        within = r["wall"] <= WALL_S and r["peak_mb"] <= RSS_MB
        ok = within and bool(r["agrees"]) and r["verdict"] == "pass"
        bad |= not ok
        print(f"\n{t}: {r['counter_name']} ({r['version']})")
        print(f"  measured  {r['measured']:>25,} flops  (matmul part {r['matmul']:,}; rest {r['rest']:,})")
        verdict = "agrees" if r["agrees"] else "DISAGREES"
        if r["verdict"] != "pass":
            verdict += f"; record {r['verdict']}: {'; '.join(r['problems'])}"
        print(f"  expected  {r['expected_matmul']:>25,} flops  "
              f"(the spec's figure for the matmul part, `{r['expected_formula']}`): {verdict}")
        print(f"  MACs      {r['macs']:>25,}        (canonical)")
        print(f"  seconds   build {s.get('build', 0):.2f}, read {s.get('read', 0):.2f}, "
              f"measure {s.get('measure', 0):.2f}; count() {r['count_s']:.2f}, "
              f"framework import {r['import_s']:.2f}, process wall {r['wall']:.2f}")
        print(f"  peak RSS  {r['peak_mb']:.0f} MB (VmHWM {r['hwm_mb']:.0f}, ru_maxrss {r['maxrss_mb']:.0f}; "
              f"after import {r['import_rss_mb']:.0f}, build {rss.get('build', 0):.0f}, "
              f"read {rss.get('read', 0):.0f}, measure {rss.get('measure', 0):.0f})  "
              f"-> {'within budget' if within else 'OVER BUDGET'}")

    print(f"\n{'target':<11} {'counter':<13} {'measured flops':>25} {'expected (matmul)':>25} {'agrees':>6} "
          f"{'MACs':>23} {'build s':>7} {'meas s':>7} {'wall s':>7} {'peak MB':>8}  budget")
    for t, r in rows:
        if "error" in r:
            print(f"{t:<11} error")
            continue
        within = r["wall"] <= WALL_S and r["peak_mb"] <= RSS_MB
        print(f"{t:<11} {r['counter']:<13} {r['measured']:>25,} {r['expected_matmul']:>25,} {bool(r['agrees'])!s:>6} "
              f"{r['macs']:>23,} {r['seconds'].get('build', 0):>7.2f} {r['seconds'].get('measure', 0):>7.2f} "
              f"{r['wall']:>7.2f} {r['peak_mb']:>8.0f}  {'met' if within else 'MISSED'}")
    return bad


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
