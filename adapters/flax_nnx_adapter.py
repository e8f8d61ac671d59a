"""Flax nnx adapter: builds ``flax.nnx`` modules abstractly and reads their state.

Canonical (torch.nn) names are translated to nnx's own arguments in plain view
(``bias`` -> ``use_bias``, ``groups`` -> ``feature_group_count``, ``embedding_dim`` ->
``features``, ``affine`` -> ``use_scale`` / ``use_bias``). Every module is
built inside ``nnx.eval_shape``, so its variables hold ``ShapeDtypeStruct`` values and no
weight memory is allocated at any size. ``nnx.Param`` is trainable; every other
``nnx.Variable`` (``nnx.BatchStat``) is state. Builders pass ``rngs`` only where a
constructor requires it and keep none, so no rng state (``nnx.RngState``) is created.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import flax
import jax
from flax import nnx

from paramspec.errors import NotApplicable
from paramspec.reading import Reading, Tensor

from .base import Adapter, Built, ints
from .flax_nnx_models import FlaxNnxModels


_MATERIALIZE = [False]  # set by FlaxNnxAdapter.build from Adapter.materialize (bench/scale.py)


class _FixedKeyRngs:
    """Stands in for ``nnx.Rngs`` in abstract builds: every stream (``rngs.params()``,
    ``rngs()``) returns one fixed key, and no counter is kept.

    Under ``nnx.eval_shape`` each draw from a real ``nnx.Rngs`` updates its RngCount, and
    flax's ``Variable.set_value`` probes the traced count's ``sharding``; jax answers with an
    error message that walks every equation traced so far, so a build grows quadratically
    with the model (4-5x slower for MobileNetV2 and Llama-2-7b). Initial values are never
    computed here, only shapes, so one key serves every parameter; the modules and their
    variables are exactly those a real ``nnx.Rngs`` gives (bench/scale.py builds with one).
    """

    def __init__(self) -> None:
        self.key = jax.random.key(0)

    def __call__(self, *args: Any, **kwargs: Any):
        return self.key

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return self


def _rngs():
    """The rngs argument for a constructor: real only when materializing."""
    return nnx.Rngs(0) if _MATERIALIZE[0] else _FixedKeyRngs()


def _abstract(make: Callable[[], nnx.Module]) -> nnx.Module:
    """``make()`` under ``nnx.eval_shape``: variables hold shapes and dtypes only."""
    if _MATERIALIZE[0]:  # benchmarks only: real weights
        return make()
    return nnx.eval_shape(make)


def _size(state: nnx.State) -> int:
    return sum(x.size for x in jax.tree.leaves(state))


def _variable_paths(module: nnx.Module) -> dict[int, list[str]]:
    """Every path to every Variable, by the Variable's id, shared references included.

    ``nnx.state`` (like ``nnx.iter_graph``) visits a shared Variable or module once, under its
    first path; this walk follows every reference (each node's ``node_dict``), so a Variable
    reachable under two paths is found under both.
    """
    paths: dict[int, list[str]] = {}

    def walk(node: Any, prefix: tuple, stack: frozenset) -> None:
        for key, value in nnx.graph.get_node_impl(node).node_dict(node).items():
            path = (*prefix, key)
            if isinstance(value, nnx.Variable):
                paths.setdefault(id(value), []).append("/".join(map(str, path)))
            elif nnx.graph.is_node(value) and id(value) not in stack:
                walk(value, path, stack | {id(value)})

    walk(module, (), frozenset({id(module)}))
    return paths


class _Fn(nnx.Module):
    """An nnx function (``nnx.relu``, ``nnx.max_pool``) called from a module, as a model would."""

    def __init__(self, fn: Callable[..., Any]):
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)


class _SeparableConv2D(nnx.Module):
    def __init__(self, depthwise: nnx.Module, pointwise: nnx.Module):
        self.depthwise = depthwise
        self.pointwise = pointwise

    def __call__(self, x):
        return self.pointwise(self.depthwise(x))


class _TransformerEncoderLayer(nnx.Module):
    """torch.nn.TransformerEncoderLayer (post-norm), from nnx's own layers."""

    def __init__(self, self_attn, linear1, linear2, norm1, norm2):
        self.self_attn = self_attn
        self.linear1 = linear1
        self.linear2 = linear2
        self.norm1 = norm1
        self.norm2 = norm2

    def __call__(self, x):
        x = self.norm1(x + self.self_attn(x, x, x))
        return self.norm2(x + self.linear2(nnx.relu(self.linear1(x))))


class _TransformerDecoderLayer(nnx.Module):
    """torch.nn.TransformerDecoderLayer (post-norm), from nnx's own layers."""

    def __init__(self, self_attn, multihead_attn, linear1, linear2, norm1, norm2, norm3):
        self.self_attn = self_attn
        self.multihead_attn = multihead_attn
        self.linear1 = linear1
        self.linear2 = linear2
        self.norm1 = norm1
        self.norm2 = norm2
        self.norm3 = norm3

    def __call__(self, x, memory):
        x = self.norm1(x + self.self_attn(x, x, x))
        x = self.norm2(x + self.multihead_attn(x, memory, memory))
        return self.norm3(x + self.linear2(nnx.relu(self.linear1(x))))


class FlaxNnxAdapter(FlaxNnxModels, Adapter):
    framework = "flax-nnx"

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
        module: nnx.Module = built.obj
        # the embedding Param of every nnx.Embed, by identity (nnx.state holds the same Variables)
        embeddings = {id(node.embedding) for _, node in nnx.iter_graph(module) if isinstance(node, nnx.Embed)}
        all_paths = _variable_paths(module)
        tensors: list[Tensor] = []
        for path, var in nnx.to_flat_state(nnx.state(module)):
            x = var.get_value()
            name = "/".join(map(str, path))
            shared = tuple(p for p in all_paths.get(id(var), ()) if p != name)
            tensors.append(Tensor(name, tuple(x.shape), str(x.dtype), isinstance(var, nnx.Param),
                                  shared_with=shared, embedding=id(var) in embeddings))
        native = {
            "nnx.Param": _size(nnx.state(module, nnx.Param)),
            "nnx.BatchStat": _size(nnx.state(module, nnx.BatchStat)),
        }
        return Reading("flax-nnx", self.target, self.version(), built.description, tensors, native)

    # ------------------------------------------------------------------ dense.yaml
    def build_Linear(self, v):
        m = _abstract(lambda: nnx.Linear(v.in_features, v.out_features, use_bias=v.bias, rngs=_rngs()))
        return Built(m, f"flax.nnx.Linear({v.in_features}, {v.out_features}, use_bias={v.bias})")

    def build_Embedding(self, v):
        m = _abstract(lambda: nnx.Embed(num_embeddings=v.num_embeddings, features=v.embedding_dim,
                                        rngs=_rngs()))
        return Built(m, f"flax.nnx.Embed(num_embeddings={v.num_embeddings}, features={v.embedding_dim})")

    # ------------------------------------------------------------------ conv.yaml
    def _conv(self, v):
        k = ints(v.kernel_size)
        m = _abstract(lambda: nnx.Conv(v.in_channels, v.out_channels, k, feature_group_count=v.groups,
                                       use_bias=v.bias, rngs=_rngs()))
        return Built(m, f"flax.nnx.Conv({v.in_channels}, {v.out_channels}, {k}, feature_group_count={v.groups}, "
                        f"use_bias={v.bias})")

    def _conv_transpose(self, v):
        if v.groups > 1:
            raise NotApplicable("flax.nnx.ConvTranspose has no feature_group_count")
        k = ints(v.kernel_size)
        m = _abstract(lambda: nnx.ConvTranspose(v.in_channels, v.out_channels, k, use_bias=v.bias,
                                                rngs=_rngs()))
        return Built(m, f"flax.nnx.ConvTranspose({v.in_channels}, {v.out_channels}, {k}, use_bias={v.bias})")

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
        m = _abstract(lambda: nnx.Conv(v.in_channels, out, k, feature_group_count=v.in_channels,
                                       use_bias=v.use_bias, rngs=_rngs()))
        return Built(m, f"flax.nnx.Conv({v.in_channels}, {out}, {k}, feature_group_count={v.in_channels}, "
                        f"use_bias={v.use_bias})")

    def build_SeparableConv2D(self, v):
        k = ints(v.kernel_size)
        mid = v.in_channels * v.depth_multiplier
        m = _abstract(lambda: _SeparableConv2D(
            depthwise=nnx.Conv(v.in_channels, mid, k, feature_group_count=v.in_channels, use_bias=False,
                               rngs=_rngs()),
            pointwise=nnx.Conv(mid, v.filters, (1, 1), use_bias=v.use_bias, rngs=_rngs())))
        return Built(m, f"SeparableConv2D(depthwise=flax.nnx.Conv({v.in_channels}, {mid}, {k}, "
                        f"feature_group_count={v.in_channels}, use_bias=False), "
                        f"pointwise=flax.nnx.Conv({mid}, {v.filters}, (1, 1), use_bias={v.use_bias}))")

    # ------------------------------------------------------------------ recurrent.yaml
    def _rnn(self, cell_cls, v):
        """num_layers of nnx.RNN(cell), each in nnx.Bidirectional when bidirectional; no rng state kept."""
        D = 2 if v.bidirectional else 1

        def make():
            rngs = _rngs()
            layers = []
            for layer in range(v.num_layers):
                n_in = v.input_size if layer == 0 else D * v.hidden_size
                if v.bidirectional:
                    layers.append(nnx.Bidirectional(
                        nnx.RNN(cell_cls(n_in, v.hidden_size, rngs=rngs), rngs=False),
                        nnx.RNN(cell_cls(n_in, v.hidden_size, rngs=rngs), rngs=False),
                        rngs=False))
                else:
                    layers.append(nnx.RNN(cell_cls(n_in, v.hidden_size, rngs=rngs), rngs=False))
            return layers[0] if v.num_layers == 1 else nnx.Sequential(*layers)

        name = cell_cls.__name__
        descs = []
        for layer in range(v.num_layers):
            n_in = v.input_size if layer == 0 else D * v.hidden_size
            d = f"flax.nnx.RNN(flax.nnx.{name}({n_in}, {v.hidden_size}), rngs=False)"
            descs.append(f"flax.nnx.Bidirectional({d}, {d}, rngs=False)" if v.bidirectional else d)
        desc = descs[0] if v.num_layers == 1 else f"flax.nnx.Sequential({', '.join(descs)})"
        return Built(_abstract(make), desc)

    def build_RNN(self, v):
        if not v.bias:
            raise NotApplicable("flax.nnx.SimpleCell has no use_bias option")
        return self._rnn(nnx.SimpleCell, v)

    def build_LSTM(self, v):
        if v.proj_size > 0:
            raise NotApplicable("flax.nnx.LSTMCell has no projection (proj_size)")
        if not v.bias:
            raise NotApplicable("flax.nnx.LSTMCell has no use_bias option")
        return self._rnn(nnx.LSTMCell, v)

    def build_GRU(self, v):
        if not v.reset_after:
            raise NotApplicable("flax.nnx.GRUCell always applies the reset gate after the hidden projection")
        if not v.bias:
            raise NotApplicable("flax.nnx.GRUCell has no use_bias option")
        return self._rnn(nnx.GRUCell, v)

    # ------------------------------------------------------------------ norm.yaml
    def _bn(self, v):
        if not v.track_running_stats:
            raise NotApplicable("flax.nnx.BatchNorm always keeps running statistics in batch_stats")
        m = _abstract(lambda: nnx.BatchNorm(v.num_features, use_scale=v.affine, use_bias=v.affine,
                                            rngs=_rngs()))
        return Built(m, f"flax.nnx.BatchNorm({v.num_features}, use_scale={v.affine}, use_bias={v.affine})")

    def build_BatchNorm1d(self, v):
        return self._bn(v)

    def build_BatchNorm2d(self, v):
        return self._bn(v)

    def build_BatchNorm3d(self, v):
        return self._bn(v)

    def _norm_axes(self, v) -> tuple[int, tuple[int, ...]]:
        """nnx norms take one num_features: over several axes, the product, stored flat and
        reshaped to the feature axes when called (nnx/nn/normalization.py, _normalize)."""
        shape = ints(v.normalized_shape)
        return math.prod(shape), tuple(range(-len(shape), 0))

    def build_LayerNorm(self, v):
        n, axes = self._norm_axes(v)
        use_bias = v.elementwise_affine and v.bias
        m = _abstract(lambda: nnx.LayerNorm(n, use_scale=v.elementwise_affine, use_bias=use_bias,
                                            reduction_axes=axes, feature_axes=axes, rngs=_rngs()))
        return Built(m, f"flax.nnx.LayerNorm({n}, use_scale={v.elementwise_affine}, use_bias={use_bias}, "
                        f"reduction_axes={axes}, feature_axes={axes})")

    def build_GroupNorm(self, v):
        m = _abstract(lambda: nnx.GroupNorm(v.num_channels, num_groups=v.num_groups, use_scale=v.affine,
                                            use_bias=v.affine, rngs=_rngs()))
        return Built(m, f"flax.nnx.GroupNorm({v.num_channels}, num_groups={v.num_groups}, use_scale={v.affine}, "
                        f"use_bias={v.affine})")

    def build_RMSNorm(self, v):
        n, axes = self._norm_axes(v)
        m = _abstract(lambda: nnx.RMSNorm(n, use_scale=v.elementwise_affine, reduction_axes=axes,
                                          feature_axes=axes, rngs=_rngs()))
        return Built(m, f"flax.nnx.RMSNorm({n}, use_scale={v.elementwise_affine}, reduction_axes={axes}, "
                        f"feature_axes={axes})")

    def build_InstanceNorm2d(self, v):
        if v.track_running_stats:
            raise NotApplicable("flax.nnx.InstanceNorm keeps no running statistics")
        m = _abstract(lambda: nnx.InstanceNorm(v.num_features, use_scale=v.affine, use_bias=v.affine,
                                               rngs=_rngs()))
        return Built(m, f"flax.nnx.InstanceNorm({v.num_features}, use_scale={v.affine}, use_bias={v.affine})")

    # ------------------------------------------------------------------ attention.yaml
    def build_MultiheadAttention(self, v):
        if v.add_bias_kv:
            raise NotApplicable("flax.nnx.MultiHeadAttention has no add_bias_kv")
        E = v.embed_dim
        K = v.kdim if v.kdim else E
        V = v.vdim if v.vdim else E
        if K != V:
            raise NotApplicable("flax.nnx.MultiHeadAttention takes one in_kv_features for both keys and values")
        m = _abstract(lambda: nnx.MultiHeadAttention(v.num_heads, in_features=E, qkv_features=E, out_features=E,
                                                     in_kv_features=K, use_bias=v.bias, decode=False,
                                                     rngs=_rngs()))
        return Built(m, f"flax.nnx.MultiHeadAttention({v.num_heads}, in_features={E}, qkv_features={E}, "
                        f"out_features={E}, in_kv_features={K}, use_bias={v.bias}, decode=False)")

    def _attention(self, v, rngs):
        return nnx.MultiHeadAttention(v.nhead, in_features=v.d_model, qkv_features=v.d_model,
                                      out_features=v.d_model, use_bias=v.bias, decode=False, rngs=rngs)

    def _transformer_parts(self, v, norms, rngs):
        parts = dict(linear1=nnx.Linear(v.d_model, v.dim_feedforward, use_bias=v.bias, rngs=rngs),
                     linear2=nnx.Linear(v.dim_feedforward, v.d_model, use_bias=v.bias, rngs=rngs))
        for i in range(1, norms + 1):
            parts[f"norm{i}"] = nnx.LayerNorm(v.d_model, use_bias=v.bias, rngs=rngs)
        return parts

    def _transformer_description(self, name, v, attentions, norms):
        attn = (f"flax.nnx.MultiHeadAttention({v.nhead}, in_features={v.d_model}, qkv_features={v.d_model}, "
                f"out_features={v.d_model}, use_bias={v.bias}, decode=False)")
        return (f"{name}(" + ", ".join(f"{a}={attn}" for a in attentions)
                + f", linear1=flax.nnx.Linear({v.d_model}, {v.dim_feedforward}, use_bias={v.bias}), "
                  f"linear2=flax.nnx.Linear({v.dim_feedforward}, {v.d_model}, use_bias={v.bias}), "
                + ", ".join(f"norm{i}=flax.nnx.LayerNorm({v.d_model}, use_bias={v.bias})"
                            for i in range(1, norms + 1)) + ")")

    def build_TransformerEncoderLayer(self, v):
        def make():
            rngs = _rngs()
            return _TransformerEncoderLayer(self_attn=self._attention(v, rngs),
                                            **self._transformer_parts(v, 2, rngs))
        return Built(_abstract(make), self._transformer_description("TransformerEncoderLayer", v, ["self_attn"], 2))

    def build_TransformerDecoderLayer(self, v):
        def make():
            rngs = _rngs()
            return _TransformerDecoderLayer(self_attn=self._attention(v, rngs),
                                            multihead_attn=self._attention(v, rngs),
                                            **self._transformer_parts(v, 3, rngs))
        return Built(_abstract(make), self._transformer_description(
            "TransformerDecoderLayer", v, ["self_attn", "multihead_attn"], 3))

    # ------------------------------------------------------------------ activation.yaml
    def build_PReLU(self, v):
        if v.num_parameters > 1:
            raise NotApplicable("flax.nnx.PReLU learns a single scalar slope")
        return Built(_abstract(lambda: nnx.PReLU()), "flax.nnx.PReLU()")

    # ------------------------------------------------------------------ parameter_free.yaml
    def build_ReLU(self, v):
        return Built(_abstract(lambda: _Fn(nnx.relu)), "flax.nnx.relu in a module")

    def build_MaxPool2d(self, v):
        def max_pool(x):
            return nnx.max_pool(x, window_shape=(2, 2), strides=(2, 2))
        return Built(_abstract(lambda: _Fn(max_pool)),
                     "flax.nnx.max_pool(window_shape=(2, 2), strides=(2, 2)) in a module")

    def build_AvgPool2d(self, v):
        def avg_pool(x):
            return nnx.avg_pool(x, window_shape=(2, 2), strides=(2, 2))
        return Built(_abstract(lambda: _Fn(avg_pool)),
                     "flax.nnx.avg_pool(window_shape=(2, 2), strides=(2, 2)) in a module")

    def build_AdaptiveAvgPool2d(self, v):
        raise NotApplicable("Flax has no adaptive pooling layer or function")

    def build_Dropout(self, v):
        return Built(_abstract(lambda: nnx.Dropout(0.5)), "flax.nnx.Dropout(0.5) (no rngs kept)")

    def build_Flatten(self, v):
        raise NotApplicable("Flax has no Flatten layer; models call x.reshape")


ADAPTER_CLASS = FlaxNnxAdapter
