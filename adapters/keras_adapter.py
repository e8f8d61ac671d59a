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

import contextlib
import functools
import importlib
import sys
from typing import Any, Iterator

import keras

from paramspec.errors import NotApplicable, SpecError
from paramspec.frameworks import frameworks
from paramspec.reading import Measurement, Reading, StepMeasurement, Tensor, shape_text

from .base import Adapter, Built, Input, call_text, channels_last, ints
from .keras_models import KerasModels
from .keras_vision import KerasVision
from .keras_decoders import KerasDecoders, routed_experts

def _built(layer: Any, *inputs: Input) -> Built:
    """``layer`` built on its input's shape (``Layer.build``: variables are created, nothing runs)."""
    layer.build(inputs[0].shape)
    return Built(layer, inputs)


class _TransformerEncoderLayer(keras.layers.Layer):
    """torch.nn.TransformerEncoderLayer (post-norm, relu) composed from Keras layers.

    self_attn: MultiHeadAttention; linear1: Dense(dim_feedforward); linear2: Dense(d_model);
    norm1, norm2: LayerNormalization with a shift only when bias, as torch's LayerNorm(bias=bias).
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int, bias: bool, **kwargs):
        super().__init__(**kwargs)
        self.self_attn = self._attention(d_model, nhead, bias, "self_attn")
        self.linear1 = keras.layers.Dense(dim_feedforward, activation="relu", use_bias=bias, name="linear1")
        self.linear2 = keras.layers.Dense(d_model, use_bias=bias, name="linear2")
        self.norms = [keras.layers.LayerNormalization(epsilon=1e-5, center=bias, name=f"norm{i}")
                      for i in range(1, self.n_norms + 1)]

    n_norms = 2

    @staticmethod
    def _attention(d_model: int, nhead: int, bias: bool, name: str):
        head = d_model // nhead
        return keras.layers.MultiHeadAttention(nhead, key_dim=head, value_dim=head, use_bias=bias,
                                               output_shape=d_model, name=name)

    def build(self, input_shape):
        self.self_attn.build(input_shape, input_shape)
        self._build_rest(input_shape)

    def _build_rest(self, input_shape):
        """The feed-forward block and the norms, all on (..., d_model) except linear2's input."""
        self.linear1.build(input_shape)
        self.linear2.build(tuple(input_shape[:-1]) + (self.linear1.units,))
        for norm in self.norms:
            norm.build(input_shape)

    def call(self, x):
        x = self.norms[0](x + self.self_attn(x, x))
        return self.norms[1](x + self.linear2(self.linear1(x)))


class _TransformerDecoderLayer(_TransformerEncoderLayer):
    """torch.nn.TransformerDecoderLayer (post-norm, relu): the encoder layer's parts, plus
    multihead_attn over the memory and a third norm."""

    n_norms = 3

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int, bias: bool, **kwargs):
        super().__init__(d_model, nhead, dim_feedforward, bias, **kwargs)
        self.multihead_attn = self._attention(d_model, nhead, bias, "multihead_attn")

    def build(self, tgt_shape, memory_shape):
        self.self_attn.build(tgt_shape, tgt_shape)
        self.multihead_attn.build(tgt_shape, memory_shape)
        self._build_rest(tgt_shape)

    def call(self, tgt, memory):
        x = self.norms[0](tgt + self.self_attn(tgt, tgt))
        x = self.norms[1](x + self.multihead_attn(x, memory))
        return self.norms[2](x + self.linear2(self.linear1(x)))


def sublayers(layer: Any):
    """Every layer inside ``layer`` (itself included), found through public attributes only:
    a Sequential's ``layers``, and attributes (or lists of them) that are layers. Keras's own
    recursive walk, ``_flatten_layers()``, is private."""
    seen: set[int] = set()
    stack = [layer]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        children = list(getattr(node, "layers", None) or []) if isinstance(node, keras.Sequential) else []
        for key, value in vars(node).items():
            if key.startswith("_"):
                continue
            items = value if isinstance(value, (list, tuple)) else [value]
            children += [x for x in items if isinstance(x, keras.layers.Layer)]
        stack.extend(reversed(children))


