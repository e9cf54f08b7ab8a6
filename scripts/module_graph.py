#!/usr/bin/env python3
"""Print gatekeeper's module graph, read from the imports, grouped by wing.

    python scripts/module_graph.py [--format wings|mermaid|text] [--check] [--write]

wings (the default) draws the wings and the imports between them, mermaid every module;
text lists each module's imports, lazy ones (inside a function) in brackets. --write
puts wings and text into docs/ARCHITECTURE.md, between its "generated" markers. --check
names each import from a wing its module's wing may not use (core imports only core and
the shared top-level modules; campaign never mail; nothing imports cli) and exits 1 when
there is one.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "gatekeeper"
ARCHITECTURE = PACKAGE.parent / "docs" / "ARCHITECTURE.md"
_GENERATED = re.compile(r"(<!-- generated: (\w+) -->\n```\w*\n).*?(```\n<!-- end generated -->)",
                        re.S)

# The wings are the package's sub-packages (gatekeeper/core/, mail/, ...); the modules at
# its top are shared by all of them, testing (the shipped fakes) belongs with the demo and
# __main__ with the cli.
WINGS = ["shared", "core", "mail", "campaign", "evaluation", "cli", "demo"]
TOP_LEVEL_WING = {"testing": "demo", "__main__": "cli"}
# Which wings each wing may import (its own included).
ALLOWED = {
    "shared": {"shared"},
    "core": {"shared", "core"},
    "mail": {"shared", "core", "mail"},
    "campaign": {"shared", "core", "campaign"},
    "evaluation": {"shared", "core", "mail", "evaluation"},
    "cli": {"shared", "core", "mail", "campaign", "evaluation", "cli", "demo"},
    "demo": {"shared", "core", "mail", "evaluation", "demo"},
}


def wing_of(module: str) -> str:
    top = module.split(".")[0]
    if top in WINGS:
        return top
    return TOP_LEVEL_WING.get(top, "shared")


def module_names() -> dict[str, Path]:
    """Every module of the package by dotted name below it ("core.brain", "demo.run")."""
    names = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            names[".".join(parts)] = path
    return names


def imports_of(module: str, path: Path, known: set[str]) -> dict[str, bool]:
    """The package's modules that `module` imports, each True when only lazily (inside
    a function)."""
    tree = ast.parse(path.read_text(), str(path))
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    lazy_nodes = {id(inner) for outer in ast.walk(tree)
                  if isinstance(outer, (ast.FunctionDef, ast.AsyncFunctionDef))
                  for inner in ast.walk(outer)}
    found: dict[str, bool] = {}
    for node in ast.walk(tree):
        stem: list[str] | None = None
        if isinstance(node, ast.ImportFrom) and node.level:
            stem = [*package[:len(package) - node.level + 1],
                    *(node.module.split(".") if node.module else [])]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gatekeeper"):
            stem = (node.module or "").split(".")[1:]
        targets: list[str] = []
        if stem is not None and isinstance(node, ast.ImportFrom):
            for alias in node.names:  # `from . import htmlreport` names a module
                candidate = ".".join([*stem, alias.name])
                targets.append(candidate if candidate in known else ".".join(stem))
        elif isinstance(node, ast.Import):
            targets = [alias.name.removeprefix("gatekeeper.") for alias in node.names
                       if alias.name.startswith("gatekeeper.")]
        for target in targets:
            if target in known and target != module:
                found[target] = found.get(target, True) and id(node) in lazy_nodes
    return found


def graph() -> dict[str, dict[str, bool]]:
    names = module_names()
    known = set(names)
    return {module: imports_of(module, path, known) for module, path in names.items()}


def mermaid(edges: dict[str, dict[str, bool]]) -> str:
    lines = ["flowchart LR"]
    for wing in WINGS:
        members = [m for m in edges if wing_of(m) == wing]
        if members:
            lines.append(f"  subgraph {wing}")
            lines += [f"    {_node(m)}[{m}]" for m in members]
            lines.append("  end")
    for module, targets in edges.items():
        for target, lazy in sorted(targets.items()):
            lines.append(f"  {_node(module)} {'-.->' if lazy else '-->'} {_node(target)}")
    return "\n".join(lines)


def wings_mermaid(edges: dict[str, dict[str, bool]]) -> str:
    """The wings and how many imports go from each to each (dotted: all lazy)."""
    counts: dict[tuple[str, str], list[bool]] = {}
    for module, targets in edges.items():
        for target, lazy in targets.items():
            pair = (wing_of(module), wing_of(target))
            if pair[0] != pair[1]:
                counts.setdefault(pair, []).append(lazy)
    lines = ["flowchart TD"]
    for (source, target), lazies in sorted(counts.items()):
        arrow = "-.->" if all(lazies) else "-->"
        lines.append(f"  {source} {arrow}|{len(lazies)}| {target}")
    return "\n".join(lines)


def _node(module: str) -> str:
    return module.replace(".", "_").strip("_") or "package"


def text(edges: dict[str, dict[str, bool]]) -> str:
    return "\n".join(
        f"{module} ({wing_of(module)}): "
        + ", ".join(f"[{t}]" if lazy else t for t, lazy in sorted(targets.items()))
        for module, targets in edges.items())


def violations(edges: dict[str, dict[str, bool]]) -> list[str]:
    """Imports from a wing the importing module's wing may not use."""
    return [f"{module} ({wing_of(module)}) imports {target} ({wing_of(target)})"
            for module, targets in edges.items() for target in sorted(targets)
            if wing_of(target) not in ALLOWED.get(wing_of(module), set(WINGS))]


def architecture_page(page: str, edges: dict[str, dict[str, bool]]) -> str:
    """The ARCHITECTURE page with each generated block (wings, text) drawn afresh."""
    formats = {"wings": wings_mermaid, "text": text}
    return _GENERATED.sub(lambda m: m[1] + formats[m[2]](edges) + "\n" + m[3], page)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--format", choices=["wings", "mermaid", "text"], default="wings",
                        help="wings: the wings and the imports between them; mermaid: "
                             "every module; text: each module's imports")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when an import crosses the wings the wrong way")
    parser.add_argument("--write", action="store_true",
                        help="redraw the graphs in docs/ARCHITECTURE.md")
    args = parser.parse_args()
    edges = graph()
    if args.write:
        ARCHITECTURE.write_text(architecture_page(ARCHITECTURE.read_text(), edges))
        print(f"wrote {ARCHITECTURE}")
        return 0
    if args.check:
        wrong = violations(edges)
        print("\n".join(wrong) or "no import crosses the wings the wrong way")
        return 1 if wrong else 0
    print({"wings": wings_mermaid, "mermaid": mermaid, "text": text}[args.format](edges))
    return 0


if __name__ == "__main__":
    sys.exit(main())
