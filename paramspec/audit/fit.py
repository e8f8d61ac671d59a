"""Fit the difference (reading - formula) exactly, as a polynomial in the author's variables.

It raises the degree until a fit, made by Gaussian elimination over the rationals
(:mod:`paramspec.symbolic`), also holds on configs it was not fitted on and on the worked
examples' own configs, up to the entry's ``max_degree``; past that it says the difference
is not such a polynomial.

Before the first fit that needs more than :data:`LINE_RATIO` times ``max_degree + 2`` new
configs, it measures ``max_degree + 2`` configs on a line (:func:`_line`): a polynomial of
degree <= D, along a line, is a polynomial of degree <= D in the step, so its (D+1)-th finite
difference over D+2 equally spaced configs is 0. Where it is not, no fit up to ``max_degree``
can hold, and it says so then, rather than after every fit (XLA's convolution FLOPs: after 13
configs, not 85).
Where it is 0, the line's configs are held to each fit as configs it was not fitted on.
"""
from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..errors import SpecError
from ..kinds import Kind, Spec
from .course import Entry, base_variable

VERIFY_POINTS = 3
# the line (max_degree + 2 configs) is measured before the first fit that needs more than this
# many times as many new configs: a smaller fit is cheaper to try than to rule out
LINE_RATIO = 4


@dataclass
class Difference:
    verdict: str  # agrees | disagrees | n/a
    difference: str | None = None  # framework - formula, in the author's variables
    reason: str = ""
    points: int = 0
    polynomial: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "difference": self.difference, "reason": self.reason,
                "configs": self.points, "polynomial": self.polynomial}


def _sampler(entry: Entry, spec: Spec) -> Callable[[random.Random], dict[str, int]]:
    kind: Kind | None = spec.kinds.get(entry.kind) if entry.kind else None

    def sample(rng: random.Random) -> dict[str, int]:
        out = {}
        for author, spec_var in entry.variables.items():
            var = kind.variables.get(base_variable(spec_var)) if kind else None
            if var is not None and var.type == "bool":
                out[author] = rng.random() < 0.5
                continue
            lo, hi = entry.ranges.get(author, (2, 40))
            if var is not None and var.min is not None:
                lo = max(lo, int(var.min))
            out[author] = rng.randint(lo, hi)
        return out

    return sample


def _line(entry: Entry, spec: Spec, rng: random.Random) -> list[dict[str, int]] | None:
    """``max_degree + 2`` configs equally spaced on a line through a sampled config: each
    variable that its range allows steps by 1, the others (0/1 variables, narrow ranges) held."""
    steps = entry.max_degree + 1
    start = _sampler(entry, spec)(rng)
    kind: Kind | None = spec.kinds.get(entry.kind) if entry.kind else None
    moving = []
    for author, spec_var in entry.variables.items():
        var = kind.variables.get(base_variable(spec_var)) if kind else None
        if var is not None and var.type == "bool":
            continue
        lo, hi = entry.ranges.get(author, (2, 40))
        if var is not None and var.min is not None:
            lo = max(lo, int(var.min))
        if hi - steps >= lo:
            start[author] = rng.randint(lo, hi - steps)
            moving.append(author)
    if not moving:
        return None
    return [{**start, **{a: start[a] + t for a in moving}} for t in range(steps + 1)]


def _finite_difference(values: list[int]) -> int:
    """The (n-1)-th forward difference of n values."""
    n = len(values) - 1
    return sum((-1) ** (n - t) * math.comb(n, t) * v for t, v in enumerate(values))


def fit_difference(entry: Entry, measure: Callable[[Mapping[str, int]], int], spec: Spec,
                   extra_points: list[dict[str, int]] = ()) -> Difference:
    """Fit ``measure - formula`` as a polynomial in the author's variables, and confirm it on
    configs it was not fitted on (plus ``extra_points``: the worked examples)."""
    from .. import symbolic

    names = list(entry.variables)
    kind = spec.kinds.get(entry.kind) if entry.kind else None
    binary = frozenset(a for a, s in entry.variables.items()
                       if kind and s in kind.variables and kind.variables[s].type == "bool")  # 0/1 variables
    rng = random.Random(zlib.crc32(entry.id.encode()))
    sample = _sampler(entry, spec)
    points: list[dict[str, int]] = []
    diffs: list[int] = []

    def formula_value(p: Mapping[str, int]) -> int:
        v = entry.formula.evaluate(dict(p))  # type: ignore[union-attr]
        return v

    def take(n: int) -> None:
        tries = 0
        while n > 0:
            tries += 1
            if tries > 400:
                raise SpecError(f"could not sample valid configs for {entry.id} (set `ranges`)")
            p = sample(rng)
            if p in points:
                continue
            try:
                got = measure(p)
            except SpecError:
                continue  # e.g. not divisible by num_heads: draw another
            points.append(p)
            diffs.append(got - formula_value(p))
            n -= 1

    if not names:  # no variables: one config, a constant difference
        d = measure({}) - formula_value({})
        return Difference("agrees", "0", points=1) if d == 0 else Difference("disagrees", str(d), points=1)
    line: list[tuple[dict[str, int], int]] | None = None  # the line's configs and differences, once measured
    line_rng = random.Random(zlib.crc32(entry.id.encode() + b"/line"))  # the fits' configs stay as they were
    take(2)
    for deg in range(0, entry.max_degree + 1):
        need = len(symbolic.monomials(names, deg, binary)) + 1
        if line is None and need - len(points) > LINE_RATIO * (entry.max_degree + 2):
            line = _measure_line(entry, spec, line_rng, measure, formula_value)
            if line and _finite_difference([d for _, d in line]) != 0:
                return Difference("disagrees", None, f"the difference is not a polynomial of degree <= "
                                  f"{entry.max_degree} in {', '.join(names)} (it is none along a line of "
                                  f"{len(line)} configs)", len(points) + len(line), polynomial=False)
        if len(points) < need:
            take(need - len(points))
        expr = symbolic.fit(points, diffs, names, deg, binary)
        if expr is None:
            continue
        fitted = len(points)
        take(VERIFY_POINTS)
        checks = list(zip(points[fitted:], diffs[fitted:])) + list(line or ())
        for p in extra_points:
            try:
                checks.append((p, measure(p) - formula_value(p)))
            except SpecError:
                pass
        measured = len(points) + len(line or ())
        if all(symbolic.evaluate(expr, p) == d for p, d in checks):
            if expr == 0:
                return Difference("agrees", "0", points=measured)
            return Difference("disagrees", symbolic.show(expr), points=measured)
    return Difference("disagrees", None, f"the difference is not a polynomial of degree <= {entry.max_degree} "
                      f"in {', '.join(names)}", len(points) + len(line or ()), polynomial=False)


def _measure_line(entry: Entry, spec: Spec, rng: random.Random, measure: Callable[[Mapping[str, int]], int],
                  formula_value: Callable[[Mapping[str, int]], int]) -> list[tuple[dict[str, int], int]]:
    """The differences along a line (:func:`_line`); empty where no line of valid configs was
    found in a few tries (a config the spec refuses, e.g. one not divisible by num_heads)."""
    for _ in range(5):
        configs = _line(entry, spec, rng)
        if configs is None:
            return []
        try:
            return [(p, measure(p) - formula_value(p)) for p in configs]
        except SpecError:
            continue
    return []
