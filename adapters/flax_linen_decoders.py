"""Flax linen: the Hugging Face families of spec/models/transformers.yaml after GPT-2, written
natively with flax.linen: the decoder family (``llama``), T5 and ViT (``vit_hf``).

The same architectures as ``torch_decoders.py``, named as in ``flax_linen_models.py``
(transformers' names, each list index joined by an underscore: ``model/layers_0/self_attn/q_proj``).
A mixture of experts keeps its routed experts as two 3D params (``mlp/experts/gate_up_proj``,
``mlp/experts/down_proj``) and its router as one (``mlp/gate/weight``); DeepSeek-V3's router
score-correction bias, which training updates from the experts' load rather than by gradient, is
a variable of the ``batch_stats`` collection (state, not a param). Each token's top-k experts are
gathered and applied as batched matmuls (XLA's dot_general). The adapter's method interceptor
records each router's ``top_k`` and each experts module's ``num_experts`` during init
(:func:`record_routing`), and its reading marks the routed params from them (:func:`routed_of`).
"""
from __future__ import annotations

import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from .base import built
from .flax_linen_models import _attention, _heads, _merge, _rope


def record_routing(module: Any, routing: dict) -> None:
    """For the adapter's method interceptor, on every module call during init: a mixture of
    experts' router (a ``gate`` with ``top_k``) and routed experts (``experts`` with
    ``num_experts``), by the path of the block that holds them."""
    path = tuple(getattr(module, "path", ()) or ())
    if path and path[-1] == "gate" and getattr(module, "top_k", None):
        routing.setdefault("top_k", {})[path[:-1]] = module.top_k
    if path and path[-1] == "experts" and getattr(module, "num_experts", None):
        routing.setdefault("experts", {})[path[:-1]] = module.num_experts


def routed_of(path: tuple, routing: dict) -> dict[str, int]:
    """``{"experts": E, "top_k": k}`` for a variable (``(collection, *module path, name)``) of a
    routed experts module whose block's router was recorded; else ``{}``."""
    if len(path) >= 3 and path[0] == "params" and path[-2] == "experts":
        block = tuple(path[1:-2])
        k, n = routing.get("top_k", {}).get(block), routing.get("experts", {}).get(block)
        if k and n:
            return {"experts": n, "top_k": k}
    return {}


def _norm(norm: str, name: str) -> nn.Module:
    """RMSNorm (a scale; Llama's eps) or LayerNorm (a scale and a bias; GPT-NeoX's eps)."""
    return nn.RMSNorm(epsilon=1e-6, name=name) if norm == "rms" else nn.LayerNorm(epsilon=1e-5, name=name)


_INIT = nn.initializers.normal(0.02)


# ------------------------------------------------------------------ the decoder family (llama)
class DecoderAttention(nn.Module, kw_only=True):
    """LlamaAttention: q, k, v (grouped-query), rotary q and k, causal attention, o; QK-norm per
    head (over head_dim) or over every head (OLMo-2)."""

    hidden_size: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    attention_bias: bool
    qkv_bias: bool
    qk_norm: str
    norm: str

    @nn.compact
    def __call__(self, x):
        heads, kv_heads, hd = self.num_attention_heads, self.num_key_value_heads, self.head_dim
        qkv_bias = self.attention_bias or self.qkv_bias
        q = nn.Dense(heads * hd, use_bias=qkv_bias, name="q_proj")(x)
        k = nn.Dense(kv_heads * hd, use_bias=qkv_bias, name="k_proj")(x)
        v = nn.Dense(kv_heads * hd, use_bias=qkv_bias, name="v_proj")(x)
        if self.qk_norm == "full":  # OLMo-2: over every head's features at once
            q, k = _norm(self.norm, "q_norm")(q), _norm(self.norm, "k_norm")(k)
        q, k, v = _heads(q, heads), _heads(k, kv_heads), _heads(v, kv_heads)
        if self.qk_norm == "head":  # Qwen3, Gemma 3: each head on its own
            q, k = _norm(self.norm, "q_norm")(q), _norm(self.norm, "k_norm")(k)
        groups = heads // kv_heads  # each kv head serves `groups` q heads
        k, v = jnp.repeat(_rope(k), groups, axis=2), jnp.repeat(v, groups, axis=2)
        out = _attention(_rope(q), k, v, causal=True)
        return nn.Dense(self.hidden_size, use_bias=self.attention_bias, name="o_proj")(_merge(out))


