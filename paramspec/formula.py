"""The formula language: a small whitelisted expression language with exact arithmetic.

A formula is a Python-like expression over the variables of a kind, for example
``4 * (input_size + hidden_size) * hidden_size + 4 * hidden_size * bias``.
It is parsed with :mod:`ast` and interpreted node by node; nothing is ever passed to
``eval``, ``exec`` or ``sympify``. Only these are allowed:

- integer and decimal literals (decimals are exact: ``0.9`` is ``9/10``), ``True``/``False``,
  string literals (only to compare with a choice variable: ``block == 'bottleneck'``);
- variable names (never starting with ``_``), list/tuple literals, indexing ``layers[i]``;
- ``+ - * / // % **`` (``/`` is exact rational division; ``**`` takes an integer exponent
  in 0..256; ``+`` also joins two lists), unary ``-``, ``not``, ``and``, ``or``, comparisons, ``a if cond else b``;
- the functions ``prod sum min max len abs floor ceil``, and ``sum(expr for i in range(a, b))``
  style comprehensions over ``range`` or a list.

Booleans are the integers 0 and 1, so ``out_features * bias`` means "the bias, if any".
The result of :meth:`Formula.evaluate_int` must be a whole number.

Example:
    >>> parse("(in_features + bias) * out_features").evaluate_int(
    ...     {"in_features": 128, "out_features": 10, "bias": True})
    1290
"""
from __future__ import annotations

import ast
import collections
import math
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Iterable, Mapping

from .errors import FormulaError

MAX_FORMULA_CHARS = 4000
MAX_NODES = 1500
MAX_RANGE = 1_000_000
MAX_LIST = 100_000
MAX_EXPONENT = 256
MAX_BITS = 4096

Value = Any  # int | Fraction | str | tuple[Value, ...]

_BINOPS: dict[type, str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/",
    ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**",
}
_CMPOPS: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
}
_ALLOWED_NODES = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp,
    ast.Constant, ast.Name, ast.Load, ast.Store, ast.Call, ast.Subscript, ast.List, ast.Tuple,
    ast.GeneratorExp, ast.ListComp, ast.comprehension,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow,
    ast.USub, ast.UAdd, ast.Not, ast.And, ast.Or,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE,
)


