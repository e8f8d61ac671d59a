"""PyTorch: torchvision's later vision families, written natively with torch.nn (no torchvision).

MobileNetV3, EfficientNet (V1), ConvNeXt and VisionTransformer, ported from torchvision's
``torchvision/models/*.py``: module and parameter names follow torchvision's, so a reading lines
up with its state_dict keys (``features.1.0.block.1.fc1.weight``,
``encoder.layers.encoder_layer_0.self_attention.in_proj_weight``). Each ``forward`` computes what
torchvision's does in eval mode: no dropout, and StochasticDepth (EfficientNet, ConvNeXt) is the
identity, so it is not built. The adapter builds these on the meta device.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .architectures import efficientnet_settings, make_divisible, mobilenet_v3_settings
from .base import Built
from .torch_models import Configured


def _conv_norm_act(cin, cout, k, stride=1, groups=1, activation=None, eps=1e-5):
    """torchvision.ops.Conv2dNormActivation: a bias-free conv (padding (k - 1) // 2), BatchNorm2d, activation."""
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
                               nn.BatchNorm2d(cout, eps=eps)]
    if activation is not None:
        layers.append(activation())
    return nn.Sequential(*layers)


class SqueezeExcitation(nn.Module):
    """torchvision.ops.SqueezeExcitation: global average pool, fc1 (1x1 conv), activation, fc2
    (1x1 conv), scale activation; the input scaled by the result."""

    def __init__(self, *, input_channels, squeeze_channels, activation, scale_activation):
        super().__init__()
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation, self.scale_activation = activation, scale_activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = F.adaptive_avg_pool2d(x, 1)
        return self.scale_activation(self.fc2(self.activation(self.fc1(scale)))) * x


# ------------------------------------------------------------------ MobileNetV3
class InvertedResidualV3(nn.Module):
    """torchvision.models.mobilenetv3.InvertedResidual: expand (1x1, unless expanded == input),
    depthwise (k x k, stride), squeeze-excitation (optional), project (1x1, no activation)."""

    def __init__(self, *, input_channels, kernel, expanded_channels, out_channels, use_se, use_hs, stride):
        super().__init__()
        act = nn.Hardswish if use_hs else nn.ReLU
        layers: list[nn.Module] = []
        if expanded_channels != input_channels:
            layers.append(_conv_norm_act(input_channels, expanded_channels, 1, activation=act, eps=0.001))
        layers.append(_conv_norm_act(expanded_channels, expanded_channels, kernel, stride, groups=expanded_channels,
                                     activation=act, eps=0.001))
        if use_se:
            layers.append(SqueezeExcitation(input_channels=expanded_channels,
                                            squeeze_channels=make_divisible(expanded_channels // 4),
                                            activation=F.relu, scale_activation=F.hardsigmoid))
        layers.append(_conv_norm_act(expanded_channels, out_channels, 1, eps=0.001))
        self.block = nn.Sequential(*layers)
        self.use_res_connect = stride == 1 and input_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x) if self.use_res_connect else self.block(x)


