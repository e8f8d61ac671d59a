"""The agreement matrix and the tools report as one static, self-contained HTML page.

The page holds, top to bottom:

- filters: a kind (or model family), a target, a tool, and a case-id substring; they hide
  rows of both tables, other targets' columns of the matrix and other tools' columns;
- ``#summary``: per target, ``N pass, M fail, K n/a`` for the parameter counts and, when the
  matrix was measured, for the FLOPs; then ``#tool-chart``, per audited tool its one-line
  result and, for its parameter and its compute readings, a stacked bar (inline SVG) of the
  cases it got right (✓), right by a recorded convention (†), wrong (✗), failed on (error)
  and had no such figure for (n/a; or not run), every bar on the same scale (all the cases);
- ``#matrix``: a row per case, the canonical formula's value and a column per target. A cell
  shows the parameter count and its mark (✓, ✓† by a recorded convention, ✗, n/a) and, when
  a forward pass was measured, the FLOPs and their mark; its tooltip and its click-to-open
  details give the formula, expected vs got, the convention's why, the per-tensor breakdown
  where the record has one, the problems, the n/a reason, and the counter's reading (measured,
  matmul part, expected, why, per op);
- ``#tools``: a row per case, a column per tool: each tool's parameter and compute readings
  with their marks, and in the details the finding (silent zero, double counted, missing...),
  the expected value and its formula, the difference, the why, the warnings and the error;
- ``#findings``: each tool finding with the command that reproduces it.

Both tables sit in scroll boxes whose header row and first column are sticky.

A cell's details and its tooltip are not in the markup (pre-rendered, they made the full
report's page 5.3 MB): the page's script builds the details when the cell is opened, and sets
the tooltip (its ``title``) when the pointer first comes over it, from one data block
(``<script type="application/json" id="cell-data">``) of nodes (``["tag class", child, ...]``,
a child being text or another node's index; see :mod:`.html_assets`). Equal nodes are stored
once, and so is a long text that several nodes hold, so the many cells that share a formula,
a convention or a tool's claims share them. The script makes elements and text nodes from the
block and never parses markup.

The page is self-contained: its CSS and JavaScript (:mod:`.html_assets`) are inline, it loads
nothing (no fonts, images, scripts or styles from anywhere; its Content-Security-Policy
forbids any load and runs only its own script), so it works opened as a ``file://`` page.
Every string from the inputs is escaped. This module imports no framework and no third-party
package.

It reads only ``Matrix.to_dict()`` and ``tools_report(...).to_dict()``, through a few
helpers (``_cell_parts``, ``_flops_parts``, ``_tool_parts``, ``_segment``): the compute part
of a matrix cell is read defensively, and a key the page does not know is still shown in
the cell's details, under its own name.

Example:
    >>> page = html(matrix.to_dict(), None)
    >>> Path("reports/index.html").write_text(page, encoding="utf-8")
"""
from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from html import escape
from typing import Any

from .html_assets import CSS, JS

__all__ = ["html"]

LEGEND = ("Each cell is what the target read: trainable parameters (then state, running statistics, where "
          "there is any), and under it the FLOPs its compute counter measured for one forward pass. "
          "✓ equals the framework's formula in the spec; † follows a recorded framework or counter convention; "
          "✗ disagrees; n/a: the framework lacks the layer or option, or the counter cannot measure it. "
          "Click a cell for the formula, expected vs got, and why.")

TOOLS_LEGEND = ("Each cell is what the tool reported for the case: its parameter count, its compute figure (the "
                "forward pass) and, where it gives one, its training figure (a training step, or its backward). "
                "✓ right; † right by a recorded convention of the tool; ✗ wrong (the finding says how: silent "
                "zero, double counted, missing, other); n/a: the tool gives no such figure. Click a cell for the "
                "expected value, its formula, the difference and the tool's warnings.")

# The segments of a tool's bar: (key, mark, what it counts).
SEGMENTS = (("ok", "✓", "right"), ("conv", "†", "right by a recorded convention"), ("bad", "✗", "wrong"),
            ("err", "error", "the tool failed"), ("na", "n/a", "no such figure, or not run"))

# The compute part of a matrix cell (its "flops" entry): (label in the details, the keys it may be
# under, how to show it). A key named nowhere here is shown too, under its own name.
FLOPS_FIELDS = (("verdict", ("verdict",), "text"), ("counter", ("counter",), "text"),
                ("measured", ("measured", "total"), "num"), ("matmul part", ("matmul",), "num"),
                ("compares", ("compares",), "text"), ("compared", ("compared",), "num"),
                ("expected", ("expected",), "num"), ("MACs", ("macs",), "num"),
                ("why", ("why", "convention"), "text"), ("n/a because", ("not_applicable", "na_reason"), "text"),
                ("error", ("error",), "text"))
FLOPS_MARK, FLOPS_BY_OP, FLOPS_PROBLEMS = ("mark",), ("by_op", "per_op"), ("problems",)


# ---------------------------------------------------------------------------- small helpers
def _e(x: Any) -> str:
    """Any input value as escaped text (attribute-safe)."""
    return "" if x is None else escape(str(x), quote=True)


def _d(x: Any) -> dict:
    return x if isinstance(x, dict) else {}


def _l(x: Any) -> list:
    return x if isinstance(x, list) else []


