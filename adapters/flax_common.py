"""What the linen and nnx adapters share (one translation, two adapters): torch.nn's shape
arguments in Flax's terms, and the torch op Flax lacks (adaptive average pooling)."""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

import jax
import jax.numpy as jnp

from .base import ints


def adaptive_avg_pool(x: jax.Array, size: tuple[int, int]) -> jax.Array:
    """torch.nn.AdaptiveAvgPool2d on NHWC: cell i averages rows floor(i*H/o) .. ceil((i+1)*H/o)
    (so a smaller input is repeated, as torch's is)."""
    for axis, out in zip((1, 2), size):
        n = x.shape[axis]
        cells = [jax.lax.slice_in_dim(x, (i * n) // out, -(-((i + 1) * n) // out), axis=axis).mean(
                 axis=axis, keepdims=True) for i in range(out)]
        x = jnp.concatenate(cells, axis=axis)
    return x


def conv_padding(v: Any) -> str | list[tuple[int, int]]:
    """torch's conv padding: 'same' and 'valid' are Flax's own ("SAME" splits an odd total the
    way torch does: the smaller half first); a number pads both sides of its axis."""
    if v.padding == "same":
        return "SAME"
    if v.padding == "valid":
        return "VALID"
    return [(p, p) for p in ints(v.padding)]


def conv_transpose_padding(v: Any) -> list[tuple[int, int]]:
    """torch's ConvTranspose output, in lax.conv_transpose's explicit padding (which pads the
    stride-dilated input): dilation * (k - 1) - padding before, plus output_padding after."""
    pads = []
    for k, d, p, op in zip(ints(v.kernel_size), ints(v.dilation), ints(v.padding), ints(v.output_padding)):
        reach = d * (k - 1)
        pads.append((reach - p, reach - p + op))
    return pads


def pool_padding(v: Any) -> list[tuple[int, int]]:
    return [(p, p) for p in ints(v.padding)]


def pool_strides(v: Any) -> tuple[int, ...]:
    """torch's stride=None means the kernel size."""
    return ints(v.stride) if v.stride else ints(v.kernel_size)


@contextlib.contextmanager
def shape_only_init() -> Iterator[None]:
    """Inside an abstract build (``jax.eval_shape``, ``nnx.eval_shape``), JAX's initializers
    draw no random numbers: ``uniform``, ``normal`` and ``truncated_normal``, which every
    ``jax.nn.initializers`` function calls through ``jax._src.random``, give zeros of the same
    shape and dtype. The values are never computed under eval_shape, only their shapes and
    dtypes, which are unchanged; the trace is smaller (the Llama-3-8B config traces about
    0.1 s faster). Only abstract builds use it: a materialized build draws as usual. Where
    JAX's module has moved, nothing is replaced.

    For the same reason linen's keys are not folded: each ``make_rng`` folds the module's path
    and a counter into its sequence's key (``LazyRng.as_jax_rng``: a ``jax.random.fold_in``
    per path element, each a jitted call traced again), about 0.6 ms a parameter, for a key
    whose value no draw reads here. The sequence's own key stands in: the same shape and
    dtype.
    """
    from jax._src import random as jax_random

    try:
        from flax.core.scope import LazyRng
    except ImportError:  # no linen here (keras-jax's env need not have flax)
        LazyRng = None
    folded = getattr(LazyRng, "as_jax_rng", None)

    def draw(key: Any, shape: Any = (), dtype: Any = float, *args: Any, **kwargs: Any) -> jax.Array:
        return jnp.zeros(shape, dtype)

    def truncated(key: Any, lower: Any, upper: Any, shape: Any = None, dtype: Any = float, *args: Any,
                  **kwargs: Any) -> jax.Array:
        return jnp.zeros(jnp.broadcast_shapes(jnp.shape(lower), jnp.shape(upper)) if shape is None else shape, dtype)

    stand_ins = {"uniform": draw, "normal": draw, "truncated_normal": truncated}
    saved = {name: getattr(jax_random, name) for name in stand_ins if hasattr(jax_random, name)}
    try:
        for name in saved:
            setattr(jax_random, name, stand_ins[name])
        if folded is not None:
            LazyRng.as_jax_rng = lambda self: self.rng
        yield
    finally:
        for name, f in saved.items():
            setattr(jax_random, name, f)
        if folded is not None:
            LazyRng.as_jax_rng = folded
