"""XLA's cost analysis of a forward pass, for the JAX targets (flax-linen, flax-nnx, keras-jax).

The whole forward pass is lowered over ``jax.ShapeDtypeStruct`` arguments (never compiled,
never run: no weight and no activation is allocated) and XLA's ``HloCostAnalysis`` gives the
total (``Lowered.cost_analysis()['flops']``). For the per-op breakdown, each equation of the
forward pass's jaxpr is lowered alone, over its own abstract inputs, and costed the same
way (equations of one shape are costed once per process), grouped by primitive. A loop's body
(``scan``, ``while``) is walked once, as XLA costs it. What the per-op sum does not reach of
the total is reported as ``(unattributed)``, so the breakdown always adds up to the total.
"""
from __future__ import annotations

from typing import Any, Callable

import jax

from paramspec.compute import Input
from paramspec.reading import Measurement

_INNER = ("jaxpr", "call_jaxpr", "fun_jaxpr", "body_jaxpr")
# XLA's cost of one equation, by primitive, parameters and abstract inputs: the same for every
# forward pass in the process (a model's blocks, and the suite's cases, repeat their shapes)
_COSTS: dict = {}


def abstract(x: Input) -> jax.ShapeDtypeStruct:
    return jax.ShapeDtypeStruct(x.shape, jax.numpy.dtype(x.dtype))


MATMUL = frozenset({"dot_general", "conv_general_dilated"})  # the xla counter's matmul_ops (frameworks.yaml)
OTHER = "(other ops, not costed apart)"


def measure_xla(fn: Callable[..., Any], args: tuple, version: str, inputs: tuple[Input, ...],
                breakdown: bool = True) -> Measurement:
    """XLA's cost of ``fn(*args)`` (args: pytrees of ShapeDtypeStructs), and its breakdown;
    without ``breakdown``, only the matmul-like equations are costed apart, and the rest of
    the total is one figure (:data:`OTHER`)."""
    traced = jax.jit(fn).trace(*args)  # traced once: its jaxpr for the breakdown, its lowering for the total
    total = _flops(traced.lower())
    by_op: dict[str, float] = {}
    _walk(traced.jaxpr.jaxpr, by_op, _COSTS, None if breakdown else MATMUL)
    counted = {op: int(v) for op, v in by_op.items() if v}
    rest = int(total) - sum(counted.values())
    if rest:
        counted["(unattributed)" if breakdown else OTHER] = rest
    return Measurement("xla", version, int(total), counted, [i.to_dict() for i in inputs])


def _flops(lowered: Any) -> float:
    cost = lowered.cost_analysis()
    if isinstance(cost, (list, tuple)):  # older jax returned one dict per computation
        cost = cost[0] if cost else {}
    return float((cost or {}).get("flops", 0.0))


def _walk(jaxpr: Any, by_op: dict[str, float], cache: dict, only: frozenset[str] | None = None) -> None:
    for eqn in jaxpr.eqns:
        inner = next((eqn.params[p] for p in _INNER if p in eqn.params), None)
        if inner is not None and eqn.primitive.name != "cond":
            _walk(getattr(inner, "jaxpr", inner), by_op, cache, only)  # pjit, custom_jvp/vjp, scan and while bodies
            continue
        name = eqn.primitive.name
        if only is not None and name not in only:
            continue
        by_op[name] = by_op.get(name, 0.0) + _eqn_flops(eqn, cache)


def _eqn_flops(eqn: Any, cache: dict) -> float:
    avals = [v.aval for v in eqn.invars]
    key = (eqn.primitive, repr(sorted(eqn.params.items(), key=lambda kv: kv[0])),
           tuple((tuple(a.shape), str(a.dtype)) for a in avals))
    if key not in cache:
        def one(*xs):
            return eqn.primitive.bind(*xs, **eqn.params)
        try:
            cache[key] = _flops(jax.jit(one).lower(*[jax.ShapeDtypeStruct(a.shape, a.dtype) for a in avals]))
        except Exception:  # an equation that will not lower alone: left to (unattributed)
            cache[key] = 0.0
    return cache[key]
