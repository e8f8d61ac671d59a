"""Every spec case in every active target: the framework's reading equals its formula.

For a framework with no recorded convention for the kind, its formula is the canonical
one, so this also asserts that the canonical formula equals the reading of every framework
that follows it. A case is n/a only where the spec records it and the adapter agrees.
The same run measures the case's forward pass under the target's compute counter and holds
it to that counter's formula (the FLOPs matrix of reports/matrix.md comes from these records),
and holds the number of tensors built to the kind's ``tensors`` bound (the build limit's).

Where a case is a preset that a figure was published for (tests/published.py: torchvision's
``num_params`` and ``_ops``, Hugging Face's counts, keras.applications' ``count_params()``,
which includes the BatchNorm moving statistics), the same reading is held to that figure too:
the reading and the formula equal it, and so does the framework's own total it names.
"""
import pytest
from published import on_cases

from paramspec.frameworks import target
from paramspec.record import NA, PASS
from paramspec.run import run_case

pytestmark = pytest.mark.framework


def test_case(case, target_name, spec, record):
    rec = run_case(spec, case, target_name, measure=True, breakdown=False)
    record(rec)
    assert rec.verdict in (PASS, NA), rec.explain()
    bound = case.tensor_bound()  # what the build limit reads, an upper bound in every target
    assert bound is None or rec.verdict == NA or len(rec.tensors) <= bound, (len(rec.tensors), bound)
    framework = target(target_name).framework
    for pub in on_cases().get(case.id, ()):
        if pub.framework not in (None, framework):
            continue  # a figure read in that framework (its native total, or one published for its build)
        if pub.params is not None:
            assert rec.params == pub.params, pub.source  # the reading
            assert rec.quantities["params"].canonical == pub.params, pub.source  # the formula
        for name, value in pub.native.items():
            assert rec.native[name] == value, pub.source
        if pub.gmacs:  # billions of MACs: the spec's canonical MACs; the counter's matmul part by its convention
            f = rec.flops
            assert pub.gmacs_matches(f.macs), (f.macs, pub.gmacs, pub.source)
            assert pub.gmacs_matches(f.matmul // 2) == (f.mark == "✓"), (f.matmul, f.convention)
