"""The HTML report (``paramspec.report.html``): rendered, and opened in a real headless browser.

The rendering tests are framework-free: their records come from the spec's own comparison
(:func:`paramspec.compare.compare`) of readings that list torch.nn.LSTM's documented tensor
shapes, from the spec's recorded n/a, and, for escaping, from synthetic records. A cell's
tooltip and details are not in the markup (the page's script builds them from its data
block); :class:`PageData` builds them here as the script does, to read them without a browser.

The browser test (marked ``browser``) needs torch, the ``playwright`` package and a system
Chromium (Debian's ``chromium``; playwright's own browser download is never used). Its
matrix is merged from record files of real torch runs (``run_case`` on the spec's LSTM,
Linear and BatchNorm2d cases). Its tools report is built as ``paramspec tools`` builds it
(each installed torch tool run on the same cases, record files, ``tools_report``), or, with
no tool installed, from real torch readings of the same modules. It checks the summary and
the tools chart (each tool's bars: their segments' counts, widths and titles), a cell's
tooltip and its details (built when the cell is opened), the filters, and the sticky header
row and first column of both tables while their scroll boxes scroll. It writes
``reports/index.html`` and a screenshot, ``reports/index.png``.
"""
from __future__ import annotations

import base64
import hashlib
import importlib
import importlib.util
import json
import re
import shutil
import time
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from paramspec.compare import compare, not_applicable
from paramspec.loader import load_spec
from paramspec.reading import Reading, Source, Tensor
from paramspec.record import FAIL, PASS, Quantity, Record
from paramspec.report import merge, read_records, write_records
from paramspec.report.html import html

ROOT = Path(__file__).resolve().parent.parent
TORCH = Source("framework", "torch", "torch (shapes as documented)", "torch")
KINDS = ("LSTM", "Linear", "BatchNorm2d")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


# ---------------------------------------------------------------------------- framework-free inputs
def lstm_reading(input_size: int, hidden: int, biases=("bias_ih_l0", "bias_hh_l0")) -> Reading:
    """What torch.nn.LSTM(input_size, hidden) holds, by its documented shapes."""
    tensors = [Tensor("weight_ih_l0", (4 * hidden, input_size), "float32", True),
               Tensor("weight_hh_l0", (4 * hidden, hidden), "float32", True)]
    tensors += [Tensor(b, (4 * hidden,), "float32", True) for b in biases]
    return Reading(TORCH, f"LSTM({input_size}, {hidden})", tensors)


def hostile(case: str) -> Record:
    """A record as a user's file may hold it: every string is markup."""
    return Record(source=TORCH, verdict=FAIL, case=case, kind="K<b>", config={"kind": "K<b>", "x": "</script>"},
                  quantities={"params": Quantity(12, 10, "p <i>", 10, 'why "<img src=https://example.invalid/x>'),
                              "state": Quantity(0, 0, "s", 0)},
                  problems=["params: expected 10, got 12 <script>alert(2)</script>"], reason="<b>reason</b>")


def matrix_dict(tmp_path) -> dict:
    """The matrix of a torch-shaped record file: a ✓† LSTM, a ✗ LSTM (one bias vector missing),
    the spec's recorded n/a for GRU, and a hostile record."""
    spec = load_spec()
    gru = spec.case("GRU[in300-h128-nora]")
    records = [compare(spec, spec.case("LSTM[in300-h128]"), lstm_reading(300, 128), native=False),
               compare(spec, spec.case("LSTM[in10-h20-L2]"), lstm_reading(10, 20, ("bias_ih_l0",)), native=False),
               not_applicable(gru, TORCH, gru.not_applicable_reason("torch")),
               hostile("<script>alert(1)</script>[x]")]
    path = write_records(tmp_path / "torch.json", TORCH, records, spec.digest)
    return json.loads(json.dumps(merge([read_records(path)]).to_dict()))


