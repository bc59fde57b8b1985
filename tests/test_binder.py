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


def test_binder_requirements_pin_torch_and_install_the_package():
    lines = [line.strip() for line in (ROOT / "binder" / "requirements.txt").read_text()
             .splitlines() if line.strip() and not line.startswith("#")]
    assert "torch==2.13.0" in lines
    assert "-e .[book]" in lines
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"


def test_package_dependencies_are_pinned():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = {dep.split("==")[0]: dep for dep in project["dependencies"] if "==" in dep}
    for name in ("torch", "numpy", "matplotlib", "ipywidgets"):
        assert name in pinned, f"{name} must be pinned in pyproject.toml"
    assert any(dep.startswith("jupyter-book==1.") for dep in
               project["optional-dependencies"]["book"])


def test_launch_buttons_are_configured():
    config = (ROOT / "_config.yml").read_text()
    for key in ("binderhub_url:", "colab_url:", "thebe: true", "repository:"):
        assert key in config
