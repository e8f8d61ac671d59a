"""Counting from files: formats, ties, state, dtypes, hostile files, and parity with the frameworks.

The framework-free part writes its files by hand (safetensors headers, shape lists) or
with the formats' own libraries (gguf, onnx). The framework part saves spec models with
each framework's own savers and counts the files: the file must read what the object read.
"""
import json
import math
import resource
import struct
from pathlib import Path

import pytest

import paramspec
from conftest import run_cli
from paramspec.errors import FileFormatError
from paramspec.frameworks import target

SEED_METADATA = [  # the course's example (spec/courses/sources/001_*.txt), as its four listed tensors
    {"name": "attention.query.weight", "shape": [768, 768]},
    {"name": "attention.query.bias", "shape": [768]},
    {"name": "attention.key.weight", "shape": [768, 768]},
    {"name": "attention.key.bias", "shape": [768]},
]


def write_safetensors(path: Path, tensors: dict, metadata: dict | None = None, raw_header: bytes | None = None,
                      header_len: int | None = None, data: bytes | None = None) -> Path:
    """A safetensors file written by hand: {name: (dtype, shape)}, data zero-filled."""
    header, offset = {}, 0
    sizes = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8, "U8": 1, "F8_E4M3": 1, "I32": 4}
    for name, (dtype, shape) in tensors.items():
        n = math.prod(shape) * sizes.get(dtype, 4)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    if metadata:
        header["__metadata__"] = metadata
    raw = raw_header if raw_header is not None else json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", header_len if header_len is not None else len(raw)))
        f.write(raw)
        f.write(data if data is not None else b"\0" * offset)
    return path


# ----------------------------------------------------------------------------- formats (no framework)
def test_the_course_metadata_example(tmp_path):
    path = tmp_path / "metadata.json"
    path.write_text(json.dumps(SEED_METADATA))
    r = paramspec.count_file(path)
    assert r.params == 1_181_184  # not the 3,145,728 the text prints
    assert r.by_dtype == {"float32": {"elements": 1_181_184, "bytes": 4 * 1_181_184}}


def test_a_shape_list_with_state_ties_and_packed_int4(tmp_path):
    path = tmp_path / "model.yaml"
    path.write_text("""
- {name: embed.weight, shape: [100, 8], dtype: bf16}
- {name: head.weight, shape: [100, 8], dtype: bf16, tied_to: embed.weight}
- {name: bn.running_mean, shape: [8]}
- {name: bn.weight, shape: [8]}
- {name: q.weight, shape: [8, 8], dtype: int4}
""")
    r = paramspec.count_file(path)
    assert r.params == 800 + 8 + 64 and r.state == 8 and r.counts["per_reference"] == 800 + 800 + 8 + 64
    assert r.tied_groups == [["embed.weight", "head.weight"]]
    assert r.by_dtype["int4"] == {"elements": 64, "bytes": 32}
    assert r.by_dtype["bfloat16"] == {"elements": 800, "bytes": 1600}
    assert r.to_dict()["quantities"]["params"]["got"] == 872


def test_safetensors_single_sharded_and_hf_ties(tmp_path):
    write_safetensors(tmp_path / "a.safetensors", {"transformer.wte.weight": ("F16", [50, 4]),
                                                  "transformer.h.0.attn.bias": ("F32", [1, 1, 4, 4])})
    write_safetensors(tmp_path / "b.safetensors", {"lm_head.weight": ("F16", [50, 4]),
                                                  "transformer.ln_f.weight": ("BF16", [4])})
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {
        "transformer.wte.weight": "a.safetensors", "transformer.h.0.attn.bias": "a.safetensors",
        "lm_head.weight": "b.safetensors", "transformer.ln_f.weight": "b.safetensors"}}))
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2"}))  # ties by default
    r = paramspec.count_file(tmp_path)
    assert r.source.name == "safetensors (sharded)"
    assert r.params == 200 + 4 and r.state == 16  # GPT-2's attn.bias mask is state by name
    assert r.tied_groups == [["transformer.wte.weight", "lm_head.weight"]] and r.counts["per_reference"] == 404
    assert r.by_dtype["float16"]["bytes"] == 400


