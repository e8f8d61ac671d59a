"""Fuzz every surface that takes outside input, and hold each input to paramspec's contract.

Usage:
    python bench/fuzz.py N [--seed S] [--surface NAME ...]   N inputs per surface
    python bench/fuzz.py --write-seeds                         rewrite tests/fuzz_seeds/ (needs every library)

The contract, for every input: it returns a result or raises a ``ParamspecError``; the CLI
prints one line, never a traceback, and exits 0-3 (never 4, the internal-error code); nothing
takes over 2 s of CPU (process time, so that a busy machine does not fail an input); the
inputs add less than 1 GB to the process's peak RSS, whatever a header claims.

Inputs are mutations of valid ones: the seed files in ``tests/fuzz_seeds/`` were each written by
the format's own library (safetensors, torch.save, flax.serialization, Keras, gguf, onnx); the
YAML and JSON seeds are the spec's own files. A byte mutation flips bits, truncates, inserts
bytes, or writes an extreme integer (0, -1, 2**31, 2**63-1, 2**64-1) over 1, 2, 4 or 8 bytes,
which lands on length and offset fields as often as anywhere. Structured inputs (formulas,
configs, argv) are drawn by hypothesis in tests/test_fuzz.py, and here by a seeded generator
of the same grammar. Printed per surface: inputs, failures, the slowest input, peak RSS.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import resource
import shutil
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SEEDS = ROOT / "tests" / "fuzz_seeds"
SECONDS, RSS_BYTES = 2.0, 2**30
EXTREMES = [0, 1, 0x7F, 0xFF, 2**31 - 1, 2**31, 2**32 - 1, 2**63 - 1, 2**64 - 1]
FILE_SEEDS = ["s.safetensors", "sharded/model.safetensors.index.json", "t.pt", "m.msgpack", "k.weights.h5", "k.keras",
              "g.gguf", "o.onnx", "shapes.json",
              # quantized files (a seed in a folder is mutated beside its folder's config.json)
              "gptq/model.safetensors", "awq/model.safetensors", "bnb-nf4/model.safetensors",
              "bnb-int8/model.safetensors", "ct-w4a16/model.safetensors", "ct-fp8/model.safetensors",
              "mxfp4/model.safetensors", "fp8-block/model.safetensors", "q.gguf", "nbits.onnx", "qdq.onnx",
              # a quantized folder's declarations, mutated as text, the folder counted
              "gptq/config.json", "gptq/quantize_config.json", "awq/config.json", "bnb-nf4/config.json",
              "ct-w4a16/config.json", "fp8-block/config.json", "mxfp4/config.json"]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to four byte-level mutations of ``data``."""
    d = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        if not d:
            d += bytes([rng.randrange(256)])
        elif op < 0.35:  # bit flip
            i = rng.randrange(len(d))
            d[i] ^= 1 << rng.randrange(8)
        elif op < 0.5:  # truncation
            del d[rng.randrange(len(d)):]
        elif op < 0.65:  # inserted bytes
            i = rng.randrange(len(d) + 1)
            d[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        else:  # an extreme integer over a field
            width = rng.choice([1, 2, 4, 8])
            value = rng.choice(EXTREMES) % (1 << (8 * width))
            i = rng.randrange(max(1, len(d) - width + 1))
            d[i:i + width] = value.to_bytes(width, rng.choice(["little", "big"]))
    return bytes(d)


def mutate_text(text: str, rng: random.Random) -> str:
    """A line-level or character-level mutation of YAML/JSON text, or a byte mutation of it."""
    lines = text.splitlines()
    op = rng.random()
    if op < 0.25 and lines:
        del lines[rng.randrange(len(lines))]
    elif op < 0.45 and lines:
        i = rng.randrange(len(lines))
        lines.insert(rng.randrange(len(lines) + 1), lines[i])
    elif op < 0.7 and lines:  # a number replaced by an extreme one, or by something else
        i = rng.randrange(len(lines))
        words = lines[i].split(" ")
        j = rng.randrange(len(words))
        words[j] = rng.choice(["-1", "0", str(2**63), str(2**200), "1e308", "nan", "null", "[]", "{}", "'x'", "*a",
                               "&a", "!!python/object:os.system", "~", "true", ":", "- ", "'", "{"])
        lines[i] = " ".join(words)
    else:
        return mutate(text.encode(), rng).decode("utf-8", "replace")
    return "\n".join(lines)


# ------------------------------------------------------------------ structured inputs
TOKENS = ["a", "b", "n", "x", "in_features", "out_features", "1", "0", "2", "10**9", "2**64", "-", "+", "*", "/", "//",
          "%", "**", "(", ")", "[", "]", ",", "if", "else", "for", "in", "range(", "sum(", "prod(", "max(", "min(",
          "len(", "f32(", "make_divisible(", "lambda", "__import__", ".", "'s'", "==", "<", "not", "and", "or", "1.5",
          "99999999999999999999", "9" * 600]


def random_formula(rng: random.Random) -> str:
    return " ".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 12)))


