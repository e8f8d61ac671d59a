"""A pytest plugin (entry point ``pytest11``): the ``assert_param_count`` fixture.

    def test_my_lstm(assert_param_count):
        assert_param_count(MyLSTM(300, 128), "4 * (n_in + h) * h + 4 * h", n_in=300, h=128)
"""
import pytest


@pytest.fixture
def assert_param_count():
    """:func:`paramspec.testing.assert_param_count`."""
    from paramspec.testing import assert_param_count as check

    return check
