"""The agreement matrix and the tools report as one static, self-contained HTML page.

The page holds, top to bottom:

- filters: a kind (or model family), a target, a tool, and a case-id substring; they hide
  rows of both tables, other targets' columns of the matrix and other tools' columns;
- ``#summary``: per target, ``N pass, M fail, K n/a`` for the parameter counts and, when the
  matrix was measured, for the FLOPs; then each audited tool's one-line result;
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

The page is self-contained: its CSS and JavaScript are inline, it loads nothing (no fonts,
images, scripts or styles from anywhere; its Content-Security-Policy forbids any load and
runs only its own script), so it works opened as a ``file://`` page. Every string from the
inputs is escaped. This module imports no framework and no third-party package.

Example:
    >>> page = html(matrix.to_dict(), None)
    >>> Path("reports/index.html").write_text(page, encoding="utf-8")
"""
from __future__ import annotations

import base64
import hashlib
import json
from html import escape
from typing import Any

__all__ = ["html"]

LEGEND = ("Each cell is what the target read: trainable parameters (then state, running statistics, where "
          "there is any), and under it the FLOPs its compute counter measured for one forward pass. "
          "✓ equals the framework's formula in the spec; † follows a recorded framework or counter convention; "
          "✗ disagrees; n/a: the framework lacks the layer or option, or the counter cannot measure it. "
          "Click a cell for the formula, expected vs got, and why.")

TOOLS_LEGEND = ("Each cell is what the tool reported for the case: its parameter count and its compute figure. "
                "✓ right; † right by a recorded convention of the tool; ✗ wrong (the finding says how: silent "
                "zero, double counted, missing, other); n/a: the tool gives no such figure. Click a cell for the "
                "expected value, its formula, the difference and the tool's warnings.")