# `validate` is left out: it checks the whole spec deeply (seconds by design), whatever its argv
ARGV_WORDS = ["count", "kinds", "conventions", "report", "--spec", "-f", "--framework", "formula", "torch",
              "nope", "--json", "-", "--markdown", "--depth", "0", "-3", "--flops", "--input", "seq_len=2", "batch=x",
              "--hf-config", "/nonexistent.json", "{kind: Linear, in_features: 3, out_features: 2}", "{kind: Nope}",
              "{model: llama, preset: Llama-3.1-405B}", "--record-dir", "/nonexistent", "[1, 2", "{kind: LSTM}",
              "{kind: Linear, in_features: 99999999999999999999999, out_features: 2}", "--help-not", "''"]


def random_argv(rng: random.Random) -> list[str]:
    argv = [rng.choice(["count", "kinds", "conventions", "report", "count"])]
    argv += [rng.choice(ARGV_WORDS) for _ in range(rng.randint(0, 6))]
    if argv[0] == "count" and rng.random() < 0.7:  # mostly formula counts: no framework needed
        argv += ["-f", "formula"]
    return argv


_DECODER = ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
            "num_key_value_heads", "head_dim", "tie_word_embeddings", "attention_bias"]
_MOE = ["num_experts", "num_experts_per_tok", "moe_intermediate_size", "decoder_sparse_step", "mlp_only_layers"]
HF_KEYS = {"gpt2": ["vocab_size", "n_positions", "n_embd", "n_layer", "n_head", "n_inner", "tie_word_embeddings",
                    "hidden_size", "num_attention_heads", "add_cross_attention"],
           "llama": _DECODER + ["mlp_bias"],
           "bert": ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                    "add_cross_attention", "is_decoder"],
           "roberta": ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                       "max_position_embeddings", "type_vocab_size"],
           "mistral": _DECODER, "qwen2": _DECODER, "qwen3": _DECODER, "phi3": _DECODER, "olmo2": _DECODER,
           "gemma": _DECODER, "gemma2": _DECODER, "gemma3_text": _DECODER,
           "mixtral": _DECODER + ["num_local_experts", "num_experts", "num_experts_per_tok"],
           "qwen2_moe": _DECODER + _MOE + ["shared_expert_intermediate_size", "qkv_bias"],
           "qwen3_moe": _DECODER + _MOE + ["num_local_experts"],
           "deepseek_v3": _DECODER + ["n_routed_experts", "num_local_experts", "num_experts_per_tok", "n_shared_experts",
                                      "moe_intermediate_size", "first_k_dense_replace", "q_lora_rank", "kv_lora_rank",
                                      "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim", "num_nextn_predict_layers"],
           "gpt_neox": _DECODER + ["use_parallel_residual"],
           "falcon": ["vocab_size", "hidden_size", "n_embed", "num_hidden_layers", "num_attention_heads", "num_kv_heads",
                      "multi_query", "new_decoder_architecture", "parallel_attn", "num_ln_in_parallel_attn", "bias",
                      "ffn_hidden_size", "tie_word_embeddings"],
           "t5": ["vocab_size", "d_model", "hidden_size", "d_kv", "head_dim", "d_ff", "num_layers", "num_hidden_layers",
                  "num_decoder_layers", "num_heads", "relative_attention_num_buckets", "feed_forward_proj",
                  "tie_word_embeddings"],
           "vit": ["hidden_size", "num_hidden_layers", "num_attention_heads", "head_dim", "intermediate_size", "image_size",
                   "patch_size", "num_channels", "qkv_bias", "pooler_output_size"]}
VALUES = [0, 1, -1, 2, 3, 7, 64, 2**31, 2**62, 4611686018427387904, 2**64, 10**30, None, True, "12", 1.5, [], {}, "x"]


