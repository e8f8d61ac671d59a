"""Recognize a quantized checkpoint's layout from its tensors, and from what it declares.

A checkpoint reader (safetensors, PyTorch) lists the tensors as stored; :func:`recognize`
finds the quantized weights among them, gives each its logical element count and shape, and
marks the tensors that only serve to dequantize them as quantization metadata. Each layout is
checked against its library's own code (cited per function) and against what the files
declare (config.json's ``quantization_config``, ``quantize_config.json``, the safetensors
metadata): a declaration the tensors contradict is bad input, one line.

Layouts:

- GPTQ (AutoGPTQ ``auto_gptq/nn_modules/qlinear/qlinear_cuda_old.py``, GPTQModel): ``qweight``
  int32 ``(in * bits / 32, out)``, ``qzeros`` int32 ``(groups, out * bits / 32)``, ``scales``
  ``(groups, out)``, ``g_idx`` int32 ``(in,)``;
- AWQ (AutoAWQ ``awq/modules/linear/gemm.py``, ``gemv.py``): gemm ``qweight`` ``(in, out * bits / 32)``,
  ``qzeros`` ``(groups, out * bits / 32)``, ``scales`` ``(groups, out)``; gemv ``qweight``
  ``(out, in * bits / 32)``, ``qzeros`` ``(out, width)``, ``scales`` ``(out, width * 32 / bits)``;
- bitsandbytes (``bitsandbytes/functional.py`` ``QuantState.as_dict(packed=True)``): 4-bit
  ``weight`` uint8 holding two values a byte, ``weight.absmax``, ``weight.quant_map``, with double
  quantization ``weight.nested_absmax`` and ``weight.nested_quant_map``, and
  ``weight.quant_state.bitsandbytes__nf4`` (or ``__fp4``): a JSON blob with the weight's shape;
  8-bit: ``weight`` int8 and ``SCB`` (one absmax a row);
- MXFP4 (transformers ``integrations/mxfp4.py``, gpt-oss): ``*_blocks`` uint8 ``(..., G, 16)``
  (32 fp4 values, two a byte) and ``*_scales`` uint8 ``(..., G)`` (one E8M0 exponent a block);
- compressed-tensors (``compressors/pack_quantized/base.py``, ``naive_quantized/base.py``):
  ``weight_packed`` int32 and ``weight_shape`` (the logical shape), or ``weight`` int8/fp8, beside
  ``weight_scale``, ``weight_zero_point``, ``weight_g_idx``, ``input_scale``...;
- fp8 with per-block scales (DeepSeek-V3, transformers ``integrations/finegrained_fp8.py``):
  ``weight`` float8 and ``weight_scale_inv`` ``(ceil(out / 128), ceil(in / 128))``.

Only small metadata tensors are ever read (bitsandbytes' JSON blob, compressed-tensors'
``weight_shape``: at most 64 KiB each); weights never are.
"""
from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import FileFormatError
from ..reading import Tensor
from .quantization import METADATA, WEIGHT, Quantization, summarize

__all__ = ["read_quantize_config", "recognize"]

Small = Callable[[str], bytes]  # a small tensor's stored bytes, by name
MAX_SMALL = 64 * 1024

# what each metadata tensor is, by the last part of its name
GPTQ_META = {"qzeros": "zero points", "scales": "scales", "g_idx": "g_idx"}
BNB4_META = {"absmax": "absmax", "quant_map": "quant map", "nested_absmax": "nested absmax",
             "nested_quant_map": "nested quant map"}
CT_META = {"weight_scale": "scales", "weight_zero_point": "zero points", "weight_g_idx": "g_idx",
           "weight_shape": "shapes", "weight_global_scale": "scales", "input_scale": "activation scales",
           "input_zero_point": "activation zero points", "input_global_scale": "activation scales",
           "output_scale": "activation scales", "output_zero_point": "activation zero points",
           "k_scale": "activation scales", "v_scale": "activation scales"}