CSS = """
:root { --bar: 0px; --ok: #e3f4e6; --ok-fg: #11672c; --conv: #fff1cc; --conv-fg: #7a4d00;
  --bad: #fde4e4; --bad-fg: #a61b1b; --na: #ececec; --na-fg: #5f5f5f; --line: #d5d8dc; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  color: #1d1f22; background: #fafbfc; }
header.page { padding: 12px 16px 4px; }
header.page h1 { font-size: 20px; margin: 0 0 2px; }
header.page p { margin: 0; color: #555; }
main { padding: 0 16px 40px; }
h2 { font-size: 16px; margin: 22px 0 6px; }
code, .num, .v, .fig, td.canon, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas,
  "DejaVu Sans Mono", monospace; font-variant-numeric: tabular-nums; }
#filters { position: sticky; top: 0; z-index: 40; display: flex; flex-wrap: wrap; gap: 8px 16px;
  align-items: center; padding: 8px 16px; background: #f0f2f5; border-bottom: 1px solid var(--line); }
#filters label { display: flex; gap: 6px; align-items: center; font-size: 13px; color: #333; }
#filters select, #filters input { font: inherit; padding: 2px 4px; }
#filters .shown { color: #555; font-size: 12px; margin-left: auto; }
.legend { color: #444; font-size: 12.5px; max-width: 75em; margin: 4px 0 8px; }
table { border-collapse: separate; border-spacing: 0; background: #fff; }
th, td { border-right: 1px solid var(--line); border-bottom: 1px solid var(--line); padding: 3px 8px;
  vertical-align: top; }
tr > :first-child { border-left: 1px solid var(--line); }
thead th { position: sticky; top: var(--bar); z-index: 20; background: #e9ecef; text-align: left;
  border-top: 1px solid var(--line); white-space: nowrap; }
thead th small { font-weight: normal; color: #555; }
tbody th.case { position: sticky; left: 0; z-index: 10; background: #fff; text-align: left; font-weight: normal;
  white-space: nowrap; }
thead th.case { left: 0; z-index: 25; }
td.canon { text-align: right; white-space: nowrap; color: #333; }
td.cell { position: relative; text-align: right; white-space: nowrap; min-width: 9em; }
td.cell > details > summary { cursor: pointer; list-style: none; }
td.cell > details > summary::-webkit-details-marker { display: none; }
td.cell > details > summary::marker { content: ""; }
.line { display: block; }
.mk { display: inline-block; min-width: 1.8em; text-align: left; font-weight: 600; }
.q { color: #555; font-size: 11.5px; margin-right: 4px; }
.sub { color: #555; font-size: 11.5px; }
.m-ok { background: var(--ok); } .m-ok .mk, .mk.m-ok { color: var(--ok-fg); }
.m-conv { background: var(--conv); } .m-conv .mk, .mk.m-conv { color: var(--conv-fg); }
.m-bad { background: var(--bad); } .m-bad .mk, .mk.m-bad { color: var(--bad-fg); }
.m-na { background: var(--na); color: var(--na-fg); } .m-na .mk, .mk.m-na { color: var(--na-fg); }
.line.m-ok, .line.m-conv, .line.m-bad, .line.m-na { margin: 1px -4px; padding: 0 4px; border-radius: 3px; }
td.m-ok .line.m-ok, td.m-conv .line.m-conv, td.m-bad .line.m-bad, td.m-na .line.m-na { background: transparent; }
.line.fl { border-top: 1px dashed rgba(0,0,0,.15); margin-top: 2px; padding-top: 1px; font-size: 12px; }
.pop { display: none; }
details[open] > .pop { display: block; position: absolute; z-index: 50; top: 100%; left: 0; width: 42em;
  max-width: 90vw; max-height: 60vh; overflow: auto; text-align: left; white-space: normal; background: #fff;
  color: #1d1f22; border: 1px solid #9aa0a6; border-radius: 4px; box-shadow: 0 4px 14px rgba(0,0,0,.18);
  padding: 8px 10px; font-size: 12.5px; }
details[open] > .pop.flip { left: auto; right: 0; }
.pop h3 { font-size: 13px; margin: 0 0 6px; }
.pop h4 { font-size: 12.5px; margin: 8px 0 3px; }
.pop dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 0; }
.pop dt { color: #555; } .pop dd { margin: 0; overflow-wrap: anywhere; }
.pop table { font-size: 12px; margin-top: 2px; }
.pop th, .pop td { padding: 1px 6px; position: static; white-space: nowrap; background: none; }
.pop td.n { text-align: right; }
.pop td.f { white-space: normal; min-width: 12em; }
.pop ul { margin: 2px 0; padding-left: 18px; }
.pop pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 2px 0; font-size: 11.5px; }
.badge { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 11.5px; font-weight: 600; }
#summary table td, #summary table th { white-space: nowrap; }
#summary ul.tool-lines { margin: 6px 0; padding-left: 18px; }
#findings ol { padding-left: 22px; }
#findings li { margin: 4px 0; padding: 3px 6px; border-radius: 3px; }
#findings li.m-bad { background: #fff6f6; }
#findings code.repro { display: inline-block; background: #f1f3f4; padding: 0 4px; border-radius: 3px; }
.empty { color: #666; font-style: italic; }
"""

