"""Runners for the PyTorch counting tools: each builds the case with the torch adapter (real
CPU tensors, which the initializers fill with zeros: the tools read shapes; eval mode;
``freeze`` sets ``requires_grad=False`` on the named submodules), makes a real input (token
ids within the vocabulary, else standard normal values), and calls the tool as its README shows.

The true counts the spec's formulas cannot know are read from the module itself, not from the
tool: ``root`` (the root module's own parameters, ``recurse=False``) and ``frozen``.
"""
from __future__ import annotations

import contextlib
import copy
import importlib.metadata
from typing import Any

import torch
from torch import nn

from paramspec.frameworks import adapter
from paramspec.tools import Tool, ToolRun

from . import attempt


def version(tool: Tool) -> str:
    try:
        return f"{tool.package} {importlib.metadata.version(tool.package)}"
    except importlib.metadata.PackageNotFoundError:
        return f"{tool.package} (not installed)"


def prepare(case, freeze: tuple[str, ...]) -> tuple[nn.Module, tuple, Any, dict[str, int]]:
    """The module (real CPU tensors, zero-filled; eval mode; ``freeze`` applied), its real
    inputs, the build, and the true counts the spec cannot know (``root``, ``frozen``)."""
    from ..torch_adapter import zero_init

    with zero_init():  # the tools read shapes, not values: no random draws (adapters/torch_adapter.py)
        built = adapter("torch").build(case.kind.name, case.values, case.inputs(), materialize=True)
    module: nn.Module = built.module.eval()
    for name in freeze:
        module.get_submodule(name).requires_grad_(False)
    g = torch.Generator().manual_seed(0)
    vocab = min([int(case.values[k]) for k in ("vocab_size", "num_embeddings", "type_vocab_size")
                 if k in case.values] or [2])
    xs = tuple(torch.randint(0, vocab, i.shape, generator=g) if "int" in i.dtype
               else torch.randn(i.shape, generator=g, dtype=getattr(torch, i.dtype)) for i in built.inputs)
    seen: set[int] = set()
    frozen = 0
    for p in module.parameters():  # each tensor once
        if id(p) not in seen and not p.requires_grad:
            frozen += p.numel()
        seen.add(id(p))
    root = sum(p.numel() for p in module.parameters(recurse=False))
    return module, xs, built, {"root": root, "frozen": frozen}


def _start(tool: Tool, case, freeze) -> tuple[ToolRun, nn.Module, tuple, Any]:
    module, xs, built, truth = prepare(case, freeze)
    run = ToolRun(truth=truth, call=tool.api)
    if freeze:
        run.extra["freeze"] = list(freeze)
    return run, module, xs, built


@contextlib.contextmanager
def torch_restored():
    """Put back every attribute of ``torch``, ``torch.nn.functional`` and ``torch.Tensor``
    after the tool ran. thop, ptflops and calflops patch them while they count; when one
    raises, some leave their patches in place, and every later count in the process goes
    through them (calflops then counts a model 25 times over). Each case is graded alone."""
    import torch.nn.functional as F

    saved = [(ns, dict(vars(ns))) for ns in (torch, F)] + [(torch.Tensor, dict(vars(torch.Tensor)))]
    try:
        yield
    finally:
        for ns, before in saved:
            for name, value in before.items():
                if vars(ns).get(name) is not value:
                    try:
                        setattr(ns, name, value)
                    except (AttributeError, TypeError):
                        pass


def _attempt(run: ToolRun, call) -> Any:
    with torch_restored():
        return attempt(run, call)


def _single(xs: tuple) -> Any:
    return xs[0] if len(xs) == 1 else xs


# ------------------------------------------------------------------ the tools
def torchinfo(tool: Tool, case, freeze=()) -> ToolRun:
    import torchinfo as ti

    run, module, xs, built = _start(tool, case, freeze)
    s = _attempt(run, lambda: ti.summary(module, input_data=list(xs), verbose=0, **built.call_kwargs))
    if s is not None:
        run.figures = {"params": int(s.total_params), "compute": int(s.total_mult_adds)}
        run.extra["trainable"] = int(s.trainable_params)
    return run


