"""The tools audit report: record files of tool runs (one per tool), merged without re-running.

:func:`tools_report` is a pure function of the record files, as :func:`~.matrix.merge` is for
the agreement matrix: a per-tool summary line, a case × tool table, and the findings, each
with the smallest case that shows it (the case with the smallest true parameter count). A
tool's readings are its ``params``, its ``compute`` (forward) and its ``training`` figure (a
training step's, or its backward's, as the tool says), each in the unit the tool names.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..record import Record
from ..tools import CONVENTION, FINDINGS, QUANTITIES, RIGHT, WRONG, load_tools, mark_of
from .records import RecordFile, check_mergeable

NOUNS = {"silent zero": "silent zeros", "double counted": "double counts", "missing": "missing counts",
         "other": "other errors"}


@dataclass
class ToolColumn:
    tool: str
    version: str
    framework: str | None
    records: dict[str, Record] = field(default_factory=dict)

    def tally(self) -> dict[str, Any]:
        """Per quantity, right (✓) of graded readings (✓, †, ✗); per finding, how many."""
        out: dict[str, Any] = {q: {"right": 0, "of": 0} for q in QUANTITIES}
        found: Counter = Counter()
        conventions = errors = 0
        for r in self.records.values():
            if r.reason and r.verdict == "fail" and not r.quantities:
                errors += 1
            for name in QUANTITIES:
                q = r.quantities.get(name)
                m = mark_of(q)
                if not m:
                    continue
                out[name]["of"] += 1
                out[name]["right"] += m == RIGHT
                conventions += m == CONVENTION
                if q.finding:
                    found[q.finding] += 1
        out.update({f: found.get(f, 0) for f in FINDINGS})
        out["convention"], out["error"] = conventions, errors
        return out

    def line(self, unit: str, training_unit: str = "") -> str:
        t = self.tally()
        name = self.version if self.version.split(" ")[0] == self.tool else f"{self.tool} ({self.version})"
        parts = [f"{name}:"]
        if t["params"]["of"]:
            parts.append(f"params {t['params']['right']}/{t['params']['of']} right")
        if t["compute"]["of"]:
            parts.append(f"{unit or 'compute'} {t['compute']['right']}/{t['compute']['of']}")
        if t["training"]["of"]:
            parts.append(f"{label('training', training_unit)} {t['training']['right']}/{t['training']['of']}")
        if t["convention"]:
            parts.append(f"{t['convention']} {CONVENTION}")
        text = parts[0] + " " + ", ".join(parts[1:])
        extra = [f"{t[f]} {NOUNS[f] if t[f] != 1 else f}" for f in FINDINGS if t[f]]
        return text + ("; " + ", ".join(extra) if extra else "; no errors")


@dataclass
class ToolsReport:
    columns: list[ToolColumn]
    rows: list[dict[str, Any]]  # case, kind, config, canonical

    def findings(self) -> list[dict[str, Any]]:
        """Each (tool, finding, quantity) once, with its smallest case."""
        best: dict[tuple[str, str, str], tuple[int, dict[str, Any]]] = {}
        size = {r["case"]: (r["canonical"] or {}).get("params") or 0 for r in self.rows}
        for col in self.columns:
            for case, r in col.records.items():
                for name, q in r.quantities.items():
                    if not q.finding:
                        continue
                    key = (col.tool, q.finding, name)
                    item = {"tool": col.tool, "version": col.version, "finding": q.finding, "quantity": name,
                            "case": case, "config": r.config, "got": q.got, "expected": q.expected,
                            "formula": q.formula,
                            "difference": None if q.got is None or q.expected is None else q.got - q.expected,
                            "explain": q.explain or r.reason,
                            "reproduce": reproduce(col.tool, r)}
                    if key not in best or size.get(case, 0) < best[key][0]:
                        best[key] = (size.get(case, 0), item)
        return [v for _, v in sorted(best.values(), key=lambda x: (x[1]["tool"], x[1]["finding"], x[0]))]

    def to_dict(self) -> dict[str, Any]:
        from ..record import SCHEMA_VERSION

        tools = load_tools().tools
        out_tools = []
        for c in self.columns:
            t = tools.get(c.tool)
            unit = t.claims["compute"].unit if t and "compute" in t.claims else ""
            training_unit = t.claims["training"].unit if t and "training" in t.claims else ""
            out_tools.append({"tool": c.tool, "version": c.version, "framework": c.framework,
                              "claim": {q: cl.says for q, cl in t.claims.items()} if t else {},
                              "absent": dict(t.absent) if t else {},
                              "compute_unit": unit, "training_unit": training_unit, "summary": c.tally(),
                              "line": c.line(unit, training_unit)})
        rows = []
        for row in self.rows:
            cells = {}
            for c in self.columns:
                r = c.records.get(row["case"])
                if r is not None:
                    cells[c.tool] = cell(r)
            rows.append({**row, "cells": cells})
        return {"schema_version": SCHEMA_VERSION, "tools": out_tools, "rows": rows, "findings": self.findings()}


def cell(r: Record) -> dict[str, Any]:
    d: dict[str, Any] = {"verdict": r.verdict, "reason": r.reason or None,
                         "warnings": [n.split(": ", 1)[1] for n in r.notes if n.startswith("warning: ")],
                         "notes": [n for n in r.notes if not n.startswith("warning: ")],
                         "error": r.reason if r.verdict == "fail" and r.reason else None}
    for name in QUANTITIES:
        q = r.quantities.get(name)
        if q is None:
            d[name] = None
            continue
        d[name] = {"got": q.got, "expected": q.expected, "formula": q.formula, "mark": mark_of(q) or WRONG,
                   "finding": q.finding, "why": q.why,
                   "difference": None if q.got is None or q.expected is None else q.got - q.expected}
    return d


def reproduce(tool: str, r: Record) -> str:
    """The one-line command that shows a record again."""
    config = {k: v for k, v in r.config.items() if k != "freeze"}
    key = "model" if "model" in config else "kind"
    return f"paramspec tools --tool {tool} --{key} {config.get(key)}" + (
        f"  # case {r.case}" if r.case else "")


def tools_report(files: Iterable[RecordFile]) -> ToolsReport:
    """Merge tool record files (one per tool run). Pure: runs nothing.

    Raises:
        SpecError: two files for one tool, or records compared with two versions of the spec.
    """
    files = list(files)
    check_mergeable(files)
    order = list(load_tools().tools)
    files.sort(key=lambda f: order.index(f.source.name) if f.source.name in order else len(order))
    rows: dict[str, dict[str, Any]] = {}
    columns = []
    for f in files:
        col = ToolColumn(f.source.name, f.source.version, f.source.framework)
        for r in f.records:
            col.records[r.case] = r
            if r.case not in rows:
                rows[r.case] = {"case": r.case, "kind": r.kind, "config": r.config,
                                "canonical": {key: None for _, key in CANONICAL}}
            canon = rows[r.case]["canonical"]
            for name, key in CANONICAL:
                q = r.quantities.get(name)
                if canon.get(key) is None and q is not None and q.canonical is not None:
                    canon[key] = q.canonical
        columns.append(col)
    return ToolsReport(columns, list(rows.values()))


# Each quantity's canonical figure in a row: the parameters, the forward's MACs, the training step's MACs.
CANONICAL = (("params", "params"), ("compute", "macs"), ("training", "step_macs"))


def unit_of(report: dict[str, Any], tool: str, quantity: str = "compute") -> str | None:
    """The tool's unit for ``quantity`` as the report names it (MACs, FLOPs), if it gives one."""
    return next((t.get(f"{quantity}_unit") for t in report["tools"] if t["tool"] == tool), None)