INT_BITS = {"int8": 8, "uint8": 8, "float8_e4m3fn": 8, "float8_e5m2": 8, "float8_e4m3fnuz": 8, "float8_e5m2fnuz": 8,
            "int4": 4, "uint4": 4, "float4_e2m1fn": 4, "int16": 16, "int32": 32}


class _Fail:
    def __init__(self, where: str):
        self.where = where
        self.src = "the quantization config"  # where the settings were declared, once known

    def __call__(self, message: str) -> FileFormatError:
        return FileFormatError(message, self.where)


def read_quantize_config(folder: Path) -> dict[str, Any]:
    """AutoGPTQ's and GPTQModel's ``quantize_config.json`` beside the weights ({} when absent)."""
    p = folder / "quantize_config.json"
    if not p.is_file():
        return {}
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise FileFormatError("is not JSON", str(p)) from None
    if not isinstance(d, dict):
        raise FileFormatError("is not a JSON object", str(p))
    return d


# ----------------------------------------------------------------------------- what the files declare
def _declared(config: dict[str, Any], quantize_config: dict[str, Any], metadata: dict[str, str],
              fail: _Fail) -> tuple[dict[str, Any], str]:
    """The quantization settings the files declare, merged, and where they come from; two
    declarations of one setting that disagree are refused."""
    sources: list[tuple[str, dict[str, Any]]] = []
    qc = config.get("quantization_config") if isinstance(config, dict) else None
    if qc is not None:
        if not isinstance(qc, dict):
            raise fail(f"config.json's quantization_config is a {type(qc).__name__}, not an object")
        sources.append(("config.json quantization_config", qc))
    if quantize_config:
        sources.append(("quantize_config.json", quantize_config))
    gptq_meta = {k.removeprefix("gptq_"): v for k, v in metadata.items() if k.startswith("gptq_")}
    if gptq_meta:  # AutoGPTQ's save_quantized: gptq_bits, gptq_group_size, gptq_desc_act as strings
        parsed: dict[str, Any] = {}
        for k, v in gptq_meta.items():
            v = v.strip()
            parsed[k] = int(v) if v.lstrip("-").isdigit() else {"True": True, "False": False}.get(v, v)
        parsed.setdefault("quant_method", "gptq")
        sources.append(("safetensors metadata", parsed))
    merged: dict[str, Any] = {}
    first: dict[str, str] = {}
    for where, d in sources:
        for k, v in d.items():
            if k in ("bits", "group_size", "desc_act", "sym", "quant_method") and k in merged and merged[k] != v:
                if k == "quant_method" and {str(merged[k]).lower(), str(v).lower()} <= {"gptq"}:
                    continue
                raise fail(f"{first[k]} says {k} {merged[k]!r}, but {where} says {v!r}")
            if k not in merged:
                merged[k], first[k] = v, where
    return merged, ", ".join(w for w, _ in sources)


def _int_setting(d: dict[str, Any], key: str, fail: _Fail, where: str) -> int | None:
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise fail(f"{where} has {key} {v!r}, not an integer")
    return v


