"""tox.ini is written out; spec/frameworks.yaml is the one list of targets. They must agree:
one env per target, which tests that target and installs its extra, in env_list and in what
the report env waits for."""
from __future__ import annotations

import configparser
from pathlib import Path

from paramspec.frameworks import Target, targets

ROOT = Path(__file__).resolve().parent.parent


def tox_mismatches(tox_ini: str, wanted: dict[str, Target]) -> list[str]:
    """What is wrong between a tox.ini's text and the targets (empty: they agree)."""
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read_string(tox_ini)
    env_list = [e.strip() for e in cfg["tox"]["env_list"].split(",")]
    depends = [e.strip() for e in cfg["testenv:report"]["depends"].split(",")]
    problems = []
    for name, t in wanted.items():
        section = f"testenv:{name}"
        if section not in cfg:
            problems.append(f"no [{section}] for target {name}")
            continue
        env = dict(line.split("=", 1) for line in cfg[section].get("set_env", "").splitlines() if "=" in line)
        env = {k.strip(): v.strip() for k, v in env.items()}
        if env.get("PARAMSPEC_FRAMEWORKS") != name:
            problems.append(f"[{section}] does not set PARAMSPEC_FRAMEWORKS = {name}")
        for key, value in t.env.items():
            if env.get(key) != value:
                problems.append(f"[{section}] does not set {key} = {value}")
        if t.extra and cfg[section].get("extras", "").strip() != t.extra:
            problems.append(f"[{section}] does not install the extra {t.extra!r}")
        if name not in env_list:
            problems.append(f"{name} is not in env_list")
        if name not in depends:
            problems.append(f"the report env does not wait for {name}")
    known = set(wanted) | {"spec", "report", "check", "tools"}
    problems += [f"env_list names {e}, which is no target" for e in env_list if e not in known]
    return problems


def test_tox_ini_has_one_env_per_target():
    assert tox_mismatches((ROOT / "tox.ini").read_text(), targets()) == []


def test_the_check_finds_a_missing_env():
    extra = {**targets(), "toy": Target("toy", "toy", "toy_adapter", ())}
    assert tox_mismatches((ROOT / "tox.ini").read_text(), extra) == [
        "no [testenv:toy] for target toy"]


def test_every_extra_named_in_frameworks_yaml_exists():
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for t in targets().values():
        assert t.extra in extras, t.name