def _fmt(x: Any) -> str:
    """A count with thousands separators; anything else as text (not escaped)."""
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        return f"{x:,.0f}" if x.is_integer() else f"{x:,}"
    if isinstance(x, (dict, list)):
        return json.dumps(x, ensure_ascii=False, default=str)
    return str(x)


def _num(x: Any, none: str = "—") -> str:
    """A count with thousands separators (escaped text); anything else as text."""
    return none if x is None else _e(_fmt(x))


def _plain(x: Any, signed: bool = False) -> str:
    """A number as plain text (for a tooltip or a details node, escaped later or never parsed)."""
    if isinstance(x, int) and not isinstance(x, bool):
        return f"{x:+,}" if signed else f"{x:,}"
    return "—" if x is None else _fmt(x)


def _cls(mark: Any) -> str:
    """The colour class of a mark: ok (✓), conv (†), bad (✗), na (n/a, or none)."""
    s = "" if mark is None else str(mark)
    if "✗" in s:
        return "m-bad"
    if "†" in s:
        return "m-conv"
    if "✓" in s or s == "=":
        return "m-ok"
    return "m-na"


def _worst(*classes: str) -> str:
    for c in ("m-bad", "m-conv", "m-ok"):
        if c in classes:
            return c
    return "m-na"


def _qmark(q: dict) -> str:
    """A quantity's mark, as :attr:`paramspec.record.Quantity.mark` gives it."""
    got, exp = q.get("got"), q.get("expected")
    if got is None or exp is None:
        return ""
    if got != exp:
        return "✗"
    if q.get("independent") is False:
        return "="
    can = q.get("canonical")
    return "†" if can is not None and can != exp else "✓"


def _pick(d: dict, keys: tuple[str, ...]) -> Any:
    """The first of ``keys`` that ``d`` holds (not None)."""
    return next((d[k] for k in keys if d.get(k) is not None), None)


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _options(select_id: str, label: str, values: list[str], all_label: str) -> str:
    opts = [f'<option value="">{_e(all_label)}</option>'] + [f'<option value="{_e(v)}">{_e(v)}</option>'
                                                             for v in values]
    return f'<label for="{select_id}">{_e(label)}<select id="{select_id}">{"".join(opts)}</select></label>'


def _unique(values) -> list[str]:
    out: list[str] = []
    for v in values:
        if v not in (None, "") and str(v) not in out:
            out.append(str(v))
    return out


def _counts(s: Any) -> str:
    s = _d(s)
    if not s:
        return "—"
    return f"{_num(s.get('pass', 0))} pass, {_num(s.get('fail', 0))} fail, {_num(s.get('n/a', 0))} n/a"


# ---------------------------------------------------------------------------- the details' nodes
Node = list  # ["tag", child, ...] or ["tag class", child, ...]; a child is text (str) or a Node


def _n(tag: str, *kids: Any) -> Node:
    """A node; empty children (None, "") are left out, any other non-node becomes text."""
    return [tag] + [k if isinstance(k, (list, str)) else _fmt(k) for k in kids if k is not None and k != ""]


def _ndl(items: list[tuple[str, Any]]) -> Node | None:
    """A definition list of the items whose value is not empty (a value is text or a node)."""
    kids: list = []
    for label, value in items:
        if value is not None and value != "":
            kids += [_n("dt", label), _n("dd", value)]
    return _n("dl", *kids) if kids else None


def _nul(lines: list) -> Node | None:
    return _n("ul", *(_n("li", _fmt(x)) for x in lines)) if lines else None


def _ncode(x: Any) -> Node | None:
    return None if x in (None, "") else _n("code", _fmt(x))


def _nnum(x: Any) -> str:
    return "" if x is None else _plain(x)


def _nbadge(mark: Any) -> Node:
    return _n(f"span badge {_cls(mark)}", "" if mark is None else str(mark))


def _ntable(title: str, headers: list[str], rows: list[Node]) -> Node | None:
    """A heading and a table of ``tr`` nodes; nothing when there are none."""
    if not rows:
        return None
    return _n("div", _n("h4", title), _n("table", _n("thead", _n("tr", *(_n("th", h) for h in headers))),
                                         _n("tbody", *rows)))


def _nvalue(label: str, value: Any) -> list[Node | None]:
    """Any value under a label: a scalar in a definition list, a list as a list, a dict as a table."""
    if isinstance(value, dict):
        return [_ntable(label, ["", ""], [_n("tr", _n("td", _ncode(k)), _n("td n", _plain(v)))
                                         for k, v in value.items()])] if value else []
    if isinstance(value, list):
        return [_n("h4", label), _nul(value)] if value else []
    return [_ndl([(label, _plain(value))])] if value not in (None, "") else []