JS = """
(function () {
  "use strict";
  var byId = function (id) { return document.getElementById(id); };
  var kind = byId("filter-kind"), fw = byId("filter-framework"), tool = byId("filter-tool"),
      text = byId("filter-text"), shown = byId("shown");
  function setBar() {
    var bar = byId("filters");
    document.documentElement.style.setProperty("--bar", (bar ? bar.offsetHeight : 0) + "px");
  }
  function val(el) { return el ? el.value : ""; }
  function apply() {
    var k = val(kind), f = val(fw), t = val(tool), q = val(text).trim().toLowerCase();
    var total = 0, visible = 0;
    document.querySelectorAll("#matrix > tbody > tr, #tools > tbody > tr, #findings li").forEach(function (r) {
      var c = (r.getAttribute("data-case") || "").toLowerCase();
      var rt = r.getAttribute("data-tool");
      var ok = (!k || r.getAttribute("data-kind") === k) && (!q || c.indexOf(q) !== -1) &&
               (!t || rt === null || rt === t);
      r.style.display = ok ? "" : "none";
      if (r.parentNode && r.parentNode.parentNode && r.parentNode.parentNode.id === "matrix") {
        total += 1; if (ok) { visible += 1; }
      }
    });
    document.querySelectorAll("#matrix [data-target], #summary [data-target]").forEach(function (c) {
      c.style.display = (!f || c.getAttribute("data-target") === f) ? "" : "none";
    });
    document.querySelectorAll("#tools [data-tool], #summary [data-tool]").forEach(function (c) {
      c.style.display = (!t || c.getAttribute("data-tool") === t) ? "" : "none";
    });
    if (shown) {
      shown.textContent = byId("matrix") ? ("showing " + visible + " of " + total + " matrix rows") : "";
    }
  }
  [kind, fw, tool].forEach(function (el) { if (el) { el.addEventListener("change", apply); } });
  if (text) { text.addEventListener("input", apply); }
  document.querySelectorAll("td.cell > details").forEach(function (d) {
    d.addEventListener("toggle", function () {
      if (!d.open) { return; }
      document.querySelectorAll("td.cell > details[open]").forEach(function (o) { if (o !== d) { o.open = false; } });
      var pop = d.querySelector(".pop");
      if (pop) {
        pop.classList.remove("flip");
        if (pop.getBoundingClientRect().right > document.documentElement.clientWidth) { pop.classList.add("flip"); }
      }
    });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      document.querySelectorAll("td.cell > details[open]").forEach(function (o) { o.open = false; });
    }
  });
  window.addEventListener("resize", setBar);
  setBar();
  apply();
})();
"""


# ---------------------------------------------------------------------------- small helpers
def _e(x: Any) -> str:
    """Any input value as escaped text (attribute-safe)."""
    return "" if x is None else escape(str(x), quote=True)


def _d(x: Any) -> dict:
    return x if isinstance(x, dict) else {}


def _l(x: Any) -> list:
    return x if isinstance(x, list) else []


def _num(x: Any, none: str = "—") -> str:
    """A count with thousands separators (escaped text); anything else as text."""
    if x is None:
        return none
    if isinstance(x, bool):
        return _e(x)
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        return f"{x:,.0f}" if x.is_integer() else _e(f"{x:,}")
    return _e(x)


def _signed(x: Any) -> str:
    if isinstance(x, int) and not isinstance(x, bool):
        return f"{x:+,}"
    return _num(x)


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


def _dl(items: list[tuple[str, str]]) -> str:
    """A definition list; values are already-escaped HTML; empty values are left out."""
    rows = [f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in items if v not in (None, "")]
    return f"<dl>{''.join(rows)}</dl>" if rows else ""


def _ul(lines: list) -> str:
    return "<ul>" + "".join(f"<li>{_e(x)}</li>" for x in lines) + "</ul>" if lines else ""


def _code(x: Any) -> str:
    return f"<code>{_e(x)}</code>" if x not in (None, "") else ""


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


