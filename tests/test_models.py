"""Model families in each active target: published figures, named counts, the tree, config.json."""
import json

import pytest
from published import on_a_case

import paramspec
from paramspec.frameworks import target

pytestmark = pytest.mark.framework


def published_entries():
    """Each published figure, with the framework it is about (None: every framework). A model card's
    rounded totals (``gparams``: Mixtral-8x7B, DeepSeek-V3, ...) are held by formula, in torch and by
    transformers in tests/test_hf_configs.py, not built in every framework. A figure about a preset
    that is a spec case is asserted on that case's reading, by test_conformance (tests/published.py)."""
    spec = paramspec.load_spec()
    return [pytest.param(k.name, p, id=f"{p.preset}-{p.framework or 'all'}") for k in spec.kinds.values()
            for p in k.published if not p.gparams and not p.gmacs and not on_a_case(p)]


@pytest.mark.parametrize("family, pub", published_entries())
def test_published_figures_are_reproduced(target_name, family, pub):
    if pub.framework and pub.framework != target(target_name).framework:
        pytest.skip(f"a figure read in {pub.framework}'s env (its native total, or a figure published for its build): "
                    "asserted there")
    # the framework's own totals only where the published figure is one (test_conformance reads and
    # checks them on every case of the spec, Llama-2-7b the largest)
    r = paramspec.count({"model": family, "preset": pub.preset}, framework=target_name, native=bool(pub.native))
    assert r.agrees, r.problems
    if pub.params is not None:
        assert r.params == pub.params, pub.source  # the reading
        assert r.quantities["params"].canonical == pub.params, pub.source  # the formula
    for name, value in pub.native.items():
        assert r.native[name] == value, pub.source


GPT2_SMALL = {"model": "gpt2", "vocab_size": 1000, "n_positions": 32, "n_embd": 64, "n_layer": 2, "n_head": 4}


def test_named_counts_and_the_tree(target_name):
    r = paramspec.count(GPT2_SMALL, framework=target_name)
    assert r.agrees, r.problems
    c, q = r.counts, r.quantities
    assert c["unique"] == q["params"].expected  # the tensors, against the formula
    assert c["tied"] == q["tied"].expected and c["embedding"] == q["embedding"].expected
    if target(target_name).framework == "torch":  # state_dict() is torch's own per-name sum
        assert c["per_reference"] == r.native["state_dict()"] == c["unique"] + 1000 * 64
    top = r.tree(1)
    assert sum(n.params for n in top) == q["params"].expected
    deep = r.tree(3)
    assert max(len(n.path) for n in deep) == 3
    if target(target_name).framework == "torch":  # only torch lists the tied head under a second name
        assert any(n.tied_from for n in top)


def test_cli_depth_and_json_tree(target_name, cli):
    p = cli("count", "-f", target_name, "--spec", "{model: resnet, preset: resnet18, num_classes: 10}",
            "--depth", "2", "--json", "-")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["case"] == "resnet[resnet18-cls10]" and d["verdict"] == "pass"
    assert {n["depth"] for n in d["tree"]} == {1, 2}
    assert sum(n["params"] for n in d["tree"] if n["depth"] == 1) == d["quantities"]["params"]["expected"]


HF_QWEN = {"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "vocab_size": 1000, "hidden_size": 64,
           "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
           "rope_theta": 1e6, "torch_dtype": "bfloat16", "tie_word_embeddings": True}
# 1000 * 64 embedding + 2 layers * (attention 64 * (64 + 2 * 32) + 64 * 64 + qkv biases (64 + 2 * 32)
#   + mlp 3 * 64 * 128 + norms 2 * 64) + final norm 64; the head is tied
HF_QWEN_PARAMS = 1000 * 64 + 2 * (64 * 128 + 64 * 64 + 128 + 3 * 64 * 128 + 2 * 64) + 64


def test_hf_config_json_as_is(target_name):
    r = paramspec.count({"hf_config": HF_QWEN}, framework=target_name)
    assert r.agrees and r.params == HF_QWEN_PARAMS, r.problems