def label(quantity: str, unit: str | None) -> str:
    """How a reading is named: ``params``, its compute unit (``MACs``), ``training FLOPs``."""
    if quantity == "params":
        return "params"
    if quantity == "training":
        return f"training {unit}" if unit else "training"
    return unit or "compute"


def finding_lines(report: dict[str, Any], tool: str) -> list[str]:
    """Each finding of ``tool``, with its smallest case, what it read, and why (for a terminal)."""
    out = []
    for f in report["findings"]:
        if f["tool"] != tool:
            continue
        diff = "" if f["difference"] is None else f" ({f['difference']:+,})"
        got = "an error" if f["got"] is None else f"{f['got']:,}"
        exp = "?" if f["expected"] is None else f"{f['expected']:,}"
        what = label(f["quantity"], unit_of(report, tool, f["quantity"]))
        out.append(f"{f['finding']}, {what}: {f['case']} reads {got}, its own definition gives {exp}{diff}"
                   + (f"; {f['explain']}" if f["explain"] else ""))
    return out


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: the summary lines, the findings, the case × tool table."""
    tools = [t["tool"] for t in report["tools"]]
    lines = ["# How the counting tools compare", "",
             "Each reading is judged against what the tool says it counts (`spec/tools.yaml`): "
             f"{RIGHT} right by its own definition, {CONVENTION} a convention it documents or warns about, "
             f"{WRONG} wrong (silent zero, double counted, missing, other).", ""]
    lines += [f"- {t['line']}" for t in report["tools"]]
    lines += ["", "## Findings (each with its smallest case)", ""]
    for f in report["findings"]:
        diff = "" if f["difference"] is None else f" ({f['difference']:+,})"
        got = "an error" if f["got"] is None else f"{f['got']:,}"
        exp = "?" if f["expected"] is None else f"{f['expected']:,}"
        lines.append(f"- **{f['tool']}** {f['finding']}, {f['quantity']}: `{f['case']}` reads {got}, "
                     f"its own definition gives {exp}{diff}. {f['explain']} `{f['reproduce'].split('  #')[0]}`")
    lines += ["", "## Every case", "", "| case | " + " | ".join(tools) + " |",
              "| --- | " + " | ".join("---" for _ in tools) + " |"]
    for row in report["rows"]:
        cells = []
        for t in tools:
            c = row["cells"].get(t)
            if c is None or c["verdict"] == "n/a":
                cells.append("n/a")
                continue
            bits = []
            for name in QUANTITIES:
                q = c.get(name)
                if q is not None:
                    bits.append(f"{label(name, unit_of(report, t, name))} "
                                f"{'?' if q['got'] is None else format(q['got'], ',')} {q['mark']}")
            cells.append(" · ".join(bits) or ("✗ error" if c["error"] else ""))
        lines.append(f"| `{row['case']}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
