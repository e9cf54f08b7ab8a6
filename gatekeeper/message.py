"""Raw mail bytes to a `Message`: what the gatekeeper reads in a message. Stdlib only.

`parse` is pure and total: it never raises, on any input. Malformed MIME, unknown
charsets, 8-bit headers, absurd nesting or part counts all give a `Message` with what
could be read and a `defects` entry saying what could not. It reads at most
`max_body_bytes` of the body (headers are kept whole up to `MAX_HEADER_BYTES`).
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import message_from_bytes
from email.header import Header, decode_header
from email.message import Message as EmailMessage
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime

from .htmltext import fold_whitespace, html_to_text

logger = logging.getLogger(__name__)

MAX_HEADER_BYTES = 256 * 1024
DEFAULT_MAX_BODY_BYTES = 64 * 1024
SNIPPET_CHARS = 200
BULK_HEADERS = ("feedback-id", "x-campaign", "x-campaignid", "x-mc-user", "x-sg-eid",
                "x-mailgun-tag", "x-csa-complaints")
_MBOX_FROM = re.compile(rb"^From [^\r\n]*\r?\n")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_ANGLE = re.compile(r"<([^<>]+)>")
_AUTH = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.I)
_DKIM_DOMAIN = re.compile(r"(?:^|;)\s*d\s*=\s*([^;\s]+)", re.I)
_URL_HOST = re.compile(r"https?://([^/\s?#:\"'<>]+)", re.I)
_TRIVIAL_PLAIN = 40  # a text/plain part this short defers to a richer HTML part


@dataclass(frozen=True, slots=True)
class AuthResults:
    """Verdicts of the topmost Authentication-Results header ("" when absent)."""

    spf: str = ""
    dkim: str = ""
    dmarc: str = ""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A part the reader would see as an attachment."""

    filename: str
    content_type: str
    size: int  # bytes of the decoded part (within the body cap)


@dataclass(frozen=True, slots=True)
class Message:
    """The parts of a message the gatekeeper uses; never the raw headers or full body."""

    message_id: str = ""  # without angle brackets
    from_name: str = ""
    from_address: str = ""  # lower case
    from_domain: str = ""  # lower case, after the @
    to: tuple[str, ...] = ()  # lower-case addresses
    cc: tuple[str, ...] = ()
    reply_to: tuple[str, ...] = ()
    subject: str = ""  # RFC 2047 decoded, whitespace folded
    date: datetime | None = None  # timezone-aware; None when missing or unreadable
    in_reply_to: str = ""  # message id without brackets
    references: tuple[str, ...] = ()
    list_id: str = ""  # the id inside <...>, lower case
    list_unsubscribe: tuple[str, ...] = ()  # URIs inside <...>
    list_unsubscribe_post: str = ""  # e.g. "List-Unsubscribe=One-Click" (RFC 8058)
    precedence: str = ""  # lower case
    auto_submitted: str = ""  # lower case
    is_bulk: bool = False  # precedence bulk/list/junk, auto-submitted, list or campaign headers
    auth_results: AuthResults = field(default_factory=AuthResults)
    dkim_domains: tuple[str, ...] = ()  # d= of each DKIM-Signature, lower case
    text: str = ""  # readable body: text/plain preferred, else HTML made readable
    html: bool = False  # the message has an HTML body part
    has_text_plain: bool = False
    snippet: str = ""
    link_count: int = 0
    link_domains: tuple[str, ...] = ()  # unique link hosts, in order of first appearance
    image_count: int = 0
    attachments: tuple[Attachment, ...] = ()
    size: int = 0  # bytes given to parse, before any cap
    truncated: bool = False  # the body was cut at the byte cap
    defects: tuple[str, ...] = ()  # what could not be read, in plain words
    content_hash: str = ""  # SHA-256 of subject + text: identical re-sends share it

    def text_for_embedding(self, max_chars: int = 2000) -> str:
        """The model input: the subject, a blank line, then the start of the body."""
        body = self.text[:max_chars]
        return f"{self.subject}\n\n{body}"[:max_chars] if self.subject else body


def parse(raw: bytes, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, max_parts: int = 200,
          max_depth: int = 10) -> Message:
    """Read a message from its raw bytes. Never raises."""
    try:
        return _Parser(raw, max_body_bytes, max_parts, max_depth).message()
    except Exception as error:  # last resort: the rules say never crash on mail
        logger.debug("falling back to headers only: %r", error)
        return _headers_only(raw, f"parse failed ({type(error).__name__}); headers only")


