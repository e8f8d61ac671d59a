"""PyTorch adapter: builds ``torch.nn`` modules on the meta device and reads them.

Canonical variable names are torch.nn's own, so most builders pass them straight through.
Building on ``torch.device("meta")`` allocates no weight memory at any size.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from paramspec.errors import NotApplicable
from paramspec.reading import Reading, Tensor

from .base import Adapter, Built, ints
from .torch_models import TorchModels


def _dtype(t: torch.Tensor) -> str:
    return str(t.dtype).removeprefix("torch.")


class TorchAdapter(TorchModels, Adapter):
    framework = "torch"

    def version(self) -> str:
        return f"torch {torch.__version__}"

    def build(self, kind: str, values: Any) -> Built:
        with torch.device("cpu" if self.materialize else "meta"):
            return super().build(kind, values)

    # ------------------------------------------------------------------ read
    def read(self, built: Built) -> Reading:
        module: nn.Module = built.obj
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
        }
        return Reading("torch", self.target, self.version(), built.description, tensors, native)

    # ------------------------------------------------------------------ dense.yaml
    def build_Linear(self, v):
        return Built(nn.Linear(v.in_features, v.out_features, bias=v.bias),
                     f"nn.Linear({v.in_features}, {v.out_features}, bias={v.bias})")

    def build_Embedding(self, v):
        return Built(nn.Embedding(v.num_embeddings, v.embedding_dim),
                     f"nn.Embedding({v.num_embeddings}, {v.embedding_dim})")

    # ------------------------------------------------------------------ conv.yaml
    def _conv(self, cls, v):
        m = cls(v.in_channels, v.out_channels, ints(v.kernel_size), groups=v.groups, bias=v.bias)
        return Built(m, f"nn.{cls.__name__}({v.in_channels}, {v.out_channels}, {ints(v.kernel_size)}, "
                        f"groups={v.groups}, bias={v.bias})")

    def build_Conv1d(self, v):
        return self._conv(nn.Conv1d, v)

    def build_Conv2d(self, v):
        return self._conv(nn.Conv2d, v)

    def build_Conv3d(self, v):
        return self._conv(nn.Conv3d, v)

    def build_ConvTranspose1d(self, v):
        return self._conv(nn.ConvTranspose1d, v)

    def build_ConvTranspose2d(self, v):
        return self._conv(nn.ConvTranspose2d, v)

    def build_ConvTranspose3d(self, v):
        return self._conv(nn.ConvTranspose3d, v)

    def build_DepthwiseConv2D(self, v):
        out = v.in_channels * v.depth_multiplier
        m = nn.Conv2d(v.in_channels, out, ints(v.kernel_size), groups=v.in_channels, bias=v.use_bias)
        return Built(m, f"nn.Conv2d({v.in_channels}, {out}, {ints(v.kernel_size)}, "
                        f"groups={v.in_channels}, bias={v.use_bias})")

    def build_SeparableConv2D(self, v):
        mid = v.in_channels * v.depth_multiplier
        m = nn.Sequential()
        m.add_module("depthwise", nn.Conv2d(v.in_channels, mid, ints(v.kernel_size), groups=v.in_channels, bias=False))
        m.add_module("pointwise", nn.Conv2d(mid, v.filters, 1, bias=v.use_bias))
        return Built(m, f"nn.Sequential(depthwise=nn.Conv2d({v.in_channels}, {mid}, {ints(v.kernel_size)}, "
                        f"groups={v.in_channels}, bias=False), pointwise=nn.Conv2d({mid}, {v.filters}, 1, "
                        f"bias={v.use_bias}))")

    # ------------------------------------------------------------------ recurrent.yaml
    def _rnn(self, cls, v, **extra):
        m = cls(v.input_size, v.hidden_size, num_layers=v.num_layers, bias=v.bias,
                bidirectional=v.bidirectional, batch_first=True, **extra)
        args = "".join(f", {k}={val}" for k, val in extra.items())
        return Built(m, f"nn.{cls.__name__}({v.input_size}, {v.hidden_size}, num_layers={v.num_layers}, "
                        f"bias={v.bias}, bidirectional={v.bidirectional}{args})")

    def build_RNN(self, v):
        return self._rnn(nn.RNN, v)

    def build_LSTM(self, v):
        return self._rnn(nn.LSTM, v, proj_size=v.proj_size)

    def build_GRU(self, v):
        if not v.reset_after:
            raise NotApplicable("torch.nn.GRU has no reset_after=False variant")
        return self._rnn(nn.GRU, v)

    # ------------------------------------------------------------------ norm.yaml
    def _bn(self, cls, v):
        m = cls(v.num_features, affine=v.affine, track_running_stats=v.track_running_stats)
        return Built(m, f"nn.{cls.__name__}({v.num_features}, affine={v.affine}, "
                        f"track_running_stats={v.track_running_stats})")

    def build_BatchNorm1d(self, v):
        return self._bn(nn.BatchNorm1d, v)

    def build_BatchNorm2d(self, v):
        return self._bn(nn.BatchNorm2d, v)

    def build_BatchNorm3d(self, v):
        return self._bn(nn.BatchNorm3d, v)

    def build_LayerNorm(self, v):
        shape = ints(v.normalized_shape)
        m = nn.LayerNorm(shape, elementwise_affine=v.elementwise_affine, bias=v.bias)
        return Built(m, f"nn.LayerNorm({shape}, elementwise_affine={v.elementwise_affine}, bias={v.bias})")

    def build_GroupNorm(self, v):
        m = nn.GroupNorm(v.num_groups, v.num_channels, affine=v.affine)
        return Built(m, f"nn.GroupNorm({v.num_groups}, {v.num_channels}, affine={v.affine})")

    def build_RMSNorm(self, v):
        shape = ints(v.normalized_shape)
        m = nn.RMSNorm(shape, elementwise_affine=v.elementwise_affine)
        return Built(m, f"nn.RMSNorm({shape}, elementwise_affine={v.elementwise_affine})")

    def build_InstanceNorm2d(self, v):
        return self._bn(nn.InstanceNorm2d, v)

    # ------------------------------------------------------------------ attention.yaml
    def build_MultiheadAttention(self, v):
        m = nn.MultiheadAttention(v.embed_dim, v.num_heads, bias=v.bias, add_bias_kv=v.add_bias_kv,
                                  kdim=v.kdim, vdim=v.vdim, batch_first=True)
        return Built(m, f"nn.MultiheadAttention({v.embed_dim}, {v.num_heads}, bias={v.bias}, "
                        f"add_bias_kv={v.add_bias_kv}, kdim={v.kdim}, vdim={v.vdim})")

    def build_TransformerEncoderLayer(self, v):
        m = nn.TransformerEncoderLayer(v.d_model, v.nhead, v.dim_feedforward, bias=v.bias, batch_first=True)
        return Built(m, f"nn.TransformerEncoderLayer({v.d_model}, {v.nhead}, {v.dim_feedforward}, bias={v.bias})")

    def build_TransformerDecoderLayer(self, v):
        m = nn.TransformerDecoderLayer(v.d_model, v.nhead, v.dim_feedforward, bias=v.bias, batch_first=True)
        return Built(m, f"nn.TransformerDecoderLayer({v.d_model}, {v.nhead}, {v.dim_feedforward}, bias={v.bias})")

    # ------------------------------------------------------------------ activation.yaml
    def build_PReLU(self, v):
        return Built(nn.PReLU(v.num_parameters), f"nn.PReLU({v.num_parameters})")

    # ------------------------------------------------------------------ parameter_free.yaml
    def build_ReLU(self, v):
        return Built(nn.ReLU(), "nn.ReLU()")

    def build_MaxPool2d(self, v):
        return Built(nn.MaxPool2d(2), "nn.MaxPool2d(2)")

    def build_AvgPool2d(self, v):
        return Built(nn.AvgPool2d(2), "nn.AvgPool2d(2)")

    def build_AdaptiveAvgPool2d(self, v):
        return Built(nn.AdaptiveAvgPool2d(1), "nn.AdaptiveAvgPool2d(1)")

    def build_Dropout(self, v):
        return Built(nn.Dropout(0.5), "nn.Dropout(0.5)")

    def build_Flatten(self, v):
        return Built(nn.Flatten(), "nn.Flatten()")


ADAPTER_CLASS = TorchAdapter
