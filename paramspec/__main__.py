"""``python -m paramspec``: the same as the ``paramspec`` command."""
import sys

from .cli import main

sys.exit(main())
