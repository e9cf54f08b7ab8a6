"""message.parse on crafted messages: MIME shapes, encodings, limits and broken input."""

from __future__ import annotations

import base64
from datetime import datetime, timezone

import pytest

from gatekeeper.message import Attachment, AuthResults, parse
from gatekeeper.testing import build_message


def raw(headers: str, body: str | bytes = "Hello.") -> bytes:
    body = body.encode() if isinstance(body, str) else body
    return headers.strip().replace("\n", "\r\n").encode("utf-8", "surrogateescape") + b"\r\n\r\n" + body


ALTERNATIVE = raw(
    """From: Ann <ann@example.org>
Subject: Both
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="XX"
""",
    "--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe plain version is long enough to win.\r\n"
    "--XX\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>The <b>HTML</b> version</p>\r\n--XX--\r\n",
)

HTML_ONLY = raw(
    """From: Shop <deals@shop.example>
Subject: Sale
Content-Type: text/html; charset=utf-8
""",
    """<html><head><title>T</title><style>p {color: red}</style><script>var x = "secret";</script></head>
<body><div style="display:none;max-height:0">hidden preheader</div>
<h1>Big&nbsp;sale &amp; more</h1><p>Shoes   and
boots</p><span hidden>also hidden</span><img src="https://cdn.shop.example/a.png">
<a href="https://www.shop.example/x">Shop</a> <a href="https://bit.ly/abc">short</a>
<a href="https://www.shop.example/y">again</a></body></html>""",
)


def test_multipart_alternative_prefers_plain_text():
    message = parse(ALTERNATIVE)
    assert message.text == "The plain version is long enough to win."
    assert message.html and message.has_text_plain


def test_trivial_plain_part_defers_to_richer_html():
    message = parse(ALTERNATIVE.replace(b"The plain version is long enough to win.", b"View online"))
    assert message.text == "The HTML version"


def test_html_only_drops_scripts_styles_and_hidden_text():
    message = parse(HTML_ONLY)
    assert message.text == "Big sale & more\n\nShoes and boots\nShop short again"
    assert "secret" not in message.text and "hidden" not in message.text
    assert message.html and not message.has_text_plain


def test_html_links_and_images_are_counted():
    message = parse(HTML_ONLY)
    assert message.link_count == 3
    assert message.link_domains == ("www.shop.example", "bit.ly")
    assert message.image_count == 1


def test_plain_text_urls_count_as_links():
    message = parse(raw("From: a@b.example\nSubject: x", "See https://docs.example.org/a and "
                        "http://other.example/b?q=1 and https://docs.example.org/c"))
    assert message.link_count == 3
    assert message.link_domains == ("docs.example.org", "other.example")


@pytest.mark.parametrize(
    ("encoding", "payload"),
    [
        ("base64", base64.b64encode("Grüße aus Köln, ça va?".encode()).decode()),
        ("quoted-printable", "Gr=C3=BC=C3=9Fe aus K=C3=B6ln, =C3=A7a va?"),
    ],
)
def test_transfer_encodings_are_decoded(encoding, payload):
    message = parse(raw(f"From: a@b.example\nContent-Type: text/plain; charset=utf-8\n"
                        f"Content-Transfer-Encoding: {encoding}", payload))
    assert message.text == "Grüße aus Köln, ça va?"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("=?utf-8?B?w4RwZmVsIHVuZCBCaXJuZW4=?=", "Äpfel und Birnen"),
        ("=?utf-8?Q?caf=C3=A9_cr=C3=A8me?=", "café crème"),
        ("=?iso-8859-1?Q?Fr=E9d=E9ric?= says hi", "Frédéric says hi"),
        ("=?koi8-r?B?8NLJ18XU?=", "Привет"),
        ("=?shift_jis?B?k/qWe4zq?=", "日本語"),
        ("=?gb2312?B?1tDOxA==?=", "中文"),
        ("=?windows-1252?Q?=93quoted=94?=", "\u201cquoted\u201d"),
        ("=?x-unknown?Q?abc?=", "abc"),
        ("plain   words\n\t folded", "plain words folded"),
    ],
)
def test_encoded_word_subjects_in_many_charsets(header, expected):
    assert parse(raw(f"From: a@b.example\nSubject: {header}")).subject == expected