def tools_dict(matrix: dict) -> dict:
    """A tools report in the shape ``paramspec tools`` writes, its figures the matrix's own
    (a synthetic tool that reads every case's parameters but misses one, and gives no compute)."""
    rows, findings = [], []
    for row in matrix["rows"]:
        got = row["cells"]["torch"]["params"]
        if got is None:
            continue
        wrong = row["kind"] == "LSTM" and got > 10_000
        cell = {"verdict": FAIL if wrong else PASS,
                "params": {"got": 0 if wrong else got, "expected": got, "formula": "params", "mark": "✗" if wrong
                           else "✓", "finding": "silent zero" if wrong else None, "difference": -got if wrong else 0,
                           "why": "<em>the root module</em>" if wrong else None},
                "compute": None, "warnings": ["UserWarning: <b>skipped</b> a module"] if wrong else [], "error": None}
        rows.append({"case": row["case"], "kind": row["kind"], "config": row["config"],
                     "canonical": {"params": got, "state": row["cells"]["torch"]["state"], "macs": row["macs"]},
                     "cells": {"counter<x>": cell}})
        if wrong:
            findings.append({"tool": "counter<x>", "finding": "silent zero", "quantity": "params", "case": row["case"],
                             "got": 0, "expected": got, "difference": -got, "explain": "counts <nothing>",
                             "reproduce": f"paramspec tools --tool counter --kind {row['kind']}"})
    return {"schema_version": 1,
            "tools": [{"tool": "counter<x>", "version": "counter 0.1", "framework": "torch",
                       "claim": {"params": "the number of parameters", "compute": None}, "compute_unit": "MACs",
                       "summary": {}, "line": "counter<x> 0.1: params 3/4 right, 1 silent zero"}],
            "rows": rows, "findings": findings}


# ---------------------------------------------------------------------------- rendering, no browser
def row_html(page: str, case: str, table: str = "matrix") -> str:
    """One top-level row of a table, as markup (its cells' details hold tables of their own)."""
    start = page.index(f'<table id="{table}">')
    start = page.index(f'data-case="{escape(case)}">', start)
    ends = [page.find(x, start) for x in ("<tr data-kind=", "\n</tbody></table>")]
    return page[start:min(e for e in ends if e != -1)]


class PageData:
    """The page's data block, read as its script reads it: a cell's tooltip (the text it sets
    as the cell's ``title``) and its details (here as markup, every text escaped, as the DOM the
    script builds would serialise)."""

    def __init__(self, page: str):
        self.page = page
        self.block = re.search(r'<script type="application/json" id="cell-data">(.*?)</script>', page,
                               re.DOTALL).group(1)
        self.nodes = json.loads(self.block)

    def text(self, x) -> str:
        return x if isinstance(x, str) else "".join(self.text(k) for k in self.nodes[x][1:])

    def markup(self, x) -> str:
        if isinstance(x, str) or self.nodes[x][0] == "":
            return escape(self.text(x), quote=False)
        tag, _, cls = self.nodes[x][0].partition(" ")
        inner = "".join(self.markup(k) for k in self.nodes[x][1:])
        return f'<{tag}{f" class={chr(34)}{cls}{chr(34)}" if cls else ""}>{inner}</{tag}>'

    def td(self, case: str, column: str, table: str = "matrix") -> int:
        attr = "data-target" if table == "matrix" else "data-tool"
        row = row_html(self.page, case, table)
        return int(re.search(f'<td [^>]*{attr}="{re.escape(escape(column))}"[^>]* data-d="([0-9]+)"', row).group(1))

    def cell(self, case: str, column: str, table: str = "matrix") -> tuple[str, str]:
        """The cell's tooltip and its details' markup."""
        node = self.nodes[self.td(case, column, table)]
        assert node[0] == "cell"
        _, verdict, mark, cls = (self.text(k) for k in self.nodes[node[1]])
        tip = [f"{column} · {case}: {verdict} {mark}".rstrip()] + [self.text(k) for k in self.nodes[node[2]][1:]]
        badge = f' <span class="badge {cls}">{escape(mark, quote=False)}</span>' if mark else ""
        head = (f"<h3>{escape(column, quote=False)} · <code>{escape(case, quote=False)}</code> · "
                f"{escape(verdict, quote=False)}{badge}</h3>")
        return "\n".join(tip + ["(click for details)"]), f"<div>{head}{self.markup(node[3])}</div>"


def tally(tools: dict) -> dict:
    """Per tool and reading, how many cases are right, right by convention, wrong, an error,
    or n/a (no reading, or not run): counted here from the tools report's cells."""
    out = {}
    for t in tools["tools"]:
        counts = {q: dict.fromkeys(("ok", "conv", "bad", "err", "na"), 0) for q in ("params", "compute")}
        for row in tools["rows"]:
            cell = row["cells"].get(t["tool"])
            for q, c in counts.items():
                reading = cell.get(q) if cell else None
                mark = (reading or {}).get("mark") or ""
                c["bad" if "✗" in mark else "conv" if "†" in mark else "ok" if "✓" in mark
                  else "err" if reading is None and cell and cell.get("error") else "na"] += 1
        out[t["tool"]] = counts
    return out


