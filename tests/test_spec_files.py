"""Framework-free checks of spec/: it loads, it is consistent, and a broken copy is refused.

Each broken copy below must give exactly one error line that names the file, the entry and
the offending token, and exit code 2.
"""
import shutil
from pathlib import Path

import pytest

from paramspec import cli, yamlio
from paramspec.errors import SpecError
from paramspec.frameworks import frameworks
from paramspec.loader import load_spec, load_spec_files

SPEC = Path(__file__).resolve().parent.parent / "spec"


def test_the_bundled_spec_is_valid_and_consistent():
    spec = load_spec_files(SPEC)  # it refuses a duplicate case id (test_a_broken_spec_gives_one_line_and_exit_2)
    for kind in spec.kinds.values():
        assert any(kind.is_baseline(c.values) for c in kind.cases), kind.name
        for conv in kind.conventions:
            assert set(conv.frameworks) <= set(frameworks())


def test_the_issue_kinds_are_all_there():
    wanted = """Linear Conv1d Conv2d Conv3d ConvTranspose1d ConvTranspose2d ConvTranspose3d DepthwiseConv2D
    SeparableConv2D Embedding RNN LSTM GRU BatchNorm1d BatchNorm2d BatchNorm3d LayerNorm GroupNorm RMSNorm
    InstanceNorm2d MultiheadAttention PReLU TransformerEncoderLayer TransformerDecoderLayer ReLU MaxPool2d
    AvgPool2d AdaptiveAvgPool2d Dropout Flatten""".split()
    assert set(wanted) <= set(load_spec().kinds)


def test_the_issue_options_are_variables():
    kinds = load_spec().kinds
    for kind, options in {
        "Conv2d": {"groups", "bias"}, "ConvTranspose2d": {"groups"}, "DepthwiseConv2D": {"depth_multiplier"},
        "RNN": {"num_layers", "bidirectional", "bias"}, "LSTM": {"num_layers", "bidirectional", "bias", "proj_size"},
        "GRU": {"num_layers", "bidirectional", "bias", "reset_after"},
        "BatchNorm2d": {"affine", "track_running_stats"}, "LayerNorm": {"elementwise_affine", "bias"},
        "MultiheadAttention": {"bias", "add_bias_kv", "kdim", "vdim"},
    }.items():
        assert options <= set(kinds[kind].variables), kind


def test_parameter_free_layers_read_zero_by_formula():
    kinds = load_spec().kinds
    for name in ("ReLU", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Dropout", "Flatten"):
        for case in kinds[name].cases:
            for fw in (None, *frameworks()):
                e = case.expected(fw)
                assert (e.params, e.state) == (0, 0)


def test_case_ids_follow_the_spec_vocabulary():
    spec = load_spec()
    assert spec.case("LSTM[in300-h128]").values["hidden_size"] == 128
    assert spec.case("GRU[in300-h128-nora]").values["reset_after"] is False


# ----------------------------------------------------------------------------- broken copies
@pytest.fixture
def broken(tmp_path):
    """Copy the spec, apply one text replacement to one file, and return the copy's root."""
    def make(rel: str, old: str, new: str, count: int = 1) -> Path:
        root = tmp_path / "spec"
        shutil.copytree(SPEC, root)
        path = root / rel
        text = path.read_text()
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new, count))
        return root
    return make


def validate(root, capsys):
    code = cli.main(["validate", str(root)])
    err = capsys.readouterr().err
    return code, err


