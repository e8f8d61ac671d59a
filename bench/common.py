"""What the benchmark scripts share: the machine line, and the targets (from spec/frameworks.yaml)."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from paramspec.frameworks import installed_targets, target, targets  # noqa: E402

__all__ = ["ROOT", "child_env", "installed_targets", "machine", "run_child", "targets"]


def machine() -> str:
    """``2 cores (Intel Xeon ...), 24 GiB RAM, Python 3.11.7``."""
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu or platform.machine()}), {mem:.0f} GiB RAM, Python {platform.python_version()}"


def child_env(target_name: str | None = None) -> dict[str, str]:
    """The environment for a fresh process of one target: its own variables, the checkout on the path."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    if target_name:
        env.update(target(target_name).env)
    return env


# What a child's code starts with: its own peak RSS (VmHWM) in MB, whenever it asks.
HWM = """
def hwm():
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024
"""


def run_child(code: str, args: list[str], env: dict[str, str], timeout: float = 600) -> dict:
    """``python -c code *args`` in a fresh process: the JSON object its last stdout line holds,
    plus its wall time (``wall``) and peak RSS (``peak_mb``: the larger of its VmHWM, which the
    code reports as ``hwm_mb``, and ``os.wait4``'s ``ru_maxrss`` for it); ``{"error": ...}`` when
    it fails or runs past ``timeout`` seconds."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=err, text=True,
                             env=env)
        timer = threading.Timer(timeout, p.kill)
        timer.start()
        out = p.stdout.read()
        p.stdout.close()
        os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped: the timer cannot kill a reused pid
        timer.cancel()
        _, status, usage = os.wait4(p.pid, 0)  # this child's own rusage (RUSAGE_CHILDREN keeps the largest child)
        p.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        err.seek(0)
        errors = err.read()
    if p.returncode != 0:
        why = f"killed after {timeout:.0f} s" if p.returncode == -9 else (errors.strip().splitlines() or ["?"])[-1]
        return {"error": why, "wall": wall}
    r = json.loads(out.strip().splitlines()[-1])
    r["wall"] = wall
    r["maxrss_mb"] = usage.ru_maxrss / 1024  # kB on Linux
    # VmHWM is the child's own; ru_maxrss can also hold what it inherited at exec (this small process)
    r["peak_mb"] = max(r.get("hwm_mb", 0), r["maxrss_mb"])
    return r