_NOISE = ("name", "trainable", "dtype", "seed", "autocast")


@contextlib.contextmanager
def without_tensorflow() -> Iterator[None]:
    """No TensorFlow import from Keras's serializer on another backend.

    Keras's serializer asks ``isinstance(value, tf.TensorShape)`` (and DType, TypeSpec) of
    each value, behind a lazy module that imports TensorFlow when it is installed: 2-3 s
    of a cold count under ``KERAS_BACKEND=jax``, and of each test process where TensorFlow is
    installed beside JAX (``get_config()``, and ``Bidirectional``, which serializes the layer
    it wraps). While TensorFlow is not imported, no value can be a TensorFlow object, so
    inside this block the lazy module says it is unavailable; on the TensorFlow backend, or
    once TensorFlow is imported, it changes nothing.
    """
    from keras.src.saving import serialization_lib

    lazy = getattr(serialization_lib, "tf", None)
    if lazy is None or getattr(lazy, "_available", True) is not None or "tensorflow" in sys.modules:
        yield
        return
    lazy._available = False
    try:
        yield
    finally:
        lazy._available = None


def _config_without_tensorflow(layer: Any) -> dict:
    """``layer.get_config()``, without the TensorFlow import it costs on another backend."""
    with without_tensorflow():
        return layer.get_config()


def keras_call(layer: Any) -> str:
    """``Dense(units=10)``: a layer's class and each get_config() entry that differs from the
    constructor's default (the layer's own record of its arguments); nested layers likewise."""
    import inspect

    name = type(layer).__name__
    if isinstance(layer, keras.Sequential):
        return call_text(name, [keras_call(x) for x in layer.layers])
    if isinstance(layer, keras.layers.Bidirectional):
        return call_text(name, [keras_call(layer.forward_layer)])
    try:
        config = _config_without_tensorflow(layer)
    except NotImplementedError:  # a composed layer without get_config: show its sublayers
        inner = [f"{k}={keras_call(v)}" for k, v in vars(layer).items()
                 if not k.startswith("_") and isinstance(v, keras.layers.Layer)]
        return call_text(name, inner)
    defaults = {k: p.default for k, p in inspect.signature(type(layer).__init__).parameters.items()
                if p.default is not inspect.Parameter.empty}
    args = [f"{k}={v!r}" for k, v in config.items()
            if k not in _NOISE and not k.endswith(("_initializer", "_regularizer", "_constraint"))
            and not isinstance(v, dict) and (k not in defaults or defaults[k] != v)]
    return call_text(name, args)


_ALLOCATED_OPTIMIZER_LIMIT = 2**26  # parameters: an optimizer built with real variables allocates a few times this


def _keras_optimizer_state(optimizer: str, trainable: list) -> tuple[int | None, str]:
    """Bytes of the variables Keras's own ``optimizer`` (spec/training.yaml's id) creates for
    ``trainable`` (built in a StatelessScope: deferred, never allocated), or None where Keras
    has no such optimizer."""
    import math

    import numpy as np

    made = {"sgd": (lambda: keras.optimizers.SGD(0.1), "keras.optimizers.SGD(0.1)"),
            "sgd-momentum": (lambda: keras.optimizers.SGD(0.1, momentum=0.9), "keras.optimizers.SGD(0.1, momentum=0.9)"),
            "adamw": (lambda: keras.optimizers.AdamW(), "keras.optimizers.AdamW()"),
            "adafactor": (lambda: keras.optimizers.Adafactor(), "keras.optimizers.Adafactor()")}
    if optimizer not in made:
        return None, f"Keras has no {optimizer} optimizer"
    make, text = made[optimizer]
    elements = sum(math.prod(int(d) for d in v.shape) for v in trainable)

    def build(stateless: bool) -> int:
        opt = make()  # its iteration count and learning rate: two scalars, allocated
        if keras.backend.backend() == "tensorflow":
            # it keys each variable by its tf.Variable, which a deferred variable does not have
            # yet; only the keys change, not what build() creates for each variable
            opt._var_key = id
            # and colocates each new variable with its reference's value, which initializes (allocates
            # and fills) a deferred variable: the base class's method creates the same variables
            from keras.src.optimizers.base_optimizer import BaseOptimizer

            opt.add_variable_from_reference = functools.partial(BaseOptimizer.add_variable_from_reference, opt)
        try:
            with keras.StatelessScope(initialize_variables=False) if stateless else contextlib.nullcontext():
                opt.build(trainable)
            return sum(math.prod(int(d) for d in v.shape) * np.dtype(v.dtype).itemsize for v in opt.variables)
        finally:
            keras.backend.clear_session(free_memory=False)

    with without_tensorflow():
        try:
            total = build(stateless=True)
        except ValueError as e:  # a variable made from a concrete value (Adafactor's placeholders)
            if "stateless scope" not in str(e):
                raise
            if elements > _ALLOCATED_OPTIMIZER_LIMIT:
                return None, (f"{text} creates some variables from concrete values, which Keras allows only "
                              f"outside a stateless scope: built (allocated) for up to "
                              f"{_ALLOCATED_OPTIMIZER_LIMIT:,} parameters, and this has {elements:,}")
            total = build(stateless=False)
            text += ", built outside a stateless scope (it creates some variables from concrete values)"
    return total, f"{text} (keras {keras.__version__}), its build"


