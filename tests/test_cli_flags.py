"""docs/reference/cli.md's table of the shared flags says which command takes which; every
command takes exactly what the table says (a flag it marks is parsed, one it leaves blank is
refused in one line)."""
from __future__ import annotations

import re

import pytest

from conftest import ROOT
from paramspec.cli import main

PAGE = (ROOT / "docs" / "reference" / "cli.md").read_text(encoding="utf-8")


def table() -> dict[tuple[str, str], bool]:
    block = re.search(r"<!-- generated:cli-flags.*?-->\n(.*?)<!-- /generated:cli-flags -->", PAGE, flags=re.S).group(1)
    lines = [ln for ln in block.strip().splitlines() if ln.startswith("|")]
    commands = [c.strip().strip("`") for c in lines[0].strip("|").split("|")[1:]]
    out = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        flag = cells[0].strip("`")
        for command, cell in zip(commands, cells[1:]):
            out[(command, flag)] = cell == "✓"
    return out


CELLS = table()


def test_the_table_covers_every_command_and_the_flags_they_share():
    commands = {c for c, _ in CELLS}
    assert {"count", "check", "report", "audit", "tools", "kinds", "conventions", "validate"} <= commands
    assert sum(CELLS.values()) >= 20


@pytest.mark.parametrize("command, flag", sorted(CELLS), ids=lambda x: x)
def test_each_command_takes_what_the_table_says(command, flag):
    """The command's own parser: a flag the table marks is taken (with a value where it needs
    one); one it leaves blank is left over, as ``paramspec`` then refuses it."""
    from paramspec.cli import build_parser

    positional = ["course.yaml"] if command == "audit" else []
    value = [] if flag in ("--no-flops", "--flops", "--train", "--exit-zero", "--quiet") else ["1"]
    _, unknown = build_parser().parse_known_args([command, *positional, flag, *value])
    assert (flag not in unknown) == CELLS[(command, flag)], (command, flag, unknown)


def test_a_flag_a_command_does_not_take_is_one_line_with_a_hint(capsys):
    assert main(["conventions", "--json", "x"]) == 2
    assert capsys.readouterr().err.strip() == "paramspec: error: unrecognized arguments: --json x"