class _Store:
    """The page's data block: a root node per cell (its index is the cell's ``data-d``), then
    every other node once (a node's children become the indices of theirs, and a node equal to
    one stored before gets that one's index), then each text of at least :attr:`SHARED`
    characters that more than one node holds, as a ``["", text]`` node those nodes point to."""

    SHARED = 20

    def __init__(self) -> None:
        self.roots: list[Node] = []

    def cell(self, verdict: Any, mark: Any, tip: list[list[str]], details: list[Node | None]) -> int:
        """A cell's root node, ``["cell", head, tip, body]``, and its index. The script builds
        the heading (column · case · verdict mark) and the tooltip's first line from the cell's
        column and row and from ``head``, then the tooltip's other lines from ``tip`` (a line a
        node), and the details from ``body``."""
        verdict = "" if verdict is None else _fmt(verdict)
        mark = "" if mark is None else _fmt(mark)
        self.roots.append(_n("cell", ["head", verdict, mark, _cls(mark) if mark else ""],
                             _n("tip", *(_n("span", *line) for line in tip)), _n("div", *details)))
        return len(self.roots) - 1

    def nodes(self) -> list[list]:
        index: dict[str, int] = {}
        nodes: list[list] = []

        def intern(node: Node) -> int:
            flat = [node[0]] + [intern(k) if isinstance(k, list) else k for k in node[1:]]
            key = json.dumps(flat, ensure_ascii=False, separators=(",", ":"))
            if key not in index:
                index[key] = len(nodes)
                nodes.append(flat)
            return index[key]

        roots = [[r[0]] + [intern(k) if isinstance(k, list) else k for k in r[1:]] for r in self.roots]
        seen = Counter(k for n in roots + nodes for k in n[1:] if isinstance(k, str) and len(k) >= self.SHARED)
        shared = {text: i for i, text in enumerate(t for t, c in seen.items() if c > 1)}
        first, texts = len(roots), len(roots) + len(nodes)

        def ref(k: int | str) -> int | str:
            if isinstance(k, int):
                return first + k
            return texts + shared[k] if k in shared else k

        return [[n[0]] + [ref(k) for k in n[1:]] for n in roots + nodes] + [["", t] for t in shared]

    def block(self) -> str:
        """The data block's text: JSON where ``<``, ``>`` and ``&`` are escapes, so no input can
        close the block or open markup."""
        text = json.dumps(self.nodes(), ensure_ascii=False, separators=(",", ":"))
        return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


# ---------------------------------------------------------------------------- reading the inputs
def _cell_parts(cell: dict) -> dict[str, Any]:
    """What the page reads of a matrix cell (``Cell.to_dict()``), with defaults."""
    quantities = _d(cell.get("quantities"))
    return {"verdict": cell.get("verdict"), "mark": cell.get("mark"), "params": cell.get("params"),
            "state": cell.get("state"), "convention": cell.get("convention"), "reason": cell.get("reason"),
            "problems": [_fmt(p) for p in _l(cell.get("problems"))], "quantities": quantities,
            "pq": _d(quantities.get("params")), "tensors": _l(cell.get("tensors")),
            "flops": _flops_parts(cell.get("flops")),
            "training": cell.get("training") if isinstance(cell.get("training"), dict) else None}


def _flops_parts(f: Any) -> dict[str, Any] | None:
    """What the page reads of a matrix cell's compute part (its ``flops`` entry), or None.

    Every key is read through :data:`FLOPS_FIELDS` (and the mark, per-op and problems keys);
    whatever else the entry holds is kept in ``other`` and shown under its own name."""
    if not isinstance(f, dict):
        return None
    fields = [(label, _pick(f, keys), how) for label, keys, how in FLOPS_FIELDS]
    known = {k for _, keys, _ in FLOPS_FIELDS for k in keys} | set(FLOPS_MARK + FLOPS_BY_OP + FLOPS_PROBLEMS)
    value = {keys[0]: v for (_, keys, _), (_, v, _) in zip(FLOPS_FIELDS, fields)}
    return {**value, "mark": _pick(f, FLOPS_MARK), "fields": fields,
            "by_op": _d(_pick(f, FLOPS_BY_OP)), "problems": [_fmt(p) for p in _l(_pick(f, FLOPS_PROBLEMS))],
            "other": [(str(k), v) for k, v in f.items() if k not in known]}


def _tool_parts(tool: dict) -> dict[str, Any]:
    """What the page reads of a tool (an entry of the tools report's ``tools``)."""
    name = str(tool.get("tool"))
    claim = _d(tool.get("claim"))
    training = tool.get("training_unit")
    return {"name": name, "version": tool.get("version"), "framework": tool.get("framework"),
            "unit": str(tool.get("compute_unit") or "compute"), "claim": claim,
            "training": (f"training {training}" if training else "training") if training or "training" in claim
            else None, "absent": _d(tool.get("absent")), "line": tool.get("line") or name}


def _tool_readings(cell: dict) -> dict[str, Any]:
    """What the page reads of a tool's cell: the readings (params, compute, training: each a
    dict, or None), the verdict, the reason, the warnings, the notes and the error."""
    return {"params": cell.get("params") if isinstance(cell.get("params"), dict) else None,
            "compute": cell.get("compute") if isinstance(cell.get("compute"), dict) else None,
            "training": cell.get("training") if isinstance(cell.get("training"), dict) else None,
            "verdict": cell.get("verdict"), "reason": cell.get("reason"), "error": cell.get("error"),
            "warnings": [_fmt(w) for w in _l(cell.get("warnings"))], "notes": [_fmt(n) for n in _l(cell.get("notes"))]}


def _reading_mark(q: dict) -> str:
    return q.get("mark") or ("n/a" if q.get("got") is None else "")


