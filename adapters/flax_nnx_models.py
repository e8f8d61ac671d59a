"""Flax nnx model families, written natively with flax.nnx layers (no ports, no converters).

The architectures and attribute names mirror ``torch_models.py`` (torchvision's and Hugging
Face's paths: ``layer1/0/conv1/kernel``, ``encoder/layer/0/attention/self/query/kernel``).
Each builder constructs its model inside ``nnx.eval_shape``, so variables hold
``ShapeDtypeStruct`` values and no weight memory is allocated, however large the preset.
Models take ``rngs`` and keep none, so ``nnx.state`` holds only ``nnx.Param`` and
``nnx.BatchStat``. Inputs are NHWC (Flax's layout); ``model.eval()`` switches BatchNorm to its
running statistics and Dropout off, as in nnx.
"""
from __future__ import annotations

import math
from functools import partial

import jax.numpy as jnp
from flax import nnx

from .architectures import MOBILENET_V2_SETTINGS, VGG_CFGS, make_divisible
from .base import Built
from .flax_common import adaptive_avg_pool



def _config(**kwargs) -> tuple:
    """A model's constructor arguments as (name, value) pairs: static, hashable data that nnx
    keeps with the module, read back by the adapter's description of what it built."""
    return tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in kwargs.items())


class Sequential(nnx.List):
    """torch.nn.Sequential: an nnx.List called in order, so paths read ``features/0/kernel``."""

    def __call__(self, x):
        for layer in self:
            x = layer(x)
        return x


class Namespace(nnx.Module):
    """A bare container, as torch_models uses ``nn.Module()``, for Hugging Face's nested paths."""

    def __init__(self, **children):
        for name, child in children.items():
            setattr(self, name, child)


def _batch_norm(c, rngs):
    """torch.nn.BatchNorm2d's defaults: momentum 0.1 (Flax counts 1 - momentum), eps 1e-5."""
    return nnx.BatchNorm(c, momentum=0.9, epsilon=1e-5, rngs=rngs)


_max_pool_2x2 = partial(nnx.max_pool, window_shape=(2, 2), strides=(2, 2))


# ------------------------------------------------------------------ vision
class MLP(Sequential):
    def __init__(self, *, in_features, hidden_sizes, out_features, bias, rngs):
        dims = [in_features, *hidden_sizes, out_features]
        layers = []
        for i in range(len(dims) - 1):
            layers.append(nnx.Linear(dims[i], dims[i + 1], use_bias=bias, rngs=rngs))
            if i < len(dims) - 2:
                layers.append(nnx.relu)
        super().__init__(layers)
        self.config = _config(in_features=in_features, hidden_sizes=hidden_sizes, out_features=out_features, bias=bias)


class LeNet5(nnx.Module):
    def __init__(self, *, in_channels, num_classes, rngs):
        self.config = _config(in_channels=in_channels, num_classes=num_classes)
        self.conv1 = nnx.Conv(in_channels, 6, (5, 5), padding="VALID", rngs=rngs)
        self.conv2 = nnx.Conv(6, 16, (5, 5), padding="VALID", rngs=rngs)
        self.fc1 = nnx.Linear(16 * 5 * 5, 120, rngs=rngs)
        self.fc2 = nnx.Linear(120, 84, rngs=rngs)
        self.fc3 = nnx.Linear(84, num_classes, rngs=rngs)

    def __call__(self, x):  # (N, 32, 32, C)
        x = _max_pool_2x2(nnx.relu(self.conv1(x)))
        x = _max_pool_2x2(nnx.relu(self.conv2(x)))
        x = x.reshape(x.shape[0], -1)
        return self.fc3(nnx.relu(self.fc2(nnx.relu(self.fc1(x)))))