# ---------------------------------------------------------------------------- the summary
def _summary(matrix: dict | None, tools: dict | None) -> str:
    out = ['<section id="summary"><h2>Summary</h2>']
    if matrix is not None:
        targets = [str(t) for t in _l(matrix.get("targets"))]
        headers, summary = _d(matrix.get("headers")), _d(matrix.get("summary"))
        flops = matrix.get("flops_summary")
        flops = flops if isinstance(flops, dict) else None
        out.append('<table class="summary"><thead><tr><th>target</th><th>version</th><th>parameters</th>'
                   + ("<th>FLOPs</th>" if flops is not None else "") + "<th>run</th></tr></thead><tbody>")
        for t in targets:
            h = _d(headers.get(t))
            out.append(f'<tr data-target="{_e(t)}"><td>{_e(t)}</td><td>{_e(_d(h.get("source")).get("version"))}</td>'
                       f'<td class="num">{_counts(summary.get(t))}</td>'
                       + (f'<td class="num">{_counts(flops.get(t))}</td>' if flops is not None else "")
                       + f'<td>{_e(h.get("created"))}</td></tr>')
        out.append("</tbody></table>")
        specs = _unique(_d(headers.get(t)).get("spec") for t in targets)
        versions = _unique(_d(headers.get(t)).get("paramspec") for t in targets)
        if specs or versions:
            out.append(f'<p class="sub">paramspec {_e(", ".join(versions))}; spec digest {_e(", ".join(specs))}</p>')
    if tools is not None:
        lines = [t for t in _l(tools.get("tools")) if isinstance(t, dict)]
        out.append('<ul class="tool-lines">' + "".join(
            f'<li data-tool="{_e(t.get("tool"))}">{_e(t.get("line") or t.get("tool"))}</li>' for t in lines)
            + "</ul>" if lines else '<p class="empty">No tool was audited.</p>')
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
        return f'<span class="mk">{_e(mark or "✗")}</span>', mark or "✗"
    unseen = " (unseen)" if f.get("compared") == 0 and f.get("macs") and "†" in str(mark) else ""
    return f'{_num(f.get("compared"))}{unseen} <span class="mk">{_e(mark)}</span>', str(mark)


def _quantities_table(quantities: dict) -> str:
    rows = []
    for name, q in quantities.items():
        q = _d(q)
        rows.append(f'<tr><td>{_e(name)}</td><td class="n">{_num(q.get("got"))}</td>'
                    f'<td class="n">{_num(q.get("expected"))}</td><td class="n">{_num(q.get("canonical"))}</td>'
                    f'<td class="mk {_cls(_qmark(q))}">{_e(_qmark(q))}</td>'
                    f'<td class="f">{_code(q.get("formula"))}</td></tr>')
    return _titled_table("Quantities", ["quantity", "got", "expected", "canonical", "", "formula"], rows)


def _tensors_table(tensors: list) -> str:
    rows = []
    for t in tensors:
        t = _d(t)
        shape = t.get("shape")
        shape = "(" + ", ".join(_e(s) for s in shape) + ")" if isinstance(shape, list) else _e(shape)
        kind = "" if t.get("trainable") is None else ("param" if t.get("trainable") else "state")
        shared = ", ".join(str(s) for s in _l(t.get("shared_with")))
        rows.append(f'<tr><td>{_code(t.get("name"))}</td><td><code>{shape}</code></td><td>{_e(t.get("dtype"))}</td>'
                    f'<td class="n">{_num(t.get("numel"))}</td><td>{_e(kind)}</td>'
                    f'<td>{_e("= " + shared if shared else "")}</td></tr>')
    return _titled_table("Tensors", ["name", "shape", "dtype", "count", "", "tied"], rows)


def _titled_table(title: str, headers: list[str], rows: list[str]) -> str:
    """A heading and a table of already-rendered ``<tr>`` rows; nothing when there are none."""
    if not rows:
        return ""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    return f"<h4>{_e(title)}</h4><table><thead><tr>{head}</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"


def _by_op(by_op: dict) -> str:
    if not by_op:
        return ""
    return ("<table><tbody>" + "".join(f'<tr><td>{_code(k)}</td><td class="n">{_num(v)}</td></tr>'
                                       for k, v in by_op.items()) + "</tbody></table>")


