"""Record files, and the agreement matrix merged from them.

Each framework run writes one record file: a header (target, framework version, Python,
platform, time) and one record per case. :func:`merge` turns any number of record files
into the matrix; it is a pure function of the records and runs nothing.
"""
from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .compare import FAIL, NA, PASS, Record
from .errors import SpecError

TARGET_ORDER = ("torch", "keras", "keras-jax", "flax-linen", "flax-nnx")
RECORD_FORMAT = "paramspec-records/1"


def write_records(path: Path | str, target: str, framework_version: str, records: Iterable[Record]) -> Path:
    """Write one target's records (and a header) as JSON."""
    from . import __version__

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    recs = [r.to_dict() for r in records]
    doc = {
        "format": RECORD_FORMAT,
        "header": {
            "target": target, "framework_version": framework_version, "paramspec": __version__,
            "python": platform.python_version(), "platform": platform.platform(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
        "records": recs,
        "footer": {v: sum(r["verdict"] == v for r in recs) for v in (PASS, FAIL, NA)},
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    tmp.replace(path)
    return path


def read_records(path: Path | str) -> tuple[dict[str, Any], list[Record]]:
    """Read a record file back.

    Raises:
        SpecError: the file is not a paramspec record file.
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SpecError(f"not a readable record file ({type(e).__name__})", str(path)) from None
    if not isinstance(doc, dict) or doc.get("format") != RECORD_FORMAT:
        raise SpecError(f"not a paramspec record file (format is not {RECORD_FORMAT})", str(path))
    try:
        return doc["header"], [Record.from_dict(r) for r in doc["records"]]
    except (KeyError, TypeError) as e:
        raise SpecError(f"malformed record file ({e})", str(path)) from None


@dataclass
class Matrix:
    """Rows are cases; columns are the canonical formula and each target."""

    targets: list[str]
    headers: dict[str, dict[str, Any]]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, dict[str, int]]:
        out = {t: {PASS: 0, FAIL: 0, NA: 0} for t in self.targets}
        for row in self.rows:
            for t, cell in row["cells"].items():
                out[t][cell["verdict"]] += 1
        return out

    @property
    def failures(self) -> list[Record]:
        return [Record.from_dict(c["record"]) for row in self.rows for c in row["cells"].values()
                if c["verdict"] == FAIL]

    def to_dict(self) -> dict[str, Any]:
        rows = [{"case": r["case"], "kind": r["kind"], "config": r["config"], "formula": r["formula"],
                 "cells": {t: {k: v for k, v in c.items() if k != "record"} for t, c in r["cells"].items()}}
                for r in self.rows]
        return {"targets": self.targets, "headers": self.headers, "summary": self.summary(), "rows": rows}


def merge(files: Iterable[tuple[dict[str, Any], list[Record]]]) -> Matrix:
    """Merge record files (header, records) into a matrix. Pure: runs nothing."""
    headers: dict[str, dict[str, Any]] = {}
    rows: dict[str, dict[str, Any]] = {}
    for header, records in files:
        tgt = header["target"]
        headers[tgt] = header
        for r in records:
            row = rows.setdefault(r.case, {"case": r.case, "kind": r.kind, "config": r.config,
                                           "formula": None, "cells": {}})
            if r.expected and row["formula"] is None:
                row["formula"] = {"params": r.expected["canonical_params"], "state": r.expected["canonical_state"]}
            row["cells"][tgt] = {
                "verdict": r.verdict,
                "params": r.got.get("params"), "state": r.got.get("state"),
                "expected_params": r.expected.get("params"), "expected_state": r.expected.get("state"),
                "convention": r.expected.get("convention"), "reason": r.reason if r.verdict != PASS else "",
                "problems": r.problems, "record": r.to_dict(),
            }
    targets = sorted(headers, key=lambda t: TARGET_ORDER.index(t) if t in TARGET_ORDER else 99)
    return Matrix(targets, headers, list(rows.values()))


def _count(params: int | None, state: int | None) -> str:
    if params is None:
        return "?"
    return f"{params:,}" + (f" + {state:,} state" if state else "")


def _cell(cell: dict[str, Any] | None, formula: dict[str, Any] | None = None) -> str:
    if cell is None:
        return "not run"
    if cell["verdict"] == NA:
        return "n/a"
    mark = "✓" if cell["verdict"] == PASS else "✗"
    if cell["params"] is None:
        return mark
    # † where the framework's own formula gives other counts than the canonical one
    differs = formula is None or (cell["expected_params"], cell["expected_state"]) != (formula["params"], formula["state"])
    conv = "†" if cell["convention"] and differs else ""
    return f"{_count(cell['params'], cell['state'])} {mark}{conv}"


def markdown(m: Matrix) -> str:
    """The matrix as Markdown: the table, then conventions, n/a reasons and failures."""
    out = ["# paramspec agreement matrix", ""]
    out.append("Each cell is what the framework read: trainable parameters, then state (running "
               "statistics) where there is any. ✓ equals the framework's formula in the spec; "
               "† marks counts that follow a recorded framework convention (listed below, with "
               "conventions on what a per-name sum counts twice); ✗ disagrees; n/a: the "
               "framework lacks the layer or option (reasons below).")
    out.append("")
    out.append("| target | version | pass | fail | n/a | run |")
    out.append("| --- | --- | ---: | ---: | ---: | --- |")
    summary = m.summary()
    for t in m.targets:
        h = m.headers[t]
        s = summary[t]
        out.append(f"| {t} | {h['framework_version']} | {s[PASS]} | {s[FAIL]} | {s[NA]} | {h['created']} |")
    out.append("")
    out.append("| case | formula | " + " | ".join(m.targets) + " |")
    out.append("| --- | ---: | " + " | ".join("---:" for _ in m.targets) + " |")
    for row in m.rows:
        f = row["formula"]
        formula = _count(f["params"], f["state"]) if f else "?"
        cells = [_cell(row["cells"].get(t), f) for t in m.targets]
        out.append(f"| `{row['case']}` | {formula} | " + " | ".join(cells) + " |")
    conventions: dict[tuple[str, str], list[str]] = {}
    nas: dict[tuple[str, str], list[str]] = {}
    for row in m.rows:
        for t, c in row["cells"].items():
            if c["verdict"] == PASS and c["convention"]:
                conventions.setdefault((row["kind"], c["convention"]), []).append(t)
            if c["verdict"] == NA:
                nas.setdefault((c["reason"], t), []).append(row["case"])
    if conventions:
        out += ["", "## † Framework conventions", ""]
        for (kind, why), ts in conventions.items():
            out.append(f"- **{kind}** in {', '.join(sorted(set(ts), key=_order))}: {why}")
    if nas:
        out += ["", "## n/a", ""]
        for (why, t), cases in nas.items():
            out.append(f"- {t}: {why} ({', '.join(f'`{c}`' for c in cases)})")
    fails = m.failures
    out += ["", "## Disagreements", ""]
    if not fails:
        out.append("None.")
    for r in fails:
        out += ["```", r.explain(), "```"]
    return "\n".join(out) + "\n"


def _order(t: str) -> int:
    return TARGET_ORDER.index(t) if t in TARGET_ORDER else 99


def text_table(m: Matrix) -> str:
    """A compact terminal rendering of the matrix."""
    head = ["case", "formula", *m.targets]
    rows = [head]
    for row in m.rows:
        f = row["formula"]
        rows.append([row["case"], _count(f["params"], f["state"]) if f else "?",
                     *[_cell(row["cells"].get(t), f) for t in m.targets]])
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)) for r in rows]
    s = m.summary()
    lines.append("")
    for t in m.targets:
        lines.append(f"{t:<11} {m.headers[t]['framework_version']}: {s[t][PASS]} pass, {s[t][FAIL]} fail, {s[t][NA]} n/a")
    return "\n".join(lines)

