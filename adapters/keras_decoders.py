"""Keras 3: the Hugging Face families of spec/models/transformers.yaml after GPT-2, written natively
with keras.layers: the decoder family (``llama``), T5 and ViT (``vit_hf``).

The same architectures as ``torch_decoders.py``. As in ``keras_models.py``, each model is a layer
whose ``build(input_shape)`` builds every sublayer on a computed shape (no symbolic call), so the
adapter's ``StatelessScope`` keeps every variable abstract, and names follow transformers'
state_dict keys (``llama/model/layers/0/self_attn/q_proj/kernel``). A mixture of experts keeps
its routed experts as two 3D weights (``mlp/experts/gate_up_proj``, ``mlp/experts/down_proj``)
and its router as one (``mlp/gate/weight``); each token's top-k experts are gathered and applied
as batched matmuls (``ops.matmul``: MatMul and BatchMatMulV2 on TensorFlow, which its profiler
counts). Attention's scores run as ``ops.dot_product_attention``, as in keras_models.py (MLA on
JAX, whose dot_product_attention refuses values narrower than keys: the same attention by einsum).
"""
from __future__ import annotations

import math
from typing import Any, Iterable

import keras
from keras import layers, ops

from .keras_models import _LMHead, _Stack, _built, _last


def routed_experts(sublayers: Iterable[Any]) -> dict[int, dict[str, int]]:
    """The routed experts' weights, by id: ``{"experts": E, "top_k": k}`` for each weight of every
    layer's ``experts`` sublayer whose sibling router (``gate``) has ``top_k``."""
    out: dict[int, dict[str, int]] = {}
    for layer in sublayers:
        experts, gate = getattr(layer, "experts", None), getattr(layer, "gate", None)
        k, n = getattr(gate, "top_k", None), getattr(experts, "num_experts", None)
        if isinstance(experts, layers.Layer) and k and n:
            out.update({id(w): {"experts": n, "top_k": k} for w in experts.weights})
    return out


def _norm(norm: str, name: str) -> layers.Layer:
    """RMSNorm (a weight; Llama's eps) or LayerNorm (a weight and a bias; GPT-NeoX's eps)."""
    if norm == "rms":
        return layers.RMSNormalization(epsilon=1e-6, name=name)
    return layers.LayerNormalization(epsilon=1e-5, name=name)


def _rope(x, theta: float = 10000.0):
    """Rotary positions (Hugging Face's rotate_half layout) on (batch, time, heads, head_dim)."""
    t, hd = ops.shape(x)[1], x.shape[-1]
    inv_freq = 1.0 / ops.power(theta, ops.arange(0, hd, 2, dtype="float32") / hd)
    freqs = ops.arange(t, dtype="float32")[:, None] * inv_freq[None, :]  # an outer product, not a matmul
    emb = ops.concatenate([freqs, freqs], axis=-1)[None, :, None, :]
    x1, x2 = ops.split(x, 2, axis=-1)
    return x * ops.cos(emb) + ops.concatenate([-x2, x1], axis=-1) * ops.sin(emb)


def _heads(x, n: int):
    return ops.reshape(x, (ops.shape(x)[0], ops.shape(x)[1], n, -1))


def _merge(x):
    return ops.reshape(x, (ops.shape(x)[0], ops.shape(x)[1], -1))


