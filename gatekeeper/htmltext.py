"""HTML mail to readable text, plus the links and images it holds. Stdlib only.

Scripts, styles and hidden elements (display:none, visibility:hidden, the `hidden`
attribute, zero-size preheader tricks) are dropped, entities decoded, block elements
turned into line breaks and runs of whitespace folded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

SKIPPED = frozenset({"script", "style", "head", "template", "noscript", "title", "svg"})
BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
                    "table", "ul", "ol", "blockquote", "section", "article", "hr", "td"})
VOID = frozenset({"br", "img", "hr", "meta", "link", "input", "area", "base", "col", "embed",
                  "source", "track", "wbr"})
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d])|"
    r"max-height\s*:\s*0(?![.\d])|opacity\s*:\s*0(?![.\d])", re.I)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b\u200c\u200d\ufeff]+")
_BREAKS = re.compile(r"\s*\n\s*(\n\s*)+")
_SOURCE_BREAKS = re.compile(r"[\r\n]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
MAX_DEPTH = 256


@dataclass
class HtmlText:
    """What an HTML part says: its text, its links' targets and its images."""

    text: str = ""
    links: list[str] = field(default_factory=list)
    images: int = 0


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self.images = 0
        self.stack: list[tuple[str, bool]] = []  # (tag, hides its content)

    def _hidden(self) -> bool:
        return any(hides for _, hides in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "a" and values.get("href"):
            self.links.append(values["href"].strip())
        if tag == "img":
            self.images += 1
        if tag in BLOCKS:
            self.parts.append("\n")
        if tag in VOID:
            return
        hides = (tag in SKIPPED or "hidden" in values
                 or bool(_HIDDEN_STYLE.search(values.get("style", ""))))
        if len(self.stack) < MAX_DEPTH:
            self.stack.append((tag, hides))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                break
        if tag in BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        # Line breaks in HTML source are spaces; only block elements break lines.
        if not self._hidden():
            self.parts.append(_SOURCE_BREAKS.sub(" ", data))


def fold_whitespace(text: str) -> str:
    """Collapse spaces within lines and keep at most one blank line between paragraphs."""
    text = _CONTROL.sub("", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BREAKS.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> HtmlText:
    """Readable text, link targets and image count of an HTML document (never raises)."""
    extractor = _Extractor()
    try:
        extractor.feed(html)
        extractor.close()
    except Exception:  # HTMLParser is lenient, but hostile input must not stop a parse
        pass
    return HtmlText(fold_whitespace("".join(extractor.parts)), extractor.links, extractor.images)
