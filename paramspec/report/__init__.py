"""Record files, and the reports merged from them without re-running anything.

- :mod:`.records`: write one source's records (a header, the records, a footer) and read them
  back, checked: the schema, duplicates, and that every file was compared with the same spec;
- :mod:`.matrix`: merge record files into the agreement matrix (a pure function);
- :mod:`.markdown` and :mod:`.text`: render it.
"""
from .matrix import Matrix, merge
from .records import RecordFile, read_records, write_records

__all__ = ["Matrix", "RecordFile", "merge", "read_records", "write_records"]
