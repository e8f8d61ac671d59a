"""Counting a quantized set reads its headers, not its weights: a sharded GPTQ set declaring 100 GB.

Usage: python bench/quantized.py

Builds sharded GPTQ sets (model.safetensors.index.json, 8 shards of 32 layers, each layer's
qweight/qzeros/scales/g_idx as AutoGPTQ lays them out, 4-bit, groups of 128; config.json's
quantization_config and quantize_config.json beside them) that declare 1 GB and 100 GB as sparse
files (nothing written but the headers), and counts each with paramspec.count_file in a fresh
process: wall time of the count (imports done) and the process's peak RSS (target: under 1 s,
peak RSS independent of the declared size). The logical parameters are checked against the
layers' shapes.
"""
from __future__ import annotations

import json
import struct
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine  # noqa: E402
from metadata import CHILD, run  # noqa: E402  the same child as metadata.py: count_file, wall time, VmHWM


def build(folder: Path, declared_bytes: int, shards: int = 8, layers_per_shard: int = 32, out_f: int = 8192,
          bits: int = 4, group: int = 128) -> int:
    """Write a sparse sharded GPTQ set declaring about ``declared_bytes``; return its logical parameters."""
    folder.mkdir(parents=True, exist_ok=True)
    per_layer = declared_bytes / (shards * layers_per_shard)
    in_f = max(group, int(per_layer / (out_f * (bits / 8 + 2.5 / group))) // group * group)
    groups = in_f // group
    layer = {"qweight": ("I32", [in_f * bits // 32, out_f], 4), "qzeros": ("I32", [groups, out_f * bits // 32], 4),
             "scales": ("F16", [groups, out_f], 2), "g_idx": ("I32", [in_f], 4)}
    weight_map, total = {}, 0
    for s in range(shards):
        name = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        header, offset = {}, 0
        for i in range(layers_per_shard):
            prefix = f"model.layers.{s * layers_per_shard + i}.mlp.down_proj"
            for part, (dtype, shape, width) in layer.items():
                n = shape[0] * (shape[1] if len(shape) > 1 else 1) * width
                header[f"{prefix}.{part}"] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
                weight_map[f"{prefix}.{part}"] = name
                offset += n
            total += in_f * out_f
        header["__metadata__"] = {"format": "pt", "gptq_bits": str(bits), "gptq_group_size": str(group)}
        raw = json.dumps(header).encode()
        with open(folder / name, "wb") as f:
            f.write(struct.pack("<Q", len(raw)) + raw)
            f.truncate(8 + len(raw) + offset)
    (folder / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    qc = {"bits": bits, "group_size": group, "desc_act": True, "sym": True, "quant_method": "gptq"}
    (folder / "config.json").write_text(json.dumps({"model_type": "llama", "quantization_config": qc}))
    (folder / "quantize_config.json").write_text(json.dumps(qc))
    return total


def main() -> int:
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="paramspec-bench-") as tmp:
        print("\nsharded GPTQ 4-bit (8 shards, 256 layers, 1,024 tensors), sparse files; count in a fresh process")
        print(f"{'declared':>10} {'stored bytes':>18} {'parameters':>16} {'wall s':>7} {'peak RSS MB':>12}")
        for gb in (1, 100):
            folder = Path(tmp) / f"{gb}gb"
            total = build(folder, gb * 2**30)
            r = run(CHILD, folder / "model.safetensors.index.json")
            assert r["params"] == total, (r, total)
            print(f"{gb:>8} GB {r['bytes']:>18,} {r['params']:>16,} {r['wall']:>7.2f} {r['rss_mb']:>12.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
