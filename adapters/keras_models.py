"""Keras 3 model families, written natively with keras.layers (no keras.applications, no KerasHub).

Each family mirrors ``torch_models.py`` (torchvision's VGG / ResNet / MobileNetV2, Hugging
Face's BertModel / GPT2LMHeadModel, the course's models), channels-last; the decoder family
(``llama``) and the Hugging Face families after GPT-2 are in keras_decoders.py.
Every model is a ``keras.layers.Layer`` whose ``build(input_shape)`` builds each sublayer
on a computed shape (no symbolic call), so the adapter's ``StatelessScope`` keeps every
variable abstract. Layers carry explicit names, and torch's namespace-only modules become
name scopes, so weight paths read like torchvision's and Hugging Face's state_dict keys
(``resnet/layer1/0/conv1/kernel``, ``bert/encoder/layer/0/attention/self/query/kernel``).

Padding is Keras's ``"same"`` where torch pads ``(k - 1) // 2`` (same output sizes; no
weight depends on it). A tied LM head reuses the Embedding's own variable (a matmul by its
transpose), so Keras lists that variable once.
"""
from __future__ import annotations

import keras
from keras import layers, ops

from .architectures import MOBILENET_V2_SETTINGS, VGG_CFGS, make_divisible
from .base import Built, Input


def _bn(name: str) -> layers.BatchNormalization:
    """torch.nn.BatchNorm2d's defaults (eps 1e-5, momentum 0.1 = Keras momentum 0.9), channels-last."""
    return layers.BatchNormalization(axis=-1, momentum=0.9, epsilon=1e-5, name=name)


def _last(shape, n: int) -> tuple:
    """``shape`` with its last axis replaced by ``n``."""
    return tuple(shape[:-1]) + (n,)


