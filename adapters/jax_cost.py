"""XLA's cost analysis of a forward pass, for the JAX targets (flax-linen, flax-nnx, keras-jax).

The whole forward pass is lowered over ``jax.ShapeDtypeStruct`` arguments (never compiled,
never run: no weight and no activation is allocated) and XLA's ``HloCostAnalysis`` gives the
total (``Lowered.cost_analysis()['flops']``). For the per-op breakdown, each equation of the
forward pass's jaxpr is lowered alone, over its own abstract inputs, and costed the same
way (equations of one shape are costed once), grouped by primitive. A loop's body
(``scan``, ``while``) is walked once, as XLA costs it. What the per-op sum does not reach of
the total is reported as ``(unattributed)``, so the breakdown always adds up to the total.
"""
from __future__ import annotations

from typing import Any, Callable

import jax

from paramspec.compute import Input
from paramspec.reading import Measurement

_INNER = ("jaxpr", "call_jaxpr", "fun_jaxpr", "body_jaxpr")


def abstract(x: Input) -> jax.ShapeDtypeStruct:
    return jax.ShapeDtypeStruct(x.shape, jax.numpy.dtype(x.dtype))


def measure_xla(fn: Callable[..., Any], args: tuple, version: str, inputs: tuple[Input, ...]) -> Measurement:
    """XLA's cost of ``fn(*args)`` (args: pytrees of ShapeDtypeStructs), and its breakdown."""
    total = _flops(jax.jit(fn).lower(*args))
    jaxpr = jax.make_jaxpr(fn)(*args)
    by_op: dict[str, float] = {}
    _walk(jaxpr.jaxpr, by_op, {})
    counted = {op: int(v) for op, v in by_op.items() if v}
    rest = int(total) - sum(counted.values())
    if rest:
        counted["(unattributed)"] = rest
    return Measurement("xla", version, int(total), counted, [i.to_dict() for i in inputs])


def _flops(lowered: Any) -> float:
    cost = lowered.cost_analysis()
    if isinstance(cost, (list, tuple)):  # older jax returned one dict per computation
        cost = cost[0] if cost else {}
    return float((cost or {}).get("flops", 0.0))


def _walk(jaxpr: Any, by_op: dict[str, float], cache: dict) -> None:
    for eqn in jaxpr.eqns:
        inner = next((eqn.params[p] for p in _INNER if p in eqn.params), None)
        if inner is not None and eqn.primitive.name != "cond":
            _walk(getattr(inner, "jaxpr", inner), by_op, cache)  # pjit, custom_jvp/vjp, scan and while bodies
            continue
        name = eqn.primitive.name
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
