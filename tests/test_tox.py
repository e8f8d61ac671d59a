"""tox.ini is written out; spec/frameworks.yaml is the one list of targets. They must agree:
each target is tested by one pytest command, run with PARAMSPEC_FRAMEWORKS set to it (by the
env's set_env, or by `env PARAMSPEC_FRAMEWORKS=<target>` before the command, where targets
share one install), in an env that installs the target's extra and sets its environment, in
env_list and in what the report env waits for."""
from __future__ import annotations

import configparser
import shlex
from pathlib import Path

from paramspec.frameworks import Target, targets

ROOT = Path(__file__).resolve().parent.parent


def _set_env(cfg: configparser.ConfigParser, section: str) -> dict[str, str]:
    lines = cfg[section].get("set_env", "").splitlines() if section in cfg else []
    env = dict(line.split("=", 1) for line in lines if "=" in line)
    return {k.strip(): v.strip() for k, v in env.items()}


def framework_runs(cfg: configparser.ConfigParser) -> dict[str, list[tuple[str, dict[str, str]]]]:
    """Target -> each (env, environment) whose commands run ``pytest -m framework`` for it."""
    base = _set_env(cfg, "testenv")
    runs: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for section in cfg.sections():
        if not section.startswith("testenv:"):
            continue
        env = {**base, **_set_env(cfg, section)}
        commands = cfg[section].get("commands", cfg["testenv"].get("commands", "") if "testenv" in cfg else "")
        for line in commands.splitlines():
            words = shlex.split(line.replace("{posargs:", "").replace("}", ""))
            local = dict(env)
            if words[:1] == ["env"]:
                words = words[1:]
                while words and "=" in words[0]:
                    key, value = words.pop(0).split("=", 1)
                    local[key] = value
            if words[:2] != ["pytest", "-m"] or len(words) < 3 or "framework" not in words[2].split(" or "):
                continue  # not a run of the framework tests (`-m framework`, or `-m "framework or tools"`)
            for name in filter(None, (t.strip() for t in local.get("PARAMSPEC_FRAMEWORKS", "").split(","))):
                runs.setdefault(name, []).append((section.removeprefix("testenv:"), local))
    return runs


def tox_mismatches(tox_ini: str, wanted: dict[str, Target]) -> list[str]:
    """What is wrong between a tox.ini's text and the targets (empty: they agree)."""
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read_string(tox_ini)
    env_list = [e.strip() for e in cfg["tox"]["env_list"].split(",")]
    depends = [e.strip() for e in cfg["testenv:report"]["depends"].split(",")]
    runs = framework_runs(cfg)
    problems = []
    for name, t in wanted.items():
        if name not in runs:
            problems.append(f"no tox env runs `pytest -m framework` for target {name}")
            continue
        if len(runs[name]) > 1:
            problems.append(f"target {name} is tested by {len(runs[name])} envs: {[e for e, _ in runs[name]]}")
        env, environ = runs[name][0]
        section = f"testenv:{env}"
        for key, value in t.env.items():
            if environ.get(key) != value:
                problems.append(f"[{section}] does not set {key} = {value} for {name}")
        extras = [e.strip() for e in cfg[section].get("extras", "").replace(",", "\n").splitlines() if e.strip()]
        if t.extra and t.extra not in extras:
            problems.append(f"[{section}] does not install the extra {t.extra!r} of {name}")
        if env not in env_list:
            problems.append(f"{env} (for {name}) is not in env_list")
        if env not in depends:
            problems.append(f"the report env does not wait for {env}")
    tested = {env for name in wanted for env, _ in runs.get(name, [])}
    known = tested | {"spec", "report", "check"}
    problems += [f"env_list names {e}, which tests no target" for e in env_list if e not in known]
    return problems


def test_tox_ini_tests_every_target_once():
    assert tox_mismatches((ROOT / "tox.ini").read_text(), targets()) == []


def test_the_check_finds_a_missing_env():
    extra = {**targets(), "toy": Target("toy", "toy", "toy_adapter", ())}
    assert tox_mismatches((ROOT / "tox.ini").read_text(), extra) == [
        "no tox env runs `pytest -m framework` for target toy"]


def test_the_check_reads_a_shared_env_and_finds_a_missing_extra():
    ini = (ROOT / "tox.ini").read_text()
    assert "    keras-jax\n    flax\n" in ini
    ini = ini.replace("    keras-jax\n    flax\n", "    keras-jax\n    torch\n")
    assert tox_mismatches(ini, targets()) == [
        "[testenv:keras-flax] does not install the extra 'flax' of flax-linen",
        "[testenv:keras-flax] does not install the extra 'flax' of flax-nnx"]


def test_the_check_reads_a_command_that_sets_the_backend():
    ini = (ROOT / "tox.ini").read_text().replace("env KERAS_BACKEND=jax PARAMSPEC_FRAMEWORKS=keras-jax",
                                                 "env PARAMSPEC_FRAMEWORKS=keras-jax")
    assert tox_mismatches(ini, targets()) == ["[testenv:keras-flax] does not set KERAS_BACKEND = jax for keras-jax"]


def test_the_check_reads_a_marker_expression_with_the_framework_tests():
    ini = (ROOT / "tox.ini").read_text().replace('pytest -m "framework or tools or browser"', 'pytest -m "tools"')
    assert tox_mismatches(ini, targets()) == ["no tox env runs `pytest -m framework` for target torch",
                                              "env_list names torch, which tests no target"]


def test_every_extra_named_in_frameworks_yaml_exists():
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for t in targets().values():
        assert t.extra in extras, t.name
