"""The README: its two commands, CI's use of the test command, its examples' real output, its
links, and the generated pages (docs/reference/) against the code and the spec."""
import doctest
import re

import pytest

from conftest import TARGET_NAMES
from paramspec.docs import write_docs
from readme_examples import ROOT, examples, normalize, run

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


def test_the_generated_pages_match_the_code_and_the_spec():
    assert write_docs(ROOT, check=True) == [], "run `python -m paramspec.docs` to regenerate them"


def test_every_relative_link_in_the_docs_resolves():
    for page in [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs" / "reference").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" not in target:
                assert (page.parent / target).exists(), f"{page.name} links to {target}, which does not exist"


EXAMPLES = examples()


def shown(p) -> str:
    """What an example shows: stdout, and stderr when it exits non-zero (its one error line)."""
    return p.stdout + (p.stderr if p.returncode else "")


def test_the_examples_are_found():
    assert len(EXAMPLES) >= 5 and {e.argv[0] for e in EXAMPLES} == {"paramspec", "python"}


@pytest.mark.parametrize("example", [e for e in EXAMPLES if not e.targets], ids=lambda e: e.command[:60])
def test_a_framework_free_example_prints_what_the_readme_shows(example):
    p = run(example)
    assert normalize(shown(p)) == normalize(example.output), p.stderr


def framework_examples():
    return [pytest.param(e, id=e.command[:60]) for e in EXAMPLES if e.targets]


@pytest.mark.framework
@pytest.mark.parametrize("example", framework_examples())
def test_an_example_prints_what_the_readme_shows(example):
    missing = [t for t in example.targets if t not in TARGET_NAMES]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}, which this run does not test")
    p = run(example)
    assert normalize(shown(p)) == normalize(example.output), p.stderr


@pytest.mark.framework
@pytest.mark.only("torch")
def test_the_python_examples(target_name):
    """The README's ```pycon blocks, run as doctests (they use torch, the default framework)."""
    blocks = re.findall(r"```pycon\n(.*?)```", README, flags=re.S)
    assert blocks
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for i, block in enumerate(blocks):
        runner.run(parser.get_doctest(block, {}, f"README.md pycon block {i}", "README.md", 0))
    result = runner.summarize(verbose=False)
    assert result.failed == 0 and result.attempted > 5
