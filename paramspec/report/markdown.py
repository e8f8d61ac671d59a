"""The matrix as Markdown (``reports/matrix.md``) and as a terminal table."""
from __future__ import annotations

from ..record import FAIL, NA, PASS
from .matrix import Cell, Matrix, Row

LEGEND = ("Each cell is what the target read: trainable parameters (for a mixture of experts, then the active "
          "ones, those one token uses), then state (running statistics) where there is any. ✓ equals the "
          "framework's formula in the spec; † marks a reading that follows a recorded framework convention "
          "(listed below); ✗ disagrees; n/a: the framework lacks the layer or option (reasons below). Counts "
          "are exact integers.")


def count_text(params: int | None, state: int | None, active: int | None = None) -> str:
    """``46,702,792,704 (12,879,925,248 active) + 14,848 state``: the active parameters (one token's)
    where they are fewer than all."""
    if params is None:
        return "?"
    return (f"{params:,}" + (f" ({active:,} active)" if active is not None and active != params else "")
            + (f" + {state:,} state" if state else ""))


FLOPS_LEGEND = (
    "Each cell is what the target's own compute counter read for one forward pass at the case's input "
    "(the kind's default batch and sizes unless the case id names them), in flops: its total where the "
    "spec has an exact formula for the total, else its matmul-like part (dot, conv, bmm, attention), with "
    "the rest shown per op in matrix.json. MACs is the spec's canonical count of multiply-accumulates; "
    "canonical flops are 2 × MACs. ✓ equals the counter's formula in the spec (2 × MACs unless the kind "
    "records otherwise); † follows a recorded convention of that counter (listed below); ✗ disagrees; "
    "n/a: the counter cannot measure this case (reasons below). A zero where the MACs are not zero is never "
    "✓: it is † (unseen) only where the spec records, with why, that the counter does not see the op.")


def cell_text(cell: Cell | None) -> str:
    if cell is None:
        return "not run"
    if cell.params_verdict == NA:
        return "n/a"
    if cell.record.params is None:
        return cell.mark
    return f"{count_text(cell.record.params, cell.record.state, cell.record.value('active'))} {cell.mark}"


def canonical_text(row) -> str:
    return (count_text(row.canonical["params"], row.canonical["state"], row.canonical.get("active"))
            if row.canonical else "?")


def markdown(m: Matrix) -> str:
    """The matrix as Markdown: the summary, the table, then conventions, n/a reasons and failures."""
    out = ["# paramspec agreement matrix", "", LEGEND, ""]
    out.append("| target | version | pass | fail | n/a | run |")
    out.append("| --- | --- | ---: | ---: | ---: | --- |")
    summary = m.summary()
    for t in m.targets:
        h, s = m.headers[t], summary[t]
        out.append(f"| {t} | {h['source']['version']} | {s[PASS]} | {s[FAIL]} | {s[NA]} | {h['created']} |")
    out += ["", "| case | formula | " + " | ".join(m.targets) + " |",
            "| --- | ---: | " + " | ".join("---:" for _ in m.targets) + " |"]
    for row in m.rows:
        cells = [cell_text(row.cells.get(t)) for t in m.targets]
        out.append(f"| `{row.case}` | {canonical_text(row)} | " + " | ".join(cells) + " |")
    conventions: dict[tuple[str, str], list[str]] = {}
    nas: dict[tuple[str, str], list[str]] = {}
    for row in m.rows:
        for t in m.targets:  # the frameworks.yaml order, whatever order the files came in
            c = row.cells.get(t)
            if c is None:
                continue
            if c.params_verdict == PASS:
                for q in c.record.quantities.values():
                    if q.by_convention and q.why:
                        conventions.setdefault((row.kind, q.why), [])
                        if t not in conventions[(row.kind, q.why)]:
                            conventions[(row.kind, q.why)].append(t)
            if c.params_verdict == NA:
                nas.setdefault((c.record.reason, t), []).append(row.case)
    if conventions:
        out += ["", "## † Framework conventions", ""]
        out += [f"- **{kind}** in {', '.join(ts)}: {why}" for (kind, why), ts in conventions.items()]
    if nas:
        out += ["", "## n/a", ""]
        out += [f"- {t}: {why} ({', '.join(f'`{c}`' for c in cases)})" for (why, t), cases in nas.items()]
    if m.measured:
        out += ["", *flops_markdown(m)]
    if m.trained:
        out += ["", *training_markdown(m)]
    out += ["", "## Disagreements", ""]
    fails = m.failures
    if not fails:
        out.append("None.")
    for r in fails:
        out += ["```", r.explain(), "```"]
    return "\n".join(out) + "\n"


