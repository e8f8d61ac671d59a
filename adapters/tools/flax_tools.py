"""Runners for Flax's own summaries, ``flax.linen.tabulate`` and ``flax.nnx.tabulate``, both
with ``compute_flops=True`` and ``compute_vjp_flops=True``: the table's ``Total Parameters``
line, its per-collection totals (linen's ``params`` / ``batch_stats`` columns, nnx's ``Param``
/ ``BatchStat``), and the ``flops`` and ``vjp_flops`` of its root row (the root module's call:
the whole forward pass, as XLA's cost analysis of ``jax.jit(apply).lower(...)`` counts it, and
what Flax documents as its backward pass: XLA's cost analysis of ``jax.vjp`` of that call,
pulled back with its own output; spec/tools.yaml says what that counts).

Each builds the case with its adapter and calls the tool on zero inputs of the build's shapes
and dtypes (channels-last). linen's tabulate takes the module and an rng key and runs
``init`` itself under ``jax.eval_shape``, so the abstract build is all it needs. nnx's takes
the model object and jits its methods with its variables as arguments, which must be arrays:
the abstract build (``nnx.eval_shape``: ``ShapeDtypeStruct`` values) gets a zero array of each
variable's shape and dtype, and is put in eval mode (BatchNorm on its running statistics,
Dropout off), as the adapter measures it. Neither framework has a notion of freezing a
submodule's parameters, so a case with ``freeze`` is an error.

The true counts the spec cannot know, ``root`` (the root module's own parameters, not its
submodules') and ``bias_params`` (the elements of the parameters named ``bias``, whose gradient XLA
sums over the positions), are read from the variables themselves.
"""
from __future__ import annotations

import contextlib
import inspect
import re
from typing import Any, Iterator

import flax
import jax
import jax.numpy as jnp

from paramspec.frameworks import adapter
from paramspec.tools import Tool, ToolRun

from . import attempt

# A wide console without colour: no column is wrapped, no ANSI codes (console_kwargs is the
# documented way to size the table; the figures do not depend on it).
CONSOLE = {"width": 10_000, "force_terminal": False, "color_system": None}
_TOTAL = re.compile(r"Total Parameters:[ \t]*([\d,]*)")
_NUMBER = re.compile(r"^\s*([\d,]+)")
NOT_COLLECTIONS = ("path", "module", "type", "inputs", "outputs", "flops", "vjp_flops")


def version(tool: Tool) -> str:
    return f"flax {flax.__version__} (jax {jax.__version__})"


# ------------------------------------------------------------------ the table
def parse_table(text: str) -> dict[str, Any]:
    """What a Flax summary table says: ``total`` (its ``Total Parameters`` line: 0 when the
    line has no number, which tabulate prints for a module without variables), ``totals``
    (each collection's footer total), ``root_flops`` and ``root_vjp_flops`` (the ``flops`` and
    ``vjp_flops`` cells of the first row when its path is empty, the root module's; None
    without the column), ``columns``."""
    lines = [ln.rstrip() for ln in text.splitlines()]
    header = next((ln for ln in lines if ln.lstrip().startswith("┃")), None)
    if header is None:
        raise ValueError("no table header in the summary")
    columns = [c.strip() for c in header.strip().strip("┃").split("┃")]
    body: list[list[list[str]]] = []  # rows (the last one is the footer), each a list of lines of cells
    started = False
    for ln in lines:
        s = ln.lstrip()
        if s.startswith("┡"):
            started, body = True, [[]]
        elif started and s.startswith("├"):
            body.append([])
        elif started and s.startswith("└"):
            break
        elif started and s.startswith("│"):
            body[-1].append([c.strip() for c in s.strip().strip("│").split("│")])
    m = _TOTAL.search(text)
    out: dict[str, Any] = {"columns": columns, "total": None if m is None else int(m.group(1).replace(",", "") or 0),
                           "totals": {}, "root_flops": None, "root_vjp_flops": None}
    if not body:
        return out
    footer, rows = body[-1], body[:-1]
    for i, name in enumerate(columns):
        if name in NOT_COLLECTIONS or not footer:
            continue
        cell = footer[0][i] if i < len(footer[0]) else ""
        n = _NUMBER.match(cell)
        out["totals"][name] = int(n.group(1).replace(",", "")) if n else 0  # an empty total is 0
    for column, key in (("flops", "root_flops"), ("vjp_flops", "root_vjp_flops")):
        if column in columns and rows and rows[0]:
            first = rows[0][0]
            cell = first[columns.index(column)]
            if first[0] == "" and _NUMBER.match(cell):
                out[key] = int(cell.replace(",", ""))
    return out


def _fill(run: ToolRun, text: str | None) -> ToolRun:
    """The figures of a tabulate table into ``run``."""
    if text is None:
        return run
    run.printed = (run.printed + text)[:4000]
    try:
        t = parse_table(text)
    except ValueError as e:
        run.error = f"ValueError: {e}"
        return run
    if t["total"] is None:
        run.error = "tabulate printed no 'Total Parameters' line"
        return run
    run.figures = {"params": t["total"], "compute": t["root_flops"], "training": t["root_vjp_flops"]}
    run.extra.update({f"total {k}": v for k, v in sorted(t["totals"].items())})
    return run


