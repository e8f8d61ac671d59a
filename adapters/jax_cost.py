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

import contextlib
import math
from typing import Any, Callable

import jax

from paramspec.compute import Input
from paramspec.reading import Measurement, StepMeasurement

_INNER = ("jaxpr", "call_jaxpr", "fun_jaxpr", "body_jaxpr")
# XLA's cost of one equation, by primitive, parameters and abstract inputs: the same for every
# forward pass in the process (a model's blocks, and the suite's cases, repeat their shapes)
_COSTS: dict = {}


def _short_locations() -> Any:
    """A lowering's ops located by their own frame alone, not by the whole Python stack
    (``jax_include_full_tracebacks_in_locations`` off, for this context only): the location is
    debug metadata of the MLIR module, which XLA's cost analysis never reads, and a full stack
    on every op (under pytest, dozens of frames) about doubles the time of lowering and costing
    a small module. Where this JAX has no such option, nothing changes."""
    try:
        from jax._src import config
        return config.include_full_tracebacks_in_locations(False)
    except (ImportError, AttributeError, TypeError):
        return contextlib.nullcontext()


class _SharedContext:
    """One MLIR context for the lowerings of :func:`measure_xla` (the forward pass or step, and
    each equation of :func:`_eqn_flops`).

    JAX makes a new MLIR context for every lowering and loads its dialects into it: a 3x3
    convolution lowered and costed alone took 13-15 ms with a context of its own, 8-10 ms with
    a shared one, and a case has dozens of distinct equations. Inside this context manager,
    JAX's ``make_ir_context`` returns one context, made by JAX's own function and made again
    every :attr:`USES` lowerings (a context keeps what its modules intern). What is lowered, and
    so what XLA costs, is unchanged: a context holds the dialects and what modules intern, no
    setting. Where this JAX has no such function, nothing changes."""

    USES = 256

    def __init__(self) -> None:
        self.context: Any = None
        self.uses = 0

    @contextlib.contextmanager
    def __call__(self) -> Any:
        try:
            from jax._src.interpreters import mlir
            make = mlir.make_ir_context
        except (ImportError, AttributeError):
            yield
            return
        if self.context is None or self.uses >= self.USES:
            self.context, self.uses = make(), 0
        self.uses += 1
        mlir.make_ir_context = lambda: self.context
        try:
            yield
        finally:
            mlir.make_ir_context = make


_shared_context = _SharedContext()


def abstract(x: Input) -> jax.ShapeDtypeStruct:
    return jax.ShapeDtypeStruct(x.shape, jax.numpy.dtype(x.dtype))


MATMUL = frozenset({"dot_general", "conv_general_dilated"})  # the xla counter's matmul_ops (frameworks.yaml)
OTHER = "(other ops, not costed apart)"


def measure_xla(fn: Callable[..., Any], args: tuple, version: str, inputs: tuple[Input, ...],
                breakdown: bool = True, out_info: list | None = None) -> Measurement:
    """XLA's cost of ``fn(*args)`` (args: pytrees of ShapeDtypeStructs), and its breakdown;
    without ``breakdown``, only the matmul-like equations are costed apart, and the rest of
    the total is one figure (:data:`OTHER`). ``out_info``: a list the trace's output shapes
    and dtypes are appended to (``Traced.out_info``: what ``jax.eval_shape`` of ``fn`` would
    give, from the same trace)."""
    with _short_locations():
        traced = jax.jit(fn).trace(*args)  # traced once: its jaxpr for the breakdown, its lowering for the total
        if out_info is not None:
            out_info.append(traced.out_info)
        with _shared_context():
            lowered = traced.lower()
        total = _flops(lowered)
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
            with _shared_context():
                lowered = jax.jit(one).lower(*[jax.ShapeDtypeStruct(a.shape, a.dtype) for a in avals])
            cache[key] = _flops(lowered)
        except Exception:  # an equation that will not lower alone: left to (unattributed)
            cache[key] = 0.0
    return cache[key]


def sum_of_outputs(out: Any) -> Any:
    """A step's scalar loss: the sum of every floating-point leaf of a forward pass's output."""
    leaves = [x for x in jax.tree.leaves(out) if jax.numpy.issubdtype(x.dtype, jax.numpy.floating)]
    return sum((x.sum() for x in leaves[1:]), leaves[0].sum())


