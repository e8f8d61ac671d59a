"""Flax nnx: the Hugging Face families of spec/models/transformers.yaml after GPT-2, written
natively with flax.nnx layers: the decoder family (``llama``), T5 and ViT (``vit_hf``).

The same architectures and attribute names as ``torch_decoders.py`` (transformers' paths:
``model/layers/0/self_attn/q_proj/kernel``). A mixture of experts keeps its routed experts as two
3D ``nnx.Param`` (``mlp/experts/gate_up_proj``, ``mlp/experts/down_proj``) and its router as one
(``mlp/gate/weight``); DeepSeek-V3's router score-correction bias, which training updates from the
experts' load rather than by gradient, is an ``nnx.BatchStat`` (state). Each token's top-k
experts are gathered and applied as batched matmuls (XLA's dot_general). The adapter's reading
marks the routed params from the modules (:func:`routed_experts`).
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import nnx

from .base import Built
from .flax_nnx_models import Namespace, _causal_mask, _config, _heads, _rotate_half


def routed_experts(module: nnx.Module) -> dict[int, dict[str, int]]:
    """The routed experts' variables, by id: ``{"experts": E, "top_k": k}`` for each variable of
    every module's ``experts`` child whose sibling router (``gate``) has ``top_k``."""
    out: dict[int, dict[str, int]] = {}
    for _, node in nnx.iter_graph(module):
        experts, gate = getattr(node, "experts", None), getattr(node, "gate", None)
        k, n = getattr(gate, "top_k", None), getattr(experts, "num_experts", None)
        if isinstance(experts, nnx.Module) and k and n:
            out.update({id(v): {"experts": n, "top_k": k} for v in vars(experts).values() if isinstance(v, nnx.Variable)})
    return out


def _norm(norm: str, n: int, rngs) -> nnx.Module:
    """RMSNorm (a scale; Llama's eps) or LayerNorm (a scale and a bias; GPT-NeoX's eps)."""
    return nnx.RMSNorm(n, epsilon=1e-6, rngs=rngs) if norm == "rms" else nnx.LayerNorm(n, epsilon=1e-5, rngs=rngs)


def _rope(x, theta: float = 10000.0):
    """Rotary positions (Hugging Face's rotate_half form) on (batch, seq, heads, head_dim)."""
    t, hd = x.shape[1], x.shape[-1]
    freqs = jnp.arange(t)[:, None] * theta ** (-jnp.arange(0, hd, 2) / hd)
    emb = jnp.concatenate([freqs, freqs], axis=-1)[:, None, :]  # (T, 1, head_dim): broadcast over heads
    return x * jnp.cos(emb) + _rotate_half(x) * jnp.sin(emb)


def _merge(x):
    return x.reshape(*x.shape[:-2], -1)


_INIT = nnx.initializers.normal(0.02)


