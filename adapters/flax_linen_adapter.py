"""Flax linen adapter: builds ``flax.linen`` modules and initializes them abstractly.

Canonical (torch.nn) names are translated to Flax's own arguments in plain view
(``out_features`` -> ``features``, ``bias`` -> ``use_bias``, ``groups`` ->
``feature_group_count``, ``affine`` -> ``use_scale`` / ``use_bias``). Variables come from
``jax.eval_shape(module.init, ...)`` on channels-last ``ShapeDtypeStruct`` inputs, so no
weight memory is allocated at any size. The 'params' collection is trainable; every other
collection (``batch_stats``) is state.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
from flax.traverse_util import flatten_dict

from paramspec.errors import NotApplicable
from paramspec.reading import Reading, Tensor

from .base import Adapter, Built, ints
from .flax_linen_models import FlaxLinenModels


def _x(*shape: int, dtype: Any = jnp.float32) -> jax.ShapeDtypeStruct:
    return jax.ShapeDtypeStruct(shape, dtype)


_MATERIALIZE = [False]  # set by FlaxLinenAdapter.build from Adapter.materialize (bench/scale.py)


class _Variables(dict):
    """Abstract variables, plus ``embeds``: the paths of the nn.Embed modules that init called."""

    embeds: frozenset = frozenset()


def _init(module: nn.Module, *inputs: Any, **kwargs: Any) -> _Variables:
    """The module's variables, shapes and dtypes only (``jax.eval_shape`` of ``init``).

    A method interceptor (``nn.intercept_methods``) records, during that same trace, the path
    of every ``nn.Embed`` instance called (``__call__`` or ``attend``), so ``read`` knows the
    embedding tables by module type rather than by name.
    """
    embeds: set[tuple[str, ...]] = set()

    def record(next_fun, args, kw, context):
        if isinstance(context.module, nn.Embed):
            embeds.add(tuple(context.module.path))
        return next_fun(*args, **kw)

    def init(key, *xs):  # a fresh function each call, so jax never reuses a trace without recording
        with nn.intercept_methods(record):
            return module.init(key, *xs, **kwargs)

    if _MATERIALIZE[0]:  # benchmarks only: a real init, with concrete inputs and weights
        real = [jax.numpy.zeros(x.shape, x.dtype) if isinstance(x, jax.ShapeDtypeStruct) else x for x in inputs]
        out = jax.block_until_ready(init(jax.random.key(0), *real))
    else:
        out = jax.eval_shape(init, jax.random.key(0), *inputs)
    variables = _Variables(nn.meta.unbox(flax.core.unfreeze(out)))
    variables.embeds = frozenset(embeds)
    return variables


class _Fn(nn.Module):
    """A Flax function (``nn.relu``, ``nn.max_pool``) called from a module, as a model would."""

    fn: Callable[..., Any]

    def __call__(self, x):
        return self.fn(x)


class _SeparableConv2D(nn.Module):
    depthwise: nn.Module
    pointwise: nn.Module

    def __call__(self, x):
        return self.pointwise(self.depthwise(x))


class _TransformerEncoderLayer(nn.Module):
    """torch.nn.TransformerEncoderLayer (post-norm), from Flax's own layers."""

    self_attn: nn.Module
    linear1: nn.Module
    linear2: nn.Module
    norm1: nn.Module
    norm2: nn.Module

    def __call__(self, x):
        x = self.norm1(x + self.self_attn(x, x, x))
        return self.norm2(x + self.linear2(nn.relu(self.linear1(x))))


class _TransformerDecoderLayer(nn.Module):
    """torch.nn.TransformerDecoderLayer (post-norm), from Flax's own layers."""

    self_attn: nn.Module
    multihead_attn: nn.Module
    linear1: nn.Module
    linear2: nn.Module
    norm1: nn.Module
    norm2: nn.Module
    norm3: nn.Module

    def __call__(self, x, memory):
        x = self.norm1(x + self.self_attn(x, x, x))
        x = self.norm2(x + self.multihead_attn(x, memory, memory))
        return self.norm3(x + self.linear2(nn.relu(self.linear1(x))))


def _axes(n: int) -> int | tuple[int, ...]:
    """The last ``n`` axes, as LayerNorm / RMSNorm reduction_axes and feature_axes."""
    return -1 if n == 1 else tuple(range(-n, 0))


