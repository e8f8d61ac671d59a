"""The published figures (each family's ``published`` entries: torchvision's ``num_params`` and
``_ops``, Hugging Face's counts, keras.applications' ``count_params()``), split by where they
are asserted: on a spec case that builds that very preset (test_conformance, which builds and
reads every case in every target anyway), or on a build of their own (test_models,
test_compute) where no case does."""
from __future__ import annotations

from functools import cache

from paramspec.configs import resolve_case
from paramspec.kinds import Published
from paramspec.loader import load_spec


@cache
def on_cases() -> dict[str, tuple[Published, ...]]:
    """case id -> the published figures about that case: those of a preset whose case (its
    values, input sizes included) is the spec case's. A model card's rounded totals
    (``gparams``) are held by formula elsewhere (tests/test_hf_configs.py)."""
    spec = load_spec()
    by_values = {(c.kind.name, repr(sorted(c.values.items()))): c.id for c in spec.cases() if c.kind.group == "models"}
    out: dict[str, list[Published]] = {}
    for kind in spec.kinds.values():
        for pub in kind.published:
            if pub.gparams:
                continue
            case = resolve_case({"model": kind.name, "preset": pub.preset}, spec, "published")
            found = by_values.get((kind.name, repr(sorted(case.values.items()))))
            if found:
                out.setdefault(found, []).append(pub)
    return {k: tuple(v) for k, v in out.items()}


def on_a_case(pub: Published) -> bool:
    return any(pub in pubs for pubs in on_cases().values())
