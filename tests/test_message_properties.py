"""parse never raises and always returns a sane Message, on any bytes at all."""

from __future__ import annotations

import base64
from datetime import datetime
from email.message import EmailMessage

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gatekeeper.core.message import Attachment, AuthResults, Message, parse


def _alternative_with_attachment() -> bytes:
    message = EmailMessage()
    message["From"] = "=?utf-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.org>"
    message["To"] = "reader@example.net, Other <other@example.net>"
    message["Subject"] = "Café news, ✓ and 日本語"
    message["Date"] = "Tue, 17 Nov 2026 18:42:10 +0100"
    message["Message-ID"] = "<seed.1@example.org>"
    message["List-Id"] = "News <news.example.org>"
    message["List-Unsubscribe"] = "<https://example.org/u>, <mailto:u@example.org>"
    message["Authentication-Results"] = "mx.example.net; spf=pass; dkim=pass; dmarc=pass"
    message["DKIM-Signature"] = "v=1; a=rsa-sha256; d=example.org; s=s1; bh=x; b=y"
    message.set_content("Plain body with a link https://a.example/x and some words. " * 5)
    message.add_alternative("<html><head><style>p{}</style></head><body><p>HTML <a href="
                            "'https://b.example'>link</a></p><img src=x><div style="
                            "'display:none'>hidden</div></body></html>", subtype="html")
    message.add_attachment(b"%PDF-1.4 binary \x00\xff" * 20, maintype="application",
                           subtype="pdf", filename="Übersicht.pdf")
    return bytes(message)


SEEDS = [
    _alternative_with_attachment(),
    (b"From: Ann <ann@example.org>\r\nSubject: =?koi8-r?B?8NLJ18XU?= files\r\n"
     b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
     b"Content-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: base64\r\n\r\n"
     + base64.b64encode("Привет, как дела?".encode("koi8-r"))
     + b"\r\n--B\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n"
     b"--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
     b"filename*=utf-8''%C3%BC.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
     b"JVBERi0=\r\n--B--\r\n"),
    (b"From x@y  Mon Jan  1 00:00:00 2002\nFrom: x@y.example\nList-Id: <l.example>\n"
     b"Subject: Gr\xfc\xdfe 8-bit\nAuthentication-Results: mx; spf=pass; dkim=fail\n"
     b"Date: Tue, 1 Jan 2002 00:00:00 +0000\nContent-Transfer-Encoding: quoted-printable\n"
     b"Content-Type: text/html; charset=iso-8859-1\n\n<p>quoted=20printable=\nsoft break "
     b"caf=E9 <a href=3D\"https://c.example\">x</a></p>"),
]


def check(message: Message, raw: bytes) -> None:
    assert isinstance(message, Message)
    assert message.size == len(raw)
    assert len(message.snippet) <= 201 and "\n" not in message.snippet
    for name in ("message_id", "from_name", "from_address", "from_domain", "subject", "text",
                 "in_reply_to", "list_id", "list_unsubscribe_post", "precedence",
                 "auto_submitted", "snippet"):
        assert isinstance(getattr(message, name), str), name
    for name in ("to", "cc", "reply_to", "references", "list_unsubscribe", "dkim_domains",
                 "link_domains", "defects"):
        value = getattr(message, name)
        assert isinstance(value, tuple) and all(isinstance(v, str) for v in value), name
    assert message.date is None or (isinstance(message.date, datetime) and message.date.tzinfo)
    assert isinstance(message.auth_results, AuthResults)
    assert all(isinstance(a, Attachment) and a.size >= 0 for a in message.attachments)
    assert min(message.link_count, message.image_count) >= 0
    assert message.link_count >= 0 and len(message.content_hash) == 64
    assert message.from_address == message.from_address.lower()
    embedding_text = message.text_for_embedding(300)
    assert isinstance(embedding_text, str) and len(embedding_text) <= 300


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_parse_never_raises_on_arbitrary_bytes(data):
    check(parse(data), data)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([b"From: a@b.example\r\n", b"Content-Type: multipart/mixed; "
                                 b"boundary=B\r\n", b"--B\r\n", b"--B--\r\n", b"\r\n", b"<a ",
                                 b"=?utf-8?B?w4Q?=", b"Content-Type: message/rfc822\r\n",
                                 b"Content-Type: text/html\r\n", b"\xff\xfe", b"<div hidden>"]),
                max_size=200))
def test_parse_never_raises_on_mime_like_fragments(pieces):
    data = b"".join(pieces)
    check(parse(data), data)


@st.composite
def mutated(draw) -> bytes:
    """A seed message damaged the way transfers and hostile senders damage mail."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "insert", "truncate", "duplicate", "drop_header"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "truncate":
            del data[at:]
        elif kind == "duplicate":
            end = draw(st.integers(at, min(len(data), at + 2000)))
            data[at:at] = data[at:end] * draw(st.integers(1, 4))
        else:  # delete one header line
            lines = bytes(data).split(b"\n")
            header_count = next((i for i, line in enumerate(lines) if not line.strip()),
                                len(lines))
            if header_count:
                del lines[draw(st.integers(0, header_count - 1))]
            data = bytearray(b"\n".join(lines))
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_parse_never_raises_on_mutated_real_looking_mail(data):
    check(parse(data), data)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(SEEDS), st.integers(0, 5000), st.integers(1, 5), st.integers(0, 3))
def test_caps_never_break_the_contract(seed, max_body_bytes, max_parts, max_depth):
    message = parse(seed, max_body_bytes=max_body_bytes, max_parts=max_parts,
                    max_depth=max_depth)
    check(message, seed)


# Visible text only: parse drops control and invisible format characters on purpose.
VISIBLE = st.characters(exclude_categories=("Cs", "Cc", "Cf", "Co", "Cn"),
                        exclude_characters="\u034f")


@settings(max_examples=100, deadline=None)
@given(st.text(VISIBLE, max_size=200), st.text(VISIBLE, max_size=500))
def test_subject_and_body_survive_a_round_trip(subject, body):
    subject = " ".join(subject.split()) or "x"
    assume("=?" not in subject)  # literal encoded-word syntax is decoded, as mail clients do
    message = EmailMessage()
    message["From"] = "a@b.example"
    try:
        message["Subject"] = subject
        message.set_content(body)
        data = bytes(message)
    except (ValueError, TypeError):  # the stdlib refuses some header text; not our input
        return
    parsed = parse(data)
    check(parsed, data)
    assert parsed.subject == subject
    assert " ".join(parsed.text.split()) == " ".join(body.split())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_any_html_gives_text_without_markup_of_hidden_parts(html):
    data = b"Content-Type: text/html; charset=utf-8\r\n\r\n" + html.encode("utf-8", "replace")
    message = parse(data + b"<script>SCRIPTTEXT</script><style>STYLETEXT</style>")
    check(message, data + b"<script>SCRIPTTEXT</script><style>STYLETEXT</style>")
    assert "SCRIPTTEXT" not in message.text and "STYLETEXT" not in message.text
