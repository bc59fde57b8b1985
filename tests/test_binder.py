"""Binder: repo2docker turns the repository into an image that installs the pinned
requirements and the rnnbook package (checked on the generated Dockerfile, with no build)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dockerfile() -> str:
    executable = Path(sys.executable).with_name("repo2docker")
    command = [str(executable if executable.exists() else shutil.which("repo2docker")),
               "--no-build", "--debug", "--user-id", "1000", "--user-name", "jovyan", str(ROOT)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def test_image_uses_python_311(dockerfile):
    assert "Building conda environment for python=3.11" in dockerfile
    assert "environment-2epy-2d3-2e11-2dlinux" in dockerfile  # the escaped lock-file name


def test_image_installs_the_binder_requirements_after_copying_the_repository(dockerfile):
    install = dockerfile.find('pip install --no-cache-dir -r "binder/requirements.txt"')
    copy_repository = dockerfile.find("COPY --chown=1000:1000 src/ ${REPO_DIR}/")
    assert install != -1, "the Dockerfile does not install binder/requirements.txt"
    assert copy_repository != -1 and copy_repository < install, (
        "the repository must be copied before `-e .` is installed"
    )


def requirement_lines(path):
    return [line.strip() for line in path.read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def test_binder_installs_the_package_under_the_lock_with_cpu_torch():
    lines = requirement_lines(ROOT / "binder" / "requirements.txt")
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    assert "-e .[book]" in lines
    # pip reads a nested -c path relative to the requirements file.
    constraints = [line.split(None, 1)[1] for line in lines if line.startswith("-c ")]
    assert [(ROOT / "binder" / c).resolve() for c in constraints] == [ROOT / "constraints.txt"]
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"


def test_package_states_ranges_and_the_lock_pins_them():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lock = dict(line.split("==", 1) for line in requirement_lines(ROOT / "constraints.txt"))
    for dependency in project["dependencies"]:
        name, bound = dependency.split(">=")
        assert "==" not in dependency, f"{dependency}: the package states ranges, the lock pins"
        assert name in lock, f"{name} is not in constraints.txt: run `make lock`"
        assert tuple(map(int, lock[name].split("+")[0].split(".")[:2])) >= tuple(
            map(int, bound.split(".")[:2]))
    assert lock["torch"] == "2.13.0+cpu", "the checked torch is the CPU build"
    assert any(dep.startswith("jupyter-book==1.") for dep in
               project["optional-dependencies"]["book"])


def test_launch_buttons_are_configured():
    config = (ROOT / "_config.yml").read_text()
    for key in ("binderhub_url:", "colab_url:", "thebe: true", "repository:"):
        assert key in config
