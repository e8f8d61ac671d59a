"""paramspec: the reference spec, and the cross-framework conformance suite, for parameter counts.

``import paramspec`` imports no framework; an adapter loads its framework on first use.

Example:
    >>> import paramspec
    >>> paramspec.count({"kind": "Linear", "in_features": 128, "out_features": 10}).params
    1290
"""
from .errors import FileFormatError, FormulaError, FrameworkUnavailable, NotApplicable, ParamspecError, SpecError
from .loader import load_spec
from .reading import Source, Tensor
from .record import Quantity, Record
from .run import count, count_file
from .training import TrainOptions

__version__ = "0.2.0"

__all__ = [
    "FileFormatError", "FormulaError", "FrameworkUnavailable", "NotApplicable", "ParamspecError", "Quantity",
    "Record", "Source", "SpecError", "Tensor", "TrainOptions", "__version__", "count", "count_file", "load_spec",
]
