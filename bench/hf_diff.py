"""Differential testing of config.json counts against transformers itself.

Usage:
    python bench/hf_diff.py [N] [--model-type T ...] [--seed S]   N configs per model_type (1000)

Hypothesis draws valid config.json files of every model_type the spec reads (spec/models/
transformers.yaml, ``hf``), varying every key that changes the count (under its own name, its
alias, or both with different values: the alias wins), now and then with keys that change no
count and a key no class knows. Each is counted three ways, which never derive from each other:

- paramspec's formula (``-f formula``) and its torch build (``-f torch``, on the meta device);
- transformers' own class for the model_type, built from the config on the meta device:
  ``num_parameters()``, and the parameters one token uses (every parameter, but of a mixture
  of experts' routed experts only ``top_k`` of ``num_experts``, read from the built modules).

A disagreement is any difference, paramspec refusing a config transformers builds (unless the
spec's entry refuses that key, by name), or a torch record that does not pass. A config
transformers itself refuses is no disagreement, whatever paramspec says. tests/test_hf_configs.py
runs a few draws of each model_type with a fixed seed; this is the long run, whose figure is in
docs/benchmarks.md. Printed per model_type: configs drawn, of which transformers refused,
paramspec refused (naming a refused key, or saying why transformers builds what it does not), agreed, and disagreements (each shown, shrunk by Hypothesis).
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hypothesis import HealthCheck, Phase, given, settings, strategies as st  # noqa: E402

from common import machine  # noqa: E402

# ------------------------------------------------------------------ drawing configs
SMALL = st.integers(1, 48)


def _put(draw, cfg: dict, key: str, value: Any, aliases: tuple[str, ...] = ()) -> None:
    """``value`` under ``key``, under one of its ``aliases``, or under both: then the key holds
    another value, and the alias must win (transformers applies its attribute_map last)."""
    names = [key, *aliases]
    where = draw(st.sampled_from(names + (["both"] if aliases else [])))
    if where == "both":
        cfg[key] = value + draw(st.integers(1, 3)) if isinstance(value, int) and not isinstance(value, bool) else value
        cfg[draw(st.sampled_from(list(aliases)))] = value
    else:
        cfg[where] = value


def _maybe(draw, cfg: dict, key: str, strategy, p_omit: float = 0.3) -> None:
    """``key`` from ``strategy``, or left out (the config class's default) now and then."""
    if draw(st.floats(0, 1)) >= p_omit:
        cfg[key] = draw(strategy)


def _noise(draw, cfg: dict, keys: dict[str, Any]) -> None:
    """Now and then, keys that change no count (with plausible values) and a key no class knows."""
    for key, value in keys.items():
        if draw(st.integers(0, 5)) == 0:
            cfg[key] = value
    if draw(st.integers(0, 7)) == 0:
        cfg["paramspec_unknown_key"] = draw(st.sampled_from([1, "x", [1, 2], None]))


DECODER_NOISE = {"hidden_act": "gelu", "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "attention_dropout": 0.1,
                 "max_position_embeddings": 77, "use_cache": False, "architectures": ["X"], "torch_dtype": "bfloat16",
                 "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2, "initializer_range": 0.01}


def _heads(draw, divisible: bool = True, head_dim: bool = True) -> dict[str, Any]:
    """Attention sizes: heads, kv heads that divide them, hidden size (a multiple of the heads, or
    not, where the class allows it), and an explicit head_dim now and then."""
    heads = draw(st.integers(1, 6))
    kv = draw(st.sampled_from([d for d in range(1, heads + 1) if heads % d == 0]))
    # an even head size, as rotary positions need (transformers refuses an odd one)
    hidden = heads * 2 * draw(st.integers(1, 4)) if divisible or draw(st.booleans()) else draw(st.integers(heads, 48))
    out = {"hidden_size": hidden, "num_attention_heads": heads, "num_key_value_heads": kv}
    if head_dim and draw(st.booleans()):
        out["head_dim"] = 2 * draw(st.integers(1, 6))
    return out


@st.composite
def bert(draw):
    cfg: dict[str, Any] = {"model_type": "bert"}
    h = _heads(draw, head_dim=False)
    cfg.update(vocab_size=draw(SMALL), hidden_size=h["hidden_size"], num_attention_heads=h["num_attention_heads"],
               num_hidden_layers=draw(st.integers(1, 3)), intermediate_size=draw(SMALL))
    _maybe(draw, cfg, "max_position_embeddings", SMALL, 0.2)
    _maybe(draw, cfg, "type_vocab_size", st.integers(1, 3), 0.5)
    _maybe(draw, cfg, "is_decoder", st.booleans(), 0.7)
    if draw(st.integers(0, 9)) == 0:  # refused by name (a decoder's cross-attention)
        cfg.update(is_decoder=True, add_cross_attention=True)
    _noise(draw, cfg, {"hidden_act": "relu", "layer_norm_eps": 1e-6, "hidden_dropout_prob": 0.0,
                       "tie_word_embeddings": False, "pad_token_id": 0, "architectures": ["BertForMaskedLM"]})
    return cfg


@st.composite
def gpt2(draw):
    cfg: dict[str, Any] = {"model_type": "gpt2"}
    h = _heads(draw, head_dim=False)
    _put(draw, cfg, "n_embd", h["hidden_size"], ("hidden_size",))
    _put(draw, cfg, "n_head", h["num_attention_heads"], ("num_attention_heads",))
    _put(draw, cfg, "n_layer", draw(st.integers(1, 3)), ("num_hidden_layers",))
    _put(draw, cfg, "n_positions", draw(SMALL), ("max_position_embeddings",))
    cfg["vocab_size"] = draw(SMALL)
    _maybe(draw, cfg, "n_inner", st.one_of(st.none(), SMALL), 0.5)
    _maybe(draw, cfg, "tie_word_embeddings", st.booleans(), 0.5)
    if draw(st.integers(0, 9)) == 0:
        cfg["add_cross_attention"] = True
    _noise(draw, cfg, {"activation_function": "gelu", "layer_norm_epsilon": 1e-6, "resid_pdrop": 0.0,
                       "scale_attn_by_inverse_layer_idx": True, "summary_type": "mean", "bos_token_id": 0})
    return cfg


def _llama_like(model_type: str, divisible: bool, head_dim: bool, extra: Callable | None = None):
    @st.composite
    def draw_config(draw):
        cfg: dict[str, Any] = {"model_type": model_type}
        h = _heads(draw, divisible=divisible, head_dim=head_dim)
        if draw(st.integers(0, 3)) == 0:  # unset: the class's default (the heads, or its own)
            del h["num_key_value_heads"]
        cfg.update(h)
        cfg.update(vocab_size=draw(SMALL), intermediate_size=draw(SMALL), num_hidden_layers=draw(st.integers(1, 3)))
        _maybe(draw, cfg, "tie_word_embeddings", st.booleans(), 0.5)
        if extra is not None:
            extra(draw, cfg)
        _noise(draw, cfg, DECODER_NOISE)
        return cfg
    return draw_config


def _llama_extra(draw, cfg):
    _maybe(draw, cfg, "attention_bias", st.booleans(), 0.5)
    _maybe(draw, cfg, "mlp_bias", st.booleans(), 0.5)


def _qwen2_extra(draw, cfg):
    if draw(st.integers(0, 3)) == 0:
        cfg.update(use_sliding_window=True, sliding_window=8, max_window_layers=1)


def _attention_bias(draw, cfg):
    _maybe(draw, cfg, "attention_bias", st.booleans(), 0.5)


def _experts(key: str, aliases: tuple[str, ...] = (), zero: bool = False):
    """A mixture of experts: the routed experts (under ``key`` or its alias), top-k of them, their width."""
    def extra(draw, cfg):
        n = draw(st.integers(0 if zero else 1, 5))
        _put(draw, cfg, key, n, aliases)
        cfg["num_experts_per_tok"] = draw(st.integers(1, max(n, 1)))
        cfg["moe_intermediate_size"] = draw(SMALL)
    return extra


def _qwen_moe(shared: bool):
    def extra(draw, cfg):
        _experts("num_experts", () if shared else ("num_local_experts",), zero=True)(draw, cfg)
        _maybe(draw, cfg, "decoder_sparse_step", st.integers(1, 3), 0.5)
        if shared:
            _maybe(draw, cfg, "shared_expert_intermediate_size", st.integers(0, 24), 0.2)
            _maybe(draw, cfg, "qkv_bias", st.booleans(), 0.5)
        else:
            _attention_bias(draw, cfg)
        if draw(st.integers(0, 9)) == 0:
            cfg["mlp_only_layers"] = draw(st.sampled_from([[], [0]]))  # [0]: refused by name
    return extra


def _phi3_extra(draw, cfg):
    cfg["pad_token_id"] = None  # Phi3Config's default, 32000, is outside a small vocabulary


@st.composite
def deepseek_v3(draw):
    cfg: dict[str, Any] = {"model_type": "deepseek_v3"}
    heads = draw(st.integers(1, 4))
    hidden = draw(st.integers(8, 48))
    cfg.update(hidden_size=hidden, num_attention_heads=heads, num_key_value_heads=heads, vocab_size=draw(SMALL),
               intermediate_size=draw(SMALL), num_hidden_layers=draw(st.integers(1, 4)),
               kv_lora_rank=draw(st.integers(1, hidden)), qk_nope_head_dim=draw(st.integers(1, 8)),
               qk_rope_head_dim=2 * draw(st.integers(1, 4)), v_head_dim=draw(st.integers(1, 8)))
    cfg["q_lora_rank"] = draw(st.one_of(st.none(), st.integers(1, hidden)))
    _experts("n_routed_experts", ("num_local_experts",))(draw, cfg)
    cfg.update(n_group=1, topk_group=1)
    _maybe(draw, cfg, "n_shared_experts", st.integers(0, 2), 0.3)
    _maybe(draw, cfg, "first_k_dense_replace", st.integers(0, 3), 0.2)
    _maybe(draw, cfg, "tie_word_embeddings", st.booleans(), 0.5)
    _attention_bias(draw, cfg)
    if draw(st.booleans()):
        cfg[draw(st.sampled_from(["num_nextn_predict_layers", "num_mtp_layers"]))] = 1  # noted, not counted
    _noise(draw, cfg, {**DECODER_NOISE, "routed_scaling_factor": 1.5, "norm_topk_prob": False, "rope_interleave": False})
    return cfg


@st.composite
def gpt_neox(draw):
    cfg: dict[str, Any] = {"model_type": "gpt_neox"}
    h = _heads(draw, head_dim=False)
    cfg.update(hidden_size=h["hidden_size"] * 2, num_attention_heads=h["num_attention_heads"], vocab_size=draw(SMALL),
               intermediate_size=draw(SMALL), num_hidden_layers=draw(st.integers(1, 3)))
    _maybe(draw, cfg, "use_parallel_residual", st.booleans(), 0.3)
    _maybe(draw, cfg, "attention_bias", st.booleans(), 0.5)
    _maybe(draw, cfg, "tie_word_embeddings", st.booleans(), 0.5)
    _noise(draw, cfg, {"hidden_act": "gelu_new", "layer_norm_eps": 1e-6, "rotary_pct": 1.0, "rotary_emb_base": 10000,
                       "is_decoder": True, "architectures": ["GPTNeoXForCausalLM"]})
    return cfg


@st.composite
def falcon(draw):
    cfg: dict[str, Any] = {"model_type": "falcon"}
    h = _heads(draw, head_dim=False)
    _put(draw, cfg, "hidden_size", h["hidden_size"], ("n_embed",))
    cfg.update(num_attention_heads=h["num_attention_heads"], vocab_size=draw(SMALL),
               num_hidden_layers=draw(st.integers(1, 3)))
    _maybe(draw, cfg, "num_kv_heads", st.just(h["num_key_value_heads"]), 0.3)
    for key in ("multi_query", "new_decoder_architecture", "parallel_attn", "bias"):
        _maybe(draw, cfg, key, st.booleans(), 0.3)
    _maybe(draw, cfg, "num_ln_in_parallel_attn", st.sampled_from([None, 1, 2]), 0.5)
    _maybe(draw, cfg, "ffn_hidden_size", st.one_of(st.none(), SMALL), 0.5)
    _maybe(draw, cfg, "tie_word_embeddings", st.booleans(), 0.5)
    _noise(draw, cfg, {"alibi": True, "activation": "relu", "layer_norm_epsilon": 1e-6, "hidden_dropout": 0.1})
    return cfg


@st.composite
def roberta(draw):
    cfg = draw(bert())
    cfg["model_type"] = "roberta"
    return cfg


@st.composite
def t5(draw):
    cfg: dict[str, Any] = {"model_type": "t5", "vocab_size": draw(SMALL)}
    _put(draw, cfg, "d_model", draw(SMALL), ("hidden_size",))
    _put(draw, cfg, "d_kv", draw(st.integers(1, 8)), ("head_dim",))
    _put(draw, cfg, "num_heads", draw(st.integers(1, 4)), ("num_attention_heads",))
    _put(draw, cfg, "num_layers", draw(st.integers(1, 3)), ("num_hidden_layers",))  # the alias sizes the encoder only
    _maybe(draw, cfg, "num_decoder_layers", st.one_of(st.none(), st.integers(1, 3)), 0.5)
    cfg["d_ff"] = draw(SMALL)
    _maybe(draw, cfg, "relative_attention_num_buckets", st.integers(2, 16), 0.3)
    _maybe(draw, cfg, "feed_forward_proj", st.sampled_from(["relu", "gated-gelu", "gated-silu", "gelu_new"]), 0.4)
    _maybe(draw, cfg, "tie_word_embeddings", st.booleans(), 0.6)  # tied whatever it says: a note on the record
    _noise(draw, cfg, {"dropout_rate": 0.0, "layer_norm_epsilon": 1e-5, "relative_attention_max_distance": 64,
                       "is_encoder_decoder": True, "decoder_start_token_id": 0, "n_positions": 512})
    return cfg


@st.composite
def vit(draw):
    cfg: dict[str, Any] = {"model_type": "vit"}
    h = _heads(draw, head_dim=True)
    cfg.update(hidden_size=h["hidden_size"], num_attention_heads=h["num_attention_heads"],
               num_hidden_layers=draw(st.integers(1, 3)), intermediate_size=draw(SMALL))
    if "head_dim" in h:
        cfg["head_dim"] = h["head_dim"]
    patch = draw(st.integers(1, 8))
    cfg.update(patch_size=patch, image_size=draw(st.integers(patch, 4 * patch + 3)))
    _maybe(draw, cfg, "num_channels", st.integers(1, 4), 0.5)
    _maybe(draw, cfg, "qkv_bias", st.booleans(), 0.5)
    _maybe(draw, cfg, "pooler_output_size", st.one_of(st.none(), SMALL), 0.5)
    _noise(draw, cfg, {"hidden_act": "gelu_new", "layer_norm_eps": 1e-6, "encoder_stride": 4, "pooler_act": "relu"})
    return cfg


STRATEGIES: dict[str, Callable[[], st.SearchStrategy]] = {
    "bert": bert,
    "gpt2": gpt2,
    "llama": _llama_like("llama", divisible=True, head_dim=True, extra=_llama_extra),
    "mistral": _llama_like("mistral", divisible=False, head_dim=True),
    "qwen2": _llama_like("qwen2", divisible=False, head_dim=True, extra=_qwen2_extra),
    "qwen3": _llama_like("qwen3", divisible=True, head_dim=True, extra=_attention_bias),
    "mixtral": _llama_like("mixtral", divisible=False, head_dim=True,
                           extra=_experts("num_local_experts", ("num_experts",))),
    "qwen2_moe": _llama_like("qwen2_moe", divisible=False, head_dim=True, extra=_qwen_moe(shared=True)),
    "qwen3_moe": _llama_like("qwen3_moe", divisible=False, head_dim=True, extra=_qwen_moe(shared=False)),
    "gemma": _llama_like("gemma", divisible=False, head_dim=True, extra=_attention_bias),
    "gemma2": _llama_like("gemma2", divisible=False, head_dim=True, extra=_attention_bias),
    "gemma3_text": _llama_like("gemma3_text", divisible=False, head_dim=True, extra=_attention_bias),
    "phi3": _llama_like("phi3", divisible=False, head_dim=True, extra=_phi3_extra),
    "olmo2": _llama_like("olmo2", divisible=False, head_dim=True, extra=_attention_bias),
    "deepseek_v3": deepseek_v3,
    "gpt_neox": gpt_neox,
    "falcon": falcon,
    "roberta": roberta,
    "t5": t5,
    "vit": vit,
}


# ------------------------------------------------------------------ counting three ways
@dataclass
class Outcome:
    """One config's three counts, or why one side refused it."""

    config: dict
    reference: tuple[int, int] | None = None  # transformers: (num_parameters(), active)
    reference_refused: str = ""
    formula: tuple[int, int] | None = None  # paramspec -f formula: (params, active)
    torch: tuple[int, int] | None = None  # paramspec -f torch: (params, active), read from the build
    refused: str = ""  # paramspec's one line
    problem: str = ""  # a disagreement, in one line

    @property
    def kind(self) -> str:
        if self.problem:
            return "disagree"
        if self.reference_refused:
            return "transformers refused"
        return "refused, saying why" if self.refused else "agree"


def quiet() -> None:
    """transformers' warnings about a config (special tokens out of the vocabulary, ...) are noise here."""
    import transformers

    transformers.logging.set_verbosity_error()
    logging.getLogger("transformers").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")


def reference(config: dict, model: bool = False) -> tuple[int, int] | dict[str, int]:
    """transformers' own class for the model_type (the spec's ``class``), built from the config on
    the meta device: num_parameters(), and the parameters one token uses. With ``model``, a dict
    with num_parameters(exclude_embeddings=True) and the per-name sum (named_parameters without
    removing duplicates: a tied head twice) too."""
    import torch
    import transformers

    from paramspec.loader import load_spec

    _, m = load_spec().hf_mapping(config["model_type"])
    kwargs = {k: v for k, v in config.items() if k != "model_type"}
    cfg = transformers.AutoConfig.for_model(config["model_type"], **kwargs)
    with torch.device("meta"):
        built = getattr(transformers, m.cls)(cfg)
    if not model:
        return built.num_parameters(), active_of(built)
    return {"params": built.num_parameters(), "active": active_of(built),
            "non_embedding": built.num_parameters(exclude_embeddings=True),
            "per_reference": sum(p.numel() for _, p in built.named_parameters(remove_duplicate=False))}


def active_of(model) -> int:
    """Every parameter once, but of each routed-experts module only top_k of num_experts: read from
    transformers' modules (a mixture of experts block's ``experts.num_experts`` and ``gate.top_k``)."""
    total = model.num_parameters()
    for module in model.modules():
        experts, gate = getattr(module, "experts", None), getattr(module, "gate", None)
        k, n = getattr(gate, "top_k", None), getattr(experts, "num_experts", None)
        if experts is None or not k or not n:
            continue
        routed = sum(p.numel() for p in experts.parameters())
        total -= routed - routed * k // n
    return total


def count(config: dict) -> Outcome:
    """The three counts of one config, and whether they agree."""
    from paramspec.configs import resolve_case
    from paramspec.errors import SpecError
    from paramspec.loader import load_spec
    from paramspec.run import formula_record, run_case

    out = Outcome(config)
    try:
        out.reference = reference(config)
    except Exception as e:  # noqa: BLE001 - transformers refusing a config is an outcome, not a failure
        out.reference_refused = f"{type(e).__name__}: {str(e).splitlines()[0][:160] if str(e) else ''}"
    spec = load_spec()
    try:
        case = resolve_case({"hf_config": config}, spec)
    except SpecError as e:
        out.refused = str(e)
        if out.reference is not None:
            _, m = spec.hf_mapping(config["model_type"])
            named = [k for k, (builds, _) in m.refuse.items() if k in config and config[k] not in builds]
            if not any(f": {k}: " in f"{e}" for k in named) and "transformers builds" not in f"{e}":
                out.problem = (f"paramspec refuses what transformers builds ({out.reference[0]:,}), and neither names "
                               f"a refused key nor says why: {e}")
        return out
    f = formula_record(case)
    out.formula = (f.params, f.value("active") if "active" in f.quantities else f.params)
    if out.reference is None:
        return out
    rec = run_case(spec, case, "torch", strict=True, native=False)
    out.torch = (rec.params, rec.quantities["active"].got if "active" in rec.quantities else rec.params)
    if rec.verdict != "pass":
        out.problem = f"the torch record does not pass: {'; '.join(rec.problems)[:300]}"
    elif not out.formula == out.torch == out.reference:
        out.problem = (f"(params, active): transformers {out.reference}, -f formula {out.formula}, "
                       f"-f torch {out.torch}")
    return out


# ------------------------------------------------------------------ the long run
@dataclass
class Tally:
    drawn: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    problems: list[Outcome] = field(default_factory=list)


def run(model_type: str, n: int, seed: int) -> Tally:
    """``n`` draws of one model_type (Hypothesis, seeded, no shrinking: every draw is tallied)."""
    tally = Tally()

    @settings(max_examples=n, deadline=None, database=None, derandomize=False, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(STRATEGIES[model_type]())
    def one(config):
        o = count(config)
        tally.drawn += 1
        tally.kinds[o.kind] = tally.kinds.get(o.kind, 0) + 1
        if o.problem:
            tally.problems.append(o)

    from hypothesis import seed as hseed

    hseed(seed)(one)()
    return tally


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("n", nargs="?", type=int, default=1000)
    p.add_argument("--model-type", action="append")
    p.add_argument("--seed", type=int, default=20261208)
    args = p.parse_args(argv)
    quiet()
    import torch
    import transformers

    print(f"machine: {machine()}; torch {torch.__version__}, transformers {transformers.__version__}; "
          f"seed {args.seed}, {args.n} configs per model_type")
    print(f"{'model_type':<13} {'drawn':>6} {'agree':>6} {'refused, saying why':>20} {'transformers refused':>21} "
          f"{'disagree':>9} {'s':>6}")
    bad = 0
    for mt in args.model_type or list(STRATEGIES):
        t0 = time.perf_counter()
        t = run(mt, args.n, args.seed)
        k = t.kinds
        print(f"{mt:<13} {t.drawn:>6} {k.get('agree', 0):>6} {k.get('refused, saying why', 0):>20} "
              f"{k.get('transformers refused', 0):>21} {k.get('disagree', 0):>9} {time.perf_counter() - t0:>6.0f}",
              flush=True)
        for o in t.problems[:5]:
            print(f"    {o.config}: {o.problem}")
        bad += len(t.problems)
    print(f"{bad} disagreements")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
