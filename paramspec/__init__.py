"""paramspec: the reference spec, and the cross-framework conformance suite, for parameter counts.

``import paramspec`` imports no framework; adapters load their framework on first use.

Example:
    >>> import paramspec
    >>> paramspec.count({"kind": "Linear", "in_features": 128, "out_features": 10}).trainable
    1290
"""
from .api import CountResult, count
from .errors import FormulaError, FrameworkUnavailable, NotApplicable, ParamspecError, SpecError
from .loader import load_spec

__version__ = "0.1.0"

__all__ = [
    "CountResult", "FormulaError", "FrameworkUnavailable", "NotApplicable", "ParamspecError",
    "SpecError", "__version__", "count", "load_spec",
]
