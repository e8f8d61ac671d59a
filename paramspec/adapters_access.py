"""Reading an object built outside paramspec through the adapters' own ``read``."""
from __future__ import annotations

from typing import Any

from .reading import Reading
from .targets import adapter


def built(target: str, obj: Any, extra: Any = None) -> Reading:
    """Read ``obj`` (built by the caller) with ``target``'s adapter."""
    from ._layout import import_adapter_module

    base = import_adapter_module("base")
    what = f"{type(obj).__name__}" if obj is not None else "variables"
    return adapter(target).read(base.Built(obj, what, extra=extra))
