"""Configs of a kind drawn from its variables in the spec: Hypothesis strategies, as data.

Nothing here is written per kind. A kind's :class:`Plan` is read from the spec alone:

- each variable's type, ``min``/``max``, ``choices`` and ``length`` give what may be drawn;
  a required variable is always drawn, an option is left at its default or set (a bool is
  flipped, a choice takes another value), so that a shrunk config names only what matters;
- each ``require`` formula is split at its top-level ``and``s. A simple divisibility,
  ``a % b == 0`` over two integer variables, is constructed (``b`` is drawn first, ``a`` as a
  multiple of it), as is a simple bound ``a < b`` (``a`` drawn under ``b``); every other
  condition is checked once its variables (through the ``let`` helpers) are drawn, and a
  failing one is repaired by drawing again one of the variables it reads;
- sizes are capped (:class:`Bounds`) so that each build stays small: an integer without a
  ``max`` of its own is drawn within a span above its ``min`` (a wider one for an input
  size), a variable the kind's ``tensors`` formula reads (layers, blocks) within a short one,
  and a draw whose ``tensors`` bound is over ``Bounds.tensors`` is repaired like a failed
  condition.

A kind whose conditions no draw meets within a few tries cannot be drawn: :meth:`Plan.check`
says so in one line (:class:`SpecError`), naming the condition that failed most.

Example:
    >>> from paramspec.loader import load_spec
    >>> kind = load_spec().kind("Conv2d")
    >>> plan = Plan.of(kind)
    >>> plan.constructed            # drawn as a multiple of groups
    {'in_channels': ('groups',), 'out_channels': ('groups',)}
    >>> configs(kind).example()     # doctest: +SKIP
    {'in_channels': 6, 'out_channels': 3, 'kernel_size': [2, 5], 'groups': 3, 'width': 9}
"""
from __future__ import annotations

import ast
import functools
import json
import math
import os
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .errors import FormulaError, SpecError
from .formula import Formula, parse, truth_at
from .kinds import Case, Kind
from .variables import Variable

SEED_VARIABLE = "PARAMSPEC_SEED"  # the seed of every draw that is not given one: an integer, or `random`
DEFAULT_SEED = 20261124


@dataclass(frozen=True)
class Bounds:
    """How large a drawn config may be (each build stays small: the suite builds thousands).

    Attributes:
        size: an integer variable without a ``max`` is drawn in ``min .. min + size - 1``.
        input: the same for an input size (``batch``, ``seq_len``, ``height`` ...).
        repeat: the same for a variable the kind's ``tensors`` formula reads (layers, blocks).
        element: the same for each element of an ``ints`` variable (kernel sizes, strides).
        length: the longest list drawn for an ``ints`` variable without a ``length``.
        float_span: a number is drawn in ``min .. min + float_span`` (in hundredths).
        tensors: a draw whose ``tensors`` bound is over this is drawn again.
        repairs: how many times a draw that breaks a condition is repaired (one variable it
            reads drawn again) before it is drawn afresh.
        restarts: how many fresh draws before a draw is dropped (rejected).
    """

    size: int = 64
    input: int = 16
    repeat: int = 2
    element: int = 8
    length: int = 3
    float_span: float = 2.0
    tensors: int = 500
    repairs: int = 30
    restarts: int = 3


DEFAULT_BOUNDS = Bounds()


class Source(Protocol):
    """Where a plan's choices come from: Hypothesis's ``draw`` (shrinkable) or a seeded
    ``random.Random`` (:meth:`Plan.check`, the benchmark's first pass)."""

    def integer(self, lo: int, hi: int) -> int: ...

    def boolean(self) -> bool: ...

    def choice(self, options: Sequence[Any]) -> Any: ...


class RandomSource:
    """A :class:`Source` over ``random.Random(seed)``."""

    def __init__(self, seed: int | random.Random = 0):
        self.rng = seed if isinstance(seed, random.Random) else random.Random(seed)

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def boolean(self) -> bool:
        return self.rng.random() < 0.5

    def choice(self, options: Sequence[Any]) -> Any:
        return self.rng.choice(list(options))