def _segment(cell: Any, quantity: str) -> str:
    """Which segment of the tool's bar a cell's reading falls in (a key of :data:`SEGMENTS`)."""
    if not isinstance(cell, dict):
        return "na"  # not run on this case
    r = _tool_readings(cell)
    q = r[quantity]
    if q is None:
        return "err" if r["error"] else "na"
    return _cls(_reading_mark(q))[2:]


def _tool_tally(tools: dict) -> dict[str, dict[str, dict[str, int]]]:
    """Per tool, per reading (``params``, ``compute``, ``training``), how many cases fall in
    each segment."""
    out = {}
    for t in _l(tools.get("tools")):
        if not isinstance(t, dict):
            continue
        name = _tool_parts(t)["name"]
        tally = {q: {key: 0 for key, _, _ in SEGMENTS} for q in ("params", "compute", "training")}
        for row in _l(tools.get("rows")):
            cell = _d(_d(row).get("cells")).get(name)
            for q, counts in tally.items():
                counts[_segment(cell, q)] += 1
        out[name] = tally
    return out


# ---------------------------------------------------------------------------- the summary
def _bar(tool: str, label: str, counts: dict[str, int], total: int) -> str:
    """A stacked bar of one reading's segments, on the scale of ``total`` cases (inline SVG)."""
    rects, x = [], 0.0
    for key, mark, what in SEGMENTS:
        n = counts.get(key, 0)
        if not n:
            continue
        w = 100.0 * n / total
        title = f"{tool} · {label}: {n} of {total} cases {mark} ({what})"
        rects.append(f'<rect class="s-{key}" data-seg="{key}" data-count="{n}" x="{x:.4f}%" y="0" '
                     f'width="{w:.4f}%" height="100%"><title>{_e(title)}</title></rect>')
        x += w
    aria = f"{tool} · {label}: " + ", ".join(f"{counts.get(k, 0)} {m}" for k, m, _ in SEGMENTS)
    return f'<svg class="bar" role="img" aria-label="{_e(aria)}" data-total="{total}">{"".join(rects)}</svg>'


def _chart(tools: dict) -> str:
    tool_list = [_tool_parts(t) for t in _l(tools.get("tools")) if isinstance(t, dict)]
    if not tool_list:
        return '<p class="empty">No tool was audited.</p>'
    total = len(_l(tools.get("rows")))
    tally = _tool_tally(tools)
    key = "".join(f'<span class="sw s-{k}"></span>{_e(m)} {_e(what)}' for k, m, what in SEGMENTS)
    out = [f'<p class="key">Each bar: the {total} cases of the tools report, read by the tool:{key}</p>',
           '<table class="chart" id="tool-chart">']
    for t in tool_list:
        out.append(f'<tbody data-tool="{_e(t["name"])}"><tr><th class="tool" colspan="3" scope="rowgroup">'
                   f'{_e(t["line"])}</th></tr>')
        for q, label in (("params", "params"), ("compute", t["unit"]), ("training", t["training"])):
            if label is None:  # the tool claims no training figure
                continue
            counts = tally[t["name"]][q]
            text = " · ".join(f"{counts[k]} {m}" for k, m, _ in SEGMENTS if counts[k]) or "—"
            bar = _bar(t["name"], label, counts, total) if total else ""
            out.append(f'<tr data-quantity="{q}"><td class="q">{_e(label)}</td><td class="bar">{bar}</td>'
                       f'<td class="counts">{_e(text)}</td></tr>')
        out.append("</tbody>")
    out.append("</table>")
    return "".join(out)


def _summary(matrix: dict | None, tools: dict | None) -> str:
    out = ['<section id="summary"><h2>Summary</h2>']
    if matrix is not None:
        targets = [str(t) for t in _l(matrix.get("targets"))]
        headers, summary = _d(matrix.get("headers")), _d(matrix.get("summary"))
        flops = matrix.get("flops_summary")
        flops = flops if isinstance(flops, dict) else None
        training = matrix.get("training_summary")
        training = training if isinstance(training, dict) else None
        out.append('<table class="summary"><thead><tr><th>target</th><th>version</th><th>parameters</th>'
                   + ("<th>FLOPs</th>" if flops is not None else "")
                   + ("<th>training step</th>" if training is not None else "") + "<th>run</th></tr></thead><tbody>")
        for t in targets:
            h = _d(headers.get(t))
            out.append(f'<tr data-target="{_e(t)}"><td>{_e(t)}</td><td>{_e(_d(h.get("source")).get("version"))}</td>'
                       f'<td class="num">{_counts(summary.get(t))}</td>'
                       + (f'<td class="num">{_counts(flops.get(t))}</td>' if flops is not None else "")
                       + (f'<td class="num">{_counts(training.get(t))}</td>' if training is not None else "")
                       + f'<td>{_e(h.get("created"))}</td></tr>')
        out.append("</tbody></table>")
        specs = _unique(_d(headers.get(t)).get("spec") for t in targets)
        versions = _unique(_d(headers.get(t)).get("paramspec") for t in targets)
        if specs or versions:
            out.append(f'<p class="sub">paramspec {_e(", ".join(versions))}; spec digest {_e(", ".join(specs))}</p>')
    if tools is not None:
        out.append(_chart(tools))
    out.append("</section>")
    return "\n".join(out)