def _num(v: Value, what: str | Callable[[], str]) -> Fraction | int:
    """``v`` as a number; else a FormulaError naming ``what`` (text, or a function giving it: the
    source segment of a node is found only when there is an error to report)."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, Fraction)):
        return v
    raise FormulaError(f"{what() if callable(what) else what} is not a number (got {_show(v)})")


def _seq(v: Value, what: str | Callable[[], str]) -> tuple:
    if isinstance(v, (tuple, list)):
        return tuple(v)
    raise FormulaError(f"{what() if callable(what) else what} is not a list (got {_show(v)})")


def _show(v: Value) -> str:
    if isinstance(v, Fraction):
        return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"
    if isinstance(v, (tuple, list)):
        return "[" + ", ".join(_show(x) for x in v) + "]"
    return repr(v) if isinstance(v, str) else str(v)


def _norm(v: Fraction | int) -> Fraction | int:
    if isinstance(v, Fraction):
        if v.denominator == 1:
            v = int(v)
        elif max(v.numerator.bit_length(), v.denominator.bit_length()) > MAX_BITS:
            raise FormulaError("a value grew beyond the size limit")
    if isinstance(v, int) and v.bit_length() > MAX_BITS:
        raise FormulaError("a value grew beyond the size limit")
    return v


def _prod(xs: tuple) -> Fraction | int:
    out: Fraction | int = 1
    for x in xs:
        out = _norm(out * _num(x, "an element of prod()"))
    return out


def _sum(xs: tuple) -> Fraction | int:
    out: Fraction | int = 0
    for x in xs:
        out = _norm(out + _num(x, "an element of sum()"))
    return out


def _minmax(fn: Callable) -> Callable:
    def call(*args: Value) -> Value:
        items = _seq(args[0], f"the argument of {fn.__name__}()") if len(args) == 1 else args
        if not items:
            raise FormulaError(f"{fn.__name__}() of an empty list")
        return fn(_num(x, f"an argument of {fn.__name__}()") for x in items)
    return call


def _make_divisible(v: Value, divisor: Value) -> int:
    """torchvision's and Keras's ``_make_divisible``: round to a multiple of ``divisor``,
    at least ``divisor``, and never more than 10% below ``v``."""
    v = _num(v, "the first argument of make_divisible()")
    d = _num(divisor, "the second argument of make_divisible()")
    if d <= 0:
        raise FormulaError("make_divisible() needs a positive divisor")
    new = max(d, math.floor(v + Fraction(d, 2)) // d * d)
    return int(new + d if new < Fraction(9, 10) * v else new)


# name -> (callable on evaluated args, arity (min, max))
def _f32(v: Value) -> Fraction | int:
    """The float32 nearest ``v`` (ties to even), exactly: what a count becomes in a counter
    that adds in float32 (XLA's cost analysis). Integers below 2**24 are unchanged."""
    x = Fraction(_num(v, "the argument of f32()"))
    if x == 0:
        return 0
    sign, x = (-1 if x < 0 else 1), abs(x)
    e = x.numerator.bit_length() - x.denominator.bit_length()  # 2**e <= x < 2**(e+2)
    if Fraction(2) ** e > x:
        e -= 1
    if e >= 128:
        raise FormulaError("f32() of a value of 2**128 or more: float32 overflows")
    ulp = Fraction(2) ** (max(e, -126) - 23)
    q, r = divmod(x, ulp)
    q = int(q) + (1 if r > ulp / 2 or (r == ulp / 2 and int(q) % 2) else 0)
    return _norm(sign * q * ulp)


FUNCTIONS: dict[str, tuple[Callable[..., Value], int, int]] = {
    "prod": (lambda xs: _prod(_seq(xs, "the argument of prod()")), 1, 1),
    "sum": (lambda xs: _sum(_seq(xs, "the argument of sum()")), 1, 1),
    "min": (_minmax(min), 1, 32),
    "max": (_minmax(max), 1, 32),
    "len": (lambda xs: len(_seq(xs, "the argument of len()")), 1, 1),
    "abs": (lambda x: abs(_num(x, "the argument of abs()")), 1, 1),
    "floor": (lambda x: math.floor(_num(x, "the argument of floor()")), 1, 1),
    "ceil": (lambda x: math.ceil(_num(x, "the argument of ceil()")), 1, 1),
    "make_divisible": (_make_divisible, 2, 2),
    "f32": (_f32, 1, 1),
}


@dataclass(frozen=True)
class Formula:
    """A parsed formula. Build it with :func:`parse`.

    Attributes:
        text: the formula as written.
        names: the free variable names it reads.
    """

    text: str
    tree: ast.Expression = field(repr=False, compare=False)
    names: frozenset[str] = frozenset()

    def __str__(self) -> str:
        return self.text

    def evaluate(self, env: Mapping[str, Value]) -> Value:
        """Evaluate exactly. Booleans in ``env`` count as 0/1; floats are taken exactly."""
        return _Interpreter(self.text, env).run(self.tree.body)

    def evaluate_int(self, env: Mapping[str, Value]) -> int:
        """Evaluate and require a whole number (an element count)."""
        v = self.evaluate(env)
        if isinstance(v, bool):
            return int(v)
        if isinstance(v, Fraction):
            if v.denominator != 1:
                raise FormulaError(f"`{self.text}` gives {_show(v)}, which is not a whole number")
            return int(v)
        if not isinstance(v, int):
            raise FormulaError(f"`{self.text}` gives {_show(v)}, which is not a number")
        return v


def _segment(text: str, node: ast.AST) -> str:
    seg = ast.get_source_segment(text, node)
    return seg if seg is not None else type(node).__name__


def parse(text: str | int, where: str | None = None, functions: Iterable[str] = ()) -> Formula:
    """Parse and whitelist-check a formula.

    Args:
        text: the formula (an int is taken as a constant formula).
        where: a location for error messages (``spec/layers/rnn.yaml: LSTM.params``).
        functions: names of helper functions (a kind's ``let: {f(x): ...}``) it may call.

    Raises:
        FormulaError: one line naming the offending token.
    """
    try:
        return _parse(text, frozenset(functions))
    except FormulaError as e:
        raise e.at(where) if where else e


def _parse(text: str | int, functions: frozenset[str] = frozenset()) -> Formula:
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise FormulaError(f"a formula must be a string or an integer, got {type(text).__name__}")
    text = str(text)
    if len(text) > MAX_FORMULA_CHARS:
        raise FormulaError(f"formula is {len(text)} characters long (the limit is {MAX_FORMULA_CHARS})")
    if not text.strip():
        raise FormulaError("formula is empty")
    src = " ".join(text.split())  # formulas may be folded over several YAML lines
    try:
        with warnings.catch_warnings():  # Python warns on `1for` and the like: the error line says it all
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(src, mode="eval")
    except SyntaxError as e:
        col = (e.offset or 1) - 1
        tok = src[col:col + 12].split(" ")[0] or src[max(col - 1, 0):col + 1]
        raise FormulaError(f"`{src}` does not parse: {e.msg} at `{tok}` (column {col + 1})") from None
    except (ValueError, RecursionError, MemoryError):
        raise FormulaError(f"`{src[:60]}` does not parse") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise FormulaError(f"formula has {len(nodes)} syntax nodes (the limit is {MAX_NODES})")
    bound: set[str] = set()
    used: set[str] = set()
    # `range(...)` is allowed only as the iterable of a comprehension.
    range_iters = {id(g.iter) for g in nodes if isinstance(g, ast.comprehension) and _range_call(g.iter)}
    for node in nodes:
        if not isinstance(node, _ALLOWED_NODES):
            raise FormulaError(f"{_describe(node)} is not allowed in a formula: `{_segment(src, node)}`")
        if isinstance(node, ast.Name):
            if node.id.startswith("_"):
                raise FormulaError(f"names starting with '_' are not allowed: `{node.id}`")
            (bound if isinstance(node.ctx, ast.Store) else used).add(node.id)
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, (bool, int, float, str)):
                raise FormulaError(f"constant `{_segment(src, node)}` is not allowed in a formula")
            if isinstance(node.value, float) and not math.isfinite(node.value):
                raise FormulaError(f"constant `{_segment(src, node)}` is not a finite number")
        elif isinstance(node, ast.Call) and id(node) not in range_iters:
            _check_call(src, node, functions)
        elif isinstance(node, ast.comprehension):
            if not isinstance(node.target, ast.Name) or node.is_async:
                raise FormulaError(f"a comprehension must bind one name: `{_segment(src, node.target)}`")
        elif isinstance(node, (ast.GeneratorExp, ast.ListComp)) and len(node.generators) != 1:
            raise FormulaError(f"a comprehension takes one `for`: `{_segment(src, node)}`")
    calls = {n.func.id for n in nodes if isinstance(n, ast.Call)}
    return Formula(src, tree, frozenset(used - bound - calls - {"range"}))


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"attribute access (`.{node.attr}`)"
    if isinstance(node, (ast.Lambda, ast.FunctionDef)):
        return "a lambda"
    if isinstance(node, (ast.SetComp, ast.DictComp)):
        return "this comprehension (use sum(... for i in range(n)))"
    if isinstance(node, (ast.NamedExpr,)):
        return "assignment (`:=`)"
    return f"`{type(node).__name__}`"


