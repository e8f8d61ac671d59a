"""Keras 3: torchvision's later vision families, written natively with keras.layers (channels-last).

MobileNetV3, EfficientNet (V1), ConvNeXt and VisionTransformer as in ``torch_vision.py``, not
keras.applications' versions (whose EfficientNet adds rescaling and normalization layers, and
whose MobileNetV3 and ConvNeXt differ from torchvision's in details). As in ``keras_models.py``,
each model is a layer whose ``build(input_shape)`` builds every sublayer on a computed shape, so
the adapter's ``StatelessScope`` keeps every variable abstract, and layer names follow
torchvision's state_dict keys (``mobilenet_v3/features/1/block/1/fc1/kernel``). Padding is
Keras's ``"same"`` where torchvision pads ``(k - 1) // 2`` (the same output sizes; at stride 2
Keras pads the far side, which lands as many kernel taps on the input). StochasticDepth is the
identity in eval mode and Keras has no such layer, so none is built.
"""
from __future__ import annotations

from keras import initializers, layers, ops

from .architectures import efficientnet_settings, make_divisible, mobilenet_v3_settings
from .keras_models import _built, _Chain, _Stack


def _bn(name: str, eps: float = 1e-5) -> layers.BatchNormalization:
    """torch.nn.BatchNorm2d (eps as torchvision sets it, momentum 0.1 = Keras momentum 0.9), channels-last."""
    return layers.BatchNormalization(axis=-1, momentum=0.9, epsilon=eps, name=name)


def _conv_norm_act(cout, k, stride=1, depthwise=False, activation=None, eps=1e-5, *, name):
    """torchvision.ops.Conv2dNormActivation: a bias-free conv (or depthwise conv), BatchNorm, activation."""
    if depthwise:
        conv = layers.DepthwiseConv2D(k, stride, padding="same", use_bias=False, name="0")
    else:
        conv = layers.Conv2D(cout, k, stride, padding="same", use_bias=False, name="0")
    chain = [conv, _bn("1", eps)]
    if activation is not None:
        chain.append(layers.Activation(activation, name="2"))
    return _Stack(chain, name=name)


class SqueezeExcitation(layers.Layer):
    """torchvision.ops.SqueezeExcitation: global average pool, fc1 (1x1 conv), activation, fc2
    (1x1 conv), scale activation; the input scaled by the result."""

    def __init__(self, *, input_channels, squeeze_channels, activation, scale_activation, **kwargs):
        super().__init__(**kwargs)
        self.fc1 = layers.Conv2D(squeeze_channels, 1, name="fc1")
        self.fc2 = layers.Conv2D(input_channels, 1, name="fc2")
        self.activation, self.scale_activation = activation, scale_activation

    def build(self, input_shape):
        pooled = (input_shape[0], 1, 1, input_shape[-1])
        self.fc1.build(pooled)
        self.fc2.build(self.fc1.compute_output_shape(pooled))

    def call(self, x):
        scale = ops.mean(x, axis=(1, 2), keepdims=True)  # AdaptiveAvgPool2d(1)
        return self.scale_activation(self.fc2(self.activation(self.fc1(scale)))) * x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class _Residual(layers.Layer):
    """A block (``block``, a Sequential) with the input added when ``use_res_connect``."""

    block: _Stack
    use_res_connect: bool

    def build(self, input_shape):
        self.block.build(input_shape)

    def call(self, x):
        return x + self.block(x) if self.use_res_connect else self.block(x)

    def compute_output_shape(self, input_shape):
        return self.block.compute_output_shape(input_shape)


