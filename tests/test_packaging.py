"""The built wheel carries the model and works away from the repository checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(ROOT)],
        check=True,
    )
    (path,) = out.glob("gatekeeper-*.whl")
    return path


def test_wheel_contains_model_licence_and_examples(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("model.onnx", "tokenizer.json", "manifest.json", "LICENSE", "NOTICE"):
        assert f"gatekeeper/models/{required}" in names
    assert "gatekeeper/campaign/examples/03-space-newsletter.eml" in names


def test_installed_wheel_scores_a_message_without_the_checkout(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
         str(wheel)],
        check=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    message = elsewhere / "m.eml"
    shutil.copy(ROOT / "gatekeeper" / "campaign" / "examples" / "01-friend-dinner.eml", message)
    probe = (
        "import sys, gatekeeper.core.embed as e; from gatekeeper.cli import main;"
        "print(e.default_model_dir()); sys.argv=['gatekeeper','score','--json','m.eml']; main()"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(site)!r}); {probe}"],
        cwd=elsewhere, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    model_dir, _, output = result.stdout.partition("\n")
    assert model_dir.startswith(str(site))
    assert '"embedding_norm": 1.0' in output