def random_hf_config(rng: random.Random) -> dict:
    model_type = rng.choice([*HF_KEYS, "nope", None, 3])
    cfg = {"model_type": model_type}
    for key in rng.sample(HF_KEYS.get(model_type, HF_KEYS["llama"]), rng.randint(0, 4)):
        cfg[key] = rng.choice(VALUES)
    return cfg


# ------------------------------------------------------------------ surfaces
@dataclass
class Result:
    inputs: int = 0
    failures: list[str] = field(default_factory=list)
    slowest: tuple[float, str] = (0.0, "")


def _expected(e: BaseException) -> bool:
    from paramspec.errors import ParamspecError

    return isinstance(e, ParamspecError)


def surfaces(work: Path) -> dict[str, Callable[[random.Random], tuple[str, Callable[[], object]]]]:
    """Each surface: ``draw(rng) -> (description, call)``."""
    from paramspec import count_file
    from paramspec.configs import resolve_case
    from paramspec.formula import parse
    from paramspec.run import formula_record

    spec_dir = ROOT / "spec"
    dense = (spec_dir / "layers" / "dense.yaml").read_text()
    course = (spec_dir / "courses" / "ch4_models.yaml").read_text()

    def formula(rng):
        text = random_formula(rng) if rng.random() < 0.6 else mutate_text(rng.choice(FORMULAS), rng)
        env = {n: rng.choice([0, 1, 3, 2**40, -2, (2, 3)]) for n in ("a", "b", "n", "x", "in_features", "out_features")}
        return text, lambda: parse(text).evaluate(env)

    def spec_yaml(rng):
        text = mutate_text(dense, rng)
        root = work / f"spec-{rng.randrange(10**9)}"

        def call():
            shutil.copytree(spec_dir, root, ignore=shutil.ignore_patterns("courses"))
            (root / "layers" / "dense.yaml").write_text(text, encoding="utf-8")
            try:
                from paramspec.loader import load_spec_files

                return load_spec_files(root, deep=False)
            finally:
                shutil.rmtree(root, ignore_errors=True)
        return "dense.yaml mutated", call

    def course_file(rng):
        text = mutate_text(course, rng)
        path = work / "course.yaml"

        def call():
            from paramspec.audit import load_course

            path.write_text(text, encoding="utf-8")
            return load_course(path)
        return text[:60], call

    def hf_config(rng):
        cfg = random_hf_config(rng)
        return json.dumps(cfg)[:200], lambda: formula_record(resolve_case({"hf_config": cfg}))

    def config(rng):
        cfg = rng.choice([{"kind": "Linear", "in_features": rng.choice(VALUES), "out_features": 3},
                          {"kind": "Conv2d", "in_channels": 3, "out_channels": rng.choice(VALUES),
                           "kernel_size": rng.choice([3, [3, 3], 0, -1, [1, 2, 3], "x"]),
                           "padding": rng.choice([0, "same", "valid", "full", -1, [1, 1]])},
                          {"model": "resnet", "preset": rng.choice(["resnet50", "nope", 3])},
                          {"kind": rng.choice(["LSTM", "Nope", None, 3]), "hidden_size": rng.choice(VALUES)}])
        return json.dumps(cfg, default=str)[:200], lambda: formula_record(resolve_case(cfg), True)

    def file_surface(name):
        seed = SEEDS / name
        data = seed.read_bytes()

        declaration = name.endswith("config.json") and "/" in name  # counted through its folder

        def draw(rng):
            mutated = mutate_text(data.decode(), rng).encode() if declaration else mutate(data, rng)
            if "/" in name:  # beside its folder's other files (a sharded index's shards, a config.json), unmutated
                folder = work / name.replace("/", "--")
                if not folder.exists():
                    shutil.copytree(seed.parent, folder)
                path = folder / seed.name
            else:
                path = work / name
            target = path.parent if declaration else path
            return f"{name} mutated", lambda: (path.write_bytes(mutated), count_file(target))[1]
        draw.warm = lambda: count_file(seed.parent if declaration else seed)  # the seed: the whole path, every import
        return draw

    def argv(rng):
        args = random_argv(rng)

        def call():
            from paramspec.cli import main

            out, err = io.StringIO(), io.StringIO()
            with redirect_stdout(out), redirect_stderr(err), contextlib.chdir(work):  # `--json batch=x` writes a file
                code = main(args)
            lines = [ln for ln in err.getvalue().splitlines() if ln.strip()]
            if code not in (0, 1, 2, 3) or "Traceback" in err.getvalue() or (code == 2 and len(lines) != 1):
                raise AssertionError(f"exit {code}: {err.getvalue().strip()[:300]}")
            return code
        return " ".join(args)[:200], call

    def build(rng):
        """A config of a kind with a ``tensors`` bound, the variables of that bound drawn past the
        build limit (a list's elements: an mlp's widths stay under it), counted in a framework target (the first installed one, else torch: then
        a config under the limit ends in FrameworkUnavailable, which is a ParamspecError too)."""
        from paramspec import count
        from paramspec.frameworks import installed_targets
        from paramspec.loader import load_spec

        spec = load_spec()
        kind = rng.choice([k for k in spec.kinds.values() if k.tensors is not None])
        case = rng.choice(kind.cases)
        cfg = dict(case.config())
        for name in sorted(kind.tensors.names & set(kind.variables)):  # past the limit, far past it
            big = rng.choice([spec.build_limit.tensors, 10**9, 2**62])
            cfg[name] = [big] * len(cfg[name]) if isinstance(cfg[name], list) else big
        where = (installed_targets() or ["torch"])[0]
        return f"{where}: {json.dumps(cfg, default=str)[:180]}", lambda: count(cfg, framework=where)

    def build_warm():  # the framework's import, untimed
        from paramspec import count
        from paramspec.frameworks import installed_targets

        count({"kind": "Linear", "in_features": 2, "out_features": 2}, framework=(installed_targets() or ["torch"])[0])
    build.warm = build_warm

    out = {"formula": formula, "spec-yaml": spec_yaml, "course": course_file, "hf-config": hf_config,
           "config": config, "argv": argv, "build": build}
    for name in FILE_SEEDS:
        if (SEEDS / name).exists():
            out["file:" + name] = file_surface(name)
    return out


