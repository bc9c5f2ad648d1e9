"""cnnbook installed from a wheel (not editable) has every file it reads at run time.

The package is built into a wheel from a copy of the sources (so the checkout stays clean), installed
with pip into a throw-away folder, and imported from there by a fresh Python whose working directory is
outside the repository: only the installed copy can be found. That copy then reads each shipped data
file and each explorer asset, and builds an explorer's static viewer.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from browser_util import ROOT

from cnnbook.data import FILES
from cnnbook.explorer.assets import ASSETS

#: Run by the installed copy: prints what it found, as JSON.
PROBE = """
import json, sys
import cnnbook, cnnbook.data as data
from cnnbook.explorer.assets import ASSETS, read_asset
from cnnbook.explorers.arithmetic import conv_steps
report = {
    "file": cnnbook.__file__,
    "files": {name: len(data.read_bytes(name)) for name in data.FILES},
    "assets": {name: len(read_asset(name)) for name in ASSETS},
    "digit18": list(data.load_digit18().shape),
    "photo": list(data.load_photo().shape),
    "viewer": 'data-explorer="conv-steps"' in conv_steps().to_html(),
}
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT / "src", source / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    # --no-build-isolation: build with the environment's pinned setuptools, nothing fetched
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp / "dist"), str(source)], check=True, capture_output=True)
    (built,) = (tmp / "dist").glob("cnnbook-*.whl")
    return built


def test_wheel_holds_the_package_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {f"cnnbook/data/files/{name}" for name in FILES}
    wanted |= {f"cnnbook/explorer/assets/{name}" for name in ASSETS} | {"cnnbook/py.typed"}
    assert wanted <= names, f"missing from the wheel: {sorted(wanted - names)}"


def test_installed_copy_reads_every_shipped_file(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target)}
    run = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout)
    assert Path(report["file"]).resolve().is_relative_to(target.resolve()), report["file"]
    shipped = ROOT / "src" / "cnnbook" / "data" / "files"
    assert report["files"] == {name: (shipped / name).stat().st_size for name in FILES}
    assert set(report["assets"]) == set(ASSETS) and all(report["assets"].values())
    assert report["digit18"] == [18, 18] and report["photo"] == [160, 240, 3] and report["viewer"]
