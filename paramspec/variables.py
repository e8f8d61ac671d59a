"""A kind's variables: the constructor arguments (and, for compute, the input sizes) that
change a count, with their types, bounds, defaults and how they show in a case id.

Example:
    >>> v = Variable("hidden_size", "int", "h", min=1)
    >>> v.coerce(128), v.id_part(128)
    (128, 'h128')
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .errors import SpecError

MISSING: Any = object()  # the default of a required variable
MAX_MAGNITUDE = 2**62


@dataclass(frozen=True)
class Variable:
    """One variable of a kind: a constructor argument that changes a count.

    A variable without a default is a required dimension; one with a default is an option.
    An ``input`` variable sizes the forward pass's input (``batch``, ``seq_len``, ``height``...).
    """

    name: str
    type: str
    abbr: str
    default: Any = MISSING
    min: float | None = None
    max: float | None = None
    length: int | None = None
    choices: tuple | None = None
    doc: str = ""
    input: bool = False  # an input size (batch, seq_len, height, ...): it changes compute, not parameters

    @property
    def required(self) -> bool:
        return self.default is MISSING

    def describe(self) -> str:
        """The accepted values, in words (for error messages and the README)."""
        bounds = ""
        if self.min is not None and self.max is not None:
            bounds = f" in {self.min:g}..{self.max:g}"
        elif self.min is not None:
            bounds = f" >= {self.min:g}"
        elif self.max is not None:
            bounds = f" <= {self.max:g}"
        if self.type == "int":
            return f"an integer{bounds}"
        if self.type == "float":
            return f"a number{bounds}"
        if self.type == "bool":
            return "true or false"
        if self.type == "choice":
            return "one of " + ", ".join(map(str, self.choices or ()))
        n = f"{self.length} " if self.length else ""
        also = f", or one of {', '.join(map(str, self.choices))}" if self.choices else ""
        return f"an integer or a list of {n}integers{bounds}{also}"

    def coerce(self, value: Any) -> Any:
        """Check ``value`` and return it normalized (``ints`` become tuples).

        Raises:
            SpecError: ``hidden_size must be an integer >= 1, got -5``.
        """
        bad = SpecError(f"{self.name} must be {self.describe()}, got {json.dumps(value, default=str)}")
        if value is None and self.default is None:
            return None  # an unset optional integer (torch's `kdim=None`)
        if self.type == "bool":
            if not isinstance(value, bool):
                raise bad
            return value
        if self.type == "choice":
            if isinstance(value, bool) or value not in (self.choices or ()):
                raise bad
            return value
        if self.type == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise bad
            self._bounds(value, bad)
            return value
        if self.type == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                raise bad
            self._bounds(value, bad)
            return value
        # ints: an int broadcasts to `length`, or a list of ints, or one of `choices` ('same')
        if self.choices and isinstance(value, str) and value in self.choices:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            items = [value] * (self.length or 1)
        elif isinstance(value, (list, tuple)) and value:
            items = list(value)
        else:
            raise bad
        if self.length is not None and len(items) != self.length:
            raise bad
        if len(items) > 8:
            raise bad
        for v in items:
            if isinstance(v, bool) or not isinstance(v, int):
                raise bad
            self._bounds(v, bad)
        return tuple(items)

    def _bounds(self, v: float, bad: SpecError) -> None:
        if (self.min is not None and v < self.min) or (self.max is not None and v > self.max):
            raise bad
        if abs(v) > MAX_MAGNITUDE:
            raise bad

    def id_part(self, value: Any) -> str:
        """How ``value`` shows in a case id: ``h128``, ``bidir``, ``nobias``, ``k3x3``."""
        if self.type == "bool":
            return self.abbr if value else f"no{self.abbr}"
        if self.type == "ints":
            return self.abbr + (value if isinstance(value, str) else "x".join(map(str, value)))
        if self.type == "float":
            return f"{self.abbr}{value:g}"
        return f"{self.abbr}{value}"
