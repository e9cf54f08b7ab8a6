"""Printing what mail says: as text, never as terminal markup or control.

Anyone can write a subject, a sender name or a Message-ID, so whatever comes from mail
(or from a server: folder names, error texts) goes through `inert` before it reaches a
terminal: escape sequences (window titles, clearing the screen, hidden links), other
control characters and bidirectional overrides are shown as `\\x1b`-style escapes. The
console prints strings as they are (rich's markup and emoji codes are off), so a subject
saying `[/bold]` or `[link=...]` is printed as written. Part of the cli wing.
"""

from __future__ import annotations

import logging
import re

from rich.console import Console

# C0 controls but tab and newline, DEL, C1 controls (0x9b is CSI on some terminals), the
# zero-width and bidirectional formatting characters that make text read otherwise than
# it is, and the Unicode line and paragraph separators.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069"
                     "\ufeff]")
_LINE_BREAKS = re.compile("[\t\n]")


_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _visible(match: re.Match) -> str:
    code = ord(match[0])
    return _NAMED.get(match[0]) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def inert(value: object, lines: bool = False) -> str:
    """`value` as text that does nothing to a terminal: control and formatting characters
    made visible. Tabs and newlines too, unless `lines` (a message body shown whole)."""
    text = value if isinstance(value, str) else str(value)
    text = _UNSAFE.sub(_visible, text)
    return text if lines else _LINE_BREAKS.sub(_visible, text)


def inert_data(value: object) -> object:
    """Every string in nested dicts, lists and tuples made `inert` (keys included)."""
    if isinstance(value, str):
        return inert(value)
    if isinstance(value, dict):
        return {inert_data(k): inert_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(inert_data(v) for v in value)
    return value


def safe_console(width: int | None = None) -> Console:
    """A rich console that prints strings as written: no markup, no emoji codes; `width`
    columns (None: the terminal's, 80 in a pipe)."""
    return Console(markup=False, emoji=False, width=width)


class InertFormatter(logging.Formatter):
    """Log lines (which name Message-IDs, folders and server errors) made `inert`, each
    on one line; a traceback keeps its line breaks."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        return inert(super().formatMessage(record))

    def formatException(self, exc_info) -> str:  # noqa: N802
        return inert(super().formatException(exc_info), lines=True)