class LatentAttention(nn.Module, kw_only=True):
    """DeepseekV3Attention (MLA): q through a low-rank projection and its norm (or one q_proj); a
    joint key/value latent with one rotary key for every head, its norm, its up-projection."""

    hidden_size: int
    num_attention_heads: int
    q_lora_rank: int | None
    kv_lora_rank: int
    qk_nope_head_dim: int
    qk_rope_head_dim: int
    v_head_dim: int
    attention_bias: bool
    norm: str

    @nn.compact
    def __call__(self, x):
        heads, nope, rope, hv = self.num_attention_heads, self.qk_nope_head_dim, self.qk_rope_head_dim, self.v_head_dim
        if self.q_lora_rank:
            q = nn.Dense(self.q_lora_rank, use_bias=self.attention_bias, name="q_a_proj")(x)
            q = nn.Dense(heads * (nope + rope), use_bias=False, name="q_b_proj")(_norm(self.norm, "q_a_layernorm")(q))
        else:
            q = nn.Dense(heads * (nope + rope), use_bias=False, name="q_proj")(x)
        q_nope, q_rot = jnp.split(_heads(q, heads), [nope], axis=-1)
        latent, k_rot = jnp.split(nn.Dense(self.kv_lora_rank + rope, use_bias=self.attention_bias,
                                           name="kv_a_proj_with_mqa")(x), [self.kv_lora_rank], axis=-1)
        kv = nn.Dense(heads * (nope + hv), use_bias=False, name="kv_b_proj")(_norm(self.norm, "kv_a_layernorm")(latent))
        k_nope, v = jnp.split(_heads(kv, heads), [nope], axis=-1)
        k_rot = jnp.repeat(_rope(k_rot[:, :, None, :]), heads, axis=2)  # one rotary key, for every head
        q = jnp.concatenate([q_nope, _rope(q_rot)], axis=-1)
        out = _attention(q, jnp.concatenate([k_nope, k_rot], axis=-1), v, causal=True)
        return nn.Dense(self.hidden_size, use_bias=self.attention_bias, name="o_proj")(_merge(out))


class DecoderMLP(nn.Module, kw_only=True):
    """LlamaMLP: down(silu(gate(x)) * up(x)); not gated (GPT-NeoX, Falcon): down(gelu(up(x)))."""

    hidden_size: int
    intermediate_size: int
    gated: bool
    bias: bool

    @nn.compact
    def __call__(self, x):
        ff = self.intermediate_size
        if self.gated:
            h = nn.silu(nn.Dense(ff, use_bias=self.bias, name="gate_proj")(x)) * nn.Dense(ff, use_bias=self.bias,
                                                                                          name="up_proj")(x)
        else:
            h = nn.gelu(nn.Dense(ff, use_bias=self.bias, name="up_proj")(x), approximate=False)
        return nn.Dense(self.hidden_size, use_bias=self.bias, name="down_proj")(h)


class TopKRouter(nn.Module, kw_only=True):
    """The router: one (num_experts, hidden) ``weight``; DeepSeek-V3's score-correction bias, in
    the ``batch_stats`` collection (state)."""

    num_experts: int
    top_k: int
    score_bias: bool

    @nn.compact
    def __call__(self, h):
        w = self.param("weight", _INIT, (self.num_experts, h.shape[-1]))
        scores = jax.nn.softmax(h @ w.T, axis=-1)  # (tokens, num_experts)
        choice = scores
        if self.score_bias:
            bias = self.variable("batch_stats", "e_score_correction_bias", jnp.zeros, (self.num_experts,))
            choice = scores + bias.value
        index = jax.lax.top_k(choice, self.top_k)[1]
        weights = jnp.take_along_axis(scores, index, axis=-1)
        return weights / weights.sum(axis=-1, keepdims=True), index