def thop(tool: Tool, case, freeze=()) -> ToolRun:
    import thop as th

    run, module, xs, built = _start(tool, case, freeze)
    # thop adds total_ops/total_params buffers to the model it profiles: give it a copy
    out = _attempt(run, lambda: th.profile(copy.deepcopy(module), inputs=xs))
    if out is not None:
        macs, params = out
        run.figures = {"params": int(params), "compute": int(macs)}
    return run


def ptflops(tool: Tool, case, freeze=()) -> ToolRun:
    from ptflops import get_model_complexity_info

    run, module, xs, built = _start(tool, case, freeze)
    if len(xs) != 1:
        run.error = f"takes one input tensor (input_res or an input_constructor's tensor); this case has {len(xs)}"
        return run
    out = _attempt(run, lambda: get_model_complexity_info(
        copy.deepcopy(module), tuple(xs[0].shape[1:]), input_constructor=lambda _res: xs[0], as_strings=False,
        print_per_layer_stat=False))
    if out is not None:
        macs, params = out
        if macs is None and params is None and not run.error:  # it catches the exception and returns None
            run.error = "returned (None, None): " + (run.printed.strip().splitlines() or ["no message"])[-1][:300]
        else:
            run.figures = {"params": None if params is None else int(params),
                           "compute": None if macs is None else int(macs)}
    return run


def fvcore(tool: Tool, case, freeze=()) -> ToolRun:
    from fvcore.nn import FlopCountAnalysis, parameter_count

    run, module, xs, built = _start(tool, case, freeze)

    def go():
        fca = FlopCountAnalysis(module, _single(xs))
        total = fca.total()
        return total, dict(fca.unsupported_ops()), sorted(fca.uncalled_modules()), parameter_count(module)[""]

    out = _attempt(run, go)
    if out is not None:
        total, unsupported, uncalled, params = out
        run.figures = {"params": int(params), "compute": int(total)}
        if unsupported:
            run.extra["unsupported_ops"] = unsupported
        if uncalled:
            run.extra["uncalled_modules"] = uncalled
    return run


def calflops(tool: Tool, case, freeze=()) -> ToolRun:
    """Two calls: the forward's figures, then ``include_backPropagation=True`` (its training
    figure: the forward's MACs times ``1 + compute_bp_factor``, at its default 2.0)."""
    from calflops import calculate_flops

    run, module, xs, built = _start(tool, case, freeze)
    out = _attempt(run, lambda: calculate_flops(model=copy.deepcopy(module), args=list(xs), print_results=False,
                                               output_as_string=False))
    if out is not None:
        flops, macs, params = out
        run.figures = {"params": int(params), "compute": int(macs)}
        run.extra["flops"] = int(flops)
        step = _attempt(run, lambda: calculate_flops(model=copy.deepcopy(module), args=list(xs), print_results=False,
                                                    output_as_string=False, include_backPropagation=True,
                                                    compute_bp_factor=2.0))
        if step is not None:
            step_flops, step_macs, _ = step
            run.figures["training"] = int(step_macs)
            run.extra["training flops"] = int(step_flops)
    return run


def flop_counter(tool: Tool, case, freeze=()) -> ToolRun:
    from torch.utils.flop_counter import FlopCounterMode

    run, module, xs, built = _start(tool, case, freeze)

    def go():
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            built.invoke(module, xs)
        return counter.get_total_flops()

    total = _attempt(run, go)
    if total is not None:
        run.figures = {"compute": int(total)}
    return run


HF_CLASSES = {"bert": ("BertConfig", "BertModel"), "gpt2": ("GPT2Config", "GPT2LMHeadModel"),
              "llama": ("LlamaConfig", "LlamaForCausalLM")}


