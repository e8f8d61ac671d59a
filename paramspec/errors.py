"""The errors paramspec raises, and the exit codes the CLI maps them to.

Every error that comes from bad input (a spec entry, a formula, a config, a file)
is a :class:`SpecError`. Its message is one line that names what is wrong and where.
"""
from __future__ import annotations

EXIT_OK = 0
EXIT_DISAGREE = 1
EXIT_BAD_INPUT = 2
EXIT_NOT_APPLICABLE = 3
EXIT_INTERNAL = 4

EXIT_CODES = {  # documented once, here (docs/reference/cli.md is generated from it)
    "EXIT_OK": "success: every reading agrees with its formula (or a file was read)",
    "EXIT_DISAGREE": "a disagreement: a reading that is not its formula; for `audit`, a finding",
    "EXIT_BAD_INPUT": "bad input: one line on stderr naming what is wrong and where, never a traceback "
                      "(a spec entry, a formula, a config, a file, an option; a framework that is not installed)",
    "EXIT_NOT_APPLICABLE": "n/a: the framework lacks the layer or option (the spec records why)",
    "EXIT_INTERNAL": "an internal error: an exception paramspec did not expect, which is a bug in paramspec, "
                     "never a verdict (one line on stderr; PARAMSPEC_TRACEBACK=1 prints the traceback)",
}


class ParamspecError(Exception):
    """Base class of every error paramspec raises on purpose."""


class SpecError(ParamspecError, ValueError):
    """Bad input: an unknown kind or variable, a wrong type, malformed YAML, a bad formula.

    Args:
        message: what is wrong, in one line.
        where: where it is (a file, an entry, a field), prefixed to the message.
    """

    def __init__(self, message: str, where: str | None = None):
        self.message = " ".join(str(message).split())
        self.where = where
        super().__init__(f"{where}: {self.message}" if where else self.message)

    def at(self, where: str) -> "SpecError":
        """Return the same error with an outer location prefixed (``file: entry: ...``)."""
        inner = f"{self.where}: {self.message}" if self.where else self.message
        err = type(self)(inner, where)
        return err


class FormulaError(SpecError):
    """A formula that does not parse, uses something outside the whitelist, or does not evaluate."""


class FileFormatError(SpecError):
    """A file that is not what its name says, or is damaged: truncated, inconsistent, hostile."""


class NotApplicable(ParamspecError):
    """The framework has no layer, option or model that the case asks for.

    Args:
        reason: why, in one line (for example ``keras.layers.LSTM has no proj_size``).
    """

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class ChildFailed(ParamspecError):
    """A child process (``check``, ``tools``, ``audit`` run one per target) ended without its
    result: an internal error (exit 4), never bad input (paramspec/cli/children.py)."""


class FrameworkUnavailable(ParamspecError):
    """The framework asked for is not installed in this Python environment."""