def flops_cell_text(cell: Cell | None) -> str:
    if cell is None:
        return "not run"
    f = cell.record.compute
    v = cell.record.verdict_of("flops")
    if v is None:
        return "-"
    if v == NA:
        return "n/a"
    if f is None or f.compared is None:
        return "✗"
    if f.compared == 0 and f.macs and f.mark == "✓†":  # never a silent zero: the spec records the op as unseen
        return "0 † (unseen)"
    return f"{f.compared:,} {f.mark}"


def macs_text(row: Row) -> str:
    return "?" if row.macs is None else f"{row.macs:,}"


def counters(m: Matrix) -> dict[str, str]:
    """Each target's counter and its version, as its records name them."""
    out: dict[str, str] = {}
    for row in m.rows:
        for t, c in row.cells.items():
            comp = c.record.compute
            if t not in out and comp is not None and comp.counter_name:
                out[t] = comp.counter_label
    return out


def flops_markdown(m: Matrix) -> list[str]:
    """The FLOPs matrix: a summary per target and counter, the table, the counters' conventions and n/a."""
    out = ["## FLOPs", "", FLOPS_LEGEND, "", "| target | counter | pass | fail | n/a |", "| --- | --- | ---: | ---: | ---: |"]
    s, names = m.summary("flops"), counters(m)
    for t in m.targets:
        out.append(f"| {t} | {names.get(t, '-')} | {s[t][PASS]} | {s[t][FAIL]} | {s[t][NA]} |")
    rows = [row for row in m.rows if any(c.record.verdict_of("flops") is not None for c in row.cells.values())]
    out += ["", "| case | MACs (canonical) | " + " | ".join(f"{t} (FLOPs)" for t in m.targets) + " |",
            "| --- | ---: | " + " | ".join("---:" for _ in m.targets) + " |"]
    for row in rows:
        out.append(f"| `{row.case}` | {macs_text(row)} | "
                   + " | ".join(flops_cell_text(row.cells.get(t)) for t in m.targets) + " |")
    conventions: dict[tuple[str, str, str], list[str]] = {}
    nas: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        for t in m.targets:
            c = row.cells.get(t)
            f = c.record.compute if c else None
            if f is None:
                continue
            counter = f.counter
            if f.verdict == PASS and "†" in f.mark and f.convention:
                ts = conventions.setdefault((row.kind, counter, f.convention), [])
                if t not in ts:
                    ts.append(t)
            if f.verdict == NA and f.not_applicable:
                nas.setdefault((f.not_applicable, t), []).append(row.case)
    if conventions:
        out += ["", "### † Counter conventions", ""]
        out += [f"- **{kind}**, {counter} ({', '.join(ts)}): {why}" for (kind, counter, why), ts in conventions.items()]
    if nas:
        out += ["", "### n/a (the counter)", ""]
        out += [f"- {t}: {why} ({', '.join(f'`{c}`' for c in cases)})" for (why, t), cases in nas.items()]
    return out


TRAINING_LEGEND = (
    "Each cell is what the target's counter read of one training step's backward pass (the gradient of the sum of "
    "the outputs, the input requiring none unless the run says so), in flops of its matmul-like ops. Backward MACs "
    "is the spec's canonical count: weight gradients, then the gradients of the kind's intermediate activations. "
    "✓ equals the counter's formula (2 × backward MACs unless the kind records otherwise); † a recorded convention; "
    "✗ disagrees (the step's memory included: gradients, the framework's optimizer state, activations where the "
    "kind has a formula); n/a: the counter cannot measure it.")


