"""The forward passes of the Keras and Flax model families (adapters/keras_models.py,
flax_linen_models.py, flax_nnx_models.py); the torch ones are in test_forward_torch.py.

Every family runs on a tiny real input (token ids within the vocabulary, random images) with
real weights, and returns what torch's forward returns (the same output shapes), all finite.
Given torch's weights, the MLP and LeNet-5 compute what torch's models compute.

The weights are real arrays, one for every variable the framework's own (abstract) build
declares, with its shape and dtype, passed the framework's own way: Keras's
``stateless_call``, linen's ``apply``, values set into the nnx variables. They are not the
framework's initializers (``materialize=True``, which test_models.py covers): under JAX every
initializer is an XLA program compiled for its shape, minutes for these families on two CPUs.
For the same reason the JAX targets run the forward pass under ``jax.jit`` (eagerly, JAX
compiles each op apart), compiled at XLA's backend optimization level 0 (:func:`jitted`); Keras
on TensorFlow runs it eagerly.
"""
from __future__ import annotations

import importlib.util
import math

import pytest

from paramspec.configs import resolve_case
from paramspec.frameworks import adapter, target

pytestmark = pytest.mark.framework

NOT_TORCH = ("keras", "flax-linen", "flax-nnx")  # the frameworks of this file's targets

# (config with its input sizes, the output's shape(s)): test_forward_torch.py's TINY, with fewer layers
# (every layer is one more XLA computation to compile), grouped-query attention and a tied head
TINY = [
    ({"model": "mlp", "in_features": 20, "hidden_sizes": [64], "out_features": 1, "batch": 3}, [(3, 1)]),
    ({"model": "lenet5", "batch": 2}, [(2, 10)]),
    ({"model": "vgg", "cfg": "A", "num_classes": 10, "batch": 2, "height": 32, "width": 32}, [(2, 10)]),
    ({"model": "resnet", "block": "basic", "layers": [1, 1, 1, 1], "num_classes": 10, "batch": 2, "height": 64,
      "width": 64}, [(2, 10)]),
    ({"model": "resnet", "block": "bottleneck", "layers": [1, 2, 1, 1], "groups": 4, "width_per_group": 16,
      "num_classes": 7, "batch": 2, "height": 64, "width": 48}, [(2, 7)]),
    ({"model": "mobilenet_v2", "width_mult": 0.35, "num_classes": 100, "batch": 2, "height": 64, "width": 64},
     [(2, 100)]),
    ({"model": "text_classifier", "vocab_size": 5000, "embedding_dim": 64, "hidden_size": 32, "num_classes": 2,
      "batch": 2, "seq_len": 7}, [(2, 2)]),
    ({"model": "mini_transformer", "preset": "mini", "batch": 2, "seq_len": 7}, [(2, 7, 10)]),
    ({"model": "bert", "vocab_size": 1000, "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
      "intermediate_size": 100, "max_position_embeddings": 128, "type_vocab_size": 1, "batch": 2, "seq_len": 9},
     [(2, 9, 64), (2, 64)]),  # (last_hidden_state, pooler_output)
    ({"model": "gpt2", "vocab_size": 1000, "n_positions": 64, "n_embd": 96, "n_layer": 2, "n_head": 3,
      "n_inner": 200, "batch": 2, "seq_len": 9}, [(2, 9, 1000)]),  # the LM head tied to wte
    ({"model": "llama", "vocab_size": 512, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1,
      "num_attention_heads": 4, "num_key_value_heads": 2, "qkv_bias": True, "batch": 2, "seq_len": 9},
     [(2, 9, 512)]),  # grouped-query attention, an untied head
]
TINY_IDS = [c["model"] + (f"-{c['block']}" if "block" in c else "") for c, _ in TINY]


def build(target_name: str, config: dict):
    """The case, and its abstract build in ``target_name`` (its inputs in the framework's layout)."""
    case = resolve_case(config)
    return case, adapter(target_name).build(case.kind.name, case.values, case.inputs())


