"""Quantized checkpoints: logical parameters, the quantization metadata, stored bytes, bits per weight.

Every file here is written by the format's own library where it runs on CPU (gguf's writer,
onnx, bitsandbytes through transformers, compressed-tensors' compressors, transformers'
Fp8Quantize, onnxruntime's MatMulNBitsQuantizer), or, where the library does not install here
(AutoGPTQ, AutoAWQ and GPTQModel build CUDA kernels; MXFP4's quantizer needs triton kernels),
laid out as the library lays it out, with the source cited beside the code. The logical counts
come from the model (or array) each file was made from; the dequantizers are the libraries'
own where they run.

The framework-free part (gguf, onnx, numpy) runs in the spec env; the part that needs torch,
transformers, bitsandbytes, compressed-tensors or onnxruntime runs in the torch env.
"""
from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import pytest
from conftest import run_cli

import paramspec
from paramspec.errors import FileFormatError
from paramspec.record import Record


def assert_one_line_exit_2(path: Path, needle: str) -> None:
    """The CLI refuses the file: exit 2, one line naming what is wrong, no traceback."""
    p = run_cli("count", str(path))
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1 and needle in lines[0] and "Traceback" not in p.stderr, p.stderr


def write_safetensors(path: Path, tensors: dict, metadata: dict | None = None) -> Path:
    """A safetensors file: {name: (dtype code, shape)}, zero data (for layouts whose values do
    not matter: the bad-input cases)."""
    sizes = {"F32": 4, "F16": 2, "I32": 4, "I64": 8, "U8": 1, "I8": 1, "F8_E4M3": 1}
    header, offset = {}, 0
    for name, (dtype, shape) in tensors.items():
        n = math.prod(shape) * sizes[dtype]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    if metadata:
        header["__metadata__"] = metadata
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * offset)
    return path


def check_record(r: Record) -> None:
    """The record's quantization part sums its tensors, and survives JSON both ways."""
    q = r.quantization
    assert q.weight_elements == sum(t.numel for t in r.tensors if t.quant_role == "weight")
    assert q.metadata_bytes == sum(t.nbytes for t in r.tensors if t.quant_role == "metadata")
    assert sum(s["bytes"] for s in q.stored.values()) == r.nbytes
    d = r.to_dict()
    assert d["quantization"]["bits_per_weight"] == q.bits_per_weight
    back = Record.from_dict(json.loads(json.dumps(d)))
    assert back.quantization == q and back.tensors == r.tensors and back.params == r.params
    from paramspec.schema import schema_check

    doc = {"format": "paramspec-records", "schema_version": d["schema_version"], "records": [d], "footer": {},
           "header": {"source": d["source"], "paramspec": paramspec.__version__, "spec": "-", "created": "-"}}
    schema_check(doc, "records.schema.json", "the record")


