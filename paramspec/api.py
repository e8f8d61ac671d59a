"""``paramspec.count``: build one config in one framework, read it, and say what the spec expects."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from . import yamlio
from .compare import Record, compare
from .errors import NotApplicable, SpecError
from .loader import Case, Spec, load_spec
from .reading import Reading, Tensor
from .targets import adapter, target


@dataclass
class CountResult:
    """What :func:`count` returns.

    Attributes:
        trainable: trainable elements the framework lists (each unique tensor once).
        non_trainable: non-trainable elements (state: running statistics and such).
        formula: the spec's values for this framework: ``params``, ``state``, the formula
            texts, the canonical values, the convention's ``why`` and the native totals.
        tensors: the per-tensor list (name, shape, dtype, trainable).
        native: the framework's own totals, verbatim (``count_params()``, ``parameters()``...).
        framework_version: for example ``torch 2.13.0+cpu``.
        agrees: whether the reading equals the formula; ``problems`` says where not.
    """

    case: str
    kind: str
    config: dict[str, Any]
    framework: str
    target: str
    framework_version: str
    built: str
    trainable: int
    non_trainable: int
    formula: dict[str, Any]
    tensors: list[Tensor]
    native: dict[str, int]
    agrees: bool
    problems: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.trainable + self.non_trainable

    def tree(self, depth: int = 1) -> list:
        """The per-module tree to ``depth`` levels (see :mod:`paramspec.tree`)."""
        from .tree import module_tree

        return module_tree(self.tensors, self.framework, depth)

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.case, "kind": self.kind, "config": self.config,
            "framework": self.framework, "target": self.target,
            "framework_version": self.framework_version, "built": self.built,
            "trainable": self.trainable, "non_trainable": self.non_trainable,
            "counts": self.counts, "formula": self.formula, "native": self.native, "agrees": self.agrees,
            "problems": self.problems, "tensors": [t.to_dict() for t in self.tensors],
        }

    @classmethod
    def _from(cls, record: Record, reading: Reading) -> "CountResult":
        return cls(record.case, record.kind, record.config, record.framework, record.target,
                   record.framework_version, record.built, reading.trainable, reading.non_trainable,
                   record.expected, list(reading.tensors), dict(reading.native),
                   record.verdict == "pass", list(record.problems), reading.named_counts())


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
    optional ``"preset"``) for a model family, or ``{"hf_config": {...}}``.
    """
    config = parse_config(spec, where)
    data = data or load_spec()
    if "hf_config" in config:
        if len(config) != 1:
            raise SpecError("hf_config takes no other keys beside it", where)
        return hf_case(config["hf_config"], data, where)
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


def hf_case(hf: Any, data: Spec, where: str = "spec") -> Case:
    """A case from a Hugging Face ``config.json`` (a mapping): known keys map onto the family's
    variables, missing ones take the transformers config class's default, others are ignored."""
    if not isinstance(hf, Mapping):
        raise SpecError(f"hf_config must be a mapping (a config.json), got {type(hf).__name__}", where)
    if "model_type" not in hf:
        raise SpecError("hf_config has no model_type", where)
    kind, mapping = data.hf_mapping(hf["model_type"], where)
    values = {name: hf.get(name, default) for name, default in mapping.defaults.items()}
    values.update(mapping.fixed)
    resolved = kind.resolve(values, f"{where}: hf_config ({mapping.model_type})")
    return Case(kind, resolved, kind.case_id(resolved))


def count(spec: Any, framework: str = "torch", where: str = "spec") -> CountResult:
    """Build a config in a framework and read its counts.

    Args:
        spec: a mapping such as ``{"kind": "LSTM", "input_size": 300, "hidden_size": 128}``,
            ``{"model": "resnet", "preset": "resnet50", "num_classes": 10}`` or
            ``{"hf_config": {...}}`` (a config.json), or YAML/JSON text of one.
        framework: ``torch``, ``keras``, ``keras-jax``, ``flax-linen`` or ``flax-nnx``.

    Raises:
        SpecError: bad input (unknown kind or variable, wrong type, malformed YAML, ...).
        NotApplicable: the framework lacks this layer or option (the reason says which).

    ``where`` names the input in error messages (a file name, for instance).

    Example:
        >>> r = count({"kind": "LSTM", "input_size": 300, "hidden_size": 128}, framework="torch")
        >>> r.trainable, r.formula["params"], r.agrees
        (220160, 220160, True)
    """
    tgt = target(framework)
    data = load_spec()
    case = resolve_case(spec, data, where)
    declared = case.not_applicable_reason(tgt.framework)
    if declared:
        raise NotApplicable(declared)
    ad = adapter(tgt.name)
    reading = ad.read(ad.build(case.kind.name, case.values))
    return CountResult._from(compare(data, case, reading), reading)


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=False, default=str)
