"""Which tensors make up a difference between a reading and a formula (shared by the
audit and ``assert_param_count``), and what a reading counts for a course entry.
"""
from __future__ import annotations

import itertools
import re
from typing import Any

from ..errors import NotApplicable
from ..reading import Reading
from ..record import Record


COMPUTE_COUNTS = ("macs", "flops")
# A training step's: its backward's MACs and FLOPs and its whole FLOPs (the counter's reading), and its
# memory by part (bytes: the gradients, AdamW's state in the framework's own optimizer, the activations kept)
TRAINING_COUNTS = ("backward_macs", "backward_flops", "step_flops", "gradients_bytes", "optimizer_bytes",
                   "activations_bytes")


def is_training(counts: str) -> bool:
    """Whether an entry counts a training step (:data:`TRAINING_COUNTS`)."""
    return counts in TRAINING_COUNTS


def is_compute(counts: str, counters: Any = ()) -> bool:
    """Whether an entry counts compute: ``macs``, ``flops`` or ``native:<counter>`` (a counter
    id from frameworks.yaml: ``native:flop_counter``, ``native:xla``, ``native:tf_profiler``)."""
    return counts in COMPUTE_COUNTS or (counts.startswith("native:") and counts.split(":", 1)[1] in counters)


def counted(reading: Reading | Record, counts: str, target: str) -> int:
    """What ``reading`` counts for ``counts``: params, state, total or native:<name>; for a
    measured record, macs (the counter's matmul-like flops, halved), flops (its total) or
    native:<counter> (its total, in the targets that measure with that counter); for a
    record with a training step, one of :data:`TRAINING_COUNTS`."""
    if is_training(counts):
        t = reading.training if isinstance(reading, Record) else None
        if t is None:
            raise NotApplicable(f"{target} has no training step (no counter)")
        if t.not_applicable:
            raise NotApplicable(f"{target}'s counter cannot measure the step: {t.not_applicable}")
        name = {"backward_macs": "backward", "backward_flops": "backward", "step_flops": "step",
                "gradients_bytes": "gradients", "optimizer_bytes": "optimizer", "activations_bytes": "activations"}[counts]
        q = t.quantities.get(name)
        if q is None or q.got is None:
            raise NotApplicable(f"{target} did not measure the step's {name}" + (f" ({t.error})" if t.error else ""))
        return q.got // 2 if counts == "backward_macs" else q.got
    if is_compute(counts, _counter_ids()):
        f = reading.compute if isinstance(reading, Record) else None
        if f is None:
            raise NotApplicable(f"{target} has no compute reading (no counter)")
        if f.not_applicable:
            raise NotApplicable(f"{target}'s counter cannot measure it: {f.not_applicable}")
        counter = counts.split(":", 1)[1] if counts.startswith("native:") else None
        if counter is not None and counter != f.counter:
            raise NotApplicable(f"{target} measures with {f.counter}, not {counter}")
        return f.matmul // 2 if counts == "macs" else f.measured
    if counts == "params":
        return reading.params
    if counts == "state":
        return reading.state
    if counts == "total":
        return reading.params + reading.state
    name = counts.split(":", 1)[1]
    if name not in reading.native:
        raise NotApplicable(f"{target} reports no native total {name!r}")
    return reading.native[name]


def _counter_ids() -> set[str]:
    from ..loader import load_spec

    return set(load_spec().counters)


def explain_compute(reading: Record) -> str:
    """What a counter's reading holds beyond the formula's kind of count: its recorded
    convention, and the work outside matmul-like ops, by op."""
    f = reading.compute
    parts = []
    if f.convention:
        parts.append(f"{f.counter} convention: {f.convention}")
    ops = set(f.matmul_ops)
    other = {op: n for op, n in f.by_op.items() if op not in ops and n}
    if other:
        parts.append("beyond matmul-like ops the counter reads " + ", ".join(f"{op} {n:,}" for op, n in other.items())
                     + " (at the first fitted config)")
    return "; ".join(parts)


_INDEX = re.compile(r"(?<=[./_])\d+(?=[./]|$)")
_DIGITS = re.compile(r"\d+")