def variables(target_name: str, built) -> dict[str, tuple[tuple[int, ...], str]]:
    """Every variable of a build, by path, as (shape, dtype): Keras's ``Variable.path`` (the
    trainable ones, then the rest), linen's ``collection/module/.../name``, nnx's graph paths."""
    fw = target(target_name).framework
    if fw == "keras":
        vs = [*built.module.trainable_variables, *built.module.non_trainable_variables]
        return {v.path: (tuple(int(d) for d in v.shape), str(v.dtype)) for v in vs}
    if fw == "flax-linen":
        from flax.traverse_util import flatten_dict

        return {"/".join(k): (tuple(x.shape), str(x.dtype)) for k, x in flatten_dict(dict(built.variables)).items()}
    from flax import nnx

    return {"/".join(map(str, path)): (tuple(node.get_value().shape), str(node.get_value().dtype))
            for path, node in nnx.iter_graph(built.module) if isinstance(node, nnx.Variable)}


def forward(target_name: str, built, weights: dict, xs: tuple) -> list:
    """The build's forward pass in inference mode, with ``weights`` (numpy arrays by the paths
    :func:`variables` gives) on the inputs ``xs`` (the framework's layout): its outputs, as numpy."""
    import numpy as np

    fw = target(target_name).framework
    if fw == "keras":
        import keras

        layer = built.module
        vs = [*layer.trainable_variables, *layer.non_trainable_variables]

        def run(values, *xs):  # what layer.stateless_call does, through __call__, which takes training=False
            with keras.StatelessScope(state_mapping=list(zip(vs, values))):
                return built.invoke(lambda *a, **k: layer(*a, training=False, **k), xs)

        values = [weights[v.path] for v in vs]
        out = jitted(run, values, *xs) if keras.backend.backend() == "jax" else run(values, *xs)
    elif fw == "flax-linen":
        from flax.traverse_util import unflatten_dict

        module = built.module
        tree = unflatten_dict({tuple(path.split("/")): w for path, w in weights.items()})
        out = jitted(lambda v, *xs: built.invoke(lambda *a, **k: module.apply(v, *a, **k), xs), tree, *xs)
    else:
        import jax
        from flax import nnx

        model = built.module
        for path, node in nnx.iter_graph(model):
            if isinstance(node, nnx.Variable):  # device_put: jnp.asarray compiles a copy for each new shape
                node.set_value(jax.device_put(weights["/".join(map(str, path))]))
        model.eval()  # BatchNorm on its running statistics, Dropout off
        graphdef, state = nnx.split(model)
        out = jitted(lambda state, *xs: built.invoke(nnx.merge(graphdef, state), xs), state, *xs)
    return [np.asarray(o) for o in (out if isinstance(out, tuple) else (out,))]


def jitted(fn, *args):
    """``jax.jit(fn)(*args)``, compiled at XLA's backend optimization level 0: on these tiny
    inputs a program runs in milliseconds either way, and its compilation is most of a test
    (linen's eleven families: 6.0 s at the default level, 4.2 s at 0)."""
    import jax

    return jax.jit(fn).lower(*args).compile({"xla_backend_optimization_level": 0})(*args)


def random_weights(spec: dict, rng) -> dict:
    """A real array for every variable in ``spec`` (path -> (shape, dtype)): a kernel or table
    uniform with variance 1 / fan-in (every axis but the last; a depthwise kernel's
    spatial axes), a running mean in [-0.1, 0.1], any other vector (bias, norm scale, running
    variance) in [0.5, 1.5], an integer (a Keras seed state) anything. In an
    array over 2**22 elements (VGG's classifier: 120M), every row is one random row."""
    import numpy as np

    out = {}
    for path, (shape, dtype) in spec.items():
        n = math.prod(shape)
        if np.issubdtype(np.dtype(dtype), np.integer):
            out[path] = rng.integers(0, 2 ** 16, shape).astype(dtype)
            continue
        if len(shape) <= 1 and path.rsplit("/", 1)[-1].endswith("mean"):  # BatchNorm's running mean
            low, high = -0.1, 0.1  # near 0, so that a ReLU after it does not zero most of the signal
        elif len(shape) <= 1:
            low, high = 0.5, 1.5
        else:
            fan_in = math.prod(shape[:-1])
            if len(shape) == 4 and shape[-1] == 1:  # Keras's depthwise kernel: (kh, kw, in, multiplier 1)
                fan_in = math.prod(shape[:2])
            high = math.sqrt(3.0 / fan_in)
            low = -high
        if n > 2 ** 22:  # one random row, repeated (a view: the framework makes the one copy)
            out[path] = np.broadcast_to(rng.uniform(low, high, shape[-1:]).astype(dtype), shape)
        else:
            out[path] = rng.uniform(low, high, shape).astype(dtype)
    return out