def hf_num_parameters(tool: Tool, case, freeze=()) -> ToolRun:
    """transformers' own model for the case's config (on the meta device): ``num_parameters()``.
    The family's variables are the config's keys (spec/models/transformers.yaml ``hf``).

    Then its training figure: ``Trainer(model, TrainingArguments(use_cpu=True)).floating_point_ops(
    {main_input_name: ids})`` on the case's token ids (transformers 5 keeps it on the Trainer:
    ``6 * ids.numel() * num_parameters(exclude_embeddings=True)``). The Trainer moves the model
    to the CPU, which a meta model cannot take: it gets uninitialized memory of its shapes
    (``to_empty``, no initializer runs) and its tied weights tied again (``to_empty`` gives each
    module a tensor of its own)."""
    import transformers

    run = ToolRun(call=tool.api)
    mapping = next((m for m in case.kind.hf if m.model_type in HF_CLASSES), None)
    if mapping is None:
        run.error = f"{case.kind.name} is not a Hugging Face architecture this runner builds"
        return run
    config_cls, model_cls = HF_CLASSES[mapping.model_type]
    keys = {k for k in mapping.defaults if k in case.values and case.values[k] is not None}
    model = None

    def go():
        nonlocal model
        config = getattr(transformers, config_cls)(**{k: case.values[k] for k in keys})
        with torch.device("meta"):
            model = getattr(transformers, model_cls)(config)
        for name in freeze:
            model.get_submodule(name).requires_grad_(False)
        run.truth = {"root": sum(p.numel() for p in model.parameters(recurse=False)),
                     "frozen": sum(p.numel() for p in model.parameters() if not p.requires_grad)}
        return model.num_parameters()

    n = _attempt(run, go)
    if n is None:
        return run
    run.figures = {"params": int(n)}
    ids = next((i for i in case.inputs() if "int" in i.dtype), None)
    if ids is None:
        run.extra["training"] = "no token ids in the case's input: floating_point_ops reads input_ids"
        return run
    trainer = _hf_trainer(run, model, n)
    if trainer is None:
        return run
    x = torch.zeros(ids.shape, dtype=torch.long)
    name = getattr(model, "main_input_name", "input_ids")
    flops = _attempt(run, lambda: trainer.floating_point_ops({name: x}))
    if flops is not None:
        run.figures["training"] = int(flops)
        run.extra["non-embedding parameters"] = int(model.num_parameters(exclude_embeddings=True))
    return run


def _hf_trainer(run: ToolRun, model, params: int):
    """A real ``transformers.Trainer`` of ``model`` on the CPU (its arguments write nothing:
    no reports, a temporary output folder). What building it warns is not the tool's count's:
    it goes to ``run.extra``, not ``run.warnings``."""
    import tempfile

    import transformers

    setup = ToolRun()

    def build():
        m = model.to_empty(device="cpu")
        m.tie_weights()
        if m.num_parameters() != params:  # the tie did not come back: the figure would be another model's
            raise RuntimeError(f"to_empty + tie_weights gives {m.num_parameters():,} parameters, not {params:,}")
        with tempfile.TemporaryDirectory(prefix="paramspec-hf-") as folder:
            args = transformers.TrainingArguments(output_dir=folder, report_to=[], use_cpu=True)
            return transformers.Trainer(model=m, args=args)

    trainer = _attempt(setup, build)
    if trainer is None:
        run.error = f"while building the Trainer: {setup.error}"
    elif setup.warnings:
        run.extra["trainer warnings"] = setup.warnings[:5]
    return trainer


def deepspeed(tool: Tool, case, freeze=()) -> ToolRun:
    """DeepSpeed's flops profiler as a standalone package: ``get_model_profile`` on the case's
    input (one warm-up call, then the profiled one). DeepSpeed picks its accelerator when first
    asked, and logs a warning that it fell back to the CPU: that is asked before the tool runs,
    so it is not taken for a warning about the count."""
    from deepspeed.accelerator import get_accelerator
    from deepspeed.profiling.flops_profiler import get_model_profile

    get_accelerator()
    run, module, xs, built = _start(tool, case, freeze)
    out = _attempt(run, lambda: get_model_profile(copy.deepcopy(module), args=list(xs), kwargs=dict(built.call_kwargs),
                                                  print_profile=False, detailed=False, as_string=False))
    if out is not None:
        flops, macs, params = out
        run.figures = {"params": int(params), "compute": int(macs)}
        run.extra["flops"] = int(flops)
    return run