FORMULAS = ["out_features * in_features + out_features * bias", "prod(kernel_size) * in_channels",
            "sum(layers[i] * 2 ** i for i in range(len(layers)))", "make_divisible(32 * 0.75, 8)",
            "f32(2 * macs) if groups > 1 else 0"]


def run(n: int, seed: int = 0, only: list[str] | None = None, out=sys.stdout) -> dict[str, Result]:
    results = {}
    # the peak RSS the process had before: in a test process that imported frameworks it is high
    # already, and what the fuzz inputs add to the peak is what they are held to
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with tempfile.TemporaryDirectory(prefix="paramspec-fuzz-") as tmp:
        for name, draw in surfaces(Path(tmp)).items():
            if only and name not in only:
                continue
            try:  # one untimed input first: it imports the surface's library (TensorFlow: seconds)
                (getattr(draw, "warm", None) or draw(random.Random("warm-up"))[1])()
            except Exception:  # noqa: BLE001 - judged below, with the timed inputs
                pass
            rng = random.Random(f"{seed}:{name}")
            res = Result()
            for _ in range(n):
                desc, call = draw(rng)
                t0 = time.process_time()  # CPU seconds: a busy machine does not make an input slow
                try:
                    call()
                except Exception as e:  # noqa: BLE001 - the point: anything but a ParamspecError is a failure
                    if not _expected(e):
                        res.failures.append(f"{desc}: {type(e).__name__}: {str(e)[:200]}")
                seconds = time.process_time() - t0
                if seconds > SECONDS:
                    res.failures.append(f"{desc}: took {seconds:.1f} s of CPU")
                if seconds > res.slowest[0]:
                    res.slowest = (seconds, desc)
                res.inputs += 1
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            if rss - base > RSS_BYTES:
                res.failures.append(f"peak RSS {rss / 2**20:.0f} MiB, {(rss - base) / 2**20:.0f} MiB over the "
                                    f"{base / 2**20:.0f} MiB the process had before")
            results[name] = res
            print(f"{name:<40} {res.inputs:>7} inputs {len(res.failures):>4} failures  slowest "
                  f"{res.slowest[0] * 1000:7.1f} ms CPU  peak RSS {rss / 2**20:6.0f} MiB", file=out)
            for f in res.failures[:5]:
                print(f"    {f}", file=out)
    return results


