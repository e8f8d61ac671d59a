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


def plural(n: int, noun: str) -> str:
    """``1 tensor``, ``2 tensors``, ``1,290 elements``."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def fold(text: str, indent: str = "  ", first: str = "", max_width: int | None = None) -> str:
    """``text`` wrapped at words to the terminal's width (:func:`width`), names kept whole
    (a name longer than a line is left long, never split)."""
    return textwrap.fill(text, max_width or width(), initial_indent=first, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False)


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, right: Sequence[int] = (),
                 title: str | None = None, max_width: int | None = None, whole: Sequence[int] = (0,)) -> str:
    """A table as text, folded to ``max_width`` (default: :func:`width`). ``right`` lists the
    columns to right-align (numbers); the ``whole`` columns (names: the first, by default) are
    never split, the others wrap at words; a column with nothing in it is left out."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    cells = [["" if c is None else str(c) for c in row] for row in rows]
    keep = [i for i in range(len(headers)) if not rows or any(row[i] for row in cells) or i in whole]
    table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left", show_edge=False, pad_edge=False,
                  title_style=None, header_style="bold")
    for i in keep:
        if i in whole or i in right:  # a name or a number: never split (its header may wrap at words)
            longest = max([*(len(w) for w in headers[i].split()), *(len(row[i]) for row in cells), 1])
            table.add_column(headers[i], justify="right" if i in right else "left", no_wrap=True, min_width=longest)
        else:
            table.add_column(headers[i], justify="left", overflow="fold")
    for row in cells:
        table.add_row(*[row[i] for i in keep])
    # the whole columns and the others' narrowest (12), with rich's padding: a table of long
    # names is wider than the terminal rather than cut
    needed = sum((max([*(len(w) for w in headers[i].split()), *(len(r[i]) for r in cells), 1])
                  if (i in whole or i in right) else 12) + 3 for i in keep)
    buf = io.StringIO()
    Console(file=buf, width=max(max_width or width(), needed), color_system=None, highlight=False, emoji=False,
            markup=False, soft_wrap=False).print(table)
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()).strip("\n")


def count_table(r: Record, depth: int | None = None) -> str:
    """What ``paramspec count`` prints for a framework (or formula) record."""
    if r.within is not None:
        out = [fold(f"{r.config.get('object')} in {r.target} ({r.framework_version}): your model, read as it is")]
    elif r.source.type == "framework":
        out = [fold(f"{r.case} in {r.target} ({r.framework_version})")]
    else:
        out = [fold(f"{r.case}: the spec's formulas (no framework built it: a value, not a reading)")]
    if r.compute is not None:
        out.append(fold(compute_headline(r)))
    if r.training is not None:
        out.append(fold(training_headline(r)))
    if r.built:
        out.append(fold(f"built: {r.built}"))
    if depth:
        out.append(tree_table(r.tree(depth)))
    elif r.tensors and len(r.tensors) <= 64:
        out.append(tensors_table(r))
    elif r.tensors:
        out.append(f"({plural(len(r.tensors), 'tensor')}: --depth N shows the module tree, --json lists them all)")
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
        lines.append(f"named counts: unique {c['unique']:,}" + (f" ({human(c['unique'])})" if c["unique"] >= 1000 else "")
                     + "; per-reference "
                     f"{c['per_reference']:,} (tied {c['tied']:,}); state {c['state']:,}; embedding "
                     f"{c['embedding']:,}; non-embedding {c['non_embedding']:,}")
    conv = r.convention
    if conv:
        lines.append(f"convention: {conv} (canonical: {r.quantities['params'].canonical:,} params, "
                     f"{r.quantities['state'].canonical:,} state)")
    lines += [f"note: {n}" for n in r.notes]
    if r.within is not None:
        lines += [f"within: {line}" for line in r.within.lines()] or [
            "within: no layer the spec has a kind for (its kinds: `paramspec kinds`)"]
    lines += [f"DISAGREES: {p}" for p in r.all_problems]
    out += [fold(line) for line in lines]
    if r.compute is not None:
        out.append(flops_text(r))
    if r.training is not None:
        out.append(training_text(r))
    return "\n".join(out)


