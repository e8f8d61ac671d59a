"""Worked examples: is each claimed number the arithmetic the text says, and does it at least
follow from the text's own earlier numbers?"""
from __future__ import annotations

from typing import Any

from .course import Claim, Entry, Example


def check_example(entry: Entry, ex: Example) -> list[dict[str, Any]]:
    """Arithmetic: does each claimed number follow from the formula (and from the text's own
    earlier numbers)?"""
    true_env: dict[str, Any] = dict(ex.values)
    text_env: dict[str, Any] = dict(ex.values)
    out = []
    for c in ex.claims:
        f = c.of or entry.formula
        value = text_value = None
        if f is not None:
            value = f.evaluate_int(true_env)
            text_value = f.evaluate_int(text_env)
        row = {"text": c.text, "of": str(c.of) if c.of else (str(entry.formula) if entry.formula else None),
               "claimed": c.value, "formula_value": value,
               "arithmetic_ok": None if value is None else c.matches(value),
               "follows_from_the_text": None if text_value is None else c.matches(text_value)}
        if c.approx:
            row["approx"] = c.approx
        if c.id:
            row["id"] = c.id
            true_env[c.id] = value if value is not None else c.value
            text_env[c.id] = c.value
        out.append(row)
    return out


def final_claim(ex: Example) -> Claim | None:
    """The example's bottom line: its last claim that is the entry's own formula."""
    bare = [c for c in ex.claims if c.of is None]
    return bare[-1] if bare else None
