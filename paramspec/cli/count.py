"""``paramspec count``: one config in one framework, or one file."""
from __future__ import annotations

import argparse
import json

from ..errors import EXIT_DISAGREE, EXIT_OK, SpecError
from .common import add_exit_zero, add_outputs, positive_depth, to_stdout, write_outputs


def add_parser(sub) -> None:
    from ..frameworks import targets

    c = sub.add_parser("count", help="count one config in one framework, or a file",
                       description="Count one config in one framework (built abstractly, read, compared with the "
                                   "spec's formula), or the tensors a file declares.")
    c.add_argument("path", nargs="?", help="a file to count: shape list, safetensors (or index), .pt/.bin, "
                                           ".weights.h5/.keras, .msgpack, .gguf, .onnx, or a model folder")
    c.add_argument("--framework", "-f", metavar="TARGET",
                   help=f"one of {', '.join(targets())} (default: torch), or formula: the spec's formula "
                        "value alone, labelled as such, with no framework built or imported")
    c.add_argument("--spec", help="the config as YAML/JSON, e.g. '{kind: LSTM, input_size: 300, hidden_size: 128}' "
                                  "or '{model: resnet, preset: resnet50}'")
    c.add_argument("--hf-config", metavar="CONFIG_JSON",
                   help="a Hugging Face config.json, read as its transformers config class reads it (its model_type: "
                        "one of those docs/reference/models.md lists)")
    c.add_argument("--object", metavar="MODULE:NAME",
                   help="a model you built: a torch module, a built Keras layer or model, a linen (module, "
                        "variables) pair or an nnx module, or a function of no arguments that returns one, "
                        "importable as MODULE:NAME (the current folder is on the path)")
    c.add_argument("--input", action="append", metavar="NAME=N|SHAPE", default=[],
                   help="an input size for the forward pass, beside --spec or --hf-config (repeatable): "
                        "batch, seq_len, length, height, width or depth, e.g. --input seq_len=2048; with --object, "
                        "the input's shape in the model's own layout, e.g. --input 1x3x224x224 (token ids: "
                        "--input 1x128:int64)")
    c.add_argument("--depth", type=int, help="print the per-module tree to this depth (and add it to --json)")
    c.add_argument("--flops", action="store_true",
                   help="also run one forward pass under the target's compute counter (FlopCounterMode, XLA's cost "
                        "analysis, TensorFlow's profiler) at the config's input (the kind's default sizes unless it "
                        "gives batch, seq_len, height...): the per-op table, the totals and the spec's MACs; "
                        "implied when the config gives an input size")
    c.add_argument("--no-flops", action="store_true",
                   help="count parameters only, even where the config gives an input size (no forward pass)")
    add_exit_zero(c, "a reading disagrees with its formula")
    t = c.add_argument_group("training", "a training step: its FLOPs (forward and backward, under the target's "
                                         "counter), its memory by part, whether it fits, and how long a run takes")
    t.add_argument("--train", action="store_true",
                   help="measure one training step at the config's input (the gradient of the sum of the outputs)")
    t.add_argument("--optimizer", metavar="NAME", help="whose state the memory holds (default adamw): "
                                                       "sgd, sgd-momentum, adamw, adafactor, adam-8bit")
    t.add_argument("--precision", metavar="NAME", help="fp32 (default), bf16-mixed or fp16-mixed (fp32 master copies)")
    t.add_argument("--recompute", metavar="MODE", help="none (default), selective or full (activation recomputation)")
    t.add_argument("--input-grad", action="store_true", help="the input requires a gradient too")
    t.add_argument("--hardware", metavar="NAME", help="an accelerator of spec/training.yaml (H100-SXM, A100-80GB, "
                                                      "MI300X, TPU-v5e, ...): its memory and peak FLOPS")
    t.add_argument("--memory", type=float, metavar="GB", help="the memory to fit in, instead of the hardware's")
    t.add_argument("--mfu", type=float, help="model FLOPs utilization in (0, 1] (default: the spec's, 0.4)")
    t.add_argument("--tokens", type=float, help="a run of this many tokens (1e12): its time and accelerator-hours")
    t.add_argument("--steps", type=float, help="a run of this many steps: its time and accelerator-hours")
    t.add_argument("--step-time", type=float, metavar="SECONDS", help="a step time you measured: the MFU it implies")
    add_outputs(c, json="the record", markdown="the record")
    c.set_defaults(func=run)