def _headers_only(raw: bytes, defect: str) -> Message:
    try:
        header_block = _split(_strip_mbox_line(raw))[0]
        headers = BytesHeaderParser(policy=compat32).parsebytes(header_block)
        fields = _header_fields(headers, [])
        return _finish(Message(**fields, size=len(raw), defects=(defect,)))
    except Exception:
        return _finish(Message(size=len(raw), defects=(defect, "headers unreadable")))


def _strip_mbox_line(raw: bytes) -> bytes:
    return _MBOX_FROM.sub(b"", raw, count=1) if raw.startswith(b"From ") else raw


def _split(raw: bytes) -> tuple[bytes, bytes]:
    match = _HEADER_END.search(raw, 0, MAX_HEADER_BYTES)
    if match is None:
        return raw[:MAX_HEADER_BYTES], b""
    return raw[: match.start()], raw[match.end():]


class _Parser:
    """One parse: the walk over the MIME tree and what it collects."""

    def __init__(self, raw: bytes, max_body_bytes: int, max_parts: int, max_depth: int):
        self.raw, self.max_parts, self.max_depth = raw, max_parts, max_depth
        self.max_body_bytes = max_body_bytes
        self.defects: list[str] = []
        self.parts_seen = 0
        self.plain: list[str] = []
        self.htmls: list[str] = []
        self.attachments: list[Attachment] = []
        self.image_parts = 0

    def message(self) -> Message:
        headers, body = _split(_strip_mbox_line(self.raw))
        truncated = len(body) > self.max_body_bytes
        if truncated:
            self.defects.append(f"body truncated at {self.max_body_bytes} bytes")
        parsed = message_from_bytes(headers + b"\n\n" + body[: self.max_body_bytes],
                                    policy=compat32)
        fields = _header_fields(parsed, self.defects)
        self._walk(parsed, depth=0)
        return _finish(Message(**fields, **self._body_fields(), size=len(self.raw),
                               truncated=truncated, defects=tuple(self.defects)))

    def _walk(self, part: EmailMessage, depth: int) -> None:
        self.parts_seen += 1
        if self.parts_seen > self.max_parts:
            if self.parts_seen == self.max_parts + 1:
                self.defects.append(f"too many parts (more than {self.max_parts}); rest skipped")
            return
        self.defects.extend(type(d).__name__ for d in part.defects[:5])
        if part.is_multipart():
            if depth >= self.max_depth:
                self.defects.append(f"MIME nesting deeper than {self.max_depth}; rest skipped")
                return
            for child in part.get_payload() or []:
                if isinstance(child, EmailMessage):
                    self._walk(child, depth + 1)
            return
        self._leaf(part)

    def _leaf(self, part: EmailMessage) -> None:
        content_type = part.get_content_type()
        filename = _safe(part.get_filename, "") or ""
        disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
        payload = _safe(lambda: part.get_payload(decode=True), b"") or b""
        if content_type.startswith("image/"):
            self.image_parts += 1
        if disposition != "attachment" and not filename and content_type in ("text/plain",
                                                                             "text/html"):
            text = _decode(payload, part.get_content_charset(), self.defects)
            (self.plain if content_type == "text/plain" else self.htmls).append(text)
        elif filename or disposition == "attachment" or not content_type.startswith("text/"):
            name = _decode_words(filename, self.defects)
            self.attachments.append(Attachment(name, content_type, len(payload)))

    def _body_fields(self) -> dict:
        plain = fold_whitespace("\n\n".join(self.plain))
        html = html_to_text("\n".join(self.htmls)) if self.htmls else None
        text = plain
        if html and (len(plain) < _TRIVIAL_PLAIN and len(html.text) > len(plain)):
            text = html.text
        links = (html.links if html else []) + [f"http://{h}" for h in _URL_HOST.findall(plain)]
        hosts = tuple(dict.fromkeys(h for h in (_host(link) for link in links) if h))
        return {
            "text": text, "html": bool(self.htmls), "has_text_plain": bool(self.plain),
            "link_count": len(links), "link_domains": hosts,
            "image_count": (html.images if html else 0) + self.image_parts,
            "attachments": tuple(self.attachments),
        }


def _safe(call, default):
    try:
        return call()
    except Exception:
        return default


def _host(link: str) -> str:
    match = _URL_HOST.match(link.strip())
    return match.group(1).lower().rstrip(".") if match else ""


def _charset_decode(data: bytes, charset: str | None) -> str | None:
    if charset:
        try:
            codecs.lookup(charset)
            return data.decode(charset, errors="replace")
        except (LookupError, ValueError):
            return None
    return None


