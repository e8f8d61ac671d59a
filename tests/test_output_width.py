"""What the commands print fits an 80-column terminal, and no name is split across lines.

A table keeps its names whole (a name longer than a line is left long, never cut), wraps its
formulas at words, and leaves out a column with nothing in it; text folds at words.
"""
from __future__ import annotations

import json

import pytest

from conftest import run_cli

WIDTH = {"COLUMNS": "80"}


def assert_fits(text: str, names: list[str] = ()) -> None:
    lines = text.splitlines()
    for name in names:
        assert any(name in line for line in lines), f"{name!r} is split or missing:\n{text}"
    # a table of names too long to leave room for its other columns is wider, never cut
    allowed = max([80] + [len(n) + 45 for n in names])  # the name, then shape, dtype, trainable and count
    too_long = [line for line in lines if len(line) > allowed]
    assert not too_long, "\n".join(too_long)


@pytest.mark.parametrize("argv", [["kinds"], ["kinds", "SeparableConv2D", "LSTM", "resnet"],
                                  ["conventions", "--not-applicable"],
                                  ["count", "-f", "formula", "--spec", "{model: llama, preset: Llama-3.1-405B}"],
                                  ["count", "-f", "formula", "--train", "--hardware", "H100-SXM", "--spec",
                                   "{model: gpt2, preset: gpt2, seq_len: 1024}"]],
                         ids=lambda a: " ".join(a[:3]))
def test_a_framework_free_command_fits_80_columns(argv):
    p = run_cli(*argv, env=WIDTH)
    assert p.returncode == 0, p.stderr
    assert_fits(p.stdout)


@pytest.mark.framework
@pytest.mark.parametrize("config", ["{kind: LSTM, input_size: 10, hidden_size: 20, num_layers: 2, bidirectional: true}",
                                    "{kind: BatchNorm2d, num_features: 8, height: 4, width: 4}"],
                         ids=["LSTM", "BatchNorm2d"])
def test_a_count_keeps_every_tensor_name_whole(target_name, cli, config, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    p = cli("count", "-f", target_name, "--spec", config, "--json", "-")
    names = [t["name"] for t in json.loads(p.stdout)["tensors"]]
    shown = cli("count", "-f", target_name, "--spec", config)
    assert shown.returncode == 0, shown.stderr
    assert_fits(shown.stdout, names)