def _check_call(src: str, node: ast.Call, functions: frozenset[str] = frozenset()) -> None:
    if not isinstance(node.func, ast.Name):
        raise FormulaError(f"only named functions may be called: `{_segment(src, node.func)}`")
    name = node.func.id
    if node.keywords:
        raise FormulaError(f"keyword arguments are not allowed: `{_segment(src, node)}`")
    if any(isinstance(a, ast.Starred) for a in node.args):
        raise FormulaError(f"`*` arguments are not allowed: `{_segment(src, node)}`")
    if name == "range":
        raise FormulaError(f"range() may only be the iterable of a comprehension: `{_segment(src, node)}`")
    if name in functions and name not in FUNCTIONS:
        return  # a helper function; its arity is checked when it is called
    if name not in FUNCTIONS:
        allowed = " ".join(sorted(set(FUNCTIONS) | functions))
        raise FormulaError(f"unknown function `{name}` (allowed: {allowed})")
    _, lo, hi = FUNCTIONS[name]
    if not lo <= len(node.args) <= hi:
        raise FormulaError(f"{name}() takes {lo}..{hi} arguments: `{_segment(src, node)}`")


def _range_call(node: ast.AST) -> ast.Call | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
        return node
    return None


class _Interpreter:
    def __init__(self, text: str, env: Mapping[str, Value]):
        self.text = text
        # comprehension variables shadow the (possibly lazy) environment, which is never copied
        self.env: Any = collections.ChainMap({}, env)

    def run(self, node: ast.AST) -> Value:
        try:
            return self.ev(node)
        except RecursionError:
            raise FormulaError(f"`{self.text[:60]}` nests too deeply") from None

    def ev(self, node: ast.AST) -> Value:
        meth = _DISPATCH.get(type(node))
        if meth is None:  # the parser's whitelist makes this unreachable
            raise FormulaError(f"`{_segment(self.text, node)}` is not allowed in a formula")
        return meth(self, node)

    def ev_Constant(self, node: ast.Constant) -> Value:
        v = node.value
        if isinstance(v, bool):
            return int(v)
        if isinstance(v, float):
            seg = ast.get_source_segment(self.text, node) or repr(v)
            return _norm(Fraction(seg.replace("_", "")))
        return v

    def ev_Name(self, node: ast.Name) -> Value:
        try:
            v = self.env[node.id]  # one lookup: a formula reads names many times (validate: ~10^6)
        except KeyError:
            if node.id in ("True", "False"):
                return int(node.id == "True")
            raise FormulaError(f"unknown variable `{node.id}` in `{self.text}`") from None
        return _coerce(v, node.id)

    def ev_List(self, node: ast.List) -> Value:
        return tuple(self.ev(e) for e in node.elts)

    ev_Tuple = ev_List

    def ev_Subscript(self, node: ast.Subscript) -> Value:
        seq = _seq(self.ev(node.value), lambda: f"`{_segment(self.text, node.value)}`")
        if isinstance(node.slice, ast.Slice):
            raise FormulaError(f"slices are not allowed: `{_segment(self.text, node)}`")
        idx = self.ev(node.slice)
        if isinstance(idx, Fraction) or not isinstance(idx, int) or not -len(seq) <= idx < len(seq):
            raise FormulaError(f"index {_show(idx)} is out of range in `{_segment(self.text, node)}`")
        return seq[idx]

    def ev_UnaryOp(self, node: ast.UnaryOp) -> Value:
        v = self.ev(node.operand)
        if isinstance(node.op, ast.Not):
            return int(not _truth(v))
        v = _num(v, lambda: f"`{_segment(self.text, node.operand)}`")
        return -v if isinstance(node.op, ast.USub) else v

    def ev_BinOp(self, node: ast.BinOp) -> Value:
        a = self.ev(node.left)
        b = self.ev(node.right)
        op = type(node.op)
        if type(a) is int and type(b) is int and op in (ast.Add, ast.Sub, ast.Mult):
            r = a + b if op is ast.Add else (a - b if op is ast.Sub else a * b)
            return r if r.bit_length() <= MAX_BITS else _norm(r)
        def seg() -> str:  # the source text, for an error message only
            return _segment(self.text, node)

        if op is ast.Add and isinstance(a, tuple) and isinstance(b, tuple):  # list concatenation
            if len(a) + len(b) > MAX_LIST:
                raise FormulaError(f"`{seg()}` makes a list longer than {MAX_LIST:,}")
            return a + b
        a = _num(a, lambda: f"the left side of `{seg()}`")
        b = _num(b, lambda: f"the right side of `{seg()}`")
        if op is ast.Add:
            r = a + b
        elif op is ast.Sub:
            r = a - b
        elif op is ast.Mult:
            r = a * b
        elif op in (ast.Div, ast.FloorDiv, ast.Mod):
            if b == 0:
                raise FormulaError(f"division by zero in `{seg()}`")
            r = Fraction(a) / b if op is ast.Div else (a // b if op is ast.FloorDiv else a % b)
        else:  # Pow
            if isinstance(b, Fraction) or not 0 <= b <= MAX_EXPONENT:
                raise FormulaError(f"`**` takes a whole exponent in 0..{MAX_EXPONENT}: `{seg()}`")
            if abs(a) > 1 and math.log2(abs(float(a))) * b > MAX_BITS:
                raise FormulaError(f"`{seg()}` grows beyond the size limit")
            r = a ** b
        return _norm(r)

    def ev_BoolOp(self, node: ast.BoolOp) -> Value:
        is_and = isinstance(node.op, ast.And)
        for sub in node.values:
            if _truth(self.ev(sub)) != is_and:
                return int(not is_and)
        return int(is_and)

    def ev_Compare(self, node: ast.Compare) -> Value:
        left = self.ev(node.left)
        for op, right_node in zip(node.ops, node.comparators):
            right = self.ev(right_node)
            if isinstance(left, str) != isinstance(right, str) and type(op) not in (ast.Eq, ast.NotEq):
                raise FormulaError(f"cannot order a string and a number: `{_segment(self.text, node)}`")
            if isinstance(left, tuple) or isinstance(right, tuple):
                if type(op) not in (ast.Eq, ast.NotEq):
                    raise FormulaError(f"lists can only be compared with == or !=: `{_segment(self.text, node)}`")
            if not _CMPOPS[type(op)](left, right):
                return 0
            left = right
        return 1

    def ev_IfExp(self, node: ast.IfExp) -> Value:
        return self.ev(node.body) if _truth(self.ev(node.test)) else self.ev(node.orelse)

    def ev_Call(self, node: ast.Call) -> Value:
        name = node.func.id  # type: ignore[attr-defined]
        if name not in FUNCTIONS:
            helper = self.env.get(name)
            if not isinstance(helper, Helper):
                raise FormulaError(f"unknown function `{name}` in `{self.text}`")
            return helper(*(self.ev(a) for a in node.args))
        fn = FUNCTIONS[name][0]
        if len(node.args) == 1 and isinstance(node.args[0], ast.GeneratorExp):
            return fn(self.ev_generator(node.args[0]))
        return fn(*(self.ev(a) for a in node.args))

    def ev_GeneratorExp(self, node: ast.GeneratorExp) -> Value:
        return self.ev_generator(node)

    ev_ListComp = ev_GeneratorExp

    def ev_generator(self, node: ast.GeneratorExp | ast.ListComp) -> tuple:
        comp = node.generators[0]
        var = comp.target.id  # type: ignore[attr-defined]
        rng = _range_call(comp.iter)
        if rng is not None:
            if not 1 <= len(rng.args) <= 2:
                raise FormulaError(f"range() takes 1 or 2 arguments: `{_segment(self.text, rng)}`")
            bounds = [self.ev(a) for a in rng.args]
            for b in bounds:
                if isinstance(b, (Fraction, str, tuple)):
                    raise FormulaError(f"range() bounds must be whole numbers: `{_segment(self.text, rng)}`")
            lo, hi = (0, bounds[0]) if len(bounds) == 1 else bounds
            if hi - lo > MAX_RANGE:
                raise FormulaError(f"range() of {hi - lo} steps is over the limit of {MAX_RANGE}")
            items: tuple = tuple(range(lo, hi))
        else:
            items = _seq(self.ev(comp.iter), lambda: f"`{_segment(self.text, comp.iter)}`")
        saved = self.env.maps[0].get(var, _MISSING)
        out = []
        try:
            for item in items:
                self.env.maps[0][var] = item
                if all(_truth(self.ev(cond)) for cond in comp.ifs):
                    out.append(self.ev(node.elt))
        finally:
            if saved is _MISSING:
                self.env.maps[0].pop(var, None)
            else:
                self.env.maps[0][var] = saved
        return tuple(out)


_MISSING = object()
# the interpreter's method for each node type the parser lets through (ev_BinOp for ast.BinOp, ...)
_DISPATCH: dict[type, Callable[[_Interpreter, Any], Value]] = {
    getattr(ast, name[3:]): fn for name, fn in vars(_Interpreter).items()
    if name.startswith("ev_") and isinstance(getattr(ast, name[3:], None), type)}


def _truth(v: Value) -> bool:
    if isinstance(v, (tuple, str)):
        return bool(v)
    return _num(v, "a condition") != 0


class Helper:
    """A kind's helper function (``let: {"block(x, p)": "9 * x * p + ..."}``), called by name."""

    def __init__(self, name: str, params: tuple[str, ...], body: Formula, env: Mapping[str, Value]):
        self.name, self.params, self.body, self.env = name, params, body, env

    def __call__(self, *args: Value) -> Value:
        if len(args) != len(self.params):
            raise FormulaError(f"{self.name}() takes {len(self.params)} arguments, got {len(args)}")
        return self.body.evaluate(collections.ChainMap(dict(zip(self.params, args)), self.env))

    def __repr__(self) -> str:
        return f"{self.name}({', '.join(self.params)}) = {self.body}"


def _coerce(v: Any, name: str) -> Value:
    if isinstance(v, Helper):
        return v
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, Fraction, str)):
        return v
    if isinstance(v, float):
        if not math.isfinite(v):
            raise FormulaError(f"variable `{name}` is not a finite number")
        return _norm(Fraction(repr(v)))
    if isinstance(v, (list, tuple)):
        return tuple(_coerce(x, name) for x in v)
    raise FormulaError(f"variable `{name}` has an unsupported type {type(v).__name__}")


