"""PyTorch adapter: builds ``torch.nn`` modules on the meta device and reads them.

Canonical variable names are torch.nn's own, so most builders pass them straight through.
Building on ``torch.device("meta")`` allocates no weight memory at any size.
"""
from __future__ import annotations

import contextlib
import warnings
from typing import Any, Callable, Iterator

import torch
from torch import nn

from paramspec.errors import NotApplicable, SpecError
from paramspec.reading import Measurement, Reading, Tensor

from .base import Adapter, Built, call_text, ints
from .torch_models import TorchModels


def _dtype(t: torch.Tensor) -> str:
    return str(t.dtype).removeprefix("torch.")


def _fields(m: nn.Module) -> str:
    """What a module's own repr leaves out, read from its attributes."""
    if isinstance(m, nn.MultiheadAttention):  # its repr shows only out_proj
        return (f"embed_dim={m.embed_dim}, num_heads={m.num_heads}, bias={m.in_proj_bias is not None}, "
                f"add_bias_kv={m.bias_k is not None}, kdim={m.kdim}, vdim={m.vdim}, batch_first={m.batch_first}")
    return m.extra_repr()


def one_line(m: nn.Module) -> str:
    """A module in one line, from the module itself: a leaf's own ``repr``; a module with an
    ``extra_repr`` (torch's, or a model class's config) by it; otherwise its children."""
    name = type(m).__name__
    extra = _fields(m)
    children = list(m.named_children())
    if extra or not children:
        return f"{name}({extra})"
    shown = [f"{n}={one_line(c)}" for n, c in children[:8]]
    return call_text(name, shown + ([f"... {len(children) - 8} more"] if len(children) > 8 else []))


# torch.nn.init's in-place initializers, which every module's reset_parameters() calls
_INITIALIZERS = ("uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
                 "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_")


@contextlib.contextmanager
def _initializers_replaced(stand_in: Callable[..., Any]) -> Iterator[None]:
    saved = {name: getattr(nn.init, name) for name in _INITIALIZERS if hasattr(nn.init, name)}
    try:
        for name in saved:
            setattr(nn.init, name, stand_in)
        yield
    finally:
        for name, f in saved.items():
            setattr(nn.init, name, f)


def _no_init():
    """No weight initializer runs while a module is built on the meta device: there is nothing
    to initialize, and the first one (a random op on a meta tensor) imports torch._dynamo,
    about 2 s of a cold ``paramspec count``. Shapes, dtypes and parameters are unchanged."""
    return _initializers_replaced(_unchanged)


def zero_init():
    """While a real (CPU) module is built, torch.nn.init's initializers fill zeros instead of
    drawing random numbers. For a count that reads shapes only, such as a counting tool's
    (torchinfo, thop, ...): the draws took about 4 s of torchinfo's 9 s run on the tools'
    160 cases (VGG-16 alone has 138 million weights). Shapes, dtypes, parameters and buffers
    are unchanged (buffers are not set by torch.nn.init: BatchNorm's running variance is
    still ones); only the weights' values are zeros, so a forward pass stays finite."""
    return _initializers_replaced(_zeros)


def _zeros(tensor, *args, **kwargs):
    with torch.no_grad():
        return tensor.zero_()


def _unchanged(tensor, *args, **kwargs):
    return tensor


