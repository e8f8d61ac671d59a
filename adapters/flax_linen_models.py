"""Flax linen model families, written natively with flax.linen (channels-last, NHWC).

The same architectures as torch_models.py (torchvision's ResNet, VGG and MobileNetV2;
Hugging Face's BertModel and GPT2LMHeadModel; the course's models); the decoder family (``llama``)
and the Hugging Face families after GPT-2 are in flax_linen_decoders.py.
Submodule names follow torchvision's and Hugging Face's, with each ``nn.Sequential`` /
``nn.ModuleList`` index joined by an underscore (``layer1.0.conv1`` -> ``layer1_0/conv1``).
Variables come from the adapter's ``jax.eval_shape(module.init, ...)`` on small
``ShapeDtypeStruct`` inputs, so no weight memory is allocated at any size. A tied LM head
calls ``Embed.attend``, so the embedding table is one parameter.
"""
from __future__ import annotations

import math
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from .architectures import MOBILENET_V2_SETTINGS, VGG_CFGS, make_divisible
from .base import built
from .flax_common import adaptive_avg_pool


def _pad(k: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """torch's padding=(k - 1) // 2, explicit (flax.linen.Conv defaults to 'SAME')."""
    p = (k - 1) // 2
    return ((p, p), (p, p))


def _batch_norm(name: str) -> nn.BatchNorm:
    """torch.nn.BatchNorm2d in eval mode (torch momentum 0.1 is flax momentum 0.9)."""
    return nn.BatchNorm(use_running_average=True, momentum=0.9, epsilon=1e-5, name=name)


def _sinusoids(length: int, d: int) -> jax.Array:
    """The lesson's sinusoidal positional encoding: computed, not a parameter."""
    pos = jnp.arange(length)[:, None]
    div = jnp.exp(jnp.arange(0, d, 2) * (-math.log(10000.0) / d))
    pe = jnp.zeros((length, d))
    pe = pe.at[:, 0::2].set(jnp.sin(pos * div))
    return pe.at[:, 1::2].set(jnp.cos(pos * div)[:, : d // 2])


def _attention(q, k, v, causal: bool):
    """Scaled dot-product attention on (batch, seq, heads, head_dim)."""
    w = jnp.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(q.shape[-1])
    if causal:
        t = q.shape[1]
        w = jnp.where(jnp.tril(jnp.ones((t, t), bool)), w, jnp.finfo(w.dtype).min)
    return jnp.einsum("bhqk,bkhd->bqhd", jax.nn.softmax(w, axis=-1), v)


def _heads(x, n):
    return x.reshape(*x.shape[:-1], n, x.shape[-1] // n)


def _merge(x):
    return x.reshape(*x.shape[:-2], -1)


# ------------------------------------------------------------------ vision
class MLP(nn.Module, kw_only=True):
    hidden_sizes: Sequence[int]
    out_features: int
    bias: bool

    @nn.compact
    def __call__(self, x):
        dims = [*self.hidden_sizes, self.out_features]
        for i, d in enumerate(dims):
            x = nn.Dense(d, use_bias=self.bias, name=f"layers_{2 * i}")(x)  # torch's Sequential index
            if i < len(dims) - 1:
                x = nn.relu(x)
        return x


class LeNet5(nn.Module, kw_only=True):
    num_classes: int

    @nn.compact
    def __call__(self, x):
        x = nn.max_pool(nn.relu(nn.Conv(6, (5, 5), padding="VALID", name="conv1")(x)), (2, 2), (2, 2))
        x = nn.max_pool(nn.relu(nn.Conv(16, (5, 5), padding="VALID", name="conv2")(x)), (2, 2), (2, 2))
        x = x.reshape(x.shape[0], -1)
        x = nn.relu(nn.Dense(120, name="fc1")(x))
        x = nn.relu(nn.Dense(84, name="fc2")(x))
        return nn.Dense(self.num_classes, name="fc3")(x)


class VGG(nn.Module, kw_only=True):
    cfg: str
    batch_norm: bool
    num_classes: int

    @nn.compact
    def __call__(self, x):
        i = 0  # torch's index in the features Sequential
        for v in VGG_CFGS[self.cfg]:
            if v == "M":
                x = nn.max_pool(x, (2, 2), (2, 2))
                i += 1
                continue
            x = nn.Conv(v, (3, 3), padding=_pad(3), name=f"features_{i}")(x)
            if self.batch_norm:
                x = _batch_norm(f"features_{i + 1}")(x)
            x = nn.relu(x)
            i += 3 if self.batch_norm else 2
        x = adaptive_avg_pool(x, (7, 7)).reshape(x.shape[0], -1)
        x = nn.Dropout(0.5, deterministic=True)(nn.relu(nn.Dense(4096, name="classifier_0")(x)))
        x = nn.Dropout(0.5, deterministic=True)(nn.relu(nn.Dense(4096, name="classifier_3")(x)))
        return nn.Dense(self.num_classes, name="classifier_6")(x)


class _Block(nn.Module, kw_only=True):
    """What BasicBlock and Bottleneck take (torchvision's arguments)."""

    planes: int
    stride: int
    downsample: bool
    groups: int
    base_width: int
    conv_bias: bool


class BasicBlock(_Block):
    expansion = 1

    @nn.compact
    def __call__(self, x):
        s = (self.stride, self.stride)
        out = nn.relu(_batch_norm("bn1")(nn.Conv(self.planes, (3, 3), s, padding=_pad(3), use_bias=self.conv_bias,
                                                 name="conv1")(x)))
        out = _batch_norm("bn2")(nn.Conv(self.planes, (3, 3), padding=_pad(3), use_bias=self.conv_bias,
                                         name="conv2")(out))
        if self.downsample:
            x = _batch_norm("downsample_1")(nn.Conv(self.planes, (1, 1), s, use_bias=self.conv_bias,
                                                    name="downsample_0")(x))
        return nn.relu(out + x)


class Bottleneck(_Block):
    expansion = 4

    @nn.compact
    def __call__(self, x):
        width = int(self.planes * (self.base_width / 64.0)) * self.groups
        s = (self.stride, self.stride)
        out = nn.relu(_batch_norm("bn1")(nn.Conv(width, (1, 1), use_bias=self.conv_bias, name="conv1")(x)))
        out = nn.relu(_batch_norm("bn2")(nn.Conv(width, (3, 3), s, padding=_pad(3), feature_group_count=self.groups,
                                                 use_bias=self.conv_bias, name="conv2")(out)))
        out = _batch_norm("bn3")(nn.Conv(self.planes * 4, (1, 1), use_bias=self.conv_bias, name="conv3")(out))
        if self.downsample:
            x = _batch_norm("downsample_1")(nn.Conv(self.planes * 4, (1, 1), s, use_bias=self.conv_bias,
                                                    name="downsample_0")(x))
        return nn.relu(out + x)


class ResNet(nn.Module, kw_only=True):
    block: str
    layers: Sequence[int]
    groups: int
    width_per_group: int
    num_classes: int
    conv_bias: bool

    @nn.compact
    def __call__(self, x):
        block_cls = BasicBlock if self.block == "basic" else Bottleneck
        x = nn.relu(_batch_norm("bn1")(nn.Conv(64, (7, 7), (2, 2), padding=_pad(7), use_bias=self.conv_bias,
                                               name="conv1")(x)))
        x = nn.max_pool(x, (3, 3), (2, 2), padding=((1, 1), (1, 1)))
        inplanes = 64
        for i, n in enumerate(self.layers):
            planes, stride = 64 * 2 ** i, 1 if i == 0 else 2
            for j in range(n):
                downsample = j == 0 and (stride != 1 or inplanes != planes * block_cls.expansion)
                x = block_cls(planes=planes, stride=stride if j == 0 else 1, downsample=downsample, groups=self.groups,
                              base_width=self.width_per_group, conv_bias=self.conv_bias, name=f"layer{i + 1}_{j}")(x)
                inplanes = planes * block_cls.expansion
        x = x.mean(axis=(1, 2))  # AdaptiveAvgPool2d((1, 1))
        return nn.Dense(self.num_classes, name="fc")(x)


def _conv_bn(x, features: int, kernel: int, stride: int = 1, groups: int = 1, name: str = ""):
    """torchvision's Conv2dNormActivation(..., activation_layer=ReLU6), a Sequential: ``{name}_0`` conv,
    ``{name}_1`` BatchNorm, in the calling module's compact scope."""
    x = nn.Conv(features, (kernel, kernel), (stride, stride), padding=_pad(kernel), feature_group_count=groups,
                use_bias=False, name=f"{name}_0")(x)
    return nn.relu6(_batch_norm(f"{name}_1")(x))


class InvertedResidual(nn.Module, kw_only=True):
    inp: int
    oup: int
    stride: int
    expand_ratio: int

    @nn.compact
    def __call__(self, x):
        hidden = int(round(self.inp * self.expand_ratio))
        out, i = x, 0  # torch's index in the conv Sequential
        if self.expand_ratio != 1:
            out = _conv_bn(out, hidden, 1, name=f"conv_{i}")
            i += 1
        out = _conv_bn(out, hidden, 3, self.stride, groups=hidden, name=f"conv_{i}")
        out = nn.Conv(self.oup, (1, 1), use_bias=False, name=f"conv_{i + 1}")(out)
        out = _batch_norm(f"conv_{i + 2}")(out)
        return x + out if self.stride == 1 and self.inp == self.oup else out


class MobileNetV2(nn.Module, kw_only=True):
    width_mult: float
    num_classes: int

    @nn.compact
    def __call__(self, x):
        inp = make_divisible(32 * self.width_mult)
        last = make_divisible(1280 * max(1.0, self.width_mult))
        x = _conv_bn(x, inp, 3, 2, name="features_0")
        k = 1
        for t, c, n, s in MOBILENET_V2_SETTINGS:
            oup = make_divisible(c * self.width_mult)
            for i in range(n):
                x = InvertedResidual(inp=inp, oup=oup, stride=s if i == 0 else 1, expand_ratio=t,
                                     name=f"features_{k}")(x)
                inp, k = oup, k + 1
        x = _conv_bn(x, last, 1, name=f"features_{k}")
        x = nn.Dropout(0.2, deterministic=True)(x.mean(axis=(1, 2)))
        return nn.Dense(self.num_classes, name="classifier_1")(x)


# ------------------------------------------------------------------ the course's models
class TextClassifier(nn.Module, kw_only=True):
    vocab_size: int
    embedding_dim: int
    hidden_size: int
    num_classes: int

    @nn.compact
    def __call__(self, tokens):
        x = nn.Embed(self.vocab_size, self.embedding_dim, name="embedding")(tokens)
        x = nn.RNN(nn.LSTMCell(features=self.hidden_size, name="lstm"))(x)  # the cell holds the params: lstm/..
        return nn.Dense(self.num_classes, name="fc")(x[:, -1])


class MiniTransformerBlock(nn.Module, kw_only=True):
    """The lesson's EncoderBlock: MHA without biases, a ReLU FFN, two LayerNorms (post-LN)."""

    d_model: int
    num_heads: int
    d_ff: int

    @nn.compact
    def __call__(self, x):
        attn = nn.MultiHeadDotProductAttention(num_heads=self.num_heads, qkv_features=self.d_model,
                                               out_features=self.d_model, use_bias=False, name="attention")
        x = nn.LayerNorm(epsilon=1e-6, name="norm1")(x + attn(x, x, x))
        h = nn.Dense(self.d_model, name="ffn_2")(nn.relu(nn.Dense(self.d_ff, name="ffn_0")(x)))
        return nn.LayerNorm(epsilon=1e-6, name="norm2")(x + h)


class MiniTransformer(nn.Module, kw_only=True):
    """The lesson's TransformerEncoder. Positions are sinusoidal and computed, not learned."""

    vocab_size: int
    d_model: int
    num_heads: int
    num_layers: int
    d_ff: int

    @nn.compact
    def __call__(self, tokens):
        x = nn.Embed(self.vocab_size, self.d_model, name="word_embeddings")(tokens)
        x = x + _sinusoids(tokens.shape[1], self.d_model)
        for i in range(self.num_layers):
            x = MiniTransformerBlock(d_model=self.d_model, num_heads=self.num_heads, d_ff=self.d_ff,
                                     name=f"encoder_blocks_{i}")(x)
        return nn.Dense(self.vocab_size, use_bias=False, name="output_layer")(x)


# ------------------------------------------------------------------ transformers
class BertSelfAttention(nn.Module, kw_only=True):
    hidden_size: int
    num_attention_heads: int

    @nn.compact
    def __call__(self, x):
        q, k, v = (_heads(nn.Dense(self.hidden_size, name=n)(x), self.num_attention_heads)
                   for n in ("query", "key", "value"))
        return _merge(_attention(q, k, v, causal=False))


class BertAddNorm(nn.Module, kw_only=True):
    """HF's BertSelfOutput / BertOutput: dense, dropout, LayerNorm(x + residual)."""

    hidden_size: int

    @nn.compact
    def __call__(self, h, residual):
        return nn.LayerNorm(epsilon=1e-12, name="LayerNorm")(nn.Dense(self.hidden_size, name="dense")(h) + residual)


class BertAttention(nn.Module, kw_only=True):
    hidden_size: int
    num_attention_heads: int

    @nn.compact
    def __call__(self, x):
        return BertAddNorm(hidden_size=self.hidden_size, name="output")(
            BertSelfAttention(hidden_size=self.hidden_size, num_attention_heads=self.num_attention_heads,
                              name="self")(x), x)


class BertIntermediate(nn.Module, kw_only=True):
    intermediate_size: int

    @nn.compact
    def __call__(self, x):
        return nn.gelu(nn.Dense(self.intermediate_size, name="dense")(x), approximate=False)


class BertLayer(nn.Module, kw_only=True):
    hidden_size: int
    num_attention_heads: int
    intermediate_size: int

    @nn.compact
    def __call__(self, x):
        x = BertAttention(hidden_size=self.hidden_size, num_attention_heads=self.num_attention_heads,
                          name="attention")(x)
        return BertAddNorm(hidden_size=self.hidden_size, name="output")(
            BertIntermediate(intermediate_size=self.intermediate_size, name="intermediate")(x), x)


class BertEmbeddings(nn.Module, kw_only=True):
    vocab_size: int
    hidden_size: int
    max_position_embeddings: int
    type_vocab_size: int

    @nn.compact
    def __call__(self, tokens):
        d = self.hidden_size
        positions = jnp.arange(tokens.shape[1])[None]
        token_types = jnp.zeros_like(tokens)
        x = (nn.Embed(self.vocab_size, d, name="word_embeddings")(tokens)
             + nn.Embed(self.max_position_embeddings, d, name="position_embeddings")(positions)
             + nn.Embed(self.type_vocab_size, d, name="token_type_embeddings")(token_types))
        return nn.LayerNorm(epsilon=1e-12, name="LayerNorm")(x)


class BertEncoder(nn.Module, kw_only=True):
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int

    @nn.compact
    def __call__(self, x):
        for i in range(self.num_hidden_layers):
            x = BertLayer(hidden_size=self.hidden_size, num_attention_heads=self.num_attention_heads,
                          intermediate_size=self.intermediate_size, name=f"layer_{i}")(x)
        return x


class BertPooler(nn.Module, kw_only=True):
    hidden_size: int

    @nn.compact
    def __call__(self, x):
        return jnp.tanh(nn.Dense(self.hidden_size, name="dense")(x[:, 0]))


class BertModel(nn.Module, kw_only=True):
    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int
    type_vocab_size: int

    @nn.compact
    def __call__(self, tokens):
        x = BertEmbeddings(vocab_size=self.vocab_size, hidden_size=self.hidden_size,
                           max_position_embeddings=self.max_position_embeddings,
                           type_vocab_size=self.type_vocab_size, name="embeddings")(tokens)
        x = BertEncoder(hidden_size=self.hidden_size, num_hidden_layers=self.num_hidden_layers,
                        num_attention_heads=self.num_attention_heads, intermediate_size=self.intermediate_size,
                        name="encoder")(x)
        return x, BertPooler(hidden_size=self.hidden_size, name="pooler")(x)


class GPT2Attention(nn.Module, kw_only=True):
    n_embd: int
    n_head: int

    @nn.compact
    def __call__(self, x):
        n = self.n_head
        q, k, v = jnp.split(nn.Dense(3 * self.n_embd, name="c_attn")(x), 3, axis=-1)
        out = _attention(_heads(q, n), _heads(k, n), _heads(v, n), causal=True)
        return nn.Dense(self.n_embd, name="c_proj")(_merge(out))


class GPT2MLP(nn.Module, kw_only=True):
    n_embd: int
    n_inner: int

    @nn.compact
    def __call__(self, x):
        return nn.Dense(self.n_embd, name="c_proj")(nn.gelu(nn.Dense(self.n_inner, name="c_fc")(x), approximate=True))


class GPT2Block(nn.Module, kw_only=True):
    n_embd: int
    n_head: int
    n_inner: int

    @nn.compact
    def __call__(self, x):
        x = x + GPT2Attention(n_embd=self.n_embd, n_head=self.n_head, name="attn")(
            nn.LayerNorm(epsilon=1e-5, name="ln_1")(x))
        return x + GPT2MLP(n_embd=self.n_embd, n_inner=self.n_inner, name="mlp")(
            nn.LayerNorm(epsilon=1e-5, name="ln_2")(x))


class GPT2Model(nn.Module, kw_only=True):
    vocab_size: int
    n_positions: int
    n_embd: int
    n_layer: int
    n_head: int
    n_inner: int | None

    def setup(self):
        self.wte = nn.Embed(self.vocab_size, self.n_embd)
        self.wpe = nn.Embed(self.n_positions, self.n_embd)
        self.h = [GPT2Block(n_embd=self.n_embd, n_head=self.n_head, n_inner=self.n_inner or 4 * self.n_embd)
                  for _ in range(self.n_layer)]  # named h_0, h_1, ... by setup
        self.ln_f = nn.LayerNorm(epsilon=1e-5)

    def __call__(self, tokens):
        x = self.wte(tokens) + self.wpe(jnp.arange(tokens.shape[1])[None])
        for block in self.h:
            x = block(x)
        return self.ln_f(x)


class GPT2LMHeadModel(nn.Module, kw_only=True):
    vocab_size: int
    n_positions: int
    n_embd: int
    n_layer: int
    n_head: int
    n_inner: int | None
    tie_word_embeddings: bool

    def setup(self):
        self.transformer = GPT2Model(vocab_size=self.vocab_size, n_positions=self.n_positions, n_embd=self.n_embd,
                                     n_layer=self.n_layer, n_head=self.n_head, n_inner=self.n_inner)
        if not self.tie_word_embeddings:
            self.lm_head = nn.Dense(self.vocab_size, use_bias=False)

    def __call__(self, tokens):
        h = self.transformer(tokens)
        if self.tie_word_embeddings:
            return self.transformer.wte.attend(h)  # the head reuses the token embedding
        return self.lm_head(h)


def _rope(x: jax.Array, theta: float = 10000.0) -> jax.Array:
    """Rotary position embedding (HF's rotate_half form) on (batch, seq, heads, head_dim): no parameters."""
    t, hd = x.shape[1], x.shape[-1]
    freqs = jnp.arange(t)[:, None] * theta ** (-jnp.arange(0, hd, 2) / hd)
    angles = jnp.concatenate([freqs, freqs], axis=-1)[None, :, None, :]
    x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
    return x * jnp.cos(angles) + jnp.concatenate([-x2, x1], axis=-1) * jnp.sin(angles)


class FlaxLinenModels:
    """The model-family builders, mixed into FlaxLinenAdapter (same names in every adapter)."""

    # ------------------------------------------------------------------ vision.yaml
    def build_mlp(self, v, x):
        m = MLP(hidden_sizes=tuple(v.hidden_sizes), out_features=v.out_features, bias=v.bias)
        return built(m, *x)

    def build_lenet5(self, v, x):
        m = LeNet5(num_classes=v.num_classes)
        return built(m, *x)

    def build_vgg(self, v, x):
        m = VGG(cfg=v.cfg, batch_norm=v.batch_norm, num_classes=v.num_classes)
        return built(m, *x)

    def build_resnet(self, v, x):
        m = ResNet(block=v.block, layers=tuple(v.layers), groups=v.groups, width_per_group=v.width_per_group,
                   num_classes=v.num_classes, conv_bias=v.conv_bias)
        return built(m, *x)

    def build_mobilenet_v2(self, v, x):
        m = MobileNetV2(width_mult=v.width_mult, num_classes=v.num_classes)
        return built(m, *x)

    # ------------------------------------------------------------------ text.yaml
    def build_text_classifier(self, v, x):
        m = TextClassifier(vocab_size=v.vocab_size, embedding_dim=v.embedding_dim, hidden_size=v.hidden_size,
                           num_classes=v.num_classes)
        return built(m, *x)

    def build_mini_transformer(self, v, x):
        m = MiniTransformer(vocab_size=v.vocab_size, d_model=v.d_model, num_heads=v.num_heads,
                            num_layers=v.num_layers, d_ff=v.d_ff)
        return built(m, *x)

    # ------------------------------------------------------------------ transformers.yaml
    def build_bert(self, v, x):
        m = BertModel(vocab_size=v.vocab_size, hidden_size=v.hidden_size, num_hidden_layers=v.num_hidden_layers,
                      num_attention_heads=v.num_attention_heads, intermediate_size=v.intermediate_size,
                      max_position_embeddings=v.max_position_embeddings, type_vocab_size=v.type_vocab_size)
        return built(m, *x)

    def build_gpt2(self, v, x):
        m = GPT2LMHeadModel(vocab_size=v.vocab_size, n_positions=v.n_positions, n_embd=v.n_embd, n_layer=v.n_layer,
                            n_head=v.n_head, n_inner=v.n_inner, tie_word_embeddings=v.tie_word_embeddings)
        return built(m, *x)
