"""The report page's own CSS and JavaScript (:mod:`paramspec.report.html` inlines both).

Both are constants: the page's Content-Security-Policy names each by its SHA-256, so only
this style sheet and this script apply, and nothing is loaded from anywhere.

The script builds a cell's details when the cell is opened (and its tooltip, its ``title``,
when the pointer first comes over it) from the page's one data block
(``<script type="application/json" id="cell-data">``): a list of nodes, each
``["tag class", child, ...]``, a child being text (a string) or the index of another node (an
integer); a ``["", text]`` node is text. A cell's ``data-d`` is the index of its
``["cell", head, tip, body]`` node: ``head`` is ``["head", verdict, mark, the mark's class]``,
from which, with the cell's column and row, the script writes the tooltip's first line and the
details' heading; ``tip`` holds the tooltip's other lines, a node a line; ``body`` the details.
The script creates elements and text nodes only (it never parses markup), so a string from the
inputs is always text.
"""
from __future__ import annotations

__all__ = ["CSS", "JS"]

CSS = """
:root { --bar: 0px; --ok: #e3f4e6; --ok-fg: #11672c; --conv: #fff1cc; --conv-fg: #7a4d00;
  --bad: #fde4e4; --bad-fg: #a61b1b; --na: #ececec; --na-fg: #5f5f5f; --line: #d5d8dc;
  --s-ok: #3f9c5a; --s-conv: #e0a11b; --s-bad: #d64545; --s-err: #7f1d1d; --s-na: #c5c8cc; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  color: #1d1f22; background: #fafbfc; }
header.page { padding: 12px 16px 4px; }
header.page h1 { font-size: 20px; margin: 0 0 2px; }
header.page p { margin: 0; color: #555; }
main { padding: 0 16px 40px; }
h2 { font-size: 16px; margin: 22px 0 6px; }
code, .num, td.canon, td.cell, pre, td.counts { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas,
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
thead th { background: #e9ecef; text-align: left; border-top: 1px solid var(--line); white-space: nowrap; }
thead th small { font-weight: normal; color: #555; }
tbody th.case { background: #fff; text-align: left; font-weight: normal; white-space: nowrap; }
.scroll { overflow: auto; max-width: 100%; max-height: calc(100vh - var(--bar) - 16px);
  border: 1px solid var(--line); background: #fff; }
.scroll > table > thead th { position: sticky; top: 0; z-index: 3; border-top: 0; }
.scroll > table > tbody > tr > th.case { position: sticky; left: 0; z-index: 2; }
.scroll > table > thead th.case { left: 0; z-index: 4; }
.scroll > table > * > tr > :first-child { border-left: 0; }
.scroll > table > tbody > tr > th.case, .scroll > table > thead th.case { box-shadow: 1px 0 0 var(--line); }
.scroll > table > tbody > tr > th.case code { display: inline-block; width: max-content; max-width: 18em;
  white-space: normal; overflow-wrap: break-word; }
td.canon { text-align: right; white-space: nowrap; color: #333; }
td.cell { text-align: right; white-space: nowrap; min-width: 9em; }
td.cell > button { all: unset; display: block; box-sizing: border-box; width: 100%; cursor: pointer;
  text-align: right; }
td.cell > button:focus-visible, td.cell > button[aria-expanded="true"] { outline: 2px solid #1a73e8;
  outline-offset: 1px; }
.line { display: block; }
.mk, td.cell b { display: inline-block; min-width: 1.8em; text-align: left; font-weight: 600; }
td.cell .q, td.cell .sub { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
.q { color: #555; font-size: 11.5px; margin-right: 4px; }
.sub { color: #555; font-size: 11.5px; }
.m-ok { background: var(--ok); } .m-ok .mk, .mk.m-ok, td.m-ok b, .line.m-ok b { color: var(--ok-fg); }
.m-conv { background: var(--conv); } .m-conv .mk, .mk.m-conv, td.m-conv b, .line.m-conv b { color: var(--conv-fg); }
.m-bad { background: var(--bad); } .m-bad .mk, .mk.m-bad, td.m-bad b, .line.m-bad b { color: var(--bad-fg); }
.m-na { background: var(--na); color: var(--na-fg); } .m-na .mk, .mk.m-na, td.m-na b, .line.m-na b { color: var(--na-fg); }
.line.m-ok, .line.m-conv, .line.m-bad, .line.m-na { margin: 1px -4px; padding: 0 4px; border-radius: 3px; }
td.m-ok .line.m-ok, td.m-conv .line.m-conv, td.m-bad .line.m-bad, td.m-na .line.m-na { background: transparent; }
.line.fl { border-top: 1px dashed rgba(0,0,0,.15); margin-top: 2px; padding-top: 1px; font-size: 12px; }
#pop { position: fixed; z-index: 60; top: 0; left: 0; width: 42em; max-width: calc(100vw - 16px); max-height: 60vh;
  overflow: auto; text-align: left; white-space: normal; background: #fff; color: #1d1f22;
  border: 1px solid #9aa0a6; border-radius: 4px; box-shadow: 0 4px 14px rgba(0,0,0,.18); padding: 8px 10px;
  font-size: 12.5px; }
#pop[hidden] { display: none; }
#pop .close { float: right; margin: -4px -4px 0 8px; font: inherit; font-size: 16px; line-height: 1; padding: 2px 6px;
  border: 0; background: none; cursor: pointer; color: #555; }
#pop h3 { font-size: 13px; margin: 0 0 6px; }
#pop h4 { font-size: 12.5px; margin: 8px 0 3px; }
#pop dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 0; }
#pop dt { color: #555; } #pop dd { margin: 0; overflow-wrap: anywhere; }
#pop table { font-size: 12px; margin-top: 2px; }
#pop th, #pop td { padding: 1px 6px; white-space: nowrap; background: none; }
#pop td.n { text-align: right; }
#pop td.f { white-space: normal; min-width: 12em; }
#pop ul { margin: 2px 0; padding-left: 18px; }
#pop pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 2px 0; font-size: 11.5px; }
.badge { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 11.5px; font-weight: 600; }
#summary table td, #summary table th { white-space: nowrap; }
table.chart { background: none; margin: 4px 0; width: 100%; max-width: 60em; }
table.chart th, table.chart td { border: 0; padding: 1px 6px; vertical-align: middle; }
table.chart th.tool { padding-top: 8px; text-align: left; font-weight: normal; white-space: normal; }
table.chart th.tool b { font-weight: 600; }
table.chart td.q { color: #555; font-size: 12px; width: 5em; }
table.chart td.bar { width: 100%; min-width: 12em; }
table.chart td.counts { font-size: 12px; }
svg.bar { display: block; width: 100%; height: 16px; background: #f3f4f6; border-radius: 2px; }
.s-ok { fill: var(--s-ok); background: var(--s-ok); } .s-conv { fill: var(--s-conv); background: var(--s-conv); }
.s-bad { fill: var(--s-bad); background: var(--s-bad); } .s-err { fill: var(--s-err); background: var(--s-err); }
.s-na { fill: var(--s-na); background: var(--s-na); }
.key { font-size: 12px; color: #444; margin: 2px 0 6px; }
.key span.sw { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px; border-radius: 2px; }
#findings ol { padding-left: 22px; }
#findings li { margin: 4px 0; padding: 3px 6px; border-radius: 3px; }
#findings li.m-bad { background: #fff6f6; }
#findings code.repro { display: inline-block; background: #f1f3f4; padding: 0 4px; border-radius: 3px; }
.empty { color: #666; font-style: italic; }
"""

