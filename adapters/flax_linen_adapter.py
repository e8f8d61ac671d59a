"""Flax linen adapter: builds ``flax.linen`` modules and initializes them abstractly.

Canonical (torch.nn) names are translated to Flax's own arguments in plain view
(``out_features`` -> ``features``, ``bias`` -> ``use_bias``, ``groups`` ->
``feature_group_count``, ``affine`` -> ``use_scale`` / ``use_bias``). Variables come from
``jax.eval_shape(module.init, ...)`` on channels-last ``ShapeDtypeStruct`` inputs, so no
weight memory is allocated at any size. The 'params' collection is trainable; every other
collection (``batch_stats``) is state.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import re
from typing import Any, Callable, Iterator, Mapping

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax.core.scope import Scope
from flax.traverse_util import flatten_dict

from paramspec.errors import NotApplicable
from paramspec.reading import Measurement, Reading, StepMeasurement, Tensor, shape_text

from .base import Adapter, Built, Input, built, call_text, channels_last, ints
from .flax_common import conv_padding, conv_transpose_padding, pool_padding, pool_strides, shape_only_init
from .jax_cost import abstract, measure_step_xla, measure_xla, optax_state_bytes
from .flax_linen_models import FlaxLinenModels
from .flax_linen_vision import FlaxLinenVision
from .flax_linen_decoders import FlaxLinenDecoders, record_routing, routed_of


class _Variables(dict):
    """Abstract variables, plus ``embeds``: the paths of the nn.Embed modules that init called."""

    embeds: frozenset = frozenset()
    routing: dict = {}  # a mixture of experts' routers and experts, recorded at init (flax_linen_decoders)


def _concrete(x: Input) -> jax.Array:
    return jnp.zeros(x.shape, jnp.dtype(x.dtype))


def host_inputs(inputs: tuple[Input, ...]) -> tuple[np.ndarray, ...]:
    """Concrete inputs, as numpy arrays of zeros: ``nn.tabulate`` traces ``init`` on concrete
    inputs (it closes over them inside its own ``jax.eval_shape``), and a numpy array costs no
    XLA compile (``jnp.zeros`` compiles two tiny programs on first use).

    Raises:
        MemoryError: an input too large to hold here (numpy's ``_ArrayMemoryError``).
        ValueError: an input of ``2**63`` bytes or more (numpy's "array is too big").
    """
    return tuple(np.zeros(x.shape, np.dtype(x.dtype)) for x in inputs)


# A raw uint32[2] key (flax takes either kind): made with numpy, unlike ``jax.random.key(0)``,
# which compiles two programs before the first abstract build. Its values are never used.
_KEY = np.zeros(2, np.uint32)


def init_variables(module: nn.Module, inputs: tuple[Input, ...], kwargs: dict[str, Any],
                   materialize: bool) -> _Variables:
    """The module's variables: shapes and dtypes only (``jax.eval_shape`` of ``init``), or
    real ones with ``materialize``.

    A method interceptor (``nn.intercept_methods``) records, during that same trace, the path
    of every ``nn.Embed`` instance called (``__call__`` or ``attend``), so ``read`` knows the
    embedding tables by module type rather than by name.
    """
    embeds: set[tuple[str, ...]] = set()
    routing: dict = {}

    def record(next_fun, args, kw, context):
        if isinstance(context.module, nn.Embed):
            embeds.add(tuple(context.module.path))
        record_routing(context.module, routing)
        return next_fun(*args, **kw)

    def init(key, *xs):  # a fresh function each call, so jax never reuses a trace without recording
        with nn.intercept_methods(record):
            return module.init(key, *xs, **kwargs)

    if materialize:
        out = jax.block_until_ready(init(jax.random.key(0), *map(_concrete, inputs)))
    else:
        with shape_only_init():
            out = jax.eval_shape(init, _KEY, *map(abstract, inputs))
    variables = _Variables(nn.meta.unbox(flax.core.unfreeze(out)))
    variables.embeds, variables.routing = frozenset(embeds), routing
    return variables


def tabulate_variables(module: nn.Module, xs: tuple[np.ndarray, ...], kwargs: dict[str, Any]) -> tuple[_Variables, int]:
    """The abstract variables and ``nn.tabulate``'s 'Total Parameters', from one trace on the
    concrete inputs ``xs`` (:func:`host_inputs`).

    ``nn.tabulate`` traces ``module.init`` under ``jax.eval_shape`` itself. A method
    interceptor, in that same trace, keeps what ``init_variables`` would return (the root
    module's variables, as shapes and dtypes, when its call returns) and the ``nn.Embed``
    paths; the total is linen's own, parsed from its table. One trace instead of two: the
    Llama-3-8B config's cold count spends about 0.7 s less.
    """
    embeds: set[tuple[str, ...]] = set()
    captured: dict[str, Any] = {}
    routing: dict = {}

    def record(next_fun, args, kw, context):
        if isinstance(context.module, nn.Embed):
            embeds.add(tuple(context.module.path))
        record_routing(context.module, routing)
        out = next_fun(*args, **kw)
        if not context.module.path:  # the root: every variable exists once its call returns
            captured["variables"] = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype),
                                                 context.module.variables)
        return out

    with nn.intercept_methods(record), shape_only_init():
        total = _total_parameters(module, xs, kwargs)
    if "variables" not in captured:
        raise RuntimeError("nn.tabulate's trace did not call the root module")
    variables = _Variables(nn.meta.unbox(flax.core.unfreeze(captured["variables"])))
    variables.embeds, variables.routing = frozenset(embeds), routing
    return variables, total


def _total_parameters(module: nn.Module, xs: tuple[np.ndarray, ...], kwargs: dict[str, Any]) -> int:
    """The 'Total Parameters' line of ``nn.tabulate``: linen's own count, made module by module
    (tabulate runs ``jax.eval_shape`` itself, on the concrete inputs ``xs``: :func:`host_inputs`)."""
    text = nn.tabulate(module, _KEY, depth=1,
                       console_kwargs={"width": 10_000, "force_terminal": False, "color_system": None})(
        *xs, **kwargs)
    m = _TOTAL.search(text)
    if m is None:
        raise RuntimeError("nn.tabulate printed no 'Total Parameters' line")
    return int(m.group(1).replace(",", "") or 0)  # a module with no variables prints the label alone


_TOTAL = re.compile(r"Total Parameters:[ \t]*([\d,]*)")


@contextlib.contextmanager
def own_variables(built: Built) -> Iterator[None]:
    """``apply`` over variables that came from the module's own ``init`` (an abstract build's:
    :func:`init_variables`, :func:`tabulate_variables`), without linen's check of them.

    In ``apply``, linen's ``Scope.param`` checks each existing parameter's shape against its
    initializer's, tracing the initializer under ``jax.eval_shape`` once per parameter
    (flax/core/scope.py): about 1.8 ms a parameter, a third of a small model's forward pass.
    Over the module's own ``init``'s variables the check cannot fail. Inside this context an
    existing parameter is returned as ``Scope.param`` returns it (reserved, unboxed); a new one
    goes through flax's own path. A user's variables (:meth:`FlaxLinenAdapter.adopt`) keep the
    check: a mismatch there is linen's error to give.
    """
    if not isinstance(built.variables, _Variables):
        yield
        return
    param = Scope.param

    def existing(self, name, init_fn, *init_args, unbox=True, **init_kwargs):
        if not self.has_variable("params", name):
            return param(self, name, init_fn, *init_args, unbox=unbox, **init_kwargs)
        self.reserve(name, "params")
        value = self.get_variable("params", name)
        return nn.meta.unbox(value) if unbox else value

    Scope.param = existing
    try:
        yield
    finally:
        Scope.param = param


def one_line(module: Any) -> str:
    """A linen module in one line, from its dataclass fields: each that differs from the
    field's default (nested modules likewise)."""
    if not isinstance(module, nn.Module):
        return getattr(module, "__name__", None) or repr(module)
    args = []
    for f in dataclasses.fields(module):
        if f.name in ("parent", "name") or not f.init:
            continue
        value = getattr(module, f.name)
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else dataclasses.MISSING)
        if default is not dataclasses.MISSING and value == default:
            continue
        if isinstance(value, nn.Module):
            args.append(f"{f.name}={one_line(value)}")
        elif isinstance(value, (list, tuple)) and value and all(isinstance(x, nn.Module) for x in value):
            args.append(f"{f.name}=[{', '.join(one_line(x) for x in value)}]")
        elif isinstance(value, functools.partial):
            kw = ", ".join(f"{k}={v!r}" for k, v in value.keywords.items())
            args.append(f"{f.name}={value.func.__name__}({kw})")
        else:
            args.append(f"{f.name}={getattr(value, '__name__', None) or repr(value)}")
    return call_text(type(module).__name__, args)


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


class FlaxLinenAdapter(FlaxLinenModels, FlaxLinenVision, FlaxLinenDecoders, Adapter):
    framework = "flax-linen"

    # a size past what a tensor can hold, in XLA's words (its lowering checks each shape's extent)
    LIMIT_ERRORS = (RuntimeError,)
    LIMIT_MESSAGES = ("overflow in static extent product",)
    LIMIT_RULE = "a tensor has fewer than 2**63 elements"

    def version(self) -> str:
        return f"flax {flax.__version__} (jax {jax.__version__})"

    def construct(self, make, materialize: bool) -> Built:
        """The builder's module and its variables (``Built.variables``): from ``nn.tabulate``'s
        trace, with linen's own total beside them, when that total will be read; else from
        ``init``.

        ``nn.tabulate`` needs concrete inputs, which an abstract build otherwise never
        allocates. Where they are too large to hold here (a config's ``batch`` or ``seq_len``
        in the billions: numpy raises MemoryError, or ValueError past 2**63 bytes), the
        variables still come from the abstract ``init``, and :meth:`read` reports what asking
        ``nn.tabulate`` for its total raises. Any other error propagates.
        """
        b = make()
        if not materialize and b.inputs and b.read_native:
            try:
                xs = host_inputs(b.inputs)
            except (MemoryError, ValueError):
                xs = None
            if xs is not None:  # the variables and linen's own total from one trace
                b.variables, b.native_totals["nn.tabulate"] = tabulate_variables(b.module, xs, b.call_kwargs)
                return b
        b.variables = init_variables(b.module, b.inputs, b.call_kwargs, materialize)
        return b

    @classmethod
    def owns(cls, obj: Any) -> str | None:
        """linen's target for a ``(module, variables)`` pair (what ``module.init`` returned), or
        for a bare variables mapping (one with a ``params`` collection)."""
        pair = isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[0], nn.Module)
        return cls.targets()[0] if pair or (isinstance(obj, Mapping) and "params" in obj) else None

    def adopt(self, obj: Any) -> Built:
        """A pair as its module and variables; a bare mapping as variables with no module (read
        without a description or linen's own total, which need the module)."""
        module, variables = obj if isinstance(obj, tuple) else (None, obj)
        return Built(module, variables=dict(nn.meta.unbox(flax.core.unfreeze(variables))))

    def describe(self, built: Built) -> str:
        shapes = ", ".join(shape_text(i.shape) for i in built.inputs)
        return one_line(built.module) + (f" on {shapes}" if shapes else "")

    # ------------------------------------------------------------------ read
    def read(self, built: Built, native: bool = True) -> Reading:
        variables: Mapping[str, Any] = built.variables
        embeds = getattr(variables, "embeds", frozenset())  # nn.Embed module paths, recorded at init
        routing = getattr(variables, "routing", {})  # routers' top_k and experts' num_experts, recorded at init
        tensors: list[Tensor] = []
        for path, leaf in flatten_dict(variables).items():
            trainable = path[0] == "params"
            # nn.Embed's one param is its table, 'embedding' (flax/linen/linear.py, Embed.setup)
            embedding = trainable and path[-1] == "embedding" and tuple(path[1:-1]) in embeds
            tensors.append(Tensor("/".join(map(str, path)), tuple(leaf.shape), str(leaf.dtype), trainable,
                                  embedding=embedding, **routed_of(path, routing)))
        totals = {}
        if native and built.module is not None and built.inputs:  # bare variables have no module to tabulate
            total = built.native_totals.get("nn.tabulate")
            totals["nn.tabulate"] = total if total is not None else _total_parameters(
                built.module, host_inputs(built.inputs), built.call_kwargs)
        return Reading(self.source(), self.describe(built) if built.module is not None else "variables", tensors,
                       totals)

    # ------------------------------------------------------------------ measure
    def measure(self, built: Built, breakdown: bool = True) -> Measurement:
        """XLA's cost of ``module.apply`` over the abstract variables and inputs (never compiled).

        In ``apply``, linen checks each existing parameter's shape against its initializer's,
        which it traces under ``jax.eval_shape`` (``Scope.param``): the initializers draw no
        random numbers there (:func:`shape_only_init`), as in an abstract build. The forward
        pass's own trace, and so its cost, is unchanged."""
        module, kwargs = built.module, built.call_kwargs

        def forward(variables, *xs):
            return module.apply(variables, *xs, **kwargs)

        with shape_only_init(), own_variables(built):
            return measure_xla(forward, (dict(built.variables), *map(abstract, built.inputs)), self.version(),
                               built.inputs, breakdown)

    def measure_step(self, built: Built, *, optimizer: str | None = None, input_grad: bool = False,
                     recompute: str = "none", breakdown: bool = True) -> StepMeasurement:
        """A training step of ``module.apply`` with respect to the 'params' collection (every other
        collection held), deterministic as the forward pass is: XLA's cost of the forward pass and
        of its ``value_and_grad``, the residuals JAX keeps, and optax's state (flax's optimizers)."""
        if recompute != "none":
            raise NotApplicable(f"recompute {recompute!r} is measured in torch only; the spec's estimate gives it")
        module, kwargs = built.module, built.call_kwargs
        variables = dict(built.variables)
        params, state = variables.get("params", {}), {k: v for k, v in variables.items() if k != "params"}

        def forward(params, state, *xs):
            return module.apply({"params": params, **state}, *xs, **kwargs)

        with shape_only_init(), own_variables(built):
            return measure_step_xla(forward, params, state, built.inputs, self.version(), input_grad=input_grad,
                                    breakdown=breakdown,
                                    optimizer=optax_state_bytes(optimizer, params) if optimizer else (None, ""))

    def layout(self, x: Input) -> Input:
        return channels_last(x)

    # ------------------------------------------------------------------ dense.yaml
    def build_Linear(self, v, x):
        return built(nn.Dense(features=v.out_features, use_bias=v.bias), *x)

    def build_Embedding(self, v, x):
        return built(nn.Embed(num_embeddings=v.num_embeddings, features=v.embedding_dim), *x)

    # ------------------------------------------------------------------ conv.yaml
    def _conv(self, v, x):
        m = nn.Conv(features=v.out_channels, kernel_size=ints(v.kernel_size), strides=ints(v.stride),
                    padding=conv_padding(v), kernel_dilation=ints(v.dilation), feature_group_count=v.groups,
                    use_bias=v.bias)
        return built(m, *x)

    def _conv_transpose(self, v, x):
        if v.groups > 1:
            raise NotApplicable("flax.linen.ConvTranspose has no feature_group_count")
        m = nn.ConvTranspose(features=v.out_channels, kernel_size=ints(v.kernel_size), strides=ints(v.stride),
                             padding=conv_transpose_padding(v), kernel_dilation=ints(v.dilation), use_bias=v.bias)
        return built(m, *x)

    def build_Conv1d(self, v, x):
        return self._conv(v, x)

    def build_Conv2d(self, v, x):
        return self._conv(v, x)

    def build_Conv3d(self, v, x):
        return self._conv(v, x)

    def build_ConvTranspose1d(self, v, x):
        return self._conv_transpose(v, x)

    def build_ConvTranspose2d(self, v, x):
        return self._conv_transpose(v, x)

    def build_ConvTranspose3d(self, v, x):
        return self._conv_transpose(v, x)

    def _depthwise(self, v, features, use_bias):
        return nn.Conv(features=features, kernel_size=ints(v.kernel_size), strides=ints(v.strides),
                       padding=v.padding.upper(), feature_group_count=v.in_channels, use_bias=use_bias)

    def build_DepthwiseConv2D(self, v, x):
        return built(self._depthwise(v, v.in_channels * v.depth_multiplier, v.use_bias), *x)

    def build_SeparableConv2D(self, v, x):
        m = _SeparableConv2D(depthwise=self._depthwise(v, v.in_channels * v.depth_multiplier, False),
                             pointwise=nn.Conv(features=v.filters, kernel_size=(1, 1), use_bias=v.use_bias))
        return built(m, *x)

    # ------------------------------------------------------------------ recurrent.yaml
    def _rnn(self, cell_cls, v, x):
        """num_layers of nn.RNN(cell), each in nn.Bidirectional when bidirectional."""
        layers = []
        for _ in range(v.num_layers):
            if v.bidirectional:
                layers.append(nn.Bidirectional(nn.RNN(cell_cls(features=v.hidden_size)),
                                               nn.RNN(cell_cls(features=v.hidden_size))))
            else:
                layers.append(nn.RNN(cell_cls(features=v.hidden_size)))
        return built(layers[0] if v.num_layers == 1 else nn.Sequential(layers), *x)

    def build_RNN(self, v, x):
        if not v.bias:
            raise NotApplicable("flax.linen.SimpleCell has no use_bias option")
        return self._rnn(nn.SimpleCell, v, x)

    def build_LSTM(self, v, x):
        if v.proj_size > 0:
            raise NotApplicable("flax.linen.LSTMCell has no projection (proj_size)")
        if not v.bias:
            raise NotApplicable("flax.linen.LSTMCell has no use_bias option")
        return self._rnn(nn.LSTMCell, v, x)

    def build_GRU(self, v, x):
        if not v.reset_after:
            raise NotApplicable("flax.linen.GRUCell always applies the reset gate after the hidden projection")
        if not v.bias:
            raise NotApplicable("flax.linen.GRUCell has no use_bias option")
        return self._rnn(nn.GRUCell, v, x)

    # ------------------------------------------------------------------ norm.yaml
    def _bn(self, v, x):
        if not v.track_running_stats:
            raise NotApplicable("flax.linen.BatchNorm always keeps running statistics in batch_stats")
        # inference mode (running statistics): what a forward pass at inference computes
        return built(nn.BatchNorm(use_running_average=True, use_scale=v.affine, use_bias=v.affine), *x)

    def build_BatchNorm1d(self, v, x):
        return self._bn(v, x)

    def build_BatchNorm2d(self, v, x):
        return self._bn(v, x)

    def build_BatchNorm3d(self, v, x):
        return self._bn(v, x)

    def build_LayerNorm(self, v, x):
        axes = _axes(len(ints(v.normalized_shape)))
        use_bias = v.elementwise_affine and v.bias
        m = nn.LayerNorm(use_scale=v.elementwise_affine, use_bias=use_bias, reduction_axes=axes, feature_axes=axes)
        return built(m, *x)

    def build_GroupNorm(self, v, x):
        return built(nn.GroupNorm(num_groups=v.num_groups, use_scale=v.affine, use_bias=v.affine), *x)

    def build_RMSNorm(self, v, x):
        axes = _axes(len(ints(v.normalized_shape)))
        return built(nn.RMSNorm(use_scale=v.elementwise_affine, reduction_axes=axes, feature_axes=axes), *x)

    def build_InstanceNorm2d(self, v, x):
        if v.track_running_stats:
            raise NotApplicable("flax.linen.InstanceNorm keeps no running statistics")
        return built(nn.InstanceNorm(use_scale=v.affine, use_bias=v.affine), *x)

    # ------------------------------------------------------------------ attention.yaml
    def build_MultiheadAttention(self, v, x):
        if v.add_bias_kv:
            raise NotApplicable("flax.linen.MultiHeadDotProductAttention has no add_bias_kv")
        E = v.embed_dim
        m = nn.MultiHeadDotProductAttention(num_heads=v.num_heads, qkv_features=E, out_features=E, use_bias=v.bias)
        return built(m, *x)  # query, key, value

    def _attention(self, v):
        return nn.MultiHeadDotProductAttention(num_heads=v.nhead, qkv_features=v.d_model, out_features=v.d_model,
                                               use_bias=v.bias)

    def _transformer_parts(self, v, norms):
        parts = dict(linear1=nn.Dense(features=v.dim_feedforward, use_bias=v.bias),
                     linear2=nn.Dense(features=v.d_model, use_bias=v.bias))
        for i in range(1, norms + 1):
            parts[f"norm{i}"] = nn.LayerNorm(use_bias=v.bias)
        return parts

    def build_TransformerEncoderLayer(self, v, x):
        return built(_TransformerEncoderLayer(self_attn=self._attention(v), **self._transformer_parts(v, 2)), *x)

    def build_TransformerDecoderLayer(self, v, x):
        m = _TransformerDecoderLayer(self_attn=self._attention(v), multihead_attn=self._attention(v),
                                     **self._transformer_parts(v, 3))
        return built(m, *x)

    # ------------------------------------------------------------------ activation.yaml
    def build_PReLU(self, v, x):
        if v.num_parameters > 1:
            raise NotApplicable("flax.linen.PReLU learns a single scalar slope")
        return built(nn.PReLU(), *x)

    # ------------------------------------------------------------------ parameter_free.yaml
    def build_ReLU(self, v, x):
        return built(_Fn(nn.relu), *x)

    def _pool(self, fn, v, x):
        return built(_Fn(functools.partial(fn, window_shape=ints(v.kernel_size), strides=pool_strides(v),
                                           padding=pool_padding(v))), *x)

    def build_MaxPool2d(self, v, x):
        return self._pool(nn.max_pool, v, x)

    def build_AvgPool2d(self, v, x):
        return self._pool(nn.avg_pool, v, x)

    def build_AdaptiveAvgPool2d(self, v, x):
        raise NotApplicable("Flax has no adaptive pooling layer or function")

    def build_Dropout(self, v, x):
        return built(nn.Dropout(0.5), *x, deterministic=True)

    def build_Flatten(self, v, x):
        raise NotApplicable("Flax has no Flatten layer; models call x.reshape")


ADAPTER_CLASS = FlaxLinenAdapter
