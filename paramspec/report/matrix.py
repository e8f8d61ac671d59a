"""The agreement matrix: rows are cases, columns the canonical formula and each target.

:func:`merge` is a pure function of the record files: it runs nothing, and the order the
files come in changes nothing (targets follow ``frameworks.yaml``, cases the spec's order as
the records list them).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from ..frameworks import order
from ..record import FAIL, NA, PASS, Record
from .records import RecordFile, check_mergeable


@dataclass
class Cell:
    record: Record

    @property
    def verdict(self) -> str:
        return self.record.verdict

    @property
    def params_verdict(self) -> str:
        return self.record.verdict_of("params") or FAIL

    @property
    def mark(self) -> str:
        """The parameter count's mark: ``✓`` pass; ``✓†`` pass by a recorded convention;
        ``✗`` fail; ``n/a``."""
        r = self.record
        v = self.params_verdict
        if v == NA:
            return "n/a"
        if v == FAIL:
            return "✗"
        marks = {q.mark for q in r.quantities.values()}
        return "✓†" if "†" in marks else "✓"

    def to_dict(self) -> dict[str, Any]:
        r = self.record
        d = {"verdict": r.verdict, "mark": self.mark, "params": r.params, "state": r.state,
             "convention": r.convention, "reason": r.reason, "problems": r.all_problems,
             "quantities": {k: q.to_dict() for k, q in r.quantities.items()}}
        v, c = r.verdict_of("flops"), r.compute
        if c is not None:
            d["flops"] = {"verdict": v, "mark": c.mark, "measured": c.measured, "matmul": c.matmul,
                          "compared": c.compared, "expected": c.expected, "compares": c.compares, "macs": c.macs,
                          "counter": c.counter, "why": c.convention, "not_applicable": c.not_applicable,
                          "error": c.error, "by_op": c.by_op, "problems": c.problems(c.counter)}
        t = r.training
        if t is not None:
            d["training"] = {"verdict": r.verdict_of("training"), "mark": t.mark, "counter": t.counter,
                             "backward_macs": t.backward_macs, "step_flops": t.step_flops,
                             "measured_backward": t.measured_backward, "measured_step": t.measured_step,
                             "expected_backward": t.quantities["backward"].expected if "backward" in t.quantities
                             else None,
                             "quantities": {k: q.to_dict() for k, q in t.quantities.items()},
                             "memory": t.memory.get("bytes", {}), "why": t.convention,
                             "not_applicable": t.not_applicable, "error": t.error, "problems": t.problems(t.counter)}
        if c is None and v is not None:  # the case itself is n/a in this target: nothing was measured
            d["flops"] = {"verdict": v, "mark": "n/a", "measured": None, "matmul": None, "compared": None,
                          "expected": None, "compares": None, "macs": None, "counter": None, "why": None,
                          "not_applicable": r.reason, "error": None, "by_op": {}, "problems": []}
        return d


@dataclass
class Row:
    case: str
    kind: str
    config: dict[str, Any]
    canonical: dict[str, int | None] | None = None  # {"params", "state"}, and "active" where the kind has it
    macs: int | None = None  # the spec's canonical MACs at the case's input
    cells: dict[str, Cell] = field(default_factory=dict)


@dataclass
class Matrix:
    """Rows are cases; columns are the canonical formula and each target."""

    targets: list[str]
    headers: dict[str, dict[str, Any]]
    rows: list[Row] = field(default_factory=list)

    def summary(self, part: str = "params") -> dict[str, dict[str, int]]:
        """Per target, how many cases pass, fail or are n/a, for one part (``params`` or
        ``flops``; a case not measured is not in the ``flops`` summary)."""
        out = {t: {PASS: 0, FAIL: 0, NA: 0} for t in self.targets}
        for row in self.rows:
            for t, cell in row.cells.items():
                v = cell.record.verdict_of(part)
                if v is not None:
                    out[t][v] += 1
        return out

    @property
    def measured(self) -> bool:
        """Whether any record holds a compute reading (the FLOPs matrix is shown then)."""
        return any(c.record.compute is not None for row in self.rows for c in row.cells.values())

    @property
    def trained(self) -> bool:
        """Whether any record holds a training step (the training matrix is shown then)."""
        return any(c.record.training is not None for row in self.rows for c in row.cells.values())

    @property
    def failures(self) -> list[Record]:
        return [c.record for row in self.rows for c in row.cells.values() if c.verdict == FAIL]

    def to_dict(self) -> dict[str, Any]:
        from ..record import SCHEMA_VERSION

        return {"schema_version": SCHEMA_VERSION, "targets": self.targets, "headers": self.headers,
                "summary": self.summary(), "flops_summary": self.summary("flops") if self.measured else None,
                "training_summary": self.summary("training") if self.trained else None,
                "rows": [{"case": r.case, "kind": r.kind, "config": r.config, "canonical": r.canonical,
                          "macs": r.macs, "cells": {t: c.to_dict() for t, c in r.cells.items()}} for r in self.rows]}


def merge(files: Iterable[RecordFile]) -> Matrix:
    """Merge record files into the matrix. Pure: runs nothing; checks that they merge.

    Raises:
        SpecError: two files for one target, or records compared with two versions of the spec.
    """
    files = sorted(files, key=lambda f: order(f.source.name))
    check_mergeable(files)
    rows: dict[str, Row] = {}
    for f in files:
        for r in f.records:
            row = rows.setdefault(r.case, Row(r.case, r.kind, r.config))
            if row.canonical is None and r.quantities.get("params") and r.quantities["params"].canonical is not None:
                row.canonical = {"params": r.quantities["params"].canonical,
                                 "state": r.quantities["state"].canonical}
                if "active" in r.quantities:  # the formula's: active has no convention
                    row.canonical["active"] = r.quantities["active"].expected
            if row.macs is None and r.compute is not None:
                row.macs = r.compute.macs
            row.cells[f.source.name] = Cell(r)
    return Matrix([f.source.name for f in files], {f.source.name: f.header for f in files}, list(rows.values()))
