"""Runners for the counting tools that ``paramspec tools`` audits (``spec/tools.yaml``).

One module per framework: :mod:`.torch_tools` (torchinfo, thop, ptflops, fvcore, calflops,
DeepSpeed's flops profiler, FlopCounterMode, Hugging Face ``num_parameters()`` and
``Trainer.floating_point_ops()``), :mod:`.keras_tools` (``summary()``), :mod:`.flax_tools`
(``nn.tabulate``, ``nnx.tabulate``). A figure goes under its quantity: ``params``, ``compute``
(the forward pass) and ``training`` (what the tool gives for a training step or its backward). A runner takes the tool's entry, the
case and the submodules to freeze; it builds the case through the framework's adapter (no
second model zoo), calls the tool's public API as its README shows, and returns a
:class:`paramspec.tools.ToolRun` with what the tool returned, printed and warned.
"""
from __future__ import annotations

import contextlib
import io
import logging
import re
import warnings
from typing import Any, Callable, Iterator

from paramspec.tools import ToolRun

ANSI = re.compile(r"\x1b\[[0-9;]*m")  # thop prints its warnings in colour


@contextlib.contextmanager
def captured(run: ToolRun) -> Iterator[None]:
    """Collect what the tool prints (stdout, stderr), warns (``warnings``) and logs (any
    logger at WARNING or above) into ``run``: a tool that says what it skipped is not silent."""
    out = io.StringIO()
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect(logging.WARNING)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(out):
            warnings.simplefilter("always")
            yield
    finally:
        root.removeHandler(handler)
    text = ANSI.sub("", out.getvalue())
    run.printed = text[:4000]
    run.warnings += [f"{w.category.__name__}: {str(w.message).splitlines()[0][:300]}" for w in caught
                     if not issubclass(w.category, (DeprecationWarning, FutureWarning))
                     and "padding='same'" not in str(w.message)]
    run.warnings += [f"{r.name}: {r.getMessage().splitlines()[0][:300]}" for r in records]
    run.warnings += [ln.strip()[:300] for ln in text.splitlines()
                     if ln.lstrip().upper().startswith(("[WARN", "WARNING", "WARN:"))]


def attempt(run: ToolRun, call: Callable[[], Any]) -> Any:
    """``call()``, with what it prints and warns captured; an exception becomes ``run.error``."""
    try:
        with captured(run):
            return call()
    except Exception as e:  # the tool's failure is a finding about the tool, not a crash of the audit
        message = (str(e).strip().splitlines() or [""])[0][:300]
        if not message:  # say where it was raised instead (calflops: a bare StopIteration)
            import traceback

            frame = traceback.extract_tb(e.__traceback__)[-1]
            message = f"raised at {'/'.join(frame.filename.split('/')[-2:])}:{frame.lineno}: {frame.line}"
        run.error = f"{type(e).__name__}: {message}"
        return None