BROKEN = [
    # (file, old, new, what the one line must contain)
    ("layers/dense.yaml", "params: out_features * in_features + out_features * bias",
     "params: __import__('os').system('echo hi')", ["spec/layers/dense.yaml: Linear.params", "`__import__('os').system`"]),
    ("layers/dense.yaml", "params: out_features * in_features + out_features * bias",
     "params: __import__('os')", ["spec/layers/dense.yaml: Linear.params", "unknown function `__import__`"]),
    ("layers/dense.yaml", "params: num_embeddings * embedding_dim",
     "params: num_embeddings.__class__", ["Embedding.params", ".__class__"]),
    ("layers/dense.yaml", "params: num_embeddings * embedding_dim",
     "params: num_embedings * embedding_dim", ["Embedding.params", "unknown variable `num_embedings`"]),
    ("layers/dense.yaml", "params: num_embeddings * embedding_dim",
     "params: num_embeddings * (embedding_dim", ["Embedding.params", "does not parse"]),
    ("layers/dense.yaml", "params: num_embeddings * embedding_dim",
     "params: embedding_dim - num_embeddings", ["Embedding.params", "negative count"]),
    ("layers/dense.yaml", "      - {num_embeddings: 7, embedding_dim: 3}",
     "      - {num_embeddings: 7, embedding_dim: 3}\n      - {num_embeddings: 7, embedding_dim: 3}",
     ["Embedding", "duplicate case id Embedding[n7-d3]"]),
    ("layers/dense.yaml", "      - {in_features: 64, out_features: 32, bias: false}\n", "",
     ["Linear", "no case exercises option 'bias'"]),
    ("layers/dense.yaml", "      - {in_features: 128, out_features: 10}\n      - {in_features: 784, out_features: 256}\n"
     "      - {in_features: 1000, out_features: 1000}\n", "",
     ["Linear", "no case has every option at its default"]),
    ("layers/dense.yaml", "{num_embeddings: 7, embedding_dim: 3}", "{num_embeddings: -7, embedding_dim: 3}",
     ["Embedding.cases[2]", "num_embeddings must be an integer >= 1, got -7"]),
    ("layers/dense.yaml", "{num_embeddings: 7, embedding_dim: 3}", "{num_embeddings: 7, embedding_dim: 3.5}",
     ["Embedding.cases[2]", "embedding_dim must be an integer >= 1, got 3.5"]),
    ("layers/dense.yaml", "{num_embeddings: 7, embedding_dim: 3}", "{num_embeddings: 7, embeding_dim: 3}",
     ["Embedding.cases[2]", "unknown variable 'embeding_dim'"]),
    ("layers/recurrent.yaml", "frameworks: [torch]\n        params: weights + num_layers * D * 8",
     "frameworks: [pytorch]\n        params: weights + num_layers * D * 8", ["spec/layers/recurrent.yaml", "LSTM.conventions", "'pytorch'"]),
    ("layers/recurrent.yaml", '        why: "torch.nn.LSTM keeps two bias vectors per gate, b_ih and b_hh, where one would do"\n', "",
     ["LSTM.conventions[0]", "'why' is a required property"]),
    ("layers/dense.yaml", "  - kind: Embedding\n", "  - kind: Linear\n", ["kind 'Linear'"]),
    ("layers/dense.yaml", "    state: 0\n    macs: 0  # a lookup", "    state: 0\n    state: 1\n    macs: 0  # a lookup",
     ["spec/layers/dense.yaml", "malformed YAML at line", "duplicate key 'state'"]),
    ("layers/dense.yaml", "      - {in_features: 128, out_features: 10}", "      - {in_features: 128, out_features: 10",
     ["spec/layers/dense.yaml", "malformed YAML at line"]),
    ("layers/norm.yaml", "when: not track_running_stats", "when: not track_running_stats.real",
     ["BatchNorm1d.counters[0].when", ".real"]),
    ("index.yaml", "layers: [dense, conv,", "layers: [conv,", ["spec/index.yaml", "dense.yaml is not listed"]),
    ("frameworks.yaml", "formula: params + state", "formula: params + state + __builtins__",
     ["spec/frameworks.yaml", "__builtins__"]),
]


@pytest.mark.parametrize("rel, old, new, needles", BROKEN, ids=[f"{b[0]}:{b[3][-1][:40]}" for b in BROKEN])
def test_a_broken_spec_gives_one_line_and_exit_2(broken, capsys, rel, old, new, needles):
    code, err = validate(broken(rel, old, new), capsys)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "Traceback" not in err


def test_not_a_spec_folder(tmp_path, capsys):
    code, err = validate(tmp_path, capsys)
    assert code == 2 and "is not a spec folder" in err


def test_non_utf8_spec_file(broken, capsys):
    root = broken("layers/dense.yaml", "about:", "about:")
    (root / "layers" / "dense.yaml").write_bytes(b"about: \xff\xfe\n")
    code, err = validate(root, capsys)
    assert code == 2 and "dense.yaml: is not UTF-8" in err


def test_a_plain_load_checks_a_kind_when_it_is_used(broken, capsys, monkeypatch):
    """load_spec (what count uses) parses each kind on first use; validate parses them all."""
    monkeypatch.setenv("PARAMSPEC_CACHE_DIR", "")
    root = broken("layers/dense.yaml", "params: num_embeddings * embedding_dim", "params: num_embedings * embedding_dim")
    spec = load_spec_files(root, deep=False)
    assert "Embedding" in spec.kinds and len(spec.kinds) == len(load_spec().kinds)
    assert spec.kind("LSTM").cases[0].expected("torch").params == 220160  # another kind is unaffected
    with pytest.raises(SpecError, match="Embedding.params: unknown variable `num_embedings`"):
        spec.kind("Embedding")
    code, err = validate(root, capsys)
    assert code == 2 and "unknown variable `num_embedings`" in err


