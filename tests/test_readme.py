"""The README as a front page: its size, its two commands (CI runs the test command; the test
command's script sets up what the machine lacks), its examples' real output, its links, and the
generated pages (docs/reference/) against the code and the spec. Nothing here freezes wording:
the commands are run, their output compared."""
import doctest
import os
import re
import shutil
import subprocess

import pytest

from conftest import TARGET_NAMES
from paramspec.docs import write_docs
from readme_examples import PAGES, ROOT, examples, normalize, run

README = (ROOT / "README.md").read_text(encoding="utf-8")
MAX_LINES = 250


def commands() -> list[str]:
    """The commands of the README's first code block, comments dropped."""
    first_block = re.search(r"```\w*\n(.*?)```", README, flags=re.S).group(1)
    return [line.split("#")[0].strip() for line in first_block.splitlines() if line.split("#")[0].strip()]


def test_the_readme_is_a_front_page_of_at_most_250_lines():
    assert len(README.splitlines()) <= MAX_LINES


def test_the_readme_opens_with_two_commands_and_their_prerequisites():
    """The main job and the tests, before any section; the system package the test command
    installs (chromium, for the browser test) is named there too."""
    assert len(commands()) == 2
    opening = README[:README.index("\n## ")]
    assert "```" in opening and "chromium" in opening


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    _, tests = commands()
    assert any(line.strip() == tests for line in ci.splitlines()), ci


# ------------------------------------------------ the test command, run on stubs
# The README's test command runs with a PATH of stubs: each records its argv; `chromium`,
# `apt-get`, `pip` and `tox` are stubs or absent, so nothing is installed and no root is needed.
STUB = """#!{bash}
printf '%s\\n' "${{0##*/}} $*" >> "{log}"
{body}
"""


def run_test_command(tmp_path, present=("pip", "tox"), apt_get="exit 0", tox="exit 0", pip="exit 0"):
    bin_dir, log = tmp_path / "bin", tmp_path / "argv.log"
    bin_dir.mkdir()
    bash = shutil.which("bash")
    os.symlink(bash, bin_dir / "bash")
    bodies = {"chromium": "exit 0", "apt-get": apt_get, "pip": pip, "tox": tox}
    for name in present:
        stub = bin_dir / name
        stub.write_text(STUB.format(bash=bash, log=log, body=bodies[name]))
        stub.chmod(0o755)
    _, tests = commands()
    p = subprocess.run([bash, "-c", f"{tests} -e spec"], cwd=ROOT, capture_output=True, text=True,
                       env={"PATH": str(bin_dir), "HOME": str(tmp_path)})
    calls = log.read_text().splitlines() if log.exists() else []
    return p, calls


def test_the_test_command_leaves_a_present_chromium_alone_and_runs_tox(tmp_path):
    p, calls = run_test_command(tmp_path, present=("chromium", "apt-get", "pip", "tox"))
    assert calls == ["pip install tox", "tox -e spec"], (calls, p.stdout, p.stderr)
    assert p.returncode == 0


# apt-get's install makes chromium appear on PATH, as the real one does
INSTALLS = ('case " $* " in *" install "*) printf \'#!/bin/sh\\nexit 0\\n\' > "${0%/*}/chromium"; '
            f'{shutil.which("chmod")} +x "${{0%/*}}/chromium";; esac')


def test_the_test_command_installs_a_missing_chromium_then_runs_tox(tmp_path):
    p, calls = run_test_command(tmp_path, present=("apt-get", "pip", "tox"), apt_get=INSTALLS)
    assert [c.split()[0] for c in calls] == ["apt-get", "apt-get", "pip", "tox"], (calls, p.stdout, p.stderr)
    assert "update" in calls[0].split()
    assert {"install", "-y", "chromium"} <= set(calls[1].split())
    assert calls[2:] == ["pip install tox", "tox -e spec"]
    assert p.returncode == 0 and "could not" not in p.stdout + p.stderr


@pytest.mark.parametrize("present, apt_get", [(("apt-get", "pip", "tox"), "exit 100"), (("pip", "tox"), None)],
                         ids=["apt-get fails", "no apt-get"])
