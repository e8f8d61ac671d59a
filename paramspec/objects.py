"""Reading an object built outside paramspec (a user's own layer) through the adapters' ``read``.

The object's framework is found from its type, without importing any framework that is
not already imported.

Example:
    >>> read_object(torch.nn.LSTM(300, 128)).params
    220160
"""
from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from ._layout import import_adapter_module
from .errors import SpecError
from .frameworks import adapter
from .reading import Reading


def target_of(obj: Any) -> tuple[str, Any, Any]:
    """(target, object, extra) for a built framework object; imports nothing new."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.nn.Module):
        return "torch", obj, None
    keras = sys.modules.get("keras")
    if keras is not None and isinstance(obj, keras.layers.Layer):
        if not obj.built:
            raise SpecError(f"the Keras layer {obj.name!r} is not built: call it or build(input_shape) first")
        return ("keras-jax" if keras.backend.backend() == "jax" else "keras"), obj, None
    if "flax" in sys.modules:
        from flax import linen, nnx

        if isinstance(obj, nnx.Module):
            return "flax-nnx", obj, None
        if isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[0], linen.Module):
            return "flax-linen", obj[0], _plain(obj[1])
        if isinstance(obj, Mapping) and "params" in obj:
            return "flax-linen", None, _plain(obj)
    raise SpecError(f"cannot read a {type(obj).__module__}.{type(obj).__name__}: give a torch nn.Module, a built "
                    "Keras layer, a Flax linen (module, variables) pair or an nnx.Module")


def _plain(variables: Any) -> dict:
    import flax

    return dict(flax.linen.meta.unbox(flax.core.unfreeze(variables)))


def read_object(obj: Any) -> Reading:
    """The reading of a built framework object (its tensors and native totals)."""
    target, o, extra = target_of(obj)
    base = import_adapter_module("base")
    return adapter(target).read(base.Built(o, extra=extra))
