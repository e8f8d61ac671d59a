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
from functools import partial
from typing import Any, Callable

import flax
import jax
from flax import nnx

from paramspec.errors import NotApplicable
from paramspec.reading import Measurement, Reading, StepMeasurement, Tensor

from .base import Adapter, Built, Input, call_text, channels_last, ints
from .flax_common import conv_padding, conv_transpose_padding, pool_padding, pool_strides, shape_only_init
from .jax_cost import abstract, measure_step_xla, measure_xla, optax_state_bytes
from .flax_nnx_models import FlaxNnxModels
from .flax_nnx_vision import FlaxNnxVision
from .flax_nnx_decoders import FlaxNnxDecoders, routed_experts


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


def _size(state: nnx.State) -> int:
    return sum(x.size for x in jax.tree.leaves(state))


def _variables(module: nnx.Module) -> dict[int, tuple[nnx.Variable, list[str]]]:
    """Every Variable, by identity, with every path to it, in the order the module holds them.

    ``nnx.state`` (like ``nnx.iter_graph``) visits a shared Variable or module once, under its
    first path; this walk follows every reference (each node's ``node_dict``), so a Variable
    reachable under two paths is found under both.
    """
    found: dict[int, tuple[nnx.Variable, list[str]]] = {}

    def walk(node: Any, prefix: tuple, stack: frozenset) -> None:
        for key, value in nnx.graph.get_node_impl(node).node_dict(node).items():
            path = (*prefix, key)
            if isinstance(value, nnx.Variable):
                found.setdefault(id(value), (value, []))[1].append("/".join(map(str, path)))
            elif nnx.graph.is_node(value) and id(value) not in stack:
                walk(value, path, stack | {id(value)})

    walk(module, (), frozenset({id(module)}))
    return found


_PLAIN = (bool, int, float, str)


def one_line(module: Any) -> str:
    """An nnx module in one line, from its attributes: a model's ``config`` (its constructor's
    arguments), or the plain values it keeps and its submodules."""
    config = getattr(module, "config", None)
    if isinstance(config, tuple) and all(isinstance(c, tuple) and len(c) == 2 for c in config):
        return call_text(type(module).__name__, [f"{k}={v!r}" for k, v in config])
    args = []
    for key, value in vars(module).items():
        if key.startswith("_") or key in ("dtype", "param_dtype", "precision"):
            continue
        if isinstance(value, nnx.Module):
            args.append(f"{key}={one_line(value)}")
        elif isinstance(value, _PLAIN) or (isinstance(value, tuple) and all(isinstance(x, _PLAIN) for x in value)):
            args.append(f"{key}={value!r}")
    if isinstance(module, nnx.List):
        args += [one_line(x) for x in module if isinstance(x, nnx.Module)]
    return call_text(type(module).__name__, args)


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


def _nnx_kind(m: Any) -> tuple[str, dict[str, Any]] | None:
    """The spec kind of an nnx layer and its canonical (torch.nn) variables, or None."""
    t = type(m)
    if t is nnx.Linear:
        return "Linear", {"in_features": m.in_features, "out_features": m.out_features, "bias": m.use_bias}
    if t is nnx.Embed:
        return "Embedding", {"num_embeddings": m.num_embeddings, "embedding_dim": m.features}
    if t is nnx.Conv:
        k = list(m.kernel_size)
        if not 1 <= len(k) <= 3:
            return None
        def each(x):
            return list(x) if isinstance(x, (tuple, list)) else [x] * len(k)
        padding = m.padding.lower() if isinstance(m.padding, str) else m.padding
        if not isinstance(padding, str):
            pads = [p if isinstance(p, int) else p[0] for p in (padding if isinstance(padding, (tuple, list))
                                                                  else [padding] * len(k))]
            if any(not isinstance(p, int) and p[0] != p[1] for p in (padding if isinstance(padding, (tuple, list))
                                                                      else [])):
                return None  # asymmetric padding: no torch.nn argument says it
            padding = pads
        return f"Conv{len(k)}d", {"in_channels": m.in_features, "out_channels": m.out_features, "kernel_size": k,
                                  "stride": each(m.strides), "dilation": each(m.kernel_dilation),
                                  "groups": m.feature_group_count, "bias": m.use_bias, "padding": padding}
    if t is nnx.LayerNorm and (m.use_scale or not m.use_bias):  # a bias without a scale: no torch.nn LayerNorm
        return "LayerNorm", {"normalized_shape": [m.num_features], "elementwise_affine": m.use_scale,
                             "bias": m.use_bias}
    if t is nnx.RMSNorm:
        return "RMSNorm", {"normalized_shape": [m.num_features], "elementwise_affine": m.use_scale}
    if t is nnx.BatchNorm and m.use_scale == m.use_bias:
        return "BatchNorm2d", {"num_features": m.num_features, "affine": m.use_scale}
    return None