class Loads(HTMLParser):
    """Every URL the markup would fetch: src, href, action, srcset, poster, data attributes
    of any element, and url()/@import in its inline styles."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href", "action", "srcset", "poster", "data", "formaction", "xlink:href"):
                self.urls.append(value or "")
            if name == "style" and value and re.search(r"url\(|@import", value):
                self.urls.append(value)


def test_the_page_escapes_every_string_from_its_inputs(tmp_path):
    m = matrix_dict(tmp_path)
    page = html(m, tools_dict(m))
    assert "<script>alert" not in page and "</script>[x]" not in page and "<b>reason" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;[x]" in page
    assert 'data-case="&lt;script&gt;alert(1)&lt;/script&gt;[x]"' in page
    assert "<img" not in page and "<em>" not in page and "<i>" not in page and "K<b>" not in page
    assert "counter&lt;x&gt;" in page and "counter<x>" not in page
    assert page.count("<script>") == 1  # the page's own, and nothing from the inputs
    # the data block: JSON whose <, > and & are escapes, so no input closes it or opens markup
    data = PageData(page)
    assert not re.search(r"[<>&]", data.block) and page.count("</script>") == 2
    tip, details = data.cell("<script>alert(1)</script>[x]", "torch")
    assert tip.startswith("torch · <script>alert(1)</script>[x]: fail ✗")  # as text: the title attribute
    assert "problem: params: expected 10, got 12 <script>alert(2)</script>" in tip
    assert "<code>&lt;script&gt;alert(1)&lt;/script&gt;[x]</code>" in details  # built as text nodes
    assert "&lt;b&gt;reason&lt;/b&gt;" in details and "<code>p &lt;i&gt;</code>" in details
    tip, details = data.cell("LSTM[in300-h128]", "counter<x>", "tools")
    assert "why: <em>the root module</em>" in tip and "&lt;em&gt;the root module&lt;/em&gt;" in details
    assert "UserWarning: &lt;b&gt;skipped&lt;/b&gt; a module" in details
    # and the script makes elements and text nodes only: it never parses markup
    script = re.search(r"<script>(.*?)</script>", page, re.DOTALL).group(1)
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|Function\(", script)


def test_the_page_shows_the_summary_the_cells_and_their_details(tmp_path):
    m = matrix_dict(tmp_path)
    page = html(m, tools_dict(m))
    data = PageData(page)
    assert '<section id="summary">' in page and "1 pass, 2 fail, 1 n/a" in page
    assert "counter&lt;x&gt; 0.1: params 3/4 right, 1 silent zero" in page
    cell = row_html(page, "LSTM[in300-h128]")
    assert '<td class="cell m-conv" data-target="torch" data-mark="✓†"' in cell
    assert "220,160" in cell and "✓†" in cell
    tip, details = data.cell("LSTM[in300-h128]", "torch")
    assert tip.startswith("torch · LSTM[in300-h128]: pass ✓†\nparams: got 220,160, expected 220,160 "
                          "(canonical 219,648)\nformula: weights + num_layers * D * 8 * gate_bias\nwhy: ")
    assert "two bias vectors" in tip and tip.endswith("\n(click for details)")
    assert '<h3>torch · <code>LSTM[in300-h128]</code> · pass <span class="badge m-conv">✓†</span></h3>' in details
    assert "<dt>canonical</dt><dd>219,648</dd>" in details and "two bias vectors" in details
    assert "<code>weights + num_layers * D * 8 * gate_bias</code>" in details
    assert "weight_ih_l0" not in details  # Matrix.to_dict() holds no per-tensor list; where a cell has one:
    m["rows"][0]["cells"]["torch"]["tensors"] = [t.to_dict() for t in lstm_reading(300, 128).tensors]
    _, details = PageData(html(m, None)).cell("LSTM[in300-h128]", "torch")
    assert "<code>weight_ih_l0</code>" in details and "(512, 300)" in details and ">153,600<" in details
    fail = row_html(page, "LSTM[in10-h20-L2]")
    assert 'class="cell m-bad"' in fail and "✗" in fail
    assert "expected 5,920" in data.cell("LSTM[in10-h20-L2]", "torch")[0]
    na = row_html(page, "GRU[in300-h128-nora]")
    assert 'class="cell m-na"' in na and ">n/a<" in na
    tip, details = data.cell("GRU[in300-h128-nora]", "torch")
    assert "reset gate after the hidden projection" in tip and "<dt>n/a because</dt>" in details
    tip, details = data.cell("LSTM[in300-h128]", "counter<x>", "tools")
    assert "params: ✗ got 0, expected 220,160 (params); silent zero, difference -220,160" in tip
    assert "MACs: the tool gives no such figure" in tip and "warning: UserWarning" in tip
    for part in ("<dt>finding</dt><dd>silent zero</dd>", "<dt>difference</dt><dd>-220,160</dd>",
                 "<dt>formula</dt><dd><code>params</code></dd>", "<dt>claims params</dt><dd>the number of parameters</dd>",
                 "<h4>Warnings</h4>", "the tool gives no such figure"):
        assert part in details, part
    assert '<table id="matrix">' in page and '<table id="tools">' in page and '<section id="findings">' in page
    assert "paramspec tools --tool counter --kind LSTM" in page and "silent zero" in page
    for filt in ("filter-kind", "filter-framework", "filter-tool", "filter-text"):
        assert f'id="{filt}"' in page
    assert '<option value="LSTM">LSTM</option>' in page


def test_the_tools_summary_is_a_chart_of_each_tool_s_readings(tmp_path):
    m = matrix_dict(tmp_path)
    t = tools_dict(m)
    # a second tool: one case failed with an error and no reading, one not run, one right by convention
    cases = [r["case"] for r in t["rows"]]
    t["tools"].append({"tool": "other", "version": "other 2", "framework": "torch", "claim": {}, "compute_unit": "",
                       "summary": {}, "line": "other 2: params 0/1 right"})
    t["rows"][0]["cells"]["other"] = {"verdict": FAIL, "params": None, "compute": None, "warnings": [],
                                      "error": "Traceback: <boom>"}
    t["rows"][1]["cells"]["other"] = {"verdict": PASS, "warnings": [], "error": None, "compute": None,
                                      "params": {"got": 5, "expected": 5, "formula": "p", "mark": "†"}}
    page = html(m, t)
    assert tally(t) == {"counter<x>": {"params": {"ok": 2, "conv": 0, "bad": 1, "err": 0, "na": 0},
                                       "compute": {"ok": 0, "conv": 0, "bad": 0, "err": 0, "na": 3}},
                        "other": {"params": {"ok": 0, "conv": 1, "bad": 0, "err": 1, "na": 1},
                                  "compute": {"ok": 0, "conv": 0, "bad": 0, "err": 1, "na": 2}}}
    chart = page[page.index('<table class="chart" id="tool-chart">'):page.index("</section>")]
    for tool, counts in tally(t).items():
        group = chart[chart.index(f'<tbody data-tool="{escape(tool)}">'):]
        group = group[:group.index("</tbody>")]
        for q, unit in (("params", "params"), ("compute", "MACs" if tool == "counter<x>" else "compute")):
            bar = re.search(f'<tr data-quantity="{q}"><td class="q">{unit}</td><td class="bar">(.*?)</tr>', group).group(1)
            segments = re.findall(r'<rect class="s-(\w+)" data-seg="\1" data-count="(\d+)" x="([\d.]+)%" y="0" '
                                  r'width="([\d.]+)%" height="100%"><title>([^<]*)</title></rect>', bar)
            assert {k: int(n) for k, n, *_ in segments} == {k: n for k, n in counts[q].items() if n}
            x = 0.0
            for key, n, left, width, title in segments:  # in order, side by side, on the scale of all the cases
                assert abs(float(left) - x) < 1e-3 and abs(float(width) - 100 * int(n) / len(cases)) < 1e-3
                assert title.startswith(f"{escape(tool)} · {unit}: {n} of {len(cases)} cases ")
                x += float(width)
            assert abs(x - 100) < 1e-3
    assert "<td class=\"counts\">1 † · 1 error · 1 n/a</td>" in chart  # the counts beside each bar
    assert "counter&lt;x&gt; 0.1: params 3/4 right, 1 silent zero" in chart and "other 2: params 0/1 right" in chart


def test_both_tables_scroll_in_a_box_with_a_sticky_header_row_and_first_column(tmp_path):
    m = matrix_dict(tmp_path)
    page = html(m, tools_dict(m))
    for table in ("matrix", "tools"):
        assert f'<div class="scroll" id="{table}-scroll" tabindex="0"><table id="{table}"><thead>' in page
    css = re.search(r"<style>(.*?)</style>", page, re.DOTALL).group(1)
    assert re.search(r"\.scroll \{ overflow: auto;", css)
    assert re.search(r"\.scroll > table > thead th \{ position: sticky; top: 0;", css)
    assert re.search(r"\.scroll > table > tbody > tr > th\.case \{ position: sticky; left: 0;", css)
    assert re.search(r"thead th \{ background: #e9ecef;", css) and re.search(r"tbody th\.case \{ background: #fff;", css)


def test_a_cell_s_compute_part_is_read_defensively(tmp_path):
    m = matrix_dict(tmp_path)
    cells = [r["cells"]["torch"] for r in m["rows"]]
    # a renamed key (per_op for by_op), a new one of each shape, and an entry that is no dict at all
    cells[0]["flops"] = {"verdict": PASS, "mark": "✓", "compared": 2_000, "measured": 2_048, "macs": 1_000,
                         "per_op": {"aten.mm": 2_000, "<op>": 48}, "problems": ["one <problem>"],
                         "novel": 7, "novel_list": ["a", "b"], "novel_map": {"k": 1}}
    cells[1]["flops"] = "measured"
    cells[2]["flops"] = {}
    data = PageData(html(m, None))
    tip, details = data.cell("LSTM[in300-h128]", "torch")
    assert "FLOPs ✓: measured 2,048, expected —" in tip and "FLOPs problem: one <problem>" in tip
    assert "<dt>measured</dt><dd>2,048</dd>" in details and "<dt>MACs</dt><dd>1,000</dd>" in details
    assert "<h4>By op</h4>" in details and "<code>&lt;op&gt;</code>" in details and ">2,000<" in details
    assert "one &lt;problem&gt;" in details and "<dt>novel</dt><dd>7</dd>" in details
    assert "<h4>novel_list</h4><ul><li>a</li><li>b</li></ul>" in details and "<code>k</code>" in details
    assert "FLOPs" not in data.cell("LSTM[in10-h20-L2]", "torch")[0]
    assert "FLOPs" in row_html(data.page, "GRU[in300-h128-nora]")


def test_equal_details_are_stored_once(tmp_path):
    """The page stays small: what many cells share (a formula, a convention, a tool's claims)
    is in the data block once, and no cell's details are in the markup."""
    m = matrix_dict(tmp_path)
    row = m["rows"][0]
    why = row["cells"]["torch"]["convention"]
    assert why and len(why) > 40
    m["rows"] = [{**row, "case": f"LSTM[copy{i}]"} for i in range(50)]
    page = html(m, None)
    assert page.count(why) == 1 and page.count("weights + num_layers * D * 8 * gate_bias") == 1
    data = PageData(page)
    assert len({data.td(f"LSTM[copy{i}]", "torch") for i in range(50)}) == 50
    assert data.cell("LSTM[copy7]", "torch")[1].count(why) == 1
    assert "<dl>" not in page.replace(data.block, "")


def test_the_page_loads_nothing_and_runs_only_its_own_script(tmp_path):
    m = matrix_dict(tmp_path)
    page = html(m, tools_dict(m))
    loads = Loads()
    loads.feed(page)
    assert loads.urls == ["data:,"]  # the favicon, inline: so the browser asks for none
    assert "http://" not in page and "https://" not in page.replace("https://example.invalid", "")  # the input's
    assert "\\u003cimg src=https://example.invalid" in page  # text in the data block, never a tag
    assert 'why "<img src=https://example.invalid/x>' in PageData(page).cell("<script>alert(1)</script>[x]", "torch")[0]
    assert not re.search(r"@import|url\(", page)
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page).group(1)
    assert "default-src &#x27;none&#x27;" in csp
    script = re.search(r"<script>(.*?)</script>", page, re.DOTALL).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"sha256-{digest}" in csp  # the page's own script is the only one that may run


