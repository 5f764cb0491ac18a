"""The Pythons Bluelight installs on: `.ci/setup` takes exactly the versions pyproject.toml allows
and names in its classifiers, and `.ci/newest-python` finds the newest beside 3.11 for CI."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

from packaging.specifiers import SpecifierSet

REPO = Path(__file__).resolve().parent.parent
BASH = shutil.which("bash")


def run_ci_script(name: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run one of .ci's scripts (milliseconds against fake Pythons: the fast tier)."""
    return subprocess.run(
        [BASH, REPO / ".ci" / name], env=env, capture_output=True, text=True, timeout=60
    )


def fake_python(path: Path, version: str = "", runs: bool = True) -> Path:
    """An executable that answers `-c ...` as a Python of `version` would, or fails like pyenv's
    shim for a Python it has but has not selected."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {version}\nexit {0 if runs else 127}\n")
    path.chmod(0o755)
    return path


def test_setup_takes_exactly_the_pythons_pyproject_allows(tmp_path):
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    allowed = SpecifierSet(project["requires-python"])
    minors = [f"3.{n}" for n in range(8, 17)]
    expected = [m for m in minors if f"{m}.0" in allowed]
    named = [c.rsplit(" ", 1)[1] for c in project["classifiers"] if c.count(".") == 1]
    assert expected == named == ["3.11", "3.12", "3.13"]

    # A venv made by another Python stops an accepted one before pip runs: quick, no install.
    other = fake_python(tmp_path / "venv" / "bin" / "python", "3.99")
    taken = []
    for minor in minors:
        python = fake_python(tmp_path / f"python{minor}", minor)
        env = {**os.environ, "PYTHON": str(python), "VENV": str(other.parent.parent)}
        done = run_ci_script("setup", env)
        assert done.returncode == 1, done.stderr
        if f"is Python 3.99, not {minor}" in done.stderr:
            taken.append(minor)
        else:
            assert f"is Python {minor}; Bluelight needs 3.11, 3.12 or 3.13" in done.stderr
    assert taken == expected


def newest(tmp_path: Path, on_path: dict[str, bool], under_pyenv: list[str]):
    """Run .ci/newest-python with only these Pythons on PATH (name: whether it runs) and these
    versions under pyenv."""
    bin_dir, pyenv = tmp_path / "bin", tmp_path / "pyenv"
    bin_dir.mkdir()
    for name, runs in on_path.items():
        fake_python(bin_dir / name, runs=runs)
    for version in under_pyenv:
        fake_python(pyenv / "versions" / version / "bin" / f"python{version.rsplit('.', 1)[0]}")
    env = {"PATH": str(bin_dir), "PYENV_ROOT": str(pyenv), "HOME": str(tmp_path)}
    return run_ci_script("newest-python", env)


def test_newest_python_finds_3_13_under_pyenv_past_a_shim_that_will_not_run_it(tmp_path):
    done = newest(tmp_path, {"python3.13": False, "python3.12": True}, ["3.13.0"])
    assert done.returncode == 0
    assert done.stdout.strip() == str(tmp_path / "pyenv/versions/3.13.0/bin/python3.13")


def test_newest_python_takes_3_12_on_path_when_there_is_no_3_13(tmp_path):
    done = newest(tmp_path, {"python3.12": True, "python3.11": True}, ["3.11.7"])
    assert done.returncode == 0
    assert done.stdout.strip() == str(tmp_path / "bin" / "python3.12")


def test_newest_python_says_so_and_fails_when_there_is_neither(tmp_path):
    done = newest(tmp_path, {"python3.11": True, "python3.13": False}, ["3.11.7"])
    assert done.returncode == 1
    assert done.stdout == ""
    assert "no Python 3.13 or 3.12 here" in done.stderr