# ------------------------------------------------------------------ MobileNetV3
class InvertedResidualV3(_Residual):
    """torchvision.models.mobilenetv3.InvertedResidual."""

    def __init__(self, *, input_channels, kernel, expanded_channels, out_channels, use_se, use_hs, stride, **kwargs):
        super().__init__(**kwargs)
        act = "hard_swish" if use_hs else "relu"
        chain: list[layers.Layer] = []
        if expanded_channels != input_channels:
            chain.append(_conv_norm_act(expanded_channels, 1, activation=act, eps=0.001, name="0"))
        chain.append(_conv_norm_act(expanded_channels, kernel, stride, depthwise=True, activation=act, eps=0.001,
                                    name=str(len(chain))))
        if use_se:
            chain.append(SqueezeExcitation(input_channels=expanded_channels,
                                           squeeze_channels=make_divisible(expanded_channels // 4),
                                           activation=ops.relu, scale_activation=ops.hard_sigmoid,
                                           name=str(len(chain))))
        chain.append(_conv_norm_act(out_channels, 1, eps=0.001, name=str(len(chain))))
        self.block = _Stack(chain, name="block")
        self.use_res_connect = stride == 1 and input_channels == out_channels


class MobileNetV3(_Chain):
    def __init__(self, *, arch, width_mult, reduced_tail, num_classes, **kwargs):
        super().__init__(**kwargs)
        blocks, last_channel = mobilenet_v3_settings(arch, width_mult, reduced_tail)
        features: list[layers.Layer] = [_conv_norm_act(blocks[0][0], 3, 2, activation="hard_swish", eps=0.001,
                                                       name="0")]
        for i, k, e, o, se, hs, s in blocks:
            features.append(InvertedResidualV3(input_channels=i, kernel=k, expanded_channels=e, out_channels=o,
                                               use_se=se, use_hs=hs, stride=s, name=str(len(features))))
        last_in = blocks[-1][3]
        features.append(_conv_norm_act(6 * last_in, 1, activation="hard_swish", eps=0.001, name=str(len(features))))
        self.features = _Stack(features, name="features")
        self.avgpool = layers.GlobalAveragePooling2D(name="avgpool")
        self.classifier = _Stack([layers.Dense(last_channel, name="0"), layers.Activation("hard_swish", name="1"),
                                  layers.Dropout(0.2, name="2"), layers.Dense(num_classes, name="3")],
                                 name="classifier")
        self.chain = [self.features, self.avgpool, self.classifier]


# ------------------------------------------------------------------ EfficientNet
class MBConv(_Residual):
    """torchvision.models.efficientnet.MBConv (its StochasticDepth, the identity in eval mode, is not built)."""

    def __init__(self, *, expand_ratio, kernel, stride, input_channels, out_channels, **kwargs):
        super().__init__(**kwargs)
        expanded = make_divisible(input_channels * expand_ratio)
        chain: list[layers.Layer] = []
        if expanded != input_channels:
            chain.append(_conv_norm_act(expanded, 1, activation="silu", name="0"))
        chain.append(_conv_norm_act(expanded, kernel, stride, depthwise=True, activation="silu", name=str(len(chain))))
        chain.append(SqueezeExcitation(input_channels=expanded, squeeze_channels=max(1, input_channels // 4),
                                       activation=ops.silu, scale_activation=ops.sigmoid, name=str(len(chain))))
        chain.append(_conv_norm_act(out_channels, 1, name=str(len(chain))))
        self.block = _Stack(chain, name="block")
        self.use_res_connect = stride == 1 and input_channels == out_channels


class EfficientNet(_Chain):
    def __init__(self, *, width_mult, depth_mult, num_classes, **kwargs):
        super().__init__(**kwargs)
        stages, last = efficientnet_settings(width_mult, depth_mult)
        features: list[layers.Layer] = [_conv_norm_act(stages[0][3], 3, 2, activation="silu", name="0")]
        for t, k, s, i, o, n in stages:
            features.append(_Stack([MBConv(expand_ratio=t, kernel=k, stride=s if j == 0 else 1,
                                           input_channels=i if j == 0 else o, out_channels=o, name=str(j))
                                    for j in range(n)], name=str(len(features))))
        features.append(_conv_norm_act(last, 1, activation="silu", name=str(len(features))))
        self.features = _Stack(features, name="features")
        self.avgpool = layers.GlobalAveragePooling2D(name="avgpool")
        self.classifier = _Stack([layers.Dropout(0.2, name="0"), layers.Dense(num_classes, name="1")],
                                 name="classifier")
        self.chain = [self.features, self.avgpool, self.classifier]


# ------------------------------------------------------------------ ConvNeXt
class CNBlock(layers.Layer):
    """torchvision.models.convnext.CNBlock: depthwise 7x7 conv, LayerNorm, Dense to 4 x dim, GELU,
    Dense back (torch's two permutes are no-ops channels-last), scaled by the learned
    ``layer_scale``, plus the input (its StochasticDepth, the identity in eval mode, is not built)."""

    def __init__(self, *, dim, layer_scale, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.init_scale = dim, layer_scale
        self.block = _Stack([layers.DepthwiseConv2D(7, padding="same", name="0"),
                             layers.LayerNormalization(epsilon=1e-6, name="2"), layers.Dense(4 * dim, name="3"),
                             layers.Activation("gelu", name="4"), layers.Dense(dim, name="5")], name="block")

    def build(self, input_shape):
        self.block.build(input_shape)
        self.layer_scale = self.add_weight(shape=(self.dim,), initializer=initializers.Constant(self.init_scale),
                                           name="layer_scale")

    def call(self, x):
        return self.layer_scale * self.block(x) + x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class ConvNeXt(_Chain):
    def __init__(self, *, channels, num_layers, num_classes, **kwargs):
        super().__init__(**kwargs)
        features: list[layers.Layer] = [_Stack([layers.Conv2D(channels[0], 4, 4, name="0"),
                                                layers.LayerNormalization(epsilon=1e-6, name="1")], name="0")]
        for i, (c, n) in enumerate(zip(channels, num_layers)):
            features.append(_Stack([CNBlock(dim=c, layer_scale=1e-6, name=str(j)) for j in range(n)],
                                   name=str(len(features))))
            if i + 1 < len(channels):
                features.append(_Stack([layers.LayerNormalization(epsilon=1e-6, name="0"),
                                        layers.Conv2D(channels[i + 1], 2, 2, name="1")], name=str(len(features))))
        self.features = _Stack(features, name="features")
        self.avgpool = layers.GlobalAveragePooling2D(name="avgpool")  # torch's Flatten after it is implied
        self.classifier = _Stack([layers.LayerNormalization(epsilon=1e-6, name="0"),
                                  layers.Dense(num_classes, name="2")], name="classifier")
        self.chain = [self.features, self.avgpool, self.classifier]


# ------------------------------------------------------------------ VisionTransformer
class EncoderBlock(layers.Layer):
    """torchvision.models.vision_transformer.EncoderBlock (pre-LN): keras.layers.MultiHeadAttention
    (q, k, v and output projections with biases) and the MLP (Dense, GELU, Dropout, Dense, Dropout)."""

    def __init__(self, *, num_heads, hidden_dim, mlp_dim, **kwargs):
        super().__init__(**kwargs)
        self.ln_1 = layers.LayerNormalization(epsilon=1e-6, name="ln_1")
        self.self_attention = layers.MultiHeadAttention(num_heads, key_dim=hidden_dim // num_heads,
                                                        name="self_attention")
        self.ln_2 = layers.LayerNormalization(epsilon=1e-6, name="ln_2")
        self.mlp = _Stack([layers.Dense(mlp_dim, name="0"), layers.Activation("gelu", name="1"),
                           layers.Dropout(0.0, name="2"), layers.Dense(hidden_dim, name="3"),
                           layers.Dropout(0.0, name="4")], name="mlp")

    def build(self, input_shape):
        self.ln_1.build(input_shape)
        self.self_attention.build(input_shape, input_shape)
        self.ln_2.build(input_shape)
        self.mlp.build(input_shape)

    def call(self, x):
        h = self.ln_1(x)
        x = x + self.self_attention(h, h)
        return x + self.mlp(self.ln_2(x))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class Encoder(layers.Layer):
    """torchvision's Encoder: ``pos_embedding`` (1, seq_length, hidden_dim), the blocks, ``ln``."""

    def __init__(self, *, seq_length, num_layers, num_heads, hidden_dim, mlp_dim, **kwargs):
        super().__init__(**kwargs)
        self.seq_length, self.hidden_dim = seq_length, hidden_dim
        self.encoder_layers = _Stack([EncoderBlock(num_heads=num_heads, hidden_dim=hidden_dim, mlp_dim=mlp_dim,
                                                   name=f"encoder_layer_{i}") for i in range(num_layers)],
                                     name="layers")
        self.ln = layers.LayerNormalization(epsilon=1e-6, name="ln")

    def build(self, input_shape):
        self.pos_embedding = self.add_weight(shape=(1, self.seq_length, self.hidden_dim), name="pos_embedding")
        self.encoder_layers.build(input_shape)
        self.ln.build(input_shape)

    def call(self, x):
        return self.ln(self.encoder_layers(x + self.pos_embedding))


class VisionTransformer(layers.Layer):
    def __init__(self, *, image_size, patch_size, num_layers, num_heads, hidden_dim, mlp_dim, num_classes, **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.conv_proj = layers.Conv2D(hidden_dim, patch_size, patch_size, name="conv_proj")
        self.encoder = Encoder(seq_length=(image_size // patch_size) ** 2 + 1, num_layers=num_layers,
                               num_heads=num_heads, hidden_dim=hidden_dim, mlp_dim=mlp_dim, name="encoder")
        self.heads = _Stack([layers.Dense(num_classes, name="head")], name="heads")

    def build(self, input_shape):  # (N, image_size, image_size, 3)
        self.conv_proj.build(input_shape)
        self.class_token = self.add_weight(shape=(1, 1, self.hidden_dim), initializer="zeros", name="class_token")
        self.encoder.build((input_shape[0], self.encoder.seq_length, self.hidden_dim))  # patches and the class token
        self.heads.build((input_shape[0], self.hidden_dim))

    def call(self, x):
        x = self.conv_proj(x)
        x = ops.reshape(x, (ops.shape(x)[0], -1, self.hidden_dim))
        cls = ops.broadcast_to(self.class_token, (ops.shape(x)[0], 1, self.hidden_dim))
        x = self.encoder(ops.concatenate([cls, x], axis=1))
        return self.heads(x[:, 0])


class KerasVision:
    """The builders of torchvision's later vision families, mixed into KerasAdapter (same names
    and order in every adapter's ``*_vision`` module)."""

    # ------------------------------------------------------------------ vision.yaml
    def build_mobilenet_v3(self, v, x):
        m = MobileNetV3(arch=v.arch, width_mult=v.width_mult, reduced_tail=v.reduced_tail, num_classes=v.num_classes,
                        name="mobilenet_v3")
        return _built(m, x)

    def build_efficientnet(self, v, x):
        m = EfficientNet(width_mult=v.width_mult, depth_mult=v.depth_mult, num_classes=v.num_classes,
                         name="efficientnet")
        return _built(m, x)

    def build_convnext(self, v, x):
        m = ConvNeXt(channels=v.channels, num_layers=v.num_layers, num_classes=v.num_classes, name="convnext")
        return _built(m, x)

    def build_vit(self, v, x):
        m = VisionTransformer(image_size=v.image_size, patch_size=v.patch_size, num_layers=v.num_layers,
                              num_heads=v.num_heads, hidden_dim=v.hidden_dim, mlp_dim=v.mlp_dim,
                              num_classes=v.num_classes, name="vit")
        return _built(m, x)