# ----------------------------------------------------------------------------- GGUF (the gguf package)
def gguf_file(path: Path, arrays: dict) -> dict:
    """Write {name: (float array, ggml type)} with gguf's own writer: quantized by
    gguf.quants.quantize where it can, else raw bytes of the type's size (zeros). Returns
    {name: (logical shape, bytes written)}."""
    import gguf
    import numpy as np

    w = gguf.GGUFWriter(str(path), "llama")
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_0)
    out = {}
    for name, (x, qtype) in arrays.items():
        if qtype in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16):
            data = x.astype(np.float32 if qtype == gguf.GGMLQuantizationType.F32 else np.float16)
            w.add_tensor(name, data)
        else:
            try:
                data = gguf.quants.quantize(x, qtype)
            except NotImplementedError:
                block, size = gguf.GGML_QUANT_SIZES[qtype]
                data = np.zeros((*x.shape[:-1], x.shape[-1] // block * size), np.uint8)
            w.add_tensor(name, data, raw_shape=data.shape, raw_dtype=qtype)
        out[name] = (x.shape, data.nbytes)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return out


def test_gguf_every_ggml_type_counts_its_logical_elements(tmp_path):
    import gguf
    import numpy as np

    rng = np.random.default_rng(0)
    arrays = {"token_embd.weight": (rng.standard_normal((8, 64)).astype(np.float32), gguf.GGMLQuantizationType.F16)}
    for qtype, (block, _size) in gguf.GGML_QUANT_SIZES.items():
        if block > 1:  # every quantized type: two rows of two blocks
            arrays[f"blk.{qtype.name}.weight"] = (rng.standard_normal((2, 2 * block)).astype(np.float32), qtype)
    written = gguf_file(tmp_path / "m.gguf", arrays)
    r = paramspec.count_file(tmp_path / "m.gguf")
    assert r.params == sum(math.prod(shape) for shape, _ in written.values())
    by_name = {t.name: t for t in r.tensors}
    reader = gguf.GGUFReader(str(tmp_path / "m.gguf"))
    dequantized = 0
    for t in reader.tensors:
        mine = by_name[t.name]
        shape, nbytes = written[t.name]
        assert mine.nbytes == nbytes, t.name  # the bytes the writer wrote
        if mine.quant_role == "weight":
            assert mine.logical_shape == shape and mine.numel == math.prod(shape), t.name
            try:  # gguf's own dequantizer gives back the logical shape
                values = gguf.quants.dequantize(t.data, t.tensor_type)
            except NotImplementedError:
                continue
            assert values.shape == shape, t.name
            dequantized += 1
    assert dequantized >= 8  # Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, the K-quants, MXFP4...
    q = r.quantization
    assert q.method == "gguf" and q.format == "MOSTLY_Q4_0" and q.weights == len(arrays) - 1
    for qtype, (block, size) in gguf.GGML_QUANT_SIZES.items():
        if block > 1:
            assert q.types[qtype.name.lower()]["bytes"] * block == q.types[qtype.name.lower()]["elements"] * size
    assert q.metadata_elements == 0 and q.bits_per_weight == q.weight_bytes * 8 / q.weight_elements
    check_record(r)


def test_gguf_q4_0_is_4_5_bits_a_weight_and_the_table_shows_both_shapes(tmp_path):
    import gguf
    import numpy as np

    x = np.random.default_rng(1).standard_normal((4, 64)).astype(np.float32)
    gguf_file(tmp_path / "m.gguf", {"blk.0.ffn_up.weight": (x, gguf.GGMLQuantizationType.Q4_0)})
    r = paramspec.count_file(tmp_path / "m.gguf")
    assert r.params == x.size and r.quantization.bits_per_weight == 18 * 8 / 32
    p = run_cli("count", str(tmp_path / "m.gguf"))
    assert p.returncode == 0 and "(4, 64)" in p.stdout and "(4, 36)" in p.stdout, p.stdout  # logical, stored
    d = json.loads(run_cli("count", str(tmp_path / "m.gguf"), "--json", "-").stdout)
    t = d["tensors"][0]
    assert t["logical_shape"] == [4, 64] and t["shape"] == [4, 36] and t["quant_role"] == "weight"
    assert d["quantization"]["types"]["q4_0"]["elements"] == 256


def _gguf_tensor_info(data: bytes, name: str) -> int:
    """Where a tensor's info starts after its name: n_dims (4), dims (8 each), type (4), offset (8)."""
    return data.index(name.encode()) + len(name)


def test_gguf_unknown_ggml_type_is_assert_one_line_exit_2(tmp_path):
    import gguf
    import numpy as np

    gguf_file(tmp_path / "m.gguf", {"blk.0.attn_q.weight": (np.zeros((2, 64), np.float32),
                                                            gguf.GGMLQuantizationType.Q8_0)})
    data = bytearray((tmp_path / "m.gguf").read_bytes())
    at = _gguf_tensor_info(bytes(data), "blk.0.attn_q.weight") + 4 + 2 * 8
    assert int.from_bytes(data[at:at + 4], "little") == int(gguf.GGMLQuantizationType.Q8_0)
    data[at:at + 4] = (99).to_bytes(4, "little")
    (tmp_path / "m.gguf").write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match="'blk.0.attn_q.weight' has an unknown ggml type 99"):
        paramspec.count_file(tmp_path / "m.gguf")
    assert_one_line_exit_2(tmp_path / "m.gguf", "unknown ggml type 99")


def test_gguf_truncated_block_is_assert_one_line_exit_2(tmp_path):
    import gguf
    import numpy as np

    gguf_file(tmp_path / "m.gguf", {"blk.0.attn_q.weight": (np.zeros((2, 64), np.float32),
                                                            gguf.GGMLQuantizationType.Q8_0)})
    good = (tmp_path / "m.gguf").read_bytes()
    # a row of 40 values: one block of 32 and a truncated one
    data = bytearray(good)
    at = _gguf_tensor_info(good, "blk.0.attn_q.weight") + 4
    assert int.from_bytes(data[at:at + 8], "little") == 64
    data[at:at + 8] = (40).to_bytes(8, "little")
    (tmp_path / "rows.gguf").write_bytes(bytes(data))
    assert_one_line_exit_2(tmp_path / "rows.gguf", "rows of 40 values, not whole Q8_0 blocks of 32 (a truncated block)")
    # the file cut in the middle of the tensor's last block (the writer pads after the data: cut before it)
    t = gguf.GGUFReader(str(tmp_path / "m.gguf")).tensors[0]
    (tmp_path / "cut.gguf").write_bytes(good[:t.data_offset + t.n_bytes - 20])
    assert_one_line_exit_2(tmp_path / "cut.gguf", "'blk.0.attn_q.weight' runs past the end of the file")


# ----------------------------------------------------------------------------- ONNX (onnx.helper)
def matmul_nbits_layout(w, bits: int = 4, block: int = 32):
    """B, scales and zero points as onnxruntime lays them out for MatMulNBits
    (onnxruntime/python/tools/quantization/matmul_nbits_quantizer.py, qbits_block_quant with
    QOperator: packed (N, k_blocks, blob_size) uint8, scales (N, k_blocks), zero points
    (N, ceil(k_blocks * bits / 8)) uint8, the low nibble first), asymmetric, in numpy."""
    import numpy as np

    k, n = w.shape
    kb = -(-k // block)
    wt = np.pad(w, ((0, kb * block - k), (0, 0))).T.reshape(n, kb, block)
    lo, hi = np.minimum(wt.min(-1), 0), np.maximum(wt.max(-1), 0)
    qmax = 2 ** bits - 1
    scales = ((hi - lo) / qmax).astype(np.float32)
    scales[scales == 0] = 1
    zp = np.clip(np.round(-lo / scales), 0, qmax).astype(np.uint8)
    q = np.clip(np.round(wt / scales[..., None]) + zp[..., None], 0, qmax).astype(np.uint8)
    packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)
    zp_pad = np.pad(zp, ((0, 0), (0, kb % 2)))
    zpp = (zp_pad[:, 0::2] | (zp_pad[:, 1::2] << 4)).astype(np.uint8)
    return packed, scales, zpp


def test_onnx_matmulnbits_counts_k_times_n(tmp_path):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    k, n = 96, 24  # three blocks of 32 a column
    w = np.random.default_rng(2).standard_normal((k, n)).astype(np.float32)
    bias = np.zeros(n, np.float32)
    packed, scales, zp = matmul_nbits_layout(w)
    inits = [numpy_helper.from_array(packed, "fc.B_Q4"), numpy_helper.from_array(scales, "fc.B_scales"),
             numpy_helper.from_array(zp, "fc.B_zero_points"), numpy_helper.from_array(bias, "fc.bias")]
    node = helper.make_node("MatMulNBits", ["x", "fc.B_Q4", "fc.B_scales", "fc.B_zero_points", "", "fc.bias"], ["y"],
                            domain="com.microsoft", K=k, N=n, bits=4, block_size=32, name="fc")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, k])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)])
    onnx.save(model, str(tmp_path / "m.onnx"))
    r = paramspec.count_file(tmp_path / "m.onnx")
    assert r.params == w.size + bias.size
    b = next(t for t in r.tensors if t.name == "fc.B_Q4")
    assert b.logical_shape == w.shape and b.shape == packed.shape and b.nbytes == packed.nbytes
    q = r.quantization
    assert q.method == "onnx-matmulnbits" and q.settings == {"bits": 4, "block_size": 32, "symmetric": False}
    assert q.metadata_elements == scales.size + zp.size and q.metadata_bytes == scales.nbytes + zp.nbytes
    assert q.value_bits == 4.0
    check_record(r)
    # a node whose attributes contradict its B: bits 8 against a 4-bit B
    node = model.graph.node[0]
    node.attribute[[a.name for a in node.attribute].index("bits")].i = 8
    onnx.save(model, str(tmp_path / "bad.onnx"))
    assert_one_line_exit_2(tmp_path / "bad.onnx", "MatMulNBits node 'fc' says K=96, N=24, bits=8, block_size=32, but its B")