class MobileNetV3(Configured, nn.Module):
    def __init__(self, *, arch, width_mult, reduced_tail, num_classes):
        super().__init__()
        self.configure(arch=arch, width_mult=width_mult, reduced_tail=reduced_tail, num_classes=num_classes)
        blocks, last_channel = mobilenet_v3_settings(arch, width_mult, reduced_tail)
        layers: list[nn.Module] = [_conv_norm_act(3, blocks[0][0], 3, 2, activation=nn.Hardswish, eps=0.001)]
        for i, k, e, o, se, hs, s in blocks:
            layers.append(InvertedResidualV3(input_channels=i, kernel=k, expanded_channels=e, out_channels=o,
                                             use_se=se, use_hs=hs, stride=s))
        last_in = blocks[-1][3]
        layers.append(_conv_norm_act(last_in, 6 * last_in, 1, activation=nn.Hardswish, eps=0.001))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Linear(6 * last_in, last_channel), nn.Hardswish(), nn.Dropout(0.2),
                                        nn.Linear(last_channel, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """torchvision.models.mobilenetv3.MobileNetV3._forward_impl. ``x``: (N, 3, H, W)."""
        x = F.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


# ------------------------------------------------------------------ EfficientNet
class MBConv(nn.Module):
    """torchvision.models.efficientnet.MBConv: expand (1x1, unless the ratio is 1), depthwise,
    squeeze-excitation (squeeze to a quarter of the block's input), project; SiLU throughout.
    Its StochasticDepth is the identity in eval mode, so it is not built."""

    def __init__(self, *, expand_ratio, kernel, stride, input_channels, out_channels):
        super().__init__()
        expanded = make_divisible(input_channels * expand_ratio)
        layers: list[nn.Module] = []
        if expanded != input_channels:
            layers.append(_conv_norm_act(input_channels, expanded, 1, activation=nn.SiLU))
        layers.append(_conv_norm_act(expanded, expanded, kernel, stride, groups=expanded, activation=nn.SiLU))
        layers.append(SqueezeExcitation(input_channels=expanded, squeeze_channels=max(1, input_channels // 4),
                                        activation=F.silu, scale_activation=torch.sigmoid))
        layers.append(_conv_norm_act(expanded, out_channels, 1))
        self.block = nn.Sequential(*layers)
        self.use_res_connect = stride == 1 and input_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x) if self.use_res_connect else self.block(x)


class EfficientNet(Configured, nn.Module):
    def __init__(self, *, width_mult, depth_mult, num_classes):
        super().__init__()
        self.configure(width_mult=width_mult, depth_mult=depth_mult, num_classes=num_classes)
        stages, last = efficientnet_settings(width_mult, depth_mult)
        layers: list[nn.Module] = [_conv_norm_act(3, stages[0][3], 3, 2, activation=nn.SiLU)]
        for t, k, s, i, o, n in stages:
            layers.append(nn.Sequential(*[MBConv(expand_ratio=t, kernel=k, stride=s if j == 0 else 1,
                                                 input_channels=i if j == 0 else o, out_channels=o)
                                          for j in range(n)]))
        layers.append(_conv_norm_act(stages[-1][4], last, 1, activation=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(last, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """torchvision.models.efficientnet.EfficientNet._forward_impl. ``x``: (N, 3, H, W)."""
        x = F.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


# ------------------------------------------------------------------ ConvNeXt
class LayerNorm2d(nn.LayerNorm):
    """torchvision.models.convnext.LayerNorm2d: LayerNorm over the channels of an NCHW tensor."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class Permute(nn.Module):
    """torchvision.ops.misc.Permute."""

    def __init__(self, *dims):
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(*self.dims)


class CNBlock(nn.Module):
    """torchvision.models.convnext.CNBlock: depthwise 7x7 conv, LayerNorm (channels-last),
    Linear to 4 x dim, GELU, Linear back, scaled by the learned layer_scale, plus the input.
    Its StochasticDepth is the identity in eval mode, so it is not built."""

    def __init__(self, *, dim, layer_scale):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim), Permute(0, 2, 3, 1), nn.LayerNorm(dim, eps=1e-6),
            nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim), Permute(0, 3, 1, 2))
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer_scale * self.block(x) + x


class ConvNeXt(Configured, nn.Module):
    def __init__(self, *, channels, num_layers, num_classes):
        super().__init__()
        self.configure(channels=channels, num_layers=num_layers, num_classes=num_classes)
        layers: list[nn.Module] = [nn.Sequential(nn.Conv2d(3, channels[0], kernel_size=4, stride=4),
                                                 LayerNorm2d(channels[0], eps=1e-6))]
        for i, (c, n) in enumerate(zip(channels, num_layers)):
            layers.append(nn.Sequential(*[CNBlock(dim=c, layer_scale=1e-6) for _ in range(n)]))
            if i + 1 < len(channels):  # torchvision's CNBlockConfig(c, out_channels=next stage's, n)
                layers.append(nn.Sequential(LayerNorm2d(c, eps=1e-6),
                                            nn.Conv2d(c, channels[i + 1], kernel_size=2, stride=2)))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(LayerNorm2d(channels[-1], eps=1e-6), nn.Flatten(1),
                                        nn.Linear(channels[-1], num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """torchvision.models.convnext.ConvNeXt._forward_impl. ``x``: (N, 3, H, W)."""
        return self.classifier(F.adaptive_avg_pool2d(self.features(x), 1))


# ------------------------------------------------------------------ VisionTransformer
class EncoderBlock(nn.Module):
    """torchvision.models.vision_transformer.EncoderBlock (pre-LN): ln_1, self_attention
    (nn.MultiheadAttention, batch-first), ln_2, mlp (torchvision.ops.MLP: Linear, GELU,
    Dropout, Linear, Dropout)."""

    def __init__(self, *, num_heads, hidden_dim, mlp_dim):
        super().__init__()
        self.ln_1 = nn.LayerNorm(hidden_dim, eps=1e-6)
        self.self_attention = nn.MultiheadAttention(hidden_dim, num_heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(hidden_dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(hidden_dim, mlp_dim), nn.GELU(), nn.Dropout(0.0),
                                 nn.Linear(mlp_dim, hidden_dim), nn.Dropout(0.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.ln_1(x)
        x = x + self.self_attention(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class VisionTransformer(Configured, nn.Module):
    def __init__(self, *, image_size, patch_size, num_layers, num_heads, hidden_dim, mlp_dim, num_classes):
        super().__init__()
        self.configure(image_size=image_size, patch_size=patch_size, num_layers=num_layers, num_heads=num_heads,
                       hidden_dim=hidden_dim, mlp_dim=mlp_dim, num_classes=num_classes)
        seq_length = (image_size // patch_size) ** 2 + 1  # the patches and the class token
        self.conv_proj = nn.Conv2d(3, hidden_dim, kernel_size=patch_size, stride=patch_size)
        self.class_token = nn.Parameter(torch.zeros(1, 1, hidden_dim))
        self.encoder = nn.Module()
        self.encoder.pos_embedding = nn.Parameter(nn.init.normal_(torch.empty(1, seq_length, hidden_dim), std=0.02))
        self.encoder.layers = nn.Sequential()
        for i in range(num_layers):
            self.encoder.layers.add_module(f"encoder_layer_{i}", EncoderBlock(num_heads=num_heads,
                                                                              hidden_dim=hidden_dim, mlp_dim=mlp_dim))
        self.encoder.ln = nn.LayerNorm(hidden_dim, eps=1e-6)
        self.heads = nn.Sequential()
        self.heads.add_module("head", nn.Linear(hidden_dim, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """torchvision.models.vision_transformer.VisionTransformer.forward: patches (conv_proj),
        the class token first, plus pos_embedding, the encoder, its LayerNorm, the head on the
        class token. ``x``: (N, 3, image_size, image_size)."""
        x = self.conv_proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = self.encoder.ln(self.encoder.layers(x + self.encoder.pos_embedding))
        return self.heads(x[:, 0])


class TorchVision:
    """The builders of torchvision's later vision families, mixed into TorchAdapter (same names
    and order in every adapter's ``*_vision`` module)."""

    # ------------------------------------------------------------------ vision.yaml
    def build_mobilenet_v3(self, v, x):
        return Built(MobileNetV3(arch=v.arch, width_mult=v.width_mult, reduced_tail=v.reduced_tail,
                                 num_classes=v.num_classes))

    def build_efficientnet(self, v, x):
        return Built(EfficientNet(width_mult=v.width_mult, depth_mult=v.depth_mult, num_classes=v.num_classes))

    def build_convnext(self, v, x):
        return Built(ConvNeXt(channels=v.channels, num_layers=v.num_layers, num_classes=v.num_classes))

    def build_vit(self, v, x):
        return Built(VisionTransformer(image_size=v.image_size, patch_size=v.patch_size, num_layers=v.num_layers,
                                       num_heads=v.num_heads, hidden_dim=v.hidden_dim, mlp_dim=v.mlp_dim,
                                       num_classes=v.num_classes))