def test_either_input_may_be_missing(tmp_path):
    m = matrix_dict(tmp_path)
    only_matrix, only_tools, neither = html(m, None), html(None, tools_dict(m)), html(None, None)
    assert '<table id="matrix">' in only_matrix and '<table id="tools">' not in only_matrix
    assert '<table id="tools">' in only_tools and '<table id="matrix">' not in only_tools
    assert 'id="filter-framework"' not in only_tools and 'id="filter-tool"' not in only_matrix
    assert '<section id="summary">' in neither and "Nothing to show" in neither


# ---------------------------------------------------------------------------- a real browser
def real_tools(spec, matrix: dict, built, tmp_path) -> dict:
    """The tools report, built as ``paramspec tools`` builds it (each installed torch tool of
    ``spec/tools.yaml`` run on the cases, its record file written, read back and merged by
    ``paramspec.report.tools.tools_report``) where that pipeline and a tool are installed;
    else two ways of counting that people use, read from the real torch modules of each case
    (``parameters()``, with FlopCounterMode's MACs; and ``state_dict()``, which counts the
    running statistics too), graded against the matrix's torch readings. ``built()`` gives
    each case's module and MACs, by case id (the fallback's only)."""
    if importlib.util.find_spec("paramspec.report.tools") and importlib.util.find_spec("paramspec.tools"):
        from paramspec._layout import import_adapter_module
        from paramspec.report.tools import tools_report
        from paramspec.tools import cases, load_tools, run_tool

        ts, files = load_tools(), []
        for t in ts.tools.values():
            if t.framework != "torch" or importlib.util.find_spec(t.package.replace("-", "_")) is None:
                continue
            records = [run_tool(t, c, f) for c, f in cases(spec, ts, list(KINDS))]
            module = import_adapter_module(f"tools.{t.runner.split('.')[0]}")
            path = write_records(tmp_path / f"tool-{t.id}.json", Source("tool", t.id, module.version(t), t.framework),
                                 records, spec.digest)
            files.append(read_records(path))
        if files:
            return tools_report(files).to_dict()

    def graded(got, expected, formula):
        if got is None:
            return None
        diff = got - expected
        finding = None if diff == 0 else ("silent zero" if got == 0 else "double counted" if got == 2 * expected
                                          else "missing" if got < expected else "other")
        return {"got": got, "expected": expected, "formula": formula, "mark": "✓" if diff == 0 else "✗",
                "finding": finding, "difference": diff,
                "why": "state_dict() holds the buffers (running statistics) too" if finding == "other" else None}

    tools = {"parameters()": ("sum(p.numel() for p in m.parameters())", "FlopCounterMode total / 2"),
             "state_dict()": ("sum(v.numel() for v in m.state_dict().values())", None)}
    rows, findings, right = [], [], {t: [0, 0] for t in tools}
    modules = built()
    for row in matrix["rows"]:
        truth = row["cells"]["torch"]
        module, macs = modules[row["case"]]
        readings = {"parameters()": (sum(p.numel() for p in module.parameters()), macs),
                    "state_dict()": (sum(v.numel() for v in module.state_dict().values()), None)}
        cells = {}
        for t, (params, compute) in readings.items():
            p = graded(params, truth["params"], "params")
            c = graded(compute, row["macs"], "macs") if compute is not None else None
            right[t][0] += p["mark"] == "✓"
            right[t][1] += 1
            cells[t] = {"verdict": PASS if all(q is None or q["mark"] == "✓" for q in (p, c)) else FAIL,
                        "params": p, "compute": c, "warnings": [], "error": None}
            for name, q in (("params", p), ("compute", c)):
                if q and q["finding"]:
                    findings.append({"tool": t, "finding": q["finding"], "quantity": name, "case": row["case"],
                                     "got": q["got"], "expected": q["expected"], "difference": q["difference"],
                                     "explain": q["why"] or "",
                                     "reproduce": f"python -c 'import torch; m = torch.nn.{module!r}; "
                                                  f"print({tools[t][0]})'"})
        rows.append({"case": row["case"], "kind": row["kind"], "config": row["config"],
                     "canonical": {"params": truth["params"], "state": truth["state"], "macs": row["macs"]},
                     "cells": cells})
    return {"schema_version": 1, "rows": rows, "findings": findings,
            "tools": [{"tool": t, "version": f"torch {importlib.import_module('torch').__version__}",
                       "framework": "torch", "claim": {"params": p, "compute": c},
                       "compute_unit": "MACs" if c else None, "summary": {},
                       "line": f"{t}: params {right[t][0]}/{right[t][1]} right"} for t, (p, c) in tools.items()]}