def _keras_kind(layer: Any, bidirectional: bool = False) -> tuple[str, dict[str, Any]] | None:
    """The spec kind of a built Keras layer and its canonical (torch.nn) variables, or None."""
    L = keras.layers
    t = type(layer)
    if t is L.Dense and len(layer.kernel.shape) == 2:
        return "Linear", {"in_features": int(layer.kernel.shape[0]), "out_features": layer.units,
                          "bias": layer.use_bias}
    if t is L.Embedding:
        return "Embedding", {"num_embeddings": layer.input_dim, "embedding_dim": layer.output_dim}
    convs = {L.Conv1D: "Conv1d", L.Conv2D: "Conv2d", L.Conv3D: "Conv3d"}
    if t in convs:
        groups = getattr(layer, "groups", 1)
        return convs[t], {"in_channels": int(layer.kernel.shape[-2]) * groups, "out_channels": layer.filters,
                          "kernel_size": list(layer.kernel_size), "stride": list(layer.strides),
                          "dilation": list(layer.dilation_rate), "groups": groups, "bias": layer.use_bias,
                          "padding": layer.padding}
    rnns = {L.SimpleRNN: "RNN", L.LSTM: "LSTM", L.GRU: "GRU"}
    if t in rnns:
        kernel = layer.cell.kernel
        v = {"input_size": int(kernel.shape[0]), "hidden_size": layer.units, "bias": layer.use_bias,
             "bidirectional": bidirectional}
        if t is L.GRU:
            v["reset_after"] = layer.reset_after
        return rnns[t], v
    if t is L.BatchNormalization:
        return "BatchNorm2d", {"num_features": int(layer.moving_mean.shape[0]), "affine": layer.center and layer.scale}
    if t is L.LayerNormalization and (layer.gamma is not None or layer.beta is not None):
        shape = (layer.gamma if layer.gamma is not None else layer.beta).shape
        return "LayerNorm", {"normalized_shape": [int(d) for d in shape], "elementwise_affine": layer.scale,
                             "bias": layer.center}
    return None


