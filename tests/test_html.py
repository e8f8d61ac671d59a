"""The HTML report (``paramspec.report.html``): rendered, and opened in a real headless browser.

The rendering tests are framework-free: their records come from the spec's own comparison
(:func:`paramspec.compare.compare`) of readings that list torch.nn.LSTM's documented tensor
shapes, from the spec's recorded n/a, and, for escaping, from synthetic records.

The browser test (marked ``browser``) needs torch, the ``playwright`` package and a system
Chromium (Debian's ``chromium``; playwright's own browser download is never used). Its
matrix is merged from record files of real torch runs (``run_case`` on the spec's LSTM,
Linear and BatchNorm2d cases). Its tools report is built as ``paramspec tools`` builds it
(each installed torch tool run on the same cases, record files, ``tools_report``), or, with
no tool installed, from real torch readings of the same modules. It writes
``reports/index.html`` and a screenshot, ``reports/index.png``.
"""
from __future__ import annotations

import base64
import hashlib
import importlib
import importlib.util
import json
import os
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
    ends = [page.find(x, start) for x in ("<tr data-kind=", "\n</tbody></table></section>")]
    return page[start:min(e for e in ends if e != -1)]


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


def test_the_page_shows_the_summary_the_cells_and_their_details(tmp_path):
    m = matrix_dict(tmp_path)
    page = html(m, tools_dict(m))
    assert '<section id="summary">' in page and "1 pass, 2 fail, 1 n/a" in page
    assert "counter&lt;x&gt; 0.1: params 3/4 right, 1 silent zero" in page
    cell = row_html(page, "LSTM[in300-h128]")
    assert '<td class="cell m-conv" data-target="torch" data-mark="✓†"' in cell
    assert "220,160" in cell and "✓†" in cell and "219,648" in cell  # got; canonical in the details
    assert "weights + num_layers * D * 8 * gate_bias" in cell and "two bias vectors" in cell
    assert "weight_ih_l0" not in cell  # Matrix.to_dict() holds no per-tensor list; where a cell has one:
    m["rows"][0]["cells"]["torch"]["tensors"] = [t.to_dict() for t in lstm_reading(300, 128).tensors]
    cell = row_html(html(m, None), "LSTM[in300-h128]")
    assert "<code>weight_ih_l0</code>" in cell and "(512, 300)" in cell and ">153,600<" in cell
    assert re.search(r'title="torch · LSTM\[in300-h128\]: pass ✓†\nparams: got 220,160', cell)
    fail = row_html(page, "LSTM[in10-h20-L2]")
    assert 'class="cell m-bad"' in fail and "✗" in fail and "expected 5,920" in fail
    na = row_html(page, "GRU[in300-h128-nora]")
    assert 'class="cell m-na"' in na and ">n/a<" in na and "reset gate after the hidden projection" in na
    assert '<table id="matrix">' in page and '<table id="tools">' in page and '<section id="findings">' in page
    assert "paramspec tools --tool counter --kind LSTM" in page and "silent zero" in page
    for filt in ("filter-kind", "filter-framework", "filter-tool", "filter-text"):
        assert f'id="{filt}"' in page
    assert '<option value="LSTM">LSTM</option>' in page


def test_the_page_loads_nothing_and_runs_only_its_own_script(tmp_path):
    m = matrix_dict(tmp_path)
    page = html(m, tools_dict(m))
    loads = Loads()
    loads.feed(page)
    assert loads.urls == ["data:,"]  # the favicon, inline: so the browser asks for none
    assert "http://" not in page and "https://" not in page.replace("https://example.invalid", "")  # the input's
    assert "&lt;img src=https://example.invalid" in page  # text, never a tag
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
def real_tools(spec, matrix: dict, built: dict, tmp_path) -> dict:
    """The tools report, built as ``paramspec tools`` builds it (each installed torch tool of
    ``spec/tools.yaml`` run on the cases, its record file written, read back and merged by
    ``paramspec.report.tools.tools_report``) where that pipeline and a tool are installed;
    else two ways of counting that people use, read from the real torch modules of each case
    (``parameters()``, with FlopCounterMode's MACs; and ``state_dict()``, which counts the
    running statistics too), graded against the matrix's torch readings."""
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
    for row in matrix["rows"]:
        truth = row["cells"]["torch"]
        module, macs = built[row["case"]]
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
    # The torch tox env (its tools tests) sets PARAMSPEC_REQUIRE_BROWSER: there a missing browser fails, never skips.
    required = os.environ.get("PARAMSPEC_REQUIRE_BROWSER") == "1"
    if required:
        import torch
        from playwright import sync_api
    else:
        torch = pytest.importorskip("torch")
        sync_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs `pip install playwright` "
                                                                      "(it drives the system chromium)")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        if required:
            pytest.fail("no chromium: apt-get install -y chromium (.ci/run installs it)")
        pytest.skip("no chromium: apt-get install -y chromium")
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
    built = {}
    for c in cases:
        b = ad.build(c.kind.name, c.values, c.inputs() if c.kind.inputs else ())
        built[c.id] = (b.obj, ad.measure(b).total // 2)
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

            cell = page.locator('#matrix tr[data-case="LSTM[in300-h128]"] td[data-target="torch"]')
            shown = cell.locator("summary").inner_text()
            assert f"{lstm:,}" in shown and "✓†" in shown, shown
            assert "formula: weights + num_layers * D * 8 * gate_bias" in cell.get_attribute("title")
            cell.locator("summary").click()
            details = cell.locator(".pop")
            assert details.is_visible()
            assert "219,648" in details.inner_text()  # the canonical formula's value, beside what torch holds
            assert "two bias vectors" in details.inner_text()
            page.keyboard.press("Escape")
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
            assert not loads, f"the page fetched {loads}"
            assert not errors, errors
        finally:
            browser.close()
    t2 = time.perf_counter()
    print(f"records and page {t1 - t0:.1f} s, browser {t2 - t1:.1f} s")
    assert (out / "index.png").stat().st_size > 10_000
