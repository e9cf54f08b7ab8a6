"""The wings keep their import rules: the core imports nothing of the mail or campaign
sides, campaign never mail, nothing imports the commands (scripts/module_graph.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_no_import_crosses_the_wings_the_wrong_way():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "module_graph.py"), "--check"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
