"""paramspec: the reference spec, and the cross-framework conformance suite, for parameter counts.

``import paramspec`` imports no framework; adapters load their framework on first use.

Example:
    >>> import paramspec
    >>> paramspec.count({"kind": "Linear", "in_features": 128, "out_features": 10}).trainable
    1290
"""
from .api import CountResult, count
from .errors import FileFormatError, FormulaError, FrameworkUnavailable, NotApplicable, ParamspecError, SpecError
from .loader import load_spec

__version__ = "0.1.0"

def count_file(path):
    """Count the parameters a file declares (see :mod:`paramspec.files`)."""
    from .files import count_file as _count_file

    return _count_file(path)


__all__ = [
    "CountResult", "FileFormatError", "FormulaError", "count_file", "FrameworkUnavailable", "NotApplicable", "ParamspecError",
    "SpecError", "__version__", "count", "load_spec",
]
