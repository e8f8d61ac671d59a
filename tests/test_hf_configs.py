"""config.json, read as transformers reads it: each model_type's entry in the spec is held to
transformers' own config class and modeling code, and random valid configs are counted by
paramspec (formula and torch) and by transformers' own class on the meta device.

The differential test draws a few configs per model_type with a fixed seed (bench/hf_diff.py
holds the strategies; its long run, 10^3 per model_type, is the figure in docs/benchmarks.md).
Hypothesis shrinks a failure to a minimal config.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import hf_diff  # noqa: E402  bench/hf_diff.py

from paramspec.configs import resolve_case  # noqa: E402
from paramspec.errors import SpecError  # noqa: E402
from paramspec.loader import load_spec  # noqa: E402
from paramspec.run import formula_record  # noqa: E402

MODEL_TYPES = [m.model_type for k in load_spec().kinds.values() for m in k.hf]
EXAMPLES = 10  # a draw is about 20-60 ms (two meta-device builds): the long run is bench/hf_diff.py


def test_every_model_type_has_a_strategy():
    assert sorted(hf_diff.STRATEGIES) == sorted(MODEL_TYPES)


def test_a_key_not_read_is_a_note_on_the_record():
    r = formula_record(resolve_case({"hf_config": {"model_type": "llama", "num_hidden_layers": 2, "my_key": 1,
                                                   "rope_theta": 1e6}}))
    assert r.notes == ["not read: my_key (transformers' LlamaConfig and LlamaForCausalLM read no such key either; "
                       "it changes nothing they build)"]


@pytest.mark.parametrize("config, key", [({"model_type": "gpt2", "add_cross_attention": True}, "add_cross_attention"),
                                         ({"model_type": "bert", "is_decoder": True, "add_cross_attention": True},
                                          "add_cross_attention")])
def test_a_key_the_family_does_not_build_is_refused_by_name(config, key):
    with pytest.raises(SpecError, match=f"hf_config \\({config['model_type']}\\): {key}: true is not counted") as e:
        resolve_case({"hf_config": config})
    assert "\n" not in str(e.value)


def test_the_issue_23_configs():
    """The four causes and the refusal class of issue 23, each counted as transformers 5 builds it."""
    for config, params in [
        ({"model_type": "qwen2", "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 32,
          "intermediate_size": 100, "num_hidden_layers": 2, "vocab_size": 1000}, 216_384),
        ({"model_type": "gpt2", "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": 100},
         172_032),
        ({"model_type": "gpt2", "n_embd": 32, "num_attention_heads": 4}, 1_793_504),
        ({"model_type": "mistral", "hidden_size": 14, "num_attention_heads": 3, "num_key_value_heads": 1}, 20_178_830),
    ]:
        assert formula_record(resolve_case({"hf_config": config})).params == params, config


# ------------------------------------------------------------------ held to transformers (torch env)
def _keys_the_modeling_code_reads(config_cls, model_cls) -> set[str]:
    """Every ``config.X`` and ``getattr(config, "X", ...)`` in the model class's modeling module,
    less the config class's methods and properties."""
    import inspect
    import re

    source = inspect.getsource(sys.modules[model_cls.__module__])
    found = re.findall(r"""\bconfig\.([A-Za-z_]\w*)|getattr\(\s*(?:self\.)?config\s*,\s*["']([A-Za-z_]\w*)["']""", source)
    names = {a or b for a, b in found}
    return {n for n in names if not callable(getattr(config_cls, n, None))
            and not isinstance(inspect.getattr_static(config_cls, n, None), property)}


@pytest.mark.framework
@pytest.mark.only("torch")
@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_each_entry_is_its_transformers_config_class(target_name, model_type):
    """Defaults, aliases and the keys named: the config class's own, and every key the modeling
    code reads is named (read, aliased, refused, ignored with why, or noted), so none can drift."""
    import dataclasses

    import transformers  # in the torch env (tox.ini): a missing one is a failure, not a skip

    _, m = load_spec().hf_mapping(model_type)
    config_cls = transformers.CONFIG_MAPPING[model_type]
    model_cls = getattr(transformers, m.cls)
    assert config_cls.__name__ == m.config and model_cls.config_class is config_cls
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    read = _keys_the_modeling_code_reads(config_cls, model_cls)
    derived = {n for f in m.post_init.values() for n in f.names}
    for key, value in m.defaults.items():
        if key in fields:
            f = fields[key]
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            assert default == value, (model_type, key, default, value)
        else:  # a key the class does not define: read with a fallback (getattr(config, "head_dim", ...)),
            # or an old name its __post_init__ takes (Falcon's n_embed)
            assert value is None and (key in read or key in derived), (model_type, key)
    # the attribute_map, with the name applied last first: a name that is no key of the class is set
    # after the keys, so it wins; where the alias is itself a key (Qwen3-MoE's num_experts), the other wins
    expected = {(key, alias) if alias in fields else (alias, key) for alias, key in config_cls.attribute_map.items()}
    assert set(m.aliases.items()) == expected
    assert set(fields) - m.keys == set(), f"{m.config} keys the spec does not name"
    assert read - m.keys == set(), f"keys {m.cls}'s modeling code reads that the spec does not name"


