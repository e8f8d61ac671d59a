"""Child processes: how ``check``, ``tools`` and ``audit`` run each target (or tool) in a process
of its own, and how the parent learns what it did.

Keras fixes its backend at import, and one framework per process keeps memory and imports
apart, so each target (each tool) runs in a child. The protocol, whole:

1. The parent starts ``python -m paramspec.cli.children JOB``, where ``JOB`` is one JSON
   object: ``{"job": "check" | "tools" | "audit", "target": ..., "out": PATH, ...}`` plus the
   job's own options (:data:`JOBS` lists each job and its function). The child runs in the
   target's environment (``frameworks.yaml``: ``env``), with its share of the CPUs' threads.
2. The child does the job and writes its **result** to ``out``, atomically: a record file
   (``check``, ``tools``; :mod:`paramspec.report.records`) or an audit part (``audit``). It
   exits 0 when it wrote it, whatever the verdicts in it.
3. Otherwise it writes no result and exits as the command would: 2 for bad input (one line
   on stderr), 4 for an internal error (one line: a bug).
4. The parent reads results only. Nothing is scraped from a child's output: the summary a
   parent prints is computed from the records. A child that exits 2 is the bad input it
   says it is (:class:`SpecError`, exit 2); any other exit, or a 0 without a result, is a
   :class:`ChildFailed` (exit 4), which names the target, the exit code and the child's last
   line on stderr.
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from ..errors import EXIT_BAD_INPUT, EXIT_OK, ChildFailed, SpecError
from .guard import guarded

# The thread pools a framework sizes to the machine unless told (torch's OpenMP, TensorFlow's intra-op).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")


@dataclass(frozen=True)
class Job:
    """One child's work: ``job`` (a key of :data:`JOBS`), the ``target`` whose environment it
    runs in, where it writes its result (``out``), and the job's own ``options``."""

    job: str
    target: str
    out: Path
    options: dict[str, Any]
    label: str = ""  # how messages name it (a tool's name; else the target)

    @property
    def name(self) -> str:
        return self.label or self.target

    def argv(self) -> list[str]:
        doc = {"job": self.job, "target": self.target, "out": str(self.out), **self.options}
        return [sys.executable, "-m", "paramspec.cli.children", json.dumps(doc)]


def check_job(target: str, out: Path, kinds: list[str], measure: bool, train: dict | None = None) -> None:
    """One target's ``check``: every case (or ``kinds``' cases) built, read and compared,
    written to ``out`` with the seconds it took."""
    from ..frameworks import adapter, target as get_target
    from ..loader import load_spec
    from ..reading import Source
    from ..report.records import write_records
    from ..run import run_case
    from ..training import TrainOptions

    spec = load_spec()
    ad = adapter(target)
    cases = [c for c in spec.cases() if not kinds or c.kind.name in kinds]
    t0 = time.perf_counter()
    options = TrainOptions(**train).checked() if train is not None else None
    records = [run_case(spec, c, target, measure=measure, train=options) for c in cases]
    write_records(out, Source("framework", target, ad.version(), get_target(target).framework), records, spec.digest,
                  seconds=time.perf_counter() - t0)


def tools_job(target: str, out: Path, tool: str, kinds: list[str]) -> None:
    """One counting tool's run (in its framework's target): each case it can take, read and
    graded, written to ``out`` with the seconds it took."""
    from .._layout import import_adapter_module
    from ..loader import load_spec
    from ..reading import Source
    from ..report.records import write_records
    from ..tools import cases, load_tools, run_tool

    spec, ts = load_spec(), load_tools()
    t = ts.tools[tool]
    t0 = time.perf_counter()
    records = [run_tool(t, c, f) for c, f in cases(spec, ts, kinds)]
    module = import_adapter_module(f"tools.{t.runner.split('.')[0]}")
    write_records(out, Source("tool", t.id, module.version(t), t.framework), records, spec.digest,
                  seconds=time.perf_counter() - t0)


def audit_job(target: str, out: Path, course: str) -> None:
    """One target's part of a course audit, as JSON."""
    from .. import audit as A

    write_atomically(out, json.dumps(A.audit_target(A.load_course(course), target)))


JOBS: dict[str, Callable[..., None]] = {"check": check_job, "tools": tools_job, "audit": audit_job}


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the whole file or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _env(job: Job, threads: int | None) -> dict[str, str]:
    from ..frameworks import target

    env = {**os.environ, **target(job.target).env,
           "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")}
    if threads is not None:
        for key in THREAD_VARIABLES:
            env.setdefault(key, str(threads))
    return env


def run_job(job: Job, threads: int | None = None) -> Path:
    """Run ``job`` in a child process and return the path of its result.

    Raises:
        SpecError: the child refused its input (exit 2), with the child's own line.
        ChildFailed: any other ending without a result (exit 4).
    """
    if job.out.exists():
        job.out.unlink()
    proc = subprocess.run(job.argv(), env=_env(job, threads), capture_output=True, text=True)
    if proc.returncode == EXIT_OK and job.out.exists():
        return job.out
    last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
    if proc.returncode == EXIT_BAD_INPUT:
        raise SpecError(last.removeprefix("paramspec: error: "), f"{job.name} ({job.job})")
    what = "exited 0 without writing its result" if proc.returncode == EXIT_OK else f"exited {proc.returncode}"
    raise ChildFailed(f"the {job.name} {job.job} child {what}: {last}")


def run_jobs(jobs: Sequence[Job], n: int | None) -> Iterator[Path]:
    """:func:`run_job` for each job, up to ``n`` at a time (``--jobs``, which argparse holds to
    1 or more; None: the CPUs); the results come back in the order given, each as soon as it
    and those before it are done. A failed child stops the run: those not started never start."""
    n = max(1, min(n or os.cpu_count() or 1, len(jobs)))
    if n == 1:
        for job in jobs:
            yield run_job(job)
        return
    threads = max(1, (os.cpu_count() or 1) // n)  # two tools' runs side by side: 9.6 s, not 17 (2 cores)
    pool = concurrent.futures.ThreadPoolExecutor(n)
    try:
        futures = [pool.submit(run_job, job, threads) for job in jobs]
        for f in futures:
            yield f.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def child_main(argv: Sequence[str]) -> int:
    """The child's side: run the job ``argv[0]`` names, with the command's error handling."""
    def run() -> int:
        try:
            doc = json.loads(argv[0]) if len(argv) == 1 else None
        except json.JSONDecodeError:
            doc = None
        if not isinstance(doc, dict) or doc.get("job") not in JOBS or not {"target", "out"} <= set(doc):
            raise SpecError(f"a child takes one JSON job with job (one of {', '.join(JOBS)}), target and out")
        options = {k: v for k, v in doc.items() if k not in ("job", "out")}
        JOBS[doc["job"]](out=Path(doc["out"]), **options)
        return EXIT_OK

    return guarded(run)


if __name__ == "__main__":
    from .. import frameworks as _frameworks

    _frameworks.FREEZE_AFTER_IMPORT = True  # a process of its own, as the command is
    sys.exit(child_main(sys.argv[1:]))