def show(v: Value) -> str:
    """Render a formula value (ints with no separators, fractions as ``a/b``)."""
    return _show(v)


def count_at(f: Formula, env: Mapping[str, Any], where: str) -> int:
    """``f`` evaluated as a count (a whole, non-negative number); errors name ``where``. An
    environment that keeps its counts (:class:`Memo`) evaluates each formula once.

    Raises:
        FormulaError: it does not evaluate, or gives no whole number, or a negative one.
    """
    counts = env.counts if isinstance(env, Memo) else None
    if counts is not None and f.text in counts:
        return counts[f.text]
    try:
        n = f.evaluate_int(env)
    except FormulaError as e:
        raise e.at(where) from None
    if n < 0:
        raise FormulaError(f"`{f}` gives a negative count ({n})", where)
    if counts is not None:
        counts[f.text] = n
    return n


class Memo(Mapping):
    """An environment whose names never change once read, so a formula's count in it is
    computed once (:func:`count_at` keeps it in :attr:`counts`, by the formula's text), and so
    is each environment made over it with more names (:meth:`with_`). A kind's environment
    is one (``kinds.LazyEnv``): checking a case reads the same MACs, terms and training
    formulas for every counter and framework (``paramspec validate``: 20 times a case)."""

    counts: dict[str, int]
    _over: dict[tuple, "Memo"]

    def with_(self, names: Mapping[str, Any]) -> Mapping[str, Any]:
        """This environment with ``names`` over it, as ``ChainMap(names, self)`` reads."""
        try:
            key = tuple(names.items())
            hash(key)
        except TypeError:  # a list among the values: not kept
            return Over(dict(names), self)
        over = self._over.get(key)
        if over is None:
            over = self._over[key] = Over(dict(names), self)
        return over


class Over(Memo):
    """``names`` over a :class:`Memo` environment."""

    def __init__(self, names: dict[str, Any], parent: Memo):
        self.names, self.parent = names, parent
        self.counts, self._over = {}, {}

    def __getitem__(self, name: str) -> Any:
        if name in self.names:
            return self.names[name]
        return self.parent[name]

    def __contains__(self, name: object) -> bool:
        return name in self.names or name in self.parent

    def __iter__(self):
        return iter({**dict.fromkeys(self.parent), **dict.fromkeys(self.names)})

    def __len__(self) -> int:
        return len(set(self.parent) | set(self.names))


def scope(env: Mapping[str, Any], names: Mapping[str, Any]) -> Mapping[str, Any]:
    """``names`` over ``env``: kept with ``env`` where it is a :class:`Memo`, else a ChainMap."""
    if isinstance(env, Memo):
        return env.with_(names)
    return collections.ChainMap(dict(names), env)  # type: ignore[arg-type]


def truth_at(f: Formula, env: Mapping[str, Any], where: str) -> bool:
    """``f`` evaluated as a condition; errors name ``where``."""
    try:
        return bool(f.evaluate(env))
    except FormulaError as e:
        raise e.at(where) from None
