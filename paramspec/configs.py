"""A user's config, as a mapping or YAML/JSON text, turned into a :class:`~paramspec.kinds.Case`.

A config is ``{"kind": "LSTM", ...}`` for a layer, ``{"model": "resnet", ...}`` (with an
optional ``"preset"``) for a model family, or ``{"hf_config": {...}}`` (a Hugging Face
``config.json``, taken as is), with input sizes beside it if wanted (``seq_len: 2048``).

Example:
    >>> resolve_case({"model": "resnet", "preset": "resnet50", "num_classes": 10}).id
    'resnet[resnet50-cls10]'
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import yamlio
from .errors import SpecError
from .kinds import Case, Spec
from .loader import load_spec

def parse_config(spec: Any, where: str = "spec") -> dict[str, Any]:
    """A config mapping from a mapping, or from YAML/JSON text of one."""
    if isinstance(spec, (str, bytes)):
        text = spec.decode("utf-8", "replace") if isinstance(spec, bytes) else spec
        spec = yamlio.loads(text, where)
    if not isinstance(spec, Mapping):
        raise SpecError(f"must be a mapping such as {{\"kind\": \"LSTM\", ...}}, got {type(spec).__name__}", where)
    return dict(spec)


def resolve_case(spec: Any, data: Spec | None = None, where: str = "spec") -> Case:
    """Turn a user config into a :class:`Case` (validated, defaults filled, with its id).

    A config is ``{"kind": "LSTM", ...}`` for a layer, ``{"model": "resnet", ...}`` (with an
    optional ``"preset"``) for a model family, or ``{"hf_config": {...}}`` with the family's
    input sizes (``batch``, ``seq_len``) beside it.
    """
    config = parse_config(spec, where)
    data = data or load_spec()
    if "hf_config" in config:
        hf = config.pop("hf_config")
        return hf_case(hf, data, where, inputs=config)
    if "kind" in config and "model" in config:
        raise SpecError("give either 'kind' (a layer) or 'model' (a model family), not both", where)
    key = "model" if "model" in config else "kind"
    if key not in config:
        raise SpecError("missing 'kind' or 'model' (for example {\"kind\": \"LSTM\", ...})", where)
    kind = data.kind(config.pop(key), where)
    if (key == "model") != (kind.group == "models"):
        want = "model" if kind.group == "models" else "kind"
        raise SpecError(f"{kind.name} is a {'model family' if want == 'model' else 'layer kind'}: "
                        f"give it as {{\"{want}\": \"{kind.name}\"}}", where)
    preset = kind.preset_of(config)
    values = kind.resolve(config, f"{where}: {kind.name}")
    return Case(kind, values, kind.case_id(values, preset), preset)


def hf_case(hf: Any, data: Spec, where: str = "spec", inputs: Mapping[str, Any] | None = None) -> Case:
    """A case from a Hugging Face ``config.json`` (a mapping): known keys map onto the family's
    variables, missing ones take the transformers config class's default, others are ignored.
    ``inputs``: the forward pass's sizes (the family's input variables: ``batch``, ``seq_len``)."""
    if not isinstance(hf, Mapping):
        raise SpecError(f"hf_config must be a mapping (a config.json), got {type(hf).__name__}", where)
    if "model_type" not in hf:
        raise SpecError("hf_config has no model_type", where)
    kind, mapping = data.hf_mapping(hf["model_type"], where)
    values = {name: hf.get(name, default) for name, default in mapping.defaults.items()}
    values.update(mapping.fixed)
    for name, value in (inputs or {}).items():
        var = kind.variables.get(name)
        if var is None or not var.input:
            known = ", ".join(n for n, v in kind.variables.items() if v.input)
            raise SpecError(f"beside hf_config, only the input sizes of {kind.name} ({known}) may be given, "
                            f"not {name!r}", where)
        values[name] = value
    resolved = kind.resolve(values, f"{where}: hf_config ({mapping.model_type})")
    return Case(kind, resolved, kind.case_id(resolved))
