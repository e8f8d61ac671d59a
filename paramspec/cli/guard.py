"""How a command (and a child's job) ends: what it raises, mapped to an exit code and one line."""
from __future__ import annotations

import os
import sys
import traceback
from typing import Callable

from ..errors import (EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_NOT_APPLICABLE, EXIT_OK, ChildFailed, FrameworkUnavailable,
                      NotApplicable, SpecError)

PROG = "paramspec"


def guarded(run: Callable[[], int]) -> int:
    """Run a command (or a child's job, :mod:`.children`) and map what it raises to an exit code
    and one line on stderr: bad input 2, n/a 3, a child that failed or any exception paramspec
    did not expect 4 (a bug, never a verdict; ``PARAMSPEC_TRACEBACK=1`` prints the traceback)."""
    try:
        return run()
    except (SpecError, FrameworkUnavailable) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except NotApplicable as e:
        print(f"{PROG}: n/a: {e.reason}", file=sys.stderr)
        return EXIT_NOT_APPLICABLE
    except ChildFailed as e:
        print(f"{PROG}: internal error: {e}", file=sys.stderr)
        return EXIT_INTERNAL
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as e:  # not a verdict and not bad input: a bug in paramspec, with its own exit code
        if os.environ.get("PARAMSPEC_TRACEBACK") == "1":
            traceback.print_exc()
        where = traceback.extract_tb(e.__traceback__)[-1]
        print(f"{PROG}: internal error (a bug in paramspec; please report it with the command): "
              f"{type(e).__name__}: {(str(e).strip().splitlines() or [''])[0][:200]} "
              f"[{'/'.join(where.filename.split('/')[-2:])}:{where.lineno}]", file=sys.stderr)
        return EXIT_INTERNAL
