"""PyTorch model families, written natively with torch.nn (no torchvision, no transformers).

Module and parameter names follow torchvision's and Hugging Face's, so a reading lines up
with their state_dict keys. The adapter builds these on the meta device. The decoder family
(``llama``) and the Hugging Face families after GPT-2 are in torch_decoders.py.

Each model's ``forward`` computes what its reference computes (eval mode: no dropout), so the
FLOPs ``torch.utils.flop_counter.FlopCounterMode`` counts for it are the reference's. Whatever
depends on positions (position ids, sinusoids, rotary cos/sin, causal masks) is computed in
``forward`` on the input's device, never stored, so it runs on the meta device and adds no buffer.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .architectures import MOBILENET_V2_SETTINGS, VGG_CFGS, make_divisible
from .base import Built


class Configured:
    """A model class that keeps its constructor's arguments (``config``): its repr, and so
    the adapter's description of what it built, shows them."""

    config: dict

    def configure(self, **config) -> None:
        self.config = {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()}

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.config.items())


def _split_heads(x: torch.Tensor, head_dim: int) -> torch.Tensor:
    """(N, T, heads * head_dim) -> (N, heads, T, head_dim)."""
    return x.view(*x.shape[:-1], -1, head_dim).transpose(1, 2)


def _merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(N, heads, T, head_dim) -> (N, T, heads * head_dim)."""
    return x.transpose(1, 2).reshape(x.shape[0], x.shape[2], -1)


class SelectiveRecompute:
    """Selective activation recomputation (Korthikanti et al. 2022, section 5), for a training
    step: while active, every attention core (:func:`_attention`) runs under
    ``torch.utils.checkpoint``, so its s x s scores and probabilities are not kept for backward
    but recomputed from q, k and v. ``cores`` counts the cores it checkpointed."""

    active: "SelectiveRecompute | None" = None

    def __init__(self) -> None:
        self.cores = 0

    def __enter__(self) -> "SelectiveRecompute":
        SelectiveRecompute.active = self
        return self

    def __exit__(self, *exc) -> None:
        SelectiveRecompute.active = None


def _attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool) -> torch.Tensor:
    """Hugging Face's ``eager_attention_forward``: softmax(q @ k^T / sqrt(head_dim)) @ v, with
    explicit matmuls (FlopCounterMode counts them as bmm, as it does HF's sdpa on the meta
    device, where sdpa runs its math path). ``causal`` masks the future positions. Under
    :class:`SelectiveRecompute`, checkpointed."""
    selective = SelectiveRecompute.active
    if selective is not None:
        from torch.utils.checkpoint import checkpoint

        selective.cores += 1
        return checkpoint(_attention_core, q, k, v, causal, use_reentrant=False)
    return _attention_core(q, k, v, causal)


def _attention_core(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool) -> torch.Tensor:
    scores = torch.matmul(q, k.transpose(-1, -2)) * q.shape[-1] ** -0.5
    if causal:
        t_q, t_k = scores.shape[-2:]
        future = torch.ones(t_q, t_k, dtype=torch.bool, device=q.device).triu(t_k - t_q + 1)
        scores = scores.masked_fill(future, torch.finfo(scores.dtype).min)
    return torch.matmul(F.softmax(scores, dim=-1), v)


# ------------------------------------------------------------------ vision
class MLP(Configured, nn.Sequential):
    def __init__(self, *, in_features, hidden_sizes, out_features, bias):
        dims = [in_features, *hidden_sizes, out_features]
        layers: list[nn.Module] = []
        for i in range(len(dims) - 1):
            layers.append(nn.Linear(dims[i], dims[i + 1], bias=bias))
            if i < len(dims) - 2:
                layers.append(nn.ReLU())
        super().__init__(*layers)
        self.configure(in_features=in_features, hidden_sizes=hidden_sizes, out_features=out_features, bias=bias)

    # forward: nn.Sequential's, the layers in order


class LeNet5(Configured, nn.Module):
    def __init__(self, *, in_channels, num_classes):
        super().__init__()
        self.configure(in_channels=in_channels, num_classes=num_classes)
        self.conv1 = nn.Conv2d(in_channels, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """LeNet-5 (the classic PyTorch tutorial's): two conv-ReLU-2x2-max-pool stages, then
        three Linear layers. ``x``: (N, in_channels, 32, 32)."""
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class VGG(Configured, nn.Module):
    def __init__(self, *, cfg, batch_norm, num_classes):
        super().__init__()
        self.configure(cfg=cfg, batch_norm=batch_norm, num_classes=num_classes)
        layers: list[nn.Module] = []
        c = 3
        for v in VGG_CFGS[cfg]:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
                continue
            layers.append(nn.Conv2d(c, v, 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(v))
            layers.append(nn.ReLU(inplace=True))
            c = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(),
            nn.Linear(4096, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """torchvision.models.vgg.VGG.forward. ``x``: (N, 3, H, W)."""
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, *, inplanes, planes, stride, downsample, groups, base_width, conv_bias):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=conv_bias)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=conv_bias)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """torchvision.models.resnet.BasicBlock.forward: ReLU after the residual add."""
        identity = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, *, inplanes, planes, stride, downsample, groups, base_width, conv_bias):
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=conv_bias)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=conv_bias)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * 4, 1, bias=conv_bias)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """torchvision.models.resnet.Bottleneck.forward (v1.5: the stride is on the 3x3 conv)."""
        identity = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + identity)


class ResNet(Configured, nn.Module):
    def __init__(self, *, block, layers, groups, width_per_group, num_classes, conv_bias):
        super().__init__()
        self.configure(block=block, layers=layers, groups=groups, width_per_group=width_per_group,
                       num_classes=num_classes, conv_bias=conv_bias)
        block_cls = BasicBlock if block == "basic" else Bottleneck
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=conv_bias)
        self.bn1 = nn.BatchNorm2d(64)
        for i, n in enumerate(layers):
            planes, stride = 64 * 2 ** i, 1 if i == 0 else 2
            downsample = None
            if stride != 1 or self.inplanes != planes * block_cls.expansion:
                downsample = nn.Sequential(
                    nn.Conv2d(self.inplanes, planes * block_cls.expansion, 1, stride, bias=conv_bias),
                    nn.BatchNorm2d(planes * block_cls.expansion))
            blocks = [block_cls(inplanes=self.inplanes, planes=planes, stride=stride, downsample=downsample,
                                groups=groups, base_width=width_per_group, conv_bias=conv_bias)]
            self.inplanes = planes * block_cls.expansion
            blocks += [block_cls(inplanes=self.inplanes, planes=planes, stride=1, downsample=None, groups=groups,
                                 base_width=width_per_group, conv_bias=conv_bias) for _ in range(1, n)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block_cls.expansion, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """torchvision.models.resnet.ResNet._forward_impl. torchvision's parameter-free ``relu``
        and ``maxpool`` modules are applied functionally here, which leaves the module tree
        as it was. ``x``: (N, 3, H, W)."""
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2, padding=1)
        for i in range(1, 5):
            x = getattr(self, f"layer{i}")(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def _conv_bn(cin, cout, k, stride=1, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, *, inp, oup, stride, expand_ratio):
        super().__init__()
        hidden = int(round(inp * expand_ratio))
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(_conv_bn(inp, hidden, 1))
        layers += [_conv_bn(hidden, hidden, 3, stride, groups=hidden),
                   nn.Conv2d(hidden, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)
        self.use_res_connect = stride == 1 and inp == oup

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """torchvision.models.mobilenetv2.InvertedResidual.forward."""
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(Configured, nn.Module):
    def __init__(self, *, width_mult, num_classes):
        super().__init__()
        self.configure(width_mult=width_mult, num_classes=num_classes)
        inp = make_divisible(32 * width_mult)
        last = make_divisible(1280 * max(1.0, width_mult))
        features: list[nn.Module] = [_conv_bn(3, inp, 3, 2)]
        for t, c, n, s in MOBILENET_V2_SETTINGS:
            oup = make_divisible(c * width_mult)
            for i in range(n):
                features.append(InvertedResidual(inp=inp, oup=oup, stride=s if i == 0 else 1, expand_ratio=t))
                inp = oup
        features.append(_conv_bn(inp, last, 1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(last, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """torchvision.models.mobilenetv2.MobileNetV2._forward_impl. ``x``: (N, 3, H, W)."""
        x = self.features(x)
        x = F.adaptive_avg_pool2d(x, (1, 1))
        x = torch.flatten(x, 1)
        return self.classifier(x)


# ------------------------------------------------------------------ the course's models
class TextClassifier(Configured, nn.Module):
    def __init__(self, *, vocab_size, embedding_dim, hidden_size, num_classes):
        super().__init__()
        self.configure(vocab_size=vocab_size, embedding_dim=embedding_dim, hidden_size=hidden_size,
                       num_classes=num_classes)
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, num_classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """The course's worked example (ch4): Embedding -> LSTM -> the last time step's output
        (Keras' LSTM without return_sequences) -> Linear. ``ids``: (N, T) token ids."""
        out, _ = self.lstm(self.embedding(ids))
        return self.fc(out[:, -1])


class MiniTransformerBlock(nn.Module):
    """The lesson's EncoderBlock: MHA without biases, a ReLU FFN, two LayerNorms (post-LN)."""

    def __init__(self, *, d_model, num_heads, d_ff):
        super().__init__()
        self.attention = nn.MultiheadAttention(d_model, num_heads, bias=False, batch_first=True)
        self.ffn = nn.Sequential(nn.Linear(d_model, d_ff), nn.ReLU(), nn.Linear(d_ff, d_model))
        self.norm1 = nn.LayerNorm(d_model, eps=1e-6)
        self.norm2 = nn.LayerNorm(d_model, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The lesson's EncoderBlock.forward (no mask): post-LN attention, then post-LN FFN."""
        x = self.norm1(x + self.attention(x, x, x, need_weights=False)[0])
        return self.norm2(x + self.ffn(x))


def sinusoidal_positions(seq_len: int, d_model: int, device=None) -> torch.Tensor:
    """The lesson's get_positional_encoding: (seq_len, d_model), sin on the even features and
    cos on the odd ones, at frequencies 10000 ** (-2i / d_model)."""
    position = torch.arange(seq_len, dtype=torch.float32, device=device)[:, None]
    div_term = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32, device=device)
                         * -(math.log(10000.0) / d_model))
    angles = position * div_term
    pe = torch.zeros(seq_len, d_model, device=device)
    pe[:, 0::2] = torch.sin(angles)
    pe[:, 1::2] = torch.cos(angles[:, :d_model // 2])
    return pe


class MiniTransformer(Configured, nn.Module):
    """The lesson's TransformerEncoder. Positions are sinusoidal and computed, not learned."""

    def __init__(self, *, vocab_size, d_model, num_heads, num_layers, d_ff):
        super().__init__()
        self.configure(vocab_size=vocab_size, d_model=d_model, num_heads=num_heads, num_layers=num_layers, d_ff=d_ff)
        self.word_embeddings = nn.Embedding(vocab_size, d_model)
        self.encoder_blocks = nn.ModuleList(MiniTransformerBlock(d_model=d_model, num_heads=num_heads, d_ff=d_ff)
                                            for _ in range(num_layers))
        self.output_layer = nn.Linear(d_model, vocab_size, bias=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """The lesson's TransformerEncoder.forward: (embeddings + sinusoidal positions) *
        sqrt(d_model), the encoder blocks, the output layer. ``ids``: (N, T); returns the logits
        (N, T, vocab_size)."""
        d_model = self.word_embeddings.embedding_dim
        x = self.word_embeddings(ids) + sinusoidal_positions(ids.shape[1], d_model, ids.device)
        x = x * math.sqrt(d_model)  # the lesson scales after adding the positions
        for block in self.encoder_blocks:
            x = block(x)
        return self.output_layer(x)


# ------------------------------------------------------------------ transformers
class BertLayer(nn.Module):
    def __init__(self, *, hidden_size, num_attention_heads, intermediate_size):
        super().__init__()
        d, ff = hidden_size, intermediate_size
        self.attention = nn.Module()
        self.attention.self = nn.Module()
        for name in ("query", "key", "value"):
            setattr(self.attention.self, name, nn.Linear(d, d))
        self.attention.output = nn.Module()
        self.attention.output.dense = nn.Linear(d, d)
        self.attention.output.LayerNorm = nn.LayerNorm(d, eps=1e-12)
        self.intermediate = nn.Module()
        self.intermediate.dense = nn.Linear(d, ff)
        self.output = nn.Module()
        self.output.dense = nn.Linear(ff, d)
        self.output.LayerNorm = nn.LayerNorm(d, eps=1e-12)
        self.num_attention_heads = num_attention_heads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """transformers' modeling_bert.BertLayer (BertSelfAttention with eager attention,
        BertSelfOutput, BertIntermediate with exact GELU, BertOutput), in eval mode."""
        sa = self.attention.self
        head_dim = x.shape[-1] // self.num_attention_heads
        q, k, v = (_split_heads(lin(x), head_dim) for lin in (sa.query, sa.key, sa.value))
        a = _merge_heads(_attention(q, k, v, causal=False))
        x = self.attention.output.LayerNorm(self.attention.output.dense(a) + x)
        h = F.gelu(self.intermediate.dense(x))
        return self.output.LayerNorm(self.output.dense(h) + x)


class BertModel(Configured, nn.Module):
    def __init__(self, *, vocab_size, hidden_size, num_hidden_layers, num_attention_heads, intermediate_size,
                 max_position_embeddings, type_vocab_size):
        super().__init__()
        self.configure(vocab_size=vocab_size, hidden_size=hidden_size, num_hidden_layers=num_hidden_layers,
                       num_attention_heads=num_attention_heads, intermediate_size=intermediate_size,
                       max_position_embeddings=max_position_embeddings, type_vocab_size=type_vocab_size)
        d = hidden_size
        self.embeddings = nn.Module()
        self.embeddings.word_embeddings = nn.Embedding(vocab_size, d)
        self.embeddings.position_embeddings = nn.Embedding(max_position_embeddings, d)
        self.embeddings.token_type_embeddings = nn.Embedding(type_vocab_size, d)
        self.embeddings.LayerNorm = nn.LayerNorm(d, eps=1e-12)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList(
            BertLayer(hidden_size=d, num_attention_heads=num_attention_heads, intermediate_size=intermediate_size)
            for _ in range(num_hidden_layers))
        self.pooler = nn.Module()
        self.pooler.dense = nn.Linear(d, d)

    def forward(self, input_ids: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """transformers' modeling_bert.BertModel.forward without a mask, in eval mode:
        BertEmbeddings (absolute positions, token type 0 unless given), the encoder, BertPooler
        (tanh of a Linear on the first token). Returns (sequence_output, pooled_output)."""
        emb = self.embeddings
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = emb.word_embeddings(input_ids) + emb.token_type_embeddings(token_type_ids)
        x = emb.LayerNorm(x + emb.position_embeddings(positions))
        for layer in self.encoder.layer:
            x = layer(x)
        return x, torch.tanh(self.pooler.dense(x[:, 0]))


class GPT2Block(nn.Module):
    def __init__(self, *, n_embd, n_head, n_inner):
        super().__init__()
        d, ff = n_embd, n_inner
        self.ln_1 = nn.LayerNorm(d)
        self.attn = nn.Module()
        self.attn.c_attn = nn.Linear(d, 3 * d)
        self.attn.c_proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = nn.Module()
        self.mlp.c_fc = nn.Linear(d, ff)
        self.mlp.c_proj = nn.Linear(ff, d)
        self.num_heads = n_head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """transformers' modeling_gpt2.GPT2Block (pre-LN): GPT2Attention (fused c_attn, causal,
        scaled by 1/sqrt(head_dim)) and GPT2MLP (gelu_new, the tanh approximation). HF's Conv1D
        is a transposed Linear: the same addmm."""
        d = x.shape[-1]
        q, k, v = (_split_heads(t, d // self.num_heads) for t in self.attn.c_attn(self.ln_1(x)).split(d, dim=2))
        x = x + self.attn.c_proj(_merge_heads(_attention(q, k, v, causal=True)))
        h = F.gelu(self.mlp.c_fc(self.ln_2(x)), approximate="tanh")
        return x + self.mlp.c_proj(h)


class GPT2LMHeadModel(Configured, nn.Module):
    def __init__(self, *, vocab_size, n_positions, n_embd, n_layer, n_head, n_inner, tie_word_embeddings):
        super().__init__()
        self.configure(vocab_size=vocab_size, n_positions=n_positions, n_embd=n_embd, n_layer=n_layer, n_head=n_head,
                       n_inner=n_inner, tie_word_embeddings=tie_word_embeddings)
        self.transformer = nn.Module()
        self.transformer.wte = nn.Embedding(vocab_size, n_embd)
        self.transformer.wpe = nn.Embedding(n_positions, n_embd)
        self.transformer.h = nn.ModuleList(GPT2Block(n_embd=n_embd, n_head=n_head, n_inner=n_inner or 4 * n_embd)
                                           for _ in range(n_layer))
        self.transformer.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        if tie_word_embeddings:
            self.lm_head.weight = self.transformer.wte.weight

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        """transformers' modeling_gpt2.GPT2LMHeadModel.forward without a cache or mask, in eval
        mode: token + position embeddings, the blocks, ln_f, the LM head. Returns the logits."""
        t = self.transformer
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        x = t.wte(input_ids) + t.wpe(positions)
        for block in t.h:
            x = block(x)
        return self.lm_head(t.ln_f(x))


class TorchModels:
    """The model-family builders, mixed into TorchAdapter (same names in every adapter)."""

    # ------------------------------------------------------------------ vision.yaml
    def build_mlp(self, v, x):
        return Built(MLP(in_features=v.in_features, hidden_sizes=v.hidden_sizes, out_features=v.out_features,
                         bias=v.bias))

    def build_lenet5(self, v, x):
        return Built(LeNet5(in_channels=v.in_channels, num_classes=v.num_classes))

    def build_vgg(self, v, x):
        return Built(VGG(cfg=v.cfg, batch_norm=v.batch_norm, num_classes=v.num_classes))

    def build_resnet(self, v, x):
        return Built(ResNet(block=v.block, layers=v.layers, groups=v.groups, width_per_group=v.width_per_group,
                            num_classes=v.num_classes, conv_bias=v.conv_bias))

    def build_mobilenet_v2(self, v, x):
        return Built(MobileNetV2(width_mult=v.width_mult, num_classes=v.num_classes))

    # ------------------------------------------------------------------ text.yaml
    def build_text_classifier(self, v, x):
        return Built(TextClassifier(vocab_size=v.vocab_size, embedding_dim=v.embedding_dim, hidden_size=v.hidden_size,
                                    num_classes=v.num_classes))

    def build_mini_transformer(self, v, x):
        return Built(MiniTransformer(vocab_size=v.vocab_size, d_model=v.d_model, num_heads=v.num_heads,
                                     num_layers=v.num_layers, d_ff=v.d_ff))

    # ------------------------------------------------------------------ transformers.yaml
    def build_bert(self, v, x):
        return Built(BertModel(vocab_size=v.vocab_size, hidden_size=v.hidden_size,
                               num_hidden_layers=v.num_hidden_layers, num_attention_heads=v.num_attention_heads,
                               intermediate_size=v.intermediate_size,
                               max_position_embeddings=v.max_position_embeddings,
                               type_vocab_size=v.type_vocab_size))

    def build_gpt2(self, v, x):
        return Built(GPT2LMHeadModel(vocab_size=v.vocab_size, n_positions=v.n_positions, n_embd=v.n_embd,
                                     n_layer=v.n_layer, n_head=v.n_head, n_inner=v.n_inner,
                                     tie_word_embeddings=v.tie_word_embeddings))