class KerasAdapter(KerasModels, KerasVision, KerasDecoders, Adapter):
    framework = "keras"

    # a size past what a tensor can hold, in TensorFlow's words (a graph's placeholder) and in XLA's
    LIMIT_ERRORS = (ValueError, RuntimeError)
    LIMIT_MESSAGES = ("is too large (more than 2**63 - 1 entries)", "overflow in static extent product")
    LIMIT_RULE = "a tensor has fewer than 2**63 elements"

    def version(self) -> str:
        backend = keras.backend.backend()
        package = importlib.import_module(backend)
        return f"keras {keras.__version__} ({backend} {package.__version__})"

    def construct(self, make, materialize: bool) -> Built:
        # Variables created in a StatelessScope keep their shape and dtype but defer their
        # initializer: nothing is allocated, and weights, shapes and count_params() all work.
        # This holds on both backends (on TensorFlow no tf.Variable is created).
        # initialize_variables=False: by default the scope initializes every such variable on
        # exit (allocating and, under JAX, jit-compiling each initializer). Keras registers the
        # deferred variables in its global state on either backend; clear_session() drops that
        # list (and the name counters), so no later StatelessScope exit initializes these weights.
        with without_tensorflow():
            if materialize:  # real variables, initialized
                return make()
            try:
                with keras.StatelessScope(initialize_variables=False):
                    return make()
            finally:
                keras.backend.clear_session(free_memory=False)

    @classmethod
    def owns(cls, obj: Any) -> str | None:
        """For a Keras layer, the target of the backend Keras runs on here (its ``env`` in
        frameworks.yaml; the first target, which says what it needs, for another backend)."""
        if not isinstance(obj, keras.layers.Layer):
            return None
        targets = frameworks()[cls.framework].targets
        on_backend = [t.name for t in targets if t.env.get("KERAS_BACKEND") == keras.backend.backend()]
        return (on_backend or [targets[0].name])[0]

    def adopt(self, obj: Any) -> Built:
        """The layer itself, once built: an unbuilt layer has no weights to read yet."""
        if not obj.built:
            raise SpecError(f"the Keras layer {obj.name!r} is not built: call it or build(input_shape) first")
        return Built(obj)

    def kinds_within(self, built: Built) -> list[tuple[str, str, dict[str, Any], str]]:
        """Keras's own layers among the model's, their canonical variables read back from their
        configs and weights (a Bidirectional recurrent layer as one bidirectional kind; the
        layers it wraps are not listed again)."""
        out, inside = [], set()
        for layer in sublayers(built.module):
            if id(layer) in inside:
                continue
            if isinstance(layer, keras.layers.Bidirectional):
                inside.update(id(x) for x in sublayers(layer) if x is not layer)
                found = _keras_kind(layer.forward_layer, bidirectional=True)
            else:
                found = _keras_kind(layer)
            if found is not None:
                out.append((layer.path, *found, keras_call(layer)))
        return out

    def describe(self, built: Built) -> str:
        shapes = ", ".join(shape_text(i.shape) for i in built.inputs)
        return f"{keras_call(built.module)}" + (f" built on {shapes}" if shapes else "")

    # ------------------------------------------------------------------ read
    def read(self, built: Built, native: bool = True) -> Reading:
        obj = built.module
        tensors: list[Tensor] = []
        names: dict[int, list[str]] = {}
        first: dict[int, tuple[str, Any, bool]] = {}
        for trainable, weights in ((True, obj.trainable_weights), (False, obj.non_trainable_weights)):
            for w in weights:
                names.setdefault(id(w), []).append(w.path)
                first.setdefault(id(w), (w.path, w, trainable))
        embeddings = {id(layer.embeddings) for layer in sublayers(obj) if isinstance(layer, keras.layers.Embedding)}
        routed = routed_experts(sublayers(obj))  # a mixture of experts' routed weights: how many experts, and top_k
        for key, (name, w, trainable) in first.items():
            shape = tuple(int(d) for d in w.shape)
            tensors.append(Tensor(name, shape, str(w.dtype), trainable, tuple(names[key][1:]),
                                  embedding=key in embeddings, **routed.get(key, {})))
        native = {"count_params()": obj.count_params()} if native else {}
        return Reading(self.source(), self.describe(built), tensors, native)

    # ------------------------------------------------------------------ measure
    def measure(self, built: Built, breakdown: bool = True) -> Measurement:
        """The forward pass as ``layer.stateless_call`` over abstract variables and inputs:
        XLA's cost analysis of it lowered (JAX backend), or TensorFlow's profiler on its
        traced graph (TensorFlow backend). Neither runs it."""
        layer = built.module
        variables = (list(layer.trainable_variables), list(layer.non_trainable_variables))

        def forward(trainable, non_trainable, *xs):
            return built.invoke(lambda *a, **k: layer.stateless_call(trainable, non_trainable, *a, **k)[0], xs)

        if keras.backend.backend() == "jax":
            import jax

            from .jax_cost import abstract, measure_xla

            spec = [[jax.ShapeDtypeStruct(tuple(v.shape), v.dtype) for v in vs] for vs in variables]
            return measure_xla(forward, (*spec, *map(abstract, built.inputs)), self.version(), built.inputs, breakdown)
        from .tf_cost import measure_tf

        return measure_tf(forward, variables, built.inputs, self.version())

    def measure_step(self, built: Built, *, optimizer: str | None = None, input_grad: bool = False,
                     recompute: str = "none", breakdown: bool = True) -> StepMeasurement:
        """A training step of ``layer.stateless_call`` (training=False, as the forward pass) with
        respect to its trainable variables: XLA's cost of it and its ``value_and_grad`` and the
        residuals JAX keeps (JAX backend), or TensorFlow's profiler on the traced
        ``GradientTape`` step (TensorFlow backend); and the state of Keras's own optimizer,
        built on the variables (deferred, in a StatelessScope: nothing is allocated)."""
        if recompute != "none":
            raise NotApplicable(f"recompute {recompute!r} is measured in torch only; the spec's estimate gives it")
        layer = built.module
        variables = (list(layer.trainable_variables), list(layer.non_trainable_variables))
        state = _keras_optimizer_state(optimizer, variables[0]) if optimizer else (None, "")

        def forward(trainable, non_trainable, *xs):
            return built.invoke(lambda *a, **k: layer.stateless_call(trainable, non_trainable, *a, **k)[0], xs)

        if keras.backend.backend() == "jax":
            import jax

            from .jax_cost import measure_step_xla

            spec = [[jax.ShapeDtypeStruct(tuple(v.shape), v.dtype) for v in vs] for vs in variables]
            return measure_step_xla(forward, spec[0], spec[1],
                                    built.inputs, self.version(), input_grad=input_grad, breakdown=breakdown,
                                    optimizer=state)
        from .tf_cost import measure_step_tf

        return measure_step_tf(forward, variables, built.inputs, self.version(), input_grad=input_grad, optimizer=state)

    def layout(self, x: Input) -> Input:
        return channels_last(x)

    # ------------------------------------------------------------------ dense.yaml
    def build_Linear(self, v, x):
        return _built(keras.layers.Dense(units=v.out_features, use_bias=v.bias, name="dense"), *x)

    def build_Embedding(self, v, x):
        return _built(keras.layers.Embedding(input_dim=v.num_embeddings, output_dim=v.embedding_dim, name="embedding"),
                      *x)

    # ------------------------------------------------------------------ conv.yaml
    def _conv(self, cls, v, x, transpose: bool = False):
        kernel, dilation = ints(v.kernel_size), ints(v.dilation)
        if max(ints(v.stride)) > 1 and max(dilation) > 1:
            raise NotApplicable(f"keras.layers.{cls.__name__} takes strides > 1 or dilation_rate > 1, not both")
        args = dict(filters=v.out_channels, kernel_size=kernel, strides=ints(v.stride), dilation_rate=dilation,
                    use_bias=v.bias, name="conv")
        if transpose:
            if v.groups > 1:
                raise NotApplicable(f"keras.layers.{cls.__name__} has no `groups` argument")
            if max(ints(v.padding)) > 0:
                raise NotApplicable(f"keras.layers.{cls.__name__} pads 'valid' or 'same' only")
            if any(op >= s for op, s in zip(ints(v.output_padding), ints(v.stride))):
                raise NotApplicable(f"keras.layers.{cls.__name__} takes an output_padding smaller than the strides "
                                    "only")
            # output_padding always given: without it Keras makes the output input * stride long
            # where the kernel is shorter than the stride, and torch (in - 1) * stride + kernel
            layer = cls(padding="valid", output_padding=ints(v.output_padding), **args)
        else:
            layer = cls(padding=_keras_padding(v, ints(v.stride), [d * (k - 1) for d, k in zip(dilation, kernel)],
                                               cls.__name__),
                        groups=v.groups, **args)
        return _built(layer, *x)

    def build_Conv1d(self, v, x):
        return self._conv(keras.layers.Conv1D, v, x)

    def build_Conv2d(self, v, x):
        return self._conv(keras.layers.Conv2D, v, x)

    def build_Conv3d(self, v, x):
        return self._conv(keras.layers.Conv3D, v, x)

    def build_ConvTranspose1d(self, v, x):
        return self._conv(keras.layers.Conv1DTranspose, v, x, transpose=True)

    def build_ConvTranspose2d(self, v, x):
        return self._conv(keras.layers.Conv2DTranspose, v, x, transpose=True)

    def build_ConvTranspose3d(self, v, x):
        return self._conv(keras.layers.Conv3DTranspose, v, x, transpose=True)

    def build_DepthwiseConv2D(self, v, x):
        layer = keras.layers.DepthwiseConv2D(kernel_size=ints(v.kernel_size), strides=ints(v.strides), padding=v.padding,
                                             depth_multiplier=v.depth_multiplier, use_bias=v.use_bias,
                                             name="depthwise_conv")
        return _built(layer, *x)

    def build_SeparableConv2D(self, v, x):
        layer = keras.layers.SeparableConv2D(filters=v.filters, kernel_size=ints(v.kernel_size), strides=ints(v.strides),
                                             padding=v.padding, depth_multiplier=v.depth_multiplier,
                                             use_bias=v.use_bias, name="separable_conv")
        return _built(layer, *x)

    # ------------------------------------------------------------------ recurrent.yaml
    def _rnn(self, cls, v, x, **extra):
        """num_layers stacked recurrent layers, each wrapped in Bidirectional when bidirectional."""
        layers = []
        for i in range(v.num_layers):
            layer = cls(v.hidden_size, use_bias=v.bias, return_sequences=True, name=f"{cls.__name__.lower()}_l{i}",
                        **extra)
            if v.bidirectional:
                layer = keras.layers.Bidirectional(layer, name=f"bidirectional_l{i}")
            layers.append(layer)
        model = keras.Sequential([keras.Input(batch_shape=x[0].shape), *layers], name="stack")
        return Built(model, x)

    def build_RNN(self, v, x):
        return self._rnn(keras.layers.SimpleRNN, v, x)

    def build_LSTM(self, v, x):
        if v.proj_size > 0:
            raise NotApplicable("keras.layers.LSTM has no projection (proj_size)")
        return self._rnn(keras.layers.LSTM, v, x)

    def build_GRU(self, v, x):
        return self._rnn(keras.layers.GRU, v, x, reset_after=v.reset_after)

    # ------------------------------------------------------------------ norm.yaml
    def _bn(self, v, x):
        if not v.track_running_stats:
            raise NotApplicable("keras.layers.BatchNormalization always keeps moving statistics")
        return _built(keras.layers.BatchNormalization(axis=-1, center=v.affine, scale=v.affine, name="batch_norm"), *x)

    def build_BatchNorm1d(self, v, x):
        return self._bn(v, x)

    def build_BatchNorm2d(self, v, x):
        return self._bn(v, x)

    def build_BatchNorm3d(self, v, x):
        return self._bn(v, x)

    def build_LayerNorm(self, v, x):
        axis = list(range(1, len(x[0].shape)))  # the last len(normalized_shape) axes
        center = v.elementwise_affine and v.bias
        layer = keras.layers.LayerNormalization(axis=axis, scale=v.elementwise_affine, center=center,
                                                name="layer_norm")
        return _built(layer, *x)

    def build_GroupNorm(self, v, x):
        layer = keras.layers.GroupNormalization(groups=v.num_groups, center=v.affine, scale=v.affine,
                                                name="group_norm")
        return _built(layer, *x)

    def build_RMSNorm(self, v, x):
        if not v.elementwise_affine:
            raise NotApplicable("keras.layers.RMSNormalization always learns a scale")
        return _built(keras.layers.RMSNormalization(axis=list(range(1, len(x[0].shape))), name="rms_norm"), *x)

    def build_InstanceNorm2d(self, v, x):
        if v.track_running_stats:
            raise NotApplicable("Keras's instance normalization (GroupNormalization, groups=-1) "
                                "keeps no running statistics")
        # Keras documents GroupNormalization(groups=-1) as instance normalization.
        layer = keras.layers.GroupNormalization(groups=-1, center=v.affine, scale=v.affine, name="instance_norm")
        return _built(layer, *x)

    # ------------------------------------------------------------------ attention.yaml
    def build_MultiheadAttention(self, v, x):
        if v.add_bias_kv:
            raise NotApplicable("keras.layers.MultiHeadAttention has no add_bias_kv (learned bias_k / bias_v)")
        head = v.embed_dim // v.num_heads
        layer = keras.layers.MultiHeadAttention(v.num_heads, key_dim=head, value_dim=head, use_bias=v.bias,
                                                output_shape=v.embed_dim, name="mha")
        query, key, value = x
        layer.build(query_shape=query.shape, value_shape=value.shape, key_shape=key.shape)
        # Keras calls it with (query, value, key=...): the spec's inputs are query, key, value
        return Built(layer, x, call=lambda f, xs: f(xs[0], xs[2], key=xs[1]))

    def build_TransformerEncoderLayer(self, v, x):
        layer = _TransformerEncoderLayer(v.d_model, v.nhead, v.dim_feedforward, v.bias, name="encoder_layer")
        layer.build(x[0].shape)
        return Built(layer, x)

    def build_TransformerDecoderLayer(self, v, x):
        layer = _TransformerDecoderLayer(v.d_model, v.nhead, v.dim_feedforward, v.bias, name="decoder_layer")
        layer.build(x[0].shape, x[1].shape)
        return Built(layer, x)

    # ------------------------------------------------------------------ activation.yaml
    def build_PReLU(self, v, x):
        # torch: one slope, or one per channel. Keras: one per input element except on shared axes.
        shared = [1, 2, 3] if v.num_parameters == 1 else [1, 2]
        return _built(keras.layers.PReLU(shared_axes=shared, name="prelu"), *x)

    # ------------------------------------------------------------------ parameter_free.yaml
    def build_ReLU(self, v, x):
        return _built(keras.layers.ReLU(name="relu"), *x)

    def _pool(self, cls, v, x):
        strides = ints(v.stride) if v.stride else ints(v.kernel_size)
        if cls is keras.layers.AveragePooling2D and max(ints(v.padding)) > 0:
            raise NotApplicable("keras.layers.AveragePooling2D with 'same' averages over the real elements only; "
                                "torch's AvgPool2d divides by the whole window")
        padding = _keras_padding(v, strides, [k - 1 for k in ints(v.kernel_size)], cls.__name__)
        return _built(cls(pool_size=ints(v.kernel_size), strides=strides, padding=padding, name="pool"), *x)

    def build_MaxPool2d(self, v, x):
        return self._pool(keras.layers.MaxPooling2D, v, x)

    def build_AvgPool2d(self, v, x):
        return self._pool(keras.layers.AveragePooling2D, v, x)

    def build_AdaptiveAvgPool2d(self, v, x):
        return _built(keras.layers.AdaptiveAveragePooling2D(ints(v.output_size), name="adaptive_avg_pool"), *x)

    def build_Dropout(self, v, x):
        return _built(keras.layers.Dropout(0.5, name="dropout"), *x)

    def build_Flatten(self, v, x):
        return _built(keras.layers.Flatten(name="flatten"), *x)


def _keras_padding(v, strides: list[int], reach: list[int], layer: str) -> str:
    """torch's padding as Keras's: 'same' and 'valid' as they are; none is 'valid'; a
    symmetric padding of half the kernel's reach at stride 1 is 'same'. Any other padding has
    no Keras equivalent in the layer itself (it needs a ZeroPadding layer)."""
    if isinstance(v.padding, str):
        return v.padding
    pads = ints(v.padding)
    if max(pads) == 0:
        return "valid"
    if max(strides) == 1 and all(2 * p == r for p, r in zip(pads, reach)):
        return "same"
    raise NotApplicable(f"keras.layers.{layer} pads 'valid' or 'same' only; padding {pads} at stride {strides} "
                        "needs a ZeroPadding layer")


ADAPTER_CLASS = KerasAdapter
