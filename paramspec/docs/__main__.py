"""``python -m paramspec.docs [--check] [ROOT]``: regenerate the generated pages (see the package)."""
import sys
from pathlib import Path

from . import write_docs

args = [a for a in sys.argv[1:] if a != "--check"]
check = "--check" in sys.argv[1:]
root = Path(args[0]) if args else Path(".")
if not (root / "README.md").is_file():
    sys.exit(f"{root}: is not the paramspec repository (no README.md)")
changed = write_docs(root, check=check)
for path in changed:
    print(f"{'would change' if check else 'wrote'} {path}")
print("the generated pages are up to date" if not changed else "")
sys.exit(1 if changed and check else 0)
