"""The campaign side: a sender's campaign judged against a simulated audience."""

from __future__ import annotations

from importlib import resources


def bundled_examples() -> list[tuple[str, bytes]]:
    """The example messages shipped with the package (written by us), sorted by name."""
    folder = resources.files(__name__) / "examples"
    entries = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".eml")),
        key=lambda entry: entry.name,
    )
    return [(entry.name, entry.read_bytes()) for entry in entries]
