"""A training step of Llama-3.1-405B (batch 1, 2048 tokens) in every target, without weights or
activations: its FLOPs (forward and backward, under each target's own counter) and the bytes of
activations it keeps, through the one path (``paramspec.count(..., train=True)``).

Usage: python bench/train.py [TARGET ...] [--anchor]
    (default: every installed target; --anchor: only the speed anchor below)

Each measurement runs in a fresh process, so its wall time and peak RSS are its own (interpreter
start and framework import included). Printed per target: the counter, the step's FLOPs (the
counter's whole reading), the backward's matmul-like part against the spec's figure, the bytes
of activations the framework keeps (torch: the storages autograd saves; JAX: the residuals
``jax.vjp`` keeps; Keras on TensorFlow: the forward tensors the gradient tape's ops read), the
seconds and the peak RSS. Targets: at most 60 s wall and 2 GB peak RSS per target.

The anchor (``--anchor``, and after the targets): transformers' own ``LlamaForCausalLM``, for a
Llama-3-8B config.json, built on the meta device and run forward and backward under
FlopCounterMode at 2048 tokens, beside paramspec's torch count of a training step of the same
config.json: paramspec must not be slower. Timed two ways, each ``--runs`` times (default 5),
the two sides interleaved:
- the whole command, as a user runs it: ``python anchor.py config.json`` (transformers' import,
  the build and the step) against ``paramspec count -f torch --train --hf-config config.json
  --input seq_len=2048`` (paramspec's import, the build, the reading, the step, AdamW's state,
  the activations, the estimates and the printed report), each process's wall time;
- the step alone: each side in a fresh process, warmed first by the same one-layer Llama config
  (hidden size 8, 4 tokens: what a first step imports and caches, torch._dynamo among it), then
  timed from its config to its count.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import HWM, child_env, installed_targets, machine, run_child, targets

CONFIG = {"model": "llama", "preset": "Llama-3.1-405B", "batch": 1, "seq_len": 2048}
LLAMA_3_8B = {"model_type": "llama", "vocab_size": 128256, "hidden_size": 4096, "intermediate_size": 14336,
              "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
              "max_position_embeddings": 8192, "rope_theta": 500000.0, "tie_word_embeddings": False}
WALL_S, RSS_MB = 60.0, 2048.0

CHILD = HWM + r"""
import json, sys, time
t_start = time.perf_counter()
from paramspec.frameworks import adapter
from paramspec.run import count
target, config = sys.argv[1], json.loads(sys.argv[2])
adapter(target)  # imports the framework
if len(sys.argv) > 3:  # warm: the anchor's one-layer Llama, untimed (as the anchor's is)
    count({"hf_config": json.loads(sys.argv[3]), "seq_len": 4}, framework=target, native=False, breakdown=False,
          train=True)
t_import = time.perf_counter() - t_start
t0 = time.perf_counter()
r = count(config, framework=target, native=False, breakdown=False, train=True)
t = r.training
b = t.quantities["backward"]
print(json.dumps({"counter": t.counter, "counter_name": t.counter_name, "version": r.framework_version,
                  "step": t.measured_step, "backward": b.got, "expected_backward": b.expected,
                  "backward_formula": b.formula, "agrees": b.agrees, "canonical_step": t.step_flops,
                  "activations": t.quantities["activations"].got if "activations" in t.quantities else None,
                  "verdict": t.verdict, "problems": t.problems(t.counter), "import_s": t_import,
                  "count_s": time.perf_counter() - t0, "hwm_mb": hwm()}))
"""

HF_CHILD = HWM + r"""
import json, sys, time
t_start = time.perf_counter()
import torch
from torch.utils.flop_counter import FlopCounterMode
from transformers import LlamaConfig, LlamaForCausalLM
with torch.device("meta"):  # warm: the one-layer Llama, untimed (as paramspec's is)
    tiny = LlamaForCausalLM(LlamaConfig(**{k: v for k, v in json.loads(sys.argv[2]).items() if k != "model_type"}))
with FlopCounterMode(display=False):
    tiny(input_ids=torch.zeros((1, 4), dtype=torch.long, device="meta")).logits.sum().backward()
t_import = time.perf_counter() - t_start
t0 = time.perf_counter()
config = LlamaConfig(**{k: v for k, v in json.loads(sys.argv[1]).items() if k != "model_type"})
with torch.device("meta"):
    model = LlamaForCausalLM(config)
ids = torch.zeros((1, 2048), dtype=torch.long, device="meta")
counter = FlopCounterMode(display=False)
with counter:
    model(input_ids=ids).logits.sum().backward()
print(json.dumps({"flops": counter.get_total_flops(), "import_s": t_import, "count_s": time.perf_counter() - t0,
                  "hwm_mb": hwm(), "transformers": __import__("transformers").__version__}))
"""

# The anchor as a user would run it: a config.json in, the step's FLOPs out.
HF_SCRIPT = r"""
import json, sys, torch
from torch.utils.flop_counter import FlopCounterMode
from transformers import LlamaConfig, LlamaForCausalLM
config = LlamaConfig(**{k: v for k, v in json.load(open(sys.argv[1])).items() if k != "model_type"})
with torch.device("meta"):
    model = LlamaForCausalLM(config)
with FlopCounterMode(display=False) as counter:
    model(input_ids=torch.zeros((1, 2048), dtype=torch.long, device="meta")).logits.sum().backward()