def test_onnx_qdq_weights_dequantize_with_the_reference_runtime(tmp_path):
    """A QDQ graph (int8 weight -> DequantizeLinear -> MatMul, the activation through
    QuantizeLinear/DequantizeLinear), run by onnx's own reference evaluator."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    k, n = 16, 8
    w = np.random.default_rng(3).standard_normal((k, n)).astype(np.float32)
    scale = (np.abs(w).max(0) / 127).astype(np.float32)
    wq = np.round(w / scale).astype(np.int8)
    inits = [numpy_helper.from_array(wq, "W_q"), numpy_helper.from_array(scale, "W_scale"),
             numpy_helper.from_array(np.zeros(n, np.int8), "W_zp"),
             numpy_helper.from_array(np.array(0.05, np.float32), "x_scale"),
             numpy_helper.from_array(np.array(0, np.int8), "x_zp"), numpy_helper.from_array(np.ones(n, np.float32), "b")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "x_scale", "x_zp"], ["xq"]),
             helper.make_node("DequantizeLinear", ["xq", "x_scale", "x_zp"], ["xd"]),
             helper.make_node("DequantizeLinear", ["W_q", "W_scale", "W_zp"], ["W"], axis=1),
             helper.make_node("MatMul", ["xd", "W"], ["m"]), helper.make_node("Add", ["m", "b"], ["y"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, k])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    onnx.save(model, str(tmp_path / "qdq.onnx"))
    r = paramspec.count_file(tmp_path / "qdq.onnx")
    assert r.params == w.size + n  # the weight and the bias; scales and zero points are metadata
    q = r.quantization
    assert q.method == "onnx-qdq" and q.settings["bits"] == 8
    assert q.metadata_kinds == {"scales": {"elements": n, "bytes": 4 * n}, "zero points": {"elements": n, "bytes": n},
                                "activation scales": {"elements": 1, "bytes": 4},
                                "activation zero points": {"elements": 1, "bytes": 1}}
    x = np.full((1, k), 0.5, np.float32)
    (y,) = ReferenceEvaluator(model).run(None, {"x": x})
    assert np.allclose(y, x @ (wq.astype(np.float32) * scale) + 1, atol=1e-4)
    check_record(r)


# ----------------------------------------------------------------------------- declarations the tensors contradict
def gptq_layer(prefix: str, in_f: int, out_f: int, bits: int, group: int) -> dict:
    """One layer's tensors as AutoGPTQ's QuantLinear registers them
    (AutoGPTQ auto_gptq/nn_modules/qlinear/qlinear_cuda_old.py, __init__)."""
    groups = math.ceil(in_f / group)
    return {f"{prefix}.qweight": ("I32", [in_f // 32 * bits, out_f]),
            f"{prefix}.qzeros": ("I32", [groups, out_f // 32 * bits]),
            f"{prefix}.scales": ("F16", [groups, out_f]), f"{prefix}.g_idx": ("I32", [in_f])}


@pytest.mark.parametrize("declared, needle", [
    ({"quantization_config": {"quant_method": "gptq", "bits": 8, "group_size": 128}},
     "says bits 8, but 'l.qzeros' (2, 16) int32 packs the 128 outputs of 'l.qweight' at 4 bits"),
    ({"quantization_config": {"quant_method": "gptq", "bits": 4, "group_size": 64}},
     "says group_size 64, but 'l.scales' (2, 128) float16 holds 2 groups for the 256 inputs"),
])
def test_a_quantization_config_the_tensors_contradict_is_assert_one_line_exit_2(tmp_path, declared, needle):
    write_safetensors(tmp_path / "model.safetensors", gptq_layer("l", 256, 128, 4, 128))
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama", **declared}))
    with pytest.raises(FileFormatError, match="config.json quantization_config|the quantization config"):
        paramspec.count_file(tmp_path)
    assert_one_line_exit_2(tmp_path, needle)


def test_safetensors_metadata_and_quantize_config_that_disagree_are_refused(tmp_path):
    """AutoGPTQ writes its settings three times (config.json, quantize_config.json, the
    safetensors metadata: auto_gptq/modeling/_base.py save_quantized); they must agree."""
    write_safetensors(tmp_path / "model.safetensors", gptq_layer("l", 256, 128, 4, 128),
                      metadata={"format": "pt", "gptq_bits": "4", "gptq_group_size": "128"})
    (tmp_path / "quantize_config.json").write_text(json.dumps({"bits": 8, "group_size": 128, "desc_act": False}))
    assert_one_line_exit_2(tmp_path, "quantize_config.json says bits 8, but safetensors metadata says 4")
    (tmp_path / "quantize_config.json").write_text(json.dumps({"bits": 4, "group_size": 128, "desc_act": True}))
    r = paramspec.count_file(tmp_path)
    assert r.params == 256 * 128 and r.quantization.settings == {"bits": 4, "group_size": 128, "act_order": True}
    assert r.quantization.declared_in == "quantize_config.json, safetensors metadata"


def test_an_mxfp4_truncated_block_is_assert_one_line_exit_2(tmp_path):
    """transformers integrations/mxfp4.py: a block is 32 fp4 values in 16 bytes, one scale each."""
    write_safetensors(tmp_path / "model.safetensors", {"e.gate_up_proj_blocks": ("U8", [2, 8, 2, 12]),
                                                       "e.gate_up_proj_scales": ("U8", [2, 8, 2])})
    assert_one_line_exit_2(tmp_path / "model.safetensors", "12-byte blocks: an MXFP4 block is 32 fp4 values in 16 bytes "
                                                    "(a truncated block)")


def test_a_bitsandbytes_weight_its_quant_state_contradicts_is_assert_one_line_exit_2(tmp_path):
    """bitsandbytes/functional.py QuantState.as_dict(packed=True): the JSON blob names the
    weight's shape; 8 x 64 values at 4 bits are 256 bytes, not 300."""
    blob = json.dumps({"quant_type": "nf4", "blocksize": 64, "dtype": "float32", "shape": [8, 64]}).encode()
    header = {"l.weight": {"dtype": "U8", "shape": [300, 1], "data_offsets": [0, 300]},
              "l.weight.absmax": {"dtype": "F32", "shape": [8], "data_offsets": [300, 332]},
              "l.weight.quant_map": {"dtype": "F32", "shape": [16], "data_offsets": [332, 396]},
              "l.weight.quant_state.bitsandbytes__nf4": {"dtype": "U8", "shape": [len(blob)],
                                                          "data_offsets": [396, 396 + len(blob)]}}
    raw = json.dumps(header).encode()
    path = tmp_path / "model.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * 396 + blob)
    assert_one_line_exit_2(path, "'l.weight' (300, 1) uint8 stores 300 bytes, but the quant state's shape [8, 64] at "
                          "4 bits needs 256")


