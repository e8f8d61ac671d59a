"""Counting reads headers, not weights: a sharded safetensors set declaring 100 GB.

Usage: python bench/metadata.py

- builds sharded sets (model.safetensors.index.json + shards) that declare 1 GB and 100 GB of
  float16 tensors as sparse files (no disk, nothing written but the headers), and counts each
  with paramspec.count_file in a fresh process: wall time of the count (imports done) and the
  process's peak RSS (target: under 1 s, with peak RSS independent of the declared size);
- for a small set with real data (256 MiB), the ratio of paramspec.count_file's time
  against loading every tensor with the safetensors package (safe_open + get_tensor).
"""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import child_env, machine  # noqa: E402

CHILD = r"""
import json, resource, sys, time
def hwm():  # this process's peak RSS in MB (VmHWM: unlike ru_maxrss, not inherited through fork)
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024
import paramspec
t0 = time.perf_counter()
r = paramspec.count_file(sys.argv[1])
wall = time.perf_counter() - t0
print(json.dumps({"params": r.params, "bytes": r.nbytes, "wall": wall,
                  "rss_mb": hwm()}))
"""

LOAD = r"""
import json, resource, sys, time
def hwm():  # this process's peak RSS in MB (VmHWM: unlike ru_maxrss, not inherited through fork)
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024
from safetensors import safe_open
import json as j
t0 = time.perf_counter()
index = j.load(open(sys.argv[1]))
n = 0
for shard in sorted(set(index["weight_map"].values())):
    with safe_open(sys.argv[1].rsplit("/", 1)[0] + "/" + shard, framework="numpy") as f:
        for k in f.keys():
            n += f.get_tensor(k).size
print(json.dumps({"params": n, "wall": time.perf_counter() - t0,
                  "rss_mb": hwm()}))
"""


def build(folder: Path, declared_bytes: int, shards: int = 8, layers_per_shard: int = 32, sparse: bool = True) -> int:
    """Write a sharded float16 set declaring ``declared_bytes``; return its element count."""
    folder.mkdir(parents=True, exist_ok=True)
    per_tensor = declared_bytes // (shards * layers_per_shard) // 2  # float16 elements
    rows = max(1, per_tensor // 4096)
    weight_map = {}
    total = 0
    for s in range(shards):
        name = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        header, offset = {}, 0
        for i in range(layers_per_shard):
            key = f"model.layers.{s * layers_per_shard + i}.mlp.weight"
            n = rows * 4096
            header[key] = {"dtype": "F16", "shape": [rows, 4096], "data_offsets": [offset, offset + 2 * n]}
            offset += 2 * n
            total += n
            weight_map[key] = name
        raw = json.dumps(header).encode()
        with open(folder / name, "wb") as f:
            f.write(struct.pack("<Q", len(raw)) + raw)
            if sparse:
                f.truncate(8 + len(raw) + offset)
            else:
                f.write(os.urandom(min(offset, 1 << 20)) * (offset // (1 << 20)) + b"\0" * (offset % (1 << 20)))
    (folder / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    return total


def run(code: str, path: Path) -> dict:
    p = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, env=child_env())
    if p.returncode:
        raise SystemExit(p.stderr)
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> int:
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="paramspec-bench-") as tmp:
        print("\nsharded safetensors (8 shards, 256 tensors, float16), sparse files; count in a fresh process")
        print(f"{'declared':>10} {'parameters':>16} {'wall s':>7} {'peak RSS MB':>12}")
        for gb in (1, 100):
            folder = Path(tmp) / f"{gb}gb"
            total = build(folder, gb * 2**30)
            r = run(CHILD, folder / "model.safetensors.index.json")
            assert r["params"] == total, (r, total)
            print(f"{gb:>8} GB {r['params']:>16,} {r['wall']:>7.2f} {r['rss_mb']:>12.0f}")
        folder = Path(tmp) / "small"
        total = build(folder, 256 * 2**20, shards=2, layers_per_shard=16, sparse=False)
        r = run(CHILD, folder / "model.safetensors.index.json")
        s = run(LOAD, folder / "model.safetensors.index.json")
        assert r["params"] == s["params"] == total
        print(f"\n256 MiB real set: count_file {r['wall']:.3f} s ({r['rss_mb']:.0f} MB), "
              f"safetensors load {s['wall']:.3f} s ({s['rss_mb']:.0f} MB): {s['wall'] / r['wall']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