print(counter.get_total_flops())
"""
TINY_LLAMA = {"model_type": "llama", "vocab_size": 8, "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1,
              "num_attention_heads": 2}


def _process(argv: list[str], env: dict[str, str]) -> float | str:
    """One process's wall time in seconds, or its last error line."""
    t0 = time.perf_counter()
    p = subprocess.run(argv, check=False, env=env, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - t0
    return wall if p.returncode == 0 else ((p.stderr.strip().splitlines() or ["?"])[-1])


def _span(xs: list[float]) -> str:
    return f"{min(xs):.2f}-{max(xs):.2f} (median {statistics.median(xs):.2f})"


def anchor(runs: int = 5) -> int:
    """transformers' LlamaForCausalLM forward and backward under FlopCounterMode, and paramspec's
    torch training step, for one Llama-3-8B config.json at 2048 tokens: the whole command and the
    step alone, ``runs`` times each, interleaved. Not slower: paramspec's median at most the
    anchor's, both ways."""
    env = child_env("torch")
    print("\nanchor: a Llama-3-8B config.json, 2048 tokens, forward and backward on the meta device "
          f"({runs} runs each, interleaved)")
    hf_step, ours_step, hf_cmd, ours_cmd = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp, "config.json")
        config.write_text(json.dumps(LLAMA_3_8B))
        script = Path(tmp, "anchor.py")
        script.write_text(HF_SCRIPT)
        paramspec = [sys.executable, "-m", "paramspec", "count", "-f", "torch", "--train", "--hf-config", str(config),
                     "--input", "seq_len=2048"]
        for _ in range(runs):
            hf = run_child(HF_CHILD, [json.dumps(LLAMA_3_8B), json.dumps(TINY_LLAMA)], env)
            ours = run_child(CHILD, ["torch", json.dumps({"hf_config": LLAMA_3_8B, "seq_len": 2048}),
                                     json.dumps(TINY_LLAMA)], env)
            a, b = _process([sys.executable, str(script), str(config)], env), _process(paramspec, env)
            errors = [e for e in (hf.get("error"), ours.get("error"), a, b) if isinstance(e, str)]
            if errors:
                print(f"  error: {errors[0]}")
                return 1
            if hf["flops"] != ours["step"]:
                print(f"  the two counts differ: transformers {hf['flops']:,}, paramspec {ours['step']:,}")
                return 1
            hf_step.append(hf["count_s"]), ours_step.append(ours["count_s"]), hf_cmd.append(a), ours_cmd.append(b)
    print(f"  both count {ours['step']:,} flops (transformers {hf['transformers']}, {ours['version']})")
    print(f"  the whole command, s:   transformers {_span(hf_cmd)}   paramspec {_span(ours_cmd)}   "
          f"-> {statistics.median(ours_cmd) / statistics.median(hf_cmd):.2f}x")
    print(f"  the step alone, s:      transformers {_span(hf_step)}   paramspec {_span(ours_step)}   "
          f"-> {statistics.median(ours_step) / statistics.median(hf_step):.2f}x")
    print(f"  peak RSS of the step's process, MB: transformers {hf['peak_mb']:.0f}, paramspec {ours['peak_mb']:.0f}")
    print("  (transformers: its import, the build and the step; paramspec: its import, the build, the reading, the "
          "step, AdamW's state, the activations, the estimates and the report)")
    slower = statistics.median(ours_cmd) > statistics.median(hf_cmd) or \
        statistics.median(ours_step) > statistics.median(hf_step)
    print(f"  -> paramspec {'SLOWER than' if slower else 'not slower than'} the anchor")
    return int(slower)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("targets", nargs="*", metavar="TARGET",
                    help=f"targets to measure (default: every installed one; known: {', '.join(targets())})")
    ap.add_argument("--anchor", action="store_true", help="only the speed anchor (transformers' Llama-3-8B)")
    ap.add_argument("--runs", type=int, default=5, help="the anchor's runs of each side (default 5)")
    args = ap.parse_args(argv)
    print(f"machine: {machine()}")
    if args.anchor:
        return anchor(args.runs)
    chosen = args.targets or installed_targets()
    unknown = [t for t in chosen if t not in targets()]
    if unknown:
        ap.error(f"unknown target {unknown[0]!r} (known: {', '.join(targets())})")
    print(f"config: {json.dumps(CONFIG)}, a training step   (targets: <= {WALL_S:.0f} s wall, <= {RSS_MB:.0f} MB "
          "peak RSS, the backward's matmul part = the spec's figure)")
    bad = 0
    print(f"\n{'target':<11} {'counter':<13} {'step flops':>25} {'backward (matmul)':>25} {'spec':>25} {'agrees':>6} "
          f"{'activations':>18} {'count s':>7} {'wall s':>7} {'peak MB':>8}  budget")
    for t in chosen:
        r = run_child(CHILD, [t, json.dumps(CONFIG)], child_env(t))
        if "error" in r:
            print(f"{t:<11} error: {r['error']}")
            bad = 1
            continue
        within = r["wall"] <= WALL_S and r["peak_mb"] <= RSS_MB
        bad |= not (within and r["agrees"])
        act = "-" if r["activations"] is None else f"{r['activations']:,}"
        print(f"{t:<11} {r['counter']:<13} {r['step']:>25,} {r['backward']:>25,} {r['expected_backward']:>25,} "
              f"{bool(r['agrees'])!s:>6} {act:>18} {r['count_s']:>7.2f} {r['wall']:>7.2f} {r['peak_mb']:>8.0f}  "
              f"{'met' if within else 'MISSED'}")
    return bad | anchor(args.runs)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