class Experts(nn.Module, kw_only=True):
    """Every routed expert's gate and up projections fused into one (num_experts, 2 * width,
    hidden) param, its down projections into one (num_experts, hidden, width)."""

    num_experts: int
    moe_intermediate_size: int

    @nn.compact
    def __call__(self, h, index, weights):
        n, ff, d = self.num_experts, self.moe_intermediate_size, h.shape[-1]
        gate_up = self.param("gate_up_proj", _INIT, (n, 2 * ff, d))
        down = self.param("down_proj", _INIT, (n, d, ff))
        gate, up = jnp.split(jnp.matmul(gate_up[index], h[:, None, :, None])[..., 0], 2, axis=-1)
        out = jnp.matmul(down[index], (nn.silu(gate) * up)[..., None])[..., 0]  # (tokens, top_k, hidden)
        return (out * weights[..., None]).sum(axis=1)


class SparseMoeBlock(nn.Module, kw_only=True):
    """A mixture of experts: the router ``gate``, the routed ``experts``, the shared experts (with
    Qwen-MoE's sigmoid gate)."""

    hidden_size: int
    num_experts: int
    num_experts_per_tok: int
    moe_intermediate_size: int
    shared_expert_intermediate_size: int
    shared_expert_gate: bool
    router_score_bias: bool
    mlp_bias: bool

    @nn.compact
    def __call__(self, x):
        h = x.reshape(-1, x.shape[-1])
        weights, index = TopKRouter(num_experts=self.num_experts, top_k=self.num_experts_per_tok,
                                    score_bias=self.router_score_bias, name="gate")(h)
        out = Experts(num_experts=self.num_experts, moe_intermediate_size=self.moe_intermediate_size,
                      name="experts")(h, index, weights)
        shared = jnp.zeros_like(h)
        if self.shared_expert_intermediate_size:
            shared = DecoderMLP(hidden_size=self.hidden_size, intermediate_size=self.shared_expert_intermediate_size,
                                gated=True, bias=self.mlp_bias, name="shared_experts")(h)
        if self.shared_expert_gate:
            shared = shared * nn.sigmoid(nn.Dense(1, use_bias=False, name="shared_expert_gate")(h))
        return (out + shared).reshape(x.shape)


class DecoderLayer(nn.Module, kw_only=True):
    """One decoder layer, its norms placed as ``norm_placement`` says (torch_decoders.DecoderLayer)."""

    config: dict  # the LlamaForCausalLM's fields
    moe: bool

    @nn.compact
    def __call__(self, x):
        c = self.config
        norm, placement = c["norm"], c["norm_placement"]
        d = c["hidden_size"]
        if c["kv_lora_rank"]:
            attn = LatentAttention(hidden_size=d, num_attention_heads=c["num_attention_heads"],
                                   q_lora_rank=c["q_lora_rank"], kv_lora_rank=c["kv_lora_rank"],
                                   qk_nope_head_dim=c["qk_nope_head_dim"], qk_rope_head_dim=c["qk_rope_head_dim"],
                                   v_head_dim=c["v_head_dim"], attention_bias=c["attention_bias"], norm=norm,
                                   name="self_attn")
        else:
            attn = DecoderAttention(hidden_size=d, num_attention_heads=c["num_attention_heads"],
                                    num_key_value_heads=c["num_key_value_heads"] or c["num_attention_heads"],
                                    head_dim=c["head_dim"] or d // c["num_attention_heads"],
                                    attention_bias=c["attention_bias"], qkv_bias=c["qkv_bias"], qk_norm=c["qk_norm"],
                                    norm=norm, name="self_attn")
        if self.moe:
            mlp = SparseMoeBlock(hidden_size=d, num_experts=c["num_experts"],
                                 num_experts_per_tok=c["num_experts_per_tok"],
                                 moe_intermediate_size=c["moe_intermediate_size"],
                                 shared_expert_intermediate_size=c["shared_expert_intermediate_size"],
                                 shared_expert_gate=c["shared_expert_gate"],
                                 router_score_bias=c["router_score_bias"], mlp_bias=c["mlp_bias"], name="mlp")
        else:
            mlp = DecoderMLP(hidden_size=d, intermediate_size=c["intermediate_size"], gated=c["gated_mlp"],
                             bias=c["mlp_bias"], name="mlp")
        if c["parallel_attn"]:
            h = _norm(norm, "input_layernorm")(x)
            h_mlp = h if placement == "shared" else _norm(norm, "post_attention_layernorm")(x)
            return x + attn(h) + mlp(h_mlp)
        if placement == "post":
            x = x + _norm(norm, "post_attention_layernorm")(attn(x))
            return x + _norm(norm, "post_feedforward_layernorm")(mlp(x))
        if placement == "sandwich":
            x = x + _norm(norm, "post_attention_layernorm")(attn(_norm(norm, "input_layernorm")(x)))
            return x + _norm(norm, "post_feedforward_layernorm")(mlp(_norm(norm, "pre_feedforward_layernorm")(x)))
        x = x + attn(_norm(norm, "input_layernorm")(x))
        return x + mlp(_norm(norm, "post_attention_layernorm")(x))


