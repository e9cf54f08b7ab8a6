"""A campaign as the simulator reads it: one message a sender is about to send.

What is given is judged by its content, not its name: a file with header lines is a
message (.eml), a file without them that reads as HTML is an HTML campaign that gets the
`--subject` and `--from` it needs, whatever its suffix, and anything else (a binary, a
text without headers) is refused with a clear error, not scored. Size past Gmail's
clipping limit is a loud warning carried with the campaign.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from ..core.message import Message, parse
from ..errors import InputError
from .lint import GMAIL_CLIP_BYTES

SNIFF_BYTES = 8192  # how much of the start is looked at to tell what a file is
# Bytes no text holds: NUL and the C0 controls but tab, newline, form feed, carriage
# return and escape. A mail client's 8bit text in any charset has (almost) none of them.
_CONTROL_BYTES = bytes(set(range(32)) - {9, 10, 12, 13, 27})
MAX_CONTROL_SHARE = 0.01  # random binary data has ~11%; text 0
_HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:")  # RFC 5322 field name, then ':'
_MBOX_FROM = re.compile(rb"From \S+")  # an mbox separator line before the headers
_HTML_START = re.compile(rb"\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|table|div|"
                         rb"center|meta|style|p|h[1-6])[\s>/]", re.I | re.S)
SENT_AT = 1_767_225_600.0  # the Date of an HTML campaign: 2026-01-01, the simulated start


@dataclass(frozen=True)
class Campaign:
    """One message a sender is about to send."""

    name: str  # the file name, or the name a caller gave
    raw: bytes  # the message as it would be sent
    message: Message
    warnings: tuple[str, ...] = ()  # said loudly before any result: size past clipping


def looks_binary(data: bytes) -> bool:
    """True for data no mail client writes as a message: NUL bytes or many control bytes."""
    head = data[:SNIFF_BYTES]
    if b"\0" in head:
        return True
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return bool(head) and controls / len(head) > MAX_CONTROL_SHARE


def has_headers(data: bytes) -> bool:
    """True when the data starts with a header block: header lines up to an empty line (or
    the end), the first of them a `Name:` field."""
    lines = data.lstrip(b"\r\n")[:SNIFF_BYTES].splitlines()
    if lines and _MBOX_FROM.match(lines[0]) and not _HEADER_LINE.match(lines[0]):
        lines = lines[1:]
    if not lines or not _HEADER_LINE.match(lines[0]):
        return False
    for line in lines[1:]:
        if not line.strip():
            return True
        if not (line[:1] in (b" ", b"\t") or _HEADER_LINE.match(line)):
            return False
    return True


def looks_like_html(data: bytes) -> bool:
    return bool(_HTML_START.match(data.removeprefix(b"\xef\xbb\xbf")[:SNIFF_BYTES]))


def load_campaign(path: Path, subject: str | None = None, sender: str | None = None) -> Campaign:
    """A campaign from a message file, or from an HTML file with `subject` and `sender`."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read campaign {path}: {error.strerror or error}") from error
    return read_campaign(path.name, data, subject, sender)


def read_campaign(name: str, data: bytes, subject: str | None = None,
                  sender: str | None = None) -> Campaign:
    """The campaign in `data`, judged by its content; InputError when it is none."""
    if not data.strip():
        raise InputError(f"{name} is empty: no subject and no readable text")
    if looks_binary(data):
        raise InputError(f"{name} is not an email message: it holds binary data (NUL or "
                         "control bytes). Give the message as sent (.eml) or its HTML")
    if has_headers(data):
        if subject or sender:
            raise InputError(f"--subject and --from are for an HTML campaign; {name} is a "
                             "message with its own headers")
    elif looks_like_html(data):
        if not (subject and sender):
            raise InputError(f"{name} is HTML without mail headers: give --subject and --from "
                             "too (or pass the complete message as sent)")
        data = html_message(data.decode("utf-8", "replace"), subject, sender)
    else:
        raise InputError(f"{name} is not an email message: it has no header lines (From:, "
                         "Subject:, ...) and is not HTML. Give the message as sent (.eml) "
                         "or its HTML with --subject and --from")
    message = parse(data)
    if not (message.subject or message.text):
        raise InputError(f"{name}: no subject and no readable text; is it an email message "
                         "(.eml) or an HTML file?")
    return Campaign(name, data, message, size_warnings(data))


def size_warnings(data: bytes) -> tuple[str, ...]:
    if len(data) <= GMAIL_CLIP_BYTES:
        return ()
    return (f"The message is {len(data) / 1024:,.0f} KB, over the {GMAIL_CLIP_BYTES // 1024} KB "
            "at which Gmail clips it: readers see '[Message clipped]' and not the end, the "
            "unsubscribe link included. Only its first part was read for relevance.",)


def html_message(html: str, subject: str, sender: str) -> bytes:
    """The bytes of an HTML-only message, as a mail tool would send this HTML as is."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "recipient@example.net"
    message["Subject"] = subject
    message["Date"] = formatdate(SENT_AT)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    message.set_content(html, subtype="html")
    return bytes(message)
