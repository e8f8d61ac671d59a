"""The fuzzer (bench/fuzz.py), seeded and small, in the spec env; hypothesis on the structured
surfaces; and every failure a fuzz run found, as a named regression case.

The contract: every input returns a result or raises a ParamspecError; the CLI exits 0-3 with
one line on stderr, never a traceback and never 4 (an internal error); nothing takes 2 s.
`python bench/fuzz.py 100000` is the long run (README).
"""
from __future__ import annotations

import contextlib
import io
import random
import sys
import tempfile
import zipfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import fuzz  # noqa: E402  bench/fuzz.py

from paramspec import count_file  # noqa: E402
from paramspec.errors import EXIT_INTERNAL, FileFormatError, ParamspecError, SpecError  # noqa: E402

SEEDS = ROOT / "tests" / "fuzz_seeds"


def test_every_surface_keeps_the_contract_on_a_seeded_run():
    out = io.StringIO()
    results = fuzz.run(25, seed=20261123, out=out)
    assert {"formula", "spec-yaml", "course", "hf-config", "config", "argv", "build"} <= set(results)
    assert {f"file:{n}" for n in fuzz.FILE_SEEDS} <= set(results)
    failures = {name: r.failures for name, r in results.items() if r.failures}
    assert failures == {}, out.getvalue()


def test_a_mutation_changes_the_bytes_and_is_seeded():
    data = (SEEDS / "s.safetensors").read_bytes()
    a = [fuzz.mutate(data, random.Random(1)) for _ in range(3)]
    assert a == [fuzz.mutate(data, random.Random(1)) for _ in range(3)]
    assert any(m != data for m in a)


# ------------------------------------------------------------------ hypothesis
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402  (every tox env installs it)

FAST = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.lists(st.sampled_from(fuzz.TOKENS), min_size=1, max_size=14), st.integers(-2**70, 2**70))
def test_any_formula_text_parses_or_says_why_in_one_line(tokens, n):
    from paramspec.formula import parse

    text = " ".join(tokens)
    try:
        parse(text).evaluate({"a": n, "b": 3, "n": n, "x": 2, "in_features": n, "out_features": 7})
    except SpecError as e:
        assert "\n" not in str(e)


@FAST
@given(st.dictionaries(st.sampled_from(sorted({k for v in fuzz.HF_KEYS.values() for k in v})),
                       st.one_of(st.integers(-2**80, 2**80), st.booleans(), st.none(), st.text(max_size=5),
                                 st.floats(allow_nan=True)), max_size=6),
       st.sampled_from([*fuzz.HF_KEYS, "nope"]))
def test_any_hf_config_resolves_or_says_why(cfg, model_type):
    from paramspec.configs import resolve_case
    from paramspec.run import formula_record

    try:
        r = formula_record(resolve_case({"hf_config": {"model_type": model_type, **cfg}}))
    except SpecError as e:
        assert "\n" not in str(e)
    else:
        assert r.params >= 0


@FAST
@given(st.lists(st.sampled_from(fuzz.ARGV_WORDS), max_size=7), st.sampled_from(["count", "kinds", "conventions",
                                                                                 "report"]))
def test_any_argv_exits_0_to_3_with_one_line(words, command):
    from paramspec.cli import main

    argv = [command, *words] + (["-f", "formula"] if command == "count" else [])
    out, err = io.StringIO(), io.StringIO()
    # in a scratch folder: an argv such as `--json batch=x` writes its report where it runs
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp), redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    assert code in (0, 1, 2, 3), (argv, err.getvalue())
    assert "Traceback" not in err.getvalue()
    if code == 2:
        assert len([ln for ln in err.getvalue().splitlines() if ln.strip()]) == 1, err.getvalue()


