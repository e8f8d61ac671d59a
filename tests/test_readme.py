"""The README: its two commands, CI's use of the test command, and the generated tables."""
import re
from pathlib import Path

from paramspec.docs import generated_block, readme_block
from paramspec.loader import load_spec

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands() -> list[str]:
    first_block = re.search(r"```sh\n(.*?)```", README, flags=re.S).group(1)
    return [line.split("#")[0].strip() for line in first_block.strip().splitlines()]


def test_the_readme_opens_with_exactly_two_commands():
    assert README.index("```sh") < README.index("\n## ")
    main_job, tests = commands()
    assert main_job == "pip install tox && tox -e check"
    assert tests == "pip install tox && tox"


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    _, tests = commands()
    assert any(line.strip() == tests for line in ci.splitlines()), ci


def test_the_conventions_table_matches_the_spec():
    assert readme_block(README) == generated_block(load_spec()), (
        "README.md drifted from the spec: run `python -m paramspec conventions --write-readme README.md`")


def test_every_tox_env_in_the_readme_exists():
    tox = (ROOT / "tox.ini").read_text()
    for env in ("spec", "torch", "keras", "keras-jax", "flax", "report", "check"):
        assert f"[testenv:{env}]" in tox
    assert "env_list = spec, torch, keras, keras-jax, flax, report" in tox
