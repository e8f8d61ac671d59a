"""Plain-text pieces: human units, the per-tensor table (in failure messages), the module tree.

Counts use powers of 1000 (``124.4M``, ``6.7B``), as model cards do; byte sizes use powers
of 1024 (``KiB``, ``MiB``, ``GiB``).

Example:
    >>> human(124_439_808), human_bytes(497_759_232)
    ('124.4M', '474.70 MiB')
"""
from __future__ import annotations

from typing import Iterable

from ..reading import Tensor, shape_text

UNITS = ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K"))


def human(n: float) -> str:
    """``124439808`` -> ``124.4M`` (K, M, B, T: powers of 1000)."""
    for size, unit in UNITS:
        if abs(n) >= size:
            return f"{n / size:.1f}{unit}"
    return str(int(n))


def human_bytes(n: float) -> str:
    """``497759232`` -> ``474.70 MiB`` (KiB, MiB, GiB, TiB: powers of 1024)."""
    for size, unit in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{int(n)} B"


def tensor_table(tensors: Iterable[Tensor], indent: str = "  ") -> str:
    """The per-tensor table used in failure messages: name, shape, dtype, trainable, count."""
    rows = [("name", "shape", "dtype", "trainable", "count")]
    for t in tensors:
        name = t.name + (f" (= {', '.join(t.shared_with)})" if t.shared_with else "")
        rows.append((name, shape_text(t.shape), t.dtype, "yes" if t.trainable else "no", f"{t.numel:,}"))
    if len(rows) == 1:
        return f"{indent}(no tensors)"
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = []
    for r in rows:
        cells = [r[i].ljust(widths[i]) if i < 4 else r[i].rjust(widths[i]) for i in range(5)]
        lines.append(indent + "  ".join(cells).rstrip())
    return "\n".join(lines)