# ------------------------------------------------------------------ the decoder family (llama)
class DecoderAttention(layers.Layer):
    """LlamaAttention: q, k, v (grouped-query), rotary q and k, causal attention, o; QK-norm per
    head (``q_norm``/``k_norm`` over head_dim) or over every head (OLMo-2)."""

    def __init__(self, *, hidden_size, num_attention_heads, num_key_value_heads, head_dim, attention_bias, qkv_bias,
                 qk_norm, norm, **kwargs):
        super().__init__(**kwargs)
        heads, kv_heads = num_attention_heads, num_key_value_heads
        self.heads, self.kv_heads, self.head_dim, self.qk_norm = heads, kv_heads, head_dim, qk_norm
        self.q_proj = layers.Dense(heads * head_dim, use_bias=attention_bias or qkv_bias, name="q_proj")
        self.k_proj = layers.Dense(kv_heads * head_dim, use_bias=attention_bias or qkv_bias, name="k_proj")
        self.v_proj = layers.Dense(kv_heads * head_dim, use_bias=attention_bias or qkv_bias, name="v_proj")
        self.o_proj = layers.Dense(hidden_size, use_bias=attention_bias, name="o_proj")
        if qk_norm != "none":
            self.q_norm, self.k_norm = _norm(norm, "q_norm"), _norm(norm, "k_norm")

    def build(self, input_shape):
        for layer in (self.q_proj, self.k_proj, self.v_proj):
            layer.build(input_shape)
        self.o_proj.build(_last(input_shape, self.heads * self.head_dim))
        if self.qk_norm == "head":
            self.q_norm.build(_last(input_shape, self.head_dim))
            self.k_norm.build(_last(input_shape, self.head_dim))
        elif self.qk_norm == "full":
            self.q_norm.build(_last(input_shape, self.heads * self.head_dim))
            self.k_norm.build(_last(input_shape, self.kv_heads * self.head_dim))

    def call(self, x):
        q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(x)
        if self.qk_norm == "full":
            q, k = self.q_norm(q), self.k_norm(k)
        q, k, v = _heads(q, self.heads), _heads(k, self.kv_heads), _heads(v, self.kv_heads)
        if self.qk_norm == "head":
            q, k = self.q_norm(q), self.k_norm(k)
        q, k = _rope(q), _rope(k)
        if self.kv_heads != self.heads:  # each k/v head serves heads // kv_heads queries
            k, v = ops.repeat(k, self.heads // self.kv_heads, axis=2), ops.repeat(v, self.heads // self.kv_heads, axis=2)
        return self.o_proj(_merge(ops.dot_product_attention(q, k, v, is_causal=True)))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class LatentAttention(layers.Layer):
    """DeepseekV3Attention (MLA): q through a low-rank projection and its norm (or one q_proj); a
    joint key/value latent with one rotary key for every head, its norm, its up-projection."""

    def __init__(self, *, hidden_size, num_attention_heads, q_lora_rank, kv_lora_rank, qk_nope_head_dim,
                 qk_rope_head_dim, v_head_dim, attention_bias, norm, **kwargs):
        super().__init__(**kwargs)
        heads = num_attention_heads
        self.heads, self.q_lora_rank, self.kv_lora_rank = heads, q_lora_rank, kv_lora_rank
        self.nope, self.rope, self.hv = qk_nope_head_dim, qk_rope_head_dim, v_head_dim
        qk = qk_nope_head_dim + qk_rope_head_dim
        if q_lora_rank:
            self.q_a_proj = layers.Dense(q_lora_rank, use_bias=attention_bias, name="q_a_proj")
            self.q_a_layernorm = _norm(norm, "q_a_layernorm")
            self.q_b_proj = layers.Dense(heads * qk, use_bias=False, name="q_b_proj")
        else:
            self.q_proj = layers.Dense(heads * qk, use_bias=False, name="q_proj")
        self.kv_a_proj_with_mqa = layers.Dense(kv_lora_rank + qk_rope_head_dim, use_bias=attention_bias,
                                               name="kv_a_proj_with_mqa")
        self.kv_a_layernorm = _norm(norm, "kv_a_layernorm")
        self.kv_b_proj = layers.Dense(heads * (qk_nope_head_dim + v_head_dim), use_bias=False, name="kv_b_proj")
        self.o_proj = layers.Dense(hidden_size, use_bias=attention_bias, name="o_proj")

    def build(self, input_shape):
        if self.q_lora_rank:
            self.q_a_proj.build(input_shape)
            self.q_a_layernorm.build(_last(input_shape, self.q_lora_rank))
            self.q_b_proj.build(_last(input_shape, self.q_lora_rank))
        else:
            self.q_proj.build(input_shape)
        self.kv_a_proj_with_mqa.build(input_shape)
        self.kv_a_layernorm.build(_last(input_shape, self.kv_lora_rank))
        self.kv_b_proj.build(_last(input_shape, self.kv_lora_rank))
        self.o_proj.build(_last(input_shape, self.heads * self.hv))

    def call(self, x):
        nope, rope, hv = self.nope, self.rope, self.hv
        q = self.q_b_proj(self.q_a_layernorm(self.q_a_proj(x))) if self.q_lora_rank else self.q_proj(x)
        q_nope, q_rot = ops.split(_heads(q, self.heads), [nope], axis=-1)
        latent, k_rot = ops.split(self.kv_a_proj_with_mqa(x), [self.kv_lora_rank], axis=-1)
        k_nope, v = ops.split(_heads(self.kv_b_proj(self.kv_a_layernorm(latent)), self.heads), [nope], axis=-1)
        k_rot = _rope(k_rot[:, :, None, :])  # one rotary key, for every head
        q = ops.concatenate([q_nope, _rope(q_rot)], axis=-1)
        k = ops.concatenate([k_nope, ops.repeat(k_rot, self.heads, axis=2)], axis=-1)
        if keras.backend.backend() != "jax":
            return self.o_proj(_merge(ops.dot_product_attention(q, k, v, is_causal=True)))
        # jax.nn.dot_product_attention refuses values narrower than keys: the same attention, by einsum
        scores = ops.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(nope + rope)
        t = ops.shape(x)[1]
        scores = ops.where(ops.tril(ops.ones((t, t), dtype="bool")), scores, ops.full_like(scores, -1e9))
        return self.o_proj(_merge(ops.einsum("bhqk,bkhd->bqhd", ops.softmax(scores, axis=-1), v)))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class DecoderMLP(layers.Layer):
    """LlamaMLP: down(silu(gate(x)) * up(x)); not gated (GPT-NeoX, Falcon): down(gelu(up(x)))."""

    def __init__(self, *, hidden_size, intermediate_size, gated, bias, **kwargs):
        super().__init__(**kwargs)
        self.ff, self.gated = intermediate_size, gated
        if gated:
            self.gate_proj = layers.Dense(intermediate_size, use_bias=bias, name="gate_proj")
        self.up_proj = layers.Dense(intermediate_size, use_bias=bias, name="up_proj")
        self.down_proj = layers.Dense(hidden_size, use_bias=bias, name="down_proj")

    def build(self, input_shape):
        if self.gated:
            self.gate_proj.build(input_shape)
        self.up_proj.build(input_shape)
        self.down_proj.build(_last(input_shape, self.ff))

    def call(self, x):
        if self.gated:
            return self.down_proj(ops.silu(self.gate_proj(x)) * self.up_proj(x))
        return self.down_proj(ops.gelu(self.up_proj(x), approximate=False))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class TopKRouter(layers.Layer):
    """The router: one (num_experts, hidden) ``weight``; DeepSeek-V3's score-correction bias, a
    non-trainable weight."""

    def __init__(self, *, num_experts, top_k, score_bias, **kwargs):
        super().__init__(**kwargs)
        self.num_experts, self.top_k, self.score_bias = num_experts, top_k, score_bias

    def build(self, input_shape):
        self.weight = self.add_weight(shape=(self.num_experts, input_shape[-1]), initializer="glorot_uniform",
                                      name="weight")
        if self.score_bias:
            self.e_score_correction_bias = self.add_weight(shape=(self.num_experts,), initializer="zeros",
                                                           trainable=False, name="e_score_correction_bias")

    def call(self, h):
        scores = ops.softmax(ops.matmul(h, ops.transpose(self.weight)), axis=-1)  # (tokens, num_experts)
        choice = scores + self.e_score_correction_bias if self.score_bias else scores
        index = ops.top_k(choice, self.top_k)[1]
        weights = ops.take_along_axis(scores, index, axis=-1)
        return weights / ops.sum(weights, axis=-1, keepdims=True), index


class Experts(layers.Layer):
    """Every routed expert's gate and up projections fused into one (num_experts, 2 * width,
    hidden) weight, its down projections into one (num_experts, hidden, width)."""

    def __init__(self, *, moe_intermediate_size, num_experts, **kwargs):
        super().__init__(**kwargs)
        self.ff, self.num_experts = moe_intermediate_size, num_experts

    def build(self, input_shape):
        d = input_shape[-1]
        self.gate_up_proj = self.add_weight(shape=(self.num_experts, 2 * self.ff, d), initializer="glorot_uniform",
                                            name="gate_up_proj")
        self.down_proj = self.add_weight(shape=(self.num_experts, d, self.ff), initializer="glorot_uniform",
                                         name="down_proj")

    def call(self, h, index, weights):
        gate_up = ops.matmul(ops.take(self.gate_up_proj, index, axis=0), h[:, None, :, None])[..., 0]
        gate, up = ops.split(gate_up, 2, axis=-1)
        out = ops.matmul(ops.take(self.down_proj, index, axis=0), (ops.silu(gate) * up)[..., None])[..., 0]
        return ops.sum(out * weights[..., None], axis=1)


class SparseMoeBlock(layers.Layer):
    """A mixture of experts: the router ``gate``, the routed ``experts``, the shared experts (with
    Qwen-MoE's sigmoid gate)."""

    def __init__(self, *, hidden_size, num_experts, num_experts_per_tok, moe_intermediate_size,
                 shared_expert_intermediate_size, shared_expert_gate, router_score_bias, mlp_bias, **kwargs):
        super().__init__(**kwargs)
        self.gate = TopKRouter(num_experts=num_experts, top_k=num_experts_per_tok, score_bias=router_score_bias,
                               name="gate")
        self.experts = Experts(moe_intermediate_size=moe_intermediate_size, num_experts=num_experts, name="experts")
        self.shared_experts = (DecoderMLP(hidden_size=hidden_size, intermediate_size=shared_expert_intermediate_size,
                                          gated=True, bias=mlp_bias, name="shared_experts")
                               if shared_expert_intermediate_size else None)
        self.shared_expert_gate = (layers.Dense(1, use_bias=False, name="shared_expert_gate") if shared_expert_gate
                                   else None)

    def build(self, input_shape):
        for layer in (self.gate, self.experts, self.shared_experts, self.shared_expert_gate):
            if layer is not None:
                layer.build(input_shape)

    def call(self, x):
        h = ops.reshape(x, (-1, x.shape[-1]))
        weights, index = self.gate(h)
        out = self.experts(h, index, weights)
        shared = self.shared_experts(h) if self.shared_experts is not None else ops.zeros_like(h)
        if self.shared_expert_gate is not None:
            shared = shared * ops.sigmoid(self.shared_expert_gate(h))
        return ops.reshape(out + shared, ops.shape(x))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


_NORMS = {"pre": ("input_layernorm", "post_attention_layernorm"), "shared": ("input_layernorm",),
          "post": ("post_attention_layernorm", "post_feedforward_layernorm"),
          "sandwich": ("input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                       "post_feedforward_layernorm")}


class DecoderLayer(layers.Layer):
    """One decoder layer, its norms placed as ``norm_placement`` says (torch_decoders.DecoderLayer)."""

    def __init__(self, *, attention, mlp, norm, norm_placement, parallel_attn, **kwargs):
        super().__init__(**kwargs)
        self.self_attn, self.mlp = attention, mlp
        self.norms = {name: _norm(norm, name) for name in _NORMS[norm_placement]}
        for name, layer in self.norms.items():
            setattr(self, name, layer)
        self.norm_placement, self.parallel_attn = norm_placement, parallel_attn

    def build(self, input_shape):
        self.self_attn.build(input_shape)
        self.mlp.build(input_shape)
        for layer in self.norms.values():
            layer.build(input_shape)

    def call(self, x):
        placement, n = self.norm_placement, self.norms
        if self.parallel_attn:
            h = n["input_layernorm"](x)
            h_mlp = h if placement == "shared" else n["post_attention_layernorm"](x)
            return x + self.self_attn(h) + self.mlp(h_mlp)
        if placement == "post":
            x = x + n["post_attention_layernorm"](self.self_attn(x))
            return x + n["post_feedforward_layernorm"](self.mlp(x))
        if placement == "sandwich":
            x = x + n["post_attention_layernorm"](self.self_attn(n["input_layernorm"](x)))
            return x + n["post_feedforward_layernorm"](self.mlp(n["pre_feedforward_layernorm"](x)))
        x = x + self.self_attn(n["input_layernorm"](x))
        return x + self.mlp(n["post_attention_layernorm"](x))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class LlamaForCausalLM(_LMHead, layers.Layer):
    """The decoder family (the spec's ``llama``): embed_tokens, the layers, the final norm, the LM head."""

    def __init__(self, *, vocab_size, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads,
                 num_key_value_heads, head_dim, attention_bias, qkv_bias, mlp_bias, tie_word_embeddings, norm,
                 norm_placement, parallel_attn, qk_norm, gated_mlp, q_lora_rank, kv_lora_rank, qk_nope_head_dim,
                 qk_rope_head_dim, v_head_dim, num_experts, num_experts_per_tok, moe_intermediate_size,
                 shared_expert_intermediate_size, shared_expert_gate, first_k_dense_replace, decoder_sparse_step,
                 router_score_bias, **kwargs):
        super().__init__(**kwargs)
        d = self.d = hidden_size
        kv = num_key_value_heads or num_attention_heads
        hd = head_dim or hidden_size // num_attention_heads

        def attention():
            if kv_lora_rank:
                return LatentAttention(hidden_size=d, num_attention_heads=num_attention_heads, q_lora_rank=q_lora_rank,
                                       kv_lora_rank=kv_lora_rank, qk_nope_head_dim=qk_nope_head_dim,
                                       qk_rope_head_dim=qk_rope_head_dim, v_head_dim=v_head_dim,
                                       attention_bias=attention_bias, norm=norm, name="self_attn")
            return DecoderAttention(hidden_size=d, num_attention_heads=num_attention_heads, num_key_value_heads=kv,
                                    head_dim=hd, attention_bias=attention_bias, qkv_bias=qkv_bias, qk_norm=qk_norm,
                                    norm=norm, name="self_attn")

        def mlp(i: int):  # transformers' rule: a mixture of experts from first_k_dense_replace on, every step-th layer
            if num_experts and i >= first_k_dense_replace and (i + 1) % decoder_sparse_step == 0:
                return SparseMoeBlock(hidden_size=d, num_experts=num_experts, num_experts_per_tok=num_experts_per_tok,
                                      moe_intermediate_size=moe_intermediate_size,
                                      shared_expert_intermediate_size=shared_expert_intermediate_size,
                                      shared_expert_gate=shared_expert_gate, router_score_bias=router_score_bias,
                                      mlp_bias=mlp_bias, name="mlp")
            return DecoderMLP(hidden_size=d, intermediate_size=intermediate_size, gated=gated_mlp, bias=mlp_bias,
                              name="mlp")

        self.embed_tokens = layers.Embedding(vocab_size, d, name="embed_tokens")
        self.decoder_layers = _Stack([DecoderLayer(attention=attention(), mlp=mlp(i), norm=norm,
                                                   norm_placement=norm_placement, parallel_attn=parallel_attn,
                                                   name=str(i))
                                      for i in range(num_hidden_layers)], name="layers")
        self.norm = _norm(norm, "norm")
        self._head(vocab_size, tie_word_embeddings)

    def build(self, input_shape):  # input_shape: (batch, time) token ids
        hidden = tuple(input_shape) + (self.d,)
        with keras.name_scope("model"):
            self.embed_tokens.build(input_shape)
            self.decoder_layers.build(hidden)
            self.norm.build(hidden)
        self._build_head(hidden)

    def call(self, ids):
        return self._logits(self.norm(self.decoder_layers(self.embed_tokens(ids))), self.embed_tokens)


# ------------------------------------------------------------------ t5
def relative_position_bucket(relative, bidirectional: bool, num_buckets: int, max_distance: int = 128):
    """transformers' T5Attention._relative_position_bucket (torch_decoders.relative_position_bucket)."""
    buckets = ops.zeros_like(relative)
    if bidirectional:
        num_buckets //= 2
        buckets = buckets + ops.cast(relative > 0, "int32") * num_buckets
        relative = ops.abs(relative)
    else:
        relative = -ops.minimum(relative, ops.zeros_like(relative))
    max_exact = max(num_buckets // 2, 1)
    scaled = ops.log(ops.maximum(ops.cast(relative, "float32"), 1.0) / max_exact) / math.log(max_distance / max_exact)
    large = ops.minimum(max_exact + ops.cast(scaled * (num_buckets - max_exact), "int32"), num_buckets - 1)
    return buckets + ops.where(relative < max_exact, relative, large)


class T5Attention(layers.Layer):
    """T5Attention: bias-free q, k, v and o, unscaled scores plus a position bias (the stack's first
    layer holds the relative_attention_bias table, an Embedding of buckets x heads)."""

    def __init__(self, *, d_model, d_kv, num_heads, relative_attention_num_buckets, has_relative_attention_bias,
                 **kwargs):
        super().__init__(**kwargs)
        inner = num_heads * d_kv
        self.q, self.k, self.v = (layers.Dense(inner, use_bias=False, name=n) for n in ("q", "k", "v"))
        self.o = layers.Dense(d_model, use_bias=False, name="o")
        self.relative_attention_bias = (layers.Embedding(relative_attention_num_buckets, num_heads,
                                                         name="relative_attention_bias")
                                        if has_relative_attention_bias else None)
        self.heads, self.inner, self.num_buckets = num_heads, inner, relative_attention_num_buckets

    def build(self, input_shape):
        for layer in (self.q, self.k, self.v):
            layer.build(input_shape)
        self.o.build(_last(input_shape, self.inner))
        if self.relative_attention_bias is not None:
            self.relative_attention_bias.build((None, None))

    def position_bias(self, t: int, bidirectional: bool):
        """(1, heads, t, t), from this layer's table."""
        relative = ops.arange(t)[None, :] - ops.arange(t)[:, None]
        buckets = relative_position_bucket(relative, bidirectional, self.num_buckets)
        return ops.transpose(self.relative_attention_bias(buckets), (2, 0, 1))[None]

    def call(self, x, kv, bias=None, causal=False):
        q, k, v = _heads(self.q(x), self.heads), _heads(self.k(kv), self.heads), _heads(self.v(kv), self.heads)
        out = ops.dot_product_attention(q, k, v, bias=bias, scale=1.0, is_causal=causal)  # T5 does not scale
        return self.o(_merge(out))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class T5DenseFF(layers.Layer):
    """T5DenseActDense (wi, wo) or T5DenseGatedActDense (wi_0, wi_1, wo)."""

    def __init__(self, *, d_model, d_ff, feed_forward_proj, **kwargs):
        super().__init__(**kwargs)
        self.gated, self.d_ff = feed_forward_proj.startswith("gated-"), d_ff
        self.act = feed_forward_proj.removeprefix("gated-")
        names = ("wi_0", "wi_1") if self.gated else ("wi",)
        self.wi = [layers.Dense(d_ff, use_bias=False, name=n) for n in names]
        self.wo = layers.Dense(d_model, use_bias=False, name="wo")

    def build(self, input_shape):
        for layer in self.wi:
            layer.build(input_shape)
        self.wo.build(_last(input_shape, self.d_ff))

    def _act(self, x):
        if self.act == "gelu_new":
            return ops.gelu(x, approximate=True)
        return {"relu": ops.relu, "silu": ops.silu, "gelu": lambda t: ops.gelu(t, approximate=False)}[self.act](x)

    def call(self, x):
        h = self._act(self.wi[0](x))
        return self.wo(h * self.wi[1](x) if self.gated else h)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class T5Sublayer(layers.Layer):
    """One of a T5Block's ``layer`` entries: its module (SelfAttention, EncDecAttention or
    DenseReluDense) and its ``layer_norm`` (T5LayerNorm: a weight, no mean)."""

    def __init__(self, module, **kwargs):
        super().__init__(**kwargs)
        self.module = module
        self.layer_norm = layers.RMSNormalization(epsilon=1e-6, name="layer_norm")

    def build(self, input_shape):
        self.module.build(input_shape)
        self.layer_norm.build(input_shape)


class T5Stack(layers.Layer):
    """T5Stack: the blocks (each a ``layer`` list) and final_layer_norm; embed_tokens is the shared
    embedding, the model's own."""

    def __init__(self, *, decoder, num_layers, d_model, d_kv, d_ff, num_heads, relative_attention_num_buckets,
                 feed_forward_proj, **kwargs):
        super().__init__(**kwargs)

        def attention(first, name):
            return T5Attention(d_model=d_model, d_kv=d_kv, num_heads=num_heads, has_relative_attention_bias=first,
                               relative_attention_num_buckets=relative_attention_num_buckets, name=name)

        blocks = []
        for i in range(num_layers):
            subs = [T5Sublayer(attention(i == 0, "SelfAttention"), name="0")]
            if decoder:
                subs.append(T5Sublayer(attention(False, "EncDecAttention"), name="1"))
            subs.append(T5Sublayer(T5DenseFF(d_model=d_model, d_ff=d_ff, feed_forward_proj=feed_forward_proj,
                                             name="DenseReluDense"), name=str(len(subs))))
            blocks.append(_Stack([_Stack(subs, name="layer")], name=str(i)))
        self.block = _Stack(blocks, name="block")
        self.final_layer_norm = layers.RMSNormalization(epsilon=1e-6, name="final_layer_norm")
        self.decoder = decoder

    def build(self, input_shape):
        for block in self.block.chain:
            for sub in block.chain[0].chain:
                sub.build(input_shape)
        self.final_layer_norm.build(input_shape)

    def call(self, x, memory=None):
        t = ops.shape(x)[1]
        bias = self.block.chain[0].chain[0].chain[0].module.position_bias(t, bidirectional=not self.decoder)
        for block in self.block.chain:
            subs = block.chain[0].chain
            h = subs[0].layer_norm(x)
            x = x + subs[0].module(h, h, bias, causal=self.decoder)
            if self.decoder:
                x = x + subs[1].module(subs[1].layer_norm(x), memory)
            x = x + subs[-1].module(subs[-1].layer_norm(x))
        return self.final_layer_norm(x)


class T5ForConditionalGeneration(_LMHead, layers.Layer):
    """T5ForConditionalGeneration: shared, encoder, decoder, lm_head (tied: a matmul by the shared
    embedding's transpose, whose one variable the encoder and decoder read too)."""

    def __init__(self, *, vocab_size, d_model, d_kv, d_ff, num_layers, num_decoder_layers, num_heads,
                 relative_attention_num_buckets, feed_forward_proj, tie_word_embeddings, **kwargs):
        super().__init__(**kwargs)
        self.d = d_model
        self.shared = layers.Embedding(vocab_size, d_model, name="shared")
        common = dict(d_model=d_model, d_kv=d_kv, d_ff=d_ff, num_heads=num_heads, feed_forward_proj=feed_forward_proj,
                      relative_attention_num_buckets=relative_attention_num_buckets)
        self.encoder = T5Stack(decoder=False, num_layers=num_layers, name="encoder", **common)
        self.decoder = T5Stack(decoder=True, num_layers=num_decoder_layers or num_layers, name="decoder", **common)
        self._head(vocab_size, tie_word_embeddings)
        self.scale = d_model ** -0.5 if tie_word_embeddings else 1.0

    def build(self, input_shape):  # input_shape: (batch, time) token ids
        hidden = tuple(input_shape) + (self.d,)
        self.shared.build(input_shape)
        self.encoder.build(hidden)
        self.decoder.build(hidden)
        self._build_head(hidden)

    def call(self, ids, decoder_ids):
        memory = self.encoder(self.shared(ids))
        return self._logits(self.decoder(self.shared(decoder_ids), memory) * self.scale, self.shared)


# ------------------------------------------------------------------ vit_hf
class ViTLayer(layers.Layer):
    """ViTLayer: layernorm_before, attention (q_proj, k_proj, v_proj, o_proj), layernorm_after,
    mlp (fc1, exact GELU, fc2)."""

    def __init__(self, *, hidden_size, num_attention_heads, head_dim, intermediate_size, qkv_bias, **kwargs):
        super().__init__(**kwargs)
        self.heads, self.inner, self.ff = num_attention_heads, num_attention_heads * head_dim, intermediate_size
        self.q_proj, self.k_proj, self.v_proj = (layers.Dense(self.inner, use_bias=qkv_bias, name=n)
                                                 for n in ("q_proj", "k_proj", "v_proj"))
        self.o_proj = layers.Dense(hidden_size, name="o_proj")
        self.layernorm_before = layers.LayerNormalization(epsilon=1e-12, name="layernorm_before")
        self.layernorm_after = layers.LayerNormalization(epsilon=1e-12, name="layernorm_after")
        self.fc1 = layers.Dense(intermediate_size, name="fc1")
        self.fc2 = layers.Dense(hidden_size, name="fc2")

    def build(self, input_shape):
        with keras.name_scope("attention"):
            for layer in (self.q_proj, self.k_proj, self.v_proj):
                layer.build(input_shape)
            self.o_proj.build(_last(input_shape, self.inner))
        self.layernorm_before.build(input_shape)
        self.layernorm_after.build(input_shape)
        with keras.name_scope("mlp"):
            self.fc1.build(input_shape)
            self.fc2.build(_last(input_shape, self.ff))

    def call(self, x):
        h = self.layernorm_before(x)
        q, k, v = (_heads(lin(h), self.heads) for lin in (self.q_proj, self.k_proj, self.v_proj))
        x = x + self.o_proj(_merge(ops.dot_product_attention(q, k, v)))
        return x + self.fc2(ops.gelu(self.fc1(self.layernorm_after(x)), approximate=False))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class ViTModel(layers.Layer):
    """ViTModel with its pooler (the spec's ``vit_hf``), channels-last."""

    def __init__(self, *, hidden_size, num_hidden_layers, num_attention_heads, head_dim, intermediate_size, image_size,
                 patch_size, num_channels, qkv_bias, pooler_output_size, **kwargs):
        super().__init__(**kwargs)
        d = self.d = hidden_size
        self.patches = (image_size // patch_size) ** 2
        self.projection = layers.Conv2D(d, patch_size, strides=patch_size, name="projection")
        self.vit_layers = _Stack([ViTLayer(hidden_size=d, num_attention_heads=num_attention_heads,
                                           head_dim=head_dim or d // num_attention_heads,
                                           intermediate_size=intermediate_size, qkv_bias=qkv_bias, name=str(i))
                                  for i in range(num_hidden_layers)], name="layers")
        self.layernorm = layers.LayerNormalization(epsilon=1e-12, name="layernorm")
        self.pooler_dense = layers.Dense(pooler_output_size or d, activation="tanh", name="dense")

    def build(self, input_shape):  # (batch, height, width, channels)
        seq = (input_shape[0], self.patches + 1, self.d)
        with keras.name_scope("embeddings"):
            self.cls_token = self.add_weight(shape=(1, 1, self.d), initializer="zeros", name="cls_token")
            self.position_embeddings = self.add_weight(shape=(1, self.patches + 1, self.d), initializer="zeros",
                                                       name="position_embeddings")
            with keras.name_scope("patch_embeddings"):
                self.projection.build(input_shape)
        self.vit_layers.build(seq)
        self.layernorm.build(seq)
        with keras.name_scope("pooler"):
            self.pooler_dense.build((input_shape[0], self.d))

    def call(self, pixels):
        x = self.projection(pixels)
        x = ops.reshape(x, (ops.shape(x)[0], -1, self.d))
        cls = ops.broadcast_to(self.cls_token, (ops.shape(x)[0], 1, self.d))
        x = ops.concatenate([cls, x], axis=1) + self.position_embeddings
        x = self.layernorm(self.vit_layers(x))
        return x, self.pooler_dense(x[:, 0])


class KerasDecoders:
    """The builders of transformers.yaml's families after GPT-2, mixed into KerasAdapter (same
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
            decoder_sparse_step=v.decoder_sparse_step, router_score_bias=v.router_score_bias, name="llama")
        return _built(m, x)

    def build_t5(self, v, x):
        m = T5ForConditionalGeneration(
            vocab_size=v.vocab_size, d_model=v.d_model, d_kv=v.d_kv, d_ff=v.d_ff, num_layers=v.num_layers,
            num_decoder_layers=v.num_decoder_layers, num_heads=v.num_heads,
            relative_attention_num_buckets=v.relative_attention_num_buckets, feed_forward_proj=v.feed_forward_proj,
            tie_word_embeddings=v.tie_word_embeddings, name="t5")
        return _built(m, x)

    def build_vit_hf(self, v, x):
        m = ViTModel(hidden_size=v.hidden_size, num_hidden_layers=v.num_hidden_layers,
                     num_attention_heads=v.num_attention_heads, head_dim=v.head_dim,
                     intermediate_size=v.intermediate_size, image_size=v.image_size, patch_size=v.patch_size,
                     num_channels=v.num_channels, qkv_bias=v.qkv_bias, pooler_output_size=v.pooler_output_size,
                     name="vit")
        return _built(m, x)