TRAIN_OPTIONS = ("optimizer", "precision", "recompute", "hardware", "memory", "mfu", "tokens", "steps", "step_time")


def train_options(args: argparse.Namespace):
    """``--train`` and its options as checked TrainOptions (None without --train).

    Raises:
        SpecError: an option of --train given without it, or a value it does not take.
    """
    from ..training import TrainOptions

    given = [k for k in TRAIN_OPTIONS if getattr(args, k) is not None] + (["input_grad"] if args.input_grad else [])
    if not args.train:
        if given:
            raise SpecError(f"--{given[0].replace('_', '-')} is an option of --train")
        return None
    values = {k: getattr(args, k) for k in TRAIN_OPTIONS if getattr(args, k) is not None}
    values["memory_gb"] = values.pop("memory", None)
    return TrainOptions(**{k: v for k, v in values.items() if v is not None}, input_grad=args.input_grad).checked()


def run(args: argparse.Namespace) -> int:
    from ..render.console import count_table, file_table
    from ..run import count, count_file

    depth = positive_depth(args.depth)
    if sum(x is not None for x in (args.path, args.spec, args.hf_config, args.object)) > 1:
        raise SpecError("give a file, or --spec, or --hf-config, or --object: one of them")
    if args.object is not None:
        if args.framework is not None:
            raise SpecError("--object is read in its own framework: give no --framework")
        train = train_options(args)
        shapes, dtype = object_shapes(args.input)
        r = count(load_object(args.object), input=shapes or None, input_dtype=dtype,
                  measure=True if args.flops else (False if args.no_flops else None),
                  train=train if train is not None else False)
        inputs = []
        table = lambda: count_table(r, depth)  # noqa: E731
    elif args.path is not None:
        if args.flops or args.input or args.train:
            raise SpecError("--flops, --input and --train measure a forward pass: give --spec or --hf-config, "
                            "not a file")
        r = count_file(args.path)
        inputs = [args.path]
        table = lambda: file_table(r, depth)  # noqa: E731
    else:
        if (args.spec is None) == (args.hf_config is None):
            raise SpecError("give --spec '{kind: LSTM, input_size: 300, hidden_size: 128}' or --hf-config config.json")
        from .. import yamlio

        spec = args.spec if args.spec is not None else {"hf_config": yamlio.load_path(args.hf_config)}
        if args.input:
            from ..configs import parse_config

            spec = {**parse_config(spec), **input_sizes(args.input)}
        train = train_options(args)
        if args.no_flops and (args.flops or train is not None):
            raise SpecError("--no-flops measures nothing: it takes neither --flops nor --train")
        r = count(spec, framework=args.framework or "torch", where=args.hf_config or "spec",
                  measure=True if args.flops else (False if args.no_flops else None),
                  train=train if train is not None else False)
        inputs = [args.hf_config] if args.hf_config else []
        table = lambda: count_table(r, depth)  # noqa: E731
    write_outputs(args, {"json": lambda: json.dumps(r.to_dict(depth), indent=2, ensure_ascii=False),
                         "markdown": lambda: record_markdown(r)}, inputs)
    if not to_stdout(args):
        print(table())
    return EXIT_OK if r.agrees or args.exit_zero else EXIT_DISAGREE


