"""TensorFlow's profiler on a traced graph, for Keras on the TensorFlow backend.

The forward pass (``layer.stateless_call`` over ``tf.TensorSpec`` variables and inputs) is
traced by ``tf.function`` into a graph, never run: no weight and no activation is
allocated. ``tf.compat.v1.profiler.profile`` with ``ProfileOptionBuilder.float_operation()``
counts the flops each op registers (its ``RegisterStatistics("flops")``); ops that register
none count 0. The per-op breakdown groups the graph's ops by type.
"""
from __future__ import annotations

import logging
import math
from typing import Any, Callable

import tensorflow as tf

from paramspec.compute import Input
from paramspec.reading import Measurement, StepMeasurement


def measure_tf(call: Callable[..., Any], variables: tuple[list, list], inputs: tuple[Input, ...],
               version: str) -> Measurement:
    """TensorFlow's profiler's float operations of ``call(trainable, non_trainable, *inputs)``."""
    return _profile(_graph(call, variables, inputs), inputs, version)


def _graph(call: Callable[..., Any], variables: tuple[list, list], inputs: tuple[Input, ...]) -> Any:
    specs = ([tf.TensorSpec(tuple(v.shape), v.dtype) for v in variables[0]],
             [tf.TensorSpec(tuple(v.shape), v.dtype) for v in variables[1]],
             *[tf.TensorSpec(x.shape, x.dtype) for x in inputs])
    return tf.function(call, autograph=False).get_concrete_function(*specs).graph


def _profile(graph: Any, inputs: tuple[Input, ...], version: str, keep: Callable[[str], bool] = lambda name: True,
             reading: tuple[int, dict[str, int]] | None = None) -> Measurement:
    """The profiler's reading of ``graph`` (of the ops whose names ``keep`` takes; ``reading``:
    the profiler's run of it, when made already): the total and the per-op-type breakdown, and
    a note of the ops it counts nothing for."""
    total, by_name = reading or _run_profiler(graph)
    by_op: dict[str, int] = {}
    for name, flops in by_name.items():
        if keep(name):
            op_type = graph.get_operation_by_name(name).type
            by_op[op_type] = by_op.get(op_type, 0) + flops
    uncounted: dict[str, int] = {}
    for op in graph.get_operations():
        if keep(op.name) and op.name not in by_name and op.type not in _PASSIVE:
            uncounted[op.type] = uncounted.get(op.type, 0) + 1
    notes = [f"ops the profiler counts no flops for: {', '.join(f'{t} x{n}' for t, n in sorted(uncounted.items()))}"
             ] if uncounted else []
    return Measurement("tf_profiler", version, total if all(keep(n) for n in by_name) else sum(by_op.values()), by_op,
                       [x.to_dict() for x in inputs], notes)


def _run_profiler(graph: Any) -> tuple[int, dict[str, int]]:
    """``tf.compat.v1.profiler.profile`` of ``graph`` with float_operation(): its total and
    each op's own flops, by the op's name (the scope tree walked; a scope is no op)."""
    from tensorflow.python.profiler import model_analyzer, option_builder

    options = option_builder.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    quiet = logging.getLogger("tensorflow")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the v1 profiler warns that it is deprecated, every call
    try:
        profile = model_analyzer.profile(graph, options=options)
    finally:
        quiet.setLevel(level)
    names = {op.name for op in graph.get_operations()}
    by_name: dict[str, int] = {}
    stack = list(profile.children)
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.float_ops and node.name in names:
            by_name[node.name] = int(node.float_ops)
    return int(profile.total_float_ops), by_name


