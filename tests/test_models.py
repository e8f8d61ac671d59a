"""Model families in each active target: published figures, named counts, the tree, config.json."""
import json

import pytest

import paramspec
from paramspec.targets import TARGETS

pytestmark = pytest.mark.framework


def published_entries():
    spec = paramspec.load_spec()
    return [(k.name, p) for k in spec.kinds.values() for p in k.published]


@pytest.mark.parametrize("family, pub", published_entries(), ids=lambda x: getattr(x, "preset", x))
def test_published_figures_are_reproduced(target_name, family, pub):
    fw = TARGETS[target_name].framework
    if pub.framework and pub.framework != fw:
        return  # a figure about another framework's native total: asserted in that framework's env
    r = paramspec.count({"model": family, "preset": pub.preset}, framework=target_name)
    assert r.agrees, r.problems
    if pub.params is not None:
        assert r.trainable == r.formula["canonical_params"] == pub.params, pub.source
    for name, value in pub.native.items():
        assert r.native[name] == value, pub.source


def test_keras_shows_both_mobilenet_figures(target_name):
    """Keras's count_params() includes the BatchNorm moving statistics; the reading shows both."""
    r = paramspec.count({"model": "mobilenet_v2", "preset": "mobilenet_v2"}, framework=target_name)
    assert r.trainable == 3_504_872 and r.agrees
    if TARGETS[target_name].framework == "keras":
        assert r.native["count_params()"] == 3_538_984 == r.trainable + r.non_trainable


def test_named_counts_and_the_tree(target_name):
    cfg = {"model": "gpt2", "vocab_size": 1000, "n_positions": 32, "n_embd": 64, "n_layer": 2, "n_head": 4}
    r = paramspec.count(cfg, framework=target_name)
    assert r.agrees, r.problems
    c = r.counts
    assert c["unique"] == r.trainable == r.formula["params"]
    assert c["per_reference"] == c["unique"] + c["tied"] and c["tied"] == r.formula["tied"]
    assert c["embedding"] == r.formula["embedding"] and c["non_embedding"] == c["unique"] - c["embedding"]
    top = r.tree(1)
    assert sum(n.params for n in top) == r.trainable
    deep = r.tree(3)
    assert max(len(n.path) for n in deep) == 3
    if TARGETS[target_name].framework == "torch":  # only torch lists the tied head under a second name
        assert any(n.tied_from for n in top)


def test_cli_depth_and_json_tree(target_name, cli):
    p = cli("count", "-f", target_name, "--spec", "{model: resnet, preset: resnet18, num_classes: 10}",
            "--depth", "2", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["case"] == "resnet[resnet18-cls10]" and d["agrees"]
    assert {n["depth"] for n in d["tree"]} == {1, 2}
    assert sum(n["params"] for n in d["tree"] if n["depth"] == 1) == d["trainable"]


HF_QWEN = {"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "vocab_size": 1000, "hidden_size": 64,
          "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
          "rope_theta": 1e6, "torch_dtype": "bfloat16", "tie_word_embeddings": True}


def test_hf_config_json_as_is(target_name):
    r = paramspec.count({"hf_config": HF_QWEN}, framework=target_name)
    assert r.agrees and r.trainable == r.formula["params"], r.problems


def test_cli_hf_config_file(target_name, cli, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(HF_QWEN))
    p = cli("count", "-f", target_name, "--hf-config", str(path), "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["trainable"] == paramspec.count({"hf_config": HF_QWEN}, framework=target_name).trainable


SMALL = [
    {"kind": "LSTM", "input_size": 6, "hidden_size": 4, "bidirectional": True},
    {"kind": "BatchNorm2d", "num_features": 8},
    {"kind": "MultiheadAttention", "embed_dim": 16, "num_heads": 2},
    {"model": "gpt2", "vocab_size": 100, "n_positions": 16, "n_embd": 32, "n_layer": 2, "n_head": 2},
    {"model": "lenet5"},
    {"model": "llama", "vocab_size": 100, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
     "num_attention_heads": 4, "num_key_value_heads": 2, "tie_word_embeddings": True},
]


@pytest.mark.parametrize("config", SMALL, ids=lambda c: c.get("kind") or c.get("model"))
def test_abstract_builds_read_like_materialized_ones(target_name, config, adapter_for):
    """Meta device, StatelessScope and eval_shape (with nnx's fixed-key rngs) change nothing
    a reading sees: the same tensors, shapes and totals as a build with real weights."""
    from paramspec.api import resolve_case

    if target_name == "flax-linen" and config.get("kind") not in ("BatchNorm2d", "MultiheadAttention"):
        return  # linen's abstract build is jax.eval_shape of the same init: two kinds suffice, and each real
        # init compiles (seconds a case)
    ad = adapter_for(target_name)
    case = resolve_case(config)
    abstract = ad.read(ad.build(case.kind.name, case.values))
    ad.materialize = True
    try:
        real = ad.read(ad.build(case.kind.name, case.values))
    finally:
        ad.materialize = False
    strip = (lambda ts: [(t.shape, t.trainable, t.shared_with, t.embedding) for t in ts])
    if TARGETS[target_name].framework != "keras":  # Keras numbers layer names per session
        strip = (lambda ts: [(t.name, t.shape, t.trainable, t.shared_with, t.embedding) for t in ts])
    assert strip(abstract.tensors) == strip(real.tensors)
    assert abstract.native == real.native
