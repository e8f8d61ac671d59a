"""Compute in the spec: a case's inputs, its canonical MACs, named extra terms, and what each
counter should read.

- **macs**: the multiply-accumulates of the matmul-like work of one forward pass at the
  case's input (dense, every tap of a convolution over the padded input, attention's QKᵀ and
  AV, the recurrent gates at every time step). The canonical number; ``flops`` is ``2 * macs``.
- **terms**: other work a counter may count (bias adds, elementwise ops, pooling), each a
  named formula where it is exact.
- A **counter** (``frameworks.yaml``: FlopCounterMode, XLA's cost analysis, TensorFlow's
  profiler) reads a built object's forward pass. Its reading splits into the matmul-like ops
  it lists (``matmul_ops``) and the rest. Its default formula for the matmul part is in
  ``frameworks.yaml``; a kind records a counter's own formula where it differs, with why
  (padded taps skipped, a loop body counted once, an op the counter does not see), and an
  exact formula for the counter's total where the spec has one. Nothing is compared with a
  tolerance.

Example:
    >>> case = load_spec().case("Conv2d[in3-out32-k3x3]")
    >>> case.kind.expected_compute(None, case.values).macs
    777600
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from .errors import FormulaError
from .formula import Formula

INPUT_NAMES = ("batch", "seq_len", "length", "height", "width", "depth")


@dataclass(frozen=True)
class Input:
    """One input of a forward pass: its shape and dtype in torch.nn's layout. ``channels_first``
    marks an image-like input whose axis 1 channels-last frameworks move to the end."""

    shape: tuple[int, ...]
    dtype: str = "float32"
    channels_first: bool = False

    def channels_last(self) -> "Input":
        if not self.channels_first:
            return self
        s = self.shape
        return Input((s[0], *s[2:], s[1]), self.dtype, False)

    def to_dict(self) -> dict[str, Any]:
        return {"shape": list(self.shape), "dtype": self.dtype}


@dataclass(frozen=True)
class InputSpec:
    """An input's shape: one formula per axis, or one formula that gives the whole list."""

    shape: tuple[Formula, ...] | Formula
    dtype: str = "float32"
    channels_first: bool = False


@dataclass(frozen=True)
class CounterRule:
    """A counter's own formula for a kind (or, with ``not_applicable``, a case it cannot measure)."""

    counters: tuple[str, ...]
    why: str
    matmul: Formula | None = None
    total: Formula | None = None
    when: Formula | None = None
    not_applicable: bool = False
    frameworks: tuple[str, ...] | None = None  # only these frameworks' builds (None: every build the counter reads)


@dataclass(frozen=True)
class Counter:
    """A counter from frameworks.yaml: the ops it counts as matmul-like, and its default formulas."""

    id: str
    name: str
    matmul_ops: tuple[str, ...]
    matmul: Formula
    why: str
    total: Formula | None = None
    api: str = ""
    backward: Formula | None = None  # its default formula for a backward pass's matmul-like part


@dataclass
class ExpectedCompute:
    """What the spec expects for one case (and one counter, when ``counter`` is given)."""

    macs: int
    terms: dict[str, int] = field(default_factory=dict)
    macs_formula: str = ""
    counter: str | None = None
    matmul: int | None = None  # the counter's matmul-like part
    matmul_formula: str | None = None
    total: int | None = None  # the counter's whole reading, where the spec has an exact formula
    total_formula: str | None = None
    why: str | None = None
    by_convention: bool = False  # the counter follows the kind's own rule, not its default
    not_applicable: str | None = None
    estimates: dict[str, dict[str, Any]] = field(default_factory=dict)  # the papers' figures, with sources

    @property
    def flops(self) -> int:
        return 2 * self.macs


def evaluate_inputs(specs: tuple[InputSpec, ...], env: Mapping[str, Any], where: str) -> tuple[Input, ...]:
    out = []
    for i, spec in enumerate(specs):
        if isinstance(spec.shape, Formula):
            try:
                value = spec.shape.evaluate(env)
            except FormulaError as e:
                raise e.at(f"{where}.inputs[{i}].shape") from None
            if not isinstance(value, tuple) or not all(isinstance(d, int) and not isinstance(d, bool) for d in value):
                raise FormulaError(f"`{spec.shape}` gives no list of whole numbers", f"{where}.inputs[{i}].shape")
            dims = list(value)
        else:
            dims = []
            for j, f in enumerate(spec.shape):
                try:
                    dims.append(f.evaluate_int(env))
                except FormulaError as e:
                    raise e.at(f"{where}.inputs[{i}].shape[{j}]") from None
        if not dims or min(dims) < 1:
            raise FormulaError(f"input {i} has the shape {dims}", f"{where}.inputs")
        out.append(Input(tuple(dims), spec.dtype, spec.channels_first))
    return tuple(out)


def compute_env(env: Mapping[str, Any], macs: int, terms: dict[str, int]) -> Mapping[str, Any]:
    """A kind's formula environment plus ``macs`` and its terms (what counter formulas read)."""
    from .formula import scope

    return scope(env, {"macs": macs, **terms})


def elements(shape: tuple[int, ...]) -> int:
    return math.prod(shape)
