"""Flax nnx: torchvision's later vision families, written natively with flax.nnx layers (NHWC).

MobileNetV3, EfficientNet (V1), ConvNeXt and VisionTransformer as in ``torch_vision.py``, with
torchvision's attribute names, so paths read like its state_dict keys
(``features/1/block/1/fc1/kernel``). Each builder returns a factory that the adapter calls under
``nnx.eval_shape``; ``model.eval()`` switches BatchNorm to its running statistics and Dropout off.
StochasticDepth is the identity in eval mode and Flax has no such layer, so none is built.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from .architectures import efficientnet_settings, make_divisible, mobilenet_v3_settings
from .base import Built
from .flax_nnx_models import Namespace, Sequential, _config


def _batch_norm(c, rngs, eps=1e-5):
    """torch.nn.BatchNorm2d (eps as torchvision sets it; torch momentum 0.1 is Flax's 0.9)."""
    return nnx.BatchNorm(c, momentum=0.9, epsilon=eps, rngs=rngs)


def _conv_norm_act(cin, cout, k, stride=1, groups=1, activation=None, eps=1e-5, *, rngs):
    """torchvision.ops.Conv2dNormActivation: a bias-free conv (padding (k - 1) // 2), BatchNorm, activation."""
    layers = [nnx.Conv(cin, cout, (k, k), stride, padding=(k - 1) // 2, feature_group_count=groups, use_bias=False,
                       rngs=rngs), _batch_norm(cout, rngs, eps)]
    return Sequential(layers + ([activation] if activation is not None else []))


class SqueezeExcitation(nnx.Module):
    """torchvision.ops.SqueezeExcitation: global average pool, fc1 (1x1 conv), activation, fc2
    (1x1 conv), scale activation; the input scaled by the result."""

    def __init__(self, *, input_channels, squeeze_channels, activation, scale_activation, rngs):
        self.fc1 = nnx.Conv(input_channels, squeeze_channels, (1, 1), rngs=rngs)
        self.fc2 = nnx.Conv(squeeze_channels, input_channels, (1, 1), rngs=rngs)
        self.activation, self.scale_activation = activation, scale_activation

    def __call__(self, x):
        scale = x.mean(axis=(1, 2), keepdims=True)  # AdaptiveAvgPool2d(1)
        return self.scale_activation(self.fc2(self.activation(self.fc1(scale)))) * x


class _Residual(nnx.Module):
    """A block (``block``, a Sequential) with the input added when ``use_res_connect``."""

    block: Sequential
    use_res_connect: bool

    def __call__(self, x):
        return x + self.block(x) if self.use_res_connect else self.block(x)


# ------------------------------------------------------------------ MobileNetV3
class InvertedResidualV3(_Residual):
    """torchvision.models.mobilenetv3.InvertedResidual."""

    def __init__(self, *, input_channels, kernel, expanded_channels, out_channels, use_se, use_hs, stride, rngs):
        act = jax.nn.hard_swish if use_hs else nnx.relu
        e = expanded_channels
        layers = []
        if e != input_channels:
            layers.append(_conv_norm_act(input_channels, e, 1, activation=act, eps=0.001, rngs=rngs))
        layers.append(_conv_norm_act(e, e, kernel, stride, groups=e, activation=act, eps=0.001, rngs=rngs))
        if use_se:
            layers.append(SqueezeExcitation(input_channels=e, squeeze_channels=make_divisible(e // 4),
                                            activation=nnx.relu, scale_activation=jax.nn.hard_sigmoid, rngs=rngs))
        layers.append(_conv_norm_act(e, out_channels, 1, eps=0.001, rngs=rngs))
        self.block = Sequential(layers)
        self.use_res_connect = stride == 1 and input_channels == out_channels


class MobileNetV3(nnx.Module):
    def __init__(self, *, arch, width_mult, reduced_tail, num_classes, rngs):
        self.config = _config(arch=arch, width_mult=width_mult, reduced_tail=reduced_tail, num_classes=num_classes)
        blocks, last_channel = mobilenet_v3_settings(arch, width_mult, reduced_tail)
        features = [_conv_norm_act(3, blocks[0][0], 3, 2, activation=jax.nn.hard_swish, eps=0.001, rngs=rngs)]
        for i, k, e, o, se, hs, s in blocks:
            features.append(InvertedResidualV3(input_channels=i, kernel=k, expanded_channels=e, out_channels=o,
                                               use_se=se, use_hs=hs, stride=s, rngs=rngs))
        last_in = blocks[-1][3]
        features.append(_conv_norm_act(last_in, 6 * last_in, 1, activation=jax.nn.hard_swish, eps=0.001, rngs=rngs))
        self.features = Sequential(features)
        self.classifier = Sequential([nnx.Linear(6 * last_in, last_channel, rngs=rngs), jax.nn.hard_swish,
                                      nnx.Dropout(0.2), nnx.Linear(last_channel, num_classes, rngs=rngs)])

    def __call__(self, x):  # (N, H, W, 3)
        return self.classifier(self.features(x).mean(axis=(1, 2)))


# ------------------------------------------------------------------ EfficientNet
class MBConv(_Residual):
    """torchvision.models.efficientnet.MBConv (its StochasticDepth, the identity in eval mode, is not built)."""

    def __init__(self, *, expand_ratio, kernel, stride, input_channels, out_channels, rngs):
        e = make_divisible(input_channels * expand_ratio)
        layers = []
        if e != input_channels:
            layers.append(_conv_norm_act(input_channels, e, 1, activation=nnx.silu, rngs=rngs))
        layers.append(_conv_norm_act(e, e, kernel, stride, groups=e, activation=nnx.silu, rngs=rngs))
        layers.append(SqueezeExcitation(input_channels=e, squeeze_channels=max(1, input_channels // 4),
                                        activation=nnx.silu, scale_activation=nnx.sigmoid, rngs=rngs))
        layers.append(_conv_norm_act(e, out_channels, 1, rngs=rngs))
        self.block = Sequential(layers)
        self.use_res_connect = stride == 1 and input_channels == out_channels


class EfficientNet(nnx.Module):
    def __init__(self, *, width_mult, depth_mult, num_classes, rngs):
        self.config = _config(width_mult=width_mult, depth_mult=depth_mult, num_classes=num_classes)
        stages, last = efficientnet_settings(width_mult, depth_mult)
        features = [_conv_norm_act(3, stages[0][3], 3, 2, activation=nnx.silu, rngs=rngs)]
        for t, k, s, i, o, n in stages:
            features.append(Sequential([MBConv(expand_ratio=t, kernel=k, stride=s if j == 0 else 1,
                                               input_channels=i if j == 0 else o, out_channels=o, rngs=rngs)
                                        for j in range(n)]))
        features.append(_conv_norm_act(stages[-1][4], last, 1, activation=nnx.silu, rngs=rngs))
        self.features = Sequential(features)
        self.classifier = Sequential([nnx.Dropout(0.2), nnx.Linear(last, num_classes, rngs=rngs)])

    def __call__(self, x):  # (N, H, W, 3)
        return self.classifier(self.features(x).mean(axis=(1, 2)))


# ------------------------------------------------------------------ ConvNeXt
def _gelu(x):
    return nnx.gelu(x, approximate=False)  # torch.nn.GELU's default, the exact erf form


def _permute(x):
    """torchvision's Permute in CNBlock (NCHW <-> NHWC): nnx is channels-last already, so the
    identity, kept so that the layers after it have torchvision's indices."""
    return x


class CNBlock(nnx.Module):
    """torchvision.models.convnext.CNBlock: depthwise 7x7 conv, LayerNorm, Linear to 4 x dim, GELU,
    Linear back, scaled by the learned ``layer_scale``, plus the input (its StochasticDepth, the
    identity in eval, is not built)."""

    def __init__(self, *, dim, layer_scale, rngs):
        self.block = Sequential([nnx.Conv(dim, dim, (7, 7), padding=3, feature_group_count=dim, rngs=rngs), _permute,
                                 nnx.LayerNorm(dim, epsilon=1e-6, rngs=rngs), nnx.Linear(dim, 4 * dim, rngs=rngs),
                                 _gelu, nnx.Linear(4 * dim, dim, rngs=rngs), _permute])
        self.layer_scale = nnx.Param(jnp.full((dim,), layer_scale))

    def __call__(self, x):
        return self.layer_scale[...] * self.block(x) + x


class ConvNeXt(nnx.Module):
    def __init__(self, *, channels, num_layers, num_classes, rngs):
        self.config = _config(channels=channels, num_layers=num_layers, num_classes=num_classes)
        features = [Sequential([nnx.Conv(3, channels[0], (4, 4), 4, padding="VALID", rngs=rngs),
                                nnx.LayerNorm(channels[0], epsilon=1e-6, rngs=rngs)])]
        for i, (c, n) in enumerate(zip(channels, num_layers)):
            features.append(Sequential([CNBlock(dim=c, layer_scale=1e-6, rngs=rngs) for _ in range(n)]))
            if i + 1 < len(channels):
                features.append(Sequential([nnx.LayerNorm(c, epsilon=1e-6, rngs=rngs),
                                            nnx.Conv(c, channels[i + 1], (2, 2), 2, padding="VALID", rngs=rngs)]))
        self.features = Sequential(features)
        self.classifier = Namespace(**{"0": nnx.LayerNorm(channels[-1], epsilon=1e-6, rngs=rngs),
                                       "2": nnx.Linear(channels[-1], num_classes, rngs=rngs)})

    def __call__(self, x):  # (N, H, W, 3)
        c = self.classifier
        return getattr(c, "2")(getattr(c, "0")(self.features(x).mean(axis=(1, 2))))


# ------------------------------------------------------------------ VisionTransformer
class EncoderBlock(nnx.Module):
    """torchvision.models.vision_transformer.EncoderBlock (pre-LN): nnx.MultiHeadAttention (q, k,
    v and out projections with biases) and the MLP (Linear, GELU, Dropout, Linear, Dropout)."""

    def __init__(self, *, num_heads, hidden_dim, mlp_dim, rngs):
        self.ln_1 = nnx.LayerNorm(hidden_dim, epsilon=1e-6, rngs=rngs)
        self.self_attention = nnx.MultiHeadAttention(num_heads, in_features=hidden_dim, qkv_features=hidden_dim,
                                                     out_features=hidden_dim, decode=False, rngs=rngs)
        self.ln_2 = nnx.LayerNorm(hidden_dim, epsilon=1e-6, rngs=rngs)
        self.mlp = Sequential([nnx.Linear(hidden_dim, mlp_dim, rngs=rngs), _gelu, nnx.Dropout(0.0),
                               nnx.Linear(mlp_dim, hidden_dim, rngs=rngs), nnx.Dropout(0.0)])

    def __call__(self, x):
        x = x + self.self_attention(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class VisionTransformer(nnx.Module):
    def __init__(self, *, image_size, patch_size, num_layers, num_heads, hidden_dim, mlp_dim, num_classes, rngs):
        self.config = _config(image_size=image_size, patch_size=patch_size, num_layers=num_layers,
                              num_heads=num_heads, hidden_dim=hidden_dim, mlp_dim=mlp_dim, num_classes=num_classes)
        seq_length = (image_size // patch_size) ** 2 + 1  # the patches and the class token
        self.conv_proj = nnx.Conv(3, hidden_dim, (patch_size, patch_size), patch_size, padding="VALID", rngs=rngs)
        self.class_token = nnx.Param(jnp.zeros((1, 1, hidden_dim)))
        self.encoder = Namespace(
            pos_embedding=nnx.Param(jnp.zeros((1, seq_length, hidden_dim))),
            layers=Namespace(**{f"encoder_layer_{i}": EncoderBlock(num_heads=num_heads, hidden_dim=hidden_dim,
                                                                   mlp_dim=mlp_dim, rngs=rngs)
                                for i in range(num_layers)}),
            ln=nnx.LayerNorm(hidden_dim, epsilon=1e-6, rngs=rngs))
        self.heads = Namespace(head=nnx.Linear(hidden_dim, num_classes, rngs=rngs))
        self.num_layers = num_layers

    def __call__(self, x):  # (N, image_size, image_size, 3)
        x = self.conv_proj(x)
        x = x.reshape(x.shape[0], -1, x.shape[-1])
        cls = jnp.broadcast_to(self.class_token[...], (x.shape[0], 1, x.shape[-1]))
        e = self.encoder
        x = jnp.concatenate([cls, x], axis=1) + e.pos_embedding[...]
        for i in range(self.num_layers):
            x = getattr(e.layers, f"encoder_layer_{i}")(x)
        return self.heads.head(e.ln(x)[:, 0])


class FlaxNnxVision:
    """The builders of torchvision's later vision families, mixed into FlaxNnxAdapter (same names
    and order in every adapter's ``*_vision`` module). Each returns a factory of its model."""

    # ------------------------------------------------------------------ vision.yaml
    def build_mobilenet_v3(self, v, x):
        return Built(factory=lambda rngs: MobileNetV3(arch=v.arch, width_mult=v.width_mult,
                                                      reduced_tail=v.reduced_tail, num_classes=v.num_classes,
                                                      rngs=rngs))

    def build_efficientnet(self, v, x):
        return Built(factory=lambda rngs: EfficientNet(width_mult=v.width_mult, depth_mult=v.depth_mult,
                                                       num_classes=v.num_classes, rngs=rngs))

    def build_convnext(self, v, x):
        return Built(factory=lambda rngs: ConvNeXt(channels=v.channels, num_layers=v.num_layers,
                                                   num_classes=v.num_classes, rngs=rngs))

    def build_vit(self, v, x):
        return Built(factory=lambda rngs: VisionTransformer(
            image_size=v.image_size, patch_size=v.patch_size, num_layers=v.num_layers, num_heads=v.num_heads,
            hidden_dim=v.hidden_dim, mlp_dim=v.mlp_dim, num_classes=v.num_classes, rngs=rngs))
