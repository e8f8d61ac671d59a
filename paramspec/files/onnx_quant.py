"""Quantized ONNX graphs: which initializers are quantized weights, and which only dequantize them.

- ``MatMulNBits`` (domain ``com.microsoft``; onnxruntime's
  ``python/tools/quantization/matmul_nbits_quantizer.py`` writes it): inputs ``A``, ``B`` (uint8
  ``(N, ceil(K / block_size), block_size * bits / 8)``), ``scales``, then optional
  ``zero_points``, ``g_idx`` and ``bias``; attributes ``K``, ``N``, ``bits`` (default 4),
  ``block_size``. ``B`` is the weight (logical shape ``(K, N)``, the MatMul's own ``B``);
  scales, zero points and ``g_idx`` are metadata; a bias stays a parameter.
- QDQ: an initializer that feeds ``DequantizeLinear`` (int8, uint8, int4, int16, float8...)
  is a quantized weight, its ``x_scale`` and ``x_zero_point`` metadata; the scales and zero
  points of ``QuantizeLinear`` (activations) are metadata too.
- QOperator (``QLinearMatMul``, ``QLinearConv``, ``MatMulInteger``, ``ConvInteger``): the
  quantized weight input and its scale and zero point.

A node whose attributes contradict its ``B`` initializer is bad input, one line.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

from ..errors import FileFormatError
from ..reading import Tensor
from .quantization import METADATA, WEIGHT, Quantization, summarize

__all__ = ["recognize"]

# op -> (the weight input, {metadata input: kind}); indices into node.input
QOPERATOR = {
    "QLinearMatMul": (3, {1: "activation scales", 2: "activation zero points", 4: "scales", 5: "zero points",
                          6: "activation scales", 7: "activation zero points"}),
    "QLinearConv": (3, {1: "activation scales", 2: "activation zero points", 4: "scales", 5: "zero points",
                        6: "activation scales", 7: "activation zero points"}),
    "MatMulInteger": (1, {2: "activation zero points", 3: "zero points"}),
    "ConvInteger": (1, {2: "activation zero points", 3: "zero points"}),
}
BITS = {"int8": 8, "uint8": 8, "int4": 4, "uint4": 4, "int16": 16, "uint16": 16, "float8_e4m3fn": 8,
        "float8_e5m2": 8, "float4_e2m1fn": 4}


def _attrs(node: Any) -> dict[str, Any]:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def recognize(model: Any, tensors: list[Tensor], where: str) -> tuple[list[Tensor], Quantization | None]:
    """The quantized weights and metadata of an ONNX graph's initializers (the main graph's
    nodes); unchanged and None for a graph with none."""
    by_name = {t.name: t for t in tensors}
    replaced: dict[str, Tensor] = {}
    kinds: dict[str, str] = {}
    methods: list[str] = []
    settings: dict[str, Any] = {}
    bits_seen: set[int] = set()

    def meta(name: str, kind: str, label: str) -> None:
        t = by_name.get(name)
        if t is not None and name not in replaced:
            replaced[name] = dataclasses.replace(t, elements=0, packing=f"metadata: {kind}",
                                                 quant_role=METADATA, why_state="")
            kinds[name] = kind

    def weight(t: Tensor, elements: int, logical: tuple[int, ...], packing: str) -> None:
        replaced[t.name] = dataclasses.replace(t, elements=elements, logical_shape=logical, packing=packing,
                                               quant_role=WEIGHT)

    for node in model.graph.node:
        ins = list(node.input)
        if node.op_type == "MatMulNBits" and node.domain == "com.microsoft":
            a = _attrs(node)
            k, n, bits, block = a.get("K"), a.get("N"), a.get("bits", 4), a.get("block_size")
            label = f"MatMulNBits node {node.name!r}" if node.name else "a MatMulNBits node"
            if not all(isinstance(v, int) and v > 0 for v in (k, n, bits, block)):
                raise FileFormatError(f"{label} lacks positive K, N, bits and block_size ({k}, {n}, {bits}, {block})",
                                      where)
            b = by_name.get(ins[1]) if len(ins) > 1 else None
            if b is None:
                continue  # B computed in the graph: no stored weight
            blocks = -(-k // block)
            blob = block * bits // 8
            if block * bits % 8 or b.dtype != "uint8" or math.prod(b.shape) != n * blocks * blob:
                raise FileFormatError(f"{label} says K={k}, N={n}, bits={bits}, block_size={block}, but its B "
                                      f"{b.name!r} is {tuple(b.shape)} {b.dtype}, not {(n, blocks, blob)} uint8", where)
            weight(b, k * n, (k, n), f"MatMulNBits {bits}-bit: {8 // bits if 8 % bits == 0 else '8/' + str(bits)} "
                                     f"values a byte, blocks of {block}")
            for i, kind in ((2, "scales"), (3, "zero points"), (4, "g_idx")):
                if len(ins) > i and ins[i]:
                    meta(ins[i], kind, "MatMulNBits")
            bits_seen.add(bits)
            settings.setdefault("block_size", block)
            settings["symmetric"] = settings.get("symmetric", True) and not (len(ins) > 3 and ins[3])
            if "matmulnbits" not in methods:
                methods.append("matmulnbits")
        elif node.op_type == "DequantizeLinear" and ins and ins[0] in by_name:
            x = by_name[ins[0]]
            if x.dtype not in BITS:
                raise FileFormatError(f"DequantizeLinear {node.name!r} dequantizes {x.name!r} of dtype {x.dtype}, "
                                      f"not an integer or float8 type", where)
            weight(x, math.prod(x.shape), tuple(x.shape), f"QDQ {x.dtype}")
            for i, kind in ((1, "scales"), (2, "zero points")):
                if len(ins) > i and ins[i]:
                    meta(ins[i], kind, "QDQ")
            bits_seen.add(BITS[x.dtype])
            a = _attrs(node)
            if a.get("block_size"):
                settings.setdefault("block_size", a["block_size"])
            if "qdq" not in methods:
                methods.append("qdq")
        elif node.op_type == "QuantizeLinear":
            for i, kind in ((1, "activation scales"), (2, "activation zero points")):
                if len(ins) > i and ins[i]:
                    meta(ins[i], kind, "QDQ")
        elif node.op_type in QOPERATOR and node.domain in ("", "ai.onnx"):
            wi, metas = QOPERATOR[node.op_type]
            w = by_name.get(ins[wi]) if len(ins) > wi else None
            if w is not None and w.dtype in BITS:
                weight(w, math.prod(w.shape), tuple(w.shape), f"{node.op_type} {w.dtype}")
                bits_seen.add(BITS[w.dtype])
                if "qoperator" not in methods:
                    methods.append("qoperator")
            for i, kind in metas.items():
                if len(ins) > i and ins[i]:
                    meta(ins[i], kind, node.op_type)
    if not any(t.quant_role == WEIGHT for t in replaced.values()):
        return tensors, None
    out = [replaced.get(t.name, t) for t in tensors]
    if bits_seen:
        settings = {"bits": bits_seen.pop() if len(bits_seen) == 1 else sorted(bits_seen), **settings}
    q = summarize("onnx-" + methods[0], out, format="+".join(methods), settings=settings,
                  declared_in="the graph's nodes", kinds=kinds)
    return out, q
