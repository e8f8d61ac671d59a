"""Every spec case in every active target: the framework's reading equals its formula.

For a framework with no recorded convention for the kind, its formula is the canonical
one, so this also asserts that the canonical formula equals the reading of every framework
that follows it. A case is n/a only where the spec records it and the adapter agrees.
The same run measures the case's forward pass under the target's compute counter and holds
it to that counter's formula (the FLOPs matrix of reports/matrix.md comes from these records),
and holds the number of tensors built to the kind's ``tensors`` bound (the build limit's).
"""
import pytest

from paramspec.record import NA, PASS
from paramspec.run import run_case

pytestmark = pytest.mark.framework


def test_case(case, target_name, spec, record):
    rec = run_case(spec, case, target_name, measure=True, breakdown=False)
    record(rec)
    assert rec.verdict in (PASS, NA), rec.explain()
    bound = case.tensor_bound()  # what the build limit reads, an upper bound in every target
    assert bound is None or rec.verdict == NA or len(rec.tensors) <= bound, (len(rec.tensors), bound)
