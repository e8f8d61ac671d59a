"""The frameworks and targets, from ``spec/frameworks.yaml`` (the one list), and their adapters.

A *framework* is what the spec's conventions name (``torch``, ``keras``, ``flax-linen``,
``flax-nnx``); a *target* is a framework run one way (``keras`` on TensorFlow, ``keras-jax``
on JAX). Records, report columns and test ids use target names. Nothing here imports a
framework: :func:`adapter` imports the target's adapter module on first use.

Example:
    >>> [t.name for t in targets().values()]
    ['torch', 'keras', 'keras-jax', 'flax-linen', 'flax-nnx']
    >>> target("keras-jax").framework
    'keras'
"""
from __future__ import annotations

import functools
import gc
import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import yamlio
from ._layout import adapters_package, import_adapter_module, spec_root
from .errors import FrameworkUnavailable, SpecError
from .compute import Counter
from .formula import Formula, parse
from .schema import schema_check

FILE = "frameworks.yaml"


@dataclass(frozen=True)
class Native:
    """A total a framework reports itself, and the formula (over ``params``, ``state``,
    ``tied``) it must equal. ``independent`` is False when it is computed from the same list
    as the per-tensor reading, so that agreement proves nothing (shown as ``=``)."""

    name: str
    api: str
    formula: Formula
    why: str = ""
    independent: bool = True
    independent_why: str = ""  # how it comes from the same list, where it is not independent


@dataclass(frozen=True)
class Target:
    """A framework run one way: its adapter module, the packages it needs, its environment."""

    name: str
    framework: str
    adapter: str  # paramspec.adapters.<adapter>, or a dotted module path
    needs: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    extra: str = ""
    counter: str | None = None  # the compute counter its measure step uses

    def installed(self) -> bool:
        """Whether every package it needs is importable (without importing it)."""
        return all(importlib.util.find_spec(p) is not None for p in self.needs)

    def imported(self) -> bool:
        """Whether every package it needs is imported already in this process."""
        return all(p in sys.modules for p in self.needs)


@dataclass(frozen=True)
class Framework:
    id: str
    name: str
    adapter: str
    tensors: str  # where the per-tensor list comes from
    native: tuple[Native, ...]
    targets: tuple[Target, ...]


def parse_counters(data: Any, where: str = f"spec/{FILE}") -> dict[str, Counter]:
    """The counters of frameworks.yaml (call after :func:`parse_frameworks` has checked the file)."""
    out: dict[str, Counter] = {}
    for c in data.get("counters") or []:
        at = f"{where}: counters.{c['id']}"
        if c["id"] in out:
            raise SpecError(f"duplicate counter {c['id']!r}", where)
        matmul = _compute_formula(c["matmul"], f"{at}.matmul", {"macs"})
        total = _compute_formula(c["total"], f"{at}.total", {"macs", "matmul"}) if "total" in c else None
        backward = (_compute_formula(c["backward"], f"{at}.backward", set(BACKWARD_NAMES)) if "backward" in c
                    else None)
        out[c["id"]] = Counter(c["id"], c["name"], tuple(c["matmul_ops"]), matmul, c["why"], total, c["api"], backward)
    return out


# What a counter's backward formula reads: the canonical MACs of the forward and backward passes.
BACKWARD_NAMES = ("macs", "backward_macs", "weight_macs", "input_macs", "first_macs")


def _compute_formula(text: str, where: str, allowed: set[str]) -> Formula:
    f = parse(text, where)
    unknown = sorted(f.names - allowed)
    if unknown:
        raise SpecError(f"unknown variable `{unknown[0]}` in `{f}` (a counter's default reads {', '.join(sorted(allowed))})",
                        where)
    return f


def parse_frameworks(data: Any, where: str = f"spec/{FILE}", remember: bool = True) -> dict[str, Framework]:
    """Check and parse the contents of frameworks.yaml (``remember``: see :func:`~paramspec.schema.schema_check`;
    the deep check of ``paramspec validate`` always checks)."""
    schema_check(data, "frameworks.schema.json", where, remember=remember)
    counter_ids = {c["id"] for c in data.get("counters") or []}
    out: dict[str, Framework] = {}
    names: set[str] = set()
    for fw in data["frameworks"]:
        if fw["id"] in out:
            raise SpecError(f"duplicate framework {fw['id']!r}", where)
        natives = tuple(
            Native(n["name"], n["api"], _native_formula(n["formula"], f"{where}: {fw['id']}.native.{n['name']}"),
                   n.get("why", ""), n.get("independent", True), n.get("independent_why", ""))
            for n in fw["native"])
        tgts = []
        for t in fw["targets"]:
            if t["name"] in names:
                raise SpecError(f"duplicate target {t['name']!r}", f"{where}: {fw['id']}.targets")
            names.add(t["name"])
            if t.get("counter") is not None and t["counter"] not in counter_ids:
                raise SpecError(f"target {t['name']!r} names an unknown counter {t['counter']!r}", where)
            tgts.append(Target(t["name"], fw["id"], fw["adapter"], tuple(t["needs"]), dict(t.get("env", {})),
                               t.get("extra", ""), t.get("counter")))
        out[fw["id"]] = Framework(fw["id"], fw["name"], fw["adapter"], fw["tensors"], natives, tuple(tgts))
    return out


def _native_formula(text: str, where: str) -> Formula:
    f = parse(text, where)
    unknown = sorted(f.names - {"params", "state", "tied"})
    if unknown:
        raise SpecError(f"unknown variable `{unknown[0]}` in `{f}` (a native formula reads params, state and tied)",
                        where)
    return f