def test_cli_hf_config_file(target_name, cli, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(HF_QWEN))
    p = cli("count", "-f", target_name, "--hf-config", str(path), "--json", "-")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["quantities"]["params"]["got"] == HF_QWEN_PARAMS


SMALL = [
    {"kind": "LSTM", "input_size": 6, "hidden_size": 4, "bidirectional": True},
    {"kind": "BatchNorm2d", "num_features": 8},
    {"kind": "MultiheadAttention", "embed_dim": 16, "num_heads": 2},
    {"model": "gpt2", "vocab_size": 100, "n_positions": 16, "n_embd": 32, "n_layer": 2, "n_head": 2},
    {"model": "lenet5"},
    {"model": "llama", "vocab_size": 100, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
     "num_attention_heads": 4, "num_key_value_heads": 2, "tie_word_embeddings": True},
]
# Under JAX each real build compiles every initializer it runs (seconds a case, 3-5 s for
# LeNet-5's first). linen's abstract build is jax.eval_shape of the same init, so two kinds stand
# for it; Keras on JAX and nnx keep one model, the tied Llama (gpt2 ties its head too; LeNet-5's
# convs and dense layers are Keras's and nnx's own layers, read alike in every other test).
JAX_SMALL = {"flax-linen": ("BatchNorm2d", "MultiheadAttention"),
             "keras-jax": ("LSTM", "BatchNorm2d", "MultiheadAttention", "llama"),
             "flax-nnx": ("LSTM", "BatchNorm2d", "MultiheadAttention", "llama")}


def small_builds():
    from conftest import TARGET_NAMES

    return [pytest.param(t, c, id=f"{c.get('kind') or c.get('model')}-{t}") for t in TARGET_NAMES for c in SMALL
            if t not in JAX_SMALL or (c.get("kind") or c.get("model")) in JAX_SMALL[t]]


@pytest.mark.parametrize("name, config", small_builds())
def test_abstract_builds_read_like_materialized_ones(name, config, adapter_for):
    """Meta device, StatelessScope and eval_shape (with nnx's fixed-key rngs, and no random
    draws) change nothing a reading sees: the same tensors, shapes and totals as a build with
    real weights."""
    from paramspec.configs import resolve_case

    ad = adapter_for(name)
    case = resolve_case(config)
    abstract = ad.read(ad.build(case.kind.name, case.values))
    real = ad.read(ad.build(case.kind.name, case.values, materialize=True))
    strip = (lambda ts: [(t.shape, t.trainable, t.shared_with, t.embedding) for t in ts])
    if target(name).framework != "keras":  # Keras numbers layer names per session
        strip = (lambda ts: [(t.name, t.shape, t.trainable, t.shared_with, t.embedding) for t in ts])
    assert strip(abstract.tensors) == strip(real.tensors)
    assert abstract.native == real.native
    # a build told its totals will not be read (linen: a plain init, not nn.tabulate's trace) reads the same
    plain = ad.read(ad.build(case.kind.name, case.values, native=False))
    assert strip(plain.tensors) == strip(abstract.tensors) and plain.native == abstract.native


@pytest.mark.only("keras-jax")
def test_keras_on_jax_imports_no_tensorflow(target_name):
    """Keras's serializer imports TensorFlow, where it is installed, to ask whether a value is a
    TensorFlow object (get_config(); Bidirectional serializes the layer it wraps). A count on
    the JAX backend must not pay that import (2-3 s), nor hold TensorFlow's memory: this test
    process, which nothing has made import it (conftest's guard fails any test of the keras-jax
    run that does), counts a bidirectional RNN and a model, describes them, and has not imported
    it. In the keras-flax tox env, TensorFlow is installed beside JAX, so the check has teeth."""
    import sys

    assert "tensorflow" not in sys.modules, "TensorFlow was imported before this test, outside any test"
    for cfg in ({"kind": "RNN", "input_size": 10, "hidden_size": 20, "bidirectional": True}, {"model": "lenet5"}):
        r = paramspec.count(cfg, framework=target_name, measure=True)
        assert r.agrees and r.built, r.problems  # r.built: keras_call's description
    assert "tensorflow" not in sys.modules