# ------------------------------------------------------------------ the decoder family (llama)
class DecoderAttention(nnx.Module):
    """LlamaAttention: q, k, v (grouped-query), rotary q and k, causal attention, o; QK-norm per
    head (over head_dim) or over every head (OLMo-2)."""

    def __init__(self, *, hidden_size, num_attention_heads, num_key_value_heads, head_dim, attention_bias, qkv_bias,
                 qk_norm, norm, rngs):
        d, heads, kv_heads = hidden_size, num_attention_heads, num_key_value_heads
        self.num_heads, self.num_key_value_heads, self.head_dim, self.qk_norm = heads, kv_heads, head_dim, qk_norm
        self.q_proj = nnx.Linear(d, heads * head_dim, use_bias=attention_bias or qkv_bias, rngs=rngs)
        self.k_proj = nnx.Linear(d, kv_heads * head_dim, use_bias=attention_bias or qkv_bias, rngs=rngs)
        self.v_proj = nnx.Linear(d, kv_heads * head_dim, use_bias=attention_bias or qkv_bias, rngs=rngs)
        self.o_proj = nnx.Linear(heads * head_dim, d, use_bias=attention_bias, rngs=rngs)
        if qk_norm == "head":
            self.q_norm, self.k_norm = _norm(norm, head_dim, rngs), _norm(norm, head_dim, rngs)
        elif qk_norm == "full":
            self.q_norm, self.k_norm = _norm(norm, heads * head_dim, rngs), _norm(norm, kv_heads * head_dim, rngs)

    def __call__(self, x):
        hd = self.head_dim
        q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(x)
        if self.qk_norm == "full":  # OLMo-2: over every head's features at once
            q, k = self.q_norm(q), self.k_norm(k)
        q, k, v = _heads(q, self.num_heads, hd), _heads(k, self.num_key_value_heads, hd), _heads(
            v, self.num_key_value_heads, hd)
        if self.qk_norm == "head":  # Qwen3, Gemma 3: each head on its own
            q, k = self.q_norm(q), self.k_norm(k)
        groups = self.num_heads // self.num_key_value_heads  # grouped-query attention
        k, v = jnp.repeat(_rope(k), groups, axis=-2), jnp.repeat(v, groups, axis=-2)
        ctx = nnx.dot_product_attention(_rope(q), k, v, mask=_causal_mask(x))
        return self.o_proj(_merge(ctx))


class LatentAttention(nnx.Module):
    """DeepseekV3Attention (MLA): q through a low-rank projection and its norm (or one q_proj); a
    joint key/value latent with one rotary key for every head, its norm, its up-projection."""

    def __init__(self, *, hidden_size, num_attention_heads, q_lora_rank, kv_lora_rank, qk_nope_head_dim,
                 qk_rope_head_dim, v_head_dim, attention_bias, norm, rngs):
        d, heads = hidden_size, num_attention_heads
        qk = qk_nope_head_dim + qk_rope_head_dim
        self.num_heads, self.q_lora_rank, self.kv_lora_rank = heads, q_lora_rank, kv_lora_rank
        self.qk_nope_head_dim, self.qk_rope_head_dim, self.v_head_dim = qk_nope_head_dim, qk_rope_head_dim, v_head_dim
        if q_lora_rank:
            self.q_a_proj = nnx.Linear(d, q_lora_rank, use_bias=attention_bias, rngs=rngs)
            self.q_a_layernorm = _norm(norm, q_lora_rank, rngs)
            self.q_b_proj = nnx.Linear(q_lora_rank, heads * qk, use_bias=False, rngs=rngs)
        else:
            self.q_proj = nnx.Linear(d, heads * qk, use_bias=False, rngs=rngs)
        self.kv_a_proj_with_mqa = nnx.Linear(d, kv_lora_rank + qk_rope_head_dim, use_bias=attention_bias, rngs=rngs)
        self.kv_a_layernorm = _norm(norm, kv_lora_rank, rngs)
        self.kv_b_proj = nnx.Linear(kv_lora_rank, heads * (qk_nope_head_dim + v_head_dim), use_bias=False, rngs=rngs)
        self.o_proj = nnx.Linear(heads * v_head_dim, d, use_bias=attention_bias, rngs=rngs)

    def __call__(self, x):
        heads, nope, rope, hv = self.num_heads, self.qk_nope_head_dim, self.qk_rope_head_dim, self.v_head_dim
        q = self.q_b_proj(self.q_a_layernorm(self.q_a_proj(x))) if self.q_lora_rank else self.q_proj(x)
        q_nope, q_rot = jnp.split(_heads(q, heads, nope + rope), [nope], axis=-1)
        latent, k_rot = jnp.split(self.kv_a_proj_with_mqa(x), [self.kv_lora_rank], axis=-1)
        k_nope, v = jnp.split(_heads(self.kv_b_proj(self.kv_a_layernorm(latent)), heads, nope + hv), [nope], axis=-1)
        k_rot = jnp.repeat(_rope(k_rot[:, :, None, :]), heads, axis=-2)  # one rotary key, for every head
        q = jnp.concatenate([q_nope, _rope(q_rot)], axis=-1)
        k = jnp.concatenate([k_nope, k_rot], axis=-1)
        # nnx.dot_product_attention takes values as wide as keys only: the same attention, by einsum
        w = jnp.einsum("bqhd,bkhd->bhqk", q, k) / jnp.sqrt(nope + rope).astype(q.dtype)
        w = jnp.where(_causal_mask(x), w, jnp.finfo(w.dtype).min)
        return self.o_proj(_merge(jnp.einsum("bhqk,bkhd->bqhd", jax.nn.softmax(w, axis=-1), v)))