class FlaxNnxAdapter(FlaxNnxModels, FlaxNnxVision, FlaxNnxDecoders, Adapter):
    framework = "flax-nnx"

    # a size past what a tensor can hold, in XLA's words (its lowering checks each shape's extent)
    LIMIT_ERRORS = (RuntimeError,)
    LIMIT_MESSAGES = ("overflow in static extent product",)
    LIMIT_RULE = "a tensor has fewer than 2**63 elements"

    def version(self) -> str:
        return f"flax {flax.__version__} (jax {jax.__version__})"

    def construct(self, make, materialize: bool) -> Built:
        """A builder returns a factory of its module (``Built.factory``), taking ``rngs``:
        called under ``nnx.eval_shape`` with a fixed-key stand-in, or with real rngs to
        materialize; what it makes is ``Built.module``."""
        b = make()
        if materialize:
            b.module = b.factory(nnx.Rngs(0))
        else:
            with shape_only_init():
                b.module = nnx.eval_shape(lambda: b.factory(_FixedKeyRngs()))
        return b

    @classmethod
    def owns(cls, obj: Any) -> str | None:
        """nnx's target for an ``nnx.Module``."""
        return cls.targets()[0] if isinstance(obj, nnx.Module) else None

    def describe(self, built: Built) -> str:
        return one_line(built.module)

    # ------------------------------------------------------------------ read
    def read(self, built: Built, native: bool = True) -> Reading:
        module: nnx.Module = built.module
        # the embedding Param of every nnx.Embed, by identity
        embeddings = {id(node.embedding) for _, node in nnx.iter_graph(module) if isinstance(node, nnx.Embed)}
        routed = routed_experts(module)  # a mixture of experts' routed Params: how many experts, and top_k
        tensors: list[Tensor] = []
        for key, (var, paths) in _variables(module).items():
            x = var.get_value()
            tensors.append(Tensor(paths[0], tuple(x.shape), str(x.dtype), isinstance(var, nnx.Param),
                                  shared_with=tuple(paths[1:]), embedding=key in embeddings, **routed.get(key, {})))
        native = {
            "nnx.Param": _size(nnx.state(module, nnx.Param)),
            "nnx.BatchStat": _size(nnx.state(module, nnx.BatchStat)),
        } if native else {}
        return Reading(self.source(), self.describe(built), tensors, native)

    # ------------------------------------------------------------------ measure
    def measure(self, built: Built, breakdown: bool = True) -> Measurement:
        """XLA's cost of the module's call over its abstract state (``nnx.split``) and inputs,
        in eval mode (BatchNorm on running statistics, Dropout off); never compiled."""
        module = built.module
        module.eval()
        graphdef, state = nnx.split(module)

        def forward(state, *xs):
            m = nnx.merge(graphdef, state)
            for _, node in nnx.iter_graph(m):  # built with rngs=False: a carry needs a key (its init ignores it)
                if isinstance(node, nnx.RNN) and not node.rngs:
                    node.rngs = _FixedKeyRngs()
            return built.invoke(m, xs)

        return measure_xla(forward, (state, *map(abstract, built.inputs)), self.version(), built.inputs, breakdown)

    def measure_step(self, built: Built, *, optimizer: str | None = None, input_grad: bool = False,
                     recompute: str = "none", breakdown: bool = True) -> StepMeasurement:
        """A training step of the module's call with respect to its ``nnx.Param`` state (every
        other variable held), in eval mode as the forward pass: XLA's cost of the forward pass
        and of its ``value_and_grad``, the residuals JAX keeps, and optax's state (flax's
        optimizers, as ``nnx.Optimizer`` keeps it)."""
        if recompute != "none":
            raise NotApplicable(f"recompute {recompute!r} is measured in torch only; the spec's estimate gives it")
        module = built.module
        module.eval()
        graphdef, params, state = nnx.split(module, nnx.Param, ...)

        def forward(params, state, *xs):
            m = nnx.merge(graphdef, params, state)
            for _, node in nnx.iter_graph(m):  # built with rngs=False: a carry needs a key (its init ignores it)
                if isinstance(node, nnx.RNN) and not node.rngs:
                    node.rngs = _FixedKeyRngs()
            return built.invoke(m, xs)

        return measure_step_xla(forward, params, state, built.inputs, self.version(), input_grad=input_grad,
                                breakdown=breakdown,
                                optimizer=optax_state_bytes(optimizer, params) if optimizer else (None, ""))

    def kinds_within(self, built: Built) -> list[tuple[str, str, dict[str, Any], str]]:
        """nnx's own layers among the module's graph, their canonical variables read from their
        attributes (an nnx.Conv of 1 to 3 spatial dimensions; padding as torch.nn takes it
        where nnx's is one of 'SAME' / 'VALID' or symmetric integers)."""
        out = []
        for path, node in nnx.iter_graph(built.module):
            found = _nnx_kind(node)
            if found is not None:
                out.append(("/".join(str(p) for p in path), *found, call_text(type(node).__name__, [])))
        return sorted(out, key=lambda m: m[0].count("/"))

    def layout(self, x: Input) -> Input:
        return channels_last(x)

    # ------------------------------------------------------------------ dense.yaml
    def build_Linear(self, v, x):
        return Built(factory=lambda rngs: nnx.Linear(v.in_features, v.out_features, use_bias=v.bias, rngs=rngs))

    def build_Embedding(self, v, x):
        return Built(factory=lambda rngs: nnx.Embed(num_embeddings=v.num_embeddings, features=v.embedding_dim,
                                                    rngs=rngs))

    # ------------------------------------------------------------------ conv.yaml
    def _conv(self, v):
        return Built(factory=lambda rngs: nnx.Conv(v.in_channels, v.out_channels, ints(v.kernel_size),
                                                   strides=ints(v.stride), padding=conv_padding(v),
                                                   kernel_dilation=ints(v.dilation), feature_group_count=v.groups,
                                                   use_bias=v.bias, rngs=rngs))

    def _conv_transpose(self, v):
        if v.groups > 1:
            raise NotApplicable("flax.nnx.ConvTranspose has no feature_group_count")
        return Built(factory=lambda rngs: nnx.ConvTranspose(v.in_channels, v.out_channels, ints(v.kernel_size),
                                                            strides=ints(v.stride),
                                                            padding=conv_transpose_padding(v),
                                                            kernel_dilation=ints(v.dilation), use_bias=v.bias,
                                                            rngs=rngs))

    def build_Conv1d(self, v, x):
        return self._conv(v)

    def build_Conv2d(self, v, x):
        return self._conv(v)

    def build_Conv3d(self, v, x):
        return self._conv(v)

    def build_ConvTranspose1d(self, v, x):
        return self._conv_transpose(v)

    def build_ConvTranspose2d(self, v, x):
        return self._conv_transpose(v)

    def build_ConvTranspose3d(self, v, x):
        return self._conv_transpose(v)

    def _depthwise(self, v, use_bias, rngs):
        return nnx.Conv(v.in_channels, v.in_channels * v.depth_multiplier, ints(v.kernel_size), strides=ints(v.strides),
                        padding=v.padding.upper(), feature_group_count=v.in_channels, use_bias=use_bias, rngs=rngs)

    def build_DepthwiseConv2D(self, v, x):
        return Built(factory=lambda rngs: self._depthwise(v, v.use_bias, rngs))

    def build_SeparableConv2D(self, v, x):
        mid = v.in_channels * v.depth_multiplier
        return Built(factory=lambda rngs: _SeparableConv2D(
            depthwise=self._depthwise(v, False, rngs),
            pointwise=nnx.Conv(mid, v.filters, (1, 1), use_bias=v.use_bias, rngs=rngs)))

    # ------------------------------------------------------------------ recurrent.yaml
    def _rnn(self, cell_cls, v):
        """num_layers of nnx.RNN(cell), each in nnx.Bidirectional when bidirectional; no rng state kept."""
        D = 2 if v.bidirectional else 1

        def make(rngs):
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

        return Built(factory=make)

    def build_RNN(self, v, x):
        if not v.bias:
            raise NotApplicable("flax.nnx.SimpleCell has no use_bias option")
        return self._rnn(nnx.SimpleCell, v)

    def build_LSTM(self, v, x):
        if v.proj_size > 0:
            raise NotApplicable("flax.nnx.LSTMCell has no projection (proj_size)")
        if not v.bias:
            raise NotApplicable("flax.nnx.LSTMCell has no use_bias option")
        return self._rnn(nnx.LSTMCell, v)

    def build_GRU(self, v, x):
        if not v.reset_after:
            raise NotApplicable("flax.nnx.GRUCell always applies the reset gate after the hidden projection")
        if not v.bias:
            raise NotApplicable("flax.nnx.GRUCell has no use_bias option")
        return self._rnn(nnx.GRUCell, v)

    # ------------------------------------------------------------------ norm.yaml
    def _bn(self, v):
        if not v.track_running_stats:
            raise NotApplicable("flax.nnx.BatchNorm always keeps running statistics in batch_stats")
        return Built(factory=lambda rngs: nnx.BatchNorm(v.num_features, use_scale=v.affine, use_bias=v.affine,
                                                        rngs=rngs))

    def build_BatchNorm1d(self, v, x):
        return self._bn(v)

    def build_BatchNorm2d(self, v, x):
        return self._bn(v)

    def build_BatchNorm3d(self, v, x):
        return self._bn(v)

    def _norm_axes(self, v) -> tuple[int, tuple[int, ...]]:
        """nnx norms take one num_features: over several axes, the product, stored flat and
        reshaped to the feature axes when called (nnx/nn/normalization.py, _normalize)."""
        shape = ints(v.normalized_shape)
        return math.prod(shape), tuple(range(-len(shape), 0))

    def build_LayerNorm(self, v, x):
        n, axes = self._norm_axes(v)
        use_bias = v.elementwise_affine and v.bias
        return Built(factory=lambda rngs: nnx.LayerNorm(n, use_scale=v.elementwise_affine, use_bias=use_bias,
                                                        reduction_axes=axes, feature_axes=axes, rngs=rngs))

    def build_GroupNorm(self, v, x):
        return Built(factory=lambda rngs: nnx.GroupNorm(v.num_channels, num_groups=v.num_groups,
                                                        use_scale=v.affine, use_bias=v.affine, rngs=rngs))

    def build_RMSNorm(self, v, x):
        n, axes = self._norm_axes(v)
        return Built(factory=lambda rngs: nnx.RMSNorm(n, use_scale=v.elementwise_affine, reduction_axes=axes,
                                                      feature_axes=axes, rngs=rngs))

    def build_InstanceNorm2d(self, v, x):
        if v.track_running_stats:
            raise NotApplicable("flax.nnx.InstanceNorm keeps no running statistics")
        return Built(factory=lambda rngs: nnx.InstanceNorm(v.num_features, use_scale=v.affine, use_bias=v.affine,
                                                           rngs=rngs))

    # ------------------------------------------------------------------ attention.yaml
    def build_MultiheadAttention(self, v, x):
        if v.add_bias_kv:
            raise NotApplicable("flax.nnx.MultiHeadAttention has no add_bias_kv")
        E = v.embed_dim
        K = v.kdim if v.kdim else E
        V = v.vdim if v.vdim else E
        if K != V:
            raise NotApplicable("flax.nnx.MultiHeadAttention takes one in_kv_features for both keys and values")
        return Built(factory=lambda rngs: nnx.MultiHeadAttention(v.num_heads, in_features=E, qkv_features=E,
                                                                 out_features=E, in_kv_features=K, use_bias=v.bias,
                                                                 decode=False, rngs=rngs))

    def _attention(self, v, rngs):
        return nnx.MultiHeadAttention(v.nhead, in_features=v.d_model, qkv_features=v.d_model,
                                      out_features=v.d_model, use_bias=v.bias, decode=False, rngs=rngs)

    def _transformer_parts(self, v, norms, rngs):
        parts = dict(linear1=nnx.Linear(v.d_model, v.dim_feedforward, use_bias=v.bias, rngs=rngs),
                     linear2=nnx.Linear(v.dim_feedforward, v.d_model, use_bias=v.bias, rngs=rngs))
        for i in range(1, norms + 1):
            parts[f"norm{i}"] = nnx.LayerNorm(v.d_model, use_bias=v.bias, rngs=rngs)
        return parts

    def build_TransformerEncoderLayer(self, v, x):
        def make(rngs):
            return _TransformerEncoderLayer(self_attn=self._attention(v, rngs),
                                            **self._transformer_parts(v, 2, rngs))
        return Built(factory=make)

    def build_TransformerDecoderLayer(self, v, x):
        def make(rngs):
            return _TransformerDecoderLayer(self_attn=self._attention(v, rngs),
                                            multihead_attn=self._attention(v, rngs),
                                            **self._transformer_parts(v, 3, rngs))
        return Built(factory=make)

    # ------------------------------------------------------------------ activation.yaml
    def build_PReLU(self, v, x):
        if v.num_parameters > 1:
            raise NotApplicable("flax.nnx.PReLU learns a single scalar slope")
        return Built(factory=lambda rngs: nnx.PReLU())

    # ------------------------------------------------------------------ parameter_free.yaml
    def build_ReLU(self, v, x):
        return Built(factory=lambda rngs: _Fn(nnx.relu))

    def _pool(self, fn, v):
        return Built(factory=lambda rngs: _Fn(partial(fn, window_shape=ints(v.kernel_size),
                                                      strides=pool_strides(v), padding=pool_padding(v))))

    def build_MaxPool2d(self, v, x):
        return self._pool(nnx.max_pool, v)

    def build_AvgPool2d(self, v, x):
        return self._pool(nnx.avg_pool, v)

    def build_AdaptiveAvgPool2d(self, v, x):
        raise NotApplicable("Flax has no adaptive pooling layer or function")

    def build_Dropout(self, v, x):
        return Built(factory=lambda rngs: nnx.Dropout(0.5))

    def build_Flatten(self, v, x):
        raise NotApplicable("Flax has no Flatten layer; models call x.reshape")


ADAPTER_CLASS = FlaxNnxAdapter
