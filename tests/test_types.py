"""The package's type hints hold: mypy checks them (settings in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_finds_no_type_errors_in_the_package():
    result = subprocess.run([sys.executable, "-m", "mypy", "gatekeeper"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