class DecoderMLP(nnx.Module):
    """LlamaMLP: down(silu(gate(x)) * up(x)); not gated (GPT-NeoX, Falcon): down(gelu(up(x)))."""

    def __init__(self, *, hidden_size, intermediate_size, gated, bias, rngs):
        d, ff = hidden_size, intermediate_size
        self.gated = gated
        if gated:
            self.gate_proj = nnx.Linear(d, ff, use_bias=bias, rngs=rngs)
        self.up_proj = nnx.Linear(d, ff, use_bias=bias, rngs=rngs)
        self.down_proj = nnx.Linear(ff, d, use_bias=bias, rngs=rngs)

    def __call__(self, x):
        if self.gated:
            return self.down_proj(nnx.silu(self.gate_proj(x)) * self.up_proj(x))
        return self.down_proj(nnx.gelu(self.up_proj(x), approximate=False))


class TopKRouter(nnx.Module):
    """The router: one (num_experts, hidden) ``weight``; DeepSeek-V3's score-correction bias, an
    nnx.BatchStat."""

    def __init__(self, *, hidden_size, num_experts, top_k, score_bias, rngs):
        self.weight = nnx.Param(_INIT(rngs.params(), (num_experts, hidden_size)))
        if score_bias:
            self.e_score_correction_bias = nnx.BatchStat(jnp.zeros((num_experts,)))
        self.num_experts, self.top_k, self.score_bias = num_experts, top_k, score_bias

    def __call__(self, h):
        scores = jax.nn.softmax(h @ self.weight.T, axis=-1)  # (tokens, num_experts)
        choice = scores + self.e_score_correction_bias if self.score_bias else scores
        index = jax.lax.top_k(choice, self.top_k)[1]
        weights = jnp.take_along_axis(scores, index, axis=-1)
        return weights / weights.sum(axis=-1, keepdims=True), index


class Experts(nnx.Module):
    """Every routed expert's gate and up projections fused into one (num_experts, 2 * width,
    hidden) Param, its down projections into one (num_experts, hidden, width)."""

    def __init__(self, *, hidden_size, moe_intermediate_size, num_experts, rngs):
        n, ff, d = num_experts, moe_intermediate_size, hidden_size
        self.gate_up_proj = nnx.Param(_INIT(rngs.params(), (n, 2 * ff, d)))
        self.down_proj = nnx.Param(_INIT(rngs.params(), (n, d, ff)))
        self.num_experts = num_experts

    def __call__(self, h, index, weights):
        gate, up = jnp.split(jnp.matmul(self.gate_up_proj[...][index], h[:, None, :, None])[..., 0], 2, axis=-1)
        out = jnp.matmul(self.down_proj[...][index], (nnx.silu(gate) * up)[..., None])[..., 0]
        return (out * weights[..., None]).sum(axis=1)