def test_quantized_gptq_counts_logical_values(tmp_path):
    """A GPTQ layer laid out as AutoGPTQ's QuantLinear registers it (qlinear_cuda_old.py): 64 inputs,
    16 outputs, 4 bits, one group. tests/test_quantized.py has the real checks."""
    in_f, out_f = 64, 16
    write_safetensors(tmp_path / "model.safetensors", {"l.qweight": ("I32", [in_f * 4 // 32, out_f]),
                                                      "l.qzeros": ("I32", [1, out_f * 4 // 32]),
                                                      "l.scales": ("F16", [1, out_f]), "l.g_idx": ("I32", [in_f])})
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama", "quantization_config":
                                                      {"bits": 4, "group_size": -1, "quant_method": "gptq"}}))
    r = paramspec.count_file(tmp_path / "model.safetensors")
    q = next(t for t in r.tensors if t.name == "l.qweight")
    assert q.numel == in_f * out_f and q.logical_shape == (out_f, in_f) and "an int32 packs 8 values" in q.packing
    assert r.params == in_f * out_f  # qzeros, scales and g_idx are quantization metadata, not parameters
    assert r.quantization.metadata_elements == 2 + 16 + 64 and r.quantization.settings["bits"] == 4


def test_gguf_quantized_tensors(tmp_path):
    import gguf  # a test dependency of the spec env
    import numpy as np

    path = tmp_path / "m.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_tensor("token_embd.weight", np.zeros((32, 64), dtype=np.float16))
    q8 = gguf.quants.quantize(np.zeros((64, 64), dtype=np.float32), gguf.GGMLQuantizationType.Q8_0)
    w.add_tensor("blk.0.attn_q.weight", q8, raw_shape=q8.shape, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    r = paramspec.count_file(path)
    assert r.params == 32 * 64 + 64 * 64
    q = next(t for t in r.tensors if t.name == "blk.0.attn_q.weight")
    assert q.numel == 4096 and q.dtype == "q8_0" and "blocks of 32" in q.packing and q.nbytes == 4096 // 32 * 34


def test_onnx_initializers(tmp_path):
    import onnx  # a test dependency of the spec env
    from onnx import TensorProto, helper

    inits = [helper.make_tensor("fc.weight", TensorProto.FLOAT, [10, 4], [0.0] * 40),
             helper.make_tensor("bn.running_var", TensorProto.FLOAT, [10], [1.0] * 10),
             helper.make_tensor("q", TensorProto.FLOAT16, [3], [0.0] * 3)]
    graph = helper.make_graph([], "g", [], [], initializer=inits)
    onnx.save(helper.make_model(graph), str(tmp_path / "m.onnx"))
    r = paramspec.count_file(tmp_path / "m.onnx")
    assert (r.params, r.state) == (43, 10) and r.by_dtype["float16"]["bytes"] == 6


def test_cli_table_json_and_tree(tmp_path):
    path = tmp_path / "metadata.json"
    path.write_text(json.dumps(SEED_METADATA))
    p = run_cli("count", str(path))
    assert p.returncode == 0 and "1,181,184 (1.2M)" in p.stdout and "int4" in p.stdout
    p = run_cli("count", str(path), "--json", "-", "--depth", "1")
    d = json.loads(p.stdout)
    assert d["quantities"]["params"]["got"] == 1_181_184 and d["tree"][0]["params"] == 1_181_184
    assert d["memory"]["training_adam_fp32"] == 16 * 1_181_184


# ----------------------------------------------------------------------------- bad files
def _bad(tmp_path, name, make):
    path = tmp_path / name
    make(path)
    return path


BAD = {
    "truncated": lambda p: p.write_bytes(b"\x10\x00\x00"),
    "header-past-the-end": lambda p: write_safetensors(p, {"w": ("F32", [2])}, header_len=10_000),
    "header-over-100MB": lambda p: write_safetensors(p, {"w": ("F32", [2])}, header_len=200 * 2**20),
    "negative-dimension": lambda p: write_safetensors(p, {}, raw_header=json.dumps(
        {"w": {"dtype": "F32", "shape": [-4, 2], "data_offsets": [0, 0]}}).encode()),
    "overflowing-dimension": lambda p: write_safetensors(p, {}, raw_header=json.dumps(
        {"w": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 0]}}).encode()),
    "unknown-dtype": lambda p: write_safetensors(p, {}, raw_header=json.dumps(
        {"w": {"dtype": "F128", "shape": [2], "data_offsets": [0, 16]}}).encode(), data=b"\0" * 16),
    "non-utf8-header": lambda p: write_safetensors(p, {}, raw_header=b'{"w\xff\xfe": 1}'),
    "overlapping-offsets": lambda p: write_safetensors(p, {}, raw_header=json.dumps(
        {"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
         "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}}).encode(), data=b"\0" * 24),
    "offsets-past-the-end": lambda p: write_safetensors(p, {}, raw_header=json.dumps(
        {"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode(), data=b"\0" * 8),
    "offsets-that-disagree-with-the-shape": lambda p: write_safetensors(p, {}, raw_header=json.dumps(
        {"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}}).encode(), data=b"\0" * 8),
}
NEEDLES = {
    "truncated": "is truncated", "header-past-the-end": "past the end of the", "header-over-100MB": "over the 100 MB limit",
    "negative-dimension": "negative dimension -4", "overflowing-dimension": "over the 2**53 limit",
    "unknown-dtype": "unknown dtype 'F128'", "non-utf8-header": "not UTF-8", "overlapping-offsets": "overlap",
    "offsets-past-the-end": "runs past the end of the file", "offsets-that-disagree-with-the-shape": "needs 16",
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_safetensors_file_is_one_line_and_exit_2(tmp_path, case):
    path = _bad(tmp_path, f"{case}.safetensors", BAD[case])
    with pytest.raises(FileFormatError) as info:
        paramspec.count_file(path)
    assert NEEDLES[case] in str(info.value) and str(path) in str(info.value)
    p = run_cli("count", str(path))
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1 and NEEDLES[case] in lines[0] and "Traceback" not in p.stderr


@pytest.mark.parametrize("name, content, needle", [
    ("bad.json", "[{\"name\": \"w\"}]", "needs a name and a shape"),
    ("bad2.json", "[{\"name\": \"w\", \"shape\": [2, -1]}]", "negative dimension"),
    ("bad3.yaml", "- {name: w, shape: [2], dtype: float128}", "unknown dtype"),
    ("bad4.json", "{\"weights\": 1}", "non-empty list"),
    ("bad5.json", "[{\"name\": \"a\", \"shape\": [2], \"tied_to\": \"b\"}]", "not listed before it"),
    ("bad.msgpack", b"\x81\xa6params\xc7\x10\x01\x93", "truncated"),
    ("bad2.msgpack", b"\x81\xa6params\xc1", "invalid msgpack byte"),
    ("bad.gguf", b"GGUF\x03\x00\x00\x00", "is truncated (the GGUF header runs past the end)"),
    ("bad2.gguf", b"GGUF\x09\x00\x00\x00" + bytes(16), "GGUF version 9"),
    ("bad.onnx", b"\x08\x07garbage", "not a readable ONNX"),
    ("bad.h5", b"not hdf5", "not a readable HDF5"),
    ("bad.keras", b"PK\x03\x04truncated", "not a readable .keras archive"),
    ("model.weird", b"x", "unknown format"),
])
def test_other_bad_files(tmp_path, name, content, needle):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    p = run_cli("count", str(path))
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1 and needle in lines[0], p.stderr
    assert "Traceback" not in p.stderr


def test_a_sparse_100gb_declaration_is_read_from_its_header_in_bounded_memory(tmp_path):
    """Counting reads the header only: 100 GB declared, nothing read, memory flat."""
    n = 100 * 2**30 // 4
    header = json.dumps({"w": {"dtype": "F32", "shape": [n], "data_offsets": [0, 4 * n]}}).encode()
    path = tmp_path / "big.safetensors"
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header)
        f.truncate(8 + len(header) + 4 * n)  # a sparse file: no disk used
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    r = paramspec.count_file(path)
    assert r.params == n
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # KiB


# ----------------------------------------------------------------------------- parity (each framework)
# A family whose smallest case is larger is left out: VGG, whose classifier alone is 120 M
# parameters. Writing and reading its files took 4-6 s in every target, and its layers (Conv2d,
# Linear, pools) are in the other vision families' files; its counts are held in test_conformance.
PARITY_MAX_PARAMS = 10_000_000


def _smallest_case_per_family():
    spec = paramspec.load_spec()
    out = []
    for kind in spec.kinds.values():
        if kind.group != "models":
            continue
        smallest = min(kind.cases, key=lambda c: c.expected(None).params)
        if smallest.expected(None).params <= PARITY_MAX_PARAMS:
            out.append(smallest)
    tied = [spec.case("gpt2[d128-L2-heads4]"),
            spec.case("llama[V512-d96-ff256-L2-heads6-kv3-hd32-attnbias-mlpbias-tied]")]
    return out + tied + [spec.case("BatchNorm2d[C64]"), spec.case("LSTM[in10-h20-L2]")]


PARITY = _smallest_case_per_family()


def _save(target_name, built, tmp_path):
    """Save a built object in its framework's formats; yield (format label, path)."""
    fw = target(target_name).framework
    if fw == "torch":
        import torch
        from safetensors.torch import save_model

        module = built.module
        torch.save(module.state_dict(), tmp_path / "model.pt")
        yield "pt", tmp_path / "model.pt"
        torch.save({"model": module.state_dict(), "optimizer": {"state": {}}, "epoch": 3}, tmp_path / "ckpt.pth")
        yield "checkpoint", tmp_path / "ckpt.pth"
        save_model(module, str(tmp_path / "model.safetensors"))
        yield "safetensors", tmp_path / "model.safetensors"
    elif fw == "keras":
        import keras
        import numpy as np

        for v in built.module.weights:  # the abstract build's own variables, given zero values (Keras's
            v._initialize(np.zeros(tuple(v.shape), v.dtype))  # private Variable._initialize)

        class Holder(keras.Model):  # save_weights is a Model method; the layer is its only child
            def __init__(self, layer):
                super().__init__()
                self.inner = layer

        holder = Holder(built.module)
        holder.built = True
        holder.save_weights(str(tmp_path / "model.weights.h5"))
        yield "weights.h5", tmp_path / "model.weights.h5"
    else:
        import numpy as np
        from flax import serialization

        if fw == "flax-linen":
            tree = dict(built.variables)  # the abstract variables (a dict subclass: plain it for jax.tree)
        else:
            from flax import nnx
            tree = {"params": nnx.to_pure_dict(nnx.state(built.module, nnx.Param)),
                    "batch_stats": nnx.to_pure_dict(nnx.state(built.module, nnx.BatchStat))}
            tree = {k: v for k, v in tree.items() if v or k == "params"}
        import jax
        zeros = jax.tree.map(lambda x: np.zeros(x.shape, x.dtype), tree)  # the tree's own shapes and dtypes
        (tmp_path / "model.msgpack").write_bytes(serialization.to_bytes(zeros))
        yield "msgpack", tmp_path / "model.msgpack"


@pytest.mark.framework
@pytest.mark.parametrize("parity_case", PARITY, ids=lambda c: c.id)
def test_a_saved_model_counts_as_its_object_does(target_name, parity_case, adapter_for, tmp_path):
    case = parity_case
    fw = target(target_name).framework
    if case.not_applicable_reason(fw):
        pytest.skip(f"{target_name} lacks this case: {case.not_applicable_reason(fw)}")
    ad = adapter_for(target_name)
    # torch saves real values; Keras and Flax save their abstract trees as zeros
    built = ad.build(case.kind.name, case.values, materialize=fw == "torch")
    reading = ad.read(built)
    for label, path in _save(target_name, built, tmp_path):
        r = paramspec.count_file(path)
        if r.state is None:  # a bare .weights.h5 cannot tell state from parameters
            assert r.params == reading.params + reading.state, label
        else:
            assert (r.params, r.state) == (reading.params, reading.state), label
        if label in ("pt", "checkpoint"):  # torch files keep tied tensors as shared storage
            assert r.counts["per_reference"] == reading.named_counts()["per_reference"], label


@pytest.mark.framework
@pytest.mark.only("keras")
def test_a_keras_archive_separates_state(target_name, tmp_path):
    """On Keras-on-JAX, neither the saving (here, as the adapter's builds do: ``without_tensorflow``)
    nor the reading imports TensorFlow (conftest's guard fails a test of that run that does)."""
    import keras

    from paramspec._layout import import_adapter_module

    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3), keras.layers.BatchNormalization(),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    with import_adapter_module("keras_adapter").without_tensorflow():
        model.save(tmp_path / "m.keras")
    r = paramspec.count_file(tmp_path / "m.keras")
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    state = sum(math.prod(w.shape) for w in model.non_trainable_weights)
    assert (r.params, r.state) == (trainable, state) and state == 8


@pytest.mark.framework
@pytest.mark.only("keras")
def test_the_private_keras_api_the_archive_reader_uses(target_name):
    """paramspec/files/readers.py reads a .keras archive's variable order from private Keras
    attributes (no public one gives it); this fails loudly when a Keras release moves them."""
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.BatchNormalization()])
    layers = list(model._flatten_layers(include_self=True, recursive=True))
    assert [type(x).__name__ for x in layers] == ["Sequential", "InputLayer", "Dense", "BatchNormalization"]
    bn = layers[3]
    own = [v.path.rsplit("/", 1)[1] for v in bn._trainable_variables + bn._non_trainable_variables]
    assert own == ["gamma", "beta", "moving_mean", "moving_variance"]
    store: dict = {}
    bn.save_own_variables(store)  # Keras's own saving order, which the reader follows
    assert [store[str(i)].path for i in range(4)] == [v.path for v in bn._trainable_variables
                                                       + bn._non_trainable_variables]


@pytest.mark.framework
@pytest.mark.only("torch")
def test_a_hostile_pickle_is_refused_and_never_runs(target_name, cli, tmp_path):
    import pickle
    import zipfile

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            import os
            return (os.system, (f"touch {marker}",))

    import torch
    torch.save({"w": torch.zeros(2)}, tmp_path / "ok.pt")
    legacy = tmp_path / "evil.bin"
    legacy.write_bytes(pickle.dumps({"w": Evil()}, protocol=2))
    p = cli("count", str(legacy))
    assert p.returncode == 2 and "refused and not run" in p.stderr and not marker.exists(), p.stderr
    # the same payload inside a torch zip archive
    with zipfile.ZipFile(tmp_path / "ok.pt") as z:
        names = z.namelist()
        members = {n: z.read(n) for n in names}
    pkl = next(n for n in names if n.endswith("data.pkl"))
    members[pkl] = pickle.dumps({"w": Evil()}, protocol=2)
    with zipfile.ZipFile(tmp_path / "evil.pt", "w") as z:
        for n, data in members.items():
            z.writestr(n, data)
    p = cli("count", str(tmp_path / "evil.pt"))
    assert p.returncode == 2 and "refused and not run" in p.stderr and not marker.exists(), p.stderr
    trunc = tmp_path / "truncated.pt"
    trunc.write_bytes((tmp_path / "ok.pt").read_bytes()[:200])
    p = cli("count", str(trunc))
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr


@pytest.mark.framework
@pytest.mark.only("torch")
def test_a_whole_pickled_module_is_said_so_in_one_line(target_name, tmp_path):
    """torch.save(model) pickles the module's class: paramspec runs no pickled code, and says
    what to save instead, in one line without torch's colours."""
    import torch

    path = tmp_path / "whole.pt"
    torch.save(torch.nn.Linear(3, 4), path)
    p = run_cli("count", str(path))
    assert p.returncode == 2, p.stderr
    line, = p.stderr.strip().splitlines()
    assert line.endswith("pickles a whole module (torch.save(model): Linear); paramspec reads tensors and runs no "
                         "pickled code: save model.state_dict()"), line
    assert "\x1b" not in line


def test_spec_takes_a_file_path(tmp_path):
    path = tmp_path / "lstm.yaml"
    path.write_text("{kind: LSTM, input_size: 300, hidden_size: 128}\n")
    p = run_cli("count", "-f", "formula", "--spec", str(path), "--json", "-")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["quantities"]["params"]["expected"] == 219_648