def real_inputs(case, built, rng) -> tuple:
    """Token ids within the vocabulary, or standard normal values, for each input of ``built``."""
    import numpy as np

    return tuple(rng.integers(0, case.values["vocab_size"], x.shape).astype(x.dtype)
                 if np.issubdtype(np.dtype(x.dtype), np.integer)
                 else rng.standard_normal(x.shape).astype(x.dtype) for x in built.inputs)


@pytest.mark.only(*NOT_TORCH)
@pytest.mark.parametrize("config, out_shapes", TINY, ids=TINY_IDS)
def test_forward_on_a_tiny_real_input(target_name, config, out_shapes):
    import numpy as np

    rng = np.random.default_rng(0)
    case, built = build(target_name, config)
    outs = forward(target_name, built, random_weights(variables(target_name, built), rng),
                   real_inputs(case, built, rng))
    assert [o.shape for o in outs] == out_shapes
    assert all(np.isfinite(o).all() for o in outs)
    # each output depends on the input: the batch's two first examples differ
    assert all(not np.allclose(o[0], o[1]) for o in outs)


# ------------------------------------------------------------------ given torch's weights
CHECKED = [
    {"model": "mlp", "in_features": 20, "hidden_sizes": [64, 32], "out_features": 3, "batch": 4},
    {"model": "lenet5", "in_channels": 3, "num_classes": 7, "batch": 2},
]


def torch_weights(config: dict, rng) -> dict:
    """Weights by torch's state_dict names and in its layout (Linear (out, in), Conv2d
    (out, in, kh, kw)), uniform with variance about 1 / fan-in."""
    import numpy as np

    if config["model"] == "mlp":
        dims = [config["in_features"], *config["hidden_sizes"], config["out_features"]]
        shapes = {}
        for i in range(len(dims) - 1):  # nn.Sequential: Linear at the even indices, ReLU between
            shapes[f"{2 * i}.weight"], shapes[f"{2 * i}.bias"] = (dims[i + 1], dims[i]), (dims[i + 1],)
    else:
        c, k = config["in_channels"], config["num_classes"]
        shapes = {"conv1.weight": (6, c, 5, 5), "conv1.bias": (6,), "conv2.weight": (16, 6, 5, 5), "conv2.bias": (16,),
                  "fc1.weight": (120, 400), "fc1.bias": (120,), "fc2.weight": (84, 120), "fc2.bias": (84,),
                  "fc3.weight": (k, 84), "fc3.bias": (k,)}
    return {name: (rng.uniform(-1.0, 1.0, s) * math.sqrt(3.0 / math.prod(s[1:]))).astype(np.float32)
            for name, s in shapes.items()}


