"""`.ci/run` on a fresh machine: the real script, run with stand-in `apt-get`, `sudo`, `id` and
`make` on a PATH that hides Chromium, so nothing on the system is touched."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

STUB = """#!/bin/sh
echo "{name} DEBIAN_FRONTEND=${{DEBIAN_FRONTEND:-}} $*" >> "$CALLS"
{tail}
"""


def run_ci(tmp_path: Path, *, uid: int, chromium: bool, make_status: int = 0):
    """Run .ci/run with stand-ins; return (exit status, the stand-ins' calls in order).

    ``chromium`` puts stand-ins for every Debian package the script looks for on the PATH
    (chromium, gettext's msgfmt, and fc-list answering with a CJK font)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stubs = {
        "apt-get": "exit 0",
        "make": f"exit {make_status}",
        "id": f'[ "$1" = -u ] && echo {uid}',
        "sudo": 'exec "$@"',
    }
    if chromium:
        stubs |= {"chromium": "exit 0", "msgfmt": "exit 0", "fc-list": "echo Noto Sans CJK SC"}
    for name, tail in stubs.items():
        stub = bin_dir / name
        stub.write_text(STUB.format(name=name, tail=tail))
        stub.chmod(0o755)
    for tool in ("env", "dirname"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    calls = tmp_path / "calls"
    result = subprocess.run(
        [shutil.which("bash"), str(ROOT / ".ci" / "run")],
        env={"PATH": str(bin_dir), "CALLS": str(calls), "CI": "true"},
        capture_output=True, text=True, timeout=60,
    )
    lines = calls.read_text().splitlines() if calls.exists() else []
    return result.returncode, [line for line in lines if not line.startswith(("id ", "fc-list "))]


@pytest.mark.parametrize("uid", [0, 1000], ids=["root", "sudo"])
def test_without_the_packages_installs_them_then_runs_make_test(tmp_path, uid):
    status, calls = run_ci(tmp_path, uid=uid, chromium=False)
    assert status == 0
    expected = []
    for arguments in ("update -q", "install -y -q chromium gettext fonts-noto-cjk"):
        if uid:  # through sudo, which resets the environment: env sets the variable after it
            expected.append("sudo DEBIAN_FRONTEND= env DEBIAN_FRONTEND=noninteractive "
                            f"apt-get {arguments}")
        expected.append(f"apt-get DEBIAN_FRONTEND=noninteractive {arguments}")
    assert calls == [*expected, "make DEBIAN_FRONTEND= test"]


def test_with_chromium_present_installs_nothing(tmp_path):
    status, calls = run_ci(tmp_path, uid=0, chromium=True)
    assert status == 0
    assert calls == ["make DEBIAN_FRONTEND= test"]


@pytest.mark.parametrize("make_status", [1, 2])
def test_a_failing_make_test_fails_ci(tmp_path, make_status):
    status, _ = run_ci(tmp_path, uid=0, chromium=True, make_status=make_status)
    assert status == make_status