def test_where_chromium_cannot_be_installed_it_says_how_in_one_line_and_goes_on(tmp_path, present, apt_get):
    p, calls = run_test_command(tmp_path, present=present, apt_get=apt_get or "exit 0")
    how = [line for line in (p.stdout + p.stderr).splitlines() if "apt-get install -y chromium" in line]
    assert len(how) == 1 and "could not" in how[0], p.stdout + p.stderr
    assert calls[-2:] == ["pip install tox", "tox -e spec"]  # the browser test then fails with its own message
    assert p.returncode == 0  # tox's status (the stub's)


def test_the_test_command_exits_with_tox_status(tmp_path):
    p, calls = run_test_command(tmp_path, present=("chromium", "pip", "tox"), tox="exit 3")
    assert p.returncode == 3 and calls == ["pip install tox", "tox -e spec"]


def test_the_test_command_stops_when_pip_cannot_install_tox(tmp_path):
    p, calls = run_test_command(tmp_path, present=("chromium", "pip", "tox"), pip="exit 1")
    assert p.returncode == 1 and calls == ["pip install tox"]


# ------------------------------------------------ the pages
def test_the_generated_pages_match_the_code_and_the_spec():
    assert write_docs(ROOT, check=True) == [], "run `python -m paramspec.docs` to regenerate them"


def test_every_relative_link_in_the_docs_resolves():
    pages = [ROOT / name for name in ("README.md", "CONTRIBUTING.md", "DEVELOPERS.md", "CHANGELOG.md")]
    pages += [ROOT / "docs" / "benchmarks.md", *sorted((ROOT / "docs" / "reference").glob("*.md"))]
    for page in pages:
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" not in target:
                assert (page.parent / target).exists(), f"{page.name} links to {target}, which does not exist"


# ------------------------------------------------ the examples, run
EXAMPLES = examples()


def shown(p) -> str:
    """What an example shows: stdout, and stderr when it exits non-zero (its one error line)."""
    return p.stdout + (p.stderr if p.returncode else "")


def example_id(e) -> str:
    return f"{e.page}: {e.command[:60]}"


def test_the_examples_are_found():
    readme = [e for e in EXAMPLES if e.page == "README.md"]
    assert len(readme) >= 5 and {e.argv[0] for e in EXAMPLES} == {"paramspec", "python"}
    assert {e.argv[1] for e in readme} >= {"count", "check", "audit"}


@pytest.mark.parametrize("example", [e for e in EXAMPLES if not e.targets], ids=example_id)
def test_a_framework_free_example_prints_what_the_page_shows(example):
    p = run(example)
    assert normalize(shown(p)) == normalize(example.output), p.stderr


def framework_examples():
    return [pytest.param(e, id=example_id(e)) for e in EXAMPLES if e.targets]


@pytest.mark.framework
@pytest.mark.parametrize("example", framework_examples())
def test_an_example_prints_what_the_page_shows(example, cli, monkeypatch):
    """A ``paramspec`` command runs in this process (``paramspec.cli.main``, as the ``cli``
    fixture runs it), where its framework is already imported, from the repository's root at
    80 columns; a ``python`` one-liner in a fresh process. The framework-free examples above run
    every command in a fresh process, as ``--write`` does: that is where the process boundary is
    tested."""
    missing = [t for t in example.targets if t not in TARGET_NAMES]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}, which this run does not test")
    if example.argv[0] == "paramspec":
        monkeypatch.chdir(ROOT)
        monkeypatch.setenv("COLUMNS", "80")
        p = cli(*example.argv[1:])
    else:
        p = run(example)
    assert normalize(shown(p)) == normalize(example.output), p.stderr


@pytest.mark.framework
@pytest.mark.only("torch")
def test_the_python_examples(target_name):
    """The ```pycon blocks of the README and docs/reference/, run as doctests (they use torch,
    the default framework)."""
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    blocks = 0
    for page in PAGES:
        for i, block in enumerate(re.findall(r"```pycon\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)):
            name = f"{page.relative_to(ROOT)} pycon block {i}"
            runner.run(parser.get_doctest(block, {}, name, str(page), 0))
            blocks += 1
    result = runner.summarize(verbose=False)
    assert blocks >= 2 and result.failed == 0 and result.attempted > 5