# ----------------------------------------------------------------------------- the entry point
def recognize(tensors: list[Tensor], *, config: dict[str, Any] | None = None,
              quantize_config: dict[str, Any] | None = None, metadata: dict[str, str] | None = None,
              small: Small | None = None, where: str = "") -> tuple[list[Tensor], Quantization | None]:
    """Find the quantized weights among a checkpoint's tensors.

    Args:
        tensors: as the reader listed them (stored shapes and dtypes).
        config: config.json beside the file ({}: none).
        quantize_config: quantize_config.json beside the file.
        metadata: the safetensors header's ``__metadata__``.
        small: reads a small tensor's bytes (None: the format cannot, e.g. a PyTorch file read
            through torch; then what those tensors hold is inferred from the shapes).
        where: the file, for messages.

    Returns:
        the tensors (quantized weights with their logical elements and shape, metadata with
        none) and the record's quantization part; unchanged and None for a file that is not
        quantized.

    Raises:
        FileFormatError: a declaration the tensors contradict; a layout that does not add up.

    Example:
        >>> tensors, q = recognize(read_safetensors(p)[0], config=json.load(open("config.json")))
    """
    fail = _Fail(where)
    declared, declared_in = _declared(config or {}, quantize_config or {}, metadata or {}, fail)
    fail.src = declared_in or fail.src
    method = str(declared.get("quant_method") or "").lower().replace("_", "-")
    by_name = {t.name: t for t in tensors}
    names = list(by_name)
    if method in ("gptq", "awq") or any(n.endswith(".qweight") for n in names):
        found = _gptq_awq(by_name, declared, method, fail)
    elif method == "bitsandbytes" or any(n.endswith((".SCB", ".weight.absmax")) or ".quant_state.bitsandbytes__" in n
                                         for n in names):
        found = _bnb(by_name, declared, small, fail)
    elif method == "mxfp4" or any(n.endswith("_blocks") and n[:-7] + "_scales" in by_name for n in names):
        found = _mxfp4(by_name, declared, fail)
    elif method == "compressed-tensors" or any(n.endswith((".weight_packed", ".weight_scale")) for n in names):
        found = _compressed_tensors(by_name, declared, small, fail)
    elif method in ("fp8", "fbgemm-fp8") or any(n.endswith(".weight_scale_inv") for n in names):
        found = _fp8(by_name, declared, method, fail)
    else:
        return tensors, None
    if found is None:
        return tensors, None
    replaced, kinds, q_method, q_format, settings, notes = found
    out = [replaced.get(t.name, t) for t in tensors]
    if not any(t.quant_role == WEIGHT for t in out):
        raise fail(f"declares {q_method} quantization, but holds no {q_method} quantized weight")
    q = summarize(q_method, out, format=q_format, settings=settings, declared_in=declared_in or "the tensors",
                  kinds=kinds, notes=notes)
    return out, q


_Found = tuple[dict[str, Tensor], dict[str, str], str, str, dict[str, Any], list[str]]


def _weight(t: Tensor, elements: int, logical: tuple[int, ...], packing: str) -> Tensor:
    return dataclasses.replace(t, elements=elements, logical_shape=logical, packing=packing, quant_role=WEIGHT)


def _meta(t: Tensor, kind: str, method: str) -> Tensor:
    return dataclasses.replace(t, elements=0, packing=f"metadata: {kind}",
                               quant_role=METADATA, why_state="")


def _shape(t: Tensor) -> str:
    return f"{t.name!r} {tuple(t.shape)} {t.dtype}"