def _matrix_cell(target: str, case: str, cell: Any) -> str:
    t = _e(target)
    if not isinstance(cell, dict):
        return f'<td class="cell m-na" data-target="{t}" title="{_e(target)}: not run">not run</td>'
    verdict, mark = cell.get("verdict"), cell.get("mark")
    quantities = _d(cell.get("quantities"))
    pq = _d(quantities.get("params"))
    flops = cell.get("flops") if isinstance(cell.get("flops"), dict) else None
    cls = _cls(mark)

    # what the cell shows
    if verdict == "n/a" or mark == "n/a":
        shown = '<span class="mk">n/a</span>'
    else:
        shown = f'<span class="v">{_num(cell.get("params"), "?")}</span> <span class="mk">{_e(mark)}</span>'
        if cell.get("state"):
            shown += f'<span class="line sub">+ {_num(cell.get("state"))} state</span>'
    if flops is not None:
        ftext, fmark = _flops_text(flops)
        shown += f'<span class="line fl {_cls(fmark)}"><span class="q">FLOPs</span>{ftext}</span>'

    # the tooltip: plain text, escaped once as an attribute
    tip = [f"{target} · {case}: {verdict} {mark or ''}".rstrip()]
    if pq:
        tip.append(f"params: got {_plain(pq.get('got'))}, expected {_plain(pq.get('expected'))}"
                   + (f" (canonical {_plain(pq.get('canonical'))})" if pq.get("canonical") not in (None, pq.get(
                       "expected")) else ""))
        if pq.get("formula"):
            tip.append(f"formula: {pq.get('formula')}")
    if cell.get("convention"):
        tip.append(f"why: {cell.get('convention')}")
    reason = str(cell.get("reason") or "").strip()
    if reason:
        tip.append(("n/a: " if verdict == "n/a" else "reason: ") + reason.splitlines()[-1])
    tip += [f"problem: {p}" for p in _l(cell.get("problems"))]
    if flops is not None:
        tip.append(f"FLOPs {flops.get('mark') or ''}: measured {_plain(flops.get('measured'))}, "
                   f"expected {_plain(flops.get('expected'))}")
        if flops.get("why"):
            tip.append(f"counter: {flops.get('why')}")
    tip.append("(click for details)")

    # the details
    pop = [(f"<h3>{_e(target)} · <code>{_e(case)}</code> · {_e(verdict)} "
            f'<span class="badge {cls}">{_e(mark)}</span></h3>')]
    items = [("formula", _code(pq.get("formula"))),
             ("expected", _num(pq.get("expected"), "")), ("got", _num(pq.get("got"), "")),
             ("canonical", _num(pq.get("canonical"), "") if pq.get("canonical") != pq.get("expected") else ""),
             ("state", _num(cell.get("state"), "") if cell.get("state") else ""),
             ("why", _e(cell.get("convention"))),
             ("n/a because" if verdict == "n/a" else "reason",
              f"<pre>{_e(cell.get('reason'))}</pre>" if cell.get("reason") and "\n" in str(cell.get("reason"))
              else _e(cell.get("reason")))]
    pop.append(_dl(items))
    if _l(cell.get("problems")):
        pop.append("<h4>Problems</h4>" + _ul(_l(cell.get("problems"))))
    pop.append(_quantities_table(quantities))
    pop.append(_tensors_table(_l(cell.get("tensors"))))
    if flops is not None:
        pop.append(f'<h4>FLOPs <span class="badge {_cls(flops.get("mark"))}">{_e(flops.get("mark"))}</span></h4>')
        pop.append(_dl([("verdict", _e(flops.get("verdict"))), ("counter", _e(flops.get("counter"))),
                        ("measured", _num(flops.get("measured"), "")), ("matmul part", _num(flops.get("matmul"), "")),
                        ("compares", _e(flops.get("compares"))), ("compared", _num(flops.get("compared"), "")),
                        ("expected", _num(flops.get("expected"), "")), ("MACs", _num(flops.get("macs"), "")),
                        ("why", _e(flops.get("why"))), ("n/a because", _e(flops.get("not_applicable"))),
                        ("error", _e(flops.get("error")))]))
        by_op = _d(flops.get("by_op"))
        if by_op:
            pop.append("<h4>By op</h4>" + _by_op(by_op))
    return (f'<td class="cell {cls}" data-target="{t}" data-mark="{_e(mark)}" title="{_e(chr(10).join(tip))}">'
            f'<details><summary>{shown}</summary><div class="pop">{"".join(pop)}</div></details></td>')


def _plain(x: Any, signed: bool = False) -> str:
    """A number as plain text (for a tooltip, escaped later)."""
    if isinstance(x, int) and not isinstance(x, bool):
        return f"{x:+,}" if signed else f"{x:,}"
    return "—" if x is None else str(x)