def load_object(path: str):
    """``MODULE:NAME`` imported (the current folder first on the path): the object, or what a
    function of no arguments returns.

    Raises:
        SpecError: one line: not MODULE:NAME, a module that does not import (its error named), no
            such name, a function that raises or needs arguments.
    """
    import importlib
    import inspect
    import os
    import sys

    module_name, _, name = path.partition(":")
    if not module_name or not name:
        raise SpecError(f"takes MODULE:NAME (an importable module and an object or function in it), got {path!r}",
                        "--object")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as e:  # the user's module: whatever it raises is their input's error, said in one line
        first = (str(e).strip().splitlines() or [""])[0][:200]
        raise SpecError(f"cannot import {module_name}: {type(e).__name__}: {first}", "--object") from None
    if not hasattr(module, name):
        raise SpecError(f"{module_name} has no {name!r}", "--object")
    obj = getattr(module, name)
    if inspect.isfunction(obj):
        try:
            obj = obj()
        except TypeError as e:
            raise SpecError(f"{path} is a function that needs arguments: give an object, or a function of none "
                            f"({e})", "--object") from None
        except Exception as e:
            first = (str(e).strip().splitlines() or [""])[0][:200]
            raise SpecError(f"{path}() raised {type(e).__name__}: {first}", "--object") from None
    return obj


def object_shapes(items: list[str]) -> tuple[list[tuple[int, ...]], str]:
    """``--input 1x3x224x224`` (repeatable; ``:int64`` for token ids) as shapes and one dtype."""
    shapes, dtypes = [], set()
    for item in items:
        text, _, dtype = item.partition(":")
        dims = text.split("x")
        if not all(d.isdigit() and int(d) > 0 for d in dims):
            raise SpecError(f"with --object, --input takes a shape such as 1x3x224x224 (and :int64 for token ids), "
                            f"got {item!r}")
        shapes.append(tuple(int(d) for d in dims))
        dtypes.add(dtype or "float32")
    if len(dtypes) > 1:
        raise SpecError("the inputs take one dtype", "--input")
    return shapes, (dtypes.pop() if dtypes else "float32")


def input_sizes(items: list[str]) -> dict[str, int]:
    """``--input seq_len=2048`` as ``{"seq_len": 2048}``."""
    from ..compute import INPUT_NAMES

    out = {}
    for item in items:
        name, _, value = item.partition("=")
        if name not in INPUT_NAMES or not value.strip().isdigit():
            raise SpecError(f"--input takes NAME=N with NAME one of {', '.join(INPUT_NAMES)}, got {item!r}")
        out[name] = int(value)
    return out


def record_markdown(r) -> str:
    """One record as a Markdown table: each quantity, what was read, the spec's value, the formula."""
    title = r.case or r.config.get("path", "")
    out = [f"### `{title}` in {r.target} ({r.framework_version or r.source.type})", ""]
    if r.built:
        out += [f"Built: `{r.built}`", ""]
    out += ["| quantity | read | spec | | formula |", "| --- | ---: | ---: | --- | --- |"]
    for name, q in r.quantities.items():
        got = "" if q.got is None else f"{q.got:,}"
        exp = "" if q.expected is None else f"{q.expected:,}"
        out.append(f"| {name} | {got} | {exp} | {q.mark} | `{q.formula or ''}` |")
    if r.convention:
        out += ["", f"† {r.convention}"]
    out += [f"- {p}" for p in r.all_problems]
    f = r.compute
    if f is not None:
        out += ["", f"#### Compute: {f.counter_label}", ""]
        if f.not_applicable:
            out.append(f"n/a: {f.not_applicable}")
        if f.by_op:
            ops = set(f.matmul_ops)
            out += ["| op | flops | |", "| --- | ---: | --- |"]
            out += [f"| `{op}` | {n:,} | {'matmul' if op in ops else ''} |" for op, n in f.by_op.items()]
            out += [f"| total | {f.measured:,} | |", ""]
        if f.macs is not None:
            out.append(f"- MACs (canonical): {f.macs:,} (`{f.macs_formula}`); canonical flops 2 × MACs = "
                       f"{f.canonical:,}")
        out += [f"- term `{name}`: {v:,}" for name, v in f.terms.items()]
        if f.expected is not None:
            out.append(f"- the counter's formula ({f.compares}): {f.expected:,} {f.mark}")
        if f.convention:
            out.append(f"- † {f.convention}")
        out += [f"- estimate `{name}`: {e['value']:,} a token (`{e['formula']}`; {e['source']})"
                for name, e in f.estimates.items() if e.get("of", "flops") == "flops"]
    return "\n".join(out) + "\n"