def write_seeds() -> None:
    """Valid files, each written by its format's own library (run once, with every library)."""
    import numpy as np
    import torch
    from safetensors.torch import save_file

    SEEDS.mkdir(parents=True, exist_ok=True)
    lin = torch.nn.Linear(16, 4)
    sd = {k: v.detach().clone() for k, v in lin.state_dict().items()}
    save_file(sd, str(SEEDS / "s.safetensors"))
    shards = SEEDS / "sharded"
    shards.mkdir(exist_ok=True)
    save_file({"weight": sd["weight"]}, str(shards / "model-00001-of-00002.safetensors"))
    save_file({"bias": sd["bias"]}, str(shards / "model-00002-of-00002.safetensors"))
    (shards / "model.safetensors.index.json").write_text(json.dumps({
        "metadata": {"total_size": 16 * 4 * 4 + 16},
        "weight_map": {"weight": "model-00001-of-00002.safetensors", "bias": "model-00002-of-00002.safetensors"}}))
    torch.save(sd, SEEDS / "t.pt")
    from flax import serialization

    (SEEDS / "m.msgpack").write_bytes(serialization.to_bytes(
        {"params": {"dense": {"kernel": np.zeros((16, 4), np.float32), "bias": np.zeros((4,), np.float32)}},
         "batch_stats": {"bn": {"mean": np.zeros((4,), np.float32), "var": np.ones((4,), np.float32)}}}))
    import keras

    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(4), keras.layers.BatchNormalization()])
    model.save_weights(SEEDS / "k.weights.h5")
    model.save(SEEDS / "k.keras")
    import gguf

    w = gguf.GGUFWriter(str(SEEDS / "g.gguf"), "llama")
    w.add_tensor("token_embd.weight", np.zeros((8, 4), np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    init = numpy_helper.from_array(np.zeros((16, 4), np.float32), "W")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [init])
    onnx.save(helper.make_model(graph), str(SEEDS / "o.onnx"))
    (SEEDS / "shapes.json").write_text(json.dumps([{"name": "w", "shape": [16, 4], "dtype": "float32"},
                                                   {"name": "b", "shape": [4]}]))
    write_quantized_seeds()
    print(f"wrote {SEEDS}")


def write_quantized_seeds() -> None:
    """Quantized files, each written by its library where it runs on CPU, else laid out as
    tests/test_quantized.py lays it out (GPTQ, AWQ, MXFP4: the same helpers, sources cited
    there): a one-layer Llama, a GGUF of three quant types, ONNX MatMulNBits and QDQ."""
    import numpy as np
    import torch
    from safetensors.torch import save_file
    from transformers import BitsAndBytesConfig, LlamaConfig, LlamaForCausalLM

    sys.path.insert(0, str(ROOT / "tests"))
    import test_quantized as tq

    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=64, intermediate_size=128, num_hidden_layers=1,
                                         num_attention_heads=2, num_key_value_heads=1,
                                         max_position_embeddings=16)).eval()
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        for name, kw in (("bnb-nf4", dict(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True)),
                         ("bnb-int8", dict(load_in_8bit=True))):
            q = LlamaForCausalLM.from_pretrained(tmp, quantization_config=BitsAndBytesConfig(**kw), device_map="cpu")
            q.save_pretrained(SEEDS / name)
            for extra in (SEEDS / name).iterdir():
                if extra.name not in ("model.safetensors", "config.json"):
                    extra.unlink()
    linears = {n: m for n, m in model.named_modules() if isinstance(m, torch.nn.Linear) and n != "lm_head"}
    qc = {"bits": 4, "group_size": 32, "desc_act": True, "sym": False, "quant_method": "gptq"}
    tq.save_layout(SEEDS / "gptq", model, {n: tq.gptq_pack(m.weight.detach(), 4, 32, torch.arange(
        m.in_features) // 32) for n, m in linears.items()}, qc, {"gptq_bits": "4", "gptq_group_size": "32"})
    (SEEDS / "gptq" / "quantize_config.json").write_text(json.dumps(qc))
    tq.save_layout(SEEDS / "awq", model, {n: tq.awq_pack(m.weight.detach(), 32, "gemm") for n, m in linears.items()},
                   {"quant_method": "awq", "zero_point": True, "group_size": 32, "bits": 4, "version": "gemm"})
    from compressed_tensors.compressors import ModelCompressor
    from compressed_tensors.quantization import QuantizationConfig, apply_quantization_config, preset_name_to_scheme

    for name, preset in (("ct-w4a16", "W4A16_ASYM"), ("ct-fp8", "FP8")):
        m = LlamaForCausalLM(model.config)
        m.load_state_dict(model.state_dict())
        scheme = preset_name_to_scheme(preset, ["Linear"])
        if scheme.weights.group_size:
            scheme.weights.group_size = 32  # the seed's layers are 64 wide
        apply_quantization_config(m, QuantizationConfig(config_groups={"g": scheme}, ignore=["lm_head"]),
                                  show_progress=False)
        for mod in m.modules():  # scales by the weights' range (llm-compressor's observers are not needed)
            if hasattr(mod, "weight_scale"):
                mod.weight_scale.data.fill_(float(mod.weight.abs().max()) / 7)
        comp = ModelCompressor.from_pretrained_model(m)
        comp.compress_model(m)
        m.save_pretrained(SEEDS / name)
        comp.update_config(SEEDS / name)
        for extra in (SEEDS / name).iterdir():
            if extra.name not in ("model.safetensors", "config.json"):
                extra.unlink()
    from transformers import FineGrainedFP8Config
    from transformers.integrations.finegrained_fp8 import Fp8Quantize
    from types import SimpleNamespace

    fp8 = FineGrainedFP8Config(weight_block_size=[32, 32])
    op = Fp8Quantize(SimpleNamespace(quantization_config=fp8))
    cfg = {**fp8.to_dict(), "quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic"}
    tq.save_layout(SEEDS / "fp8-block", model, {n: {k.rsplit(".", 1)[1]: v for k, v in op.convert(
        {n + ".weight": m.weight.detach()}).items()} for n, m in linears.items()}, cfg)
    (SEEDS / "mxfp4").mkdir(exist_ok=True)  # gpt-oss experts: blocks (E, rows, G, 16), scales (E, rows, G)
    codes = torch.randint(0, 256, (2, 8, 2, 16), dtype=torch.uint8)
    save_file({"model.layers.0.mlp.experts.down_proj_blocks": codes,
               "model.layers.0.mlp.experts.down_proj_scales": torch.full((2, 8, 2), 120, dtype=torch.uint8),
               "model.layers.0.mlp.experts.down_proj_bias": torch.zeros(2, 8, dtype=torch.bfloat16)},
              str(SEEDS / "mxfp4" / "model.safetensors"))
    (SEEDS / "mxfp4" / "config.json").write_text(json.dumps({"model_type": "gpt_oss",
                                                            "quantization_config": {"quant_method": "mxfp4"}}))
    import gguf

    rng = np.random.default_rng(0)
    tq.gguf_file(SEEDS / "q.gguf", {"blk.0.q4_0.weight": (rng.standard_normal((2, 64)).astype(np.float32),
                                                          gguf.GGMLQuantizationType.Q4_0),
                                    "blk.0.q8_0.weight": (rng.standard_normal((2, 32)).astype(np.float32),
                                                          gguf.GGMLQuantizationType.Q8_0),
                                    "blk.0.q4_k.weight": (rng.standard_normal((1, 256)).astype(np.float32),
                                                          gguf.GGMLQuantizationType.Q4_K)})
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from onnxruntime.quantization import matmul_nbits_quantizer as mnq
    from onnxruntime.quantization.quant_utils import QuantFormat

    w = rng.standard_normal((32, 8)).astype(np.float32)
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"], name="fc")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 32])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])],
                              [numpy_helper.from_array(w, "W")])
    base = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    for name, fmt in (("nbits.onnx", QuantFormat.QOperator), ("qdq.onnx", QuantFormat.QDQ)):
        quant = mnq.MatMulNBitsQuantizer(onnx.ModelProto.FromString(base.SerializeToString()),
                                         algo_config=mnq.DefaultWeightOnlyQuantConfig(block_size=16, is_symmetric=False,
                                                                                      quant_format=fmt))
        quant.process()
        quant.model.save_model_to_file(str(SEEDS / name))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("n", nargs="?", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--surface", action="append")
    p.add_argument("--write-seeds", action="store_true")
    p.add_argument("--write-quantized-seeds", action="store_true",
                   help="write only the quantized seeds (needs torch, transformers, bitsandbytes, "
                        "compressed-tensors, gguf, onnx, onnxruntime)")
    args = p.parse_args(argv)
    if args.write_seeds:
        write_seeds()
        return 0
    if args.write_quantized_seeds:
        SEEDS.mkdir(parents=True, exist_ok=True)
        write_quantized_seeds()
        return 0
    from common import machine  # noqa: E402 - bench/common.py

    print(f"machine: {machine()}")
    t0 = time.perf_counter()
    results = run(args.n, args.seed, args.surface)
    total = sum(r.inputs for r in results.values())
    failures = sum(len(r.failures) for r in results.values())
    print(f"{total:,} inputs over {len(results)} surfaces, {failures} failures, {time.perf_counter() - t0:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
