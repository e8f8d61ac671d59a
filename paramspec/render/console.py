"""Tables for a terminal, with rich: each table folds its cells to the terminal's width (80
columns when the output is not a terminal), so no line runs past it.

Example:
    >>> print(render_table(["a", "b"], [["1", "2"]]))
"""
from __future__ import annotations

import io
import math
import os
import shutil
import sys
import textwrap
from typing import Any, Sequence

from ..reading import shape_text
from ..record import Record
from .text import human, human_bytes

DEFAULT_WIDTH = 80


def width() -> int:
    """The terminal's width; 80 when stdout is not a terminal (``COLUMNS`` overrides)."""
    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"])
    if sys.stdout.isatty():
        return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return DEFAULT_WIDTH


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, right: Sequence[int] = (),
                 title: str | None = None, max_width: int | None = None) -> str:
    """A table as text, folded to ``max_width`` (default: :func:`width`). ``right`` lists the
    columns to right-align (numbers)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left", show_edge=False, pad_edge=False,
                  title_style=None, header_style="bold")
    for i, h in enumerate(headers):
        table.add_column(h, justify="right" if i in right else "left", overflow="fold")
    for row in rows:
        table.add_row(*["" if c is None else str(c) for c in row])
    buf = io.StringIO()
    Console(file=buf, width=max_width or width(), color_system=None, highlight=False, emoji=False, markup=False,
            soft_wrap=False).print(table)
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()).strip("\n")


def count_table(r: Record, depth: int | None = None) -> str:
    """What ``paramspec count`` prints for a framework (or formula) record."""
    out = [f"{r.case} in {r.target} ({r.framework_version})" if r.source.type == "framework"
           else f"{r.case}: the spec's formulas (no framework built it: a value, not a reading)"]
    if r.built:
        out.append(textwrap.fill(f"built: {r.built}", width(), subsequent_indent="  ", break_on_hyphens=False))
    if depth:
        out.append(tree_table(r.tree(depth)))
    elif r.tensors and len(r.tensors) <= 64:
        out.append(tensors_table(r))
    elif r.tensors:
        out.append(f"({len(r.tensors)} tensors: --depth N shows the module tree, --json lists them all)")
    rows = []
    for name, q in r.quantities.items():
        if r.source.type == "formula":
            rows.append([name, "", _n(q.expected), "", q.formula or ""])
        else:
            rows.append([name.replace("native:", "native "), _n(q.got), _n(q.expected), q.mark, q.formula or ""])
    out.append(render_table(["quantity", "read", "spec", "", "formula"], rows, right=(1, 2)))
    c = r.counts
    lines = []
    if r.tensors:
        lines.append(f"named counts: unique {c['unique']:,} ({human(c['unique'])}); per-reference "
                     f"{c['per_reference']:,} (tied {c['tied']:,}); state {c['state']:,}; embedding "
                     f"{c['embedding']:,}; non-embedding {c['non_embedding']:,}")
    conv = r.convention
    if conv:
        lines.append(f"convention: {conv} (canonical: {r.quantities['params'].canonical:,} params, "
                     f"{r.quantities['state'].canonical:,} state)")
    lines += [f"DISAGREES: {p}" for p in r.all_problems]
    out += [textwrap.fill(line, width(), subsequent_indent="  ") for line in lines]
    if r.compute is not None:
        out.append(flops_text(r))
    return "\n".join(out)


def flops_text(r: Record) -> str:
    """The compute reading: the counter, its per-op breakdown and totals, the spec's MACs and
    terms, the counter's convention, and any published estimates."""
    f = r.compute
    shapes = ", ".join(f"{tuple(i['shape'])} {i['dtype']}" for i in f.inputs)
    lines = [f"compute: {f.counter_label}" + (f" on {shapes}" if shapes else "")]
    out = []
    if f.by_op:
        ops = set(f.matmul_ops)
        rows = [[op, f"{n:,}", "matmul" if op in ops else ""]
                for op, n in sorted(f.by_op.items(), key=lambda kv: (kv[0] not in ops, -kv[1], kv[0]))]
        rows.append(["total", f"{f.measured:,}", ""])
        out.append(render_table(["op", "flops", ""], rows, right=(1,)))
    if f.not_applicable:
        lines.append(f"n/a: {f.not_applicable}" + (f" (the counter: {f.error})" if f.error else ""))
    elif f.measured is not None:
        lines.append(f"measured {f.measured:,} flops: matmul-like {f.matmul:,}, other {f.remainder:,}")
    lines.append(f"MACs (canonical): {f.macs:,} = {f.macs_formula}; canonical flops 2 x MACs = "
                 f"{f.canonical:,}")
    for name, v in f.terms.items():
        lines.append(f"term {name}: {v:,}")
    if f.expected is not None:
        lines.append(f"the counter's formula ({f.compares}): {f.expected:,}" + ("" if f.agrees is None else
                     (" - agrees" if f.agrees else " - DISAGREES")))
    if f.convention:
        lines.append(f"counter convention: {f.convention}")
    inputs = f.inputs
    tokens = math.prod(inputs[0]["shape"]) if inputs else None  # a token-id input: batch x seq_len
    for name, e in f.estimates.items():
        per_seq = f", x {tokens:,} tokens = {e['value'] * tokens:,}" if tokens else ""
        lines.append(f"estimate {name}: {e['value']:,} a token{per_seq} ({e['source']}; formula: {e['formula']})")
    for note in f.notes:
        lines.append(f"note: {note}")
    out += [textwrap.fill(line, width(), subsequent_indent="  ") for line in lines]
    return "\n".join(out)