def _matrix(matrix: dict) -> str:
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
                    + "".join(_matrix_cell(t, case, cells.get(t)) for t in targets) + "</tr>")
    if not body:
        body.append(f'<tr data-kind="" data-case=""><td colspan="{len(targets) + 2}" class="empty">no cases</td></tr>')
    return ('<section id="matrix-section"><h2>Agreement matrix</h2>'
            f'<p class="legend">{_e(LEGEND)}</p>'
            f'<table id="matrix"><thead><tr>{"".join(head)}</tr></thead><tbody>\n' + "\n".join(body)
            + "\n</tbody></table></section>")


# ---------------------------------------------------------------------------- the tools
def _tool_line(label: str, q: Any) -> tuple[str, str]:
    """One reading's line in a tool cell (escaped HTML) and its colour class."""
    if not isinstance(q, dict):
        return f'<span class="line m-na"><span class="q">{_e(label)}</span><span class="mk">n/a</span></span>', "m-na"
    mark = q.get("mark") or ("n/a" if q.get("got") is None else "")
    cls = _cls(mark)
    fig = _num(q.get("got"), "") if mark != "n/a" else ""
    finding = f' <span class="sub">{_e(q.get("finding"))}</span>' if q.get("finding") else ""
    line = (f'<span class="line {cls}"><span class="q">{_e(label)}</span><span class="fig">{fig}</span> '
            f'<span class="mk">{_e(mark)}</span>{finding}</span>')
    return line, cls


def _tool_quantity(label: str, q: Any) -> str:
    if not isinstance(q, dict):
        return f"<h4>{_e(label)}</h4><p class=\"empty\">the tool gives no such figure</p>"
    mark = q.get("mark")
    return (f'<h4>{_e(label)} <span class="badge {_cls(mark)}">{_e(mark)}</span></h4>'
            + _dl([("finding", _e(q.get("finding"))), ("got", _num(q.get("got"), "")),
                   ("expected", _num(q.get("expected"), "")), ("formula", _code(q.get("formula"))),
                   ("difference", _signed(q.get("difference")) if q.get("difference") not in (None, 0) else ""),
                   ("why", _e(q.get("why")))]))


def _tool_cell(tool: dict, case: str, cell: Any) -> str:
    name = str(tool.get("tool"))
    unit = str(tool.get("compute_unit") or "compute")
    if not isinstance(cell, dict):
        return f'<td class="cell m-na" data-tool="{_e(name)}" title="{_e(name)}: not run">not run</td>'
    pline, pcls = _tool_line("params", cell.get("params"))
    cline, ccls = _tool_line(unit, cell.get("compute"))
    error, warnings = cell.get("error"), [str(w) for w in _l(cell.get("warnings"))]
    cls = "m-bad" if error else _worst(pcls, ccls)
    shown = pline + cline + ('<span class="line sub">error</span>' if error else "")

    tip = [f"{name} · {case}: {cell.get('verdict') or ''}".rstrip()]
    for label, q in (("params", cell.get("params")), (unit, cell.get("compute"))):
        if isinstance(q, dict):
            tip.append(f"{label}: {q.get('mark') or ''} got {_plain(q.get('got'))}, expected "
                       f"{_plain(q.get('expected'))}" + (f" ({q.get('formula')})" if q.get("formula") else "")
                       + (f"; {q.get('finding')}" if q.get("finding") else "")
                       + (f", difference {_plain(q.get('difference'), signed=True)}" if q.get("difference") else ""))
            if q.get("why"):
                tip.append(f"  why: {q.get('why')}")
        else:
            tip.append(f"{label}: the tool gives no such figure")
    tip += [f"warning: {w}" for w in warnings]
    if error:
        tip.append(f"error: {error}")
    elif cell.get("reason"):
        tip.append(f"{'n/a: ' if cell.get('verdict') == 'n/a' else ''}{cell.get('reason')}")
    tip.append("(click for details)")

    claim = _d(tool.get("claim"))
    pop = [f"<h3>{_e(name)} · <code>{_e(case)}</code> · {_e(cell.get('verdict'))}</h3>",
           _dl([("version", _e(tool.get("version"))), ("claims params", _e(claim.get("params"))),
                ("claims compute", _e(claim.get("compute")))]),
           _tool_quantity("params", cell.get("params")), _tool_quantity(unit, cell.get("compute"))]
    if cell.get("reason") and not error:
        pop.append(_dl([("n/a because" if cell.get("verdict") == "n/a" else "reason", _e(cell.get("reason")))]))
    if warnings:
        pop.append("<h4>Warnings</h4>" + _ul(warnings))
    if error:
        pop.append(f"<h4>Error</h4><pre>{_e(error)}</pre>")
    if _l(cell.get("notes")):
        pop.append("<h4>Notes</h4>" + _ul(_l(cell.get("notes"))))
    return (f'<td class="cell {cls}" data-tool="{_e(name)}" title="{_e(chr(10).join(tip))}">'
            f'<details><summary>{shown}</summary><div class="pop">{"".join(pop)}</div></details></td>')