class TorchAdapter(TorchModels, Adapter):
    framework = "torch"

    def version(self) -> str:
        return f"torch {torch.__version__}"

    def construct(self, make, materialize: bool) -> Built:
        if materialize:
            with torch.device("cpu"):
                return make()
        with torch.device("meta"), _no_init():
            return make()

    # torch's own words when a size is past what a tensor can hold
    _LIMIT_MESSAGES = ("Storage size calculation overflowed", "numel: integer multiplication overflow",
                       "Trying to create tensor with negative dimension", "value cannot be converted to type int64")

    def beyond_limit(self, error: Exception, values) -> SpecError | None:
        """torch's storage overflow (a tensor of 2**63 bytes or more) as a SpecError naming the
        config's largest variable and the limit; the formula (``-f formula``) and the other
        frameworks, which build abstractly, may still count it."""
        text = str(error)
        if not isinstance(error, (RuntimeError, OverflowError)) or not any(m in text for m in self._LIMIT_MESSAGES):
            return None
        ints = {k: v for k, v in values.items() if isinstance(v, int) and not isinstance(v, bool)}
        name = max(ints, key=ints.get) if ints else "a dimension"
        value = f" = {ints[name]:,}" if ints else ""
        return SpecError(f"{name}{value} is beyond what torch can build: a tensor's size in bytes must stay below "
                         f"2**63 (torch: {text.splitlines()[0][:80]}); the spec's formula still counts it: "
                         "paramspec count -f formula, and frameworks that build abstractly (flax-nnx) may too")

    @classmethod
    def owns(cls, obj: Any) -> str | None:
        """torch's target for a ``torch.nn.Module``."""
        return cls.targets()[0] if isinstance(obj, nn.Module) else None

    def describe(self, built: Built) -> str:
        return one_line(built.module)

    # ------------------------------------------------------------------ read
    def read(self, built: Built, native: bool = True) -> Reading:
        module: nn.Module = built.module
        tensors: list[Tensor] = []
        names: dict[int, list[str]] = {}
        first: dict[int, tuple[str, torch.Tensor, bool]] = {}
        for name, p in module.named_parameters(remove_duplicate=False):
            names.setdefault(id(p), []).append(name)
            first.setdefault(id(p), (name, p, p.requires_grad))
        for name, b in module.named_buffers(remove_duplicate=False):
            names.setdefault(id(b), []).append(name)
            first.setdefault(id(b), (name, b, False))
        embeddings = {id(m.weight) for m in module.modules() if isinstance(m, nn.Embedding)}
        for key, (name, t, trainable) in first.items():
            tensors.append(Tensor(name, tuple(t.shape), _dtype(t), trainable, tuple(names[key][1:]),
                                  embedding=key in embeddings))
        native = {
            "parameters()": sum(p.numel() for p in module.parameters()),
            "buffers()": sum(b.numel() for b in module.buffers()),
            "state_dict()": sum(v.numel() for v in module.state_dict().values()),
        } if native else {}
        return Reading(self.source(), self.describe(built), tensors, native)

    # ------------------------------------------------------------------ measure
    def measure(self, built: Built, breakdown: bool = True) -> Measurement:
        """FlopCounterMode around one forward pass, in eval mode, on empty inputs on the
        module's device (the meta device unless materialized): no weights, no activations."""
        from torch.utils.flop_counter import FlopCounterMode

        module: nn.Module = built.module
        device = next(iter(module.parameters()), torch.empty(0, device="meta")).device
        xs = tuple(torch.zeros(i.shape, dtype=getattr(torch, i.dtype), device=device) for i in built.inputs)
        module.eval()
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad(), warnings.catch_warnings():
            # torch's advice that an even kernel with padding='same' may copy the input (a
            # matter of speed, not of what is computed) is noise in a count
            warnings.filterwarnings("ignore", message="Using padding='same'", category=UserWarning)
            built.invoke(module, xs)
        by_op = {str(op).removesuffix(".default"): int(n) for op, n in counter.get_flop_counts().get("Global", {}).items()}
        return Measurement("flop_counter", self.version(), int(counter.get_total_flops()), by_op,
                           [i.to_dict() for i in built.inputs])

    # ------------------------------------------------------------------ dense.yaml
    def build_Linear(self, v, x):
        return Built(nn.Linear(v.in_features, v.out_features, bias=v.bias))

    def build_Embedding(self, v, x):
        return Built(nn.Embedding(v.num_embeddings, v.embedding_dim))

    # ------------------------------------------------------------------ conv.yaml
    def _conv(self, cls, v):
        padding = v.padding if isinstance(v.padding, str) else ints(v.padding)
        return Built(cls(v.in_channels, v.out_channels, ints(v.kernel_size), stride=ints(v.stride), padding=padding,
                         dilation=ints(v.dilation), groups=v.groups, bias=v.bias))

    def _conv_transpose(self, cls, v):
        return Built(cls(v.in_channels, v.out_channels, ints(v.kernel_size), stride=ints(v.stride),
                         padding=ints(v.padding), output_padding=ints(v.output_padding), groups=v.groups, bias=v.bias,
                         dilation=ints(v.dilation)))

    def build_Conv1d(self, v, x):
        return self._conv(nn.Conv1d, v)

    def build_Conv2d(self, v, x):
        return self._conv(nn.Conv2d, v)

    def build_Conv3d(self, v, x):
        return self._conv(nn.Conv3d, v)

    def build_ConvTranspose1d(self, v, x):
        return self._conv_transpose(nn.ConvTranspose1d, v)

    def build_ConvTranspose2d(self, v, x):
        return self._conv_transpose(nn.ConvTranspose2d, v)

    def build_ConvTranspose3d(self, v, x):
        return self._conv_transpose(nn.ConvTranspose3d, v)

    def build_DepthwiseConv2D(self, v, x):
        out = v.in_channels * v.depth_multiplier
        return Built(nn.Conv2d(v.in_channels, out, ints(v.kernel_size), stride=ints(v.strides), padding=v.padding,
                               groups=v.in_channels, bias=v.use_bias))

    def build_SeparableConv2D(self, v, x):
        mid = v.in_channels * v.depth_multiplier
        m = nn.Sequential()
        m.add_module("depthwise", nn.Conv2d(v.in_channels, mid, ints(v.kernel_size), stride=ints(v.strides),
                                            padding=v.padding, groups=v.in_channels, bias=False))
        m.add_module("pointwise", nn.Conv2d(mid, v.filters, 1, bias=v.use_bias))
        return Built(m)

    # ------------------------------------------------------------------ recurrent.yaml
    def _rnn(self, cls, v, **extra):
        return Built(cls(v.input_size, v.hidden_size, num_layers=v.num_layers, bias=v.bias,
                         bidirectional=v.bidirectional, batch_first=True, **extra))

    def build_RNN(self, v, x):
        return self._rnn(nn.RNN, v)

    def build_LSTM(self, v, x):
        return self._rnn(nn.LSTM, v, proj_size=v.proj_size)

    def build_GRU(self, v, x):
        if not v.reset_after:
            raise NotApplicable("torch.nn.GRU has no reset_after=False variant")
        return self._rnn(nn.GRU, v)

    # ------------------------------------------------------------------ norm.yaml
    def _bn(self, cls, v):
        return Built(cls(v.num_features, affine=v.affine, track_running_stats=v.track_running_stats))

    def build_BatchNorm1d(self, v, x):
        return self._bn(nn.BatchNorm1d, v)

    def build_BatchNorm2d(self, v, x):
        return self._bn(nn.BatchNorm2d, v)

    def build_BatchNorm3d(self, v, x):
        return self._bn(nn.BatchNorm3d, v)

    def build_LayerNorm(self, v, x):
        return Built(nn.LayerNorm(ints(v.normalized_shape), elementwise_affine=v.elementwise_affine, bias=v.bias))

    def build_GroupNorm(self, v, x):
        return Built(nn.GroupNorm(v.num_groups, v.num_channels, affine=v.affine))

    def build_RMSNorm(self, v, x):
        return Built(nn.RMSNorm(ints(v.normalized_shape), elementwise_affine=v.elementwise_affine))

    def build_InstanceNorm2d(self, v, x):
        return self._bn(nn.InstanceNorm2d, v)

    # ------------------------------------------------------------------ attention.yaml
    def build_MultiheadAttention(self, v, x):
        return Built(nn.MultiheadAttention(v.embed_dim, v.num_heads, bias=v.bias, add_bias_kv=v.add_bias_kv,
                                           kdim=v.kdim, vdim=v.vdim, batch_first=True))

    def build_TransformerEncoderLayer(self, v, x):
        return Built(nn.TransformerEncoderLayer(v.d_model, v.nhead, v.dim_feedforward, bias=v.bias, batch_first=True))

    def build_TransformerDecoderLayer(self, v, x):
        return Built(nn.TransformerDecoderLayer(v.d_model, v.nhead, v.dim_feedforward, bias=v.bias, batch_first=True))

    # ------------------------------------------------------------------ activation.yaml
    def build_PReLU(self, v, x):
        return Built(nn.PReLU(v.num_parameters))

    # ------------------------------------------------------------------ parameter_free.yaml
    def build_ReLU(self, v, x):
        return Built(nn.ReLU())

    def build_MaxPool2d(self, v, x):
        return Built(nn.MaxPool2d(ints(v.kernel_size), stride=v.stride and ints(v.stride), padding=ints(v.padding)))

    def build_AvgPool2d(self, v, x):
        return Built(nn.AvgPool2d(ints(v.kernel_size), stride=v.stride and ints(v.stride), padding=ints(v.padding)))

    def build_AdaptiveAvgPool2d(self, v, x):
        return Built(nn.AdaptiveAvgPool2d(ints(v.output_size)))

    def build_Dropout(self, v, x):
        return Built(nn.Dropout(0.5))

    def build_Flatten(self, v, x):
        return Built(nn.Flatten())


ADAPTER_CLASS = TorchAdapter
