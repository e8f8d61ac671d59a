"""The runner for Keras 3's own ``Model.summary()``: it builds the case with the Keras adapter
(abstractly: every variable has its shape and dtype, none is allocated), freezes the named
sublayers (``layer.trainable = False``), and reads the three totals summary prints.

``summary()`` is a method of ``keras.Model``; the adapter builds a ``keras.layers.Layer``
(a layer, or a model family as one layer), so a layer is first wrapped as Keras's guides
show, in a functional model on symbolic inputs of the case's shapes:
``keras.Model(inputs, layer(*inputs))`` (the layer is already built; the call only computes
output shapes). A build that already is a ``keras.Model`` (a ``Sequential``) is summarized as
it is. The target (``keras`` or ``keras-jax``) is the backend ``KERAS_BACKEND`` selected.

The true count the spec cannot know is read from the layer itself, not from the tool:
``frozen`` (the trainable weight elements that freezing made non-trainable). ``root`` is not
given: a Keras model's totals are over ``model.weights``, which include a layer's own, and
Keras lists a layer's sublayers only through private attributes (``MultiHeadAttention``
keeps its projections in ``_query_dense``...), so a root count from public ones would be wrong.
"""
from __future__ import annotations

import math
import re
from typing import Any

import keras

from paramspec.frameworks import adapter
from paramspec.tools import Tool, ToolRun

from . import attempt


def target_name() -> str:
    """The paramspec target of the running backend: ``keras`` (TensorFlow) or ``keras-jax``."""
    return "keras" if keras.backend.backend() == "tensorflow" else f"keras-{keras.backend.backend()}"


def version(tool: Tool) -> str:
    """``keras 3.15.1 (tensorflow 2.21.0)``: the adapter's own version string."""
    return adapter(target_name()).version()


def _elements(weights) -> int:
    """Elements of each weight once (by identity)."""
    seen: dict[int, Any] = {id(w): w for w in weights}
    return sum(math.prod(int(d) for d in w.shape) for w in seen.values())


def _children(layer: Any) -> list[tuple[str, Any]]:
    """The direct sublayers, by attribute name (a Sequential's ``layers`` by index)."""
    out: list[tuple[str, Any]] = []
    if isinstance(layer, keras.Sequential):
        out += [(str(i), x) for i, x in enumerate(layer.layers)]
    for key, value in vars(layer).items():
        if key.startswith("_"):
            continue
        items = value if isinstance(value, (list, tuple)) else [value]
        out += [(key, x) for x in items if isinstance(x, keras.layers.Layer)]
    return out


def sublayer(layer: Any, dotted: str) -> Any:
    """The sublayer at ``dotted`` (torch's ``get_submodule`` names: ``layer1``, ``layer1.0.conv1``):
    each part a direct sublayer's ``name`` (or the attribute holding it)."""
    node = layer
    for part in dotted.split("."):
        found = [x for key, x in _children(node) if x.name == part] or \
                [x for key, x in _children(node) if key == part]
        if not found:
            raise LookupError(f"{type(node).__name__} {node.name!r} has no sublayer named {part!r}")
        node = found[0]
    return node


def prepare(case, freeze: tuple[str, ...]) -> tuple[Any, Any, dict[str, int]]:
    """The built layer (abstract), with ``freeze`` applied, the build, and the true count
    the spec cannot know (``frozen``)."""
    built = adapter(target_name()).build(case.kind.name, case.values, case.inputs())
    layer = built.module
    before = _elements(layer.trainable_weights)
    for name in freeze:
        sublayer(layer, name).trainable = False
    return layer, built, {"frozen": before - _elements(layer.trainable_weights)}


def as_model(layer: Any, built) -> Any:
    """``layer`` as a ``keras.Model``: itself if it is one, else a functional model on symbolic
    inputs of the build's shapes and dtypes (``keras.Input(batch_shape=...)``)."""
    if isinstance(layer, keras.Model):
        return layer
    inputs = tuple(keras.Input(batch_shape=i.shape, dtype=i.dtype) for i in built.inputs)
    outputs = built.invoke(layer, inputs)
    return keras.Model(list(inputs) if len(inputs) > 1 else inputs[0], outputs, name=f"{layer.name}_summary")


_LINE = {key: re.compile(rf"^\s*{label}:\s*([\d,]+)", re.MULTILINE)
         for key, label in (("total", "Total params"), ("trainable", "Trainable params"),
                            ("non_trainable", "Non-trainable params"))}


def parse_summary(text: str) -> dict[str, int]:
    """The totals ``summary()`` prints: ``Total params: 11,699,112 (44.63 MB)`` and its
    trainable and non-trainable lines, as ints (the memory size after each is dropped)."""
    out = {}
    for key, pattern in _LINE.items():
        m = pattern.search(text)
        if m:
            out[key] = int(m.group(1).replace(",", ""))
    return out


def summary(tool: Tool, case, freeze=()) -> ToolRun:
    run = ToolRun(call=tool.api)
    try:
        layer, built, truth = prepare(case, tuple(freeze))
    except LookupError as e:
        run.error = f"LookupError: {e}"
        return run
    run.truth = truth
    if freeze:
        run.extra["freeze"] = list(freeze)
    wrapping = ToolRun()  # the wrapper's symbolic call is not the tool: its warnings are not the tool's
    model = attempt(wrapping, lambda: as_model(layer, built))
    if model is None:
        run.error = f"while wrapping the layer in keras.Model: {wrapping.error}"
        return run
    lines: list[str] = []
    attempt(run, lambda: model.summary(print_fn=lambda text, *a, **k: lines.append(str(text))))
    text = "\n".join(lines)
    run.printed = (run.printed + text)[:4000]
    if run.error:
        return run
    totals = parse_summary(text)
    if "total" not in totals:
        run.error = "summary() printed no 'Total params' line"
        return run
    run.figures = {"params": totals["total"], "compute": None}
    run.extra.update({k: totals[k] for k in ("trainable", "non_trainable") if k in totals})
    return run
