"""Reference implementations, where they install: transformers (torch env) and keras.applications.

Each is built from a config without weights (transformers on the meta device, Keras under
StatelessScope) and must equal both the spec's formula and paramspec's own native build.
"""
import math

import pytest

import paramspec
from paramspec.configs import resolve_case

pytestmark = pytest.mark.framework

HF = [
    # (model_type, transformers class, config overrides)
    ("bert", "BertModel", {}),
    ("bert", "BertModel", {"hidden_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 512}),
    ("gpt2", "GPT2LMHeadModel", {}),
    ("gpt2", "GPT2LMHeadModel", {"n_embd": 96, "n_layer": 3, "n_head": 3, "n_inner": 200, "tie_word_embeddings": False}),
    ("llama", "LlamaForCausalLM", {}),
    ("llama", "LlamaForCausalLM", {"vocab_size": 512, "hidden_size": 96, "intermediate_size": 256, "num_hidden_layers": 2,
                                   "num_attention_heads": 6, "num_key_value_heads": 3, "head_dim": 32,
                                   "attention_bias": True, "mlp_bias": True, "tie_word_embeddings": True}),
    ("mistral", "MistralForCausalLM", {}),
    ("qwen2", "Qwen2ForCausalLM", {}),
    ("qwen2", "Qwen2ForCausalLM", {"vocab_size": 1000, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                                   "num_attention_heads": 4, "num_key_value_heads": 2, "tie_word_embeddings": True}),
]


@pytest.mark.only("torch")  # transformers is a torch reference; the torch env installs it
@pytest.mark.parametrize("model_type, cls, overrides", HF, ids=[f"{m}-{i}" for i, (m, _, _) in enumerate(HF)])
def test_transformers_models_on_the_meta_device(target_name, model_type, cls, overrides):
    import torch
    transformers = pytest.importorskip("transformers")

    config = getattr(transformers, cls.replace("ForCausalLM", "Config").replace("LMHeadModel", "Config")
                     .replace("Model", "Config"))(**overrides)
    with torch.device("meta"):
        ref = getattr(transformers, cls)(config)
    ours = paramspec.count({"hf_config": {"model_type": model_type, **overrides}}, framework="torch")
    assert ours.agrees, ours.problems
    assert ref.num_parameters() == ours.quantities["params"].canonical == ours.params
    assert ref.num_parameters(exclude_embeddings=True) == ours.counts["non_embedding"]
    ref_params_by_name = sum(p.numel() for _, p in ref.named_parameters(remove_duplicate=False))
    assert ref_params_by_name == ours.counts["per_reference"]


@pytest.mark.parametrize("model_type, cls", [("bert", "BertConfig"), ("gpt2", "GPT2Config"), ("llama", "LlamaConfig"),
                                             ("mistral", "MistralConfig"), ("qwen2", "Qwen2Config")])
@pytest.mark.only("torch")
def test_recorded_hf_defaults_are_the_transformers_defaults(target_name, model_type, cls):
    transformers = pytest.importorskip("transformers")

    kind, mapping = paramspec.load_spec().hf_mapping(model_type)
    ref = getattr(transformers, cls)()
    case = resolve_case({"hf_config": {"model_type": model_type}})
    for key, value in mapping.defaults.items():
        if value is None:  # unset in the spec: the family's formula derives it, as transformers does
            continue
        assert getattr(ref, key) == value, (model_type, key)
    assert case.kind is kind


KERAS_APPS = [
    # (keras.applications class, the spec case it is)
    ("ResNet50", {"model": "resnet", "preset": "resnet50", "conv_bias": True}),
    ("VGG16", {"model": "vgg", "preset": "vgg16"}),
    ("MobileNetV2", {"model": "mobilenet_v2", "preset": "mobilenet_v2"}),
    ("MobileNetV3Large", {"model": "mobilenet_v3", "preset": "mobilenet_v3_large"}),
    ("ConvNeXtTiny", {"model": "convnext", "preset": "convnext_tiny"}),
]


@pytest.mark.parametrize("app, config", KERAS_APPS, ids=[a for a, _ in KERAS_APPS])
@pytest.mark.only("keras")
def test_keras_applications(target_name, app, config):
    import keras

    with keras.StatelessScope(initialize_variables=False):
        ref = getattr(keras.applications, app)(weights=None)
    trainable = sum(math.prod(w.shape) for w in ref.trainable_weights)
    non_trainable = sum(math.prod(w.shape) for w in ref.non_trainable_weights)
    keras.backend.clear_session(free_memory=False)
    ours = paramspec.count(config, framework=target_name)
    assert ours.agrees, ours.problems
    assert (trainable, non_trainable) == (ours.quantities["params"].expected, ours.quantities["state"].expected)
    assert ref.count_params() == ours.native["count_params()"]


@pytest.mark.only("keras")
def test_keras_applications_efficientnet_adds_only_its_input_normalization(target_name):
    """keras.applications.EfficientNetB0 is torchvision's architecture with the same weights, plus
    input preprocessing: a Rescaling layer and a Normalization layer, whose mean, variance and
    count are non-trainable weights. Everything else equals the spec's formula and the native build."""
    import keras

    with keras.StatelessScope(initialize_variables=False):
        ref = keras.applications.EfficientNetB0(weights=None)
    trainable = sum(math.prod(w.shape) for w in ref.trainable_weights)
    non_trainable = sum(math.prod(w.shape) for w in ref.non_trainable_weights)
    preprocessing = sum(math.prod(w.shape) for layer in ref.layers if isinstance(layer, keras.layers.Normalization)
                        for w in layer.weights)
    keras.backend.clear_session(free_memory=False)
    ours = paramspec.count({"model": "efficientnet", "preset": "efficientnet_b0"}, framework=target_name)
    assert ours.agrees, ours.problems
    assert preprocessing > 0
    assert trainable == ours.quantities["params"].expected
    assert non_trainable - preprocessing == ours.quantities["state"].expected
    assert ref.count_params() - preprocessing == ours.native["count_params()"]