def _zeros(inputs) -> tuple:
    return tuple(jnp.zeros(i.shape, jnp.dtype(i.dtype)) for i in inputs)


def _refuse_freeze(run: ToolRun, freeze) -> bool:
    if freeze:
        run.extra["freeze"] = list(freeze)
        run.error = f"Flax has no frozen parameters to set: cannot freeze {', '.join(freeze)}"
        return True
    return False


def _name(key: Any) -> str:
    """The name in a pytree path's key (a dict key, an attribute, an index)."""
    for attr in ("key", "name", "idx"):
        if hasattr(key, attr):
            return str(getattr(key, attr))
    return str(key)


# ------------------------------------------------------------------ linen
def linen_tabulate(tool: Tool, case, freeze=()) -> ToolRun:
    import flax.linen as nn

    run = ToolRun(call=tool.api)
    if _refuse_freeze(run, freeze):
        return run
    built = adapter("flax-linen").build(case.kind.name, case.values, case.inputs())
    params = built.variables.get("params", {}) if built.variables else {}
    run.truth = {"root": sum(int(x.size) for x in params.values() if hasattr(x, "size")),
                 "bias_params": sum(int(x.size) for path, x in jax.tree_util.tree_leaves_with_path(params)
                             if _name(path[-1]) == "bias")}
    xs = _zeros(built.inputs)
    text = attempt(run, lambda: built.invoke(
        nn.tabulate(built.module, jax.random.key(0), compute_flops=True, compute_vjp_flops=True,
                    console_kwargs=CONSOLE), xs))
    return _fill(run, text)


# ------------------------------------------------------------------ nnx
def concrete(model: Any) -> Any:
    """An abstract nnx build made real: a zero array in each variable, of its shape and dtype."""
    from flax import nnx

    for _, node in nnx.iter_graph(model):
        if isinstance(node, nnx.Variable):
            x = node.get_value()
            if isinstance(x, jax.ShapeDtypeStruct):
                node.set_value(jnp.zeros(x.shape, x.dtype))
    return model


@contextlib.contextmanager
def methods_restored(model: Any) -> Iterator[None]:
    """Put back the methods ``nnx.tabulate`` replaces on every class in the model's graph.

    It swaps each class's public methods and ``__call__`` for recording wrappers and swaps
    them back only when it succeeds: after a failure the wrappers stay, and every later
    tabulate of a model with one of those classes fails (a ``KeyError`` on an old object id).
    """
    from flax import nnx

    missing = object()
    types = {type(node) for _, node in nnx.iter_graph(model)}
    saved = {(t, name): t.__dict__.get(name, missing) for t in types
             for name, _ in inspect.getmembers(t, inspect.isfunction) if not name.startswith("_") or name == "__call__"}
    try:
        yield
    finally:
        for (t, name), f in saved.items():
            if f is missing:
                if name in t.__dict__:
                    delattr(t, name)
            elif t.__dict__.get(name) is not f:
                setattr(t, name, f)


def _call_rngs(model: Any) -> dict[str, Any]:
    """``rngs=`` for the call when the model holds an ``nnx.RNN`` built without rngs (the
    adapter's, so that no RngState is counted) and its call takes them (an RNN,
    Bidirectional or Sequential): nnx's RNN needs a key to make its initial carry."""
    from flax import nnx

    needs = any(isinstance(node, nnx.RNN) and not node.rngs for _, node in nnx.iter_graph(model))
    takes = "rngs" in inspect.signature(type(model).__call__).parameters
    return {"rngs": nnx.Rngs(0)} if needs and takes else {}


def nnx_tabulate(tool: Tool, case, freeze=()) -> ToolRun:
    from flax import nnx

    run = ToolRun(call=tool.api)
    if _refuse_freeze(run, freeze):
        return run
    built = adapter("flax-nnx").build(case.kind.name, case.values, case.inputs())
    model = built.module
    node_dict = nnx.graph.get_node_impl(model).node_dict(model)
    run.truth = {"root": sum(int(v.get_value().size) for v in node_dict.values() if isinstance(v, nnx.Param)),
                 "bias_params": sum(int(v.get_value().size) for path, v in nnx.iter_graph(model)
                             if isinstance(v, nnx.Param) and path and str(path[-1]) == "bias")}
    concrete(model)
    model.eval()
    xs = _zeros(built.inputs)
    kwargs = _call_rngs(model)

    def go():
        with methods_restored(model):
            return built.invoke(lambda *a, **k: nnx.tabulate(model, *a, compute_flops=True, compute_vjp_flops=True,
                                                             console_kwargs=CONSOLE, **k, **kwargs), xs)

    return _fill(run, attempt(run, go))