def _decode(data: bytes, charset: str | None, defects: list[str]) -> str:
    """Bytes of a part in its charset; unknown charsets fall back to UTF-8, then Latin-1."""
    text = _charset_decode(data, charset)
    if text is not None:
        return text
    if charset:
        defects.append(f"unknown charset {charset[:40]!r}")
    return _utf8_or_latin1(data)


def _utf8_or_latin1(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _raw_header(value: object) -> str:
    """A header as compat32 gives it, with raw 8-bit bytes read as UTF-8 or else Latin-1."""
    if isinstance(value, Header):  # compat32's wrapper for headers with 8-bit bytes
        return "".join(
            chunk if isinstance(chunk, str)
            else _utf8_or_latin1(chunk) if charset in (None, "unknown-8bit")
            else _charset_decode(chunk, charset) or _utf8_or_latin1(chunk)
            for chunk, charset in decode_header(value))
    value = str(value)
    if not any("\udc80" <= c <= "\udcff" for c in value):
        return value
    return _utf8_or_latin1(value.encode("utf-8", "surrogateescape"))


def _decode_words(value: str, defects: list[str]) -> str:
    """Decode RFC 2047 encoded words; bad charsets become replacement text, not errors."""
    value = _raw_header(value)
    if "=?" not in value:
        return value
    try:
        chunks = decode_header(value)
    except Exception:
        defects.append("undecodable encoded word")
        return value
    out = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            out.append(chunk)
            continue
        out.append(_decode(chunk, charset, defects))
    return "".join(out)


def _header(headers: EmailMessage, name: str, defects: list[str]) -> str:
    value = headers.get(name)
    if value is None:
        return ""
    return " ".join(_decode_words(value, defects).split())


def _ids(value: str) -> tuple[str, ...]:
    found = _ANGLE.findall(value)
    return tuple(found) if found else tuple(value.split())


def _addresses(value: str) -> list[tuple[str, str]]:
    return [(name, address.lower()) for name, address in _safe(lambda: getaddresses([value]), [])
            if address]


def _date(value: str) -> datetime | None:
    parsed = _safe(lambda: parsedate_to_datetime(value), None) if value else None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def _header_fields(headers: EmailMessage, defects: list[str]) -> dict:
    def get(name: str) -> str:
        return _header(headers, name, defects)

    sender = _addresses(get("From"))
    name, address = sender[0] if sender else ("", "")
    list_id = get("List-Id")
    precedence, auto = get("Precedence").lower(), get("Auto-Submitted").lower()
    auth = {}
    for method, verdict in _AUTH.findall(get("Authentication-Results")):
        auth.setdefault(method.lower(), verdict.lower())
    unsubscribe = get("List-Unsubscribe")
    return {
        "message_id": (_ids(get("Message-ID")) or ("",))[0],
        "from_name": name, "from_address": address,
        "from_domain": address.rpartition("@")[2] if "@" in address else "",
        "to": tuple(a for _, a in _addresses(get("To"))),
        "cc": tuple(a for _, a in _addresses(get("Cc"))),
        "reply_to": tuple(a for _, a in _addresses(get("Reply-To"))),
        "subject": get("Subject"),
        "date": _date(get("Date")),
        "in_reply_to": (_ids(get("In-Reply-To")) or ("",))[0],
        "references": _ids(get("References")),
        "list_id": ((_ANGLE.findall(list_id) or [list_id])[0]).strip().lower(),
        "list_unsubscribe": tuple(u.strip() for u in _ANGLE.findall(unsubscribe)),
        "list_unsubscribe_post": get("List-Unsubscribe-Post"),
        "precedence": precedence, "auto_submitted": auto,
        "is_bulk": (precedence in ("bulk", "list", "junk") or auto not in ("", "no")
                    or bool(list_id or unsubscribe)
                    or any(headers.get(h) is not None for h in BULK_HEADERS)),
        "auth_results": AuthResults(**auth),
        "dkim_domains": tuple(
            d.lower() for value in headers.get_all("DKIM-Signature") or []
            for d in _DKIM_DOMAIN.findall(_raw_header(value))),
    }


def _finish(message: Message) -> Message:
    """Fill the fields derived from the others: snippet and content hash."""
    snippet = message.text[:SNIPPET_CHARS].replace("\n", " ")
    if len(message.text) > SNIPPET_CHARS:
        snippet = snippet.rsplit(" ", 1)[0] + "…"
    basis = f"{message.subject.lower()}\n{' '.join(message.text.split()).lower()}"
    content_hash = hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()
    return _replace(message, snippet=" ".join(snippet.split()), content_hash=content_hash)


def _replace(message: Message, **changes) -> Message:
    from dataclasses import replace

    return replace(message, **changes)