@pytest.mark.framework
@pytest.mark.only("torch")
@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_random_configs_count_what_transformers_builds(target_name, model_type):
    """-f formula, -f torch and transformers' own class on the meta device (num_parameters(), and
    active parameters read from its modules), on configs drawn from the rules (fixed seed)."""
    hf_diff.quiet()
    counted = []

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(hf_diff.STRATEGIES[model_type]())
    def check(config):
        o = hf_diff.count(config)
        assert not o.problem, o.problem
        counted.append(o.kind)

    check()
    assert "agree" in counted, counted  # at least one config counted by all three, not only refused


# ------------------------------------------------------------------ the oracle: small and flagship
# A small config.json per model_type; the flagship is the config class's defaults (``{"model_type": T}``:
# Llama-2-7B, Mixtral-8x7B, DeepSeek-V3, Falcon-7B, GPT-NeoX-20B, Gemma-7B, ... as transformers defines them).
SMALL = {
    "bert": {"vocab_size": 100, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
             "intermediate_size": 48, "max_position_embeddings": 40, "type_vocab_size": 1},
    "gpt2": {"vocab_size": 100, "hidden_size": 32, "num_attention_heads": 4, "num_hidden_layers": 2, "n_inner": 40,
             "tie_word_embeddings": False},
    "llama": {"vocab_size": 100, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
              "num_attention_heads": 4, "num_key_value_heads": 2, "attention_bias": True},
    "mistral": {"vocab_size": 100, "hidden_size": 36, "intermediate_size": 48, "num_hidden_layers": 2,
                "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 6},
    "qwen2": {"vocab_size": 100, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
              "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 12, "tie_word_embeddings": True},
    "qwen3": {"vocab_size": 100, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
              "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16},
    "mixtral": {"vocab_size": 100, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
                "num_attention_heads": 4, "num_key_value_heads": 2, "num_local_experts": 4, "num_experts_per_tok": 2},
    "qwen2_moe": {"vocab_size": 100, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 3,
                  "num_attention_heads": 4, "num_key_value_heads": 2, "num_experts": 4, "num_experts_per_tok": 2,
                  "moe_intermediate_size": 16, "shared_expert_intermediate_size": 24, "decoder_sparse_step": 2},
    "qwen3_moe": {"vocab_size": 100, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
                  "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8, "num_experts": 4,
                  "num_experts_per_tok": 2, "moe_intermediate_size": 16},
    "gemma": {"vocab_size": 100, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
              "num_attention_heads": 4, "num_key_value_heads": 1, "head_dim": 8},
    "gemma2": {"vocab_size": 100, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
               "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16},
    "gemma3_text": {"vocab_size": 100, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
                    "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16},
    "phi3": {"vocab_size": 100, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 2, "pad_token_id": None},
    "olmo2": {"vocab_size": 100, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
              "num_attention_heads": 4, "num_key_value_heads": 2},
    "deepseek_v3": {"vocab_size": 100, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 3,
                    "num_attention_heads": 4, "num_key_value_heads": 4, "q_lora_rank": 16, "kv_lora_rank": 12,
                    "qk_nope_head_dim": 8, "qk_rope_head_dim": 4, "v_head_dim": 6, "n_routed_experts": 8,
                    "num_experts_per_tok": 2, "n_shared_experts": 2, "moe_intermediate_size": 16,
                    "first_k_dense_replace": 1, "n_group": 1, "topk_group": 1},
    "gpt_neox": {"vocab_size": 100, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
                 "num_attention_heads": 4, "use_parallel_residual": True},
    "falcon": {"vocab_size": 100, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
               "new_decoder_architecture": True, "num_kv_heads": 2, "bias": True},
    "roberta": {"vocab_size": 100, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                "intermediate_size": 48, "max_position_embeddings": 34, "type_vocab_size": 1},
    "t5": {"vocab_size": 100, "d_model": 32, "d_kv": 8, "d_ff": 48, "num_layers": 2, "num_decoder_layers": 3,
           "num_heads": 4, "relative_attention_num_buckets": 8, "feed_forward_proj": "gated-gelu"},
    "vit": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 48,
            "image_size": 30, "patch_size": 7, "num_channels": 1, "pooler_output_size": 20},
}
ORACLE = [pytest.param(mt, size, config, id=f"{mt}-{size}") for mt in MODEL_TYPES
          for size, config in (("small", SMALL.get(mt, {})), ("flagship", {}))]


def test_every_model_type_has_a_small_config():
    assert sorted(SMALL) == sorted(MODEL_TYPES)


@pytest.mark.framework
@pytest.mark.only("torch")
@pytest.mark.parametrize("model_type, size, config", ORACLE)
def test_transformers_own_class_on_the_meta_device(target_name, model_type, size, config):
    """transformers' class for the model_type (the spec's ``class``), from the config on the meta
    device: num_parameters(), with and without embeddings, its per-name sum, and the parameters
    one token uses, equal to the formula's and to paramspec's torch build."""
    import paramspec

    hf_diff.quiet()
    counts = hf_diff.reference({"model_type": model_type, **config}, model=True)
    ours = paramspec.count({"hf_config": {"model_type": model_type, **config}}, framework="torch")
    assert ours.agrees, ours.problems
    assert counts["params"] == ours.quantities["params"].canonical == ours.params
    assert counts["non_embedding"] == ours.counts["non_embedding"]
    assert counts["per_reference"] == ours.counts["per_reference"]
    active = ours.quantities["active"] if "active" in ours.quantities else None
    assert counts["active"] == (active.got if active else ours.params)
    if active is not None:
        assert active.got == active.expected


# the published figures' configs as config.json files: the config class's defaults where they are
# that model (Mixtral-8x7B, DeepSeek-V3), else the model's config.json keys that differ from them
PUBLISHED_CONFIGS = {
    "Mixtral-8x7B": {"model_type": "mixtral"},
    "DeepSeek-V3": {"model_type": "deepseek_v3"},
    "Qwen3-30B-A3B": {"model_type": "qwen3_moe", "num_hidden_layers": 48, "head_dim": 128, "intermediate_size": 6144},
}


def test_published_totals_and_active_by_formula():
    """The model cards' figures (rounded or cut to their digits) and the formula's exact counts."""
    from paramspec.kinds import billions_match

    kind = load_spec().kinds["llama"]
    held = {p.preset: p for p in kind.published if p.gparams}
    assert sorted(held) == sorted(PUBLISHED_CONFIGS)
    for preset, pub in held.items():
        e = kind.expected(None, kind.resolve({"preset": preset}))
        assert billions_match(pub.gparams, e.params, truncated=True), (preset, e.params, pub.gparams)
        assert billions_match(pub.gactive, e.active, truncated=True), (preset, e.active, pub.gactive)
        case = resolve_case({"hf_config": PUBLISHED_CONFIGS[preset]})  # the config.json is the preset
        assert dict(case.values) == dict(kind.resolve({"preset": preset})), preset


@pytest.mark.framework
@pytest.mark.only("torch")
@pytest.mark.parametrize("preset", sorted(PUBLISHED_CONFIGS))
def test_published_presets_in_torch_and_in_transformers(target_name, preset):
    import paramspec
    from paramspec.kinds import billions_match

    hf_diff.quiet()
    pub = next(p for p in load_spec().kinds["llama"].published if p.preset == preset)
    r = paramspec.count({"model": "llama", "preset": preset}, framework="torch", native=False)
    assert r.agrees, r.problems
    active = r.quantities["active"].got
    assert billions_match(pub.gparams, r.params, truncated=True) and billions_match(pub.gactive, active, truncated=True)
    theirs = hf_diff.reference(PUBLISHED_CONFIGS[preset])
    assert theirs == (r.params, active), pub.source


@pytest.mark.parametrize("config, message", [
    ({"model": "llama", "num_experts": 4, "num_experts_per_tok": 5, "moe_intermediate_size": 8},
     "num_experts_per_tok must be between 1 and num_experts"),
    ({"model": "llama", "num_attention_heads": 6, "num_key_value_heads": 4},
     "num_attention_heads must be a multiple of num_key_value_heads"),
    ({"model": "llama", "hidden_size": 64, "num_attention_heads": 4, "kv_lora_rank": 80, "qk_nope_head_dim": 8,
      "qk_rope_head_dim": 4, "v_head_dim": 8}, "a LoRA rank (q_lora_rank, kv_lora_rank) must not exceed hidden_size"),
    ({"hf_config": {"model_type": "deepseek_v3", "q_lora_rank": 9000}},
     "a LoRA rank (q_lora_rank, kv_lora_rank) must not exceed hidden_size"),
    ({"hf_config": {"model_type": "mixtral", "num_local_experts": 2, "num_experts_per_tok": 3}},
     "num_experts_per_tok must be between 1 and num_experts"),
])
def test_inconsistent_settings_are_one_line_and_exit_2(config, message):
    import json

    from conftest import run_cli

    p = run_cli("count", "-f", "formula", "--spec", json.dumps(config))
    assert p.returncode == 2, p.stderr
    line, = p.stderr.strip().splitlines()
    assert message in line and "Traceback" not in p.stderr, line
