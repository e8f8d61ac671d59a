"""The adapter protocol: build a kind from its variables, then read the built object.

An adapter never computes a count from a config. ``build`` turns the canonical variables
into the framework's own constructor arguments (one visible translation per builder) and
returns the built object; ``read`` lists its tensors through the framework's own APIs.
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Mapping

from paramspec.errors import NotApplicable
from paramspec.reading import Reading


class Built:
    """A built object plus a short description of what was built, for reports."""

    def __init__(self, obj: Any, description: str, extra: Any = None):
        self.obj = obj
        self.description = description
        self.extra = extra  # e.g. the abstract variables of a Flax linen module


class Adapter:
    """Base class. Subclasses set ``framework`` and define ``build_<Kind>`` methods."""

    framework: str = ""

    def __init__(self, target: str):
        self.target = target
        # Benchmarks only (bench/scale.py): build with real weights instead of abstractly.
        self.materialize = False

    def version(self) -> str:  # pragma: no cover - every adapter overrides it
        raise NotImplementedError

    def build(self, kind: str, values: Mapping[str, Any]) -> Built:
        """Build ``kind`` from resolved spec variables.

        Raises:
            NotApplicable: the framework has no such layer or option.
        """
        builder = getattr(self, f"build_{kind}", None)
        if builder is None:
            raise NotApplicable(f"the {self.framework} adapter has no builder for {kind}")
        return builder(SimpleNamespace(**values))

    def read(self, built: Built) -> Reading:  # pragma: no cover - every adapter overrides it
        raise NotImplementedError

    def count(self, kind: str, values: Mapping[str, Any]) -> Reading:
        return self.read(self.build(kind, values))


def ints(x: Any) -> tuple[int, ...]:
    """A kernel size or shape as a tuple of ints."""
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)