def measure_step_xla(forward_fn: Callable[..., Any], params: Any, state: Any, inputs: tuple[Input, ...], version: str,
                     *, input_grad: bool = False, breakdown: bool = True,
                     optimizer: tuple[int | None, str] = (None, ""), notes: list[str] | None = None) -> StepMeasurement:
    """XLA's cost of one training step of ``forward_fn(params, state, *xs)`` (every argument a
    pytree of ShapeDtypeStructs): the forward pass alone (as ``measure`` reads it), and
    ``jax.value_and_grad`` of the sum of its outputs with respect to ``params`` (and the float
    inputs, with ``input_grad``), each lowered and costed (never compiled). The backward is the
    step less the forward, op by op (XLA costs the unoptimized lowering op by op, so the parts
    add up; the loss's sum lands in the backward's non-matmul ops). The activations are the
    residuals JAX keeps for the backward pass (``saved_residuals``), its parameters and state
    excluded; the gradients, the shapes ``value_and_grad`` returns for the parameters (read from
    the step's own trace). ``optimizer``: the bytes of the framework's optimizer's state, and
    what built it (the caller's)."""
    from jax._src.ad_checkpoint import saved_residuals

    xs = tuple(abstract(i) for i in inputs)
    floats = tuple(k for k, i in enumerate(inputs) if jax.numpy.issubdtype(jax.numpy.dtype(i.dtype), jax.numpy.floating))

    def run(params, state, *xs):  # the inputs require no gradient, unless asked; the state never does
        xs = tuple(x if input_grad and k in floats else jax.lax.stop_gradient(x) for k, x in enumerate(xs))
        state = jax.tree.map(jax.lax.stop_gradient, state)  # else saved_residuals keeps what its gradient would read
        return forward_fn(params, state, *xs)

    def held(params, state, *xs):
        return sum_of_outputs(run(params, state, *xs))

    argnums = (0, *(2 + k for k in floats)) if input_grad else 0  # params, state, then the inputs
    forward = measure_xla(run, (params, state, *xs), version, inputs, breakdown)
    outputs: list = []
    step = measure_xla(jax.value_and_grad(held, argnums=argnums), (params, state, *xs), version, inputs, breakdown,
                       outputs)
    back = {op: step.by_op.get(op, 0) - forward.by_op.get(op, 0) for op in {*step.by_op, *forward.by_op}}
    backward = Measurement("xla", version, step.total - forward.total, {op: v for op, v in back.items() if v},
                           forward.inputs)
    residuals = saved_residuals(held, params, state, *xs)
    own = ("from the argument params", "from the argument state")
    activations = sum(_nbytes(a) for a, where in residuals if not where.startswith(own))
    grads = outputs[0][1]  # (value, gradients): the step's own output shapes, with no trace of jax.grad apart
    if isinstance(argnums, tuple):
        grads = grads[0]  # the parameters' gradients; the inputs' are not held beside the weights
    gradients = sum(_nbytes(g) for g in jax.tree.leaves(grads))
    return StepMeasurement(forward, backward, step.total, activations, "", gradients, optimizer[0], optimizer[1],
                           list(notes or []))


def _nbytes(a: Any) -> int:
    return int(math.prod(a.shape)) * jax.numpy.dtype(a.dtype).itemsize


def optax_state_bytes(optimizer: str, params: Any) -> tuple[int | None, str]:
    """Bytes of optax's state for ``optimizer`` (spec/training.yaml's id) over ``params``
    (abstract: ``jax.eval_shape`` of its ``init``), or None where optax has no such optimizer."""
    import optax

    made = {"sgd": (lambda: optax.sgd(0.1), "optax.sgd(0.1)"),
            "sgd-momentum": (lambda: optax.sgd(0.1, momentum=0.9), "optax.sgd(0.1, momentum=0.9)"),
            "adamw": (lambda: optax.adamw(1e-3), "optax.adamw(1e-3)"),
            "adafactor": (lambda: optax.adafactor(1e-3), "optax.adafactor(1e-3)")}
    if optimizer not in made:
        return None, f"optax has no {optimizer} optimizer"
    make, text = made[optimizer]
    state = jax.eval_shape(make().init, params)
    return sum(_nbytes(x) for x in jax.tree.leaves(state)), f"{text} (optax {optax.__version__}), its init"