# ------------------------------------------------------------------ what fuzzing found
def test_regression_msgpack_array_whose_data_is_an_int(tmp_path):
    """Found by bench/fuzz.py: a flipped bit made an array's buffer a msgpack int; the reader
    took its len() (TypeError, exit 1)."""
    data = bytearray((SEEDS / "m.msgpack").read_bytes())
    i = data.index(b"\xc4\x10")  # the first 16-byte bin: a bias buffer
    data[i:i + 2 + 16] = b"\x05"  # the positive fixint 5 where the bytes were
    path = tmp_path / "m.msgpack"
    path.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match=r"malformed array header \(its data is a int, not bytes\)"):
        count_file(path)


def test_regression_pt_whose_zip_end_record_claims_several_disks(tmp_path):
    """Found by bench/fuzz.py: zipfile.is_zipfile itself raised BadZipFile ("zipfiles that span
    multiple disks are not supported") out of count_file."""
    data = bytearray((SEEDS / "t.pt").read_bytes())
    i = data.rindex(b"PK\x06\x07")  # the zip64 end-of-central-directory locator
    data[i + 16:i + 20] = (2).to_bytes(4, "little")  # total number of disks: 2
    path = tmp_path / "t.pt"
    path.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match="damaged zip archive .zipfiles that span multiple disks"):
        count_file(path)


def test_regression_keras_archive_with_a_damaged_member(tmp_path):
    """Found by bench/fuzz.py: a .keras archive whose config.json fails its CRC raised
    BadZipFile when the member was read."""
    data = bytearray((SEEDS / "k.keras").read_bytes())
    with zipfile.ZipFile(SEEDS / "k.keras") as z:
        info = z.getinfo("config.json")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + 5] ^= 0xFF  # one byte of the compressed config
    path = tmp_path / "k.keras"
    path.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match="damaged .keras archive .BadZipFile: Bad CRC-32"):
        count_file(path)


def test_an_unexpected_exception_is_exit_4_in_one_line(monkeypatch, capsys):
    """Not a verdict (1) and not bad input (2): a bug in paramspec gets its own code."""
    import argparse

    import paramspec.cli as cli

    def broken(args):
        raise TypeError("object of type 'int' has no len()")

    class Parser:
        def parse_args(self, argv):
            return argparse.Namespace(func=broken)

    monkeypatch.setattr(cli, "build_parser", Parser)
    code = cli.main(["kinds"])
    err = capsys.readouterr().err
    assert code == EXIT_INTERNAL == 4
    assert err.count("\n") == 1 and "internal error" in err and "TypeError" in err and "Traceback" not in err


def test_every_exception_a_reader_raises_on_a_seed_mutation_is_ours(tmp_path):
    """The same contract, asserted directly on mutations of every file seed."""
    import shutil

    shutil.copytree(SEEDS, tmp_path / "seeds")
    rng = random.Random(7)
    for name in fuzz.FILE_SEEDS:
        path = tmp_path / "seeds" / name
        original = path.read_bytes()
        outcomes = {"read": 0, "refused": 0}
        for _ in range(25):
            path.write_bytes(fuzz.mutate(original, rng))
            try:
                count_file(path)
                outcomes["read"] += 1
            except ParamspecError:
                outcomes["refused"] += 1
        path.write_bytes(original)
        assert sum(outcomes.values()) == 25 and outcomes["refused"] > 0, (name, outcomes)