class DecoderModel(nn.Module, kw_only=True):
    """transformers' LlamaModel: embed_tokens, the layers (layers_0, layers_1, ...), the final norm."""

    config: dict

    def setup(self):
        c = self.config
        self.embed_tokens = nn.Embed(c["vocab_size"], c["hidden_size"])

        def moe(i: int) -> bool:  # transformers' rule: from first_k_dense_replace on, every step-th layer
            return bool(c["num_experts"]) and i >= c["first_k_dense_replace"] and (i + 1) % c["decoder_sparse_step"] == 0

        self.layers = [DecoderLayer(config=c, moe=moe(i)) for i in range(c["num_hidden_layers"])]
        self.norm = _norm(c["norm"], None)

    def __call__(self, tokens):
        x = self.embed_tokens(tokens)
        for layer in self.layers:
            x = layer(x)
        return self.norm(x)


class LlamaForCausalLM(nn.Module, kw_only=True):
    """The decoder family (the spec's ``llama``): the model and the LM head (tied: Embed.attend)."""

    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int | None
    head_dim: int | None
    attention_bias: bool
    qkv_bias: bool
    mlp_bias: bool
    tie_word_embeddings: bool
    norm: str
    norm_placement: str
    parallel_attn: bool
    qk_norm: str
    gated_mlp: bool
    q_lora_rank: int | None
    kv_lora_rank: int | None
    qk_nope_head_dim: int | None
    qk_rope_head_dim: int | None
    v_head_dim: int | None
    num_experts: int
    num_experts_per_tok: int
    moe_intermediate_size: int | None
    shared_expert_intermediate_size: int
    shared_expert_gate: bool
    first_k_dense_replace: int
    decoder_sparse_step: int
    router_score_bias: bool

    def setup(self):
        config = {f: getattr(self, f) for f in self.__dataclass_fields__ if f not in ("parent", "name")}
        self.model = DecoderModel(config=config)
        if not self.tie_word_embeddings:
            self.lm_head = nn.Dense(self.vocab_size, use_bias=False)

    def __call__(self, tokens):
        h = self.model(tokens)
        if self.tie_word_embeddings:
            return self.model.embed_tokens.attend(h)  # the head reuses the token embedding
        return self.lm_head(h)


