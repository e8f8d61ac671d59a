"""Flax linen: torchvision's later vision families, written natively with flax.linen (NHWC).

MobileNetV3, EfficientNet (V1), ConvNeXt and VisionTransformer as in ``torch_vision.py``.
Submodule names follow torchvision's state_dict keys, with each ``nn.Sequential`` index joined
by an underscore, as in ``flax_linen_models.py`` (``features.1.block.1.fc1`` ->
``features_1/block_1/fc1``). Convolutions pad ``(k - 1) // 2`` explicitly, as torch does
(flax.linen.Conv defaults to 'SAME'). StochasticDepth is the identity in eval mode and Flax has
no such layer, so none is built.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from .architectures import efficientnet_settings, make_divisible, mobilenet_v3_settings
from .base import built
from .flax_linen_models import _pad


def _batch_norm(name: str, eps: float = 1e-5) -> nn.BatchNorm:
    """torch.nn.BatchNorm2d in eval mode (eps as torchvision sets it; torch momentum 0.1 is flax momentum 0.9)."""
    return nn.BatchNorm(use_running_average=True, momentum=0.9, epsilon=eps, name=name)


def _conv_norm_act(x, features: int, kernel: int, stride: int = 1, groups: int = 1,
                   activation: Callable | None = None, eps: float = 1e-5, name: str = ""):
    """torchvision.ops.Conv2dNormActivation, a Sequential: ``{name}_0`` conv (bias-free),
    ``{name}_1`` BatchNorm, then the activation, in the calling module's compact scope."""
    x = nn.Conv(features, (kernel, kernel), (stride, stride), padding=_pad(kernel), feature_group_count=groups,
                use_bias=False, name=f"{name}_0")(x)
    x = _batch_norm(f"{name}_1", eps)(x)
    return x if activation is None else activation(x)


class SqueezeExcitation(nn.Module, kw_only=True):
    """torchvision.ops.SqueezeExcitation: global average pool, fc1 (1x1 conv), activation, fc2
    (1x1 conv), scale activation; the input scaled by the result."""

    input_channels: int
    squeeze_channels: int
    activation: Callable
    scale_activation: Callable

    @nn.compact
    def __call__(self, x):
        scale = x.mean(axis=(1, 2), keepdims=True)  # AdaptiveAvgPool2d(1)
        scale = self.activation(nn.Conv(self.squeeze_channels, (1, 1), name="fc1")(scale))
        return self.scale_activation(nn.Conv(self.input_channels, (1, 1), name="fc2")(scale)) * x


