"""PyTorch model families, written natively with torch.nn (no torchvision, no transformers).

Module and parameter names follow torchvision's and Hugging Face's, so a reading lines up
with their state_dict keys. The adapter builds these on the meta device.
"""
from __future__ import annotations

from torch import nn

from .architectures import MOBILENET_V2_SETTINGS, VGG_CFGS, make_divisible
from .base import Built


# ------------------------------------------------------------------ vision
class MLP(nn.Sequential):
    def __init__(self, in_features, hidden_sizes, out_features, bias):
        dims = [in_features, *hidden_sizes, out_features]
        layers: list[nn.Module] = []
        for i in range(len(dims) - 1):
            layers.append(nn.Linear(dims[i], dims[i + 1], bias=bias))
            if i < len(dims) - 2:
                layers.append(nn.ReLU())
        super().__init__(*layers)


class LeNet5(nn.Module):
    def __init__(self, in_channels, num_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)


class VGG(nn.Module):
    def __init__(self, cfg, batch_norm, num_classes):
        super().__init__()
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


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride, downsample, groups, base_width, conv_bias):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=conv_bias)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=conv_bias)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride, downsample, groups, base_width, conv_bias):
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=conv_bias)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=conv_bias)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * 4, 1, bias=conv_bias)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = downsample


class ResNet(nn.Module):
    def __init__(self, block, layers, groups, width_per_group, num_classes, conv_bias):
        super().__init__()
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
            blocks = [block_cls(self.inplanes, planes, stride, downsample, groups, width_per_group, conv_bias)]
            self.inplanes = planes * block_cls.expansion
            blocks += [block_cls(self.inplanes, planes, 1, None, groups, width_per_group, conv_bias)
                       for _ in range(1, n)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block_cls.expansion, num_classes)


def _conv_bn(cin, cout, k, stride=1, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand_ratio):
        super().__init__()
        hidden = int(round(inp * expand_ratio))
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(_conv_bn(inp, hidden, 1))
        layers += [_conv_bn(hidden, hidden, 3, stride, groups=hidden),
                   nn.Conv2d(hidden, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)


class MobileNetV2(nn.Module):
    def __init__(self, width_mult, num_classes):
        super().__init__()
        inp = make_divisible(32 * width_mult)
        last = make_divisible(1280 * max(1.0, width_mult))
        features: list[nn.Module] = [_conv_bn(3, inp, 3, 2)]
        for t, c, n, s in MOBILENET_V2_SETTINGS:
            oup = make_divisible(c * width_mult)
            for i in range(n):
                features.append(InvertedResidual(inp, oup, s if i == 0 else 1, t))
                inp = oup
        features.append(_conv_bn(inp, last, 1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(last, num_classes))


# ------------------------------------------------------------------ the course's models
class TextClassifier(nn.Module):
    def __init__(self, vocab_size, embedding_dim, hidden_size, num_classes):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, num_classes)


class MiniTransformerBlock(nn.Module):
    """The lesson's EncoderBlock: MHA without biases, a ReLU FFN, two LayerNorms (post-LN)."""

    def __init__(self, d_model, num_heads, d_ff):
        super().__init__()
        self.attention = nn.MultiheadAttention(d_model, num_heads, bias=False, batch_first=True)
        self.ffn = nn.Sequential(nn.Linear(d_model, d_ff), nn.ReLU(), nn.Linear(d_ff, d_model))
        self.norm1 = nn.LayerNorm(d_model, eps=1e-6)
        self.norm2 = nn.LayerNorm(d_model, eps=1e-6)


class MiniTransformer(nn.Module):
    """The lesson's TransformerEncoder. Positions are sinusoidal and computed, not learned."""

    def __init__(self, vocab_size, d_model, num_heads, num_layers, d_ff):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, d_model)
        self.encoder_blocks = nn.ModuleList(MiniTransformerBlock(d_model, num_heads, d_ff) for _ in range(num_layers))
        self.output_layer = nn.Linear(d_model, vocab_size, bias=False)


# ------------------------------------------------------------------ transformers
class BertLayer(nn.Module):
    def __init__(self, d, ff):
        super().__init__()
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


class BertModel(nn.Module):
    def __init__(self, vocab_size, hidden_size, num_hidden_layers, num_attention_heads, intermediate_size,
                 max_position_embeddings, type_vocab_size):
        super().__init__()
        d = hidden_size
        self.embeddings = nn.Module()
        self.embeddings.word_embeddings = nn.Embedding(vocab_size, d)
        self.embeddings.position_embeddings = nn.Embedding(max_position_embeddings, d)
        self.embeddings.token_type_embeddings = nn.Embedding(type_vocab_size, d)
        self.embeddings.LayerNorm = nn.LayerNorm(d, eps=1e-12)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList(BertLayer(d, intermediate_size) for _ in range(num_hidden_layers))
        self.pooler = nn.Module()
        self.pooler.dense = nn.Linear(d, d)


class GPT2Block(nn.Module):
    def __init__(self, d, ff):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.attn = nn.Module()
        self.attn.c_attn = nn.Linear(d, 3 * d)
        self.attn.c_proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = nn.Module()
        self.mlp.c_fc = nn.Linear(d, ff)
        self.mlp.c_proj = nn.Linear(ff, d)


class GPT2LMHeadModel(nn.Module):
    def __init__(self, vocab_size, n_positions, n_embd, n_layer, n_head, n_inner, tie_word_embeddings):
        super().__init__()
        self.transformer = nn.Module()
        self.transformer.wte = nn.Embedding(vocab_size, n_embd)
        self.transformer.wpe = nn.Embedding(n_positions, n_embd)
        self.transformer.h = nn.ModuleList(GPT2Block(n_embd, n_inner or 4 * n_embd) for _ in range(n_layer))
        self.transformer.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        if tie_word_embeddings:
            self.lm_head.weight = self.transformer.wte.weight


