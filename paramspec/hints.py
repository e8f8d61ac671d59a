"""Did-you-mean: the names a user probably meant, for one-line errors.

Example:
    >>> suggest("lstm", ["Linear", "LSTM", "GRU"])
    ' (did you mean LSTM?)'
"""
from __future__ import annotations

import difflib
from typing import Iterable


def close(given: object, choices: Iterable[str]) -> list[str]:
    """The choices ``given`` probably meant: the same name in another case, then names it starts,
    then the closest by spelling (at most two)."""
    choices = list(choices)
    text = str(given)
    same = [c for c in choices if c.lower() == text.lower()]
    if same:
        return same[:1]
    starts = [c for c in choices if text and c.lower().startswith(text.lower())]
    if starts:
        return starts[:2]
    by_case = {c.lower(): c for c in choices}
    return [by_case[m] for m in difflib.get_close_matches(text.lower(), list(by_case), n=2, cutoff=0.6)][:1]


def suggest(given: object, choices: Iterable[str]) -> str:
    """`` (did you mean X?)`` (or ``X or Y``), or empty."""
    hints = close(given, choices)
    return f" (did you mean {' or '.join(hints)}?)" if hints else ""
