"""The documented rules a file reader applies where a file marks nothing itself.

State by name. A tensor is state when its last name component is one of ``STATE_NAMES``
(BatchNorm running statistics in torch, Keras and Flax spellings; torch's
``num_batches_tracked``; Hugging Face's index buffers; rotary ``inv_freq``; attention
masks saved as ``attn.bias``/``masked_bias`` by old GPT-2 checkpoints).

Ties by name. Hugging Face ties an LM head to the input embedding when the model's
config.json says ``tie_word_embeddings`` (default true for gpt2, false for llama,
mistral and qwen2); ``HF_TIED`` lists the names it ties. A file that stores both names
with equal shapes counts the pair once.

Packing. Sub-byte dtypes (``int4``, ``uint4``, ``float4``; GGUF's quantized blocks) give
their logical element count. Quantized checkpoints (GPTQ, AWQ, bitsandbytes, MXFP4,
compressed-tensors, fp8 with block scales, ONNX MatMulNBits and QDQ) are recognized by
:mod:`paramspec.files.quantized` and :mod:`paramspec.files.onnx_quant`: each quantized weight
gives its logical elements, and the quantization metadata (scales, zero points, ``g_idx``...)
none.
"""
from __future__ import annotations

import re

from ..dtypes import DTYPE_BYTES, dtype_name, nbytes  # noqa: F401 - the readers' dtype table

# safetensors dtype codes -> names
SAFETENSORS_DTYPES = {
    "F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
    "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2", "F8_E8M0": "float8_e8m0fnu",
    "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8",
    "U64": "uint64", "U32": "uint32", "U16": "uint16", "U8": "uint8", "BOOL": "bool",
    "C64": "complex64", "F4": "float4_e2m1fn",
}

STATE_NAMES = frozenset({
    "running_mean", "running_var", "num_batches_tracked",        # torch BatchNorm / InstanceNorm
    "moving_mean", "moving_variance",                             # Keras BatchNormalization
    "position_ids", "token_type_ids", "inv_freq",                 # Hugging Face index buffers, rotary
    "masked_bias",                                                # old GPT-2 checkpoints
})
_GPT2_MASK = re.compile(r"(^|[./])attn[./]bias$")  # GPT-2's causal mask buffer, not a learned bias

HF_TIED = {  # head name -> the embedding names it is tied to
    "lm_head.weight": ("model.embed_tokens.weight", "transformer.wte.weight", "embed_tokens.weight",
                       "wte.weight", "model.decoder.embed_tokens.weight"),
    "cls.predictions.decoder.weight": ("bert.embeddings.word_embeddings.weight",),
}
HF_TIE_DEFAULT = {"gpt2": True, "bert": True}  # model_types whose config class defaults to tying


def state_reason(name: str) -> str:
    """Why a tensor is state by name, or '' when it is not."""
    leaf = re.split(r"[./]", name)[-1]
    if leaf in STATE_NAMES:
        return f"name rule: {leaf}"
    if _GPT2_MASK.search(name):
        return "name rule: GPT-2's attn.bias causal mask"
    return ""
