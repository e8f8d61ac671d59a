"""Keras 3 adapter: builds ``keras.layers`` layers on a concrete input shape and reads them.

One adapter serves two targets: ``keras`` (TensorFlow backend) and ``keras-jax`` (JAX
backend); ``KERAS_BACKEND`` picks the backend before Keras is imported. Canonical variable
names are torch.nn's, so each builder translates them to Keras's constructor arguments
(``out_features`` -> ``units``, ``bias`` -> ``use_bias``, ``affine`` -> ``center``/``scale``).
On both backends, building happens inside ``keras.StatelessScope()``, where Keras creates
each variable with its shape and dtype but defers its initializer, so no weight memory is
allocated at any size. The model families are in ``keras_models.py``.
"""
from __future__ import annotations

import importlib
from typing import Any

import keras

from paramspec.errors import NotApplicable
from paramspec.reading import Reading, Tensor

from .base import Adapter, Built, ints
from .keras_models import KerasModels

# Concrete input sizes the layers are built on. No count depends on them: a layer's weights
# depend only on the channel / feature axes, which come from the spec's variables.
BATCH = 1
TIME = 5        # sequence length for recurrent and attention layers
SPATIAL = 16    # each spatial axis of a conv input, or the kernel's size where that is larger


def _spatial(kernel: Any) -> int:
    """A spatial size that fits the kernel ("valid" padding needs input >= kernel)."""
    return max(SPATIAL, *ints(kernel))
IMAGE = 4       # each spatial axis of a norm / activation / pooling input


def _shape(*dims: int) -> str:
    return "(" + ", ".join(map(str, dims)) + ("," if len(dims) == 1 else "") + ")"


def _built(layer: Any, description: str, input_shape: tuple[int, ...]) -> Built:
    return Built(layer, f"{description} built on input {_shape(*input_shape)}")


class _TransformerEncoderLayer(keras.layers.Layer):
    """torch.nn.TransformerEncoderLayer (post-norm, relu) composed from Keras layers.

    self_attn: MultiHeadAttention; linear1: Dense(dim_feedforward); linear2: Dense(d_model);
    norm1, norm2: LayerNormalization with a shift only when bias, as torch's LayerNorm(bias=bias).
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int, bias: bool, **kwargs):
        super().__init__(**kwargs)
        head = d_model // nhead
        self.self_attn = keras.layers.MultiHeadAttention(
            nhead, key_dim=head, value_dim=head, use_bias=bias, output_shape=d_model, name="self_attn")
        self.linear1 = keras.layers.Dense(dim_feedforward, activation="relu", use_bias=bias, name="linear1")
        self.linear2 = keras.layers.Dense(d_model, use_bias=bias, name="linear2")
        self.norm1 = keras.layers.LayerNormalization(epsilon=1e-5, center=bias, name="norm1")
        self.norm2 = keras.layers.LayerNormalization(epsilon=1e-5, center=bias, name="norm2")

    def build(self, input_shape):
        d_model = input_shape[-1]
        self.self_attn.build(input_shape, input_shape)
        self.linear1.build(input_shape)
        self.linear2.build(tuple(input_shape[:-1]) + (self.linear1.units,))
        self.norm1.build(input_shape)
        self.norm2.build(tuple(input_shape[:-1]) + (d_model,))

    def call(self, x):
        x = self.norm1(x + self.self_attn(x, x))
        return self.norm2(x + self.linear2(self.linear1(x)))


class _TransformerDecoderLayer(keras.layers.Layer):
    """torch.nn.TransformerDecoderLayer (post-norm, relu) composed from Keras layers.

    self_attn and multihead_attn (over the memory): MultiHeadAttention; linear1, linear2:
    Dense; norm1, norm2, norm3: LayerNormalization with a shift only when bias.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int, bias: bool, **kwargs):
        super().__init__(**kwargs)
        head = d_model // nhead
        self.self_attn = keras.layers.MultiHeadAttention(
            nhead, key_dim=head, value_dim=head, use_bias=bias, output_shape=d_model, name="self_attn")
        self.multihead_attn = keras.layers.MultiHeadAttention(
            nhead, key_dim=head, value_dim=head, use_bias=bias, output_shape=d_model, name="multihead_attn")
        self.linear1 = keras.layers.Dense(dim_feedforward, activation="relu", use_bias=bias, name="linear1")
        self.linear2 = keras.layers.Dense(d_model, use_bias=bias, name="linear2")
        self.norm1 = keras.layers.LayerNormalization(epsilon=1e-5, center=bias, name="norm1")
        self.norm2 = keras.layers.LayerNormalization(epsilon=1e-5, center=bias, name="norm2")
        self.norm3 = keras.layers.LayerNormalization(epsilon=1e-5, center=bias, name="norm3")

    def build(self, tgt_shape, memory_shape):
        d_model = tgt_shape[-1]
        self.self_attn.build(tgt_shape, tgt_shape)
        self.multihead_attn.build(tgt_shape, memory_shape)
        self.linear1.build(tgt_shape)
        self.linear2.build(tuple(tgt_shape[:-1]) + (self.linear1.units,))
        for norm in (self.norm1, self.norm2, self.norm3):
            norm.build(tuple(tgt_shape[:-1]) + (d_model,))

    def call(self, tgt, memory):
        x = self.norm1(tgt + self.self_attn(tgt, tgt))
        x = self.norm2(x + self.multihead_attn(x, memory))
        return self.norm3(x + self.linear2(self.linear1(x)))