class _Chain(layers.Layer):
    """Layers applied in order (``chain``), each built on the shape the previous one computes
    (``compute_output_shape``: no symbolic call, so the StatelessScope keeps every variable abstract)."""

    chain: list

    def build(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.chain:
            layer.build(shape)
            shape = tuple(layer.compute_output_shape(shape))

    def call(self, x):
        for layer in self.chain:
            x = layer(x)
        return x

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.chain:
            shape = tuple(layer.compute_output_shape(shape))
        return shape


class _Stack(_Chain):
    """torch.nn.Sequential (and ModuleList): children named "0", "1", ..., applied in order."""

    def __init__(self, children, **kwargs):
        super().__init__(**kwargs)
        self.chain = list(children)


def _attention(q, k, v, heads: int, kv_heads: int, causal: bool):
    """Scaled dot-product attention over (batch, time, heads * head_dim) projections."""
    b, t = ops.shape(q)[0], ops.shape(q)[1]
    q = ops.reshape(q, (b, t, heads, -1))
    k = ops.reshape(k, (b, t, kv_heads, -1))
    v = ops.reshape(v, (b, t, kv_heads, -1))
    if kv_heads != heads:  # grouped-query attention: each k/v head serves heads // kv_heads queries
        k = ops.repeat(k, heads // kv_heads, axis=2)
        v = ops.repeat(v, heads // kv_heads, axis=2)
    return ops.reshape(ops.dot_product_attention(q, k, v, is_causal=causal), (b, t, -1))


# ------------------------------------------------------------------ vision
class MLP(layers.Layer):
    def __init__(self, *, hidden_sizes, out_features, bias, **kwargs):
        super().__init__(**kwargs)
        units = [*hidden_sizes, out_features]
        self.dense = [layers.Dense(u, activation="relu" if i < len(units) - 1 else None, use_bias=bias,
                                   name=f"dense_{i}") for i, u in enumerate(units)]

    def build(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.dense:
            layer.build(shape)
            shape = _last(shape, layer.units)

    def call(self, x):
        for layer in self.dense:
            x = layer(x)
        return x


class LeNet5(_Chain):
    def __init__(self, *, num_classes, **kwargs):
        super().__init__(**kwargs)
        self.conv1 = layers.Conv2D(6, 5, activation="relu", name="conv1")
        self.pool1 = layers.MaxPooling2D(2, name="pool1")
        self.conv2 = layers.Conv2D(16, 5, activation="relu", name="conv2")
        self.pool2 = layers.MaxPooling2D(2, name="pool2")
        self.flatten = layers.Flatten(name="flatten")
        self.fc1 = layers.Dense(120, activation="relu", name="fc1")
        self.fc2 = layers.Dense(84, activation="relu", name="fc2")
        self.fc3 = layers.Dense(num_classes, name="fc3")
        self.chain = [self.conv1, self.pool1, self.conv2, self.pool2, self.flatten, self.fc1, self.fc2, self.fc3]


class VGG(_Chain):
    def __init__(self, *, cfg, batch_norm, num_classes, **kwargs):
        super().__init__(**kwargs)
        features: list[layers.Layer] = []
        for v in VGG_CFGS[cfg]:
            i = str(len(features))
            if v == "M":
                features.append(layers.MaxPooling2D(2, 2, name=i))
                continue
            features.append(layers.Conv2D(v, 3, padding="same", name=i))
            if batch_norm:
                features.append(_bn(str(len(features))))
            features.append(layers.ReLU(name=str(len(features))))
        self.features = _Stack(features, name="features")
        self.avgpool = layers.AdaptiveAveragePooling2D((7, 7), name="avgpool")
        self.flatten = layers.Flatten(name="flatten")
        self.classifier = _Stack([
            layers.Dense(4096, name="0"), layers.ReLU(name="1"), layers.Dropout(0.5, name="2"),
            layers.Dense(4096, name="3"), layers.ReLU(name="4"), layers.Dropout(0.5, name="5"),
            layers.Dense(num_classes, name="6")], name="classifier")
        self.chain = [self.features, self.avgpool, self.flatten, self.classifier]


class _ResidualBlock(_Chain):
    """What BasicBlock and Bottleneck share: ``chain`` (conv, bn, ...) and an optional downsample."""

    downsample: layers.Layer | None

    def build(self, input_shape):
        super().build(input_shape)
        if self.downsample is not None:
            self.downsample.build(input_shape)


class BasicBlock(_ResidualBlock):
    expansion = 1

    def __init__(self, *, planes, stride, downsample, groups, base_width, conv_bias, **kwargs):
        super().__init__(**kwargs)
        self.conv1 = layers.Conv2D(planes, 3, stride, padding="same", use_bias=conv_bias, name="conv1")
        self.bn1 = _bn("bn1")
        self.conv2 = layers.Conv2D(planes, 3, 1, padding="same", use_bias=conv_bias, name="conv2")
        self.bn2 = _bn("bn2")
        self.downsample = downsample
        self.chain = [self.conv1, self.bn1, self.conv2, self.bn2]

    def call(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = ops.relu(self.bn1(self.conv1(x)))
        return ops.relu(self.bn2(self.conv2(out)) + identity)


class Bottleneck(_ResidualBlock):
    expansion = 4

    def __init__(self, *, planes, stride, downsample, groups, base_width, conv_bias, **kwargs):
        super().__init__(**kwargs)
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = layers.Conv2D(width, 1, use_bias=conv_bias, name="conv1")
        self.bn1 = _bn("bn1")
        self.conv2 = layers.Conv2D(width, 3, stride, padding="same", groups=groups, use_bias=conv_bias,
                                   name="conv2")
        self.bn2 = _bn("bn2")
        self.conv3 = layers.Conv2D(planes * 4, 1, use_bias=conv_bias, name="conv3")
        self.bn3 = _bn("bn3")
        self.downsample = downsample
        self.chain = [self.conv1, self.bn1, self.conv2, self.bn2, self.conv3, self.bn3]

    def call(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = ops.relu(self.bn1(self.conv1(x)))
        out = ops.relu(self.bn2(self.conv2(out)))
        return ops.relu(self.bn3(self.conv3(out)) + identity)


class ResNet(_Chain):
    def __init__(self, *, block, layers, groups, width_per_group, num_classes, conv_bias, **kwargs):
        super().__init__(**kwargs)  # ``layers``: the blocks per stage (torchvision's name); Keras's is keras.layers
        block_cls = BasicBlock if block == "basic" else Bottleneck
        inplanes = 64
        self.conv1 = keras.layers.Conv2D(64, 7, 2, padding="same", use_bias=conv_bias, name="conv1")
        self.bn1 = _bn("bn1")
        self.relu = keras.layers.ReLU(name="relu")
        self.maxpool = keras.layers.MaxPooling2D(3, 2, padding="same", name="maxpool")
        self.stages = []
        for i, n in enumerate(layers):
            planes, stride = 64 * 2 ** i, 1 if i == 0 else 2
            downsample = None
            if stride != 1 or inplanes != planes * block_cls.expansion:
                downsample = _Stack([
                    keras.layers.Conv2D(planes * block_cls.expansion, 1, stride, use_bias=conv_bias, name="0"),
                    _bn("1")], name="downsample")
            blocks = [block_cls(planes=planes, stride=stride, downsample=downsample, groups=groups,
                                base_width=width_per_group, conv_bias=conv_bias, name="0")]
            inplanes = planes * block_cls.expansion
            blocks += [block_cls(planes=planes, stride=1, downsample=None, groups=groups, base_width=width_per_group,
                                 conv_bias=conv_bias, name=str(j)) for j in range(1, n)]
            self.stages.append(_Stack(blocks, name=f"layer{i + 1}"))
        self.avgpool = keras.layers.GlobalAveragePooling2D(name="avgpool")
        self.fc = keras.layers.Dense(num_classes, name="fc")
        self.chain = [self.conv1, self.bn1, self.relu, self.maxpool, *self.stages, self.avgpool, self.fc]


def _conv_bn(cout: int, k: int, stride: int = 1, depthwise: bool = False, *, name: str) -> _Stack:
    """torchvision's Conv2dNormActivation: a bias-free conv (or depthwise conv), BatchNorm, ReLU6."""
    if depthwise:
        conv = layers.DepthwiseConv2D(k, stride, padding="same", use_bias=False, name="0")
    else:
        conv = layers.Conv2D(cout, k, stride, padding="same", use_bias=False, name="0")
    return _Stack([conv, _bn("1"), layers.ReLU(max_value=6.0, name="2")], name=name)


class InvertedResidual(layers.Layer):
    def __init__(self, *, inp, oup, stride, expand_ratio, **kwargs):
        super().__init__(**kwargs)
        hidden = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        seq: list[layers.Layer] = []
        if expand_ratio != 1:
            seq.append(_conv_bn(hidden, 1, name="0"))
        seq.append(_conv_bn(hidden, 3, stride, depthwise=True, name=str(len(seq))))
        seq.append(layers.Conv2D(oup, 1, use_bias=False, name=str(len(seq))))
        seq.append(_bn(str(len(seq))))
        self.conv = _Stack(seq, name="conv")

    def build(self, input_shape):
        self.conv.build(input_shape)

    def call(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(input_shape)


class MobileNetV2(_Chain):
    def __init__(self, *, width_mult, num_classes, **kwargs):
        super().__init__(**kwargs)
        inp = make_divisible(32 * width_mult)
        last = make_divisible(1280 * max(1.0, width_mult))
        features: list[layers.Layer] = [_conv_bn(inp, 3, 2, name="0")]
        for t, c, n, s in MOBILENET_V2_SETTINGS:
            oup = make_divisible(c * width_mult)
            for i in range(n):
                features.append(InvertedResidual(inp=inp, oup=oup, stride=s if i == 0 else 1, expand_ratio=t,
                                                 name=str(len(features))))
                inp = oup
        features.append(_conv_bn(last, 1, name=str(len(features))))
        self.features = _Stack(features, name="features")
        self.avgpool = layers.GlobalAveragePooling2D(name="avgpool")
        self.classifier = _Stack([layers.Dropout(0.2, name="0"), layers.Dense(num_classes, name="1")],
                                 name="classifier")
        self.chain = [self.features, self.avgpool, self.classifier]


# ------------------------------------------------------------------ the course's models
class TextClassifier(layers.Layer):
    def __init__(self, *, vocab_size, embedding_dim, hidden_size, num_classes, **kwargs):
        super().__init__(**kwargs)
        self.embedding = layers.Embedding(vocab_size, embedding_dim, name="embedding")
        self.lstm = layers.LSTM(hidden_size, name="lstm")
        self.fc = layers.Dense(num_classes, name="fc")

    def build(self, input_shape):  # input_shape: (batch, time) token ids
        self.embedding.build(input_shape)
        self.lstm.build(tuple(input_shape) + (self.embedding.output_dim,))
        self.fc.build((input_shape[0], self.lstm.units))

    def call(self, ids):
        return self.fc(self.lstm(self.embedding(ids)))


class MiniTransformerBlock(layers.Layer):
    """The lesson's EncoderBlock: MHA without biases, a ReLU FFN, two LayerNorms (post-LN)."""

    def __init__(self, *, d_model, num_heads, d_ff, **kwargs):
        super().__init__(**kwargs)
        self.attention = layers.MultiHeadAttention(num_heads, key_dim=d_model // num_heads, use_bias=False,
                                                   name="attention")
        self.ffn = _Stack([layers.Dense(d_ff, name="0"), layers.ReLU(name="1"), layers.Dense(d_model, name="2")],
                          name="ffn")
        self.norm1 = layers.LayerNormalization(epsilon=1e-6, name="norm1")
        self.norm2 = layers.LayerNormalization(epsilon=1e-6, name="norm2")

    def build(self, input_shape):
        self.attention.build(input_shape, input_shape)  # output_shape defaults to the query's d_model
        self.ffn.build(input_shape)
        self.norm1.build(input_shape)
        self.norm2.build(input_shape)

    def call(self, x):
        x = self.norm1(x + self.attention(x, x))
        return self.norm2(x + self.ffn(x))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


def _sinusoid(length, d_model):
    """The lesson's sinusoidal positional encoding: computed, not a weight."""
    pos = ops.expand_dims(ops.arange(length, dtype="float32"), 1)
    i = ops.arange(d_model, dtype="float32")
    angle = pos / ops.power(10000.0, (2 * ops.floor(i / 2)) / d_model)
    return ops.where(ops.mod(ops.arange(d_model), 2) == 0, ops.sin(angle), ops.cos(angle))


class MiniTransformer(layers.Layer):
    """The lesson's TransformerEncoder. Positions are sinusoidal and computed, not learned."""

    def __init__(self, *, vocab_size, d_model, num_heads, num_layers, d_ff, **kwargs):
        super().__init__(**kwargs)
        self.d_model = d_model
        self.word_embeddings = layers.Embedding(vocab_size, d_model, name="word_embeddings")
        self.encoder_blocks = _Stack([MiniTransformerBlock(d_model=d_model, num_heads=num_heads, d_ff=d_ff, name=str(i))
                                      for i in range(num_layers)], name="encoder_blocks")
        self.output_layer = layers.Dense(vocab_size, use_bias=False, name="output_layer")

    def build(self, input_shape):  # input_shape: (batch, time) token ids
        hidden = tuple(input_shape) + (self.d_model,)
        self.word_embeddings.build(input_shape)
        self.encoder_blocks.build(hidden)
        self.output_layer.build(hidden)

    def call(self, ids):
        x = self.word_embeddings(ids) + _sinusoid(ops.shape(ids)[1], self.d_model)
        return self.output_layer(self.encoder_blocks(x))


# ------------------------------------------------------------------ transformers
class BertLayer(layers.Layer):
    def __init__(self, *, hidden_size, num_attention_heads, intermediate_size, **kwargs):
        super().__init__(**kwargs)
        d, ff = hidden_size, intermediate_size
        self.heads, self.ff = num_attention_heads, ff
        self.query = layers.Dense(d, name="query")
        self.key = layers.Dense(d, name="key")
        self.value = layers.Dense(d, name="value")
        self.attention_dense = layers.Dense(d, name="dense")
        self.attention_norm = layers.LayerNormalization(epsilon=1e-12, name="LayerNorm")
        self.intermediate_dense = layers.Dense(ff, name="dense")
        self.output_dense = layers.Dense(d, name="dense")
        self.output_norm = layers.LayerNormalization(epsilon=1e-12, name="LayerNorm")

    def build(self, input_shape):
        with keras.name_scope("attention"):
            with keras.name_scope("self"):
                for layer in (self.query, self.key, self.value):
                    layer.build(input_shape)
            with keras.name_scope("output"):
                self.attention_dense.build(input_shape)
                self.attention_norm.build(input_shape)
        with keras.name_scope("intermediate"):
            self.intermediate_dense.build(input_shape)
        with keras.name_scope("output"):
            self.output_dense.build(_last(input_shape, self.ff))
            self.output_norm.build(input_shape)

    def call(self, x):
        a = _attention(self.query(x), self.key(x), self.value(x), self.heads, self.heads, causal=False)
        x = self.attention_norm(x + self.attention_dense(a))
        return self.output_norm(x + self.output_dense(ops.gelu(self.intermediate_dense(x), approximate=False)))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class BertModel(layers.Layer):
    def __init__(self, *, vocab_size, hidden_size, num_hidden_layers, num_attention_heads, intermediate_size,
                 max_position_embeddings, type_vocab_size, **kwargs):
        super().__init__(**kwargs)
        d = self.d = hidden_size
        self.word_embeddings = layers.Embedding(vocab_size, d, name="word_embeddings")
        self.position_embeddings = layers.Embedding(max_position_embeddings, d, name="position_embeddings")
        self.token_type_embeddings = layers.Embedding(type_vocab_size, d, name="token_type_embeddings")
        self.embeddings_norm = layers.LayerNormalization(epsilon=1e-12, name="LayerNorm")
        self.encoder_layers = _Stack([BertLayer(hidden_size=d, num_attention_heads=num_attention_heads,
                                                intermediate_size=intermediate_size, name=str(i))
                                      for i in range(num_hidden_layers)], name="layer")
        self.pooler_dense = layers.Dense(d, activation="tanh", name="dense")

    def build(self, input_shape):  # input_shape: (batch, time) token ids
        hidden = tuple(input_shape) + (self.d,)
        with keras.name_scope("embeddings"):
            for emb in (self.word_embeddings, self.position_embeddings, self.token_type_embeddings):
                emb.build(input_shape)
            self.embeddings_norm.build(hidden)
        with keras.name_scope("encoder"):
            self.encoder_layers.build(hidden)
        with keras.name_scope("pooler"):
            self.pooler_dense.build((input_shape[0], self.d))

    def call(self, ids, token_type_ids=None):
        positions = ops.arange(ops.shape(ids)[1])
        types = ops.zeros_like(ids) if token_type_ids is None else token_type_ids
        x = self.word_embeddings(ids) + self.position_embeddings(positions) + self.token_type_embeddings(types)
        x = self.encoder_layers(self.embeddings_norm(x))
        return x, self.pooler_dense(x[:, 0])


class GPT2Block(layers.Layer):
    def __init__(self, *, n_embd, n_head, n_inner, **kwargs):
        super().__init__(**kwargs)
        d, ff = n_embd, n_inner
        self.heads, self.ff = n_head, ff
        self.ln_1 = layers.LayerNormalization(epsilon=1e-5, name="ln_1")
        self.c_attn = layers.Dense(3 * d, name="c_attn")
        self.attn_proj = layers.Dense(d, name="c_proj")
        self.ln_2 = layers.LayerNormalization(epsilon=1e-5, name="ln_2")
        self.c_fc = layers.Dense(ff, name="c_fc")
        self.mlp_proj = layers.Dense(d, name="c_proj")

    def build(self, input_shape):
        self.ln_1.build(input_shape)
        with keras.name_scope("attn"):
            self.c_attn.build(input_shape)
            self.attn_proj.build(input_shape)
        self.ln_2.build(input_shape)
        with keras.name_scope("mlp"):
            self.c_fc.build(input_shape)
            self.mlp_proj.build(_last(input_shape, self.ff))

    def call(self, x):
        q, k, v = ops.split(self.c_attn(self.ln_1(x)), 3, axis=-1)
        x = x + self.attn_proj(_attention(q, k, v, self.heads, self.heads, causal=True))
        return x + self.mlp_proj(ops.gelu(self.c_fc(self.ln_2(x)), approximate=True))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class _LMHead:
    """A causal LM's head: untied, a Dense ``lm_head``; tied, no variable of its own (the logits
    are a matmul by the transpose of the token embedding's own ``embeddings``)."""

    lm_head: layers.Dense | None

    def _head(self, vocab_size: int, tie_word_embeddings: bool) -> None:
        self.lm_head = None if tie_word_embeddings else layers.Dense(vocab_size, use_bias=False, name="lm_head")

    def _build_head(self, hidden) -> None:
        if self.lm_head is not None:
            self.lm_head.build(hidden)

    def _logits(self, x, embedding: layers.Embedding):
        return ops.matmul(x, ops.transpose(embedding.embeddings)) if self.lm_head is None else self.lm_head(x)


class GPT2LMHeadModel(_LMHead, layers.Layer):
    def __init__(self, *, vocab_size, n_positions, n_embd, n_layer, n_head, n_inner, tie_word_embeddings, **kwargs):
        super().__init__(**kwargs)
        self.d = n_embd
        self.wte = layers.Embedding(vocab_size, n_embd, name="wte")
        self.wpe = layers.Embedding(n_positions, n_embd, name="wpe")
        self.h = _Stack([GPT2Block(n_embd=n_embd, n_head=n_head, n_inner=n_inner or 4 * n_embd, name=str(i))
                         for i in range(n_layer)], name="h")
        self.ln_f = layers.LayerNormalization(epsilon=1e-5, name="ln_f")
        self._head(vocab_size, tie_word_embeddings)

    def build(self, input_shape):  # input_shape: (batch, time) token ids
        hidden = tuple(input_shape) + (self.d,)
        with keras.name_scope("transformer"):
            self.wte.build(input_shape)
            self.wpe.build(input_shape)
            self.h.build(hidden)
            self.ln_f.build(hidden)
        self._build_head(hidden)

    def call(self, ids):
        x = self.wte(ids) + self.wpe(ops.arange(ops.shape(ids)[1]))
        return self._logits(self.ln_f(self.h(x)), self.wte)


def _built(model: layers.Layer, x: tuple[Input, ...]) -> Built:
    """``model`` built on its (one) input's shape, channels-last; nothing runs."""
    model.build(x[0].shape)
    return Built(model, tuple(x))


class KerasModels:
    """The model-family builders, mixed into KerasAdapter (same names in every adapter)."""

    # ------------------------------------------------------------------ vision.yaml
    def build_mlp(self, v, x):
        m = MLP(hidden_sizes=v.hidden_sizes, out_features=v.out_features, bias=v.bias, name="mlp")
        return _built(m, x)

    def build_lenet5(self, v, x):
        m = LeNet5(num_classes=v.num_classes, name="lenet5")
        return _built(m, x)

    def build_vgg(self, v, x):
        m = VGG(cfg=v.cfg, batch_norm=v.batch_norm, num_classes=v.num_classes, name="vgg")
        return _built(m, x)

    def build_resnet(self, v, x):
        m = ResNet(block=v.block, layers=v.layers, groups=v.groups, width_per_group=v.width_per_group,
                   num_classes=v.num_classes, conv_bias=v.conv_bias, name="resnet")
        return _built(m, x)

    def build_mobilenet_v2(self, v, x):
        m = MobileNetV2(width_mult=v.width_mult, num_classes=v.num_classes, name="mobilenet_v2")
        return _built(m, x)

    # ------------------------------------------------------------------ text.yaml
    def build_text_classifier(self, v, x):
        m = TextClassifier(vocab_size=v.vocab_size, embedding_dim=v.embedding_dim, hidden_size=v.hidden_size,
                           num_classes=v.num_classes, name="text_classifier")
        return _built(m, x)

    def build_mini_transformer(self, v, x):
        m = MiniTransformer(vocab_size=v.vocab_size, d_model=v.d_model, num_heads=v.num_heads,
                            num_layers=v.num_layers, d_ff=v.d_ff, name="mini_transformer")
        return _built(m, x)

    # ------------------------------------------------------------------ transformers.yaml
    def build_bert(self, v, x):
        m = BertModel(vocab_size=v.vocab_size, hidden_size=v.hidden_size, num_hidden_layers=v.num_hidden_layers,
                      num_attention_heads=v.num_attention_heads, intermediate_size=v.intermediate_size,
                      max_position_embeddings=v.max_position_embeddings, type_vocab_size=v.type_vocab_size,
                      name="bert")
        return _built(m, x)

    def build_gpt2(self, v, x):
        m = GPT2LMHeadModel(vocab_size=v.vocab_size, n_positions=v.n_positions, n_embd=v.n_embd, n_layer=v.n_layer,
                            n_head=v.n_head, n_inner=v.n_inner, tie_word_embeddings=v.tie_word_embeddings,
                            name="gpt2")
        return _built(m, x)
