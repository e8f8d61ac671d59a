"""PyTorch: the Hugging Face families of spec/models/transformers.yaml after GPT-2, written natively
with torch.nn (no transformers): the decoder family (``llama``), T5 and ViT (``vit_hf``).

Module and parameter names follow transformers' own: Llama's (``model.layers.0.self_attn.q_proj``),
Gemma's and OLMo-2's extra norms, Qwen3's ``q_norm``, DeepSeek-V3's MLA (``q_a_proj``,
``kv_a_proj_with_mqa``, ``kv_b_proj``) and its mixture of experts, laid out as transformers 5
lays it out: a router ``mlp.gate.weight`` (num_experts, hidden) and the routed experts fused into
two 3D tensors, ``mlp.experts.gate_up_proj`` (num_experts, 2 * width, hidden) and
``mlp.experts.down_proj`` (num_experts, hidden, width), so a reading lines up with transformers'
state_dict keys and a 671B model is a few thousand tensors. GPT-NeoX's, Falcon's and Phi-3's fused
projections are kept apart (q, k, v; gate, up): the same elements under Llama's names.

Each ``forward`` computes what its reference computes, in eval mode, for what a count or a
matmul-like op sees: the projections, attention (eager: explicit matmuls), the MLP. A mixture of
experts routes each token to its top-k experts: their weights are gathered per token and
multiplied as batched matmuls, so a compute counter sees the active experts' work, never all of
them, on the meta device too. Elementwise details that change neither a count nor a matmul are
left out (Gemma's embedding scale and soft caps, partial rotary dimensions, activation choices).
The adapter marks the routed expert tensors in its reading (:func:`routed_experts`): how many
experts each holds and how many a token uses, read from the module (``experts.num_experts``,
``gate.top_k``).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .base import Built
from .torch_models import Configured, _attention, _merge_heads, _split_heads


def routed_experts(module: nn.Module) -> dict[int, dict[str, int]]:
    """The routed experts' tensors, by id: ``{"experts": E, "top_k": k}`` for each parameter of
    every module's ``experts`` child whose sibling router (``gate``) has ``top_k`` (the layout of
    transformers 5's mixtures of experts, and of this module's)."""
    out: dict[int, dict[str, int]] = {}
    for m in module.modules():
        experts, gate = getattr(m, "experts", None), getattr(m, "gate", None)
        k, n = getattr(gate, "top_k", None), getattr(experts, "num_experts", None)
        if isinstance(experts, nn.Module) and k and n:
            out.update({id(p): {"experts": n, "top_k": k} for p in experts.parameters()})
    return out


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    """transformers' modeling_llama.rotate_half."""
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def rotary_cos_sin(seq_len: int, head_dim: int, theta: float = 10000.0, device=None,
                   dtype=torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """transformers' LlamaRotaryEmbedding (the default rope type) for positions 0..seq_len-1:
    cos and sin of shape (seq_len, head_dim), the frequencies repeated over both halves."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32, device=device) / head_dim))
    freqs = torch.arange(seq_len, dtype=torch.float32, device=device)[:, None] * inv_freq
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def _rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    return x * cos + _rotate_half(x) * sin


def _norm(norm: str, n: int) -> nn.Module:
    """RMSNorm (a weight; Llama's eps) or LayerNorm (a weight and a bias; GPT-NeoX's eps)."""
    return nn.RMSNorm(n, eps=1e-6) if norm == "rms" else nn.LayerNorm(n, eps=1e-5)


# ------------------------------------------------------------------ the decoder family (llama)
class DecoderAttention(nn.Module):
    """transformers' LlamaAttention: q, k and v projections (grouped-query: fewer k and v heads),
    rotary positions on q and k, causal eager attention, o; QK-norm per head (Qwen3, Gemma 3,
    ``q_norm``/``k_norm`` over head_dim) or over every head at once (OLMo-2)."""

    def __init__(self, *, hidden_size, num_attention_heads, num_key_value_heads, head_dim, attention_bias, qkv_bias,
                 qk_norm, norm):
        super().__init__()
        d, heads, kv_heads = hidden_size, num_attention_heads, num_key_value_heads
        self.q_proj = nn.Linear(d, heads * head_dim, bias=attention_bias or qkv_bias)
        self.k_proj = nn.Linear(d, kv_heads * head_dim, bias=attention_bias or qkv_bias)
        self.v_proj = nn.Linear(d, kv_heads * head_dim, bias=attention_bias or qkv_bias)
        self.o_proj = nn.Linear(heads * head_dim, d, bias=attention_bias)
        if qk_norm == "head":
            self.q_norm, self.k_norm = _norm(norm, head_dim), _norm(norm, head_dim)
        elif qk_norm == "full":
            self.q_norm, self.k_norm = _norm(norm, heads * head_dim), _norm(norm, kv_heads * head_dim)
        self.num_heads, self.num_key_value_heads, self.head_dim, self.qk_norm = heads, kv_heads, head_dim, qk_norm

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(x)
        if self.qk_norm == "full":  # OLMo-2: over every head's features at once
            q, k = self.q_norm(q), self.k_norm(k)
        q, k, v = (_split_heads(t, self.head_dim) for t in (q, k, v))
        if self.qk_norm == "head":  # Qwen3, Gemma 3: each head on its own
            q, k = self.q_norm(q), self.k_norm(k)
        q, k = _rope(q, cos, sin), _rope(k, cos, sin)
        groups = self.num_heads // self.num_key_value_heads  # repeat_kv: each kv head serves `groups` q heads
        k, v = k.repeat_interleave(groups, dim=1), v.repeat_interleave(groups, dim=1)
        return self.o_proj(_merge_heads(_attention(q, k, v, causal=True)))


class LatentAttention(nn.Module):
    """transformers' DeepseekV3Attention (multi-head latent attention): q through a low-rank
    projection and its norm (or one q_proj), a joint key/value latent with one rotary key shared
    by every head (``kv_a_proj_with_mqa``), its norm, and its up-projection to each head's key
    and value (``kv_b_proj``); keys are [k_nope, k_rope], queries [q_nope, q_rope]."""

    def __init__(self, *, hidden_size, num_attention_heads, q_lora_rank, kv_lora_rank, qk_nope_head_dim,
                 qk_rope_head_dim, v_head_dim, attention_bias, norm):
        super().__init__()
        d, heads = hidden_size, num_attention_heads
        qk_head_dim = qk_nope_head_dim + qk_rope_head_dim
        if q_lora_rank:
            self.q_a_proj = nn.Linear(d, q_lora_rank, bias=attention_bias)
            self.q_a_layernorm = _norm(norm, q_lora_rank)
            self.q_b_proj = nn.Linear(q_lora_rank, heads * qk_head_dim, bias=False)
        else:
            self.q_proj = nn.Linear(d, heads * qk_head_dim, bias=False)
        self.kv_a_proj_with_mqa = nn.Linear(d, kv_lora_rank + qk_rope_head_dim, bias=attention_bias)
        self.kv_a_layernorm = _norm(norm, kv_lora_rank)
        self.kv_b_proj = nn.Linear(kv_lora_rank, heads * (qk_nope_head_dim + v_head_dim), bias=False)
        self.o_proj = nn.Linear(heads * v_head_dim, d, bias=attention_bias)
        self.num_heads, self.q_lora_rank, self.kv_lora_rank = heads, q_lora_rank, kv_lora_rank
        self.qk_nope_head_dim, self.qk_rope_head_dim, self.v_head_dim = qk_nope_head_dim, qk_rope_head_dim, v_head_dim

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        nope, rope, hv = self.qk_nope_head_dim, self.qk_rope_head_dim, self.v_head_dim
        q = self.q_b_proj(self.q_a_layernorm(self.q_a_proj(x))) if self.q_lora_rank else self.q_proj(x)
        q_nope, q_rot = _split_heads(q, nope + rope).split([nope, rope], dim=-1)
        latent, k_rot = self.kv_a_proj_with_mqa(x).split([self.kv_lora_rank, rope], dim=-1)
        k_nope, v = _split_heads(self.kv_b_proj(self.kv_a_layernorm(latent)), nope + hv).split([nope, hv], dim=-1)
        k_rot = _rope(k_rot[:, None], cos, sin).expand(-1, self.num_heads, -1, -1)  # one rotary key for every head
        q = torch.cat((q_nope, _rope(q_rot, cos, sin)), dim=-1)
        k = torch.cat((k_nope, k_rot), dim=-1)
        return self.o_proj(_merge_heads(_attention(q, k, v, causal=True)))


class DecoderMLP(nn.Module):
    """LlamaMLP: down_proj(act(gate_proj(x)) * up_proj(x)); not gated (GPT-NeoX, Falcon): down(act(up(x)))."""

    def __init__(self, *, hidden_size, intermediate_size, gated, bias):
        super().__init__()
        d, ff = hidden_size, intermediate_size
        if gated:
            self.gate_proj = nn.Linear(d, ff, bias=bias)
        self.up_proj = nn.Linear(d, ff, bias=bias)
        self.down_proj = nn.Linear(ff, d, bias=bias)
        self.gated = gated

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.gated:
            return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))
        return self.down_proj(F.gelu(self.up_proj(x)))


class TopKRouter(nn.Module):
    """transformers 5's MixtralTopKRouter / DeepseekV3TopkRouter: one (num_experts, hidden) weight;
    each token's top_k experts and their weights; DeepSeek-V3's score-correction bias, a buffer."""

    def __init__(self, *, hidden_size, num_experts, top_k, score_bias):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_experts, hidden_size))
        if score_bias:
            self.register_buffer("e_score_correction_bias", torch.zeros(num_experts))
        self.num_experts, self.top_k, self.score_bias = num_experts, top_k, score_bias
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scores = F.linear(x, self.weight).softmax(dim=-1)  # (tokens, num_experts)
        choice = scores + self.e_score_correction_bias if self.score_bias else scores
        index = torch.topk(choice, self.top_k, dim=-1).indices  # (tokens, top_k)
        weights = scores.gather(-1, index)
        return weights / weights.sum(dim=-1, keepdim=True), index


class Experts(nn.Module):
    """transformers 5's MixtralExperts: every routed expert's gate and up projections fused into
    one (num_experts, 2 * width, hidden) tensor and its down projections into one (num_experts,
    hidden, width). Each token's top-k experts are gathered and applied as batched matmuls."""

    def __init__(self, *, hidden_size, moe_intermediate_size, num_experts):
        super().__init__()
        self.gate_up_proj = nn.Parameter(torch.empty(num_experts, 2 * moe_intermediate_size, hidden_size))
        self.down_proj = nn.Parameter(torch.empty(num_experts, hidden_size, moe_intermediate_size))
        self.num_experts = num_experts
        nn.init.normal_(self.gate_up_proj, std=0.02)
        nn.init.normal_(self.down_proj, std=0.02)

    def forward(self, x: torch.Tensor, index: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """``x`` (tokens, hidden); ``index`` and ``weights`` (tokens, top_k): the weighted sum of
        each token's experts' outputs."""
        gate, up = torch.matmul(self.gate_up_proj[index], x[:, None, :, None]).squeeze(-1).chunk(2, dim=-1)
        out = torch.matmul(self.down_proj[index], (F.silu(gate) * up)[..., None]).squeeze(-1)  # (tokens, top_k, hidden)
        return (out * weights[..., None]).sum(dim=1)


class SparseMoeBlock(nn.Module):
    """A mixture of experts (transformers' MixtralSparseMoeBlock, Qwen2MoeSparseMoeBlock,
    DeepseekV3MoE): the router ``gate``, the routed ``experts``, and the shared experts (one
    gated MLP every token uses, with Qwen-MoE's sigmoid gate)."""

    def __init__(self, *, hidden_size, num_experts, num_experts_per_tok, moe_intermediate_size,
                 shared_expert_intermediate_size, shared_expert_gate, router_score_bias, mlp_bias):
        super().__init__()
        self.gate = TopKRouter(hidden_size=hidden_size, num_experts=num_experts, top_k=num_experts_per_tok,
                               score_bias=router_score_bias)
        self.experts = Experts(hidden_size=hidden_size, moe_intermediate_size=moe_intermediate_size,
                               num_experts=num_experts)
        self.shared_experts = (DecoderMLP(hidden_size=hidden_size, intermediate_size=shared_expert_intermediate_size,
                                          gated=True, bias=mlp_bias) if shared_expert_intermediate_size else None)
        self.shared_expert_gate = nn.Linear(hidden_size, 1, bias=False) if shared_expert_gate else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.reshape(-1, x.shape[-1])
        weights, index = self.gate(h)
        out = self.experts(h, index, weights)
        shared = self.shared_experts(h) if self.shared_experts is not None else torch.zeros_like(h)
        if self.shared_expert_gate is not None:
            shared = shared * torch.sigmoid(self.shared_expert_gate(h))
        return (out + shared).reshape(x.shape)


class DecoderLayer(nn.Module):
    """One decoder layer. Norms (``norm_placement``): ``pre`` input_layernorm before attention and
    post_attention_layernorm before the MLP (Llama); ``sandwich`` also post_attention_layernorm
    after attention, pre_ and post_feedforward_layernorm around the MLP (Gemma 2, 3); ``post``
    post_attention_layernorm and post_feedforward_layernorm after each (OLMo-2); ``shared``
    input_layernorm alone, for attention and MLP in parallel (Falcon-7B). With ``parallel_attn``,
    attention and MLP read the same input (GPT-NeoX's use_parallel_residual, Falcon)."""

    def __init__(self, *, attention: nn.Module, mlp: nn.Module, hidden_size, norm, norm_placement, parallel_attn):
        super().__init__()
        self.self_attn, self.mlp = attention, mlp
        names = {"pre": ("input_layernorm", "post_attention_layernorm"), "shared": ("input_layernorm",),
                 "post": ("post_attention_layernorm", "post_feedforward_layernorm"),
                 "sandwich": ("input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                              "post_feedforward_layernorm")}[norm_placement]
        for name in names:
            setattr(self, name, _norm(norm, hidden_size))
        self.norm_placement, self.parallel_attn = norm_placement, parallel_attn

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        placement = self.norm_placement
        if self.parallel_attn:
            h = self.input_layernorm(x)
            h_mlp = h if placement == "shared" else self.post_attention_layernorm(x)
            return x + self.self_attn(h, cos, sin) + self.mlp(h_mlp)
        if placement == "post":
            x = x + self.post_attention_layernorm(self.self_attn(x, cos, sin))
            return x + self.post_feedforward_layernorm(self.mlp(x))
        if placement == "sandwich":
            x = x + self.post_attention_layernorm(self.self_attn(self.input_layernorm(x), cos, sin))
            return x + self.post_feedforward_layernorm(self.mlp(self.pre_feedforward_layernorm(x)))
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaForCausalLM(Configured, nn.Module):
    """The decoder family: transformers' LlamaForCausalLM and the decoders after it (the spec's
    ``llama``): the token embedding, the layers, the final norm, the LM head (tied or not)."""

    def __init__(self, *, vocab_size, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads,
                 num_key_value_heads, head_dim, attention_bias, qkv_bias, mlp_bias, tie_word_embeddings, norm,
                 norm_placement, parallel_attn, qk_norm, gated_mlp, q_lora_rank, kv_lora_rank, qk_nope_head_dim,
                 qk_rope_head_dim, v_head_dim, num_experts, num_experts_per_tok, moe_intermediate_size,
                 shared_expert_intermediate_size, shared_expert_gate, first_k_dense_replace, decoder_sparse_step,
                 router_score_bias):
        super().__init__()
        self.configure(
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
                                       attention_bias=attention_bias, norm=norm)
            return DecoderAttention(hidden_size=d, num_attention_heads=num_attention_heads, num_key_value_heads=kv,
                                    head_dim=hd, attention_bias=attention_bias, qkv_bias=qkv_bias, qk_norm=qk_norm,
                                    norm=norm)

        def mlp(i: int):  # transformers' rule: a mixture of experts from first_k_dense_replace on, every step-th layer
            if num_experts and i >= first_k_dense_replace and (i + 1) % decoder_sparse_step == 0:
                return SparseMoeBlock(hidden_size=d, num_experts=num_experts, num_experts_per_tok=num_experts_per_tok,
                                      moe_intermediate_size=moe_intermediate_size,
                                      shared_expert_intermediate_size=shared_expert_intermediate_size,
                                      shared_expert_gate=shared_expert_gate, router_score_bias=router_score_bias,
                                      mlp_bias=mlp_bias)
            return DecoderMLP(hidden_size=d, intermediate_size=intermediate_size, gated=gated_mlp, bias=mlp_bias)

        self.model = nn.Module()
        self.model.embed_tokens = nn.Embedding(vocab_size, d)
        self.model.layers = nn.ModuleList(
            DecoderLayer(attention=attention(), mlp=mlp(i), hidden_size=d, norm=norm, norm_placement=norm_placement,
                         parallel_attn=parallel_attn)
            for i in range(num_hidden_layers))
        self.model.norm = _norm(norm, d)
        self.lm_head = nn.Linear(d, vocab_size, bias=False)
        if tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight
        self.rotary_dim = qk_rope_head_dim if kv_lora_rank else hd

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        """transformers' LlamaForCausalLM.forward without a cache or mask: embed_tokens, the
        layers (rotary cos/sin for positions 0..T-1, rope_theta 10000), the final norm, the LM
        head. Returns the logits."""
        x = self.model.embed_tokens(input_ids)
        cos, sin = rotary_cos_sin(input_ids.shape[1], self.rotary_dim, device=input_ids.device, dtype=x.dtype)
        for layer in self.model.layers:
            x = layer(x, cos, sin)
        return self.lm_head(self.model.norm(x))


# ------------------------------------------------------------------ t5
def relative_position_bucket(relative_position: torch.Tensor, bidirectional: bool, num_buckets: int,
                             max_distance: int = 128) -> torch.Tensor:
    """transformers' T5Attention._relative_position_bucket: half the buckets for exact small
    distances, the rest logarithmic up to max_distance (in both directions for the encoder)."""
    buckets = torch.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        buckets = buckets + (relative_position > 0).long() * num_buckets
        relative_position = relative_position.abs()
    else:
        relative_position = -torch.min(relative_position, torch.zeros_like(relative_position))
    max_exact = max(num_buckets // 2, 1)
    large = max_exact + (torch.log(relative_position.float().clamp(min=1) / max_exact)
                         / math.log(max_distance / max_exact) * (num_buckets - max_exact)).long()
    large = torch.min(large, torch.full_like(large, num_buckets - 1))
    return buckets + torch.where(relative_position < max_exact, relative_position, large)


class T5Attention(nn.Module):
    """transformers' T5Attention: bias-free q, k, v and o, unscaled scores plus a position bias (the
    stack's first layer holds the relative_attention_bias table: buckets x heads)."""

    def __init__(self, *, d_model, d_kv, num_heads, relative_attention_num_buckets, has_relative_attention_bias):
        super().__init__()
        inner = num_heads * d_kv
        self.q, self.k, self.v = (nn.Linear(d_model, inner, bias=False) for _ in range(3))
        self.o = nn.Linear(inner, d_model, bias=False)
        if has_relative_attention_bias:
            self.relative_attention_bias = nn.Embedding(relative_attention_num_buckets, num_heads)
        self.d_kv, self.num_buckets = d_kv, relative_attention_num_buckets

    def position_bias(self, t_q: int, t_k: int, bidirectional: bool, device) -> torch.Tensor:
        """(1, heads, t_q, t_k), from this layer's table."""
        relative = torch.arange(t_k, device=device)[None, :] - torch.arange(t_q, device=device)[:, None]
        buckets = relative_position_bucket(relative, bidirectional, self.num_buckets)
        return self.relative_attention_bias(buckets).permute(2, 0, 1)[None]

    def forward(self, x: torch.Tensor, kv: torch.Tensor, bias: torch.Tensor | None, causal: bool) -> torch.Tensor:
        q, k, v = _split_heads(self.q(x), self.d_kv), _split_heads(self.k(kv), self.d_kv), _split_heads(self.v(kv), self.d_kv)
        scores = torch.matmul(q, k.transpose(-1, -2))  # T5 does not scale its scores
        if bias is not None:
            scores = scores + bias
        if causal:
            future = torch.ones(scores.shape[-2:], dtype=torch.bool, device=x.device).triu(1)
            scores = scores.masked_fill(future, torch.finfo(scores.dtype).min)
        return self.o(_merge_heads(torch.matmul(F.softmax(scores, dim=-1), v)))


class T5DenseFF(nn.Module):
    """T5DenseActDense (wi, wo) or T5DenseGatedActDense (wi_0, wi_1, wo)."""

    def __init__(self, *, d_model, d_ff, feed_forward_proj):
        super().__init__()
        self.gated = feed_forward_proj.startswith("gated-")
        if self.gated:
            self.wi_0, self.wi_1 = nn.Linear(d_model, d_ff, bias=False), nn.Linear(d_model, d_ff, bias=False)
        else:
            self.wi = nn.Linear(d_model, d_ff, bias=False)
        self.wo = nn.Linear(d_ff, d_model, bias=False)
        act = feed_forward_proj.removeprefix("gated-")
        self.act = {"relu": F.relu, "silu": F.silu, "gelu": F.gelu,
                    "gelu_new": lambda t: F.gelu(t, approximate="tanh")}[act]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.gated:
            return self.wo(self.act(self.wi_0(x)) * self.wi_1(x))
        return self.wo(self.act(self.wi(x)))


class T5Sublayer(nn.Module):
    """One of a T5Block's ``layer`` entries: T5LayerSelfAttention, T5LayerCrossAttention or
    T5LayerFF (pre-norm: its ``layer_norm``, then the module, then the residual)."""

    def __init__(self, name: str, module: nn.Module, d_model: int):
        super().__init__()
        setattr(self, name, module)
        self.layer_norm = nn.RMSNorm(d_model, eps=1e-6)  # T5LayerNorm: a weight, no mean, no bias
        self.name = name


class T5Stack(nn.Module):
    """transformers' T5Stack: embed_tokens (the shared embedding), the blocks, final_layer_norm."""

    def __init__(self, *, shared, decoder, num_layers, d_model, d_kv, d_ff, num_heads, relative_attention_num_buckets,
                 feed_forward_proj):
        super().__init__()
        self.embed_tokens = shared
        self.block = nn.ModuleList()
        for i in range(num_layers):
            def attention(first):
                return T5Attention(d_model=d_model, d_kv=d_kv, num_heads=num_heads, has_relative_attention_bias=first,
                                   relative_attention_num_buckets=relative_attention_num_buckets)
            layers = [T5Sublayer("SelfAttention", attention(i == 0), d_model)]
            if decoder:
                layers.append(T5Sublayer("EncDecAttention", attention(False), d_model))
            layers.append(T5Sublayer("DenseReluDense", T5DenseFF(d_model=d_model, d_ff=d_ff,
                                                                 feed_forward_proj=feed_forward_proj), d_model))
            block = nn.Module()
            block.layer = nn.ModuleList(layers)
            self.block.append(block)
        self.final_layer_norm = nn.RMSNorm(d_model, eps=1e-6)
        self.decoder = decoder

    def forward(self, ids: torch.Tensor, encoder_output: torch.Tensor | None = None) -> torch.Tensor:
        x = self.embed_tokens(ids)
        t = ids.shape[1]
        first = self.block[0].layer[0].SelfAttention
        bias = first.position_bias(t, t, bidirectional=not self.decoder, device=ids.device)  # shared by every block
        for block in self.block:
            self_attn = block.layer[0]
            h = self_attn.layer_norm(x)
            x = x + self_attn.SelfAttention(h, h, bias, causal=self.decoder)
            if self.decoder:
                cross = block.layer[1]
                x = x + cross.EncDecAttention(cross.layer_norm(x), encoder_output, None, causal=False)
            ff = block.layer[-1]
            x = x + ff.DenseReluDense(ff.layer_norm(x))
        return self.final_layer_norm(x)


class T5ForConditionalGeneration(Configured, nn.Module):
    """transformers' T5ForConditionalGeneration: shared, encoder, decoder, lm_head (tied: the shared
    embedding itself, which the encoder's and decoder's embed_tokens are too)."""

    def __init__(self, *, vocab_size, d_model, d_kv, d_ff, num_layers, num_decoder_layers, num_heads,
                 relative_attention_num_buckets, feed_forward_proj, tie_word_embeddings):
        super().__init__()
        self.configure(vocab_size=vocab_size, d_model=d_model, d_kv=d_kv, d_ff=d_ff, num_layers=num_layers,
                       num_decoder_layers=num_decoder_layers, num_heads=num_heads,
                       relative_attention_num_buckets=relative_attention_num_buckets,
                       feed_forward_proj=feed_forward_proj, tie_word_embeddings=tie_word_embeddings)
        self.shared = nn.Embedding(vocab_size, d_model)
        common = dict(d_model=d_model, d_kv=d_kv, d_ff=d_ff, num_heads=num_heads, feed_forward_proj=feed_forward_proj,
                      relative_attention_num_buckets=relative_attention_num_buckets)
        self.encoder = T5Stack(shared=self.shared, decoder=False, num_layers=num_layers, **common)
        self.decoder = T5Stack(shared=self.shared, decoder=True, num_layers=num_decoder_layers or num_layers, **common)
        self.lm_head = nn.Linear(d_model, vocab_size, bias=False)
        if tie_word_embeddings:
            self.lm_head.weight = self.shared.weight
        self.scale = d_model ** -0.5 if tie_word_embeddings else 1.0

    def forward(self, input_ids: torch.Tensor, decoder_input_ids: torch.Tensor) -> torch.Tensor:
        """transformers' T5ForConditionalGeneration.forward without a cache or masks: the encoder,
        the decoder over its own tokens and the encoder's output, the LM head (its input scaled by
        d_model ** -0.5 when tied). Returns the logits."""
        memory = self.encoder(input_ids)
        return self.lm_head(self.decoder(decoder_input_ids, memory) * self.scale)


# ------------------------------------------------------------------ vit_hf
class ViTLayer(nn.Module):
    """transformers 5's ViTLayer: layernorm_before, attention (q_proj, k_proj, v_proj, o_proj),
    layernorm_after, mlp (fc1, exact GELU, fc2)."""

    def __init__(self, *, hidden_size, num_attention_heads, head_dim, intermediate_size, qkv_bias):
        super().__init__()
        d, inner = hidden_size, num_attention_heads * head_dim
        self.attention = nn.Module()
        for name in ("q_proj", "k_proj", "v_proj"):
            setattr(self.attention, name, nn.Linear(d, inner, bias=qkv_bias))
        self.attention.o_proj = nn.Linear(inner, d)
        self.layernorm_before = nn.LayerNorm(d, eps=1e-12)
        self.layernorm_after = nn.LayerNorm(d, eps=1e-12)
        self.mlp = nn.Module()
        self.mlp.fc1 = nn.Linear(d, intermediate_size)
        self.mlp.fc2 = nn.Linear(intermediate_size, d)
        self.head_dim = head_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, h = self.attention, self.layernorm_before(x)
        q, k, v = (_split_heads(lin(h), self.head_dim) for lin in (a.q_proj, a.k_proj, a.v_proj))
        x = x + a.o_proj(_merge_heads(_attention(q, k, v, causal=False)))
        return x + self.mlp.fc2(F.gelu(self.mlp.fc1(self.layernorm_after(x))))


class ViTModel(Configured, nn.Module):
    """transformers' ViTModel with its pooler (the spec's ``vit_hf``)."""

    def __init__(self, *, hidden_size, num_hidden_layers, num_attention_heads, head_dim, intermediate_size, image_size,
                 patch_size, num_channels, qkv_bias, pooler_output_size):
        super().__init__()
        self.configure(hidden_size=hidden_size, num_hidden_layers=num_hidden_layers,
                       num_attention_heads=num_attention_heads, head_dim=head_dim,
                       intermediate_size=intermediate_size, image_size=image_size, patch_size=patch_size,
                       num_channels=num_channels, qkv_bias=qkv_bias, pooler_output_size=pooler_output_size)
        d = hidden_size
        patches = (image_size // patch_size) ** 2
        self.embeddings = nn.Module()
        self.embeddings.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.embeddings.position_embeddings = nn.Parameter(torch.zeros(1, patches + 1, d))
        self.embeddings.patch_embeddings = nn.Module()
        self.embeddings.patch_embeddings.projection = nn.Conv2d(num_channels, d, patch_size, stride=patch_size)
        self.layers = nn.ModuleList(
            ViTLayer(hidden_size=d, num_attention_heads=num_attention_heads,
                     head_dim=head_dim or d // num_attention_heads, intermediate_size=intermediate_size,
                     qkv_bias=qkv_bias) for _ in range(num_hidden_layers))
        self.layernorm = nn.LayerNorm(d, eps=1e-12)
        self.pooler = nn.Module()
        self.pooler.dense = nn.Linear(d, pooler_output_size or d)

    def forward(self, pixel_values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """transformers' ViTModel.forward at its own image size: the patches (a conv of stride
        patch_size), the class token first, the positions added, the layers, the final
        LayerNorm, the pooler (tanh of a Linear on the class token). ``pixel_values``: (N, C, H, W)."""
        e = self.embeddings
        x = e.patch_embeddings.projection(pixel_values).flatten(2).transpose(1, 2)
        x = torch.cat([e.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + e.position_embeddings
        for layer in self.layers:
            x = layer(x)
        x = self.layernorm(x)
        return x, torch.tanh(self.pooler.dense(x[:, 0]))


class TorchDecoders:
    """The builders of transformers.yaml's families after GPT-2, mixed into TorchAdapter (same
    names, in the same order, in every adapter's *_decoders.py)."""

    # ------------------------------------------------------------------ transformers.yaml
    def build_llama(self, v, x):
        return Built(LlamaForCausalLM(
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
            decoder_sparse_step=v.decoder_sparse_step, router_score_bias=v.router_score_bias))

    def build_t5(self, v, x):
        return Built(T5ForConditionalGeneration(
            vocab_size=v.vocab_size, d_model=v.d_model, d_kv=v.d_kv, d_ff=v.d_ff, num_layers=v.num_layers,
            num_decoder_layers=v.num_decoder_layers, num_heads=v.num_heads,
            relative_attention_num_buckets=v.relative_attention_num_buckets, feed_forward_proj=v.feed_forward_proj,
            tie_word_embeddings=v.tie_word_embeddings))

    def build_vit_hf(self, v, x):
        return Built(ViTModel(hidden_size=v.hidden_size, num_hidden_layers=v.num_hidden_layers,
                              num_attention_heads=v.num_attention_heads, head_dim=v.head_dim,
                              intermediate_size=v.intermediate_size, image_size=v.image_size,
                              patch_size=v.patch_size, num_channels=v.num_channels, qkv_bias=v.qkv_bias,
                              pooler_output_size=v.pooler_output_size))