class KerasAdapter(KerasModels, Adapter):
    framework = "keras"

    def version(self) -> str:
        backend = keras.backend.backend()
        package = importlib.import_module(backend)
        return f"keras {keras.__version__} ({backend} {package.__version__})"

    def build(self, kind: str, values: Any) -> Built:
        # Variables created in a StatelessScope keep their shape and dtype but defer their
        # initializer: nothing is allocated, and weights, shapes and count_params() all work.
        # This holds on both backends (on TensorFlow no tf.Variable is created).
        # initialize_variables=False: by default the scope initializes every such variable on
        # exit (allocating and, under JAX, jit-compiling each initializer). Keras registers the
        # deferred variables in its global state on either backend; clear_session() drops that
        # list (and the name counters), so no later StatelessScope exit initializes these weights.
        if self.materialize:  # benchmarks only: real variables, initialized
            return super().build(kind, values)
        try:
            with keras.StatelessScope(initialize_variables=False):
                return super().build(kind, values)
        finally:
            keras.backend.clear_session(free_memory=False)

    # ------------------------------------------------------------------ read
    def read(self, built: Built) -> Reading:
        obj = built.obj
        tensors: list[Tensor] = []
        names: dict[int, list[str]] = {}
        first: dict[int, tuple[str, Any, bool]] = {}
        for trainable, weights in ((True, obj.trainable_weights), (False, obj.non_trainable_weights)):
            for w in weights:
                names.setdefault(id(w), []).append(w.path)
                first.setdefault(id(w), (w.path, w, trainable))
        # The embedding tables: the `embeddings` variable of every keras.layers.Embedding inside.
        embeddings = {id(layer._embeddings) for layer in obj._flatten_layers()
                      if isinstance(layer, keras.layers.Embedding)}
        for key, (name, w, trainable) in first.items():
            shape = tuple(int(d) for d in w.shape)
            tensors.append(Tensor(name, shape, str(w.dtype), trainable, tuple(names[key][1:]),
                                  embedding=key in embeddings))
        native = {"count_params()": obj.count_params()}
        return Reading("keras", self.target, self.version(), built.description, tensors, native)

    # ------------------------------------------------------------------ dense.yaml
    def build_Linear(self, v):
        layer = keras.layers.Dense(units=v.out_features, use_bias=v.bias, name="dense")
        shape = (BATCH, v.in_features)
        layer.build(shape)
        return _built(layer, f"keras.layers.Dense({v.out_features}, use_bias={v.bias})", shape)

    def build_Embedding(self, v):
        layer = keras.layers.Embedding(input_dim=v.num_embeddings, output_dim=v.embedding_dim, name="embedding")
        shape = (BATCH, TIME)
        layer.build(shape)
        return _built(layer, f"keras.layers.Embedding({v.num_embeddings}, {v.embedding_dim})", shape)

    # ------------------------------------------------------------------ conv.yaml
    def _conv(self, cls, rank: int, v, transpose: bool = False):
        kernel = ints(v.kernel_size)
        if transpose:
            if v.groups > 1:
                raise NotApplicable(f"keras.layers.{cls.__name__} has no `groups` argument")
            layer = cls(filters=v.out_channels, kernel_size=kernel, use_bias=v.bias, name="conv")
            desc = f"keras.layers.{cls.__name__}({v.out_channels}, {kernel}, use_bias={v.bias})"
        else:
            layer = cls(filters=v.out_channels, kernel_size=kernel, groups=v.groups, use_bias=v.bias, name="conv")
            desc = f"keras.layers.{cls.__name__}({v.out_channels}, {kernel}, groups={v.groups}, use_bias={v.bias})"
        shape = (BATCH,) + (_spatial(v.kernel_size),) * rank + (v.in_channels,)  # channels-last
        layer.build(shape)
        return _built(layer, desc, shape)

    def build_Conv1d(self, v):
        return self._conv(keras.layers.Conv1D, 1, v)

    def build_Conv2d(self, v):
        return self._conv(keras.layers.Conv2D, 2, v)

    def build_Conv3d(self, v):
        return self._conv(keras.layers.Conv3D, 3, v)

    def build_ConvTranspose1d(self, v):
        return self._conv(keras.layers.Conv1DTranspose, 1, v, transpose=True)

    def build_ConvTranspose2d(self, v):
        return self._conv(keras.layers.Conv2DTranspose, 2, v, transpose=True)

    def build_ConvTranspose3d(self, v):
        return self._conv(keras.layers.Conv3DTranspose, 3, v, transpose=True)

    def build_DepthwiseConv2D(self, v):
        kernel = ints(v.kernel_size)
        layer = keras.layers.DepthwiseConv2D(kernel_size=kernel, depth_multiplier=v.depth_multiplier,
                                             use_bias=v.use_bias, name="depthwise_conv")
        shape = (BATCH, _spatial(v.kernel_size), _spatial(v.kernel_size), v.in_channels)
        layer.build(shape)
        return _built(layer, f"keras.layers.DepthwiseConv2D({kernel}, depth_multiplier={v.depth_multiplier}, "
                             f"use_bias={v.use_bias})", shape)

    def build_SeparableConv2D(self, v):
        kernel = ints(v.kernel_size)
        layer = keras.layers.SeparableConv2D(filters=v.filters, kernel_size=kernel,
                                             depth_multiplier=v.depth_multiplier, use_bias=v.use_bias,
                                             name="separable_conv")
        shape = (BATCH, _spatial(v.kernel_size), _spatial(v.kernel_size), v.in_channels)
        layer.build(shape)
        return _built(layer, f"keras.layers.SeparableConv2D({v.filters}, {kernel}, "
                             f"depth_multiplier={v.depth_multiplier}, use_bias={v.use_bias})", shape)

    # ------------------------------------------------------------------ recurrent.yaml
    def _rnn(self, cls, v, **extra):
        """num_layers stacked recurrent layers, each wrapped in Bidirectional when bidirectional."""
        args = "".join(f", {k}={val}" for k, val in extra.items())
        layers = []
        for i in range(v.num_layers):
            layer = cls(v.hidden_size, use_bias=v.bias, return_sequences=True, name=f"{cls.__name__.lower()}_l{i}",
                        **extra)
            if v.bidirectional:
                layer = keras.layers.Bidirectional(layer, name=f"bidirectional_l{i}")
            layers.append(layer)
        shape = (BATCH, TIME, v.input_size)
        model = keras.Sequential([keras.Input(batch_shape=shape), *layers], name="stack")
        one = f"keras.layers.{cls.__name__}({v.hidden_size}, use_bias={v.bias}, return_sequences=True{args})"
        if v.bidirectional:
            one = f"keras.layers.Bidirectional({one})"
        return _built(model, f"keras.Sequential({v.num_layers} x {one})", shape)

    def build_RNN(self, v):
        return self._rnn(keras.layers.SimpleRNN, v)

    def build_LSTM(self, v):
        if v.proj_size > 0:
            raise NotApplicable("keras.layers.LSTM has no projection (proj_size)")
        return self._rnn(keras.layers.LSTM, v)

    def build_GRU(self, v):
        return self._rnn(keras.layers.GRU, v, reset_after=v.reset_after)

    # ------------------------------------------------------------------ norm.yaml
    def _bn(self, rank: int, v):
        if not v.track_running_stats:
            raise NotApplicable("keras.layers.BatchNormalization always keeps moving statistics")
        layer = keras.layers.BatchNormalization(axis=-1, center=v.affine, scale=v.affine, name="batch_norm")
        shape = (BATCH,) + (IMAGE,) * (rank - 2) + (v.num_features,)  # channels-last
        layer.build(shape)
        return _built(layer, f"keras.layers.BatchNormalization(center={v.affine}, scale={v.affine})", shape)

    def build_BatchNorm1d(self, v):
        return self._bn(3, v)

    def build_BatchNorm2d(self, v):
        return self._bn(4, v)

    def build_BatchNorm3d(self, v):
        return self._bn(5, v)

    def build_LayerNorm(self, v):
        normalized = ints(v.normalized_shape)
        shape = (BATCH, *normalized)
        axis = list(range(1, len(shape)))  # the last len(normalized_shape) axes
        center = v.elementwise_affine and v.bias
        layer = keras.layers.LayerNormalization(axis=axis, scale=v.elementwise_affine, center=center,
                                                name="layer_norm")
        layer.build(shape)
        return _built(layer, f"keras.layers.LayerNormalization(axis={axis}, scale={v.elementwise_affine}, "
                             f"center={center})", shape)

    def build_GroupNorm(self, v):
        layer = keras.layers.GroupNormalization(groups=v.num_groups, center=v.affine, scale=v.affine,
                                                name="group_norm")
        shape = (BATCH, IMAGE, IMAGE, v.num_channels)
        layer.build(shape)
        return _built(layer, f"keras.layers.GroupNormalization({v.num_groups}, center={v.affine}, "
                             f"scale={v.affine})", shape)

    def build_RMSNorm(self, v):
        if not v.elementwise_affine:
            raise NotApplicable("keras.layers.RMSNormalization always learns a scale")
        normalized = ints(v.normalized_shape)
        shape = (BATCH, *normalized)
        axis = list(range(1, len(shape)))
        layer = keras.layers.RMSNormalization(axis=axis, name="rms_norm")
        layer.build(shape)
        return _built(layer, f"keras.layers.RMSNormalization(axis={axis})", shape)

    def build_InstanceNorm2d(self, v):
        if v.track_running_stats:
            raise NotApplicable("Keras's instance normalization (GroupNormalization, groups=-1) "
                                "keeps no running statistics")
        # Keras documents GroupNormalization(groups=-1) as instance normalization.
        layer = keras.layers.GroupNormalization(groups=-1, center=v.affine, scale=v.affine, name="instance_norm")
        shape = (BATCH, IMAGE, IMAGE, v.num_features)
        layer.build(shape)
        return _built(layer, f"keras.layers.GroupNormalization(groups=-1, center={v.affine}, "
                             f"scale={v.affine})", shape)

    # ------------------------------------------------------------------ attention.yaml
    def build_MultiheadAttention(self, v):
        if v.add_bias_kv:
            raise NotApplicable("keras.layers.MultiHeadAttention has no add_bias_kv (learned bias_k / bias_v)")
        head = v.embed_dim // v.num_heads
        layer = keras.layers.MultiHeadAttention(v.num_heads, key_dim=head, value_dim=head, use_bias=v.bias,
                                                output_shape=v.embed_dim, name="mha")
        kdim = v.kdim or v.embed_dim
        vdim = v.vdim or v.embed_dim
        query, key, value = (BATCH, TIME, v.embed_dim), (BATCH, TIME, kdim), (BATCH, TIME, vdim)
        layer.build(query_shape=query, value_shape=value, key_shape=key)
        return Built(layer, f"keras.layers.MultiHeadAttention({v.num_heads}, key_dim={head}, value_dim={head}, "
                            f"use_bias={v.bias}, output_shape={v.embed_dim}) built on query {_shape(*query)}, "
                            f"key {_shape(*key)}, value {_shape(*value)}")

    def build_TransformerEncoderLayer(self, v):
        layer = _TransformerEncoderLayer(v.d_model, v.nhead, v.dim_feedforward, v.bias, name="encoder_layer")
        shape = (BATCH, TIME, v.d_model)
        layer.build(shape)
        head = v.d_model // v.nhead
        return _built(layer, f"composed keras.layers.Layer(self_attn=MultiHeadAttention({v.nhead}, key_dim={head}, "
                             f"use_bias={v.bias}), "
                             f"linear1=Dense({v.dim_feedforward}), linear2=Dense({v.d_model}), "
                             f"norm1/norm2=LayerNormalization(center={v.bias}); use_bias={v.bias})", shape)

    def build_TransformerDecoderLayer(self, v):
        layer = _TransformerDecoderLayer(v.d_model, v.nhead, v.dim_feedforward, v.bias, name="decoder_layer")
        shape = (BATCH, TIME, v.d_model)
        layer.build(shape, shape)
        head = v.d_model // v.nhead
        return _built(layer, f"composed keras.layers.Layer(self_attn, multihead_attn="
                             f"MultiHeadAttention({v.nhead}, key_dim={head}, use_bias={v.bias}), "
                             f"linear1=Dense({v.dim_feedforward}), linear2=Dense({v.d_model}), "
                             f"norm1/norm2/norm3=LayerNormalization(center={v.bias}); use_bias={v.bias}) "
                             f"(memory {_shape(*shape)})", shape)

    # ------------------------------------------------------------------ activation.yaml
    def build_PReLU(self, v):
        # torch: one slope, or one per channel. Keras: one per input element except on shared axes.
        shared = [1, 2, 3] if v.num_parameters == 1 else [1, 2]
        layer = keras.layers.PReLU(shared_axes=shared, name="prelu")
        shape = (BATCH, IMAGE, IMAGE, v.num_parameters)
        layer.build(shape)
        return _built(layer, f"keras.layers.PReLU(shared_axes={shared})", shape)

    # ------------------------------------------------------------------ parameter_free.yaml
    def _free(self, layer, description: str):
        shape = (BATCH, IMAGE, IMAGE, 3)
        layer.build(shape)
        return _built(layer, description, shape)

    def build_ReLU(self, v):
        return self._free(keras.layers.ReLU(name="relu"), "keras.layers.ReLU()")

    def build_MaxPool2d(self, v):
        return self._free(keras.layers.MaxPooling2D(2, name="max_pool"), "keras.layers.MaxPooling2D(2)")

    def build_AvgPool2d(self, v):
        return self._free(keras.layers.AveragePooling2D(2, name="avg_pool"), "keras.layers.AveragePooling2D(2)")

    def build_AdaptiveAvgPool2d(self, v):
        return self._free(keras.layers.AdaptiveAveragePooling2D(1, name="adaptive_avg_pool"),
                          "keras.layers.AdaptiveAveragePooling2D(1)")

    def build_Dropout(self, v):
        return self._free(keras.layers.Dropout(0.5, name="dropout"), "keras.layers.Dropout(0.5)")

    def build_Flatten(self, v):
        return self._free(keras.layers.Flatten(name="flatten"), "keras.layers.Flatten()")


ADAPTER_CLASS = KerasAdapter