# ---------------------------------------------------------------------------- the matrix
def _canonical(row: dict) -> str:
    can = _d(row.get("canonical"))
    if not can:
        text = "?"
    else:
        text = _num(can.get("params"), "?")
        if can.get("state"):
            text += f'<span class="line sub">+ {_num(can.get("state"))} state</span>'
    if row.get("macs") is not None:
        text += f'<span class="line sub">MACs {_num(row.get("macs"))}</span>'
    return text


def _flops_text(f: dict) -> tuple[str, str]:
    """The FLOPs line of a cell (escaped HTML) and its mark."""
    verdict, mark = f.get("verdict"), f.get("mark")
    if verdict == "n/a":
        return "n/a", "n/a"
    if f.get("compared") is None:
        return f"<b>{_e(mark or '✗')}</b>", mark or "✗"
    unseen = " (unseen)" if f.get("compared") == 0 and f.get("macs") and "†" in str(mark) else ""
    return f"{_num(f.get('compared'))}{unseen} <b>{_e(mark)}</b>", str(mark)


def _flops_tip(f: dict) -> list[list[str]]:
    line = f"FLOPs {f.get('mark') or ''}: measured {_plain(f.get('measured'))}, expected {_plain(f.get('expected'))}"
    tip = [[line]]
    if f.get("why"):
        tip.append(["counter: ", _fmt(f.get("why"))])
    return tip + [["FLOPs problem: ", p] for p in f["problems"]]


def _flops_details(f: dict) -> list[Node | None]:
    items = [(label, _nnum(v) if how == "num" else ("" if v is None else _fmt(v))) for label, v, how in f["fields"]]
    out: list[Node | None] = [_n("h4", "FLOPs ", _nbadge(f.get("mark"))), _ndl(items)]
    if f["problems"]:
        out += [_n("h4", "Problems"), _nul(f["problems"])]
    if f["by_op"]:
        out += [_n("h4", "By op"), _n("table", _n("tbody", *(_n("tr", _n("td", _ncode(k)), _n("td n", _plain(v)))
                                                           for k, v in f["by_op"].items())))]
    for label, value in f["other"]:
        out += _nvalue(label, value)
    return out


def _training_text(t: dict) -> tuple[str, str]:
    """A cell's training line (escaped HTML): the backward's measured matmul part and its mark."""
    verdict, mark = t.get("verdict"), t.get("mark")
    if verdict == "n/a":
        return "n/a", "n/a"
    if t.get("measured_backward") is None:
        return f"<b>{_e(mark or '✗')}</b>", mark or "✗"
    return f"{_num(t.get('measured_backward'))} <b>{_e(mark)}</b>", str(mark)


def _training_details(t: dict) -> list[Node | None]:
    """The training step's details: the counter, the backward's figures, the quantities (memory
    too), the memory by part, the problems."""
    items = [("counter", _fmt(t.get("counter"))), ("backward MACs (canonical)", _nnum(t.get("backward_macs"))),
             ("step FLOPs (canonical)", _nnum(t.get("step_flops"))),
             ("step FLOPs (measured)", _nnum(t.get("measured_step"))),
             ("why", "" if t.get("why") is None else _fmt(t.get("why"))),
             ("n/a because", "" if t.get("not_applicable") is None else _fmt(t.get("not_applicable"))),
             ("error", "" if t.get("error") is None else _fmt(t.get("error")))]
    out: list[Node | None] = [_n("h4", "Training step ", _nbadge(t.get("mark"))), _ndl(items)]
    problems = [_fmt(p) for p in _l(t.get("problems"))]
    if problems:
        out += [_n("h4", "Training problems"), _nul(problems)]
    out.append(_quantities_table(_d(t.get("quantities"))))
    memory = _d(t.get("memory"))
    if memory:
        out.append(_ntable("Memory (bytes)", ["part", "bytes"],
                           [_n("tr", _n("td", _fmt(k)), _n("td n", _plain(v))) for k, v in memory.items()]))
    return out


def _quantities_table(quantities: dict) -> Node | None:
    rows = []
    for name, q in quantities.items():
        q = _d(q)
        mark = _qmark(q)
        rows.append(_n("tr", _n("td", _fmt(name)), _n("td n", _plain(q.get("got"))),
                       _n("td n", _plain(q.get("expected"))), _n("td n", _plain(q.get("canonical"))),
                       _n(f"td mk {_cls(mark)}", mark), _n("td f", _ncode(q.get("formula")))))
    return _ntable("Quantities", ["quantity", "got", "expected", "canonical", "", "formula"], rows)


def _tensors_table(tensors: list) -> Node | None:
    rows = []
    for t in tensors:
        t = _d(t)
        shape = t.get("shape")
        shape = "(" + ", ".join(_fmt(s) for s in shape) + ")" if isinstance(shape, list) else _fmt(shape)
        kind = "" if t.get("trainable") is None else ("param" if t.get("trainable") else "state")
        shared = ", ".join(_fmt(s) for s in _l(t.get("shared_with")))
        rows.append(_n("tr", _n("td", _ncode(t.get("name"))), _n("td", _n("code", shape)),
                       _n("td", "" if t.get("dtype") is None else _fmt(t.get("dtype"))),
                       _n("td n", _plain(t.get("numel"))), _n("td", kind), _n("td", "= " + shared if shared else "")))
    return _ntable("Tensors", ["name", "shape", "dtype", "count", "", "tied"], rows)