# ------------------------------------------------------------------ t5
def relative_position_bucket(relative, bidirectional: bool, num_buckets: int, max_distance: int = 128):
    """transformers' T5Attention._relative_position_bucket (torch_decoders.relative_position_bucket)."""
    buckets = jnp.zeros_like(relative)
    if bidirectional:
        num_buckets //= 2
        buckets = buckets + (relative > 0).astype(relative.dtype) * num_buckets
        relative = jnp.abs(relative)
    else:
        relative = -jnp.minimum(relative, 0)
    max_exact = max(num_buckets // 2, 1)
    scaled = jnp.log(jnp.maximum(relative, 1).astype(jnp.float32) / max_exact) / math.log(max_distance / max_exact)
    large = jnp.minimum(max_exact + (scaled * (num_buckets - max_exact)).astype(relative.dtype), num_buckets - 1)
    return buckets + jnp.where(relative < max_exact, relative, large)


class T5Attention(nn.Module, kw_only=True):
    """T5Attention: bias-free q, k, v and o, unscaled scores plus a position bias (the stack's first
    layer holds the relative_attention_bias table, an Embed of buckets x heads)."""

    d_model: int
    d_kv: int
    num_heads: int
    relative_attention_num_buckets: int
    has_relative_attention_bias: bool
    bidirectional: bool = True

    def setup(self):
        inner = self.num_heads * self.d_kv
        self.q, self.k, self.v = (nn.Dense(inner, use_bias=False) for _ in range(3))
        self.o = nn.Dense(self.d_model, use_bias=False)
        if self.has_relative_attention_bias:
            self.relative_attention_bias = nn.Embed(self.relative_attention_num_buckets, self.num_heads)

    def position_bias(self, t: int):
        """(1, heads, t, t), from this layer's table."""
        relative = jnp.arange(t)[None, :] - jnp.arange(t)[:, None]
        buckets = relative_position_bucket(relative, self.bidirectional, self.relative_attention_num_buckets)
        return jnp.transpose(self.relative_attention_bias(buckets), (2, 0, 1))[None]

    def __call__(self, x, kv, bias=None, causal=False):
        q, k, v = _heads(self.q(x), self.num_heads), _heads(self.k(kv), self.num_heads), _heads(self.v(kv), self.num_heads)
        w = jnp.einsum("bqhd,bkhd->bhqk", q, k)  # T5 does not scale its scores
        if bias is not None:
            w = w + bias
        if causal:
            t = q.shape[1]
            w = jnp.where(jnp.tril(jnp.ones((t, t), bool)), w, jnp.finfo(w.dtype).min)
        return self.o(_merge(jnp.einsum("bhqk,bkhd->bqhd", jax.nn.softmax(w, axis=-1), v)))


class T5DenseFF(nn.Module, kw_only=True):
    """T5DenseActDense (wi, wo) or T5DenseGatedActDense (wi_0, wi_1, wo)."""

    d_model: int
    d_ff: int
    feed_forward_proj: str

    @nn.compact
    def __call__(self, x):
        gated, name = self.feed_forward_proj.startswith("gated-"), self.feed_forward_proj.removeprefix("gated-")
        act = {"relu": nn.relu, "silu": nn.silu, "gelu": lambda t: nn.gelu(t, approximate=False),
               "gelu_new": lambda t: nn.gelu(t, approximate=True)}[name]
        if gated:
            h = act(nn.Dense(self.d_ff, use_bias=False, name="wi_0")(x)) * nn.Dense(self.d_ff, use_bias=False,
                                                                                   name="wi_1")(x)
        else:
            h = act(nn.Dense(self.d_ff, use_bias=False, name="wi")(x))
        return nn.Dense(self.d_model, use_bias=False, name="wo")(h)


class T5Block(nn.Module, kw_only=True):
    """A T5Block: ``layer_0`` self-attention, ``layer_1`` cross-attention (decoder), then the
    feed-forward; each with its layer_norm (T5LayerNorm: a scale, no mean)."""

    config: dict
    decoder: bool
    first: bool

    def setup(self):
        c = self.config
        attn = dict(d_model=c["d_model"], d_kv=c["d_kv"], num_heads=c["num_heads"],
                    relative_attention_num_buckets=c["relative_attention_num_buckets"])
        self.self_attention = T5Attention(has_relative_attention_bias=self.first, bidirectional=not self.decoder,
                                          name="layer_0_SelfAttention", **attn)
        self.norms = [nn.RMSNorm(epsilon=1e-6, name=f"layer_{i}_layer_norm") for i in range(3 if self.decoder else 2)]
        if self.decoder:
            self.cross_attention = T5Attention(has_relative_attention_bias=False, name="layer_1_EncDecAttention",
                                               **attn)
        self.ff = T5DenseFF(d_model=c["d_model"], d_ff=c["d_ff"], feed_forward_proj=c["feed_forward_proj"],
                            name=f"layer_{2 if self.decoder else 1}_DenseReluDense")

    def position_bias(self, t: int):
        return self.self_attention.position_bias(t)

    def __call__(self, x, bias, memory=None):
        h = self.norms[0](x)
        x = x + self.self_attention(h, h, bias, causal=self.decoder)
        if self.decoder:
            x = x + self.cross_attention(self.norms[1](x), memory)
        return x + self.ff(self.norms[-1](x))


class T5Stack(nn.Module, kw_only=True):
    """T5Stack: the blocks (block_0, block_1, ...) and final_layer_norm; the shared embedding is the model's."""

    config: dict
    decoder: bool
    num_layers: int

    def setup(self):
        self.block = [T5Block(config=self.config, decoder=self.decoder, first=i == 0) for i in range(self.num_layers)]
        self.final_layer_norm = nn.RMSNorm(epsilon=1e-6)

    def __call__(self, x, memory=None):
        bias = self.block[0].position_bias(x.shape[1])  # shared by every block
        for block in self.block:
            x = block(x, bias, memory)
        return self.final_layer_norm(x)


class T5ForConditionalGeneration(nn.Module, kw_only=True):
    """T5ForConditionalGeneration: shared, encoder, decoder, lm_head (tied: shared.attend)."""

    vocab_size: int
    d_model: int
    d_kv: int
    d_ff: int
    num_layers: int
    num_decoder_layers: int | None
    num_heads: int
    relative_attention_num_buckets: int
    feed_forward_proj: str
    tie_word_embeddings: bool

    def setup(self):
        config = {f: getattr(self, f) for f in self.__dataclass_fields__ if f not in ("parent", "name")}
        self.shared = nn.Embed(self.vocab_size, self.d_model)
        self.encoder = T5Stack(config=config, decoder=False, num_layers=self.num_layers)
        self.decoder = T5Stack(config=config, decoder=True, num_layers=self.num_decoder_layers or self.num_layers)
        if not self.tie_word_embeddings:
            self.lm_head = nn.Dense(self.vocab_size, use_bias=False)

    def __call__(self, ids, decoder_ids):
        memory = self.encoder(self.shared(ids))
        h = self.decoder(self.shared(decoder_ids), memory)
        if self.tie_word_embeddings:
            return self.shared.attend(h * self.d_model ** -0.5)  # the head is the shared embedding
        return self.lm_head(h)


# ------------------------------------------------------------------ vit_hf
class ViTLayer(nn.Module, kw_only=True):
    """ViTLayer: layernorm_before, attention (q_proj, k_proj, v_proj, o_proj), layernorm_after,
    mlp (fc1, exact GELU, fc2)."""

    hidden_size: int
    num_attention_heads: int
    head_dim: int
    intermediate_size: int
    qkv_bias: bool

    @nn.compact
    def __call__(self, x):
        heads, inner = self.num_attention_heads, self.num_attention_heads * self.head_dim
        h = nn.LayerNorm(epsilon=1e-12, name="layernorm_before")(x)
        q, k, v = (_heads(nn.Dense(inner, use_bias=self.qkv_bias, name=f"attention_{n}")(h), heads)
                   for n in ("q_proj", "k_proj", "v_proj"))
        x = x + nn.Dense(self.hidden_size, name="attention_o_proj")(_merge(_attention(q, k, v, causal=False)))
        h = nn.gelu(nn.Dense(self.intermediate_size, name="mlp_fc1")(nn.LayerNorm(epsilon=1e-12,
                                                                                 name="layernorm_after")(x)),
                    approximate=False)
        return x + nn.Dense(self.hidden_size, name="mlp_fc2")(h)


class ViTModel(nn.Module, kw_only=True):
    """ViTModel with its pooler (the spec's ``vit_hf``), channels-last."""

    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    head_dim: int | None
    intermediate_size: int
    image_size: int
    patch_size: int
    num_channels: int
    qkv_bias: bool
    pooler_output_size: int | None

    @nn.compact
    def __call__(self, pixels):  # (batch, height, width, channels)
        d, p = self.hidden_size, self.patch_size
        patches = (self.image_size // p) ** 2
        x = nn.Conv(d, (p, p), strides=(p, p), padding="VALID", name="embeddings_patch_embeddings_projection")(pixels)
        x = x.reshape(x.shape[0], -1, d)
        cls = self.param("embeddings_cls_token", nn.initializers.zeros, (1, 1, d))
        pos = self.param("embeddings_position_embeddings", nn.initializers.zeros, (1, patches + 1, d))
        x = jnp.concatenate([jnp.broadcast_to(cls, (x.shape[0], 1, d)), x], axis=1) + pos
        for i in range(self.num_hidden_layers):
            x = ViTLayer(hidden_size=d, num_attention_heads=self.num_attention_heads,
                         head_dim=self.head_dim or d // self.num_attention_heads,
                         intermediate_size=self.intermediate_size, qkv_bias=self.qkv_bias, name=f"layers_{i}")(x)
        x = nn.LayerNorm(epsilon=1e-12, name="layernorm")(x)
        return x, jnp.tanh(nn.Dense(self.pooler_output_size or d, name="pooler_dense")(x[:, 0]))


class FlaxLinenDecoders:
    """The builders of transformers.yaml's families after GPT-2, mixed into FlaxLinenAdapter (same
    names, in the same order, in every adapter's *_decoders.py)."""

    # ------------------------------------------------------------------ transformers.yaml
    def build_llama(self, v, x):
        m = LlamaForCausalLM(
            vocab_size=v.vocab_size, hidden_size=v.hidden_size, intermediate_size=v.intermediate_size,
            num_hidden_layers=v.num_hidden_layers, num_attention_heads=v.num_attention_heads,
            num_key_value_heads=v.num_key_value_heads, head_dim=v.head_dim, attention_bias=v.attention_bias,
            qkv_bias=v.qkv_bias, mlp_bias=v.mlp_bias, tie_word_embeddings=v.tie_word_embeddings, norm=v.norm,
            norm_placement=v.norm_placement, parallel_attn=v.parallel_attn, qk_norm=v.qk_norm,
            gated_mlp=v.gated_mlp, q_lora_rank=v.q_lora_rank, kv_lora_rank=v.kv_lora_rank,
            qk_nope_head_dim=v.qk_nope_head_dim, qk_rope_head_dim=v.qk_rope_head_dim, v_head_dim=v.v_head_dim,
            num_experts=v.num_experts, num_experts_per_tok=v.num_experts_per_tok,
            moe_intermediate_size=v.moe_intermediate_size,
            shared_expert_intermediate_size=v.shared_expert_intermediate_size,
            shared_expert_gate=v.shared_expert_gate, first_k_dense_replace=v.first_k_dense_replace,
            decoder_sparse_step=v.decoder_sparse_step, router_score_bias=v.router_score_bias)
        return built(m, *x)

    def build_t5(self, v, x):
        m = T5ForConditionalGeneration(
            vocab_size=v.vocab_size, d_model=v.d_model, d_kv=v.d_kv, d_ff=v.d_ff, num_layers=v.num_layers,
            num_decoder_layers=v.num_decoder_layers, num_heads=v.num_heads,
            relative_attention_num_buckets=v.relative_attention_num_buckets, feed_forward_proj=v.feed_forward_proj,
            tie_word_embeddings=v.tie_word_embeddings)
        return built(m, *x)

    def build_vit_hf(self, v, x):
        m = ViTModel(hidden_size=v.hidden_size, num_hidden_layers=v.num_hidden_layers,
                     num_attention_heads=v.num_attention_heads, head_dim=v.head_dim,
                     intermediate_size=v.intermediate_size, image_size=v.image_size, patch_size=v.patch_size,
                     num_channels=v.num_channels, qkv_bias=v.qkv_bias, pooler_output_size=v.pooler_output_size)
        return built(m, *x)
