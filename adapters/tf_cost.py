"""TensorFlow's profiler on a traced graph, for Keras on the TensorFlow backend.

The forward pass (``layer.stateless_call`` over ``tf.TensorSpec`` variables and inputs) is
traced by ``tf.function`` into a graph, never run: no weight and no activation is
allocated. ``tf.compat.v1.profiler.profile`` with ``ProfileOptionBuilder.float_operation()``
counts the flops each op registers (its ``RegisterStatistics("flops")``); ops that register
none count 0. The per-op breakdown groups the graph's ops by type.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

import tensorflow as tf

from paramspec.compute import Input
from paramspec.reading import Measurement


def measure_tf(call: Callable[..., Any], variables: tuple[list, list], inputs: tuple[Input, ...],
               version: str) -> Measurement:
    """TensorFlow's profiler's float operations of ``call(trainable, non_trainable, *inputs)``."""
    from tensorflow.python.profiler import model_analyzer, option_builder

    specs = ([tf.TensorSpec(tuple(v.shape), v.dtype) for v in variables[0]],
             [tf.TensorSpec(tuple(v.shape), v.dtype) for v in variables[1]],
             *[tf.TensorSpec(x.shape, x.dtype) for x in inputs])
    graph = tf.function(call, autograph=False).get_concrete_function(*specs).graph
    options = option_builder.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    quiet = logging.getLogger("tensorflow")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the v1 profiler warns that it is deprecated, every call
    try:
        profile = model_analyzer.profile(graph, options=options)
    finally:
        quiet.setLevel(level)
    by_op: dict[str, int] = {}
    counted: set[str] = set()
    stack = list(profile.children)
    while stack:  # the scope tree: each node's own flops, by its op's type
        node = stack.pop()
        stack.extend(node.children)
        if node.float_ops:
            try:
                op_type = graph.get_operation_by_name(node.name).type
            except KeyError:  # a scope, not an op
                op_type = "(scope)"
            by_op[op_type] = by_op.get(op_type, 0) + int(node.float_ops)
            counted.add(node.name)
    uncounted: dict[str, int] = {}
    for op in graph.get_operations():
        if op.name not in counted and op.type not in _PASSIVE:
            uncounted[op.type] = uncounted.get(op.type, 0) + 1
    notes = [f"ops the profiler counts no flops for: {', '.join(f'{t} x{n}' for t, n in sorted(uncounted.items()))}"
             ] if uncounted else []
    return Measurement("tf_profiler", version, int(profile.total_float_ops), by_op, [x.to_dict() for x in inputs],
                       notes)


# Ops that move, reshape, read or select data: no arithmetic, so not worth naming as uncounted.
_PASSIVE = frozenset("""
    Placeholder Const Identity IdentityN NoOp Reshape Transpose Shape ShapeN Size Rank StridedSlice Slice Pack Unpack
    ConcatV2 GatherV2 ResourceGather Cast ExpandDims Squeeze Split SplitV Fill Range ZerosLike OnesLike ReadVariableOp
    Tile BroadcastTo BroadcastArgs Select SelectV2 StopGradient PreventGradient Enter Exit Merge Switch NextIteration
    LoopCond TensorListReserve TensorListFromTensor TensorListStack TensorListGetItem TensorListSetItem
    TensorListElementShape TensorListLength Bitcast EnsureShape CheckNumerics Assert Print PrintV2 ReverseV2 OneHot
    LogicalAnd LogicalOr LogicalNot Where ScatterNd TensorScatterUpdate MirrorPad Pad PadV2 GatherNd ResourceGatherNd
""".split())