def tensors_table(r: Record) -> str:
    rows = []
    for t in r.tensors:
        name = t.name + (f" (= {', '.join(t.shared_with)})" if t.shared_with else "")
        note = "; ".join(x for x in (f"state ({t.why_state})" if t.why_state else "", t.packing) if x)
        row = [name, shape_text(t.shape), t.dtype, "yes" if t.trainable else "no", f"{t.numel:,}"]
        rows.append(row + [note] if r.source.type == "file" else row)
    headers = ["name", "shape", "dtype", "trainable", "count"] + (["note"] if r.source.type == "file" else [])
    return render_table(headers, rows, right=(4,))


def tree_table(nodes: list) -> str:
    rows = [["  " * (len(n.path) - 1) + n.name, f"{n.params:,}", f"{n.state:,}" if n.state else "",
             "tied: " + "; ".join(n.tied_from) if n.tied_from else ""] for n in nodes]
    return render_table(["module", "params", "state", ""], rows, right=(1, 2))


def file_table(r: Record, depth: int | None = None) -> str:
    """What ``paramspec count FILE`` prints."""
    out = [f"{r.config['path']} ({r.source.name}, {len(r.tensors)} tensors)"]
    if depth:
        out.append(tree_table(r.tree(depth)))
    elif len(r.tensors) <= 64:
        out.append(tensors_table(r))
    else:
        out.append("(--depth N shows the module tree, --json lists every tensor)")
    state = "not separable in this format" if r.state is None else f"{r.state:,}"
    rows = [["parameters", f"{r.params:,} ({human(r.params)}), unique; per-name sum {r.counts['per_reference']:,}"],
            ["state", state]]
    rows += [["tied", " = ".join(g)] for g in r.tied_groups]
    rows += [[dtype, f"{d['elements']:,} elements, {human_bytes(d['bytes'])}"] for dtype, d in r.by_dtype.items()]
    m = r.memory()
    rows.append(["weights at", ", ".join(f"{k} {human_bytes(v)}" for k, v in m["weights"].items())])
    rows.append(["training", f"Adam fp32 {human_bytes(m['training_adam_fp32'])}; mixed precision "
                             f"{human_bytes(m['training_adam_mixed_precision'])} (weights, gradients, moments; "
                             f"no activations)"])
    out.append(render_table(["", ""], rows))
    out += [f"note: {n}" for n in r.notes]
    return "\n".join(out)


def _n(v: int | None) -> str:
    return "" if v is None else f"{v:,}"
