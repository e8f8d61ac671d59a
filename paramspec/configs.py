"""A user's config, as a mapping or YAML/JSON text, turned into a :class:`~paramspec.kinds.Case`.

A config is ``{"kind": "LSTM", ...}`` for a layer, ``{"model": "resnet", ...}`` (with an
optional ``"preset"``) for a model family, or ``{"hf_config": {...}}`` (a Hugging Face
``config.json``, taken as is), with input sizes beside it if wanted (``seq_len: 2048``).

Example:
    >>> resolve_case({"model": "resnet", "preset": "resnet50", "num_classes": 10}).id
    'resnet[resnet50-cls10]'
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from fractions import Fraction
from typing import Any

from . import yamlio
from .errors import FormulaError, SpecError
from .formula import Formula
from .kinds import Case, Spec
from .loader import load_spec

def parse_config(spec: Any, where: str = "spec") -> dict[str, Any]:
    """A config mapping from a mapping, or from YAML/JSON text of one."""
    if isinstance(spec, (str, bytes)):
        text = spec.decode("utf-8", "replace") if isinstance(spec, bytes) else spec
        path = Path(text.strip()) if "\n" not in text.strip() and not text.lstrip().startswith("{") else None
        if path is not None and path.is_file():  # --spec lstm.yaml: a file's path
            spec, where = yamlio.load_path(path), str(path)
        else:
            spec = yamlio.loads(text, where)
            if isinstance(spec, str):
                raise SpecError(f"takes a config as inline YAML or JSON (`{{kind: LSTM, input_size: 300, ...}}`) or a "
                                f"file's path, and {text.strip()!r} is neither (no such file)", where)
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
    kind = data.kind(config.pop(key), where, "models" if key == "model" else None)
    if (key == "model") != (kind.group == "models"):
        want = "model" if kind.group == "models" else "kind"
        raise SpecError(f"{kind.name} is a {'model family' if want == 'model' else 'layer kind'}: "
                        f"give it as {{\"{want}\": \"{kind.name}\"}}", where)
    preset = kind.preset_of(config)
    values = kind.resolve(config, f"{where}: {kind.name}")
    return Case(kind, values, kind.case_id(values, preset), preset)


def hf_case(hf: Any, data: Spec, where: str = "spec", inputs: Mapping[str, Any] | None = None) -> Case:
    """A case from a Hugging Face ``config.json`` (a mapping), read as its transformers config
    class reads it (the model_type's ``hf`` entry in the spec): each key that changes the count
    takes the config's value or the class's default, then what the class's ``__post_init__``
    derives, then the aliases of its ``attribute_map`` (an alias wins over its key, as it does in
    transformers); the family's variables are those keys, or formulas over them.

    A key that changes the architecture in a way the family does not build is refused, naming
    it. A key the entry does not name is left out with a note on the case (the record shows
    it): transformers' class reads no such key either (a torch-env test holds each entry to the
    keys the class and its modeling code read). ``inputs``: the forward pass's sizes (the
    family's input variables: ``batch``, ``seq_len``).
    """
    if not isinstance(hf, Mapping):
        raise SpecError(f"hf_config must be a mapping (a config.json), got {type(hf).__name__}", where)
    if "model_type" not in hf:
        raise SpecError("hf_config has no model_type", where)
    kind, m = data.hf_mapping(hf["model_type"], where)
    at = f"{where}: hf_config ({m.model_type})"
    given = dict(hf)
    for key, (builds, why) in m.refuse.items():
        if key in given and given[key] not in builds:
            shown = " or ".join(json.dumps(b) for b in builds)
            raise SpecError(f"{key}: {json.dumps(given[key], default=str)} is not counted: {why} "
                            f"(paramspec builds {key}: {shown})", at)
    keys = {k: given.get(k, default) for k, default in m.defaults.items()}
    for key, f in m.post_init.items():  # the config class's __post_init__, before its aliases
        keys[key] = _value(f, keys, f"{at}: post_init.{key}")
    for alias, key in m.aliases.items():
        if alias in given:
            keys[key] = given[alias]
    values: dict[str, Any] = {}
    for name, var in kind.variables.items():
        if var.input:
            continue
        if name in m.variables:
            values[name] = _value(m.variables[name], keys, f"{at}: {name}", var.type == "bool")
        elif name in keys:
            values[name] = keys[name]
    values.update(m.fixed)
    notes = [f"{key}: {text}" for key, text in m.note.items()
             if key in given or any(alias in given for alias, k in m.aliases.items() if k == key)]
    unread = sorted(str(k) for k in given if k not in m.keys)
    if unread:
        notes.append(f"not read: {', '.join(unread)} (transformers' {m.config} and {m.cls} read no such key "
                     "either; it changes nothing they build)")
    for name, value in (inputs or {}).items():
        var = kind.variables.get(name)
        if var is None or not var.input:
            known = ", ".join(n for n, v in kind.variables.items() if v.input)
            raise SpecError(f"beside hf_config, only the input sizes of {kind.name} ({known}) may be given, "
                            f"not {name!r}", where)
        values[name] = value
    resolved = kind.resolve(values, at)
    return Case(kind, resolved, kind.case_id(resolved), notes=tuple(notes))


def _value(f: Formula, keys: Mapping[str, Any], where: str, boolean: bool = False) -> Any:
    """A formula over a config's keys (an unset key reads 0, as in the spec's formulas): a whole
    number, a bool for a bool variable, or a string (a choice)."""
    env = {k: 0 if v is None else v for k, v in keys.items()}
    try:
        value = f.evaluate(env)
    except FormulaError as e:
        raise e.at(where) from None
    if isinstance(value, Fraction):  # the language's exact numbers, back to the config's own
        value = int(value) if value.denominator == 1 else float(value)
    if boolean:
        if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
            return bool(value)
        raise SpecError(f"must be true or false, got {json.dumps(value, default=str)} (`{f}`)", where)
    return value