class VGG(nnx.Module):
    def __init__(self, *, cfg, batch_norm, num_classes, rngs):
        self.config = _config(cfg=cfg, batch_norm=batch_norm, num_classes=num_classes)
        layers = []
        c = 3
        for v in VGG_CFGS[cfg]:
            if v == "M":
                layers.append(_max_pool_2x2)
                continue
            layers.append(nnx.Conv(c, v, (3, 3), padding=1, rngs=rngs))
            if batch_norm:
                layers.append(_batch_norm(v, rngs))
            layers.append(nnx.relu)
            c = v
        self.features = Sequential(layers)
        self.classifier = Sequential([
            nnx.Linear(512 * 7 * 7, 4096, rngs=rngs), nnx.relu, nnx.Dropout(0.5),
            nnx.Linear(4096, 4096, rngs=rngs), nnx.relu, nnx.Dropout(0.5),
            nnx.Linear(4096, num_classes, rngs=rngs)])

    def __call__(self, x):  # (N, H, W, 3)
        x = adaptive_avg_pool(self.features(x), (7, 7))  # torchvision's AdaptiveAvgPool2d((7, 7))
        return self.classifier(x.reshape(x.shape[0], -1))


class BasicBlock(nnx.Module):
    expansion = 1

    def __init__(self, *, inplanes, planes, stride, downsample, groups, base_width, conv_bias, rngs):
        self.conv1 = nnx.Conv(inplanes, planes, (3, 3), stride, padding=1, use_bias=conv_bias, rngs=rngs)
        self.bn1 = _batch_norm(planes, rngs)
        self.conv2 = nnx.Conv(planes, planes, (3, 3), 1, padding=1, use_bias=conv_bias, rngs=rngs)
        self.bn2 = _batch_norm(planes, rngs)
        self.downsample = downsample

    def __call__(self, x):
        out = nnx.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return nnx.relu(out + (x if self.downsample is None else self.downsample(x)))


