"""bench/conformance.py, the generated conformance's long run: its exit status says whether the
run was whole. A run that drew nothing (no Hypothesis here), or whose target process died, is
not "0 disagreements"; bad input is one line on stderr and exit 2, before any target starts."""
import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench" / "conformance.py"


def _bench():
    """The script as a module (it puts bench/ on the path itself, for bench/common.py)."""
    spec = importlib.util.spec_from_file_location("bench_conformance", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(*args: str, prelude: str = "") -> subprocess.CompletedProcess:
    code = f"import runpy, sys; {prelude}sys.argv = {[str(BENCH), *args]!r}; runpy.run_path({str(BENCH)!r}, " \
           "run_name='__main__')"
    return subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)


def test_an_unknown_kind_is_one_line_and_exit_2():
    p = _run("3", "torch", "--kind", "LSTMM")
    assert p.returncode == 2, p.stderr
    assert p.stderr.strip().splitlines()[-1].endswith("error: unknown kind 'LSTMM' (`paramspec kinds` lists them)")
    assert "Traceback" not in p.stderr and "configs per kind" not in p.stdout  # no target started


def test_no_hypothesis_to_draw_with_is_one_line_and_exit_2():
    p = _run("3", "torch", "--kind", "Linear", prelude="sys.modules['hypothesis'] = None; ")  # import fails
    assert p.returncode == 2, p.stderr
    assert p.stderr.strip() == ("bench/conformance.py: drawing configs needs hypothesis: pip install hypothesis "
                                "(or 'paramspec[test]')")
    assert "disagreements" not in p.stdout  # no table of zeros


def _kind(error=None, disagreements=()):
    return {"kind": "Linear", "checked": 3, "drawn": 3, "disagreements": list(disagreements), "error": error,
            "seconds": 0.1}


def test_the_exit_status_tells_a_whole_run_from_a_broken_one():
    status = _bench().exit_status
    assert status({"torch": {"kinds": [_kind()]}, "keras": {"kinds": [_kind()]}}) == 0
    found = {"signature": "Linear in torch: params", "config": {}, "message": "x"}
    assert status({"torch": {"kinds": [_kind(disagreements=[found])]}, "keras": {"error": "killed"}}) == 1
    assert status({"torch": {"kinds": [_kind(error="the conditions are too tight")]}}) == 2  # a kind not drawn
    assert status({"torch": {"kinds": [_kind()]}, "keras": {"error": "killed after 600 s", "kinds": []}}) == 4


def test_a_target_process_that_dies_is_exit_4_not_0_disagreements():
    p = _run("1", "torch", "--kind", "Linear", "--timeout", "0.001")  # the child is killed at once
    assert p.returncode == 4, (p.stdout, p.stderr)
    assert "(killed after 0 s)" in p.stdout and "Traceback" not in p.stderr