def _pattern(name: str) -> str:
    """A tensor name with its layer indices starred: ``h.3.attn.bias`` -> ``h.*.attn.bias``."""
    return _INDEX.sub("*", name)


def _coarse(name: str) -> str:
    """Every digit run starred: ``blocks.0.norm1.weight`` -> ``blocks.*.norm*.weight``."""
    return _DIGITS.sub("*", name)


def explain_difference(readings: list[Reading | Record], diffs: list[Any], counts: str = "params") -> str:
    """Which tensors make up ``diffs`` (reading - formula), at every reading given.

    Candidate groups: one tensor; every tensor with one leaf name (``bias``), overall or
    under one module; name patterns with layer indices starred (``h.*.ln_1.weight``); the
    non-trainable state. It looks for one group, then sets of up to four, and says when a
    group of the same size could stand in for one it names (sizes alone cannot tell them apart).
    """
    if any(d <= 0 for d in diffs):
        return "the formula counts more than the framework holds" if all(d < 0 for d in diffs) else ""
    keep = (lambda t: t.trainable) if counts == "params" else \
        ((lambda t: not t.trainable) if counts == "state" else (lambda t: True))
    totals: list[dict[str, int]] = [{} for _ in readings]  # group label -> elements, per config
    members: dict[str, set[str]] = {}
    for i, r in enumerate(readings):
        for t in r.tensors:
            if not keep(t):
                continue
            parts = t.name.replace("/", ".").split(".")
            labels = [f"`{t.name}`", f"every `{parts[-1]}` tensor", f"`{_pattern(t.name)}`", f"`{_coarse(t.name)}`"]
            labels += [f"every `{parts[-1]}` in `{'.'.join(parts[:k])}`" for k in range(1, len(parts) - 1)]
            if not t.trainable and counts != "state":
                labels.append("the non-trainable state")
            for label in dict.fromkeys(labels):
                totals[i][label] = totals[i].get(label, 0) + t.numel
                members.setdefault(label, set()).add(_pattern(t.name))
    # a group is worth naming if it is the only name for its members
    seen: dict[frozenset, str] = {}
    for label in totals[0]:
        key = frozenset(members[label])
        if key not in seen or (len(label) < len(seen[key]) and not label.startswith("every")):
            seen[key] = label
    labels = [lab for lab in seen.values() if all(lab in tot for tot in totals)]
    fits = [lab for lab in labels if all(tot[lab] <= d for tot, d in zip(totals, diffs))]

    def same_size(combo: tuple[str, ...]) -> list[str]:
        out = []
        for lab in combo:
            for other in fits:
                if other not in combo and not (members[other] & members[lab]) \
                        and all(tot[other] == tot[lab] for tot in totals) and other.startswith("`"):
                    out.append(f"{other} could stand in for {lab}")
                    break
        return out

    def say(combo: tuple[str, ...]) -> str:
        listed = combo[0] if len(combo) == 1 else ", ".join(combo[:-1]) + f" and {combo[-1]}"
        alt = same_size(combo)
        return f"the difference is exactly {listed}" + (f" ({'; '.join(alt)}: same size)" if alt else "")

    order = sorted(fits, key=lambda lab: (not lab.startswith("the"), not lab.startswith("every"), "*" in lab,
                                          len(members[lab])))
    ones = [lab for lab in order if all(tot[lab] == d for tot, d in zip(totals, diffs))]
    if len(ones) == 1:
        return say((ones[0],))
    if ones:  # several groups of exactly that size: sizes alone cannot tell which is missing
        named = [lab for lab in ones if lab.startswith("`")] or ones
        shown = ", ".join(named[:-1]) + f" or {named[-1]}" if len(named) > 1 else named[0]
        return f"the difference ({diffs[0]:,}) is the size of {shown}: one of them (sizes alone cannot tell which)"
    pool = order[:48]
    for size in range(2, 5):
        for combo in itertools.combinations(pool, size):
            if any(members[a] & members[b] for a, b in itertools.combinations(combo, 2)):
                continue
            if all(sum(tot[lab] for lab in combo) == d for tot, d in zip(totals, diffs)):
                return say(combo)
    return ""