def gb(n: float) -> str:
    """Bytes in GB (10^9), as accelerator memory is quoted: ``80.00 GB``, ``1.2 MB``."""
    for size, unit in ((10**12, "TB"), (10**9, "GB"), (10**6, "MB"), (10**3, "kB")):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return f"{int(n)} B"


def duration(seconds: float) -> str:
    for size, unit in ((86400 * 365, "years"), (86400, "days"), (3600, "hours"), (60, "minutes"), (1, "s")):
        if seconds >= size:
            return f"{seconds / size:.2f} {unit}"
    return f"{seconds * 1000:.3g} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.3g} µs"


def training_text(r: Record) -> str:
    """The training step: the answer first (the step's FLOPs, its memory and whether it fits,
    the run's time), then the quantities against the spec, the memory by part, the estimates."""
    t = r.training
    o = t.options
    head = (f"training step ({o.get('optimizer', 'adamw')}, {o.get('precision', 'fp32')}, "
            f"{'input with' if t.input_grad else 'input without'} gradient)")
    lines = []
    if t.counter == "formula":
        lines.append(f"{head}: {scaled(t.step_flops, 'FLOPs')} = 2 x ({t.macs:,} forward + {t.backward_macs:,} "
                     "backward MACs), canonical")
    elif t.measured_step is not None and r.within is not None:  # a user's own object: no formula for its whole
        lines.append(f"{head}: {t.counter_name} reads {t.measured_step:,} FLOPs")
    elif t.measured_step is not None:
        lines.append(f"{head}: {t.counter_name} reads {t.measured_step:,} FLOPs (canonical 2 x ({t.macs:,} forward + "
                     f"{t.backward_macs:,} backward MACs) = {t.step_flops:,})")
    else:
        lines.append(f"{head}: not measured" + (f" (n/a: {t.not_applicable})" if t.not_applicable else "")
                     + (f" ({t.error})" if t.error else ""))
    mem = t.memory.get("bytes", {})
    if mem:
        parts = " + ".join(f"{k} {gb(v)}" for k, v in mem.items() if k != "total" and v)
        lines.append(f"memory: {parts} = {gb(mem['total'])}")
    if t.fits:
        f = t.fits
        lines.append(f"fits in {f['where']}: {'yes' if f['fits'] else 'NO'}, {gb(f['total'])} of {gb(f['capacity'])} "
                     f"({f['share']:.1%}); " + (f"{gb(f['margin'])} to spare" if f["fits"] else
                                                f"{gb(-f['margin'])} too much"))
    tm = t.time
    if tm:
        rate = f"{tm['peak_flops'] / 1e12:g} TFLOPS {tm['dtype']} ({tm['hardware']})"
        if tm.get("mfu_from") == "--step-time":
            lines.append(f"a step of {duration(tm['step_time'])} on {rate} is {tm['mfu']:.1%} MFU")
        else:
            lines.append(f"time: a step takes {duration(tm['step_time'])} at {tm['mfu']:.0%} MFU of {rate}")
            if "seconds" in tm:
                lines.append(f"the run: {tm['steps']:,.0f} steps, {duration(tm['seconds'])}, "
                             f"{tm['accelerator_hours']:,.1f} accelerator-hours, {tm['total_flops']:.3g} FLOPs")
    out = [fold(line) for line in lines]
    if t.quantities:
        rows = [[name, _n(q.got), _n(q.expected), q.mark, q.formula or ""] for name, q in t.quantities.items()]
        out.append(render_table(["training", "read", "spec", "", "formula"], rows, right=(1, 2)))
    more = [f"{k}: {v}" for k, v in t.memory.get("how", {}).items()]
    if t.convention:
        more.append(f"counter convention: {t.convention}")
    for name, e in t.estimates.items():
        differs = f"; {e['differs']}" if e.get("differs") else ""
        if e.get("of") == "activations":  # the formula is in --json and docs/reference/kinds.md
            ratio = f", {e['ratio']:.3f} x the {e['against']} activations" if e.get("ratio") else ""
            more.append(f"estimate {name}: {scaled(e['value'], 'B')} of activations{ratio} ({e['source']}{differs})")
            continue
        ratio = f", {e['ratio']:.3f} x the {'measured' if t.measured_step else 'canonical'} step" if e.get("ratio") else ""
        more.append(f"estimate {name}: {scaled(e['value'], 'FLOPs')} a step{ratio} ({e['source']}{differs})")
    more += [f"note: {n}" for n in t.notes]
    out += [fold(line) for line in more]
    return "\n".join(out)