@pytest.mark.browser
def test_the_report_in_headless_chromium(tmp_path):
    """Selected (the torch tox env runs it; the spec env deselects ``browser``), it needs torch,
    playwright and Debian's chromium, and fails without them: never a skip, so no run passes
    that did not open the page. ``bash run-tests`` installs chromium."""
    import torch
    from playwright import sync_api

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("no chromium: `bash run-tests` installs it (or, as root, apt-get install -y chromium); "
                    "`-m 'not browser'` deselects this test")
    from paramspec.frameworks import adapter
    from paramspec.run import run_case

    t0 = time.perf_counter()
    spec = load_spec()
    ad = adapter("torch")
    cases = [c for c in spec.cases() if c.kind.name in KINDS]
    records = [run_case(spec, c, "torch", strict=True, measure=True) for c in cases]
    path = write_records(tmp_path / "torch.json", Source("framework", "torch", ad.version(), "torch"), records,
                         spec.digest)
    matrix = merge([read_records(path)]).to_dict()
    def built():  # each case's torch module and FlopCounterMode's MACs (the records' measurement), for the fallback
        macs = {r.case: r.compute.measured // 2 for r in records}
        return {c.id: (ad.build(c.kind.name, c.values, c.inputs() if c.kind.inputs else ()).module, macs[c.id])
                for c in cases}

    tools = real_tools(spec, matrix, built, tmp_path)
    first, last = tools["tools"][0]["tool"], tools["tools"][-1]["tool"]
    lstm = sum(p.numel() for p in torch.nn.LSTM(300, 128).parameters())
    assert lstm == 220_160
    out = ROOT / "reports"
    out.mkdir(exist_ok=True)
    page_file = out / "index.html"
    page_file.write_text(html(matrix, tools), encoding="utf-8")
    t1 = time.perf_counter()

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(30_000)
            loads, errors = [], []
            page.on("request", lambda r: loads.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.goto(page_file.as_uri())

            s = matrix["summary"]["torch"]
            summary = page.locator("#summary")
            assert summary.is_visible()
            assert f"{s['pass']} pass, {s['fail']} fail, {s['n/a']} n/a" in summary.inner_text()
            assert tools["tools"][0]["line"] in summary.inner_text()

            # the tools chart: per tool, a bar per reading, its segments as many cases wide as they count
            total = len(tools["rows"])
            for name, counts in tally(tools).items():
                group = page.locator(f'#tool-chart tbody[data-tool="{name}"]')
                assert group.is_visible()
                for q, c in counts.items():
                    bar = group.locator(f'tr[data-quantity="{q}"] svg.bar')
                    assert bar.is_visible()
                    segments = bar.evaluate("""svg => { const box = svg.getBoundingClientRect();
                        return [box.width, [...svg.querySelectorAll("rect")].map(r => {
                            const b = r.getBoundingClientRect();
                            return [r.dataset.seg, +r.dataset.count, b.left - box.left, b.width,
                                    r.querySelector("title").textContent]; })]; }""")
                    width, rects = segments
                    assert width > 100 and {k: n for k, n, *_ in rects} == {k: n for k, n in c.items() if n}, (name, q)
                    left = 0.0
                    for key, n, x, w, title in rects:
                        assert abs(x - left) <= 1 and abs(w - width * n / total) <= 1, (name, q, key, x, w)
                        assert f": {n} of {total} cases " in title and title.startswith(f"{name} · "), title
                        left += w
                    assert abs(left - (width if any(c.values()) else 0)) <= 1

            # a cell: its tooltip set when the pointer comes over it; its details built when it is opened
            cell = page.locator('#matrix tr[data-case="LSTM[in300-h128]"] td[data-target="torch"]')
            shown = cell.locator("button").inner_text()
            assert f"{lstm:,}" in shown and "✓†" in shown, shown
            cell.hover()
            assert "formula: weights + num_layers * D * 8 * gate_bias" in cell.get_attribute("title")
            assert cell.get_attribute("title").startswith("torch · LSTM[in300-h128]: pass ✓†\n")
            details = page.locator("#pop")
            assert not details.is_visible() and page.locator("#pop-body").inner_html() == ""
            assert page.locator("#matrix dl, #tools dl").count() == 0  # no cell's details are in the markup
            cell.locator("button").click()
            assert details.is_visible()
            text = details.inner_text()
            assert "219,648" in text  # the canonical formula's value, beside what torch holds
            assert "two bias vectors" in text and "torch · LSTM[in300-h128] · pass" in text
            assert "FLOPs" in text and "measured" in text and "By op" in text and "Quantities" in text
            box, view = details.bounding_box(), page.viewport_size
            assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= view["width"]
            assert box["y"] + box["height"] <= view["height"]
            page.keyboard.press("Escape")
            assert not details.is_visible()
            tool_cell = page.locator(f'#tools tr[data-case="LSTM[in300-h128]"] td[data-tool="{first}"]')
            tool_cell.locator("button").click()
            assert details.is_visible()
            text = details.inner_text()
            assert f"{first} · LSTM[in300-h128]" in text and "expected" in text and "formula" in text
            page.mouse.click(2, 2)  # a click elsewhere closes it
            assert not details.is_visible()

            def shown_rows(table):
                return page.eval_on_selector_all(
                    f"#{table} > tbody > tr",
                    "rows => rows.map(r => [r.dataset.kind, r.dataset.case, getComputedStyle(r).display !== 'none'])")

            before = shown_rows("matrix")
            assert {k for k, _, _ in before} == set(KINDS) and all(v for _, _, v in before)
            page.select_option("#filter-kind", "LSTM")
            for table in ("matrix", "tools"):
                rows = shown_rows(table)
                assert [c for k, c, v in rows if v] == [c for k, c, _ in rows if k == "LSTM"] != []
                assert all(page.locator(f'#{table} tr[data-case="{c}"]').evaluate("r => r.style.display") == "none"
                           for k, c, _ in rows if k != "LSTM")
            page.fill("#filter-text", "in300")
            assert [c for _, c, v in shown_rows("matrix") if v] == ["LSTM[in300-h128]", "LSTM[in300-h128-N2-T50]"]
            page.select_option("#filter-tool", last)
            assert first == last or not page.locator(f'#tools th[data-tool="{first}"]').is_visible()
            assert page.locator(f'#tools th[data-tool="{last}"]').is_visible()
            page.select_option("#filter-framework", "torch")
            assert page.locator('#matrix th[data-target="torch"]').is_visible()

            page.fill("#filter-text", "")
            for sel in ("#filter-kind", "#filter-tool", "#filter-framework"):
                page.select_option(sel, "")
            assert all(v for _, _, v in shown_rows("matrix"))
            page.screenshot(path=str(out / "index.png"), full_page=True)

            # the sticky header row and first column: scrolled in both directions inside its box
            # (a small window, so that both tables overflow their boxes), they stay at its edges
            page.set_viewport_size({"width": 420, "height": 480})
            for table in ("matrix", "tools"):
                box = page.locator(f"#{table}-scroll")
                box.evaluate("b => window.scrollTo(0, b.getBoundingClientRect().top + window.scrollY"
                             " - document.getElementById('filters').offsetHeight)")  # just under the filters
                sizes = box.evaluate("b => [b.scrollWidth - b.clientWidth, b.scrollHeight - b.clientHeight]")
                assert sizes[0] > 40 and sizes[1] > 40, (table, sizes)
                box.evaluate("b => { b.scrollTop = Math.min(200, b.scrollHeight); b.scrollLeft = 40; }")
                edges = box.evaluate("""b => {
                    const r = b.getBoundingClientRect(), top = r.top + b.clientTop, left = r.left + b.clientLeft;
                    const head = b.querySelector("thead th:nth-child(2)").getBoundingClientRect();
                    const corner = b.querySelector("thead th.case").getBoundingClientRect();
                    const rows = [...b.querySelectorAll("tbody th.case")].map(th => th.getBoundingClientRect());
                    const row = rows.find(x => x.top >= Math.max(head.bottom, top) + 4);
                    const on = (x, y, sel) => { const e = document.elementFromPoint(x, y); return !!(e && e.closest(sel)); };
                    const bg = x => getComputedStyle(x).backgroundColor;
                    return {scrolled: [b.scrollTop, b.scrollLeft], top: head.top - top, corner: [corner.top - top,
                            corner.left - left], first: row.left - left, hidden: rows[0].top < top,
                            headOnTop: on(head.left + 3, head.top + 3, "thead"), firstOnTop: on(row.left + 3, row.top + 3,
                            "th.case"),
                            backgrounds: [bg(b.querySelector("thead th")), bg(b.querySelector("tbody th.case"))]};
                }""")
                assert edges["scrolled"][0] > 40 and edges["scrolled"][1] == 40, (table, edges)
                assert abs(edges["top"]) <= 1 and all(abs(x) <= 1 for x in edges["corner"]), (table, edges)
                assert abs(edges["first"]) <= 1 and edges["hidden"], (table, edges)  # the rows scrolled under it
                assert edges["headOnTop"] and edges["firstOnTop"], (table, edges)  # nothing shows through
                assert "rgba(0, 0, 0, 0)" not in edges["backgrounds"] and "transparent" not in edges["backgrounds"]
            assert not loads, f"the page fetched {loads}"
            assert not errors, errors
        finally:
            browser.close()
    t2 = time.perf_counter()
    print(f"records and page {t1 - t0:.1f} s, browser {t2 - t1:.1f} s")
    assert (out / "index.png").stat().st_size > 10_000