class SparseMoeBlock(nnx.Module):
    """A mixture of experts: the router ``gate``, the routed ``experts``, the shared experts (with
    Qwen-MoE's sigmoid gate)."""

    def __init__(self, *, hidden_size, num_experts, num_experts_per_tok, moe_intermediate_size,
                 shared_expert_intermediate_size, shared_expert_gate, router_score_bias, mlp_bias, rngs):
        self.gate = TopKRouter(hidden_size=hidden_size, num_experts=num_experts, top_k=num_experts_per_tok,
                               score_bias=router_score_bias, rngs=rngs)
        self.experts = Experts(hidden_size=hidden_size, moe_intermediate_size=moe_intermediate_size,
                               num_experts=num_experts, rngs=rngs)
        self.shared_experts = (DecoderMLP(hidden_size=hidden_size, intermediate_size=shared_expert_intermediate_size,
                                          gated=True, bias=mlp_bias, rngs=rngs) if shared_expert_intermediate_size
                               else None)
        self.shared_expert_gate = nnx.Linear(hidden_size, 1, use_bias=False, rngs=rngs) if shared_expert_gate else None

    def __call__(self, x):
        h = x.reshape(-1, x.shape[-1])
        weights, index = self.gate(h)
        out = self.experts(h, index, weights)
        shared = self.shared_experts(h) if self.shared_experts is not None else jnp.zeros_like(h)
        if self.shared_expert_gate is not None:
            shared = shared * nnx.sigmoid(self.shared_expert_gate(h))
        return (out + shared).reshape(x.shape)