def test_unknown_charset_is_recorded_as_a_defect():
    message = parse(raw("From: a@b.example\nContent-Type: text/plain; charset=x-bogus", "hello"))
    assert message.text == "hello"
    assert any("unknown charset" in d for d in message.defects)


@pytest.mark.parametrize("charset", ["latin-1", "utf-8"])
def test_raw_8bit_headers_are_read(charset):
    data = "From: Jürgen <j@b.example>\r\nSubject: Grüße\r\n\r\nbody".encode(charset)
    message = parse(data)
    assert message.subject == "Grüße"
    assert message.from_name == "Jürgen"


@pytest.mark.parametrize(
    "data",
    [
        raw("From: a@b.example\nContent-Type: multipart/mixed; boundary=nope", "no boundary here"),
        raw("From: a@b.example\nContent-Type: multipart/mixed; boundary=B",
            "--B\r\nContent-Type: text/plain\r\n\r\nunterminated part"),
        raw("From: a@b.example\nContent-Type: multipart/mixed", "no boundary parameter"),
    ],
)
def test_broken_boundaries_still_give_text(data):
    message = parse(data)
    assert message.defects
    assert message.from_address == "a@b.example"


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n", b"Subject: only", b"just some words"])
def test_missing_headers_give_empty_fields(data):
    message = parse(data)
    assert message.from_address == "" and message.date is None and message.message_id == ""
    assert message.size == len(data)


def test_headers_without_body():
    message = parse(b"From: Ann <ann@example.org>\r\nSubject: Nothing else\r\n")
    assert (message.subject, message.text) == ("Nothing else", "")


def test_address_fields_and_ids():
    message = parse(raw(
        """From: "Keller, Maria" <Maria.Keller@Example.ORG>
To: a@x.example, "B" <b@y.example>
Cc: c@z.example
Reply-To: r@x.example
Message-ID: <abc@example.org>
In-Reply-To: <prev@example.net>
References: <first@example.net> <prev@example.net>
Date: Tue, 17 Nov 2026 18:42:10 +0100"""))
    assert (message.from_name, message.from_address, message.from_domain) == (
        "Keller, Maria", "maria.keller@example.org", "example.org")
    assert message.to == ("a@x.example", "b@y.example") and message.cc == ("c@z.example",)
    assert message.reply_to == ("r@x.example",)
    assert (message.message_id, message.in_reply_to) == ("abc@example.org", "prev@example.net")
    assert message.references == ("first@example.net", "prev@example.net")
    assert message.date == datetime(2026, 11, 17, 17, 42, 10, tzinfo=timezone.utc)


@pytest.mark.parametrize("value", ["not a date", "Mon, 99 Foo 2026 99:99:99 +9999", ""])
def test_unreadable_dates_are_none(value):
    assert parse(raw(f"From: a@b.example\nDate: {value}")).date is None


def test_list_and_bulk_headers():
    message = parse(raw(
        """From: News <news@list.example>
List-Id: Weekly News <Weekly.List.Example>
List-Unsubscribe: <https://list.example/u/1>, <mailto:u@list.example>
List-Unsubscribe-Post: List-Unsubscribe=One-Click
Precedence: Bulk"""))
    assert message.list_id == "weekly.list.example"
    assert message.list_unsubscribe == ("https://list.example/u/1", "mailto:u@list.example")
    assert message.list_unsubscribe_post == "List-Unsubscribe=One-Click"
    assert message.precedence == "bulk" and message.is_bulk


@pytest.mark.parametrize(
    ("headers", "bulk"),
    [("Auto-Submitted: auto-generated", True), ("Auto-Submitted: no", False),
     ("Feedback-ID: 1:camp:esp", True), ("Precedence: list", True), ("X-Other: 1", False)],
)
def test_bulk_markers(headers, bulk):
    assert parse(raw(f"From: a@b.example\n{headers}")).is_bulk is bulk