def test_a_schema_pass_is_remembered_and_a_changed_file_is_checked_again(broken, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("PARAMSPEC_CACHE_DIR", str(cache))
    list(load_spec_files(SPEC, deep=False).kinds.values())  # every kind, so every file's schema
    passed = sorted(p.name for p in (cache / "schema-passed").iterdir())  # frameworks.yaml and each kind file
    assert len(passed) == 1 + sum(len(yamlio.load_path(SPEC / "index.yaml")[group]) for group in ("layers", "models"))
    list(load_spec_files(SPEC, deep=False).kinds.values())  # the same data: nothing new
    assert sorted(p.name for p in (cache / "schema-passed").iterdir()) == passed
    root = broken("layers/recurrent.yaml", '        why: "torch.nn.LSTM keeps two bias vectors per gate, b_ih and b_hh, '
                  'where one would do"\n', "")
    with pytest.raises(SpecError, match="'why' is a required property"):
        list(load_spec_files(root, deep=False).kinds.values())
    assert len(list((cache / "schema-passed").iterdir())) == len(passed)  # a failure is not remembered
    cli.main(["validate", str(SPEC)])  # the deep check always checks, and remembers nothing
    assert len(list((cache / "schema-passed").iterdir())) == len(passed)


def test_an_unwritable_cache_only_costs_the_check(broken, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("PARAMSPEC_CACHE_DIR", str(blocker / "cache"))
    assert load_spec_files(SPEC, deep=False).kind("LSTM").name == "LSTM"


# ----------------------------------------------------------------------------- models
def test_published_figures_equal_the_formulas():
    """The formula is one of the three sources; the frameworks' readings are asserted per env."""
    spec = load_spec()
    n = 0
    for kind in spec.kinds.values():
        for pub in kind.published:
            if pub.params is not None:
                values = kind.resolve({"preset": pub.preset})
                assert kind.expected(None, values).params == pub.params, (kind.name, pub.preset, pub.source)
                n += 1
    assert n >= 8


def test_the_issue_families_and_presets_are_there():
    kinds = load_spec().kinds
    for family, presets in {"mlp": [], "lenet5": [], "vgg": ["vgg16"], "resnet": ["resnet18", "resnet50"],
                            "mobilenet_v2": ["mobilenet_v2"], "text_classifier": [], "mini_transformer": ["lesson"],
                            "bert": ["bert-base-uncased"], "gpt2": ["gpt2"], "llama": ["Llama-2-7b", "Llama-3.1-405B"]}.items():
        assert kinds[family].group == "models"
        assert set(presets) <= set(kinds[family].presets)


def test_the_course_figures_follow_from_the_formulas():
    spec = load_spec()
    case = spec.case("text_classifier[course]")
    assert (case.expected("torch").params, case.expected("keras").params) == (3_221_450, 3_220_938)
    assert spec.case("mini_transformer[lesson]").expected(None).params == 26_432


def test_hf_config_mapping():
    from paramspec.configs import resolve_case
    from paramspec.errors import SpecError

    case = resolve_case({"hf_config": {"model_type": "llama", "num_hidden_layers": 2, "unknown_key": [1, 2]}})
    assert case.kind.name == "llama" and case.values["num_hidden_layers"] == 2
    assert case.values["hidden_size"] == 4096  # LlamaConfig's default
    qwen = resolve_case({"hf_config": {"model_type": "qwen2"}})
    assert qwen.values["qkv_bias"] is True and qwen.values["attention_bias"] is False
    for bad, needle in [({"model_type": "mamba"}, "unknown model_type 'mamba'"), ({"hidden_size": 8}, "no model_type"),
                        ({"model_type": "gpt2", "n_layer": "12"}, "n_layer must be an integer"), ([1], "must be a mapping")]:
        with pytest.raises(SpecError, match=needle):
            resolve_case({"hf_config": bad})


def test_a_model_config_with_a_preset_and_overrides():
    from paramspec.configs import resolve_case
    from paramspec.errors import SpecError

    case = resolve_case({"model": "resnet", "preset": "resnet50", "num_classes": 10})
    assert case.id == "resnet[resnet50-cls10]" and case.values["layers"] == (3, 4, 6, 3)
    with pytest.raises(SpecError, match="unknown preset 'resnet51'"):
        resolve_case({"model": "resnet", "preset": "resnet51"})
    with pytest.raises(SpecError, match="give it as"):
        resolve_case({"kind": "resnet", "preset": "resnet50"})
