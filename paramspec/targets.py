"""The frameworks paramspec runs against, and how to get an adapter for one.

A *target* is a framework plus the backend where that matters: ``keras`` runs Keras 3 on
TensorFlow and ``keras-jax`` runs the same adapter with ``KERAS_BACKEND=jax``. Records,
report columns and test ids use target names; conventions in the spec use framework ids.
"""
from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field

from ._layout import import_adapter_module
from .errors import FrameworkUnavailable, SpecError


@dataclass(frozen=True)
class Target:
    name: str
    framework: str
    module: str  # paramspec.adapters.<module>
    needs: tuple[str, ...]  # importable top-level packages
    env: dict[str, str] = field(default_factory=dict)


TARGETS: dict[str, Target] = {
    t.name: t for t in (
        Target("torch", "torch", "torch_adapter", ("torch",)),
        Target("keras", "keras", "keras_adapter", ("keras", "tensorflow"), {"KERAS_BACKEND": "tensorflow"}),
        Target("keras-jax", "keras", "keras_adapter", ("keras", "jax"), {"KERAS_BACKEND": "jax"}),
        Target("flax-linen", "flax-linen", "flax_linen_adapter", ("flax", "jax")),
        Target("flax-nnx", "flax-nnx", "flax_nnx_adapter", ("flax", "jax")),
    )
}


def target(name: str) -> Target:
    if name not in TARGETS:
        raise SpecError(f"unknown framework {name!r} (known: {', '.join(TARGETS)})")
    return TARGETS[name]


def installed(name: str) -> bool:
    """Whether the packages a target needs are importable (without importing them)."""
    return all(importlib.util.find_spec(p) is not None for p in target(name).needs)


def installed_targets() -> list[str]:
    return [n for n in TARGETS if installed(n)]


def current_keras_target() -> str:
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    return "keras-jax" if backend == "jax" else "keras"


_ADAPTERS: dict[str, object] = {}


def adapter(name: str):
    """The adapter for a target, created once per process.

    ``keras`` and ``keras-jax`` share one adapter class; the backend is fixed when Keras is
    first imported, so asking for the other one afterwards is an error.
    """
    t = target(name)
    if name in _ADAPTERS:
        return _ADAPTERS[name]
    if not installed(name):
        raise FrameworkUnavailable(f"{name} is not installed (needs {', '.join(t.needs)})")
    if t.framework == "keras":
        want = t.env["KERAS_BACKEND"]
        import sys
        if "keras" in sys.modules:
            have = sys.modules["keras"].backend.backend()
            if have != want:
                raise FrameworkUnavailable(
                    f"{name} needs KERAS_BACKEND={want}, but Keras is already running on {have} in this process")
        else:
            os.environ["KERAS_BACKEND"] = want
    module = import_adapter_module(t.module)
    _ADAPTERS[name] = module.ADAPTER_CLASS(name)
    return _ADAPTERS[name]
