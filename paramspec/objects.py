"""Reading an object built outside paramspec (a user's own layer) through the adapters' ``read``.

The object's target is the one whose adapter owns it (:func:`paramspec.frameworks.owner`,
which asks only the adapters of frameworks already imported), so nothing here names a
framework, and no framework that is not already imported is imported.

Example:
    >>> read_object(torch.nn.LSTM(300, 128)).params
    220160
"""
from __future__ import annotations

from typing import Any

from .errors import SpecError
from .frameworks import adapter, frameworks, owner
from .reading import Reading


def target_of(obj: Any) -> str:
    """The target whose adapter owns ``obj``, a built framework object; imports nothing new.

    Raises:
        SpecError: ``cannot read a builtins.int: ...``, for an object no imported framework owns.
    """
    name = owner(obj)
    if name is None:
        imported = [fw.name for fw in frameworks().values() if any(t.imported() for t in fw.targets)]
        raise SpecError(f"cannot read a {type(obj).__module__}.{type(obj).__name__}: no adapter of a framework "
                        f"imported here ({', '.join(imported) or 'none'}) owns it; give a built layer or module "
                        f"of {', '.join(fw.name for fw in frameworks().values())}")
    return name


def read_object(obj: Any) -> Reading:
    """The reading of a built framework object (its tensors and native totals)."""
    ad = adapter(target_of(obj))
    return ad.read(ad.adopt(obj))