class LlamaDecoderLayer(nn.Module):
    def __init__(self, d, ff, heads, kv_heads, head_dim, attention_bias, qkv_bias, mlp_bias):
        super().__init__()
        self.self_attn = nn.Module()
        self.self_attn.q_proj = nn.Linear(d, heads * head_dim, bias=attention_bias or qkv_bias)
        self.self_attn.k_proj = nn.Linear(d, kv_heads * head_dim, bias=attention_bias or qkv_bias)
        self.self_attn.v_proj = nn.Linear(d, kv_heads * head_dim, bias=attention_bias or qkv_bias)
        self.self_attn.o_proj = nn.Linear(heads * head_dim, d, bias=attention_bias)
        self.mlp = nn.Module()
        self.mlp.gate_proj = nn.Linear(d, ff, bias=mlp_bias)
        self.mlp.up_proj = nn.Linear(d, ff, bias=mlp_bias)
        self.mlp.down_proj = nn.Linear(ff, d, bias=mlp_bias)
        self.input_layernorm = nn.RMSNorm(d)
        self.post_attention_layernorm = nn.RMSNorm(d)


class LlamaForCausalLM(nn.Module):
    def __init__(self, vocab_size, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads,
                 num_key_value_heads, head_dim, attention_bias, qkv_bias, mlp_bias, tie_word_embeddings):
        super().__init__()
        kv = num_key_value_heads or num_attention_heads
        hd = head_dim or hidden_size // num_attention_heads
        self.model = nn.Module()
        self.model.embed_tokens = nn.Embedding(vocab_size, hidden_size)
        self.model.layers = nn.ModuleList(
            LlamaDecoderLayer(hidden_size, intermediate_size, num_attention_heads, kv, hd, attention_bias,
                              qkv_bias, mlp_bias) for _ in range(num_hidden_layers))
        self.model.norm = nn.RMSNorm(hidden_size)
        self.lm_head = nn.Linear(hidden_size, vocab_size, bias=False)
        if tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight


class TorchModels:
    """The model-family builders, mixed into TorchAdapter (same names in every adapter)."""

    # ------------------------------------------------------------------ vision.yaml
    def build_mlp(self, v):
        return Built(MLP(v.in_features, v.hidden_sizes, v.out_features, v.bias),
                     f"MLP({v.in_features}, {list(v.hidden_sizes)}, {v.out_features}, bias={v.bias})")

    def build_lenet5(self, v):
        return Built(LeNet5(v.in_channels, v.num_classes), f"LeNet5(in_channels={v.in_channels}, "
                                                           f"num_classes={v.num_classes})")

    def build_vgg(self, v):
        return Built(VGG(v.cfg, v.batch_norm, v.num_classes),
                     f"VGG(cfg={v.cfg!r}, batch_norm={v.batch_norm}, num_classes={v.num_classes})")

    def build_resnet(self, v):
        m = ResNet(v.block, v.layers, v.groups, v.width_per_group, v.num_classes, v.conv_bias)
        return Built(m, f"ResNet({v.block}, layers={list(v.layers)}, groups={v.groups}, "
                        f"width_per_group={v.width_per_group}, num_classes={v.num_classes}, conv_bias={v.conv_bias})")

    def build_mobilenet_v2(self, v):
        return Built(MobileNetV2(v.width_mult, v.num_classes),
                     f"MobileNetV2(width_mult={v.width_mult}, num_classes={v.num_classes})")

    # ------------------------------------------------------------------ text.yaml
    def build_text_classifier(self, v):
        return Built(TextClassifier(v.vocab_size, v.embedding_dim, v.hidden_size, v.num_classes),
                     f"Embedding({v.vocab_size}, {v.embedding_dim}) -> LSTM({v.embedding_dim}, {v.hidden_size}) "
                     f"-> Linear({v.hidden_size}, {v.num_classes})")

    def build_mini_transformer(self, v):
        return Built(MiniTransformer(v.vocab_size, v.d_model, v.num_heads, v.num_layers, v.d_ff),
                     f"MiniTransformer(vocab_size={v.vocab_size}, d_model={v.d_model}, num_heads={v.num_heads}, "
                     f"num_layers={v.num_layers}, d_ff={v.d_ff})")

    # ------------------------------------------------------------------ transformers.yaml
    def build_bert(self, v):
        m = BertModel(v.vocab_size, v.hidden_size, v.num_hidden_layers, v.num_attention_heads,
                      v.intermediate_size, v.max_position_embeddings, v.type_vocab_size)
        return Built(m, f"BertModel(hidden_size={v.hidden_size}, layers={v.num_hidden_layers})")

    def build_gpt2(self, v):
        m = GPT2LMHeadModel(v.vocab_size, v.n_positions, v.n_embd, v.n_layer, v.n_head, v.n_inner,
                            v.tie_word_embeddings)
        return Built(m, f"GPT2LMHeadModel(n_embd={v.n_embd}, n_layer={v.n_layer}, "
                        f"tie_word_embeddings={v.tie_word_embeddings})")

    def build_llama(self, v):
        m = LlamaForCausalLM(v.vocab_size, v.hidden_size, v.intermediate_size, v.num_hidden_layers,
                             v.num_attention_heads, v.num_key_value_heads, v.head_dim, v.attention_bias,
                             v.qkv_bias, v.mlp_bias, v.tie_word_embeddings)
        return Built(m, f"LlamaForCausalLM(hidden_size={v.hidden_size}, layers={v.num_hidden_layers}, "
                        f"heads={v.num_attention_heads}, kv_heads={v.num_key_value_heads}, "
                        f"tie_word_embeddings={v.tie_word_embeddings})")

