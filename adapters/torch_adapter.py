"""PyTorch adapter: builds ``torch.nn`` modules on the meta device and reads them.

Canonical variable names are torch.nn's own, so most builders pass them straight through.
Building on ``torch.device("meta")`` allocates no weight memory at any size.
"""
from __future__ import annotations

import contextlib
import functools
import warnings
from typing import Any, Callable, Iterator

import torch
from torch import nn

from paramspec.errors import NotApplicable
from paramspec.reading import Measurement, Reading, StepMeasurement, Tensor

from .base import Adapter, Built, call_text, ints
from .torch_models import TorchModels
from .torch_vision import TorchVision
from .torch_decoders import TorchDecoders, routed_experts


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


def _storage_key(t: torch.Tensor) -> int:
    """One storage's identity, on the meta device too (where every data pointer is 0)."""
    return t.untyped_storage()._cdata


def _sum_of_outputs(out: Any) -> torch.Tensor:
    """The scalar loss of a step: the sum of every floating-point output."""
    if isinstance(out, torch.Tensor):
        return out.sum()
    parts = [_sum_of_outputs(o) for o in (out.values() if isinstance(out, dict) else out)
             if isinstance(o, (torch.Tensor, tuple, list, dict)) and (not isinstance(o, torch.Tensor)
                                                                      or o.is_floating_point())]
    return sum(parts[1:], parts[0])


class _GlobalOnly:
    """FlopCounterMode's module tracker with nothing to track: every count goes to "Global"
    (what paramspec reads), none to a module. A stand-in for ``torch.utils.module_tracker``'s
    ModuleTracker, which on every module call pushes its name and hooks its outputs' gradients
    so that FlopCounterMode can also file each count under each enclosing module: about 5% of
    a Llama step on the meta device, for a table paramspec never reads."""
    parents = frozenset({"Global"})

    def __enter__(self) -> _GlobalOnly:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _flop_counter() -> Any:
    """``torch.utils.flop_counter.FlopCounterMode`` (its dispatch mode, its registry of flop
    formulas, its decompositions: its own counts), totals only: ``get_flop_counts()`` holds
    "Global" alone. The per-module table is FlopCounterMode's ``mod_tracker``; where a torch
    has none by that name, the counter is left whole."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    if hasattr(counter, "mod_tracker"):
        counter.mod_tracker = _GlobalOnly()
    return counter


def _measurement(counter: Any, version: str, built: Built) -> Measurement:
    by_op = {str(op).removesuffix(".default"): int(n) for op, n in counter.get_flop_counts().get("Global", {}).items()}
    return Measurement("flop_counter", version, int(counter.get_total_flops()), by_op,
                       [i.to_dict() for i in built.inputs])


def _checkpoint_blocks(module: nn.Module, stack: contextlib.ExitStack) -> str:
    """Checkpoint each block of ``module``'s longest ModuleList for the step (undone on exit)."""
    from torch.utils.checkpoint import checkpoint

    lists = [(name, m) for name, m in module.named_modules() if isinstance(m, nn.ModuleList) and len(m)]
    if not lists:
        raise NotApplicable("recompute 'full' checkpoints a model's blocks, and this one has no list of blocks")
    name, blocks = max(lists, key=lambda nm: len(nm[1]))
    for block in blocks:
        plain = block.forward
        block.forward = functools.partial(checkpoint, plain, use_reentrant=False)
        stack.callback(setattr, block, "forward", plain)
    return f"recompute full: each of the {len(blocks)} blocks of {name} checkpointed (torch.utils.checkpoint)"


def _optimizer_state(optimizer: str, params: list[nn.Parameter]) -> tuple[int | None, str]:
    """Bytes of the state ``optimizer`` (spec/training.yaml's id) keeps for ``params`` after one
    step: every tensor of its per-parameter state, once (bitsandbytes' shared quantization
    maps, the same two for every parameter, are not state of a parameter: not counted)."""
    if not params:
        return 0, "no trainable parameters"
    if optimizer == "adam-8bit":
        import bitsandbytes as bnb

        opt = bnb.optim.Adam8bit(params)
        for gi, group in enumerate(opt.param_groups):  # its state as step() makes it; its update runs CPU kernels
            for pi, p in enumerate(group["params"]):
                opt.init_state(group, p, gi, pi)
        built = f"bitsandbytes.optim.Adam8bit ({bnb.__version__}), its init_state"
    elif optimizer == "adamw":
        # the state as step() makes it (Adam's _init_group, which step() calls first), without the
        # update's arithmetic on the meta device (Llama-3-8B's 291 tensors: 0.23 s of foreach ops)
        opt, built = _torch_optimizer(optimizer, params)
        for group in opt.param_groups:
            opt._init_group(group, [], [], [], [], [], [])
    else:
        opt, built = _torch_optimizer(optimizer, params)
        opt.step()
    seen: set[int] = set()
    total = 0
    for state in opt.state.values():
        for key, v in state.items():
            if isinstance(v, torch.Tensor) and not key.startswith("qmap") and _storage_key(v) not in seen:
                seen.add(_storage_key(v))
                total += v.numel() * v.element_size()
    return total, built


