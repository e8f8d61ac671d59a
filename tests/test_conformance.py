"""Every spec case in every active target: the framework's reading equals its formula.

For a framework with no recorded convention for the kind, its formula is the canonical
one, so this also asserts that the canonical formula equals the reading of every framework
that follows it. A case is n/a only where the spec records it and the adapter agrees.
"""
import pytest

from paramspec.compare import NA, PASS, run_case

pytestmark = pytest.mark.framework


def test_case(case, target_name, spec, adapter_for, record):
    rec = run_case(spec, case, adapter_for(target_name))
    record(rec)
    assert rec.verdict in (PASS, NA), rec.explain()
