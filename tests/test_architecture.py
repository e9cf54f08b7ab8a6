"""The wings keep their import rules: the core imports nothing of the mail or campaign
sides, campaign never mail, nothing imports the commands (scripts/module_graph.py); and
docs/ARCHITECTURE.md shows the imports as they are."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_no_import_crosses_the_wings_the_wrong_way():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "module_graph.py"), "--check"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def _module_graph():
    path = ROOT / "scripts" / "module_graph.py"
    spec = importlib.util.spec_from_file_location("module_graph", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_architecture_page_shows_the_imports_as_they_are():
    graph = _module_graph()
    page = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    assert page.count("<!-- generated: ") == 2
    assert graph.architecture_page(page, graph.graph()) == page, \
        "docs/ARCHITECTURE.md is stale: run python scripts/module_graph.py --write"
    stale = page.replace("core.replay", "core.replayed", 1)
    assert graph.architecture_page(stale, graph.graph()) == page