def _matrix_cell(store: _Store, target: str, case: str, cell: Any) -> str:
    t = _e(target)
    if not isinstance(cell, dict):
        return f'<td class="cell m-na" data-target="{t}" title="{_e(target)}: not run">not run</td>'
    c = _cell_parts(cell)
    verdict, mark, pq, flops = c["verdict"], c["mark"], c["pq"], c["flops"]
    cls = _cls(mark)

    # what the cell shows
    if verdict == "n/a" or mark == "n/a":
        shown = "<b>n/a</b>"
    else:
        shown = f'{_num(c["params"], "?")} <b>{_e(mark)}</b>'
        if c["state"]:
            shown += f'<span class="line sub">+ {_num(c["state"])} state</span>'
    if flops is not None:
        ftext, fmark = _flops_text(flops)
        shown += f'<span class="line fl {_cls(fmark)}"><span class="q">FLOPs</span>{ftext}</span>'
    training = c["training"]
    if training is not None:
        ttext, tmark = _training_text(training)
        shown += f'<span class="line fl {_cls(tmark)}"><span class="q">step</span>{ttext}</span>'

    # the tooltip's lines after the first (the script adds "target · case: verdict mark")
    tip: list[list[str]] = []
    if pq:
        tip.append([f"params: got {_plain(pq.get('got'))}, expected {_plain(pq.get('expected'))}"
                    + (f" (canonical {_plain(pq.get('canonical'))})" if pq.get("canonical") not in (None, pq.get(
                        "expected")) else "")])
        if pq.get("formula"):
            tip.append(["formula: ", _fmt(pq.get("formula"))])
    if c["convention"]:
        tip.append(["why: ", _fmt(c["convention"])])
    reason = str(c["reason"] or "").strip()
    if reason:
        tip.append(["n/a: " if verdict == "n/a" else "reason: ", reason.splitlines()[-1]])
    tip += [["problem: ", p] for p in c["problems"]]
    if flops is not None:
        tip += _flops_tip(flops)
    if training is not None:
        tip += [[f"training step {training.get('mark') or ''}: backward measured "
                 f"{_plain(training.get('measured_backward'))}, expected {_plain(training.get('expected_backward'))}"]]
        tip += [["training problem: ", _fmt(p)] for p in _l(training.get("problems"))]

    # the details after the heading (the script adds "target · case · verdict mark")
    r = c["reason"]
    details = [_ndl([("formula", _ncode(pq.get("formula"))),
                     ("expected", _nnum(pq.get("expected"))), ("got", _nnum(pq.get("got"))),
                     ("canonical", _nnum(pq.get("canonical")) if pq.get("canonical") != pq.get("expected") else ""),
                     ("state", _nnum(c["state"]) if c["state"] else ""),
                     ("why", "" if c["convention"] is None else _fmt(c["convention"])),
                     ("n/a because" if verdict == "n/a" else "reason",
                      _n("pre", _fmt(r)) if r and "\n" in str(r) else ("" if r is None else _fmt(r)))])]
    if c["problems"]:
        details += [_n("h4", "Problems"), _nul(c["problems"])]
    details += [_quantities_table(c["quantities"]), _tensors_table(c["tensors"])]
    if flops is not None:
        details += _flops_details(flops)
    if training is not None:
        details += _training_details(training)
    i = store.cell(verdict, mark, tip, details)
    return (f'<td class="cell {cls}" data-target="{t}" data-mark="{_e(mark)}" data-d="{i}">'
            f"<button type=button>{shown}</button></td>")


def _matrix(store: _Store, matrix: dict) -> str:
    targets = [str(t) for t in _l(matrix.get("targets"))]
    headers = _d(matrix.get("headers"))
    head = ['<th class="case" scope="col">case</th><th scope="col">formula</th>']
    for t in targets:
        version = _d(_d(headers.get(t)).get("source")).get("version")
        head.append(f'<th scope="col" data-target="{_e(t)}">{_e(t)}<br><small>{_e(version)}</small></th>')
    body = []
    for row in _l(matrix.get("rows")):
        row = _d(row)
        case = str(row.get("case") or _d(row.get("config")).get("path") or "?")
        cells = _d(row.get("cells"))
        config = json.dumps(row.get("config"), ensure_ascii=False, default=str)
        body.append(f'<tr data-kind="{_e(row.get("kind"))}" data-case="{_e(case)}">'
                    f'<th class="case" scope="row" title="{_e(config)}"><code>{_e(case)}</code></th>'
                    f'<td class="canon">{_canonical(row)}</td>'
                    + "".join(_matrix_cell(store, t, case, cells.get(t)) for t in targets) + "</tr>")
    if not body:
        body.append(f'<tr data-kind="" data-case=""><td colspan="{len(targets) + 2}" class="empty">no cases</td></tr>')
    return ('<section id="matrix-section"><h2>Agreement matrix</h2>'
            f'<p class="legend">{_e(LEGEND)}</p><div class="scroll" id="matrix-scroll" tabindex="0">'
            f'<table id="matrix"><thead><tr>{"".join(head)}</tr></thead><tbody>\n' + "\n".join(body)
            + "\n</tbody></table></div></section>")