def _tools(tools: dict) -> str:
    tool_list = [t for t in _l(tools.get("tools")) if isinstance(t, dict)]
    head = ['<th class="case" scope="col">case</th><th scope="col">expected</th>']
    for t in tool_list:
        sub = " · ".join(_e(x) for x in (t.get("framework"), t.get("compute_unit")) if x)
        head.append(f'<th scope="col" data-tool="{_e(t.get("tool"))}">{_e(t.get("tool"))}<br>'
                    f'<small>{sub}</small></th>')
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
        config = json.dumps(row.get("config"), ensure_ascii=False, default=str)
        body.append(f'<tr data-kind="{_e(row.get("kind"))}" data-case="{_e(case)}">'
                    f'<th class="case" scope="row" title="{_e(config)}"><code>{_e(case)}</code></th>'
                    f'<td class="canon">{expected}</td>'
                    + "".join(_tool_cell(t, case, cells.get(str(t.get("tool")))) for t in tool_list) + "</tr>")
    if not body:
        body.append(f'<tr data-kind="" data-case=""><td colspan="{len(tool_list) + 2}" class="empty">no cases</td>'
                    "</tr>")
    return ('<section id="tools-section"><h2>Counting tools</h2>'
            f'<p class="legend">{_e(TOOLS_LEGEND)}</p>'
            f'<table id="tools"><thead><tr>{"".join(head)}</tr></thead><tbody>\n' + "\n".join(body)
            + "\n</tbody></table></section>")


def _findings(tools: dict) -> str:
    kinds = {str(_d(r).get("case")): _d(r).get("kind") for r in _l(tools.get("rows"))}
    items = []
    for f in _l(tools.get("findings")):
        f = _d(f)
        case = str(f.get("case") or "")
        diff = f" (difference {_signed(f.get('difference'))})" if f.get("difference") not in (None, 0) else ""
        items.append(
            f'<li class="m-bad" data-tool="{_e(f.get("tool"))}" data-kind="{_e(kinds.get(case, ""))}" '
            f'data-case="{_e(case)}"><b>{_e(f.get("tool"))}</b> '
            f'<span class="badge m-bad">{_e(f.get("finding"))}</span> {_e(f.get("quantity"))} of '
            f'<code>{_e(case)}</code>: got <span class="num">{_num(f.get("got"))}</span>, expected '
            f'<span class="num">{_num(f.get("expected"))}</span>{diff}. {_e(f.get("explain"))}'
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
    nothing = ('<section id="summary"><h2>Summary</h2><p class="empty">Nothing to show: no matrix and no tools '
               "report.</p></section>")
    sections = [_summary(matrix, tools) if (matrix is not None or tools is not None) else nothing]
    if matrix is not None:
        sections.append(_matrix(matrix))
    if tools is not None:
        sections += [_tools(tools), _findings(tools)]
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
<script>{JS}</script>
</body>
</html>
"""