def test_first_authentication_results_header_wins():
    message = parse(raw(
        """From: a@b.example
Authentication-Results: mx.near.example; spf=pass smtp.mailfrom=b.example; dkim=fail header.d=b.example; dmarc=fail
Authentication-Results: mx.far.example; spf=fail; dkim=pass; dmarc=pass
DKIM-Signature: v=1; a=rsa-sha256; d=B.example; s=s1; bh=x; b=y
DKIM-Signature: v=1; a=rsa-sha256; d=esp.example; s=s2; bh=x; b=y"""))
    assert message.auth_results == AuthResults(spf="pass", dkim="fail", dmarc="fail")
    assert message.dkim_domains == ("b.example", "esp.example")


def test_attachments_are_listed_with_names_and_types():
    data = raw(
        """From: a@b.example
Content-Type: multipart/mixed; boundary=M""",
        "--M\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
        "--M\r\nContent-Type: application/pdf; name=\"r.pdf\"\r\nContent-Disposition: attachment; "
        "filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(b"%PDF-1.4 test").decode() + "\r\n"
        "--M\r\nContent-Type: image/png\r\nContent-Disposition: attachment; "
        "filename*=utf-8''%C3%BCbersicht.png\r\n\r\nPNGDATA\r\n--M--\r\n",
    )
    message = parse(data)
    assert message.text == "See attached."
    assert message.attachments == (Attachment("report.pdf", "application/pdf", 13),
                                   Attachment("übersicht.png", "image/png", 7))
    assert message.image_count == 1


def test_mbox_from_line_is_skipped():
    message = parse(b"From someone@example.org  Mon Jan  1 00:00:00 2002\n"
                    b"From: Real <real@example.org>\nSubject: Hi\n\nBody")
    assert message.from_address == "real@example.org" and message.text == "Body"


def test_ten_megabyte_message_is_truncated_at_the_cap():
    data = raw("From: a@b.example\nSubject: big", "word " * 2_000_000)
    message = parse(data)
    assert message.truncated and message.size == len(data)
    assert 60_000 < len(message.text) <= 64 * 1024
    assert any("truncated" in d for d in message.defects)


def test_thousand_parts_stop_at_the_part_cap():
    parts = "".join(f"--P\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n" for i in range(1000))
    message = parse(raw("From: a@b.example\nContent-Type: multipart/mixed; boundary=P",
                        parts + "--P--\r\n"), max_body_bytes=10_000_000)
    assert any("too many parts" in d for d in message.defects)
    assert "part 0" in message.text and "part 999" not in message.text


def test_deep_nesting_stops_at_the_depth_cap():
    body, headers = "innermost text", "Content-Type: text/plain"
    for level in range(500):
        body = f"{headers}\r\n\r\n{body}" if level == 0 else \
            f"--b{level}\r\n{headers}\r\n\r\n{body}\r\n--b{level}--\r\n"
        headers = f"Content-Type: multipart/mixed; boundary=b{level + 1}"
    message = parse(raw(f"From: a@b.example\n{headers}", body), max_body_bytes=10_000_000)
    assert message.from_address == "a@b.example"
    assert message.defects


def test_content_hash_ignores_ids_and_dates_but_not_content():
    first = parse(build_message(subject="Sale", body="50% off", message_id="<1@x>"))
    resend = parse(build_message(subject="Sale", body="50% off", message_id="<2@x>",
                                 date=datetime(2027, 1, 1, tzinfo=timezone.utc)))
    other = parse(build_message(subject="Sale", body="60% off"))
    assert first.content_hash == resend.content_hash != other.content_hash


def test_text_for_embedding_is_subject_then_body_capped():
    message = parse(build_message(subject="Launch update", body="The rocket flew. " * 500))
    text = message.text_for_embedding()
    assert text.startswith("Launch update\n\nThe rocket flew.")
    assert len(text) == 2000
    assert len(message.text_for_embedding(max_chars=100)) == 100
    assert parse(raw("From: a@b.example", "only body")).text_for_embedding() == "only body"


def test_snippet_is_short_and_cut_at_a_word():
    message = parse(build_message(body="word " * 100))
    assert message.snippet.endswith("…") and len(message.snippet) <= 201
    assert not message.snippet[:-1].endswith(" ")
