"""The forward passes of the torch model families (adapters/torch_models.py).

Every family runs on a tiny real input. The transformer families must count the same FLOPs
under ``torch.utils.flop_counter.FlopCounterMode`` on the meta device as transformers' own
models (with transformers' default attention, sdpa, and with eager), and, given transformers'
weights, compute the same outputs; the Mini-Transformer computes what the course lesson's
numpy encoder computes.
"""
import pytest

from paramspec.configs import resolve_case
from paramspec.frameworks import adapter

pytestmark = pytest.mark.framework


def build(config: dict, materialize: bool):
    """Our torch model for a spec config (``{"model": ...}`` or ``{"hf_config": ...}``), in eval mode."""
    case = resolve_case(config)
    return adapter("torch").build(case.kind.name, case.values, materialize=materialize).module.eval()


# (config, input shape, token ids (else float), the output's shape(s))
TINY = [
    ({"model": "mlp", "in_features": 20, "hidden_sizes": [64], "out_features": 1}, (3, 20), False, [(3, 1)]),
    ({"model": "lenet5"}, (2, 1, 32, 32), False, [(2, 10)]),
    ({"model": "vgg", "cfg": "A", "num_classes": 10}, (1, 3, 32, 32), False, [(1, 10)]),
    ({"model": "resnet", "block": "basic", "layers": [1, 1, 1, 1], "num_classes": 10}, (2, 3, 64, 64), False,
     [(2, 10)]),
    ({"model": "resnet", "block": "bottleneck", "layers": [1, 2, 1, 1], "groups": 4, "width_per_group": 16,
      "num_classes": 7}, (2, 3, 64, 48), False, [(2, 7)]),
    ({"model": "mobilenet_v2", "width_mult": 0.35, "num_classes": 100}, (2, 3, 64, 64), False, [(2, 100)]),
    ({"model": "text_classifier", "vocab_size": 5000, "embedding_dim": 64, "hidden_size": 32, "num_classes": 2},
     (2, 7), True, [(2, 2)]),
    ({"model": "mini_transformer", "preset": "mini"}, (2, 7), True, [(2, 7, 10)]),
    ({"model": "bert", "vocab_size": 1000, "hidden_size": 64, "num_hidden_layers": 3, "num_attention_heads": 4,
      "intermediate_size": 100, "max_position_embeddings": 128, "type_vocab_size": 1}, (2, 9), True,
     [(2, 9, 64), (2, 64)]),
    ({"model": "gpt2", "vocab_size": 1000, "n_positions": 64, "n_embd": 96, "n_layer": 3, "n_head": 3,
      "n_inner": 200, "tie_word_embeddings": False}, (2, 9), True, [(2, 9, 1000)]),
    ({"model": "llama", "vocab_size": 512, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1,
      "num_attention_heads": 4, "num_key_value_heads": 4, "qkv_bias": True}, (2, 9), True, [(2, 9, 512)]),
]


@pytest.mark.only("torch")
@pytest.mark.parametrize("config, shape, tokens, out_shapes", TINY, ids=[c["model"] for c, *_ in TINY])
def test_forward_on_a_tiny_real_input(target_name, config, shape, tokens, out_shapes):
    import torch

    torch.manual_seed(0)
    model = build(config, materialize=True)
    x = torch.randint(0, 10, shape) if tokens else torch.randn(shape)
    with torch.no_grad():
        out = model(x)
    outs = out if isinstance(out, tuple) else (out,)
    assert [tuple(o.shape) for o in outs] == out_shapes
    assert all(bool(torch.isfinite(o).all()) for o in outs)