def _torch_optimizer(optimizer: str, params: list[nn.Parameter]) -> tuple[Any, str]:
    """The torch optimizer of ``optimizer`` over ``params``; foreach=True (its multi-tensor path:
    the same state, in a few dispatches where the default path on the meta device takes one
    per parameter and op)."""
    if optimizer == "sgd":
        return torch.optim.SGD(params, lr=0.1, foreach=True), "torch.optim.SGD(lr=0.1)"
    if optimizer == "sgd-momentum":
        return torch.optim.SGD(params, lr=0.1, momentum=0.9, foreach=True), "torch.optim.SGD(lr=0.1, momentum=0.9)"
    if optimizer == "adamw":
        return torch.optim.AdamW(params, foreach=True), "torch.optim.AdamW()"
    if optimizer == "adafactor":
        from transformers.optimization import Adafactor

        return (Adafactor(params, lr=1e-3, relative_step=False, scale_parameter=False),
                "transformers.optimization.Adafactor(lr=1e-3, relative_step=False, scale_parameter=False)")
    raise NotApplicable(f"no torch optimizer for {optimizer!r}")


def _torch_kind(m: nn.Module) -> tuple[str, dict[str, Any]] | None:
    """The spec kind of a torch.nn layer and its canonical variables, or None."""
    t = type(m)
    if t is nn.Linear:
        return "Linear", {"in_features": m.in_features, "out_features": m.out_features, "bias": m.bias is not None}
    if t is nn.Embedding:
        return "Embedding", {"num_embeddings": m.num_embeddings, "embedding_dim": m.embedding_dim}
    convs = {nn.Conv1d: "Conv1d", nn.Conv2d: "Conv2d", nn.Conv3d: "Conv3d", nn.ConvTranspose1d: "ConvTranspose1d",
             nn.ConvTranspose2d: "ConvTranspose2d", nn.ConvTranspose3d: "ConvTranspose3d"}
    if t in convs:
        v = {"in_channels": m.in_channels, "out_channels": m.out_channels, "kernel_size": list(m.kernel_size),
             "stride": list(m.stride), "dilation": list(m.dilation), "groups": m.groups, "bias": m.bias is not None,
             "padding": m.padding if isinstance(m.padding, str) else list(m.padding)}
        if t in (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d):
            v["output_padding"] = list(m.output_padding)
        return convs[t], v
    if t in (nn.RNN, nn.LSTM, nn.GRU):
        v = {"input_size": m.input_size, "hidden_size": m.hidden_size, "num_layers": m.num_layers, "bias": m.bias,
             "bidirectional": m.bidirectional}
        if t is nn.LSTM:
            v["proj_size"] = m.proj_size
        return t.__name__, v
    norms = {nn.BatchNorm1d: "BatchNorm1d", nn.BatchNorm2d: "BatchNorm2d", nn.BatchNorm3d: "BatchNorm3d",
             nn.InstanceNorm2d: "InstanceNorm2d"}
    if t in norms:
        return norms[t], {"num_features": m.num_features, "affine": m.affine,
                          "track_running_stats": m.track_running_stats}
    if t is nn.LayerNorm:
        return "LayerNorm", {"normalized_shape": list(m.normalized_shape), "elementwise_affine": m.elementwise_affine,
                             "bias": m.bias is not None}
    if t is nn.GroupNorm:
        return "GroupNorm", {"num_groups": m.num_groups, "num_channels": m.num_channels, "affine": m.affine}
    if t is nn.RMSNorm:
        return "RMSNorm", {"normalized_shape": list(m.normalized_shape), "elementwise_affine": m.elementwise_affine}
    if t is nn.MultiheadAttention:
        return "MultiheadAttention", {"embed_dim": m.embed_dim, "num_heads": m.num_heads,
                                      "bias": m.in_proj_bias is not None or m.out_proj.bias is not None,
                                      "add_bias_kv": m.bias_k is not None, "kdim": m.kdim, "vdim": m.vdim}
    if t is nn.PReLU:
        return "PReLU", {"num_parameters": m.num_parameters}
    return None


