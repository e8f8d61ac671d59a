"""A pytest plugin (entry point ``pytest11``): the ``assert_param_count`` and
``assert_matches_kind`` fixtures, and the seed of drawn configs in the report header.

    def test_my_lstm(assert_param_count):
        assert_param_count(MyLSTM(300, 128), "4 * (n_in + h) * h + 4 * h", n_in=300, h=128)

    def test_my_gru(assert_matches_kind):
        assert_matches_kind(lambda c: MyGRU(c["input_size"], c["hidden_size"]), "GRU", examples=50)

The configs ``assert_matches_kind`` draws take their seed from ``PARAMSPEC_SEED`` (an
integer, or ``random`` for a new one each session, shared with pytest-xdist's workers), else
paramspec's fixed default; pytest's header says which (under ``-q``, the last line does).
"""
import pytest


def pytest_configure(config: pytest.Config) -> None:
    """``PARAMSPEC_SEED=random``: pick the seed now, in the environment pytest-xdist's workers inherit."""
    from paramspec.errors import SpecError
    from paramspec.strategies import session_seed

    try:
        session_seed()
    except SpecError as e:
        raise pytest.UsageError(str(e)) from None


def _seed_line() -> str:
    from paramspec.strategies import SEED_VARIABLE, session_seed

    return f"paramspec: drawn configs use seed {session_seed()} ({SEED_VARIABLE})"


def pytest_report_header(config: pytest.Config) -> str:
    return _seed_line()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """Under ``-q`` pytest prints no header: the seed goes at the end instead."""
    if config.get_verbosity() < 0:
        terminalreporter.write_line(_seed_line())


@pytest.fixture
def assert_param_count():
    """:func:`paramspec.testing.assert_param_count`."""
    from paramspec.testing import assert_param_count as check

    return check


@pytest.fixture
def assert_matches_kind():
    """:func:`paramspec.testing.assert_matches_kind`."""
    from paramspec.testing import assert_matches_kind as check

    return check