class Bottleneck(nnx.Module):
    expansion = 4

    def __init__(self, *, inplanes, planes, stride, downsample, groups, base_width, conv_bias, rngs):
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = nnx.Conv(inplanes, width, (1, 1), use_bias=conv_bias, rngs=rngs)
        self.bn1 = _batch_norm(width, rngs)
        self.conv2 = nnx.Conv(width, width, (3, 3), stride, padding=1, feature_group_count=groups,
                              use_bias=conv_bias, rngs=rngs)
        self.bn2 = _batch_norm(width, rngs)
        self.conv3 = nnx.Conv(width, planes * 4, (1, 1), use_bias=conv_bias, rngs=rngs)
        self.bn3 = _batch_norm(planes * 4, rngs)
        self.downsample = downsample

    def __call__(self, x):
        out = nnx.relu(self.bn1(self.conv1(x)))
        out = nnx.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return nnx.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet(nnx.Module):
    def __init__(self, *, block, layers, groups, width_per_group, num_classes, conv_bias, rngs):
        self.config = _config(block=block, layers=layers, groups=groups, width_per_group=width_per_group,
                              num_classes=num_classes, conv_bias=conv_bias)
        block_cls = BasicBlock if block == "basic" else Bottleneck
        inplanes = 64
        self.conv1 = nnx.Conv(3, 64, (7, 7), 2, padding=3, use_bias=conv_bias, rngs=rngs)
        self.bn1 = _batch_norm(64, rngs)
        for i, n in enumerate(layers):
            planes, stride = 64 * 2 ** i, 1 if i == 0 else 2
            downsample = None
            if stride != 1 or inplanes != planes * block_cls.expansion:
                downsample = Sequential([
                    nnx.Conv(inplanes, planes * block_cls.expansion, (1, 1), stride, use_bias=conv_bias,
                             rngs=rngs),
                    _batch_norm(planes * block_cls.expansion, rngs)])
            blocks = [block_cls(inplanes=inplanes, planes=planes, stride=stride, downsample=downsample, groups=groups,
                                base_width=width_per_group, conv_bias=conv_bias, rngs=rngs)]
            inplanes = planes * block_cls.expansion
            blocks += [block_cls(inplanes=inplanes, planes=planes, stride=1, downsample=None, groups=groups,
                                 base_width=width_per_group, conv_bias=conv_bias, rngs=rngs) for _ in range(1, n)]
            setattr(self, f"layer{i + 1}", Sequential(blocks))
        self.fc = nnx.Linear(512 * block_cls.expansion, num_classes, rngs=rngs)

    def __call__(self, x):  # (N, H, W, 3)
        x = nnx.relu(self.bn1(self.conv1(x)))
        x = nnx.max_pool(x, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(x.mean(axis=(1, 2)))


def _conv_bn(cin, cout, k, stride=1, groups=1, *, rngs):
    return Sequential([nnx.Conv(cin, cout, (k, k), stride, padding=(k - 1) // 2, feature_group_count=groups,
                                use_bias=False, rngs=rngs),
                       _batch_norm(cout, rngs), nnx.relu6])


class InvertedResidual(nnx.Module):
    def __init__(self, *, inp, oup, stride, expand_ratio, rngs):
        hidden = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(_conv_bn(inp, hidden, 1, rngs=rngs))
        layers += [_conv_bn(hidden, hidden, 3, stride, groups=hidden, rngs=rngs),
                   nnx.Conv(hidden, oup, (1, 1), 1, padding=0, use_bias=False, rngs=rngs),
                   _batch_norm(oup, rngs)]
        self.conv = Sequential(layers)

    def __call__(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nnx.Module):
    def __init__(self, *, width_mult, num_classes, rngs):
        self.config = _config(width_mult=width_mult, num_classes=num_classes)
        inp = make_divisible(32 * width_mult)
        last = make_divisible(1280 * max(1.0, width_mult))
        features = [_conv_bn(3, inp, 3, 2, rngs=rngs)]
        for t, c, n, s in MOBILENET_V2_SETTINGS:
            oup = make_divisible(c * width_mult)
            for i in range(n):
                features.append(InvertedResidual(inp=inp, oup=oup, stride=s if i == 0 else 1, expand_ratio=t,
                                                 rngs=rngs))
                inp = oup
        features.append(_conv_bn(inp, last, 1, rngs=rngs))
        self.features = Sequential(features)
        self.classifier = Sequential([nnx.Dropout(0.2), nnx.Linear(last, num_classes, rngs=rngs)])

    def __call__(self, x):  # (N, H, W, 3)
        return self.classifier(self.features(x).mean(axis=(1, 2)))


# ------------------------------------------------------------------ the course's models
class TextClassifier(nnx.Module):
    def __init__(self, *, vocab_size, embedding_dim, hidden_size, num_classes, rngs):
        self.config = _config(vocab_size=vocab_size, embedding_dim=embedding_dim, hidden_size=hidden_size,
                              num_classes=num_classes)
        self.embedding = nnx.Embed(vocab_size, embedding_dim, rngs=rngs)
        self.lstm = nnx.RNN(nnx.LSTMCell(embedding_dim, hidden_size, rngs=rngs), rngs=False)
        self.fc = nnx.Linear(hidden_size, num_classes, rngs=rngs)

    def __call__(self, input_ids):  # (N, T) -> (N, num_classes), from the last step
        zeros = jnp.zeros((input_ids.shape[0], self.lstm.cell.hidden_features))  # torch's h0 = c0 = 0
        return self.fc(self.lstm(self.embedding(input_ids), initial_carry=(zeros, zeros))[:, -1])


def _positional_encoding(seq_len, d_model):
    """The lesson's get_positional_encoding: computed, not learned."""
    position = jnp.arange(seq_len)[:, None]
    div_term = jnp.exp(jnp.arange(0, d_model, 2) * -(math.log(10000.0) / d_model))
    pe = jnp.zeros((seq_len, d_model))
    pe = pe.at[:, 0::2].set(jnp.sin(position * div_term))
    return pe.at[:, 1::2].set(jnp.cos(position * div_term)[:, : d_model // 2])


class MiniTransformerBlock(nnx.Module):
    """The lesson's EncoderBlock: MHA without biases, a ReLU FFN, two LayerNorms (post-LN)."""

    def __init__(self, *, d_model, num_heads, d_ff, rngs):
        self.attention = nnx.MultiHeadAttention(num_heads, in_features=d_model, qkv_features=d_model,
                                                out_features=d_model, use_bias=False, decode=False, rngs=rngs)
        self.ffn = Sequential([nnx.Linear(d_model, d_ff, rngs=rngs), nnx.relu,
                               nnx.Linear(d_ff, d_model, rngs=rngs)])
        self.norm1 = nnx.LayerNorm(d_model, epsilon=1e-6, rngs=rngs)
        self.norm2 = nnx.LayerNorm(d_model, epsilon=1e-6, rngs=rngs)

    def __call__(self, x):
        x = self.norm1(x + self.attention(x))
        return self.norm2(x + self.ffn(x))


class MiniTransformer(nnx.Module):
    """The lesson's TransformerEncoder. Positions are sinusoidal and computed, not learned."""

    def __init__(self, *, vocab_size, d_model, num_heads, num_layers, d_ff, rngs):
        self.config = _config(vocab_size=vocab_size, d_model=d_model, num_heads=num_heads, num_layers=num_layers,
                              d_ff=d_ff)
        self.d_model = d_model
        self.word_embeddings = nnx.Embed(vocab_size, d_model, rngs=rngs)
        self.encoder_blocks = nnx.List(MiniTransformerBlock(d_model=d_model, num_heads=num_heads, d_ff=d_ff, rngs=rngs)
                                       for _ in range(num_layers))
        self.output_layer = nnx.Linear(d_model, vocab_size, use_bias=False, rngs=rngs)

    def __call__(self, input_ids):  # (N, T) -> (N, T, vocab_size)
        x = self.word_embeddings(input_ids) + _positional_encoding(input_ids.shape[1], self.d_model)
        x = x * math.sqrt(self.d_model)
        for block in self.encoder_blocks:
            x = block(x)
        return self.output_layer(x)


# ------------------------------------------------------------------ transformers
def _heads(x, n, head_dim):
    return x.reshape(*x.shape[:-1], n, head_dim)


def _causal_mask(x):
    return nnx.make_causal_mask(jnp.ones(x.shape[:2]))


class BertLayer(nnx.Module):
    def __init__(self, *, hidden_size, num_attention_heads, intermediate_size, rngs):
        d, ff = hidden_size, intermediate_size
        self.num_attention_heads = num_attention_heads
        self.attention = Namespace()  # its child ``self`` cannot be a keyword of an nnx constructor
        self.attention.self = Namespace(query=nnx.Linear(d, d, rngs=rngs), key=nnx.Linear(d, d, rngs=rngs),
                                        value=nnx.Linear(d, d, rngs=rngs))
        self.attention.output = Namespace(dense=nnx.Linear(d, d, rngs=rngs),
                                          LayerNorm=nnx.LayerNorm(d, epsilon=1e-12, rngs=rngs))
        self.intermediate = Namespace(dense=nnx.Linear(d, ff, rngs=rngs))
        self.output = Namespace(dense=nnx.Linear(ff, d, rngs=rngs),
                                LayerNorm=nnx.LayerNorm(d, epsilon=1e-12, rngs=rngs))

    def __call__(self, x, mask=None):
        a, n = self.attention, self.num_attention_heads
        hd = x.shape[-1] // n
        ctx = nnx.dot_product_attention(_heads(a.self.query(x), n, hd), _heads(a.self.key(x), n, hd),
                                        _heads(a.self.value(x), n, hd), mask=mask)
        x = a.output.LayerNorm(a.output.dense(ctx.reshape(x.shape)) + x)
        h = nnx.gelu(self.intermediate.dense(x), approximate=False)
        return self.output.LayerNorm(self.output.dense(h) + x)


class BertModel(nnx.Module):
    def __init__(self, *, vocab_size, hidden_size, num_hidden_layers, num_attention_heads, intermediate_size,
                 max_position_embeddings, type_vocab_size, rngs):
        self.config = _config(vocab_size=vocab_size, hidden_size=hidden_size, num_hidden_layers=num_hidden_layers,
                              num_attention_heads=num_attention_heads, intermediate_size=intermediate_size,
                              max_position_embeddings=max_position_embeddings, type_vocab_size=type_vocab_size)
        d = hidden_size
        self.embeddings = Namespace(
            word_embeddings=nnx.Embed(vocab_size, d, rngs=rngs),
            position_embeddings=nnx.Embed(max_position_embeddings, d, rngs=rngs),
            token_type_embeddings=nnx.Embed(type_vocab_size, d, rngs=rngs),
            LayerNorm=nnx.LayerNorm(d, epsilon=1e-12, rngs=rngs))
        self.encoder = Namespace(layer=nnx.List(BertLayer(hidden_size=d, num_attention_heads=num_attention_heads,
                                                          intermediate_size=intermediate_size, rngs=rngs)
                                                for _ in range(num_hidden_layers)))
        self.pooler = Namespace(dense=nnx.Linear(d, d, rngs=rngs))

    def __call__(self, input_ids, token_type_ids=None, attention_mask=None):
        e = self.embeddings
        if token_type_ids is None:
            token_type_ids = jnp.zeros_like(input_ids)
        x = (e.word_embeddings(input_ids) + e.position_embeddings(jnp.arange(input_ids.shape[1]))
             + e.token_type_embeddings(token_type_ids))
        x = e.LayerNorm(x)
        mask = None if attention_mask is None else nnx.make_attention_mask(attention_mask, attention_mask)
        for layer in self.encoder.layer:
            x = layer(x, mask)
        return x, jnp.tanh(self.pooler.dense(x[:, 0]))


class GPT2Block(nnx.Module):
    def __init__(self, *, n_embd, n_head, n_inner, rngs):
        d, ff = n_embd, n_inner
        self.n_head = n_head
        self.ln_1 = nnx.LayerNorm(d, epsilon=1e-5, rngs=rngs)
        self.attn = Namespace(c_attn=nnx.Linear(d, 3 * d, rngs=rngs), c_proj=nnx.Linear(d, d, rngs=rngs))
        self.ln_2 = nnx.LayerNorm(d, epsilon=1e-5, rngs=rngs)
        self.mlp = Namespace(c_fc=nnx.Linear(d, ff, rngs=rngs), c_proj=nnx.Linear(ff, d, rngs=rngs))

    def __call__(self, x):
        n, hd = self.n_head, x.shape[-1] // self.n_head
        q, k, v = jnp.split(self.attn.c_attn(self.ln_1(x)), 3, axis=-1)
        ctx = nnx.dot_product_attention(_heads(q, n, hd), _heads(k, n, hd), _heads(v, n, hd), mask=_causal_mask(x))
        x = x + self.attn.c_proj(ctx.reshape(x.shape))
        return x + self.mlp.c_proj(nnx.gelu(self.mlp.c_fc(self.ln_2(x)), approximate=True))


class GPT2LMHeadModel(nnx.Module):
    def __init__(self, *, vocab_size, n_positions, n_embd, n_layer, n_head, n_inner, tie_word_embeddings, rngs):
        self.config = _config(vocab_size=vocab_size, n_positions=n_positions, n_embd=n_embd, n_layer=n_layer,
                              n_head=n_head, n_inner=n_inner, tie_word_embeddings=tie_word_embeddings)
        self.transformer = Namespace(
            wte=nnx.Embed(vocab_size, n_embd, rngs=rngs),
            wpe=nnx.Embed(n_positions, n_embd, rngs=rngs),
            h=nnx.List(GPT2Block(n_embd=n_embd, n_head=n_head, n_inner=n_inner or 4 * n_embd, rngs=rngs)
                       for _ in range(n_layer)),
            ln_f=nnx.LayerNorm(n_embd, epsilon=1e-5, rngs=rngs))
        # tied: the head is the token embedding itself (wte.attend), so no second variable exists
        self.lm_head = None if tie_word_embeddings else nnx.Linear(n_embd, vocab_size, use_bias=False, rngs=rngs)

    def __call__(self, input_ids):  # (N, T) -> (N, T, vocab_size)
        t = self.transformer
        x = t.wte(input_ids) + t.wpe(jnp.arange(input_ids.shape[1]))
        for block in t.h:
            x = block(x)
        x = t.ln_f(x)
        return t.wte.attend(x) if self.lm_head is None else self.lm_head(x)


def _rotate_half(x):
    x1, x2 = jnp.split(x, 2, axis=-1)
    return jnp.concatenate([-x2, x1], axis=-1)


class FlaxNnxModels:
    """The model-family builders, mixed into FlaxNnxAdapter (same names in every adapter).

    Each returns a factory of its model, ``Built(factory=lambda rngs: Model(..., rngs=rngs))``;
    the adapter calls it under ``nnx.eval_shape`` (or with real rngs, to materialize).
    """

    # ------------------------------------------------------------------ vision.yaml
    def build_mlp(self, v, x):
        return Built(factory=lambda rngs: MLP(in_features=v.in_features, hidden_sizes=v.hidden_sizes,
                                              out_features=v.out_features, bias=v.bias, rngs=rngs))

    def build_lenet5(self, v, x):
        return Built(factory=lambda rngs: LeNet5(in_channels=v.in_channels, num_classes=v.num_classes, rngs=rngs))

    def build_vgg(self, v, x):
        return Built(factory=lambda rngs: VGG(cfg=v.cfg, batch_norm=v.batch_norm, num_classes=v.num_classes,
                                              rngs=rngs))

    def build_resnet(self, v, x):
        return Built(factory=lambda rngs: ResNet(block=v.block, layers=v.layers, groups=v.groups,
                                                 width_per_group=v.width_per_group, num_classes=v.num_classes,
                                                 conv_bias=v.conv_bias, rngs=rngs))

    def build_mobilenet_v2(self, v, x):
        return Built(factory=lambda rngs: MobileNetV2(width_mult=v.width_mult, num_classes=v.num_classes, rngs=rngs))

    # ------------------------------------------------------------------ text.yaml
    def build_text_classifier(self, v, x):
        return Built(factory=lambda rngs: TextClassifier(vocab_size=v.vocab_size, embedding_dim=v.embedding_dim,
                                                         hidden_size=v.hidden_size, num_classes=v.num_classes,
                                                         rngs=rngs))

    def build_mini_transformer(self, v, x):
        return Built(factory=lambda rngs: MiniTransformer(vocab_size=v.vocab_size, d_model=v.d_model,
                                                          num_heads=v.num_heads, num_layers=v.num_layers,
                                                          d_ff=v.d_ff, rngs=rngs))

    # ------------------------------------------------------------------ transformers.yaml
    def build_bert(self, v, x):
        return Built(factory=lambda rngs: BertModel(
            vocab_size=v.vocab_size, hidden_size=v.hidden_size, num_hidden_layers=v.num_hidden_layers,
            num_attention_heads=v.num_attention_heads, intermediate_size=v.intermediate_size,
            max_position_embeddings=v.max_position_embeddings, type_vocab_size=v.type_vocab_size, rngs=rngs))

    def build_gpt2(self, v, x):
        return Built(factory=lambda rngs: GPT2LMHeadModel(
            vocab_size=v.vocab_size, n_positions=v.n_positions, n_embd=v.n_embd, n_layer=v.n_layer, n_head=v.n_head,
            n_inner=v.n_inner, tie_word_embeddings=v.tie_word_embeddings, rngs=rngs))