@pytest.mark.framework
@pytest.mark.only("torch")
def test_regression_a_vocabulary_beyond_torchs_storage_limit(target_name, tmp_path):
    """From issue 12: vocab_size 2**62 in a config.json printed torch's RuntimeError traceback;
    now one line naming the variable and the limit, exit 2, and the formula still counts it."""
    import json
    import subprocess

    cfg = {"model_type": "gpt2", "vocab_size": 4611686018427387904, "n_layer": 1, "n_embd": 64, "n_head": 4}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    p = subprocess.run([sys.executable, "-m", "paramspec", "count", "-f", target_name, "--hf-config", str(path)],
                       capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.count("\n") == 1
    assert "vocab_size = 4,611,686,018,427,387,904 is beyond what torch can build" in p.stderr
    assert "2**63" in p.stderr and "Traceback" not in p.stderr
    from paramspec.configs import resolve_case
    from paramspec.run import formula_record

    assert formula_record(resolve_case({"hf_config": cfg})).params > 2**62 * 64


def test_count_f_formula_is_labelled_and_imports_no_framework():
    """The framework-free answer: the spec's formula value, labelled as a value, not a reading."""
    import subprocess

    code = ("import sys\nfrom paramspec.cli import main\n"
            "rc = main(['count', '-f', 'formula', '--spec', '{model: llama, preset: Llama-3.1-405B}'])\n"
            "heavy = [m for m in ('torch', 'jax', 'tensorflow', 'keras', 'flax') if m in sys.modules]\n"
            "print('RC', rc, 'HEAVY', heavy)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "RC 0 HEAVY []" in p.stdout, p.stderr
    assert "the spec's formulas (no framework built it: a value, not a reading)" in " ".join(p.stdout.split())
    assert "405,853,388,800" in p.stdout  # the brief's figure for the Llama-3.1-405B config


def test_regression_a_formula_python_warns_about_is_still_one_line():
    """Found by bench/fuzz.py: `1for x` made Python print a SyntaxWarning before the error line."""
    import warnings

    from paramspec.formula import parse

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(SpecError, match="does not parse") as e:
            parse("1for x in y")
    assert caught == [] and "\n" not in str(e.value)


def test_regression_gguf_whose_counts_claim_more_than_the_file_holds(tmp_path):
    """Found by bench/fuzz.py: a GGUF header whose key count or string length had a flipped
    high bit made the gguf package allocate gigabytes (11 GB of RSS) before failing. The
    header is now walked first, each length held to the bytes left."""
    import resource

    data = (SEEDS / "g.gguf").read_bytes()
    path = tmp_path / "g.gguf"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for patch, message in (((16, (2**62).to_bytes(8, "little")), "claims 1 tensors and 4,611,686,018,427,387,904 keys"),
                           ((24, (2**40).to_bytes(8, "little")), "GGUF key of 1,099,511,627,776 bytes")):
        at, raw = patch
        path.write_bytes(data[:at] + raw + data[at + len(raw):])
        with pytest.raises(FileFormatError, match=message):
            count_file(path)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024  # KiB: no allocation


def test_regression_onnx_initializer_name_that_is_not_utf8():
    """Found by bench/fuzz.py: protobuf returns bytes for a name that is not UTF-8, and the
    state rules' regex raised TypeError."""
    with pytest.raises(FileFormatError, match="name is not UTF-8"):
        count_file(ROOT / "tests" / "fuzz_regressions" / "onnx-name-not-utf8.onnx")


@pytest.mark.framework
@pytest.mark.only("keras", "keras-jax", "flax-linen", "flax-nnx")
def test_regression_a_width_beyond_what_a_tensor_holds_in_the_forward_pass(target_name):
    """From bench/fuzz.py's build surface (seed 7): an mlp of width 2**62 builds abstractly, but
    its forward pass (TensorFlow's graph placeholder, XLA's lowering) cannot hold a 20 x 2**62
    kernel, and `count` with an input size exited 4, an internal error, with the framework's
    ValueError or RuntimeError. Now bad input: one line naming the variable and the limit,
    exit 2, for the forward pass and for a training step."""
    import paramspec
    from paramspec.cli import main

    cfg = {"model": "mlp", "in_features": 20, "hidden_sizes": [2**62], "out_features": 1, "batch": 1}
    for train in (False, True):
        with pytest.raises(SpecError, match=r"hidden_sizes = 4,611,686,018,427,387,904 is beyond what .* can build"
                                            r": a tensor has fewer than 2\*\*63 elements"):
            paramspec.count(cfg, framework=target_name, train=train)
    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        code = main(["count", "--spec", str(cfg).replace("True", "true"), "-f", target_name])
    assert code == 2 and err.getvalue().count("\n") == 1 and "2**63" in err.getvalue(), err.getvalue()
    assert "Traceback" not in err.getvalue()
    assert paramspec.count(cfg, framework="formula").params > 2**62 * 20
