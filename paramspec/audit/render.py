"""An audit report as a review comment (Markdown) and as a terminal table."""
from __future__ import annotations

from typing import Any


def _fmt(v: Any) -> str:
    return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else ("-" if v is None else str(v))


def _off_by(claimed: int, true: int | None) -> str:
    """`` (off by 10×)`` when the claim is the truth times a power of ten."""
    if not true or not claimed or claimed == true:
        return ""
    for k in range(1, 7):
        if claimed == true * 10 ** k or true == claimed * 10 ** k:
            return f" (off by {10 ** k:,}×)"
    return ""


def markdown(report: dict[str, Any]) -> str:
    """A review comment an author can paste."""
    t = report["targets"]
    out = [f"# paramspec audit: {report['course']}", ""]
    if report["source"]:
        out.append(f"Source: `{report['source']}`. Course file: `{report['file']}`.")
        out.append("")
    out.append("Each cell is the verdict for the formula as written, and where it disagrees, the exact "
               "difference (framework − formula) in the author's own variables.")
    out.append("")
    out.append("| entry | formula | counts | canonical | " + " | ".join(t) + " |")
    out.append("| --- | --- | --- | --- | " + " | ".join("---" for _ in t) + " |")
    for e in report["entries"]:
        def cell(r: dict[str, Any] | None) -> str:
            if not r:
                return "-"
            if r["verdict"] == "agrees":
                return "✓"
            if r["verdict"] == "n/a":
                return "n/a"
            return f"✗ `{r['difference']}`" if r.get("difference") else "✗ (not polynomial)"
        out.append(f"| {e['id']} | `{e['formula'] or '(a claim)'}` | {e['counts']} | {cell(e.get('canonical'))} | "
                   + " | ".join(cell(e["frameworks"].get(x)) for x in t) + " |")
    out += ["", "## Findings", ""]
    n = 0
    seen: set[tuple] = set()
    for e in report["entries"]:
        for x in t:
            r = e["frameworks"][x]
            if r["verdict"] == "disagrees":
                n += 1
                diff = f"is short by `{r['difference']}`" if r.get("difference") else "differs"
                out.append(f"- **{e['id']}** in {x}: the formula {diff}" + (f": {r['reason']}" if r.get("reason") else "") + ".")
        for ex in e["examples"]:
            vals = ", ".join(f"{k}={v}" for k, v in ex["values"].items())
            for i, c in enumerate(ex["claims"][:-1] if ex["claimed"] is not None else ex["claims"]):
                key = (c["text"], c["claimed"], c["formula_value"])
                if c["arithmetic_ok"] is False and key not in seen:
                    seen.add(key)
                    n += 1
                    kind = (_carried(c, ex["claims"][:i]) if c["follows_from_the_text"]
                            else "an arithmetic error" + _off_by(c["claimed"], c["formula_value"]))
                    out.append(f"- **{e['id']}** ({vals}): `{c['of']}` is {_fmt(c['formula_value'])}, not "
                               f"{_fmt(c['claimed'])}: {kind}." + (f" The text: “{c['text']}”." if c["text"] else ""))
            if ex["claimed"] is not None:
                final = ex["claims"][-1]
                wrong_sum = final["arithmetic_ok"] is False
                bad = {x: v for x, v in ex["readings"].items() if isinstance(v, int) and not ex["true_in"][x]}
                if wrong_sum or bad:
                    n += 1
                    reads = ", ".join(f"{_fmt(v)} in {x}" for x, v in ex["readings"].items() if isinstance(v, int))
                    formula = f"; the formula gives {_fmt(ex['formula_value'])}" if ex["formula_value"] is not None else ""
                    model = f"; the model has {reads}" if reads else ""
                    off = _off_by(ex["claimed"], ex["formula_value"]) if wrong_sum else ""
                    out.append(f"- **{e['id']}** ({vals}): the text claims {_fmt(ex['claimed'])}{off}{formula}{model}."
                               + (f" The text: “{final['text']}”." if final["text"] else ""))
    for e in report["entries"]:
        nas: dict[str, list[str]] = {}
        for x in t:
            r = e["frameworks"][x]
            if r["verdict"] == "n/a":
                nas.setdefault(r["reason"], []).append(x)
        for reason, where in nas.items():
            shown = "every framework" if len(where) == len(t) else ", ".join(where)
            out.append(f"- {e['id']}: n/a in {shown} ({reason}).")
    if n == 0:
        out.append("Every formula and worked example agrees with every framework.")
    return "\n".join(out) + "\n"


def _carried(claim: dict[str, Any], earlier: list[dict[str, Any]]) -> str:
    """Why a step that follows from the text is still wrong: it uses an earlier wrong number."""
    from ..formula import parse

    names = parse(claim["of"]).names if claim.get("of") else frozenset()
    wrong = [c for c in earlier if c.get("id") in names and c["arithmetic_ok"] is False]
    if not wrong:
        return "the step's own arithmetic is right, but it uses the text's earlier wrong numbers"
    used = ", ".join(f"`{c['id']}` = {_fmt(c['claimed'])} (it is {_fmt(c['formula_value'])})" for c in wrong)
    return f"the step's own arithmetic is right, but it uses the text's wrong {used}"


def text_table(report: dict[str, Any]) -> str:
    """The audit for a terminal: the verdict table, then each worked example's claims, folded
    to the terminal's width."""
    from ..render.console import fold, render_table

    t = report["targets"]

    def cell(r: dict[str, Any] | None) -> str:
        if not r:
            return "-"
        if r["verdict"] == "error":
            return "✗ error"
        return {"agrees": "✓", "n/a": "n/a"}.get(r["verdict"], f"✗ {r.get('difference') or '(no polynomial)'}")

    rows = [[e["id"], e["counts"], cell(e.get("canonical")), *[cell(e["frameworks"].get(x)) for x in t]]
            for e in report["entries"]]
    lines = [render_table(["entry", "counts", "canonical", *t], rows),
             fold("✓ the formula agrees; ✗ D: the reading is the formula + D (read - formula, in the entry's own "
                  "variables); ✗ (no polynomial): it differs by no polynomial of them; n/a: the framework lacks "
                  "the layer", indent="  "), ""]
    for e in report["entries"]:
        for ex in e["examples"]:
            vals = ", ".join(f"{k}={v}" for k, v in ex["values"].items())
            said = []
            for c in ex["claims"]:
                mark = "right" if c["arithmetic_ok"] else ("WRONG" if c["arithmetic_ok"] is False else "")
                said.append(f"claims {_fmt(c['claimed'])} for `{c['of'] or '(the model)'}`, which is "
                            f"{_fmt(c['formula_value'])}: {mark}".rstrip(": "))
            if ex["readings"]:
                said.append("the model reads " + ", ".join(f"{_fmt(v)} in {x}" for x, v in ex["readings"].items()))
            lines.append(f"{e['id']} ({vals}):")
            lines += [fold(x, indent="    ", first="  ") for x in said]
        for x, r in e["frameworks"].items():  # what a difference is made of, where the audit found it
            if r["verdict"] in ("disagrees", "error") and r.get("reason"):
                lines.append(fold(f"{e['id']} in {x}: {r['reason']}", indent="    "))
    listed = report.get("problem_list") or []
    n = report["problems"]
    lines.append(f"\n{n} problem{'s' if n != 1 else ''}" + (":" if listed else ""))
    lines += [fold(p, indent="    ", first="  - ") for p in listed]
    return "\n".join(lines)