# ---------------------------------------------------------------------------- the tools
def _tool_line(label: str, q: dict | None) -> tuple[str, str]:
    """One reading's line in a tool cell (escaped HTML) and its colour class."""
    if q is None:
        return f'<span class="line m-na"><span class="q">{_e(label)}</span><b>n/a</b></span>', "m-na"
    mark = _reading_mark(q)
    cls = _cls(mark)
    fig = _num(q.get("got"), "") if mark != "n/a" else ""
    finding = f' <span class="sub">{_e(q.get("finding"))}</span>' if q.get("finding") else ""
    return f'<span class="line {cls}"><span class="q">{_e(label)}</span>{fig} <b>{_e(mark)}</b>{finding}</span>', cls


def _tool_quantity(label: str, q: dict | None) -> list[Node | None]:
    if q is None:
        return [_n("h4", label), _n("p empty", "the tool gives no such figure")]
    diff = q.get("difference")
    return [_n("h4", f"{label} ", _nbadge(q.get("mark"))),
            _ndl([("finding", "" if q.get("finding") is None else _fmt(q.get("finding"))),
                  ("got", _nnum(q.get("got"))), ("expected", _nnum(q.get("expected"))),
                  ("formula", _ncode(q.get("formula"))),
                  ("difference", _plain(diff, signed=True) if diff not in (None, 0) else ""),
                  ("why", "" if q.get("why") is None else _fmt(q.get("why")))])]


def _tool_cell(store: _Store, tool: dict, case: str, cell: Any) -> str:
    name, unit = tool["name"], tool["unit"]
    if not isinstance(cell, dict):
        return f'<td class="cell m-na" data-tool="{_e(name)}" title="{_e(name)}: not run">not run</td>'
    r = _tool_readings(cell)
    readings = [("params", r["params"]), (unit, r["compute"])]
    if tool["training"] is not None or r["training"] is not None:
        readings.append((tool["training"] or "training", r["training"]))
    lines = [_tool_line(label, q) for label, q in readings]
    error, warnings = r["error"], r["warnings"]
    cls = "m-bad" if error else _worst(*(c for _, c in lines))
    shown = "".join(line for line, _ in lines) + ('<span class="line sub">error</span>' if error else "")

    # the tooltip's lines after the first (the script adds "tool · case: verdict")
    tip: list[list[str]] = []
    for label, q in readings:
        if q is not None:
            tip.append([f"{label}: {q.get('mark') or ''} got {_plain(q.get('got'))}, expected "
                        f"{_plain(q.get('expected'))}" + (f" ({q.get('formula')})" if q.get("formula") else "")
                        + (f"; {q.get('finding')}" if q.get("finding") else "")
                        + (f", difference {_plain(q.get('difference'), signed=True)}" if q.get("difference") else "")])
            if q.get("why"):
                tip.append(["  why: ", _fmt(q.get("why"))])
        else:
            tip.append([f"{label}: the tool gives no such figure"])
    tip += [["warning: ", w] for w in warnings]
    if error:
        tip.append(["error: ", _fmt(error)])
    elif r["reason"]:
        tip.append(["n/a: " if r["verdict"] == "n/a" else "", _fmt(r["reason"])])

    # the details after the heading (the script adds "tool · case · verdict")
    claim = tool["claim"]
    details = [_ndl([(k, "" if v is None else _fmt(v)) for k, v in (
        ("version", tool["version"]), ("claims params", claim.get("params")),
        ("claims compute", claim.get("compute")), ("claims training", claim.get("training")),
        ("no training figure", tool["absent"].get("training")))])]
    for label, q in readings:
        details += _tool_quantity(label, q)
    if r["reason"] and not error:
        details.append(_ndl([("n/a because" if r["verdict"] == "n/a" else "reason", _fmt(r["reason"]))]))
    if warnings:
        details += [_n("h4", "Warnings"), _nul(warnings)]
    if error:
        details += [_n("h4", "Error"), _n("pre", _fmt(error))]
    if r["notes"]:
        details += [_n("h4", "Notes"), _nul(r["notes"])]
    i = store.cell(r["verdict"], None, tip, details)
    return f'<td class="cell {cls}" data-tool="{_e(name)}" data-d="{i}"><button type=button>{shown}</button></td>'