# ============================================================================= torch env
# The issue's model: a small Llama layout with 620,160 parameters (vocab 500, hidden 128, MLP 512, two
# layers, four heads over two key/value heads, the head untied). Counts come from this model.
LLAMA = dict(vocab_size=500, hidden_size=128, intermediate_size=512, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, tie_word_embeddings=False, max_position_embeddings=64)


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    """The model, saved by save_pretrained; its parameter count and its Linear layers (bar the head)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(**LLAMA)).eval()
    folder = tmp_path_factory.mktemp("llama") / "float"
    model.save_pretrained(folder)
    linears = {n: m for n, m in model.named_modules() if isinstance(m, torch.nn.Linear) and n != "lm_head"}
    return {"model": model, "folder": folder, "params": sum(p.numel() for p in model.parameters()),
            "linears": linears, "quantized": sum(m.weight.numel() for m in linears.values())}


def stored_tensors(folder: Path) -> dict:
    """Every tensor of a folder's safetensors file(s), read by the safetensors package."""
    from safetensors import safe_open

    out = {}
    for f in sorted(folder.glob("*.safetensors")):
        with safe_open(str(f), "pt") as st:
            out.update({k: st.get_tensor(k) for k in st.keys()})
    return out


def save_layout(folder: Path, model, replace: dict, config: dict, metadata: dict | None = None) -> None:
    """A checkpoint as the quantizing libraries save it: the model's state dict with each quantized
    layer's weight replaced by the tensors its QuantLinear registers, and config.json's
    quantization_config."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    sd = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    for name, tensors in replace.items():
        sd.pop(name + ".weight")
        sd.update({f"{name}.{k}": v.contiguous() for k, v in tensors.items()})
    save_file(sd, str(folder / "model.safetensors"), metadata={"format": "pt", **(metadata or {})})
    cfg = model.config.to_dict()
    cfg["quantization_config"] = config
    (folder / "config.json").write_text(json.dumps(cfg))


BNB = {"nf4": {"load_in_4bit": True, "bnb_4bit_quant_type": "nf4"},
       "fp4-double": {"load_in_4bit": True, "bnb_4bit_quant_type": "fp4", "bnb_4bit_use_double_quant": True},
       "int8": {"load_in_8bit": True}}


@pytest.mark.framework
@pytest.mark.only("torch")
@pytest.mark.parametrize("name", list(BNB))
def test_bitsandbytes_nf4_fp4_and_int8_written_by_transformers(target_name, llama, tmp_path, name):
    """bitsandbytes 0.50 on CPU through transformers' BitsAndBytesConfig: from_pretrained quantizes,
    save_pretrained writes the real layout (weight uint8, absmax, quant_map, nested_*, the
    quant_state blob; SCB for int8). bitsandbytes' own dequantize_4bit and int8_vectorwise_dequant
    check the logical shapes."""
    import torch
    from bitsandbytes.functional import QuantState, dequantize_4bit, int8_vectorwise_dequant
    from transformers import BitsAndBytesConfig, LlamaForCausalLM

    q = LlamaForCausalLM.from_pretrained(llama["folder"], quantization_config=BitsAndBytesConfig(**BNB[name]),
                                         device_map="cpu")
    q.save_pretrained(tmp_path / name)
    stored = stored_tensors(tmp_path / name)
    if name == "nf4":  # the issue's "before": every stored element summed
        assert sum(t.numel() for t in stored.values()) == 383_406
    r = paramspec.count_file(tmp_path / name)
    assert r.params == llama["params"], name
    qz = r.quantization
    assert qz.method == "bitsandbytes" and qz.weight_elements == llama["quantized"], name
    assert qz.weights == len(llama["linears"])
    meta = [k for k in stored if k.rsplit(".", 1)[-1] in ("absmax", "quant_map", "nested_absmax",
                                                          "nested_quant_map", "SCB", "weight_format")
            or ".quant_state." in k]
    assert qz.metadata_elements == sum(stored[k].numel() for k in meta), name
    assert qz.metadata_bytes == sum(stored[k].numel() * stored[k].element_size() for k in meta), name
    by_name = {t.name: t for t in r.tensors}
    for lname, lin in llama["linears"].items():
        t = by_name[lname + ".weight"]
        assert t.logical_shape == tuple(lin.weight.shape) and t.numel == lin.weight.numel(), (name, lname)
        if name == "int8":  # bitsandbytes' own LLM.int8() dequantizer: weight * SCB / 127, a row at a time
            w = int8_vectorwise_dequant(stored[lname + ".weight"], stored[lname + ".SCB"])
            assert tuple(w.shape) == t.logical_shape
            assert (w - lin.weight).abs().max() < 0.02 * lin.weight.abs().max()
            continue
        state = QuantState.from_dict({k.removeprefix(lname + ".weight."): v for k, v in stored.items()
                                      if k.startswith(lname + ".weight.")}, device=torch.device("cpu"))
        w = dequantize_4bit(stored[lname + ".weight"], state)
        assert tuple(w.shape) == t.logical_shape
        assert (w - lin.weight).abs().max() < 0.2 * lin.weight.abs().max()  # nf4/fp4: 16 levels a block
    assert qz.settings["bits"] == (8 if name == "int8" else 4)
    if name != "int8":
        assert qz.format == name.split("-")[0] and qz.settings["double_quant"] == (name == "fp4-double")
        assert 4 < qz.bits_per_weight < 5 and qz.value_bits == 4.0
    check_record(r)


@pytest.mark.framework
@pytest.mark.only("torch")
@pytest.mark.parametrize("preset, fmt", [("W4A16_ASYM", "pack-quantized"), ("W8A8", "int-quantized"),
                                         ("FP8_BLOCK", "float-quantized")])
def test_compressed_tensors_written_by_its_own_compressors(target_name, llama, tmp_path, preset, fmt):
    """compressed-tensors' presets (pack-quantized W4A16 asymmetric, int-quantized W8A8, float-quantized
    FP8 with block scales): apply_quantization_config, scales from calculate_qparams, then
    ModelCompressor.compress_model, save_pretrained and update_config, as llm-compressor saves.
    ModelCompressor.decompress_model (the library's dequantizer) gives back the logical shapes."""
    import torch
    from compressed_tensors.compressors import ModelCompressor
    from compressed_tensors.quantization import QuantizationConfig, apply_quantization_config, preset_name_to_scheme
    from compressed_tensors.quantization.utils import calculate_qparams
    from transformers import LlamaForCausalLM

    m = LlamaForCausalLM.from_pretrained(llama["folder"])
    qc = QuantizationConfig(config_groups={"group_0": preset_name_to_scheme(preset, ["Linear"])},
                            ignore=["lm_head"])
    apply_quantization_config(m, qc, show_progress=False)
    for mod in m.modules():
        if not hasattr(mod, "weight_scale"):
            continue
        a, w = mod.quantization_scheme.weights, mod.weight.data
        if a.strategy == "group":
            g = w.reshape(w.shape[0], -1, a.group_size)
            lo, hi = g.amin(-1), g.amax(-1)
        elif a.strategy == "block":
            b0, b1 = a.block_structure
            r0, c0 = -(-w.shape[0] // b0) * b0, -(-w.shape[1] // b1) * b1
            g = torch.nn.functional.pad(w, (0, c0 - w.shape[1], 0, r0 - w.shape[0])).reshape(r0 // b0, b0,
                                                                                             c0 // b1, b1)
            lo, hi = g.amin((1, 3)), g.amax((1, 3))
        else:
            lo, hi = w.amin(1, keepdim=True), w.amax(1, keepdim=True)
        scale, zp = calculate_qparams(lo, hi, a)
        mod.weight_scale.data = scale.reshape(mod.weight_scale.shape).to(mod.weight_scale.dtype)
        if hasattr(mod, "weight_zero_point"):
            mod.weight_zero_point.data = zp.reshape(mod.weight_zero_point.shape).to(mod.weight_zero_point.dtype)
    comp = ModelCompressor.from_pretrained_model(m)
    comp.compress_model(m)
    m.save_pretrained(tmp_path / preset)
    comp.update_config(tmp_path / preset)
    r = paramspec.count_file(tmp_path / preset)
    assert r.params == llama["params"], preset
    q = r.quantization
    assert q.method == "compressed-tensors" and q.format == fmt and q.weight_elements == llama["quantized"]
    stored = stored_tensors(tmp_path / preset)
    meta = [k for k in stored if k.rsplit(".", 1)[-1] in ("weight_scale", "weight_zero_point", "weight_shape",
                                                          "input_scale")]
    assert q.metadata_elements == sum(stored[k].numel() for k in meta), preset
    comp.decompress_model(m)  # compressed-tensors' own dequantizer, in place
    by_name = {t.name: t for t in r.tensors}
    for lname, lin in llama["linears"].items():
        t = by_name[lname + (".weight_packed" if fmt == "pack-quantized" else ".weight")]
        back = m.get_submodule(lname).weight
        assert t.logical_shape == tuple(back.shape) == tuple(lin.weight.shape), (preset, lname)
        assert (back.float() - lin.weight).abs().max() < 0.2 * lin.weight.abs().max(), (preset, lname)
    check_record(r)


def gptq_pack(w, bits: int, group: int, g_idx):
    """AutoGPTQ's QuantLinear.pack (auto_gptq/nn_modules/qlinear/qlinear_cuda.py, 2/4/8 bits),
    vectorized: asymmetric min-max scales per group, intweight = round(W / scale + zero) with the
    column's group from g_idx, 32 // bits values a row packed into each int32 (the first in the low
    bits), zeros stored minus one (checkpoint format gptq v1)."""
    import torch

    out_f, in_f = w.shape
    groups = -(-in_f // group)
    maxq = 2 ** bits - 1
    scales = torch.zeros(groups, out_f)
    zeros = torch.zeros(groups, out_f, dtype=torch.int32)
    for gi in range(groups):
        cols = w[:, g_idx == gi]
        lo, hi = cols.amin(1).clamp(max=0), cols.amax(1).clamp(min=0)
        s = ((hi - lo) / maxq).clamp(min=1e-8)
        scales[gi], zeros[gi] = s, torch.round(-lo / s).to(torch.int32)
    intweight = torch.round(w / scales[g_idx].T + zeros[g_idx].T).clamp(0, maxq).to(torch.int32).T.contiguous()
    per = 32 // bits
    shifts = torch.arange(0, 32, bits, dtype=torch.int64)
    qweight = (intweight.to(torch.int64).reshape(in_f // per, per, out_f) << shifts[None, :, None]).sum(1)
    z = (zeros - 1).to(torch.int64) & maxq
    qzeros = (z.reshape(groups, out_f // per, per) << shifts[None, None, :]).sum(2)
    as_int32 = lambda t: ((t + 2**31) % 2**32 - 2**31).to(torch.int32)  # np.uint32 -> int32
    return {"qweight": as_int32(qweight), "qzeros": as_int32(qzeros), "scales": scales.half(),
            "g_idx": g_idx.to(torch.int32)}


def gptq_dequantize(t: dict, bits: int):
    """AutoGPTQ's torch path of QuantLinear.forward (qlinear_cuda.py, bits 2/4/8): unpack with
    bitwise_right_shift by wf, zeros + 1, weight = scales[g_idx] * (weight - zeros[g_idx])."""
    import torch

    wf = torch.tensor(list(range(0, 32, bits)), dtype=torch.int32).unsqueeze(0)
    zeros = torch.bitwise_right_shift(torch.unsqueeze(t["qzeros"], 2).expand(-1, -1, 32 // bits),
                                      wf.unsqueeze(0)).to(torch.int16 if bits == 8 else torch.int8)
    zeros = torch.bitwise_and(zeros, (2 ** bits) - 1) + 1
    zeros = zeros.reshape(t["scales"].shape)
    weight = torch.bitwise_right_shift(torch.unsqueeze(t["qweight"], 1).expand(-1, 32 // bits, -1),
                                       wf.unsqueeze(-1)).to(torch.int16 if bits == 8 else torch.int8)
    weight = torch.bitwise_and(weight, (2 ** bits) - 1)
    weight = weight.reshape(weight.shape[0] * weight.shape[1], weight.shape[2])
    g = t["g_idx"].long()
    return (t["scales"][g].float() * (weight - zeros[g]).float()).T  # (out, in), the Linear's layout


@pytest.mark.framework
@pytest.mark.only("torch")
@pytest.mark.parametrize("bits, act_order", [(4, True), (8, False)])
def test_gptq_as_autogptq_saves_it(target_name, llama, tmp_path, bits, act_order):
    """AutoGPTQ does not build on CPU; the files are laid out as its save_quantized writes them
    (auto_gptq/modeling/_base.py: the state dict, config.json's quantization_config,
    quantize_config.json and the safetensors metadata gptq_bits, gptq_group_size, gptq_desc_act)."""
    import torch

    group = 128
    replace = {}
    torch.manual_seed(1)
    for name, lin in llama["linears"].items():
        in_f = lin.in_features
        order = torch.randperm(in_f) if act_order else torch.arange(in_f)
        g_idx = torch.empty(in_f, dtype=torch.long)
        g_idx[order] = torch.arange(in_f) // group  # act order: each column's group by its rank
        replace[name] = gptq_pack(lin.weight.detach(), bits, group, g_idx)
    qc = {"bits": bits, "group_size": group, "damp_percent": 0.01, "desc_act": act_order, "static_groups": False,
          "sym": False, "true_sequential": True, "quant_method": "gptq", "checkpoint_format": "gptq"}
    save_layout(tmp_path, llama["model"], replace, qc, {"gptq_bits": str(bits), "gptq_group_size": str(group),
                                                        "gptq_desc_act": str(act_order), "gptq_quant_method": "gptq"})
    (tmp_path / "quantize_config.json").write_text(json.dumps(qc))
    stored = stored_tensors(tmp_path)
    if bits == 4:  # the issue's "before": qweight and qzeros unpacked, scales and g_idx added in
        before = sum(t.numel() * (32 // bits if k.endswith((".qweight", ".qzeros")) else 1) for k, t in stored.items())
        assert before == 630_400
    r = paramspec.count_file(tmp_path)
    assert r.params == llama["params"]
    q = r.quantization
    assert q.method == "gptq" and q.settings["bits"] == bits and q.settings["group_size"] == group
    assert q.settings["act_order"] is act_order and q.settings["symmetric"] is False
    assert q.weight_elements == llama["quantized"] and q.value_bits == bits
    assert q.metadata_elements == sum(t.numel() for k, t in stored.items() if k.endswith((".qzeros", ".scales",
                                                                                          ".g_idx")))
    by_name = {t.name: t for t in r.tensors}
    for name, lin in llama["linears"].items():
        t = by_name[name + ".qweight"]
        w = gptq_dequantize({k: stored[f"{name}.{k}"] for k in ("qweight", "qzeros", "scales", "g_idx")}, bits)
        assert t.logical_shape == tuple(w.shape) == tuple(lin.weight.shape)
        step = stored[name + ".scales"].float().max()
        assert (w - lin.weight).abs().max() <= step  # within a quantization step: the layout round-trips
    check_record(r)
    p = run_cli("count", str(tmp_path), "--json", "-")
    assert json.loads(p.stdout)["quantities"]["params"]["got"] == llama["params"]


def awq_pack(w, group: int, version: str):
    """AutoAWQ WQLinear_GEMM.from_linear / WQLinear_GEMV.from_linear (awq/modules/linear/gemm.py,
    gemv.py), 4 bits: asymmetric min-max scales and zeros per group; gemm packs 8 columns of the
    (in, out) int weight into an int32 in the order [0, 2, 4, 6, 1, 3, 5, 7], gemv packs 8 inputs of
    the (out, in) weight in order, and pads its zeros and scales to calculate_zeros_width."""
    import torch

    out_f, in_f = w.shape
    groups = in_f // group
    g = w.reshape(out_f, groups, group)
    lo, hi = g.amin(-1).clamp(max=0), g.amax(-1).clamp(min=0)
    scales = ((hi - lo) / 15).clamp(min=1e-8)  # (out, groups)
    zeros = torch.round(-lo / scales).to(torch.int32)
    intweight = torch.round(w / scales.repeat_interleave(group, 1) + zeros.repeat_interleave(group, 1)).clamp(0, 15)
    intweight = intweight.to(torch.int64)
    as_int32 = lambda t: ((t + 2**31) % 2**32 - 2**31).to(torch.int32)
    shifts = torch.arange(0, 32, 4, dtype=torch.int64)
    if version == "gemm":
        order = [0, 2, 4, 6, 1, 3, 5, 7]
        iw = intweight.T.reshape(in_f, out_f // 8, 8)[:, :, order]  # (in, out/8, 8)
        iz = zeros.T.to(torch.int64).reshape(groups, out_f // 8, 8)[:, :, order]
        return {"qweight": as_int32((iw << shifts).sum(-1)), "qzeros": as_int32((iz << shifts).sum(-1)),
                "scales": scales.T.contiguous().half()}
    mult = {32: 4, 64: 2}.get(group, 1)  # gemv.py calculate_zeros_width
    width = math.ceil(math.ceil(groups / 8) / mult) * mult
    iw = intweight.reshape(out_f, in_f // 8, 8)
    iz = torch.nn.functional.pad(zeros.to(torch.int64), (0, width * 8 - groups)).reshape(out_f, width, 8)
    qscales = torch.zeros(out_f, width * 8, dtype=torch.float16)
    qscales[:, :groups] = scales
    return {"qweight": as_int32((iw << shifts).sum(-1)), "qzeros": as_int32((iz << shifts).sum(-1)),
            "scales": qscales}


def awq_dequantize_gemm(qweight, qzeros, scales, bits: int, group_size: int):
    """AutoAWQ's dequantize_gemm (awq/utils/packing_utils.py): unpack_awq, reverse_awq_order, mask,
    (iweight - izeros) * scales, each repeated over its group. Returns (in, out)."""
    import torch

    shifts = torch.arange(0, 32, bits)
    iweight = torch.bitwise_right_shift(qweight[:, :, None], shifts[None, None, :]).to(torch.int8)
    iweight = iweight.view(iweight.shape[0], -1)
    izeros = torch.bitwise_right_shift(qzeros[:, :, None], shifts[None, None, :]).to(torch.int8)
    izeros = izeros.view(izeros.shape[0], -1)
    reverse = torch.arange(izeros.shape[-1], dtype=torch.int32).view(-1, 32 // bits)[:, [0, 4, 1, 5, 2, 6, 3, 7]]
    reverse = reverse.reshape(-1)
    izeros, iweight = izeros[:, reverse], iweight[:, reverse]
    iweight = torch.bitwise_and(iweight, (2**bits) - 1)
    izeros = torch.bitwise_and(izeros, (2**bits) - 1)
    scales = scales.repeat_interleave(group_size, dim=0)
    izeros = izeros.repeat_interleave(group_size, dim=0)
    return (iweight - izeros) * scales


@pytest.mark.framework
@pytest.mark.only("torch")
@pytest.mark.parametrize("version", ["gemm", "gemv"])
def test_awq_as_autoawq_saves_it(target_name, llama, tmp_path, version):
    """AutoAWQ does not build on CPU; its layout (gemm.py, gemv.py) and its config.json
    quantization_config (awq/models/base.py: quant_method, zero_point, group_size, bits, version).
    Its own dequantize_gemm (pure torch) checks the gemm files; gemv dequantizes only in CUDA."""
    replace = {n: awq_pack(lin.weight.detach(), 64, version) for n, lin in llama["linears"].items()}
    qc = {"quant_method": "awq", "zero_point": True, "group_size": 64, "bits": 4, "version": version}
    save_layout(tmp_path, llama["model"], replace, qc)
    r = paramspec.count_file(tmp_path)
    assert r.params == llama["params"]
    q = r.quantization
    assert (q.method, q.format, q.settings) == ("awq", version, {"bits": 4, "group_size": 64, "symmetric": False})
    assert q.weight_elements == llama["quantized"] and q.value_bits == 4.0
    stored = stored_tensors(tmp_path)
    assert q.metadata_elements == sum(t.numel() for k, t in stored.items() if k.endswith((".qzeros", ".scales")))
    by_name = {t.name: t for t in r.tensors}
    for name, lin in llama["linears"].items():
        assert by_name[name + ".qweight"].logical_shape == tuple(lin.weight.shape)
        if version == "gemm":
            w = awq_dequantize_gemm(stored[name + ".qweight"], stored[name + ".qzeros"], stored[name + ".scales"], 4, 64)
            assert tuple(w.T.shape) == tuple(lin.weight.shape)
            assert (w.T.float() - lin.weight).abs().max() <= stored[name + ".scales"].float().max()
    check_record(r)


@pytest.mark.framework
@pytest.mark.only("torch")
def test_mxfp4_gpt_oss_experts_dequantize_with_transformers(target_name, tmp_path):
    """gpt-oss's MXFP4 experts (transformers models/gpt_oss, integrations/mxfp4.py): each expert
    projection as *_blocks (E, rows, G, 16) uint8, two e2m1 codes a byte (the low nibble first),
    and *_scales (E, rows, G) uint8 (an e8m0 exponent, biased by 127). The quantizer needs triton
    kernels; the blocks are made here by the OCP MX rule, and transformers' own
    convert_moe_packed_tensors dequantizes them back to the model's parameter shapes."""
    import torch
    from safetensors.torch import save_file
    from transformers import GptOssConfig, GptOssForCausalLM
    from transformers.integrations.mxfp4 import FP4_VALUES, convert_moe_packed_tensors

    cfg = GptOssConfig(vocab_size=256, hidden_size=64, intermediate_size=64, num_hidden_layers=1,
                       num_attention_heads=4, num_key_value_heads=2, head_dim=16, num_local_experts=4,
                       num_experts_per_tok=2, layer_types=["full_attention"])
    torch.manual_seed(0)
    model = GptOssForCausalLM(cfg)
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    lut = torch.tensor(FP4_VALUES)
    for key in [k for k in sd if k.endswith(("experts.gate_up_proj", "experts.down_proj"))]:
        w = sd.pop(key).transpose(1, 2).float()  # (E, rows, cols): dequantizing transposes back
        e, rows, cols = w.shape
        g = w.reshape(e, rows, cols // 32, 32)
        exp = torch.floor(torch.log2(g.abs().amax(-1).clamp(min=2**-126))) - 2  # e2m1's largest exponent is 2
        codes = (g / torch.exp2(exp)[..., None]).unsqueeze(-1).sub(lut).abs().argmin(-1).to(torch.uint8)
        sd[key + "_blocks"] = (codes[..., 0::2] | (codes[..., 1::2] << 4)).contiguous()
        sd[key + "_scales"] = (exp + 127).to(torch.uint8)
    save_file(sd, str(tmp_path / "model.safetensors"))
    config = cfg.to_dict()
    config["quantization_config"] = {"quant_method": "mxfp4", "modules_to_not_convert": ["model.layers.*.self_attn",
                                                                                        "model.embed_tokens", "lm_head"]}
    (tmp_path / "config.json").write_text(json.dumps(config))
    r = paramspec.count_file(tmp_path)
    assert r.params == sum(p.numel() for p in model.parameters())
    params = dict(model.named_parameters())
    by_name = {t.name: t for t in r.tensors}
    experts = [k for k in params if k.endswith(("experts.gate_up_proj", "experts.down_proj"))]
    for key in experts:
        back = convert_moe_packed_tensors(sd[key + "_blocks"], sd[key + "_scales"], dtype=torch.float32)
        assert tuple(back.shape) == tuple(params[key].shape) == by_name[key + "_blocks"].logical_shape
        assert (back - params[key]).abs().max() <= params[key].abs().max() / 2  # fp4: a coarse grid
    q = r.quantization
    assert q.method == "mxfp4" and q.weight_elements == sum(params[k].numel() for k in experts)
    assert q.bits_per_weight == 4.25 and q.metadata_elements == sum(sd[k + "_scales"].numel() for k in experts)
    check_record(r)


@pytest.mark.framework
@pytest.mark.only("torch")
def test_fp8_block_scales_written_by_transformers_fp8_quantize(target_name, llama, tmp_path):
    """DeepSeek-V3's layout (weight float8_e4m3fn, weight_scale_inv per 128 x 128 block), written by
    transformers' own Fp8Quantize op (integrations/finegrained_fp8.py; its from_pretrained path asks
    for a GPU, the op itself runs on CPU). It leaves a weight whose shape is not whole blocks in
    float, as the library does. Fp8Dequantize's math (_dequantize_fp8_weight) checks the shapes."""
    from types import SimpleNamespace

    from transformers import FineGrainedFP8Config
    from transformers.integrations.finegrained_fp8 import Fp8Quantize, _dequantize_fp8_weight

    config = FineGrainedFP8Config(weight_block_size=[128, 128])
    op = Fp8Quantize(SimpleNamespace(quantization_config=config))
    replace, quantized = {}, 0
    for name, lin in llama["linears"].items():
        out = op.convert({name + ".weight": lin.weight.detach()})
        if len(out) == 2:
            replace[name] = {"weight": out[name + ".weight"], "weight_scale_inv": out[name + ".weight_scale_inv"]}
            quantized += lin.weight.numel()
    sd_cfg = config.to_dict()
    sd_cfg.update(quant_method="fp8", fmt="e4m3", activation_scheme="dynamic")
    save_layout(tmp_path, llama["model"], {}, sd_cfg)
    from safetensors.torch import load_file, save_file

    sd = load_file(str(tmp_path / "model.safetensors"))
    for name, t in replace.items():
        sd.update({f"{name}.{k}": v for k, v in t.items()})
    save_file(sd, str(tmp_path / "model.safetensors"), metadata={"format": "pt"})
    r = paramspec.count_file(tmp_path)
    assert r.params == llama["params"]
    q = r.quantization
    assert (q.method, q.format, q.settings["weight_block_size"]) == ("fp8", "block", [128, 128])
    assert q.weight_elements == quantized > 0 and q.weights == len(replace)
    by_name = {t.name: t for t in r.tensors}
    for name, t in replace.items():
        w = _dequantize_fp8_weight(t["weight"], t["weight_scale_inv"], [128, 128], sd[name + ".weight"].float().dtype)
        assert tuple(w.shape) == by_name[name + ".weight"].logical_shape
    check_record(r)
    # a block size the scales contradict
    cfg = json.loads((tmp_path / "config.json").read_text())
    cfg["quantization_config"]["weight_block_size"] = [64, 64]
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(FileFormatError, match=r"weight_block_size \[64, 64\], but .*weight_scale_inv"):
        paramspec.count_file(tmp_path)


@pytest.mark.framework
@pytest.mark.only("torch")
def test_onnx_written_by_onnxruntimes_matmul_nbits_quantizer(target_name, tmp_path):
    """onnxruntime's MatMulNBitsQuantizer (QOperator: MatMulNBits; QDQ: DequantizeLinear of blocked
    int4) on a float MatMul model; onnxruntime runs both, so the weights dequantize."""
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    from onnxruntime.quantization import matmul_nbits_quantizer as mnq
    from onnxruntime.quantization.quant_utils import QuantFormat

    k, n = 128, 64
    w = np.random.default_rng(4).standard_normal((k, n)).astype(np.float32)
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"], name="fc")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, k])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n])],
                              [numpy_helper.from_array(w, "W")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    x = np.random.default_rng(5).standard_normal((1, k)).astype(np.float32)
    for fmt, method in ((QuantFormat.QOperator, "onnx-matmulnbits"), (QuantFormat.QDQ, "onnx-qdq")):
        cfg = mnq.DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=False, quant_format=fmt)
        quant = mnq.MatMulNBitsQuantizer(onnx.ModelProto.FromString(model.SerializeToString()), algo_config=cfg)
        quant.process()
        path = tmp_path / f"{method}.onnx"
        quant.model.save_model_to_file(str(path))
        r = paramspec.count_file(path)
        assert r.params == w.size, method
        q = r.quantization
        assert q.method == method and q.weight_elements == w.size and q.settings["bits"] == 4
        (y,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})
        assert np.abs(y - x @ w).max() < 0.2 * np.abs(x @ w).max()  # 4 bits: 16 levels a block
        check_record(r)