class TorchAdapter(TorchModels, TorchVision, TorchDecoders, Adapter):
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
    LIMIT_ERRORS = (RuntimeError, OverflowError)
    LIMIT_MESSAGES = ("Storage size calculation overflowed", "numel: integer multiplication overflow",
                      "Trying to create tensor with negative dimension", "value cannot be converted to type int64")
    LIMIT_RULE = "a tensor's size in bytes must stay below 2**63"

    @classmethod
    def owns(cls, obj: Any) -> str | None:
        """torch's target for a ``torch.nn.Module``."""
        return cls.targets()[0] if isinstance(obj, nn.Module) else None

    def adopt(self, obj: Any) -> Built:
        """A user's module as its twin on the meta device (a structural copy whose parameters
        and buffers are meta tensors of the same shapes and dtypes, shared where the module
        shares them): read and measured as a spec build is, allocating nothing, and counted
        by FlopCounterMode as on the meta device (torch's fused CPU kernels, an LSTM's among
        them, register no flops)."""
        import copy

        memo: dict[int, Any] = {}
        for t in (*obj.parameters(), *obj.buffers()):
            twin = torch.empty_like(t, device="meta")
            memo[id(t)] = nn.Parameter(twin, requires_grad=t.requires_grad) if isinstance(t, nn.Parameter) else twin
        return Built(copy.deepcopy(obj, memo))

    def describe(self, built: Built) -> str:
        return one_line(built.module)

    def kinds_within(self, built: Built) -> list[tuple[str, str, dict[str, Any], str]]:
        """torch.nn's own layers among the module's, with their constructor arguments read back
        (the inverse of the builders below)."""
        out = []
        for path, m in built.module.named_modules():
            found = _torch_kind(m)
            if found is not None:
                out.append((path, *found, one_line(m)))
        return out

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
        routed = routed_experts(module)  # a mixture of experts' routed tensors: how many experts, and top_k
        for key, (name, t, trainable) in first.items():
            tensors.append(Tensor(name, tuple(t.shape), _dtype(t), trainable, tuple(names[key][1:]),
                                  embedding=key in embeddings, **routed.get(key, {})))
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
        module: nn.Module = built.module
        device = next(iter(module.parameters()), torch.empty(0, device="meta")).device
        xs = tuple(torch.zeros(i.shape, dtype=getattr(torch, i.dtype), device=device) for i in built.inputs)
        module.eval()
        counter = _flop_counter()
        with counter, torch.no_grad(), warnings.catch_warnings():
            # torch's advice that an even kernel with padding='same' may copy the input (a
            # matter of speed, not of what is computed) is noise in a count
            warnings.filterwarnings("ignore", message="Using padding='same'", category=UserWarning)
            built.invoke(module, xs)
        by_op = {str(op).removesuffix(".default"): int(n) for op, n in counter.get_flop_counts().get("Global", {}).items()}
        return Measurement("flop_counter", self.version(), int(counter.get_total_flops()), by_op,
                           [i.to_dict() for i in built.inputs])

    def measure_step(self, built: Built, *, optimizer: str | None = None, input_grad: bool = False,
                     recompute: str = "none", breakdown: bool = True) -> StepMeasurement:
        """One training step on the module's device (the meta device unless materialized): the
        forward pass under one FlopCounterMode, with autograd's saved tensors watched
        (``saved_tensors_hooks``: the unique storages it keeps, parameters and buffers
        excluded); ``loss.backward()`` of the outputs' sum under another; the gradients; and the
        optimizer's state after one step (torch.optim's, transformers' Adafactor, bitsandbytes'
        Adam8bit). ``recompute="full"`` checkpoints each block of the model's longest
        ModuleList (``torch.utils.checkpoint``, non-reentrant): it keeps their inputs alone and
        runs their forward again in the backward pass; ``"selective"`` checkpoints each attention
        core alone (its QKᵀ, softmax and AV: Korthikanti et al.'s selective recomputation). Either
        way with checkpoint's early stop off: the region runs again whole, as the papers count it
        (with it on, torch skips a region's last ops whose outputs no gradient reads, which
        depends on what follows them: a residual add, a norm, a routing weight)."""
        module: nn.Module = built.module
        device = next(iter(module.parameters()), torch.empty(0, device="meta")).device
        xs = tuple(torch.zeros(i.shape, dtype=getattr(torch, i.dtype), device=device) for i in built.inputs)
        if input_grad:
            xs = tuple(x.requires_grad_() if x.is_floating_point() else x for x in xs)
        module.eval()  # deterministic, as in every target: dropout off, BatchNorm on its running statistics
        params = [p for p in module.parameters() if p.requires_grad]
        for p in params:
            p.grad = None
        owned = {_storage_key(t) for t in (*module.parameters(), *module.buffers())}
        saved: dict[int, int] = {}

        def pack(t: torch.Tensor) -> torch.Tensor:
            key = _storage_key(t)
            if key not in owned:
                saved[key] = t.untyped_storage().nbytes()
            return t

        notes = []
        forward, backward = _flop_counter(), _flop_counter()
        with contextlib.ExitStack() as stack, warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Using padding='same'", category=UserWarning)
            selective = None
            if recompute != "none":  # the whole checkpointed region runs again, as the papers count it
                from torch.utils.checkpoint import set_checkpoint_early_stop

                stack.enter_context(set_checkpoint_early_stop(False))
                notes.append("recompute: torch.utils.checkpoint's early stop off (set_checkpoint_early_stop(False)): "
                             "each checkpointed region's forward runs again whole, not only up to the last tensor "
                             "its backward saved")
            if recompute == "full":
                notes.append(_checkpoint_blocks(module, stack))
            elif recompute == "selective":
                from .torch_models import SelectiveRecompute

                selective = stack.enter_context(SelectiveRecompute())
            with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), forward, torch.enable_grad():
                out = built.invoke(module, xs)
                loss = _sum_of_outputs(out)
            with backward:
                if loss.requires_grad:  # else nothing in the step needs a gradient (a layer with no parameters)
                    loss.backward()
            if selective is not None:
                if not selective.cores:
                    raise NotApplicable("recompute 'selective' checkpoints each attention core (softmax(QKᵀ)V) of "
                                        "paramspec's torch models; this one computes none that way")
                notes.append(f"recompute selective: each of the {selective.cores} attention cores checkpointed "
                             "(torch.utils.checkpoint): its s x s scores recomputed in backward, not kept")
        gradients = sum(p.grad.numel() * p.grad.element_size() for p in params if p.grad is not None)
        state, note = (None, "") if optimizer is None else _optimizer_state(optimizer, params)
        return StepMeasurement(_measurement(forward, self.version(), built), _measurement(backward, self.version(), built),
                               int(forward.get_total_flops()) + int(backward.get_total_flops()), sum(saved.values()),
                               "", gradients, state, note, notes)

    # ------------------------------------------------------------------ dense.yaml
    def build_Linear(self, v, x):
        return Built(nn.Linear(v.in_features, v.out_features, bias=v.bias))

    def build_Embedding(self, v, x):
        return Built(nn.Embedding(v.num_embeddings, v.embedding_dim))

    # ------------------------------------------------------------------ conv.yaml
    @staticmethod
    def _refused(make):
        """``make()``, where torch's own refusal of a config (a ValueError from a module's
        constructor, such as padding='same' with a stride) is a NotApplicable carrying torch's
        words: the spec's recorded n/a is then held to what torch itself says."""
        try:
            return make()
        except ValueError as e:
            raise NotApplicable(f"torch refuses it: {e}") from None

    def _conv(self, cls, v):
        padding = v.padding if isinstance(v.padding, str) else ints(v.padding)
        return Built(self._refused(lambda: cls(
            v.in_channels, v.out_channels, ints(v.kernel_size), stride=ints(v.stride), padding=padding,
            dilation=ints(v.dilation), groups=v.groups, bias=v.bias)))

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
        return Built(self._refused(lambda: nn.Conv2d(v.in_channels, out, ints(v.kernel_size), stride=ints(v.strides),
                                                     padding=v.padding, groups=v.in_channels, bias=v.use_bias)))

    def build_SeparableConv2D(self, v, x):
        mid = v.in_channels * v.depth_multiplier
        m = nn.Sequential()
        m.add_module("depthwise", self._refused(lambda: nn.Conv2d(
            v.in_channels, mid, ints(v.kernel_size), stride=ints(v.strides), padding=v.padding,
            groups=v.in_channels, bias=False)))
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