class HypothesisSource:
    """A :class:`Source` over a ``st.composite`` ``draw``: every choice shrinks toward the
    first option, the lowest integer, False (an option left at its default)."""

    def __init__(self, draw):
        from hypothesis import strategies as st

        self.draw, self.st = draw, st

    def integer(self, lo: int, hi: int) -> int:
        return self.draw(self.st.integers(lo, hi))

    def boolean(self) -> bool:
        return self.draw(self.st.booleans())

    def choice(self, options: Sequence[Any]) -> Any:
        return self.draw(self.st.sampled_from(list(options)))


@dataclass(frozen=True)
class Condition:
    """One conjunct of a ``require`` formula, and the variables it reads (through ``let``)."""

    formula: Formula
    reads: tuple[str, ...]
    message: str


UNSET: Any = object()  # an option left at its default (not named in the config)


@dataclass
class Plan:
    """How to draw a kind's configs: its variables in drawing order, what is constructed,
    and the conditions checked after drawing. Built from the spec by :meth:`of`."""

    kind: Kind
    bounds: Bounds
    order: list[str]
    multiples: dict[str, tuple[str, ...]] = field(default_factory=dict)  # a -> the b's of `a % b == 0`
    below: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # a -> (b, 0 for <=, 1 for <)
    above: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # a -> (b, 0 for >=, 1 for >)
    conditions: list[Condition] = field(default_factory=list)
    repeat: frozenset[str] = frozenset()  # read by the kind's `tensors` formula
    tensor_reads: tuple[str, ...] = ()

    # ------------------------------------------------------------------ reading the spec
    @classmethod
    def of(cls, kind: Kind, bounds: Bounds = DEFAULT_BOUNDS) -> Plan:
        """The plan of ``kind``, from its variables and ``require`` formulas."""
        names = list(kind.variables)
        conditions: list[Condition] = []
        multiples: dict[str, list[str]] = {}
        below: dict[str, list[tuple[str, int]]] = {}
        above: dict[str, list[tuple[str, int]]] = {}
        ints = {n for n, v in kind.variables.items() if v.type == "int"}
        for req in kind.require:
            for node in _conjuncts(req.that.tree.body):
                text = ast.get_source_segment(req.that.text, node) or req.that.text
                f = parse(text, f"{kind.where}.require", functions=kind.helpers)
                conditions.append(Condition(f, tuple(n for n in names if n in _reads(kind, f)), req.message))
                simple = _simple(node, ints)
                if simple is None:
                    continue
                a, op, b = simple
                if op == "%":
                    multiples.setdefault(a, []).append(b)
                elif op in ("<", "<="):
                    below.setdefault(a, []).append((b, int(op == "<")))
                else:
                    above.setdefault(a, []).append((b, int(op == ">")))
        # b is drawn before a: a topological order, the spec's order otherwise
        after = {a: set(bs) for a, bs in multiples.items()}
        for rules in (below, above):
            for a, bs in rules.items():
                after.setdefault(a, set()).update(b for b, _ in bs)
        order = _topological(names, after)
        if order is None:  # a cycle (a < b and b % a == 0 ...): check, do not construct
            order, multiples, below, above = names, {}, {}, {}
        tensor_reads = tuple(n for n in names if kind.tensors is not None and n in _reads(kind, kind.tensors))
        return cls(kind, bounds, order, {a: tuple(bs) for a, bs in multiples.items()}, below, above, conditions,
                   frozenset(tensor_reads), tensor_reads)

    @functools.cached_property
    def constructed(self) -> dict[str, tuple[str, ...]]:
        """Each variable drawn from others (a multiple of, or bounded by): name -> those others."""
        out: dict[str, list[str]] = {}
        for rules in (self.multiples, {a: [b for b, _ in bs] for a, bs in self.below.items()},
                      {a: [b for b, _ in bs] for a, bs in self.above.items()}):
            for a, bs in rules.items():
                out.setdefault(a, []).extend(b for b in bs if b not in out.get(a, []))
        return {a: tuple(bs) for a, bs in sorted(out.items(), key=lambda kv: self.order.index(kv[0]))}

    # ------------------------------------------------------------------ drawing
    def draw(self, source: Source) -> dict[str, Any] | None:
        """One config (the required variables and the options set, in the spec's order, as a
        user writes it), or None when no repair made it meet the conditions."""
        return self._attempt(source)[0]

    def _attempt(self, source: Source) -> tuple[dict[str, Any] | None, str | None]:
        """A config or None, and the condition that failed last (None: it held): up to
        :attr:`Bounds.restarts` fresh draws, each repaired up to :attr:`Bounds.repairs` times."""
        broken: tuple[str, tuple[str, ...], bool] | None = None
        for _ in range(self.bounds.restarts):
            chosen: dict[str, Any] = {}
            for name in self.order:
                chosen[name] = self._choose(name, chosen, source)
            for _ in range(self.bounds.repairs + 1):
                broken = self._broken(chosen)
                if broken is None:
                    config = self._config(chosen)
                    try:
                        self.kind.resolve(config)
                    except SpecError as e:
                        return None, e.message
                    return config, None
                _, reads, condition = broken
                name = source.choice([n for n in reads if n in chosen])
                # repairing a condition leaves an option at its default three times in four: the
                # plain constructor call meets every condition (the spec has such a case for each kind)
                chosen[name] = self._choose(name, chosen, source, repair=condition)
                for other in self._dependents(name):  # drawn from `name`: drawn again
                    chosen[other] = self._choose(other, chosen, source)
        return None, broken[0] if broken else None

    def _dependents(self, name: str) -> list[str]:
        made = self.constructed
        out: list[str] = []
        frontier = [name]
        while frontier:
            n = frontier.pop()
            for a, bs in made.items():
                if n in bs and a not in out:
                    out.append(a)
                    frontier.append(a)
        return sorted(out, key=self.order.index)

    def _value(self, name: str, chosen: Mapping[str, Any]) -> Any:
        """A variable's value as the formulas read it (its default when unset)."""
        var = self.kind.variables[name]
        value = chosen.get(name, UNSET)
        value = var.default if value is UNSET else value
        return 0 if value is None else value

    def _choose(self, name: str, chosen: Mapping[str, Any], source: Source, repair: bool = False) -> Any:
        var = self.kind.variables[name]
        if not var.required and (not source.boolean() or (repair and not source.boolean())):
            return UNSET
        if var.type == "bool":
            return (not var.default) if not var.required else source.boolean()
        if var.type == "choice":
            options = [c for c in var.choices or () if var.required or c != var.default]
            return source.choice(options) if options else UNSET
        if var.type == "float":
            lo = var.min if var.min is not None else 0
            hi = min(var.max if var.max is not None else math.inf, lo + self.bounds.float_span)
            k = source.integer(math.ceil(lo * 100), math.floor(hi * 100))
            return k / 100
        if var.type == "ints":
            return self._ints(var, source)
        lo, hi = self._range(var)
        for b, strict in self.below.get(name, ()):
            hi = min(hi, self._value(b, chosen) - strict) if isinstance(self._value(b, chosen), int) else hi
        for b, strict in self.above.get(name, ()):
            lo = max(lo, self._value(b, chosen) + strict) if isinstance(self._value(b, chosen), int) else lo
        step = 1
        for b in self.multiples.get(name, ()):
            d = self._value(b, chosen)
            if isinstance(d, int) and d > 0:
                step = step * d // math.gcd(step, d)
        if step > 1:
            m_lo = max(1, -(-lo // step))
            m = source.integer(m_lo, max(m_lo, hi // step))
            return m * step
        if hi < lo:
            return lo  # the conditions say it cannot be met here: the repair draws another variable
        return source.integer(lo, hi)

    def _range(self, var: Variable) -> tuple[int, int]:
        lo = int(var.min) if var.min is not None else 0
        span = (self.bounds.input if var.input else
                self.bounds.repeat if var.name in self.repeat else self.bounds.size)
        hi = lo + span - 1
        if var.max is not None:
            hi = min(hi, int(var.max))
        return lo, hi

    def _ints(self, var: Variable, source: Source) -> Any:
        forms = ["int", "list"] + (["choice"] if var.choices else [])
        form = source.choice(forms)
        if form == "choice":
            return source.choice(list(var.choices))
        lo = int(var.min) if var.min is not None else 0
        span = self.bounds.repeat if var.name in self.repeat else self.bounds.element
        hi = lo + span - 1 if var.max is None else min(int(var.max), lo + span - 1)
        if form == "int":
            return source.integer(lo, hi)
        n = var.length or source.integer(1, self.bounds.length)
        return [source.integer(lo, hi) for _ in range(n)]

    def _resolved(self, chosen: Mapping[str, Any]) -> dict[str, Any] | None:
        out = {}
        for name, var in self.kind.variables.items():
            value = chosen.get(name, UNSET)
            try:
                out[name] = var.coerce(var.default if value is UNSET else value)
            except SpecError:
                return None
        return out

    def _broken(self, chosen: Mapping[str, Any]) -> tuple[str, tuple[str, ...], bool] | None:
        """The first condition that fails, the variables it reads and whether it is a
        ``require`` (not the ``tensors`` bound), or None when every condition holds and the
        ``tensors`` bound is within :attr:`Bounds.tensors`."""
        resolved = self._resolved(chosen)
        if resolved is None:
            return "a value out of its variable's range", tuple(self.order), False
        env = self.kind.env(resolved)
        for c in self.conditions:
            try:
                ok = truth_at(c.formula, env, self.kind.where)
            except FormulaError:
                ok = False
            if not ok:
                return f"`{c.formula}`", c.reads or tuple(self.order), True
        if self.kind.tensors is not None:
            try:
                n = Case(self.kind, resolved, self.kind.name).tensor_bound()
            except FormulaError:
                n = None
            if n is None or n > self.bounds.tensors:
                return (f"its `tensors` bound `{self.kind.tensors}` under {self.bounds.tensors:,}",
                        self.tensor_reads or tuple(self.order), False)
        return None

    def _config(self, chosen: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for name, var in self.kind.variables.items():
            value = chosen.get(name, UNSET)
            if value is UNSET:
                continue
            if not var.required and var.coerce(value) == var.coerce(var.default):
                continue  # set to its default: the config need not name it
            out[name] = value
        return out

    # ------------------------------------------------------------------ can it be drawn?
    def check(self, tries: int = 20, seed: int = 0) -> None:
        """Raise :class:`SpecError` (one line) when no config is drawn in ``tries`` seeded
        tries: the kind's conditions are too tight for its bounds (or contradictory)."""
        source = RandomSource(seed)
        failed: dict[str, int] = {}
        for _ in range(tries):
            config, broken = self._attempt(source)
            if config is not None:
                return
            failed[broken or "?"] = failed.get(broken or "?", 0) + 1
        worst = max(failed, key=failed.get)
        raise SpecError(f"no config of {self.kind.name} could be drawn in {tries * self.bounds.restarts} tries "
                        f"({self.bounds.repairs} repairs each): {worst} held in none", self.kind.where)


def _conjuncts(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        return [c for v in node.values for c in _conjuncts(v)]
    return [node]


def _simple(node: ast.AST, ints: set[str]) -> tuple[str, str, str] | None:
    """``(a, '%', b)`` for ``a % b == 0``; ``(a, op, b)`` for ``a < b`` and the like, over two
    integer variables; else None (a condition that is checked, not constructed)."""
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1):
        return None
    left, op, right = node.left, node.ops[0], node.comparators[0]
    if (isinstance(op, ast.Eq) and isinstance(left, ast.BinOp) and isinstance(left.op, ast.Mod)
            and isinstance(right, ast.Constant) and right.value == 0
            and isinstance(left.left, ast.Name) and isinstance(left.right, ast.Name)
            and left.left.id in ints and left.right.id in ints and left.left.id != left.right.id):
        return left.left.id, "%", left.right.id
    ops = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
    if (type(op) in ops and isinstance(left, ast.Name) and isinstance(right, ast.Name)
            and left.id in ints and right.id in ints and left.id != right.id):
        return left.id, ops[type(op)], right.id
    return None


def _reads(kind: Kind, f: Formula) -> set[str]:
    """The variables ``f`` reads, through the kind's ``let`` values and helper functions."""
    out: set[str] = set()
    seen: set[str] = set()
    stack = [f]
    while stack:
        g = stack.pop()
        names = {n.id for n in ast.walk(g.tree) if isinstance(n, ast.Name)}
        for n in names:
            if n in kind.variables:
                out.add(n)
            elif n in kind.let and n not in seen:
                seen.add(n)
                stack.append(kind.let[n])
    return out


def _topological(names: list[str], after: dict[str, set[str]]) -> list[str] | None:
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(n: str) -> bool:
        if state.get(n) == 2:
            return True
        if state.get(n) == 1:
            return False
        state[n] = 1
        for b in sorted(after.get(n, ()), key=names.index):
            if b in names and not visit(b):
                return False
        state[n] = 2
        order.append(n)
        return True

    for n in names:
        if not visit(n):
            return None
    return order


# ---------------------------------------------------------------------- Hypothesis
def configs(kind: Kind, bounds: Bounds = DEFAULT_BOUNDS):
    """A Hypothesis strategy of ``kind``'s configs (``{"in_channels": 6, ...}``: the required
    variables and the options set, in canonical torch.nn names, input sizes included).

    A draw the plan cannot repair is rejected (``hypothesis.reject``): :meth:`Plan.check`
    first says in one line whether the kind can be drawn at all.
    """
    from hypothesis import reject
    from hypothesis import strategies as st

    plan = Plan.of(kind, bounds)

    @st.composite
    def config(draw):
        out = plan.draw(HypothesisSource(draw))
        if out is None:
            reject()
        return out

    return config()


def drawn_case(kind: Kind, config: Mapping[str, Any]) -> Case:
    """The case of a drawn config (its id as a fixed case of it would have)."""
    resolved = kind.resolve(config)
    return Case(kind, resolved, kind.case_id(resolved))


def yaml_case(config: Mapping[str, Any]) -> str:
    """A config as the line a spec file's ``cases`` takes: ``- {in_channels: 3, bias: false}``."""
    return "- {" + ", ".join(f"{k}: {_yaml(v)}" for k, v in config.items()) + "}"


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def _yaml(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_yaml(x) for x in v) + "]"
    if isinstance(v, str):
        plain = _PLAIN.fullmatch(v) and v.lower() not in ("true", "false", "yes", "no", "on", "off", "null")
        return v if plain else json.dumps(v)
    return repr(v) if isinstance(v, float) else str(v)


def session_seed() -> int:
    """The seed of draws not given one: ``PARAMSPEC_SEED`` (an integer; ``random`` picks one
    and sets it, so that a process's children and pytest-xdist's workers share it), else
    :data:`DEFAULT_SEED`.

    Raises:
        SpecError: ``PARAMSPEC_SEED`` is neither an integer nor ``random``.
    """
    raw = os.environ.get(SEED_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_SEED
    if raw == "random":
        seed = random.SystemRandom().randrange(2**32)
        os.environ[SEED_VARIABLE] = str(seed)
        return seed
    try:
        return int(raw)
    except ValueError:
        raise SpecError(f"{SEED_VARIABLE} must be an integer or `random`, got {raw!r}") from None