class FlaxLinenAdapter(FlaxLinenModels, Adapter):
    framework = "flax-linen"

    def version(self) -> str:
        return f"flax {flax.__version__} (jax {jax.__version__})"

    def build(self, kind: str, values: Any) -> Built:
        _MATERIALIZE[0] = self.materialize
        try:
            return super().build(kind, values)
        finally:
            _MATERIALIZE[0] = False

    # ------------------------------------------------------------------ read
    def read(self, built: Built) -> Reading:
        variables: dict = built.extra
        embeds = getattr(variables, "embeds", frozenset())  # nn.Embed module paths, recorded by _init
        tensors: list[Tensor] = []
        native = {"variables['params']": 0, "other collections": 0}
        for path, leaf in flatten_dict(variables).items():
            collection = path[0]
            trainable = collection == "params"
            # nn.Embed's one param is its table, 'embedding' (flax/linen/linear.py, Embed.setup)
            embedding = trainable and path[-1] == "embedding" and tuple(path[1:-1]) in embeds
            t = Tensor("/".join(map(str, path)), tuple(leaf.shape), str(leaf.dtype), trainable,
                       embedding=embedding)
            tensors.append(t)
            native["variables['params']" if trainable else "other collections"] += t.numel
        return Reading("flax-linen", self.target, self.version(), built.description, tensors, native)

    # ------------------------------------------------------------------ dense.yaml
    def build_Linear(self, v):
        m = nn.Dense(features=v.out_features, use_bias=v.bias)
        return Built(m, f"flax.linen.Dense(features={v.out_features}, use_bias={v.bias}) on (1, {v.in_features})",
                     extra=_init(m, _x(1, v.in_features)))

    def build_Embedding(self, v):
        m = nn.Embed(num_embeddings=v.num_embeddings, features=v.embedding_dim)
        return Built(m, f"flax.linen.Embed(num_embeddings={v.num_embeddings}, features={v.embedding_dim})",
                     extra=_init(m, _x(1, dtype=jnp.int32)))

    # ------------------------------------------------------------------ conv.yaml
    def _conv(self, v):
        k = ints(v.kernel_size)
        m = nn.Conv(features=v.out_channels, kernel_size=k, feature_group_count=v.groups, use_bias=v.bias)
        shape = (1, *([8] * len(k)), v.in_channels)
        return Built(m, f"flax.linen.Conv(features={v.out_channels}, kernel_size={k}, feature_group_count={v.groups}, "
                        f"use_bias={v.bias}) on {shape}", extra=_init(m, _x(*shape)))

    def _conv_transpose(self, v):
        if v.groups > 1:
            raise NotApplicable("flax.linen.ConvTranspose has no feature_group_count")
        k = ints(v.kernel_size)
        m = nn.ConvTranspose(features=v.out_channels, kernel_size=k, use_bias=v.bias)
        shape = (1, *([8] * len(k)), v.in_channels)
        return Built(m, f"flax.linen.ConvTranspose(features={v.out_channels}, kernel_size={k}, use_bias={v.bias}) "
                        f"on {shape}", extra=_init(m, _x(*shape)))

    def build_Conv1d(self, v):
        return self._conv(v)

    def build_Conv2d(self, v):
        return self._conv(v)

    def build_Conv3d(self, v):
        return self._conv(v)

    def build_ConvTranspose1d(self, v):
        return self._conv_transpose(v)

    def build_ConvTranspose2d(self, v):
        return self._conv_transpose(v)

    def build_ConvTranspose3d(self, v):
        return self._conv_transpose(v)

    def build_DepthwiseConv2D(self, v):
        k = ints(v.kernel_size)
        out = v.in_channels * v.depth_multiplier
        m = nn.Conv(features=out, kernel_size=k, feature_group_count=v.in_channels, use_bias=v.use_bias)
        return Built(m, f"flax.linen.Conv(features={out}, kernel_size={k}, feature_group_count={v.in_channels}, "
                        f"use_bias={v.use_bias}) on (1, 8, 8, {v.in_channels})",
                     extra=_init(m, _x(1, 8, 8, v.in_channels)))

    def build_SeparableConv2D(self, v):
        k = ints(v.kernel_size)
        mid = v.in_channels * v.depth_multiplier
        m = _SeparableConv2D(
            depthwise=nn.Conv(features=mid, kernel_size=k, feature_group_count=v.in_channels, use_bias=False),
            pointwise=nn.Conv(features=v.filters, kernel_size=(1, 1), use_bias=v.use_bias))
        return Built(m, f"SeparableConv2D(depthwise=flax.linen.Conv(features={mid}, kernel_size={k}, "
                        f"feature_group_count={v.in_channels}, use_bias=False), pointwise=flax.linen.Conv("
                        f"features={v.filters}, kernel_size=(1, 1), use_bias={v.use_bias})) "
                        f"on (1, 8, 8, {v.in_channels})",
                     extra=_init(m, _x(1, 8, 8, v.in_channels)))

    # ------------------------------------------------------------------ recurrent.yaml
    def _rnn(self, cell_cls, v):
        """num_layers of nn.RNN(cell), each in nn.Bidirectional when bidirectional."""
        name = cell_cls.__name__
        layers = []
        for _ in range(v.num_layers):
            if v.bidirectional:
                layers.append(nn.Bidirectional(nn.RNN(cell_cls(features=v.hidden_size)),
                                               nn.RNN(cell_cls(features=v.hidden_size))))
            else:
                layers.append(nn.RNN(cell_cls(features=v.hidden_size)))
        m = layers[0] if v.num_layers == 1 else nn.Sequential(layers)
        layer = f"flax.linen.RNN(flax.linen.{name}(features={v.hidden_size}))"
        if v.bidirectional:
            layer = f"flax.linen.Bidirectional({layer}, {layer})"
        desc = layer if v.num_layers == 1 else f"flax.linen.Sequential([{layer}] * {v.num_layers})"
        return Built(m, f"{desc} on (1, 4, {v.input_size})", extra=_init(m, _x(1, 4, v.input_size)))

    def build_RNN(self, v):
        if not v.bias:
            raise NotApplicable("flax.linen.SimpleCell has no use_bias option")
        return self._rnn(nn.SimpleCell, v)

    def build_LSTM(self, v):
        if v.proj_size > 0:
            raise NotApplicable("flax.linen.LSTMCell has no projection (proj_size)")
        if not v.bias:
            raise NotApplicable("flax.linen.LSTMCell has no use_bias option")
        return self._rnn(nn.LSTMCell, v)

    def build_GRU(self, v):
        if not v.reset_after:
            raise NotApplicable("flax.linen.GRUCell always applies the reset gate after the hidden projection")
        if not v.bias:
            raise NotApplicable("flax.linen.GRUCell has no use_bias option")
        return self._rnn(nn.GRUCell, v)

    # ------------------------------------------------------------------ norm.yaml
    def _bn(self, v, rank):
        if not v.track_running_stats:
            raise NotApplicable("flax.linen.BatchNorm always keeps running statistics in batch_stats")
        m = nn.BatchNorm(use_running_average=False, use_scale=v.affine, use_bias=v.affine)
        shape = (2, *([4] * (rank - 2)), v.num_features)
        return Built(m, f"flax.linen.BatchNorm(use_running_average=False, use_scale={v.affine}, use_bias={v.affine}) "
                        f"on {shape}", extra=_init(m, _x(*shape)))

    def build_BatchNorm1d(self, v):
        return self._bn(v, 3)

    def build_BatchNorm2d(self, v):
        return self._bn(v, 4)

    def build_BatchNorm3d(self, v):
        return self._bn(v, 5)

    def build_LayerNorm(self, v):
        shape = ints(v.normalized_shape)
        axes = _axes(len(shape))
        use_bias = v.elementwise_affine and v.bias
        m = nn.LayerNorm(use_scale=v.elementwise_affine, use_bias=use_bias, reduction_axes=axes, feature_axes=axes)
        return Built(m, f"flax.linen.LayerNorm(use_scale={v.elementwise_affine}, use_bias={use_bias}, "
                        f"reduction_axes={axes}, feature_axes={axes}) on {(1, *shape)}",
                     extra=_init(m, _x(1, *shape)))

    def build_GroupNorm(self, v):
        m = nn.GroupNorm(num_groups=v.num_groups, use_scale=v.affine, use_bias=v.affine)
        return Built(m, f"flax.linen.GroupNorm(num_groups={v.num_groups}, use_scale={v.affine}, use_bias={v.affine}) "
                        f"on (1, 4, 4, {v.num_channels})", extra=_init(m, _x(1, 4, 4, v.num_channels)))

    def build_RMSNorm(self, v):
        shape = ints(v.normalized_shape)
        axes = _axes(len(shape))
        m = nn.RMSNorm(use_scale=v.elementwise_affine, reduction_axes=axes, feature_axes=axes)
        return Built(m, f"flax.linen.RMSNorm(use_scale={v.elementwise_affine}, reduction_axes={axes}, "
                        f"feature_axes={axes}) on {(1, *shape)}", extra=_init(m, _x(1, *shape)))

    def build_InstanceNorm2d(self, v):
        if v.track_running_stats:
            raise NotApplicable("flax.linen.InstanceNorm keeps no running statistics")
        m = nn.InstanceNorm(use_scale=v.affine, use_bias=v.affine)
        return Built(m, f"flax.linen.InstanceNorm(use_scale={v.affine}, use_bias={v.affine}) "
                        f"on (1, 4, 4, {v.num_features})", extra=_init(m, _x(1, 4, 4, v.num_features)))

    # ------------------------------------------------------------------ attention.yaml
    def build_MultiheadAttention(self, v):
        if v.add_bias_kv:
            raise NotApplicable("flax.linen.MultiHeadDotProductAttention has no add_bias_kv")
        E = v.embed_dim
        K = v.kdim if v.kdim else E
        V = v.vdim if v.vdim else E
        m = nn.MultiHeadDotProductAttention(num_heads=v.num_heads, qkv_features=E, out_features=E, use_bias=v.bias)
        return Built(m, f"flax.linen.MultiHeadDotProductAttention(num_heads={v.num_heads}, qkv_features={E}, "
                        f"out_features={E}, use_bias={v.bias}) on q (1, 4, {E}), k (1, 4, {K}), v (1, 4, {V})",
                     extra=_init(m, _x(1, 4, E), _x(1, 4, K), _x(1, 4, V)))

    def _attention(self, v):
        return nn.MultiHeadDotProductAttention(num_heads=v.nhead, qkv_features=v.d_model, out_features=v.d_model,
                                               use_bias=v.bias)

    def _transformer_parts(self, v, norms):
        parts = dict(linear1=nn.Dense(features=v.dim_feedforward, use_bias=v.bias),
                     linear2=nn.Dense(features=v.d_model, use_bias=v.bias))
        for i in range(1, norms + 1):
            parts[f"norm{i}"] = nn.LayerNorm(use_bias=v.bias)
        return parts

    def _transformer_description(self, name, v, attentions, norms):
        attn = (f"flax.linen.MultiHeadDotProductAttention(num_heads={v.nhead}, qkv_features={v.d_model}, "
                f"out_features={v.d_model}, use_bias={v.bias})")
        return (f"{name}(" + ", ".join(f"{a}={attn}" for a in attentions)
                + f", linear1=flax.linen.Dense(features={v.dim_feedforward}, use_bias={v.bias}), "
                  f"linear2=flax.linen.Dense(features={v.d_model}, use_bias={v.bias}), "
                + ", ".join(f"norm{i}=flax.linen.LayerNorm(use_bias={v.bias})" for i in range(1, norms + 1))
                + f") on (1, 4, {v.d_model})")

    def build_TransformerEncoderLayer(self, v):
        m = _TransformerEncoderLayer(self_attn=self._attention(v), **self._transformer_parts(v, 2))
        return Built(m, self._transformer_description("TransformerEncoderLayer", v, ["self_attn"], 2),
                     extra=_init(m, _x(1, 4, v.d_model)))

    def build_TransformerDecoderLayer(self, v):
        m = _TransformerDecoderLayer(self_attn=self._attention(v), multihead_attn=self._attention(v),
                                     **self._transformer_parts(v, 3))
        return Built(m, self._transformer_description("TransformerDecoderLayer", v,
                                                      ["self_attn", "multihead_attn"], 3),
                     extra=_init(m, _x(1, 4, v.d_model), _x(1, 4, v.d_model)))

    # ------------------------------------------------------------------ activation.yaml
    def build_PReLU(self, v):
        if v.num_parameters > 1:
            raise NotApplicable("flax.linen.PReLU learns a single scalar slope")
        m = nn.PReLU()
        return Built(m, "flax.linen.PReLU() on (1, 4, 4, 8)", extra=_init(m, _x(1, 4, 4, 8)))

    # ------------------------------------------------------------------ parameter_free.yaml
    def build_ReLU(self, v):
        m = _Fn(nn.relu)
        return Built(m, "flax.linen.relu in a module, on (1, 8, 8, 3)", extra=_init(m, _x(1, 8, 8, 3)))

    def build_MaxPool2d(self, v):
        m = _Fn(functools.partial(nn.max_pool, window_shape=(2, 2), strides=(2, 2)))
        return Built(m, "flax.linen.max_pool(window_shape=(2, 2), strides=(2, 2)) in a module, on (1, 8, 8, 3)",
                     extra=_init(m, _x(1, 8, 8, 3)))

    def build_AvgPool2d(self, v):
        m = _Fn(functools.partial(nn.avg_pool, window_shape=(2, 2), strides=(2, 2)))
        return Built(m, "flax.linen.avg_pool(window_shape=(2, 2), strides=(2, 2)) in a module, on (1, 8, 8, 3)",
                     extra=_init(m, _x(1, 8, 8, 3)))

    def build_AdaptiveAvgPool2d(self, v):
        raise NotApplicable("Flax has no adaptive pooling layer or function")

    def build_Dropout(self, v):
        m = nn.Dropout(0.5)
        return Built(m, "flax.linen.Dropout(0.5) on (1, 8, 8, 3), deterministic=True",
                     extra=_init(m, _x(1, 8, 8, 3), deterministic=True))

    def build_Flatten(self, v):
        raise NotApplicable("Flax has no Flatten layer; models call x.reshape")


ADAPTER_CLASS = FlaxLinenAdapter