def scaled(n: float, unit: str) -> str:
    """``4.09 GMACs``, ``8.18 GFLOPs``: powers of 1000, three significant digits."""
    for size, prefix in ((10**15, "P"), (10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")):
        if abs(n) >= size:
            return f"{n / size:.3g} {prefix}{unit}"
    return f"{n:,.0f} {unit}"


def inputs_text(inputs: list) -> str:
    """``1x3x224x224`` (the shapes of a forward pass's inputs, in the framework's layout)."""
    return ", ".join("x".join(str(d) for d in i["shape"]) for i in inputs)


def compute_headline(r: Record) -> str:
    """The one-line answer: ``resnet50 at 1x3x224x224: 4.09 GMACs = 8.18 GFLOPs (canonical);
    torch.utils.flop_counter.FlopCounterMode reads 8.18 GFLOPs``."""
    f = r.compute
    at = f" at {inputs_text(f.inputs)}" if f.inputs else ""
    if f.macs is None:  # a user's own object: no formula for its whole
        return (f"{r.config.get('object')}{at}: {f.counter_name} reads {scaled(f.measured or 0, 'FLOPs')} "
                f"(matmul-like {scaled(f.matmul or 0, 'FLOPs')})")
    line = f"{r.case}{at}: {scaled(f.macs, 'MACs')} = {scaled(f.flops, 'FLOPs')} (canonical)"
    if f.counter == "formula":
        return line
    if f.measured is None:
        why = f"n/a: {f.not_applicable}" if f.not_applicable else f"could not measure: {f.error}"
        return f"{line}; {f.counter_name} {why}"
    return f"{line}; {f.counter_name} reads {scaled(f.measured, 'FLOPs')} {f.mark}"


def training_headline(r: Record) -> str:
    t = r.training
    if t.counter == "formula":
        return (f"a training step: {scaled(t.step_flops, 'FLOPs')} (canonical: 2 x ({scaled(t.macs, 'MACs')} forward + "
                f"{scaled(t.backward_macs, 'MACs')} backward))")
    got = "not measured" if t.measured_step is None else f"{t.counter_name} reads {scaled(t.measured_step, 'FLOPs')}"
    if r.within is not None:  # a user's own object: no formula for its whole
        return f"a training step: {got}"
    mark = t.quantities["backward"].mark if "backward" in t.quantities else ""
    return f"a training step: {scaled(t.step_flops, 'FLOPs')} (canonical); {got}" + (f"; backward {mark}" if mark
                                                                                    else "")


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
    if f.macs is not None:
        lines.append(f"MACs (canonical): {f.macs:,} = {f.macs_formula}; canonical flops 2 x MACs = "
                     f"{f.canonical:,}")
    for name, v in f.terms.items():
        lines.append(f"term {name}: {v:,}")
    if f.expected is not None:
        lines.append(f"the counter's formula ({f.compares}): {f.expected:,}" + ("" if f.agrees is None else
                     (" - agrees" if f.agrees else " - DISAGREES")))
    if f.convention:
        lines.append(f"counter convention for this kind: {f.convention}")
    elif f.counter in _counters():  # the kind's own rule says more; compute.md has the counter's
        lines.append(f"what the counter counts: {_counters()[f.counter].why}")
    if "(unattributed)" in f.by_op:
        lines.append("(unattributed): XLA's cost of the whole forward pass less the sum of its ops costed one by one "
                     "(it folds constants across ops, so this can be negative); the matmul part is exact")
    inputs = f.inputs
    tokens = math.prod(inputs[0]["shape"]) if inputs else None  # a token-id input: batch x seq_len
    for name, e in f.estimates.items():
        if e.get("of", "flops") != "flops" or e.get("training"):
            continue  # a training step's: the training part shows it (count --train)
        if e.get("per") == "step":
            lines.append(f"estimate {name}: {e['value']:,} a step ({e['source']}; formula: {e['formula']})")
            continue
        per_seq = f", x {tokens:,} tokens = {e['value'] * tokens:,}" if tokens else ""
        lines.append(f"estimate {name}: {e['value']:,} a token{per_seq} ({e['source']}; formula: {e['formula']})")
    for note in f.notes:
        lines.append(f"note: {note}")
    out += [fold(line) for line in lines]
    return "\n".join(out)


def tensors_table(r: Record) -> str:
    """One row a tensor; a quantized file's weights show their logical shape beside the stored one,
    and their logical elements as the count (quantization metadata counts none)."""
    quantized = any(t.logical_shape is not None for t in r.tensors)
    trainable = not quantized or not all(t.trainable for t in r.tensors)  # a quantized file: the column if it says something
    rows = []
    for t in r.tensors:
        name = t.name + (f" (= {', '.join(t.shared_with)})" if t.shared_with else "")
        note = "; ".join(x for x in (f"state ({t.why_state})" if t.why_state else "", t.packing) if x)
        row = [name, shape_text(t.shape)]
        if quantized:
            row.append(shape_text(t.logical_shape) if t.logical_shape is not None else "")
        row += [t.dtype] + (["yes" if t.trainable else "no"] if trainable else []) + [f"{t.numel:,}"]
        rows.append(row + [note] if r.source.type == "file" else row)
    headers = (["name", "stored shape", "logical shape"] if quantized else ["name", "shape"]) + ["dtype"]
    headers += (["trainable"] if trainable else []) + ["count"]
    headers += ["note"] if r.source.type == "file" else []
    return render_table(headers, rows, right=(len(headers) - 2 if r.source.type == "file" else len(headers) - 1,))


def tree_table(nodes: list) -> str:
    rows = [["  " * (len(n.path) - 1) + n.name, f"{n.params:,}", f"{n.state:,}" if n.state else "",
             "tied: " + "; ".join(n.tied_from) if n.tied_from else ""] for n in nodes]
    return render_table(["module", "params", "state", ""], rows, right=(1, 2))


def file_table(r: Record, depth: int | None = None) -> str:
    """What ``paramspec count FILE`` prints."""
    out = [f"{r.config['path']} ({r.source.name}, {plural(len(r.tensors), 'tensor')})"]
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
    q = r.quantization
    if q is None:
        rows += [[dtype, f"{plural(d['elements'], 'element')}, {human_bytes(d['bytes'])}"] for dtype, d in r.by_dtype.items()]
    else:
        rows += _quantization_rows(q)
    m = r.memory()
    rows.append(["weights at", ", ".join(f"{k} {human_bytes(v)}" for k, v in m["weights"].items())])
    rows.append(["training", f"Adam fp32 {human_bytes(m['training_adam_fp32'])}; mixed precision "
                             f"{human_bytes(m['training_adam_mixed_precision'])} (weights, gradients, moments; "
                             f"no activations)"])
    out.append(render_table(["", ""], rows))
    out += [f"note: {n}" for n in r.notes]
    return "\n".join(out)


def _quantization_rows(q) -> list[list[str]]:
    """A quantized file's rows: the method, the weights' logical elements and bytes, the
    metadata, bits per weight, and what is stored by dtype (stored elements, not logical)."""
    rows = [["quantization", f"{q.label}; declared in {q.declared_in}"],
            ["quantized", f"{q.weights:,} weights, {q.weight_elements:,} logical elements, "
                          f"{human_bytes(q.weight_bytes)} stored"],
            ["metadata", f"{plural(q.metadata_elements, 'element')}, {human_bytes(q.metadata_bytes)}"
                         + (" (" + "; ".join(f"{k} {v['elements']:,}" for k, v in q.metadata_kinds.items()) + ")"
                            if q.metadata_kinds else "")]]
    if q.bits_per_weight is not None:
        rows.append(["bits/weight", f"{q.bits_per_weight:.3f} with the metadata, {q.value_bits:.3f} without"])
    rows += [[f"stored {dtype}", f"{plural(d['elements'], 'element')}, {human_bytes(d['bytes'])}"] for dtype, d in q.stored.items()]
    return rows


def _n(v: int | None) -> str:
    return "" if v is None else f"{v:,}"


def _counters() -> dict:
    from ..loader import load_spec

    return load_spec().counters