def into_framework(target_name: str, family: str, weights: dict) -> dict:
    """torch's weights under the framework's paths, in its layout: a Linear's (out, in) weight
    is a kernel (in, out); a conv's (out, in, kh, kw) is (kh, kw, in, out); LeNet-5's fc1 reads
    conv2's output flattened channels-last, (h, w, c), where torch flattens it (c, h, w)."""
    import numpy as np

    fw = target(target_name).framework
    prefix = {"keras": f"{family}/", "flax-linen": "params/", "flax-nnx": ""}[fw]
    out = {}
    for name, w in weights.items():
        module, param = name.rsplit(".", 1)
        if family == "mlp":  # torch's Sequential index: Keras counts the Dense layers alone
            i = int(module)
            module = {"keras": f"dense_{i // 2}", "flax-linen": f"layers_{i}", "flax-nnx": str(i)}[fw]
        if param == "weight":
            if w.ndim == 4:
                w = w.transpose(2, 3, 1, 0)
            elif family == "lenet5" and module == "fc1":
                w = w.reshape(w.shape[0], 16, 5, 5).transpose(2, 3, 1, 0).reshape(400, w.shape[0])
            else:
                w = w.T
        out[f"{prefix}{module}/{'kernel' if param == 'weight' else 'bias'}"] = np.ascontiguousarray(w)
    return out


def numpy_forward(family: str, w: dict, x):
    """torch's forward (adapters/torch_models.py: MLP, LeNet5), transcribed in numpy (float64,
    torch's layout): the reference where torch is not installed (the Keras and Flax tox envs)."""
    import numpy as np

    w = {k: v.astype(np.float64) for k, v in w.items()}

    def linear(x, name):
        return x @ w[f"{name}.weight"].T + w[f"{name}.bias"]

    if family == "mlp":
        n = len(w) // 2
        for i in range(n):
            x = linear(x, str(2 * i))
            x = np.maximum(x, 0) if i < n - 1 else x
        return x

    def conv_relu_pool(x, name):  # Conv2d(k=5, stride 1, no padding), ReLU, max_pool2d(2)
        weight = w[f"{name}.weight"]
        windows = np.lib.stride_tricks.sliding_window_view(x, weight.shape[2:], axis=(2, 3))  # (N, C, H', W', kh, kw)
        y = np.maximum(np.einsum("nchwij,ocij->nohw", windows, weight) + w[f"{name}.bias"][:, None, None], 0)
        n, c, h, wd = y.shape
        return y.reshape(n, c, h // 2, 2, wd // 2, 2).max(axis=(3, 5))

    x = conv_relu_pool(conv_relu_pool(x, "conv1"), "conv2").reshape(x.shape[0], -1)  # torch.flatten(x, 1)
    x = np.maximum(linear(x, "fc1"), 0)
    return linear(np.maximum(linear(x, "fc2"), 0), "fc3")


def torch_forward(config: dict, weights: dict, x):
    """torch's own model for ``config`` with ``weights`` (load_state_dict, strict) on ``x``."""
    import torch

    case = resolve_case(config)
    model = adapter("torch").build(case.kind.name, case.values, case.inputs(), materialize=True).module.eval()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, strict=True)
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


def assert_close(got, want):
    import numpy as np

    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * float(np.abs(want).max()))


@pytest.mark.only(*NOT_TORCH)
@pytest.mark.parametrize("config", CHECKED, ids=[c["model"] for c in CHECKED])
def test_forward_computes_what_torch_computes_given_its_weights(target_name, config):
    """The reference is torch's model where torch is installed (the dev venv), which must then
    compute what the numpy transcription computes; else that transcription."""
    import numpy as np

    rng = np.random.default_rng(0)
    case, built = build(target_name, config)
    weights = torch_weights(config, rng)
    ours = into_framework(target_name, config["model"], weights)
    # every variable of the build gets one of torch's weights, of its shape, and nothing else is set
    assert {k: w.shape for k, w in ours.items()} == {k: s for k, (s, _) in variables(target_name, built).items()}
    (spec,) = case.inputs()
    x = rng.standard_normal(spec.shape).astype(np.float32)  # torch's layout
    (got,) = forward(target_name, built, ours, (x.transpose(0, 2, 3, 1) if spec.channels_first else x,))
    want = numpy_forward(config["model"], weights, x.astype(np.float64))
    if importlib.util.find_spec("torch") is not None:
        from_torch = torch_forward(config, weights, x)
        assert_close(from_torch, want)
        want = from_torch
    assert_close(got, want)
