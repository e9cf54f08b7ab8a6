"""A hostile corpus, generated here (nothing copied): mail anyone can send that has broken
or tried to break a mail filter, each message named for what it tries.

`corpus()` gives every kind once; `corpus(copies=n)` gives n of each with different
Message-IDs. Terminal tricks (`TERMINAL_TRICKS`) are strings a subject, a sender name or a
Message-ID can carry; `ESCAPE` is the character no line printed to a terminal may hold.
"""

from __future__ import annotations

import base64

ESCAPE = "\x1b"

# Strings that act on a terminal or on rich's markup if printed as they are.
TERMINAL_TRICKS = (
    "[/bold] closes a tag that was never opened",
    "[link=https://evil.example/pay]your invoice[/link]",
    "\x1b]0;window title set by mail\x07 and \x1b[2J the screen cleared",
    "\x1b[31mred\x1b[0m \x9b31m C1 CSI \u202egnp.exe bidi override",
    ":warning: emoji code and [bold red]style[/]",
    "carriage\rreturn and back\bspace",
)


def _message(name: str, n: int, headers: str = "", body: bytes = b"Hello.",
             content_type: str = "text/plain; charset=utf-8", message_id: str | None = None,
             subject: str | None = None, sender: str | None = None) -> bytes:
    message_id = f"<{name}-{n}@hostile.example>" if message_id is None else message_id
    sender = sender or f"Sender {n} <sender{n}@hostile.example>"
    head = (f"From: {sender}\r\n"
            f"To: reader@example.net\r\nSubject: {subject or f'{name} {n}'}\r\n"
            f"Date: Fri, 20 Nov 2026 09:00:00 +0000\r\n"
            + (f"Message-ID: {message_id}\r\n" if message_id else "")
            + f"MIME-Version: 1.0\r\nContent-Type: {content_type}\r\n" + headers)
    return head.encode("utf-8", "surrogateescape") + b"\r\n" + body


def _nested(depth: int) -> bytes:
    body = b"innermost"
    for level in range(depth):
        body = (f"--b{level}\r\nContent-Type: multipart/mixed; boundary=b{level + 1}\r\n\r\n"
                .encode() + body + f"\r\n--b{level}--\r\n".encode())
    return body


def _kinds(n: int) -> dict[str, bytes]:
    trick = TERMINAL_TRICKS[n % len(TERMINAL_TRICKS)]
    encoded_trick = base64.b64encode(trick.encode()).decode()
    return {
        "utf7-lone-surrogate": _message("utf7", n, body=b"+2D0-",
                                        content_type="text/plain; charset=utf-7"),
        "utf7-surrogate-subject": _message("utf7s", n, subject="=?utf-7?Q?+2D0-?="),
        "unicode-escape-charset": _message("uesc", n, body=b"\\ud800 \\x00 \\u202e",
                                           content_type="text/plain; charset=unicode_escape"),
        "raw-trick-subject": _message("raw", n, subject=trick.replace("\r", " ")),
        "encoded-trick-subject": _message("encsubj", n, subject=f"=?utf-8?B?{encoded_trick}?="),
        "trick-sender-name": _message("name", n, sender=f"=?utf-8?B?{encoded_trick}?= "
                                                        f"<x{n}@hostile.example>"),
        "nul-in-message-id": _message("nul", n, message_id=f"<nul\x00id-{n}@hostile.example>"),
        "8bit-message-id": _message("8bit", n, message_id=f"<8bit\udc80\udcff-{n}@hostile.example>"),
        "escape-in-message-id": _message("escid", n, message_id=f"<esc\x1b[2J-{n}@hostile.example>"),
        "quote-backslash-message-id": _message("quote", n,
                                               message_id=f'<q"u\\o{{te}}-{n}@hostile.example>'),
        "no-message-id": _message("noid", n, message_id=""),
        "long-message-id": _message("longid", n, message_id=f"<{'x' * 5000}-{n}@hostile.example>"),
        "huge-header": _message("hugeheader", n, "X-Filler: " + "a" * 300_000 + "\r\n"),
        "many-headers": _message("manyheaders", n, "".join(f"X-H{k}: v\r\n" for k in range(5000))),
        "deep-nesting": _message("deep", n, body=_nested(200),
                                 content_type="multipart/mixed; boundary=b0"),
        "no-body-separator": f"Subject: nosep {n}\r\nMessage-ID: <nosep-{n}@hostile.example>"
                             .encode(),
        "binary-garbage": b"\xff\xfe\x00\x01" * 64 + f"<garbage-{n}>".encode(),
        "empty": b"",
        "bad-base64": _message("b64", n, "Content-Transfer-Encoding: base64\r\n",
                               body=b"!!!not base64!!!===="),
        "unknown-charset": _message("charset", n, body=b"caf\xe9",
                                    content_type="text/plain; charset=x-no-such-charset"),
        "html-bomb": _message("html", n, body=b"<a " * 20000,
                              content_type="text/html; charset=utf-8"),
        "nul-bytes-in-body": _message("nulbody", n, body=b"a\x00b\x00" * 1000),
    }


KINDS = tuple(_kinds(0))


def kind(name: str, n: int = 0) -> bytes:
    """The message of one kind, numbered `n` (its Message-ID says so)."""
    return _kinds(n)[name]


def corpus(copies: int = 1) -> list[tuple[str, bytes]]:
    """(kind, raw bytes) of every kind, `copies` times with different Message-IDs."""
    return [(kind, raw) for n in range(copies) for kind, raw in _kinds(n).items()]