@functools.lru_cache(maxsize=4)
def _load(root: str) -> tuple[dict[str, Framework], dict[str, Counter]]:
    data = yamlio.load_path(Path(root) / FILE)
    return parse_frameworks(data), parse_counters(data)


def frameworks(root: Path | str | None = None) -> dict[str, Framework]:
    """Every framework, in the file's order (default: the bundled spec's, or ``PARAMSPEC_SPEC_DIR``)."""
    return _load(str(Path(root) if root else spec_root()))[0]


def counters(root: Path | str | None = None) -> dict[str, Counter]:
    """Every compute counter (FlopCounterMode, XLA's cost analysis, ...), by id."""
    return _load(str(Path(root) if root else spec_root()))[1]


def targets(root: Path | str | None = None) -> dict[str, Target]:
    """Every target, in the file's order: the order of report columns and test ids."""
    return {t.name: t for fw in frameworks(root).values() for t in fw.targets}


def target(name: Any, root: Path | str | None = None) -> Target:
    """The target called ``name``.

    Raises:
        SpecError: ``unknown framework 'tf' (known: torch, keras, ...)``.
    """
    known = targets(root)
    if not isinstance(name, str) or name not in known:
        from .hints import suggest

        raise SpecError(f"unknown framework {name!r}{suggest(name, known)}; known: {', '.join(known)}")
    return known[name]


def installed_targets(root: Path | str | None = None) -> list[str]:
    return [n for n, t in targets(root).items() if t.installed()]


def order(name: str) -> int:
    """A target's place in the report's columns (unknown names last)."""
    names = list(targets())
    return names.index(name) if name in names else len(names)


def runnable_here(name: str) -> bool:
    """Installed, and wanted by this process's environment: Keras reads KERAS_BACKEND once,
    so a process runs ``keras`` or ``keras-jax``, not both."""
    t = target(name)
    return t.installed() and all(_effective(key) == want for key, want in t.env.items())


def _effective(key: str) -> str | None:
    """The value of ``key`` in this process; when unset, what the first target that sets it
    wants (frameworks.yaml lists a framework's default first: Keras runs on TensorFlow)."""
    have = os.environ.get(key)
    if have is None:
        have = next((t.env[key] for t in targets().values() if key in t.env), None)
    return have


_ADAPTERS: dict[str, Any] = {}


def adapter(name: str):
    """The adapter for a target, created once per process.

    The target's environment (``KERAS_BACKEND``) is set before its framework is imported; a
    framework already imported in this process with another setting is an error.

    Raises:
        SpecError: an unknown target. FrameworkUnavailable: not installed, or not here.
    """
    t = target(name)
    if name in _ADAPTERS:
        return _ADAPTERS[name]
    if not t.installed():
        raise FrameworkUnavailable(f"{name} is not installed (needs {', '.join(t.needs)}; "
                                   f"pip install 'paramspec[{t.extra or name}]')")
    for key, want in t.env.items():
        if _effective(key) != want and t.needs and t.needs[0] in sys.modules:
            raise FrameworkUnavailable(
                f"{name} needs {key}={want}, but {t.needs[0]} is already imported with "
                f"{key}={_effective(key)} in this process")
        os.environ[key] = want
    # TensorFlow's C++ logging (absl's "All log messages before absl::InitializeLog()", the CPU
    # feature guard) is noise in a count; a user who wants it sets the variable
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    module = _adapter_module(t.adapter)
    _ADAPTERS[name] = module.ADAPTER_CLASS(name)
    if FREEZE_AFTER_IMPORT:
        batch_collector()
    return _ADAPTERS[name]


# Set by the command line (a short process): once a framework is imported, its objects (about
# 350,000 for TensorFlow) are moved out of the cyclic collector's reach (gc.freeze), so no
# later collection walks them: the first full collection after import TensorFlow costs 0.2 s
# of a cold count otherwise. The Python API leaves the caller's collector alone.
FREEZE_AFTER_IMPORT = False


def batch_collector() -> None:
    """The cyclic garbage collector of a process that builds and traces models and exits (the
    command line, its children, the test processes): what exists now is frozen out of its
    generations (``gc.freeze``), and a young collection waits for 10,000 new objects, not 700.
    Tracing a model makes and drops millions of small objects (jaxprs, tracers, TensorFlow's
    ops), most of them freed young by reference counting. Over linen's 229 spec cases the
    collector took 3.0-3.2 s with Python's defaults and 0.3-0.5 s with these, and the loop
    44.5 s against 36.8 s (2026-12-07, interleaved). Cycles are still collected, less often."""
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def owner(obj: Any) -> str | None:
    """The target that reads ``obj``, a user's own built object, or None: the first whose
    adapter owns it (``Adapter.owns``), framework by framework in the file's order.

    Only a framework whose packages (a target's ``needs``) are all imported already is asked:
    an object of a framework this process has not imported cannot exist, and asking its
    adapter would import it. So this imports no framework (only adapter modules, whose
    framework imports are then already done).
    """
    for fw in frameworks().values():
        if any(t.imported() for t in fw.targets):
            name = _adapter_module(fw.adapter).ADAPTER_CLASS.owns(obj)
            if name is not None:
                return name
    return None


def _adapter_module(adapter_name: str):
    if "." in adapter_name:  # a dotted path: an adapter that lives outside paramspec.adapters
        adapters_package()  # what it builds on (paramspec.adapters.base), from a checkout too
        return importlib.import_module(adapter_name)
    return import_adapter_module(adapter_name)