HF = [
    # (model_type, transformers class, config overrides: HF config keys, our variables too)
    ("bert", "BertModel", {"hidden_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2,
                           "intermediate_size": 512}),
    ("bert", "BertModel", {"vocab_size": 1000, "hidden_size": 64, "num_hidden_layers": 3, "num_attention_heads": 4,
                           "intermediate_size": 100, "max_position_embeddings": 128, "type_vocab_size": 1}),
    ("gpt2", "GPT2LMHeadModel", {"n_embd": 128, "n_layer": 2, "n_head": 4}),
    ("gpt2", "GPT2LMHeadModel", {"vocab_size": 1000, "n_positions": 64, "n_embd": 96, "n_layer": 3, "n_head": 3,
                                 "n_inner": 200, "tie_word_embeddings": False}),
    ("llama", "LlamaForCausalLM", {"vocab_size": 1000, "hidden_size": 64, "intermediate_size": 172,
                                   "num_hidden_layers": 2, "num_attention_heads": 8, "num_key_value_heads": 2}),
    # grouped-query attention, head_dim != hidden_size / heads, biases, a tied head
    ("llama", "LlamaForCausalLM", {"vocab_size": 512, "hidden_size": 96, "intermediate_size": 256,
                                   "num_hidden_layers": 2, "num_attention_heads": 6, "num_key_value_heads": 3,
                                   "head_dim": 32, "attention_bias": True, "mlp_bias": True,
                                   "tie_word_embeddings": True}),
    ("llama", "LlamaForCausalLM", {"vocab_size": 512, "hidden_size": 64, "intermediate_size": 128,
                                   "num_hidden_layers": 1, "num_attention_heads": 4}),
    ("mistral", "MistralForCausalLM", {"vocab_size": 1000, "hidden_size": 64, "intermediate_size": 128,
                                       "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2}),
    ("qwen2", "Qwen2ForCausalLM", {"vocab_size": 1000, "hidden_size": 64, "intermediate_size": 128,
                                   "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
                                   "tie_word_embeddings": True}),
]
HF_IDS = [f"{m}-{i}" for i, (m, _, _) in enumerate(HF)]


def hf_model(transformers, cls: str, overrides: dict, **config_kwargs):
    config_cls = cls.replace("ForCausalLM", "Config").replace("LMHeadModel", "Config").replace("Model", "Config")
    return getattr(transformers, cls)(getattr(transformers, config_cls)(**overrides, **config_kwargs)).eval()


def flops(model, ids) -> tuple[int, dict[str, int]]:
    """FlopCounterMode's total for one forward pass, and its per-op counts."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(ids)
    return counter.get_total_flops(), {str(op): n for op, n in counter.get_flop_counts()["Global"].items()}


@pytest.mark.only("torch")
@pytest.mark.parametrize("attn", [None, "eager"], ids=["default-attn", "eager-attn"])
@pytest.mark.parametrize("model_type, cls, overrides", HF, ids=HF_IDS)
def test_forward_flops_equal_transformers_on_the_meta_device(target_name, model_type, cls, overrides, attn):
    import torch
    import transformers  # in the torch env (tox.ini): a missing one is a failure, not a skip

    ours = build({"hf_config": {"model_type": model_type, **overrides}}, materialize=False)
    with torch.device("meta"):
        ref = hf_model(transformers, cls, overrides, **({"attn_implementation": attn} if attn else {}))
    ids = torch.zeros(2, 16, dtype=torch.long, device="meta")
    ours_total, ours_ops = flops(ours, ids)
    ref_total, ref_ops = flops(ref, ids)
    assert ours_total == ref_total
    assert ours_ops == ref_ops  # the same ops too: addmm/mm for the projections, bmm for attention
    assert ours_ops.get("aten.bmm", 0) > 0


def _hf_weights_into_ours(model_type: str, ref, ours) -> None:
    state = ref.state_dict()
    if model_type == "gpt2":  # HF's Conv1D keeps its weight as (in, out): nn.Linear's transposed
        state = {k: v.t() if k.endswith(("c_attn.weight", "c_proj.weight", "c_fc.weight")) else v
                 for k, v in state.items()}
    ours.load_state_dict(state, strict=True)


@pytest.mark.only("torch")
@pytest.mark.parametrize("model_type, cls, overrides",
                         [h for h in HF if h[0] in ("bert", "gpt2", "llama")],
                         ids=[i for i, h in zip(HF_IDS, HF) if h[0] in ("bert", "gpt2", "llama")])
def test_forward_computes_what_transformers_computes(target_name, model_type, cls, overrides):
    import torch
    import transformers  # in the torch env (tox.ini): a missing one is a failure, not a skip

    torch.manual_seed(0)
    ref = hf_model(transformers, cls, overrides)
    with torch.no_grad():  # weights larger than HF's init, so attention is far from uniform
        for p in ref.parameters():
            p.normal_(0.0, 0.2)
    ours = build({"hf_config": {"model_type": model_type, **overrides}}, materialize=True)
    _hf_weights_into_ours(model_type, ref, ours)
    ids = torch.randint(0, ref.config.vocab_size, (2, 16))
    with torch.no_grad():
        got, want = ours(ids), ref(ids)
    pairs = ([(got[0], want.last_hidden_state), (got[1], want.pooler_output)] if model_type == "bert"
             else [(got, want.logits)])
    for a, b in pairs:
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4 * float(b.abs().max()))


def lesson_forward(model, ids):
    """The course lesson's numpy TransformerEncoder.forward (spec/courses/sources/003_*.txt),
    run on our model's weights (torch keeps a Linear's weight as (out, in): the lesson's W.T)."""
    import numpy as np

    def w(t):
        return t.detach().numpy().astype(np.float64)

    def layer_norm(x, norm):  # the lesson's LayerNorm: eps added to the standard deviation
        mean, std = x.mean(axis=-1, keepdims=True), x.std(axis=-1, keepdims=True)
        return w(norm.weight) * (x - mean) / (std + norm.eps) + w(norm.bias)

    d = model.word_embeddings.embedding_dim
    seq_len = ids.shape[1]
    position = np.arange(seq_len)[:, np.newaxis]
    div_term = np.exp(np.arange(0, d, 2) * -(np.log(10000.0) / d))
    pe = np.zeros((seq_len, d))
    pe[:, 0::2] = np.sin(position * div_term)
    pe[:, 1::2] = np.cos(position * div_term)
    heads = model.encoder_blocks[0].attention.num_heads
    dk = d // heads

    def split(t):  # (N, T, d) -> (N, heads, T, dk)
        return t.reshape(t.shape[0], seq_len, heads, dk).transpose(0, 2, 1, 3)

    x = (w(model.word_embeddings.weight)[ids] + pe) * np.sqrt(d)
    for block in model.encoder_blocks:
        mha = block.attention
        wq, wk, wv = (m.T for m in np.split(w(mha.in_proj_weight), 3))
        q, k, v = split(x @ wq), split(x @ wk), split(x @ wv)
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dk)
        e = np.exp(scores - scores.max(axis=-1, keepdims=True))
        a = (e / e.sum(axis=-1, keepdims=True)) @ v
        a = a.transpose(0, 2, 1, 3).reshape(x.shape) @ w(mha.out_proj.weight).T
        x = layer_norm(x + a, block.norm1)
        fc1, fc2 = block.ffn[0], block.ffn[2]
        h = np.maximum(0, x @ w(fc1.weight).T + w(fc1.bias))
        x = layer_norm(x + h @ w(fc2.weight).T + w(fc2.bias), block.norm2)
    return x @ w(model.output_layer.weight).T


@pytest.mark.only("torch")
@pytest.mark.parametrize("preset", ["mini", "lesson"])
def test_mini_transformer_computes_what_the_lesson_computes(target_name, preset):
    import torch
    np = pytest.importorskip("numpy")  # torch runs without it; the lesson's code needs it

    torch.manual_seed(0)
    model = build({"model": "mini_transformer", "preset": preset}, materialize=True)
    ids = torch.randint(0, model.word_embeddings.num_embeddings, (2, 12))
    with torch.no_grad():
        got = model(ids).double().numpy()
    want = lesson_forward(model, ids.numpy())
    assert got.shape == want.shape
    # float32 against float64, and LayerNorm's eps inside the square root (torch) or outside (the lesson)
    assert np.allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