# Ops that move, reshape, read or select data: no arithmetic, so not worth naming as uncounted.
_PASSIVE = frozenset("""
    Placeholder Const Identity IdentityN NoOp Reshape Transpose Shape ShapeN Size Rank StridedSlice Slice Pack Unpack
    ConcatV2 GatherV2 ResourceGather Cast ExpandDims Squeeze Split SplitV Fill Range ZerosLike OnesLike ReadVariableOp
    Tile BroadcastTo BroadcastArgs Select SelectV2 StopGradient PreventGradient Enter Exit Merge Switch NextIteration
    LoopCond TensorListReserve TensorListFromTensor TensorListStack TensorListGetItem TensorListSetItem
    TensorListElementShape TensorListLength Bitcast EnsureShape CheckNumerics Assert Print PrintV2 ReverseV2 OneHot
    LogicalAnd LogicalOr LogicalNot Where ScatterNd TensorScatterUpdate MirrorPad Pad PadV2 GatherNd ResourceGatherNd
""".split())


GRADIENT_SCOPE = "gradient_tape/"  # where tf.GradientTape.gradient puts the backward pass's ops
LOSS_SCOPE = "paramspec_loss/"  # the step's loss, the sum of the outputs: neither the forward pass nor the backward


def _sum_of_outputs(out: Any) -> Any:
    return tf.add_n([tf.reduce_sum(o) for o in tf.nest.flatten(out) if o.dtype.is_floating])


def measure_step_tf(call: Callable[..., Any], variables: tuple[list, list], inputs: tuple[Input, ...], version: str, *,
                    input_grad: bool = False, optimizer: tuple[int | None, str] = (None, "")) -> StepMeasurement:
    """TensorFlow's profiler on one training step: ``call``'s outputs summed under a
    ``tf.GradientTape`` and its gradient with respect to the trainable variables (and the float
    inputs, with ``input_grad``), traced by ``tf.function`` into one graph, never run. The
    backward pass is the ops ``tape.gradient`` adds to the graph (most under its ``gradient_tape/``
    scope, but not all: the AddN that sums a tensor's gradients from several consumers, and the
    call of a function's gradient, are not); the forward the rest, as ``measure_tf`` reads it
    (the loss's sum is in neither, but in the step's total).
    The activations are the forward pass's tensors the backward's ops read (the graph's own
    record of what the step keeps), the variables excluded."""
    backward_ops: set[str] = set()  # the ops tape.gradient adds: the backward pass

    def step(trainable, non_trainable, *xs):
        with tf.GradientTape() as tape:
            watched = list(trainable) + ([x for x in xs if x.dtype.is_floating] if input_grad else [])
            tape.watch(watched)
            out = call(trainable, non_trainable, *xs)
            with tf.name_scope(LOSS_SCOPE[:-1]):
                loss = _sum_of_outputs(out)
        graph = tf.compat.v1.get_default_graph()  # the FuncGraph being traced
        before = {op.name for op in graph.get_operations()}
        grads = tape.gradient(loss, watched)
        backward_ops.update(op.name for op in graph.get_operations() if op.name not in before)
        return loss, grads

    graph = _graph(step, variables, inputs)
    reading = _run_profiler(graph)
    forward = _profile(graph, inputs, version,
                       lambda name: name not in backward_ops and not name.startswith(LOSS_SCOPE), reading)
    backward = _profile(graph, inputs, version, lambda name: name in backward_ops, reading)
    held = {t.name for t in graph.inputs[:len(variables[0]) + len(variables[1])]}
    saved: dict[str, int] = {}
    for op in graph.get_operations():
        if op.name not in backward_ops:
            continue
        for t in op.inputs:
            if t.op.name in backward_ops or t.op.type == "Const" or t.name in held:
                continue
            if t.shape.is_fully_defined():
                saved[t.name] = t.shape.num_elements() * t.dtype.size
    gradients = sum(math.prod(v.shape) * tf.as_dtype(v.dtype).size for v in variables[0])
    return StepMeasurement(forward, backward, reading[0], sum(saved.values()), "", gradients, optimizer[0], optimizer[1],
                           forward.notes + [f"backward: {n}" for n in backward.notes])