_NORMS = {"pre": ("input_layernorm", "post_attention_layernorm"), "shared": ("input_layernorm",),
          "post": ("post_attention_layernorm", "post_feedforward_layernorm"),
          "sandwich": ("input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                       "post_feedforward_layernorm")}


class DecoderLayer(nnx.Module):
    """One decoder layer, its norms placed as ``norm_placement`` says (torch_decoders.DecoderLayer)."""

    def __init__(self, *, attention, mlp, hidden_size, norm, norm_placement, parallel_attn, rngs):
        self.self_attn, self.mlp = attention, mlp
        for name in _NORMS[norm_placement]:
            setattr(self, name, _norm(norm, hidden_size, rngs))
        self.norm_placement, self.parallel_attn = norm_placement, parallel_attn

    def __call__(self, x):
        placement = self.norm_placement
        if self.parallel_attn:
            h = self.input_layernorm(x)
            h_mlp = h if placement == "shared" else self.post_attention_layernorm(x)
            return x + self.self_attn(h) + self.mlp(h_mlp)
        if placement == "post":
            x = x + self.post_attention_layernorm(self.self_attn(x))
            return x + self.post_feedforward_layernorm(self.mlp(x))
        if placement == "sandwich":
            x = x + self.post_attention_layernorm(self.self_attn(self.input_layernorm(x)))
            return x + self.post_feedforward_layernorm(self.mlp(self.pre_feedforward_layernorm(x)))
        x = x + self.self_attn(self.input_layernorm(x))
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaForCausalLM(nnx.Module):
    """The decoder family (the spec's ``llama``): embed_tokens, the layers, the final norm, the LM
    head (tied: the token embedding's own ``attend``)."""

    def __init__(self, *, vocab_size, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads,
                 num_key_value_heads, head_dim, attention_bias, qkv_bias, mlp_bias, tie_word_embeddings, norm,
                 norm_placement, parallel_attn, qk_norm, gated_mlp, q_lora_rank, kv_lora_rank, qk_nope_head_dim,
                 qk_rope_head_dim, v_head_dim, num_experts, num_experts_per_tok, moe_intermediate_size,
                 shared_expert_intermediate_size, shared_expert_gate, first_k_dense_replace, decoder_sparse_step,
                 router_score_bias, rngs):
        self.config = _config(
            vocab_size=vocab_size, hidden_size=hidden_size, intermediate_size=intermediate_size,
            num_hidden_layers=num_hidden_layers, num_attention_heads=num_attention_heads,
            num_key_value_heads=num_key_value_heads, head_dim=head_dim, attention_bias=attention_bias,
            qkv_bias=qkv_bias, mlp_bias=mlp_bias, tie_word_embeddings=tie_word_embeddings, norm=norm,
            norm_placement=norm_placement, parallel_attn=parallel_attn, qk_norm=qk_norm, gated_mlp=gated_mlp,
            q_lora_rank=q_lora_rank, kv_lora_rank=kv_lora_rank, qk_nope_head_dim=qk_nope_head_dim,
            qk_rope_head_dim=qk_rope_head_dim, v_head_dim=v_head_dim, num_experts=num_experts,
            num_experts_per_tok=num_experts_per_tok, moe_intermediate_size=moe_intermediate_size,
            shared_expert_intermediate_size=shared_expert_intermediate_size, shared_expert_gate=shared_expert_gate,
            first_k_dense_replace=first_k_dense_replace, decoder_sparse_step=decoder_sparse_step,
            router_score_bias=router_score_bias)
        d = hidden_size
        kv = num_key_value_heads or num_attention_heads
        hd = head_dim or hidden_size // num_attention_heads

        def attention():
            if kv_lora_rank:
                return LatentAttention(hidden_size=d, num_attention_heads=num_attention_heads, q_lora_rank=q_lora_rank,
                                       kv_lora_rank=kv_lora_rank, qk_nope_head_dim=qk_nope_head_dim,
                                       qk_rope_head_dim=qk_rope_head_dim, v_head_dim=v_head_dim,
                                       attention_bias=attention_bias, norm=norm, rngs=rngs)
            return DecoderAttention(hidden_size=d, num_attention_heads=num_attention_heads, num_key_value_heads=kv,
                                    head_dim=hd, attention_bias=attention_bias, qkv_bias=qkv_bias, qk_norm=qk_norm,
                                    norm=norm, rngs=rngs)

        def mlp(i: int):  # transformers' rule: a mixture of experts from first_k_dense_replace on, every step-th layer
            if num_experts and i >= first_k_dense_replace and (i + 1) % decoder_sparse_step == 0:
                return SparseMoeBlock(hidden_size=d, num_experts=num_experts, num_experts_per_tok=num_experts_per_tok,
                                      moe_intermediate_size=moe_intermediate_size,
                                      shared_expert_intermediate_size=shared_expert_intermediate_size,
                                      shared_expert_gate=shared_expert_gate, router_score_bias=router_score_bias,
                                      mlp_bias=mlp_bias, rngs=rngs)
            return DecoderMLP(hidden_size=d, intermediate_size=intermediate_size, gated=gated_mlp, bias=mlp_bias,
                              rngs=rngs)

        self.model = Namespace(
            embed_tokens=nnx.Embed(vocab_size, d, rngs=rngs),
            layers=nnx.List(DecoderLayer(attention=attention(), mlp=mlp(i), hidden_size=d, norm=norm,
                                         norm_placement=norm_placement, parallel_attn=parallel_attn, rngs=rngs)
                            for i in range(num_hidden_layers)),
            norm=_norm(norm, d, rngs))
        # tied: the head is the token embedding itself (embed_tokens.attend), so no second variable exists
        self.lm_head = None if tie_word_embeddings else nnx.Linear(d, vocab_size, use_bias=False, rngs=rngs)

    def __call__(self, input_ids):  # (N, T) -> (N, T, vocab_size)
        m = self.model
        x = m.embed_tokens(input_ids)
        for layer in m.layers:
            x = layer(x)
        x = m.norm(x)
        return m.embed_tokens.attend(x) if self.lm_head is None else self.lm_head(x)


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


class T5Attention(nnx.Module):
    """T5Attention: bias-free q, k, v and o, unscaled scores plus a position bias (the stack's first
    layer holds the relative_attention_bias table, an Embed of buckets x heads)."""

    def __init__(self, *, d_model, d_kv, num_heads, relative_attention_num_buckets, has_relative_attention_bias, rngs):
        inner = num_heads * d_kv
        self.q, self.k, self.v = (nnx.Linear(d_model, inner, use_bias=False, rngs=rngs) for _ in range(3))
        self.o = nnx.Linear(inner, d_model, use_bias=False, rngs=rngs)
        self.relative_attention_bias = (nnx.Embed(relative_attention_num_buckets, num_heads, rngs=rngs)
                                        if has_relative_attention_bias else None)
        self.num_heads, self.d_kv, self.num_buckets = num_heads, d_kv, relative_attention_num_buckets

    def position_bias(self, t: int, bidirectional: bool):
        """(1, heads, t, t), from this layer's table."""
        relative = jnp.arange(t)[None, :] - jnp.arange(t)[:, None]
        return jnp.transpose(self.relative_attention_bias(
            relative_position_bucket(relative, bidirectional, self.num_buckets)), (2, 0, 1))[None]

    def __call__(self, x, kv, bias=None, causal=False):
        n, hd = self.num_heads, self.d_kv
        q, k, v = _heads(self.q(x), n, hd), _heads(self.k(kv), n, hd), _heads(self.v(kv), n, hd)
        w = jnp.einsum("bqhd,bkhd->bhqk", q, k)  # T5 does not scale its scores
        if bias is not None:
            w = w + bias
        if causal:
            w = jnp.where(_causal_mask(x), w, jnp.finfo(w.dtype).min)
        return self.o(_merge(jnp.einsum("bhqk,bkhd->bqhd", jax.nn.softmax(w, axis=-1), v)))


class T5DenseFF(nnx.Module):
    """T5DenseActDense (wi, wo) or T5DenseGatedActDense (wi_0, wi_1, wo)."""

    def __init__(self, *, d_model, d_ff, feed_forward_proj, rngs):
        self.gated = feed_forward_proj.startswith("gated-")
        self.act_name = feed_forward_proj.removeprefix("gated-")
        if self.gated:
            self.wi_0 = nnx.Linear(d_model, d_ff, use_bias=False, rngs=rngs)
            self.wi_1 = nnx.Linear(d_model, d_ff, use_bias=False, rngs=rngs)
        else:
            self.wi = nnx.Linear(d_model, d_ff, use_bias=False, rngs=rngs)
        self.wo = nnx.Linear(d_ff, d_model, use_bias=False, rngs=rngs)

    def __call__(self, x):
        act = {"relu": nnx.relu, "silu": nnx.silu, "gelu": lambda t: nnx.gelu(t, approximate=False),
               "gelu_new": lambda t: nnx.gelu(t, approximate=True)}[self.act_name]
        if self.gated:
            return self.wo(act(self.wi_0(x)) * self.wi_1(x))
        return self.wo(act(self.wi(x)))


class T5Stack(nnx.Module):
    """T5Stack: the blocks (each a ``layer`` list: self-attention, cross-attention for the decoder,
    the feed-forward, each with its layer_norm) and final_layer_norm; the shared embedding is the model's."""

    def __init__(self, *, decoder, num_layers, d_model, d_kv, d_ff, num_heads, relative_attention_num_buckets,
                 feed_forward_proj, rngs):
        def attention(first):
            return T5Attention(d_model=d_model, d_kv=d_kv, num_heads=num_heads, has_relative_attention_bias=first,
                               relative_attention_num_buckets=relative_attention_num_buckets, rngs=rngs)

        def norm():
            return nnx.RMSNorm(d_model, epsilon=1e-6, rngs=rngs)  # T5LayerNorm: a scale, no mean

        blocks = []
        for i in range(num_layers):
            layer = [Namespace(SelfAttention=attention(i == 0), layer_norm=norm())]
            if decoder:
                layer.append(Namespace(EncDecAttention=attention(False), layer_norm=norm()))
            layer.append(Namespace(DenseReluDense=T5DenseFF(d_model=d_model, d_ff=d_ff,
                                                            feed_forward_proj=feed_forward_proj, rngs=rngs),
                                   layer_norm=norm()))
            blocks.append(Namespace(layer=nnx.List(layer)))
        self.block = nnx.List(blocks)
        self.final_layer_norm = norm()
        self.decoder = decoder

    def __call__(self, x, memory=None):
        bias = self.block[0].layer[0].SelfAttention.position_bias(x.shape[1], bidirectional=not self.decoder)
        for block in self.block:
            sa = block.layer[0]
            h = sa.layer_norm(x)
            x = x + sa.SelfAttention(h, h, bias, causal=self.decoder)
            if self.decoder:
                ca = block.layer[1]
                x = x + ca.EncDecAttention(ca.layer_norm(x), memory)
            ff = block.layer[-1]
            x = x + ff.DenseReluDense(ff.layer_norm(x))
        return self.final_layer_norm(x)


class T5ForConditionalGeneration(nnx.Module):
    """T5ForConditionalGeneration: shared, encoder, decoder, lm_head (tied: shared.attend)."""

    def __init__(self, *, vocab_size, d_model, d_kv, d_ff, num_layers, num_decoder_layers, num_heads,
                 relative_attention_num_buckets, feed_forward_proj, tie_word_embeddings, rngs):
        self.config = _config(vocab_size=vocab_size, d_model=d_model, d_kv=d_kv, d_ff=d_ff, num_layers=num_layers,
                              num_decoder_layers=num_decoder_layers, num_heads=num_heads,
                              relative_attention_num_buckets=relative_attention_num_buckets,
                              feed_forward_proj=feed_forward_proj, tie_word_embeddings=tie_word_embeddings)
        common = dict(d_model=d_model, d_kv=d_kv, d_ff=d_ff, num_heads=num_heads, feed_forward_proj=feed_forward_proj,
                      relative_attention_num_buckets=relative_attention_num_buckets, rngs=rngs)
        self.shared = nnx.Embed(vocab_size, d_model, rngs=rngs)
        self.encoder = T5Stack(decoder=False, num_layers=num_layers, **common)
        self.decoder = T5Stack(decoder=True, num_layers=num_decoder_layers or num_layers, **common)
        self.lm_head = None if tie_word_embeddings else nnx.Linear(d_model, vocab_size, use_bias=False, rngs=rngs)
        self.scale = d_model ** -0.5

    def __call__(self, input_ids, decoder_input_ids):
        memory = self.encoder(self.shared(input_ids))
        h = self.decoder(self.shared(decoder_input_ids), memory)
        return self.shared.attend(h * self.scale) if self.lm_head is None else self.lm_head(h)


# ------------------------------------------------------------------ vit_hf
class ViTLayer(nnx.Module):
    """ViTLayer: layernorm_before, attention (q_proj, k_proj, v_proj, o_proj), layernorm_after,
    mlp (fc1, exact GELU, fc2)."""

    def __init__(self, *, hidden_size, num_attention_heads, head_dim, intermediate_size, qkv_bias, rngs):
        d, inner = hidden_size, num_attention_heads * head_dim
        self.num_heads, self.head_dim = num_attention_heads, head_dim
        self.attention = Namespace(q_proj=nnx.Linear(d, inner, use_bias=qkv_bias, rngs=rngs),
                                   k_proj=nnx.Linear(d, inner, use_bias=qkv_bias, rngs=rngs),
                                   v_proj=nnx.Linear(d, inner, use_bias=qkv_bias, rngs=rngs),
                                   o_proj=nnx.Linear(inner, d, rngs=rngs))
        self.layernorm_before = nnx.LayerNorm(d, epsilon=1e-12, rngs=rngs)
        self.layernorm_after = nnx.LayerNorm(d, epsilon=1e-12, rngs=rngs)
        self.mlp = Namespace(fc1=nnx.Linear(d, intermediate_size, rngs=rngs), fc2=nnx.Linear(intermediate_size, d, rngs=rngs))

    def __call__(self, x):
        a, n, hd = self.attention, self.num_heads, self.head_dim
        h = self.layernorm_before(x)
        ctx = nnx.dot_product_attention(_heads(a.q_proj(h), n, hd), _heads(a.k_proj(h), n, hd), _heads(a.v_proj(h), n, hd))
        x = x + a.o_proj(_merge(ctx))
        return x + self.mlp.fc2(nnx.gelu(self.mlp.fc1(self.layernorm_after(x)), approximate=False))


class ViTModel(nnx.Module):
    """ViTModel with its pooler (the spec's ``vit_hf``), channels-last."""

    def __init__(self, *, hidden_size, num_hidden_layers, num_attention_heads, head_dim, intermediate_size, image_size,
                 patch_size, num_channels, qkv_bias, pooler_output_size, rngs):
        self.config = _config(hidden_size=hidden_size, num_hidden_layers=num_hidden_layers,
                              num_attention_heads=num_attention_heads, head_dim=head_dim,
                              intermediate_size=intermediate_size, image_size=image_size, patch_size=patch_size,
                              num_channels=num_channels, qkv_bias=qkv_bias, pooler_output_size=pooler_output_size)
        d, p = hidden_size, patch_size
        patches = (image_size // p) ** 2
        self.embeddings = Namespace(
            cls_token=nnx.Param(jnp.zeros((1, 1, d))),
            position_embeddings=nnx.Param(jnp.zeros((1, patches + 1, d))),
            patch_embeddings=Namespace(projection=nnx.Conv(num_channels, d, (p, p), strides=(p, p), padding="VALID",
                                                           rngs=rngs)))
        self.layers = nnx.List(ViTLayer(hidden_size=d, num_attention_heads=num_attention_heads,
                                        head_dim=head_dim or d // num_attention_heads,
                                        intermediate_size=intermediate_size, qkv_bias=qkv_bias, rngs=rngs)
                               for _ in range(num_hidden_layers))
        self.layernorm = nnx.LayerNorm(d, epsilon=1e-12, rngs=rngs)
        self.pooler = Namespace(dense=nnx.Linear(d, pooler_output_size or d, rngs=rngs))

    def __call__(self, pixels):  # (batch, height, width, channels)
        e = self.embeddings
        x = e.patch_embeddings.projection(pixels)
        x = x.reshape(x.shape[0], -1, x.shape[-1])
        cls = jnp.broadcast_to(e.cls_token[...], (x.shape[0], 1, x.shape[-1]))
        x = jnp.concatenate([cls, x], axis=1) + e.position_embeddings[...]
        for layer in self.layers:
            x = layer(x)
        x = self.layernorm(x)
        return x, jnp.tanh(self.pooler.dense(x[:, 0]))


class FlaxNnxDecoders:
    """The builders of transformers.yaml's families after GPT-2, mixed into FlaxNnxAdapter (same
    names, in the same order, in every adapter's *_decoders.py). Each returns a factory of its
    model; the adapter calls it under ``nnx.eval_shape``."""

    # ------------------------------------------------------------------ transformers.yaml
    def build_llama(self, v, x):
        return Built(factory=lambda rngs: LlamaForCausalLM(
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
            decoder_sparse_step=v.decoder_sparse_step, router_score_bias=v.router_score_bias, rngs=rngs))

    def build_t5(self, v, x):
        return Built(factory=lambda rngs: T5ForConditionalGeneration(
            vocab_size=v.vocab_size, d_model=v.d_model, d_kv=v.d_kv, d_ff=v.d_ff, num_layers=v.num_layers,
            num_decoder_layers=v.num_decoder_layers, num_heads=v.num_heads,
            relative_attention_num_buckets=v.relative_attention_num_buckets, feed_forward_proj=v.feed_forward_proj,
            tie_word_embeddings=v.tie_word_embeddings, rngs=rngs))

    def build_vit_hf(self, v, x):
        return Built(factory=lambda rngs: ViTModel(
            hidden_size=v.hidden_size, num_hidden_layers=v.num_hidden_layers,
            num_attention_heads=v.num_attention_heads, head_dim=v.head_dim, intermediate_size=v.intermediate_size,
            image_size=v.image_size, patch_size=v.patch_size, num_channels=v.num_channels, qkv_bias=v.qkv_bias,
            pooler_output_size=v.pooler_output_size, rngs=rngs))