# ----------------------------------------------------------------------------- GPTQ and AWQ
def _awq_zeros_width(in_features: int, group_size: int, pack: int = 8) -> int:
    """AutoAWQ ``awq/modules/linear/gemv.py`` ``calculate_zeros_width``."""
    mult = {32: 4, 64: 2}.get(group_size, 1)
    base = -(-(in_features // group_size) // pack)
    return -(-base // mult) * mult


def _gptq_awq(by_name: dict[str, Tensor], d: dict[str, Any], method: str, fail: _Fail) -> _Found:
    src = fail.src
    bits = _int_setting(d, "bits", fail, src) or _int_setting(d, "w_bit", fail, src)
    group = _int_setting(d, "group_size", fail, src)
    if group is None:
        group = _int_setting(d, "q_group_size", fail, src)
    version = str(d.get("version") or "").lower()
    if bits is not None and bits not in (2, 3, 4, 8):
        raise fail(f"{src} says bits {bits}; GPTQ and AWQ store 2, 3, 4 or 8")
    replaced: dict[str, Tensor] = {}
    kinds: dict[str, str] = {}
    seen_bits: set[int] = set()
    formats: set[str] = set()
    for name, qw in by_name.items():
        if not name.endswith(".qweight"):
            continue
        p = name[: -len(".qweight")]
        qz, sc, gi = by_name.get(p + ".qzeros"), by_name.get(p + ".scales"), by_name.get(p + ".g_idx")
        if qz is None or sc is None:
            raise fail(f"{name!r} has no {'qzeros' if qz is None else 'scales'} beside it")
        for t in (qw, qz):
            if t.dtype != "int32":
                raise fail(f"{_shape(t)}: GPTQ and AWQ pack into int32")
        if len(qw.shape) != 2 or len(qz.shape) != 2 or len(sc.shape) != 2:
            raise fail(f"{_shape(qw)}, {_shape(qz)}, {_shape(sc)}: GPTQ and AWQ tensors are 2-D")
        kind = method or ""
        if kind == "awq" and version == "gemv":
            fmt = "gemv"
        elif kind == "awq":
            fmt = "gemm"
        elif kind == "gptq" or gi is not None or sc.shape[1] == qw.shape[1]:
            kind, fmt = "gptq", "gptq"
        elif sc.shape[0] == qw.shape[0]:
            kind, fmt = "awq", "gemv"
        else:
            kind, fmt = "awq", "gemm"
        method = method or kind
        if fmt == "gptq":
            # qweight (in * bits / 32, out), qzeros (groups, out * bits / 32), scales (groups, out)
            out_f = qw.shape[1]
            if sc.shape[1] != out_f or qz.shape[0] != sc.shape[0]:
                raise fail(f"{_shape(qw)}, {_shape(qz)}, {_shape(sc)} do not make a GPTQ layer "
                           f"(scales (groups, out), qzeros (groups, out * bits / 32))")
            shown = qz.shape[1] * 32 / out_f if out_f else 0
            if bits is not None and shown != bits:
                raise fail(f"{src} says bits {bits}, but {_shape(qz)} packs the "
                           f"{out_f} outputs of {name!r} at {shown:g} bits")
            b = bits if bits is not None else shown
            if b not in (2, 3, 4, 8):
                raise fail(f"{_shape(qz)} packs {out_f} outputs at {shown:g} bits, not 2, 3, 4 or 8")
            b = int(b)
            in_f = qw.shape[0] * 32 // b
            if qw.shape[0] * 32 % b:
                raise fail(f"{_shape(qw)} is not a whole number of {b}-bit rows")
            if gi is not None and tuple(gi.shape) != (in_f,):
                raise fail(f"{_shape(gi)} does not match {_shape(qw)}: {b}-bit rows unpack to {in_f} inputs")
        elif fmt == "gemm":
            # qweight (in, out * bits / 32), qzeros (groups, out * bits / 32), scales (groups, out)
            in_f, out_f = qw.shape[0], sc.shape[1]
            shown = 32 * qw.shape[1] / out_f if out_f else 0
            if bits is not None and shown != bits:
                raise fail(f"{src} says bits {bits}, but {_shape(qw)} packs the "
                           f"{out_f} outputs of its scales at {shown:g} bits")
            if tuple(qz.shape) != (sc.shape[0], qw.shape[1]) or shown not in (2, 3, 4, 8):
                raise fail(f"{_shape(qw)}, {_shape(qz)}, {_shape(sc)} do not make an AWQ gemm layer "
                           f"(qweight (in, out * bits / 32), qzeros (groups, out * bits / 32), scales (groups, out))")
            b = int(shown)
        else:  # gemv: qweight (out, in * bits / 32), qzeros (out, width), scales (out, width * 32 / bits)
            out_f = qw.shape[0]
            shown = 32 * qz.shape[1] / sc.shape[1] if sc.shape[1] else 0
            if bits is not None and shown != bits:
                raise fail(f"{src} says bits {bits}, but {_shape(qz)} and {_shape(sc)} "
                           f"pack at {shown:g} bits")
            if sc.shape[0] != out_f or qz.shape[0] != out_f or shown not in (2, 3, 4, 8):
                raise fail(f"{_shape(qw)}, {_shape(qz)}, {_shape(sc)} do not make an AWQ gemv layer")
            b = int(shown)
            in_f = qw.shape[1] * 32 // b
            if group and group > 0 and _awq_zeros_width(in_f, group) != qz.shape[1]:
                raise fail(f"{_shape(qz)}: AWQ gemv pads zeros to {_awq_zeros_width(in_f, group)} columns for "
                           f"{in_f} inputs in groups of {group}")
        groups = sc.shape[0] if fmt != "gemv" else None
        if group is not None and groups is not None:
            g = in_f if group == -1 else group
            if g <= 0 or -(-in_f // g) != groups:
                raise fail(f"{src} says group_size {group}, but {_shape(sc)} holds {groups} "
                           f"groups for the {in_f} inputs of {name!r}")
        seen_bits.add(b)
        formats.add(fmt)
        label = "GPTQ" if fmt == "gptq" else f"AWQ {fmt}"
        replaced[name] = _weight(qw, in_f * out_f, (out_f, in_f),
                                 f"{label} {b}-bit: an int32 packs {32 // b if 32 % b == 0 else '32/3'} values")
        for t, part in ((qz, "qzeros"), (sc, "scales"), (gi, "g_idx")):
            if t is not None:
                kinds[t.name] = GPTQ_META[part]
                replaced[t.name] = _meta(t, GPTQ_META[part], label)
    if not replaced:
        return None  # type: ignore[return-value]
    settings: dict[str, Any] = {"bits": seen_bits.pop() if len(seen_bits) == 1 else sorted(seen_bits)}
    if group is not None:
        settings["group_size"] = group
    if method == "gptq":
        if "sym" in d:
            settings["symmetric"] = bool(d["sym"])
        settings["act_order"] = bool(d.get("desc_act", False))
        if d.get("checkpoint_format"):
            settings["checkpoint_format"] = str(d["checkpoint_format"])
    else:
        if "zero_point" in d:
            settings["symmetric"] = not d["zero_point"]
    fmt = "" if formats == {"gptq"} else "/".join(sorted(formats))
    return replaced, kinds, method, fmt, settings, []


# ----------------------------------------------------------------------------- bitsandbytes
def _bnb(by_name: dict[str, Tensor], d: dict[str, Any], small: Small | None, fail: _Fail) -> _Found:
    replaced: dict[str, Tensor] = {}
    kinds: dict[str, str] = {}
    notes: list[str] = []
    types: set[str] = set()
    blocks: set[int] = set()
    nested = set()
    declared_type = d.get("bnb_4bit_quant_type")
    declared_dq = d.get("bnb_4bit_use_double_quant")
    for name, t in by_name.items():
        if name.endswith(".SCB"):  # LLM.int8(): bitsandbytes/nn/modules.py Int8Params, Linear8bitLt
            p = name[: -len(".SCB")]
            w = by_name.get(p + ".weight")
            if w is None or w.dtype != "int8" or len(w.shape) != 2:
                raise fail(f"{name!r} (LLM.int8() row scales) has no int8 2-D {p + '.weight'!r} beside it")
            if math.prod(t.shape) != w.shape[0]:
                raise fail(f"{_shape(t)} holds one absmax a row, but {_shape(w)} has {w.shape[0]} rows")
            if d.get("load_in_4bit") is True:
                raise fail(f"config.json's quantization_config says load_in_4bit, but {_shape(w)} is 8-bit")
            replaced[w.name] = _weight(w, math.prod(w.shape), tuple(w.shape), "bitsandbytes LLM.int8(): int8 values")
            replaced[name] = _meta(t, "row scales (SCB)", "bitsandbytes")
            kinds[name] = "scales"
            fmt_t = by_name.get(p + ".weight_format")
            if fmt_t is not None:
                replaced[fmt_t.name] = _meta(fmt_t, "weight format", "bitsandbytes")
                kinds[fmt_t.name] = "other"
            types.add("int8")
            continue
        if not (name.endswith(".absmax") and name[: -len(".absmax")] in by_name):
            continue
        wname = name[: -len(".absmax")]
        w = by_name[wname]
        state_names = [n for n in (wname + ".quant_state.bitsandbytes__nf4", wname + ".quant_state.bitsandbytes__fp4")
                       if n in by_name]
        qtype = state_names[0].rsplit("__", 1)[1] if state_names else (declared_type or "nf4")
        shape: tuple[int, ...] | None = None
        blocksize = d.get("blocksize")
        if state_names and small is not None:
            blob = small(state_names[0])
            try:
                state = json.loads(blob.rstrip(b"\0").decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
                raise fail(f"{state_names[0]!r} is not bitsandbytes' JSON quant state") from None
            if not isinstance(state, dict):
                raise fail(f"{state_names[0]!r} is not bitsandbytes' JSON quant state (not an object)")
            raw = state.get("shape")
            if (not isinstance(raw, list) or not raw or len(raw) > 8
                    or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in raw)):
                raise fail(f"{state_names[0]!r} has no valid shape ({raw!r})")
            shape = tuple(raw)
            blocksize = state.get("blocksize", blocksize)
            if state.get("quant_type") not in (None, qtype):
                raise fail(f"{state_names[0]!r} says quant_type {state.get('quant_type')!r}")
        if declared_type is not None and declared_type != qtype:
            raise fail(f"config.json's quantization_config says bnb_4bit_quant_type {declared_type!r}, but "
                       f"{wname!r} is {qtype}")
        stored = w.nbytes if w.nbytes is not None else math.prod(w.shape)
        if shape is None:
            n = stored * 2
            notes.append(f"{wname}: no quant state read; its logical elements are its {stored:,} bytes x 2")
        else:
            n = math.prod(shape)
            if (n + 1) // 2 != stored:
                raise fail(f"{_shape(w)} stores {stored:,} bytes, but the quant state's shape {list(shape)} at "
                           f"4 bits needs {(n + 1) // 2:,}")
        absmax = t
        if isinstance(blocksize, int) and not isinstance(blocksize, bool) and blocksize > 0:
            if math.prod(absmax.shape) != -(-n // blocksize):
                raise fail(f"{_shape(absmax)} holds {math.prod(absmax.shape):,} block maxima, but {n:,} values in "
                           f"blocks of {blocksize} need {-(-n // blocksize):,}")
            blocks.add(blocksize)
        has_nested = wname + ".nested_absmax" in by_name
        if isinstance(declared_dq, bool) and declared_dq != has_nested:
            raise fail(f"config.json's quantization_config says bnb_4bit_use_double_quant {declared_dq}, but "
                       f"{wname!r} has{'' if has_nested else ' no'} nested_absmax")
        nested.add(has_nested)
        types.add(qtype)
        replaced[wname] = _weight(w, n, shape if shape is not None else (n,),
                                  f"bitsandbytes {qtype}: 2 values a byte")
        for part, kind in BNB4_META.items():
            t2 = by_name.get(f"{wname}.{part}")
            if t2 is not None:
                replaced[t2.name], kinds[t2.name] = _meta(t2, kind, "bitsandbytes"), kind
        for sn in state_names:
            replaced[sn], kinds[sn] = _meta(by_name[sn], "quant state", "bitsandbytes"), "quant state"
    if not replaced:
        return None  # type: ignore[return-value]
    four = sorted(types - {"int8"})
    if four and "int8" in types:
        raise fail("holds both bitsandbytes 4-bit and 8-bit weights")
    settings: dict[str, Any] = {"bits": 8 if types == {"int8"} else 4}
    if four:
        settings["quant_type"] = four[0] if len(four) == 1 else four
        if blocks:
            settings["blocksize"] = blocks.pop() if len(blocks) == 1 else sorted(blocks)
        settings["double_quant"] = nested == {True}
        if d.get("bnb_4bit_compute_dtype"):
            settings["compute_dtype"] = str(d["bnb_4bit_compute_dtype"])
    elif "llm_int8_threshold" in d:
        settings["threshold"] = d["llm_int8_threshold"]
    return replaced, kinds, "bitsandbytes", "/".join(four) if four else "int8", settings, notes


# ----------------------------------------------------------------------------- MXFP4
def _mxfp4(by_name: dict[str, Tensor], d: dict[str, Any], fail: _Fail) -> _Found:
    """transformers ``integrations/mxfp4.py``, ``_convert_moe_packed_tensors``: blocks (..., G, B)
    and scales (..., G) dequantize to (..., G * B * 2), then dims 1 and 2 swap (gpt-oss experts)."""
    replaced: dict[str, Tensor] = {}
    kinds: dict[str, str] = {}
    for name, bl in by_name.items():
        if not name.endswith("_blocks"):
            continue
        sc = by_name.get(name[: -len("_blocks")] + "_scales")
        if sc is None:
            continue
        if bl.dtype != "uint8" or sc.dtype not in ("uint8", "float8_e8m0fnu"):
            raise fail(f"{_shape(bl)}, {_shape(sc)}: MXFP4 blocks and scales are uint8")
        if len(bl.shape) < 2 or tuple(bl.shape[:-1]) != tuple(sc.shape):
            raise fail(f"{_shape(bl)} does not match {_shape(sc)}: one scale a block")
        if bl.shape[-1] != 16:
            raise fail(f"{_shape(bl)} has {bl.shape[-1]}-byte blocks: an MXFP4 block is 32 fp4 values in 16 bytes "
                       f"(a truncated block)")
        *prefix, g, b = bl.shape
        n = math.prod(bl.shape) * 2
        logical = (prefix[0], g * b * 2, *prefix[1:]) if len(prefix) >= 2 else (*prefix, g * b * 2)
        replaced[name] = _weight(bl, n, tuple(logical), "MXFP4: 32 fp4 (e2m1) values in 16 bytes, one e8m0 scale")
        replaced[sc.name], kinds[sc.name] = _meta(sc, "scales", "MXFP4"), "scales"
    if not replaced:
        return None  # type: ignore[return-value]
    return replaced, kinds, "mxfp4", "", {"bits": 4, "group_size": 32}, []


# ----------------------------------------------------------------------------- compressed-tensors
def _ct_weights_args(d: dict[str, Any]) -> dict[str, Any]:
    groups = d.get("config_groups") or {}
    for g in groups.values() if isinstance(groups, dict) else ():
        if isinstance(g, dict) and isinstance(g.get("weights"), dict):
            return g["weights"]
    return {}


def _compressed_tensors(by_name: dict[str, Tensor], d: dict[str, Any], small: Small | None, fail: _Fail) -> _Found:
    args = _ct_weights_args(d)
    bits = args.get("num_bits")
    if bits is not None and (isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 32):
        raise fail(f"config.json's quantization_config has num_bits {bits!r}")
    replaced: dict[str, Tensor] = {}
    kinds: dict[str, str] = {}
    notes: list[str] = []
    seen_bits: set[int] = set()
    for name, w in by_name.items():
        if name.endswith(".weight_packed"):
            p = name[: -len(".weight_packed")]
            shape_t = by_name.get(p + ".weight_shape")
            if w.dtype == "int32":
                if bits is None:
                    raise fail(f"{name!r} is packed, but config.json's quantization_config gives no num_bits")
                b = bits
            elif w.dtype == "uint8":  # nvfp4 / mxfp4 pack-quantized: two 4-bit values a byte
                b = 4
            else:
                raise fail(f"{_shape(w)}: compressed-tensors packs into int32 (or uint8 for fp4)")
            if len(w.shape) < 1:
                raise fail(f"{_shape(w)} is a scalar")
            logical: tuple[int, ...] | None = None
            if shape_t is not None and small is not None:
                raw = small(shape_t.name)
                width = {"int64": 8, "int32": 4}.get(shape_t.dtype)
                if width is None or len(raw) % width:
                    raise fail(f"{_shape(shape_t)} is not an integer shape")
                logical = tuple(int.from_bytes(raw[i:i + width], "little", signed=True)
                                for i in range(0, len(raw), width))
                if len(logical) != len(w.shape) or any(x < 0 for x in logical):
                    raise fail(f"{shape_t.name!r} holds {list(logical)}, not a shape for {_shape(w)}")
            if logical is None:
                per = 32 // b if w.dtype == "int32" else 2
                logical = (*w.shape[:-1], w.shape[-1] * per)
                notes.append(f"{p}: no weight_shape read; its inputs are its packed columns x {per}")
            in_f = logical[-1]
            if w.dtype == "int32":
                fits = {-(-in_f * b // 32), -(-in_f // (32 // b)) if b <= 32 else 0}
            else:
                fits = {-(-in_f // 2)}
            if tuple(logical[:-1]) != tuple(w.shape[:-1]) or w.shape[-1] not in fits:
                raise fail(f"config.json's quantization_config says num_bits {b}, but {_shape(w)} does not pack "
                           f"the weight shape {list(logical)} at {b} bits")
            seen_bits.add(b)
            replaced[name] = _weight(w, math.prod(logical), logical, f"compressed-tensors pack-quantized {b}-bit")
        elif name.endswith(".weight") and (name[:-len("weight")] + "weight_scale") in by_name and w.dtype in INT_BITS:
            b = INT_BITS[w.dtype]
            if bits is not None and bits > b:
                raise fail(f"config.json's quantization_config says num_bits {bits}, but {_shape(w)} holds "
                           f"{b}-bit values")
            seen_bits.add(bits if bits is not None else b)
            replaced[name] = _weight(w, math.prod(w.shape), tuple(w.shape),
                                     f"compressed-tensors {bits if bits is not None else b}-bit in {w.dtype}")
        else:
            continue
        p = name.rsplit(".", 1)[0] + "."
        for part, kind in CT_META.items():
            t = by_name.get(p + part)
            if t is not None:
                replaced[t.name], kinds[t.name] = _meta(t, kind, "compressed-tensors"), kind
    if not replaced:
        return None  # type: ignore[return-value]
    settings: dict[str, Any] = {"bits": seen_bits.pop() if len(seen_bits) == 1 else sorted(seen_bits)}
    for key, out in (("type", "type"), ("strategy", "strategy"), ("group_size", "group_size"),
                     ("symmetric", "symmetric"), ("block_structure", "block_structure"), ("actorder", "act_order")):
        if args.get(key) is not None:
            settings[out] = args[key]
    return replaced, kinds, "compressed-tensors", str(d.get("format") or ""), settings, notes


# ----------------------------------------------------------------------------- fp8 with block scales
def _fp8(by_name: dict[str, Tensor], d: dict[str, Any], method: str, fail: _Fail) -> _Found:
    """DeepSeek-V3's layout, as transformers' ``FineGrainedFP8`` reads it: ``weight`` float8
    ``(out, in)`` and ``weight_scale_inv`` ``(ceil(out / b0), ceil(in / b1))``; fbgemm's
    ``weight_scale`` ``(out, 1)``."""
    block = d.get("weight_block_size")
    if block is not None and (not isinstance(block, list) or len(block) != 2
                              or not all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in block)):
        raise fail(f"config.json's quantization_config has weight_block_size {block!r}, not two positive integers")
    replaced: dict[str, Tensor] = {}
    kinds: dict[str, str] = {}
    for name, w in by_name.items():
        if not name.endswith(".weight"):
            continue
        sc = by_name.get(name + "_scale_inv") or by_name.get(name + "_scale")
        if sc is None:
            continue
        if not w.dtype.startswith("float8"):
            raise fail(f"{_shape(w)} has a scale {sc.name!r} beside it, but is not float8")
        if block is not None and sc.name.endswith("_scale_inv") and len(w.shape) == 2:
            want = (-(-w.shape[0] // block[0]), -(-w.shape[1] // block[1]))
            if tuple(sc.shape) != want:
                raise fail(f"config.json's quantization_config says weight_block_size {block}, but {_shape(sc)} "
                           f"is not the {want} blocks of {_shape(w)}")
        replaced[name] = _weight(w, math.prod(w.shape), tuple(w.shape), f"fp8 ({w.dtype})")
        replaced[sc.name], kinds[sc.name] = _meta(sc, "scales", "fp8"), "scales"
        inp = by_name.get(name[: -len("weight")] + "input_scale")
        if inp is not None:
            replaced[inp.name], kinds[inp.name] = _meta(inp, "activation scales", "fp8"), "activation scales"
    if not replaced:
        return None  # type: ignore[return-value]
    settings: dict[str, Any] = {"bits": 8}
    if block is not None:
        settings["weight_block_size"] = list(block)
    for key in ("fmt", "activation_scheme"):
        if d.get(key) is not None:
            settings[key] = d[key]
    return replaced, kinds, "fp8", "block" if block is not None else "", settings, []