JS = r"""
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
    close();
  }

  // a cell's tooltip and details, built from the data block when first needed
  var data = null;
  var TAGS = {div: 1, h3: 1, h4: 1, p: 1, dl: 1, dt: 1, dd: 1, ul: 1, li: 1, pre: 1, code: 1, span: 1, b: 1,
              table: 1, thead: 1, tbody: 1, tr: 1, th: 1, td: 1};
  function nodes() {
    if (data === null) {
      var block = byId("cell-data");
      data = block ? JSON.parse(block.textContent) : [];
    }
    return data;
  }
  function textOf(x) {
    if (typeof x === "string") { return x; }
    var n = nodes()[x], parts = [];
    if (!n) { return ""; }
    for (var i = 1; i < n.length; i += 1) { parts.push(textOf(n[i])); }
    return parts.join("");
  }
  function build(x) {
    var n = typeof x === "string" ? null : nodes()[x];
    if (!n || n[0] === "") { return document.createTextNode(textOf(x)); }
    var spec = n[0], sp = spec.indexOf(" "), tag = sp < 0 ? spec : spec.slice(0, sp);
    var el = document.createElement(TAGS[tag] ? tag : "span");
    if (sp >= 0) { el.className = spec.slice(sp + 1); }
    for (var i = 1; i < n.length; i += 1) { el.appendChild(build(n[i])); }
    return el;
  }
  function el(tag, content, cls) {
    var e = document.createElement(tag);
    e.textContent = content;
    if (cls) { e.className = cls; }
    return e;
  }
  // a cell: its column's name, its row's case, and its node ["cell", head, tip, body],
  // head being ["head", verdict, mark, the mark's class]
  function cellOf(td) {
    var n = nodes()[parseInt(td.getAttribute("data-d"), 10)];
    if (!n || n[0] !== "cell") { return null; }
    var head = nodes()[n[1]] || [];
    return {column: td.getAttribute("data-target") || td.getAttribute("data-tool") || "",
            kase: (td.parentNode && td.parentNode.getAttribute("data-case")) || "",
            verdict: textOf(head[1] || ""), mark: textOf(head[2] || ""), cls: textOf(head[3] || ""),
            tip: nodes()[n[2]] || [], body: n[3]};
  }
  function tooltip(td) {
    var c = cellOf(td);
    if (!c) { return ""; }
    var lines = [(c.column + " · " + c.kase + ": " + c.verdict + " " + c.mark).replace(/\s+$/, "")];
    for (var i = 1; i < c.tip.length; i += 1) { lines.push(textOf(c.tip[i])); }
    lines.push("(click for details)");
    return lines.join("\n");
  }
  function details(td) {
    var c = cellOf(td), out = document.createElement("div");
    if (!c) { return out; }
    var h3 = document.createElement("h3");
    h3.appendChild(document.createTextNode(c.column + " · "));
    h3.appendChild(el("code", c.kase));
    h3.appendChild(document.createTextNode(" · " + c.verdict));
    if (c.mark) {
      h3.appendChild(document.createTextNode(" "));
      h3.appendChild(el("span", c.mark, "badge " + c.cls));
    }
    out.appendChild(h3);
    out.appendChild(build(c.body));
    return out;
  }
  // a cell's tooltip is set when the pointer first comes over it
  document.addEventListener("mouseover", function (e) {
    var td = e.target.closest ? e.target.closest("td[data-d]") : null;
    if (td && !td.hasAttribute("title")) { td.setAttribute("title", tooltip(td)); }
  });
  var pop = byId("pop"), body = byId("pop-body"), opened = null;
  function place() {
    if (!opened || !pop) { return; }
    var r = opened.getBoundingClientRect(), de = document.documentElement;
    var vw = de.clientWidth, vh = de.clientHeight, w = pop.offsetWidth, h = pop.offsetHeight, m = 8;
    var left = Math.max(m, Math.min(r.left, vw - w - m));
    var top = r.bottom + 2;
    if (top + h > vh - m) { top = r.top - h - 2 >= m ? r.top - h - 2 : Math.max(m, vh - h - m); }
    pop.style.left = left + "px";
    pop.style.top = top + "px";
  }
  function close() {
    if (!opened || !pop) { return; }
    opened.setAttribute("aria-expanded", "false");
    opened = null;
    pop.hidden = true;
    body.textContent = "";
  }
  function open(button) {
    close();
    if (!pop) { return; }
    body.appendChild(details(button.parentNode));
    opened = button;
    button.setAttribute("aria-expanded", "true");
    pop.hidden = false;
    pop.scrollTop = 0;
    place();
  }
  document.addEventListener("click", function (e) {
    var b = e.target.closest ? e.target.closest("td.cell > button") : null;
    if (b) {
      if (b === opened) { close(); } else { open(b); }
    } else if (opened && pop && !pop.contains(e.target)) {
      close();
    }
  });
  if (pop) { pop.querySelector(".close").addEventListener("click", function () {
    var b = opened; close(); if (b) { b.focus(); }
  }); }
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && opened) { var b = opened; close(); b.focus(); }
  });
  window.addEventListener("scroll", place, true);
  window.addEventListener("resize", function () { setBar(); place(); });
  [kind, fw, tool].forEach(function (el) { if (el) { el.addEventListener("change", apply); } });
  if (text) { text.addEventListener("input", apply); }
  setBar();
  apply();
})();
"""