def _tools(store: _Store, tools: dict) -> str:
    tool_list = [_tool_parts(t) for t in _l(tools.get("tools")) if isinstance(t, dict)]
    head = ['<th class="case" scope="col">case</th><th scope="col">expected</th>']
    for t in tool_list:
        sub = " · ".join(_e(x) for x in (t["framework"], t["unit"] if t["unit"] != "compute" else None) if x)
        head.append(f'<th scope="col" data-tool="{_e(t["name"])}">{_e(t["name"])}<br><small>{sub}</small></th>')
    body = []
    for row in _l(tools.get("rows")):
        row = _d(row)
        case = str(row.get("case") or "?")
        can = _d(row.get("canonical"))
        cells = _d(row.get("cells"))
        expected = _num(can.get("params"), "?")
        if can.get("state"):
            expected += f'<span class="line sub">+ {_num(can.get("state"))} state</span>'
        if can.get("macs") is not None:
            expected += f'<span class="line sub">MACs {_num(can.get("macs"))}</span>'
        if can.get("step_macs") is not None:
            expected += f'<span class="line sub">step MACs {_num(can.get("step_macs"))}</span>'
        config = json.dumps(row.get("config"), ensure_ascii=False, default=str)
        body.append(f'<tr data-kind="{_e(row.get("kind"))}" data-case="{_e(case)}">'
                    f'<th class="case" scope="row" title="{_e(config)}"><code>{_e(case)}</code></th>'
                    f'<td class="canon">{expected}</td>'
                    + "".join(_tool_cell(store, t, case, cells.get(t["name"])) for t in tool_list) + "</tr>")
    if not body:
        body.append(f'<tr data-kind="" data-case=""><td colspan="{len(tool_list) + 2}" class="empty">no cases</td>'
                    "</tr>")
    return ('<section id="tools-section"><h2>Counting tools</h2>'
            f'<p class="legend">{_e(TOOLS_LEGEND)}</p><div class="scroll" id="tools-scroll" tabindex="0">'
            f'<table id="tools"><thead><tr>{"".join(head)}</tr></thead><tbody>\n' + "\n".join(body)
            + "\n</tbody></table></div></section>")


def _findings(tools: dict) -> str:
    kinds = {str(_d(r).get("case")): _d(r).get("kind") for r in _l(tools.get("rows"))}
    items = []
    for f in _l(tools.get("findings")):
        f = _d(f)
        case = str(f.get("case") or "")
        diff = f" (difference {_plain(f.get('difference'), signed=True)})" if f.get("difference") not in (None, 0) else ""
        items.append(
            f'<li class="m-bad" data-tool="{_e(f.get("tool"))}" data-kind="{_e(kinds.get(case, ""))}" '
            f'data-case="{_e(case)}"><b>{_e(f.get("tool"))}</b> '
            f'<span class="badge m-bad">{_e(f.get("finding"))}</span> {_e(f.get("quantity"))} of '
            f'<code>{_e(case)}</code>: got <span class="num">{_num(f.get("got"))}</span>, expected '
            f'<span class="num">{_num(f.get("expected"))}</span>{_e(diff)}. {_e(f.get("explain"))}'
            + (f'<br>reproduce: <code class="repro">{_e(f.get("reproduce"))}</code>' if f.get("reproduce") else "")
            + "</li>")
    body = "<ol>" + "\n".join(items) + "</ol>" if items else '<p class="empty">No finding.</p>'
    return f'<section id="findings"><h2>Tool findings</h2>{body}</section>'


# ---------------------------------------------------------------------------- the page
def _filters(matrix: dict | None, tools: dict | None) -> str:
    kinds = _unique([_d(r).get("kind") for r in _l((matrix or {}).get("rows"))]
                    + [_d(r).get("kind") for r in _l((tools or {}).get("rows"))])
    parts = [_options("filter-kind", "kind", kinds, "all kinds")]
    if matrix is not None:
        parts.append(_options("filter-framework", "target", _unique(_l(matrix.get("targets"))), "all targets"))
    if tools is not None:
        parts.append(_options("filter-tool", "tool", _unique(_d(t).get("tool") for t in _l(tools.get("tools"))),
                              "all tools"))
    parts.append('<label for="filter-text">case<input id="filter-text" type="search" placeholder="case id contains…"'
                 ' autocomplete="off"></label>')
    parts.append('<span id="shown" class="shown"></span>')
    return '<nav id="filters" aria-label="filters">' + "".join(parts) + "</nav>"


def html(matrix: dict | None, tools: dict | None) -> str:
    """The agreement matrix (``Matrix.to_dict()``) and the tools report as one static HTML page.

    Either may be None: the page holds what is given. Every string from the inputs is
    escaped; the page loads nothing from anywhere and works as a ``file://`` page.
    """
    matrix = matrix if isinstance(matrix, dict) else None
    tools = tools if isinstance(tools, dict) else None
    store = _Store()
    nothing = ('<section id="summary"><h2>Summary</h2><p class="empty">Nothing to show: no matrix and no tools '
               "report.</p></section>")
    sections = [_summary(matrix, tools) if (matrix is not None or tools is not None) else nothing]
    if matrix is not None:
        sections.append(_matrix(store, matrix))
    if tools is not None:
        sections += [_tools(store, tools), _findings(tools)]
    csp = (f"default-src 'none'; style-src {_sha256(CSS)}; script-src {_sha256(JS)}; img-src data:; "
           "base-uri 'none'; form-action 'none'")
    what = " and ".join(x for x, given in (("agreement matrix", matrix), ("tools report", tools)) if given is not None)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_e(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="paramspec">
<title>paramspec {_e(what or "report")}</title>
<link rel="icon" href="data:,">
<style>{CSS}</style>
</head>
<body>
<header class="page"><h1>paramspec {_e(what or "report")}</h1>
<p>Parameter and FLOP counts of neural-network layers, checked against the spec's formulas.</p></header>
{_filters(matrix, tools)}
<main>
{chr(10).join(sections)}
</main>
<div id="pop" role="dialog" aria-label="details" hidden><button type="button" class="close" aria-label="close">×</button>
<div id="pop-body"></div></div>
<script type="application/json" id="cell-data">{store.block()}</script>
<script>{JS}</script>
</body>
</html>
"""