# ------------------------------------------------------------------ MobileNetV3
class InvertedResidualV3(nn.Module, kw_only=True):
    """torchvision.models.mobilenetv3.InvertedResidual."""

    input_channels: int
    kernel: int
    expanded_channels: int
    out_channels: int
    use_se: bool
    use_hs: bool
    stride: int

    @nn.compact
    def __call__(self, x):
        act = jax.nn.hard_swish if self.use_hs else nn.relu
        e, i = self.expanded_channels, 0  # torch's index in the block Sequential
        out = x
        if e != self.input_channels:
            out = _conv_norm_act(out, e, 1, activation=act, eps=0.001, name="block_0")
            i += 1
        out = _conv_norm_act(out, e, self.kernel, self.stride, groups=e, activation=act, eps=0.001, name=f"block_{i}")
        if self.use_se:
            i += 1
            out = SqueezeExcitation(input_channels=e, squeeze_channels=make_divisible(e // 4), activation=nn.relu,
                                    scale_activation=jax.nn.hard_sigmoid, name=f"block_{i}")(out)
        out = _conv_norm_act(out, self.out_channels, 1, eps=0.001, name=f"block_{i + 1}")
        return x + out if self.stride == 1 and self.input_channels == self.out_channels else out


class MobileNetV3(nn.Module, kw_only=True):
    arch: str
    width_mult: float
    reduced_tail: bool
    num_classes: int

    @nn.compact
    def __call__(self, x):
        blocks, last_channel = mobilenet_v3_settings(self.arch, self.width_mult, self.reduced_tail)
        x = _conv_norm_act(x, blocks[0][0], 3, 2, activation=jax.nn.hard_swish, eps=0.001, name="features_0")
        for j, (i, k, e, o, se, hs, s) in enumerate(blocks):
            x = InvertedResidualV3(input_channels=i, kernel=k, expanded_channels=e, out_channels=o, use_se=se,
                                   use_hs=hs, stride=s, name=f"features_{j + 1}")(x)
        last_in = blocks[-1][3]
        x = _conv_norm_act(x, 6 * last_in, 1, activation=jax.nn.hard_swish, eps=0.001,
                           name=f"features_{len(blocks) + 1}")
        x = jax.nn.hard_swish(nn.Dense(last_channel, name="classifier_0")(x.mean(axis=(1, 2))))
        x = nn.Dropout(0.2, deterministic=True)(x)
        return nn.Dense(self.num_classes, name="classifier_3")(x)


# ------------------------------------------------------------------ EfficientNet
class MBConv(nn.Module, kw_only=True):
    """torchvision.models.efficientnet.MBConv (its StochasticDepth, the identity in eval mode, is not built)."""

    expand_ratio: int
    kernel: int
    stride: int
    input_channels: int
    out_channels: int

    @nn.compact
    def __call__(self, x):
        e, i = make_divisible(self.input_channels * self.expand_ratio), 0  # torch's index in the block Sequential
        out = x
        if e != self.input_channels:
            out = _conv_norm_act(out, e, 1, activation=nn.silu, name="block_0")
            i += 1
        out = _conv_norm_act(out, e, self.kernel, self.stride, groups=e, activation=nn.silu, name=f"block_{i}")
        out = SqueezeExcitation(input_channels=e, squeeze_channels=max(1, self.input_channels // 4),
                                activation=nn.silu, scale_activation=nn.sigmoid, name=f"block_{i + 1}")(out)
        out = _conv_norm_act(out, self.out_channels, 1, name=f"block_{i + 2}")
        return x + out if self.stride == 1 and self.input_channels == self.out_channels else out


class EfficientNet(nn.Module, kw_only=True):
    width_mult: float
    depth_mult: float
    num_classes: int

    @nn.compact
    def __call__(self, x):
        stages, last = efficientnet_settings(self.width_mult, self.depth_mult)
        x = _conv_norm_act(x, stages[0][3], 3, 2, activation=nn.silu, name="features_0")
        for g, (t, k, s, i, o, n) in enumerate(stages):
            for j in range(n):
                x = MBConv(expand_ratio=t, kernel=k, stride=s if j == 0 else 1, input_channels=i if j == 0 else o,
                           out_channels=o, name=f"features_{g + 1}_{j}")(x)
        x = _conv_norm_act(x, last, 1, activation=nn.silu, name=f"features_{len(stages) + 1}")
        x = nn.Dropout(0.2, deterministic=True)(x.mean(axis=(1, 2)))
        return nn.Dense(self.num_classes, name="classifier_1")(x)


# ------------------------------------------------------------------ ConvNeXt
class CNBlock(nn.Module, kw_only=True):
    """torchvision.models.convnext.CNBlock: depthwise 7x7 conv, LayerNorm, Dense to 4 x dim, GELU
    (exact, as torch's), Dense back (torch's permutes are no-ops channels-last), scaled by the
    learned ``layer_scale``, plus the input (its StochasticDepth, the identity in eval, is not built)."""

    dim: int
    layer_scale: float

    @nn.compact
    def __call__(self, x):
        h = nn.Conv(self.dim, (7, 7), padding=_pad(7), feature_group_count=self.dim, name="block_0")(x)
        h = nn.LayerNorm(epsilon=1e-6, name="block_2")(h)
        h = nn.gelu(nn.Dense(4 * self.dim, name="block_3")(h), approximate=False)
        h = nn.Dense(self.dim, name="block_5")(h)
        scale = self.param("layer_scale", nn.initializers.constant(self.layer_scale), (self.dim,))
        return scale * h + x


class ConvNeXt(nn.Module, kw_only=True):
    channels: Sequence[int]
    num_layers: Sequence[int]
    num_classes: int

    @nn.compact
    def __call__(self, x):
        x = nn.Conv(self.channels[0], (4, 4), (4, 4), padding="VALID", name="features_0_0")(x)
        x = nn.LayerNorm(epsilon=1e-6, name="features_0_1")(x)
        k = 1  # torch's index in the features Sequential
        for i, (c, n) in enumerate(zip(self.channels, self.num_layers)):
            for j in range(n):
                x = CNBlock(dim=c, layer_scale=1e-6, name=f"features_{k}_{j}")(x)
            k += 1
            if i + 1 < len(self.channels):
                x = nn.LayerNorm(epsilon=1e-6, name=f"features_{k}_0")(x)
                x = nn.Conv(self.channels[i + 1], (2, 2), (2, 2), padding="VALID", name=f"features_{k}_1")(x)
                k += 1
        x = nn.LayerNorm(epsilon=1e-6, name="classifier_0")(x.mean(axis=(1, 2)))
        return nn.Dense(self.num_classes, name="classifier_2")(x)


# ------------------------------------------------------------------ VisionTransformer
class EncoderBlock(nn.Module, kw_only=True):
    """torchvision.models.vision_transformer.EncoderBlock (pre-LN): flax.linen's
    MultiHeadDotProductAttention (q, k, v and out projections with biases) and the MLP."""

    num_heads: int
    hidden_dim: int
    mlp_dim: int

    @nn.compact
    def __call__(self, x):
        h = nn.LayerNorm(epsilon=1e-6, name="ln_1")(x)
        x = x + nn.MultiHeadDotProductAttention(num_heads=self.num_heads, qkv_features=self.hidden_dim,
                                                out_features=self.hidden_dim, name="self_attention")(h, h)
        h = nn.LayerNorm(epsilon=1e-6, name="ln_2")(x)
        h = nn.gelu(nn.Dense(self.mlp_dim, name="mlp_0")(h), approximate=False)
        return x + nn.Dense(self.hidden_dim, name="mlp_3")(h)


class Encoder(nn.Module, kw_only=True):
    """torchvision's Encoder: ``pos_embedding`` (1, seq_length, hidden_dim), the blocks, ``ln``."""

    seq_length: int
    num_layers: int
    num_heads: int
    hidden_dim: int
    mlp_dim: int

    @nn.compact
    def __call__(self, x):
        pos = self.param("pos_embedding", nn.initializers.normal(0.02), (1, self.seq_length, self.hidden_dim))
        x = x + pos
        for i in range(self.num_layers):
            x = EncoderBlock(num_heads=self.num_heads, hidden_dim=self.hidden_dim, mlp_dim=self.mlp_dim,
                             name=f"layers_encoder_layer_{i}")(x)
        return nn.LayerNorm(epsilon=1e-6, name="ln")(x)


class VisionTransformer(nn.Module, kw_only=True):
    image_size: int
    patch_size: int
    num_layers: int
    num_heads: int
    hidden_dim: int
    mlp_dim: int
    num_classes: int

    @nn.compact
    def __call__(self, x: Any):  # (N, image_size, image_size, 3)
        p = self.patch_size
        x = nn.Conv(self.hidden_dim, (p, p), (p, p), padding="VALID", name="conv_proj")(x)
        x = x.reshape(x.shape[0], -1, self.hidden_dim)
        cls = self.param("class_token", nn.initializers.zeros, (1, 1, self.hidden_dim))
        x = jnp.concatenate([jnp.broadcast_to(cls, (x.shape[0], 1, self.hidden_dim)), x], axis=1)
        x = Encoder(seq_length=(self.image_size // p) ** 2 + 1, num_layers=self.num_layers, num_heads=self.num_heads,
                    hidden_dim=self.hidden_dim, mlp_dim=self.mlp_dim, name="encoder")(x)
        return nn.Dense(self.num_classes, name="heads_head")(x[:, 0])


class FlaxLinenVision:
    """The builders of torchvision's later vision families, mixed into FlaxLinenAdapter (same
    names and order in every adapter's ``*_vision`` module)."""

    # ------------------------------------------------------------------ vision.yaml
    def build_mobilenet_v3(self, v, x):
        m = MobileNetV3(arch=v.arch, width_mult=v.width_mult, reduced_tail=v.reduced_tail, num_classes=v.num_classes)
        return built(m, *x)

    def build_efficientnet(self, v, x):
        m = EfficientNet(width_mult=v.width_mult, depth_mult=v.depth_mult, num_classes=v.num_classes)
        return built(m, *x)

    def build_convnext(self, v, x):
        m = ConvNeXt(channels=tuple(v.channels), num_layers=tuple(v.num_layers), num_classes=v.num_classes)
        return built(m, *x)

    def build_vit(self, v, x):
        m = VisionTransformer(image_size=v.image_size, patch_size=v.patch_size, num_layers=v.num_layers,
                              num_heads=v.num_heads, hidden_dim=v.hidden_dim, mlp_dim=v.mlp_dim,
                              num_classes=v.num_classes)
        return built(m, *x)
