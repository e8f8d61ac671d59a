"""Record files: one per source run (a framework target, a tool), merged by ``paramspec report``.

A file holds a header (the source and its version, paramspec's version, the digest of the
spec the records were compared with, Python, platform, time), the records, and a footer
(how many of each verdict). Reading one checks it against ``spec/records.schema.json`` and
refuses, in one line naming the file and the record, anything that is not such a file.

Example:
    >>> f = write_records("reports/records/torch.json", source, records)
    >>> read_records(f).records[0].case
    'Linear[in128-out10]'
"""
from __future__ import annotations

import json
import platform
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..errors import SpecError
from ..reading import Source
from ..record import SCHEMA_VERSION, VERDICTS, Record
from ..schema import schema_check

FORMAT = "paramspec-records"
MAX_BYTES = 200_000_000


@dataclass
class RecordFile:
    """A record file's header and records (``path`` names it in error messages)."""

    header: dict[str, Any]
    records: list[Record] = field(default_factory=list)
    path: str = ""

    @property
    def source(self) -> Source:
        return Source.from_dict(self.header["source"])


def write_records(path: Path | str, source: Source, records: Iterable[Record], spec_digest: str | None = None,
                  seconds: float | None = None) -> Path:
    """Write one source's records (and a header and footer) as JSON, atomically; ``seconds``:
    how long the run took (the header keeps it)."""
    from .. import __version__
    from ..loader import load_spec

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    recs = [r.to_dict() for r in records]
    doc = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "header": {
            "source": source.to_dict(), "paramspec": __version__,
            "spec": spec_digest if spec_digest is not None else load_spec().digest,
            "python": platform.python_version(), "platform": platform.platform(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            **({"seconds": round(seconds, 3)} if seconds is not None else {}),
        },
        "records": recs,
        "footer": {v: sum(r["verdict"] == v for r in recs) for v in VERDICTS if any(r["verdict"] == v for r in recs)},
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read_records(path: Path | str) -> RecordFile:
    """Read a record file back, checked.

    Raises:
        SpecError: ``reports/records/torch.json: LSTM[in300-h128].verdict: 'maybe' is not
            one of [...]``; or the file is not JSON, not a record file, or of another version.
    """
    path = Path(path)
    where = str(path)
    if path.is_dir():
        raise SpecError("is a folder: give the record files in it, or the folder as --record-dir", where)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise SpecError(f"is {path.stat().st_size:,} bytes, over the {MAX_BYTES:,}-byte limit for a record file",
                            where)
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError("does not exist", where) from None
    except OSError as e:
        raise SpecError(f"cannot read it: {e.strerror}", where) from None
    except UnicodeDecodeError as e:
        raise SpecError(f"not a record file: not UTF-8 text (byte {e.start})", where) from None
    except json.JSONDecodeError as e:
        raise SpecError(f"not a record file: not JSON (line {e.lineno}, column {e.colno}: {e.msg})", where) from None
    except RecursionError:
        raise SpecError("not a record file: its JSON is nested too deeply", where) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise SpecError(f"not a paramspec record file (its format is not {FORMAT!r})", where)
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise SpecError(f"has schema_version {doc.get('schema_version')!r}; this paramspec reads {SCHEMA_VERSION}",
                        where)
    schema_check(doc, "records.schema.json", where)
    rf = RecordFile(doc["header"], [Record.from_dict(r) for r in doc["records"]], where)
    src = rf.source
    for r in rf.records:
        if r.source != src:
            raise SpecError(f"{r.case}: its source {r.source.name!r} is not the file's ({src.name!r})", where)
    dup = [k for k, n in Counter(r.case or r.config.get("path") for r in rf.records).items() if n > 1]
    if dup:
        raise SpecError(f"{dup[0]}: recorded twice", where)
    return rf


def check_mergeable(files: list[RecordFile]) -> None:
    """Refuse what cannot be one report: two files from one source, or two versions of the spec.

    Raises:
        SpecError: one line naming both files.
    """
    seen: dict[tuple[str, str], str] = {}
    spec: tuple[str, str] | None = None
    for f in files:
        key = (f.source.type, f.source.name)
        if key in seen:
            raise SpecError(f"{f.path}: a second record file for {f.source.name} (the first is {seen[key]})")
        seen[key] = f.path
        digest = f.header["spec"]
        if spec is None:
            spec = (digest, f.path)
        elif digest != spec[0]:
            raise SpecError(f"{f.path}: compared with another version of the spec (digest {digest}) than "
                            f"{spec[1]} (digest {spec[0]}); re-run one of them")