def training_cell_text(cell: Cell | None) -> str:
    if cell is None:
        return "not run"
    t, v = cell.record.training, cell.record.verdict_of("training")
    if v is None:
        return "-"
    if v == NA:
        return "n/a"
    if t is None or t.measured_backward is None:
        return "✗"
    return f"{t.measured_backward:,} {t.mark}"


def training_rows(m: Matrix) -> list[Row]:
    return [row for row in m.rows if any(c.record.training is not None for c in row.cells.values())]


def backward_text(row: Row) -> str:
    t = next((c.record.training for c in row.cells.values() if c.record.training is not None), None)
    return "?" if t is None else f"{t.backward_macs:,}"


def training_markdown(m: Matrix) -> list[str]:
    """The training matrix: a summary per target, the table, the counters' conventions."""
    out = ["## Training step", "", TRAINING_LEGEND, "", "| target | pass | fail | n/a |", "| --- | ---: | ---: | ---: |"]
    s = m.summary("training")
    out += [f"| {t} | {s[t][PASS]} | {s[t][FAIL]} | {s[t][NA]} |" for t in m.targets]
    out += ["", "| case | backward MACs | " + " | ".join(f"{t} (flops)" for t in m.targets) + " |",
            "| --- | ---: | " + " | ".join("---:" for _ in m.targets) + " |"]
    for row in training_rows(m):
        out.append(f"| `{row.case}` | {backward_text(row)} | "
                   + " | ".join(training_cell_text(row.cells.get(t)) for t in m.targets) + " |")
    conventions: dict[tuple[str, str, str], list[str]] = {}
    for row in training_rows(m):
        for t in m.targets:
            c = row.cells.get(t)
            tr = c.record.training if c else None
            if tr is not None and tr.convention and tr.verdict == PASS:
                conventions.setdefault((row.kind, tr.counter, tr.convention), [])
                if t not in conventions[(row.kind, tr.counter, tr.convention)]:
                    conventions[(row.kind, tr.counter, tr.convention)].append(t)
    if conventions:
        out += ["", "### † Counter conventions (backward)", ""]
        out += [f"- **{kind}**, {counter} ({', '.join(ts)}): {why}" for (kind, counter, why), ts in conventions.items()]
    return out


def text(m: Matrix) -> str:
    """The matrix for a terminal: one table, folded to its width, then a line per target."""
    from ..render.console import render_table

    rows = [[row.case, canonical_text(row), *[cell_text(row.cells.get(t)) for t in m.targets]] for row in m.rows]
    lines = [render_table(["case", "formula", *m.targets], rows, right=range(1, len(m.targets) + 2)), ""]
    s = m.summary()
    for t in m.targets:
        lines.append(f"{t:<11} {m.headers[t]['source']['version']}: {s[t][PASS]} pass, {s[t][FAIL]} fail, "
                     f"{s[t][NA]} n/a")
    if m.measured:
        rows = [[row.case, macs_text(row), *[flops_cell_text(row.cells.get(t)) for t in m.targets]] for row in m.rows
                if any(c.record.verdict_of("flops") is not None for c in row.cells.values())]
        lines += ["", render_table(["case", "MACs (canonical)", *[f"{t} FLOPs" for t in m.targets]], rows,
                                   right=range(1, len(m.targets) + 2)), ""]
        s, names = m.summary("flops"), counters(m)
        for t in m.targets:
            lines.append(f"{t:<11} {names.get(t, '-')}: {s[t][PASS]} pass, {s[t][FAIL]} fail, {s[t][NA]} n/a")
    if m.trained:
        rows = [[row.case, backward_text(row), *[training_cell_text(row.cells.get(t)) for t in m.targets]]
                for row in training_rows(m)]
        lines += ["", render_table(["case", "backward MACs", *[f"{t} flops" for t in m.targets]], rows,
                                   right=range(1, len(m.targets) + 2)), ""]
        s = m.summary("training")
        for t in m.targets:
            lines.append(f"{t:<11} training step: {s[t][PASS]} pass, {s[t][FAIL]} fail, {s[t][NA]} n/a")
    return "\n".join(lines)
