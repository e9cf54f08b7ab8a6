"""message.parse on crafted messages: MIME shapes, encodings, limits and broken input."""

from __future__ import annotations

import base64
import time
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime

import pytest

from gatekeeper.core.message import Attachment, AuthResults, Message, parse


def raw(headers: str, body: str | bytes = "Hello.") -> bytes:
    """A message from a header block written with \\n and a body, with CRLF line ends."""
    body = body.encode() if isinstance(body, str) else body
    head = headers.strip().replace("\n", "\r\n").encode("utf-8", "surrogateescape")
    return head + b"\r\n\r\n" + body


def build(*, subject: str = "Hello", body: str = "Just saying hello.", html: str | None = None,
          message_id: str = "<1@example.org>", date: datetime | None = None) -> bytes:
    """A well-formed message written by the stdlib, as a mail client would send it."""
    message = EmailMessage()
    message["From"] = "Alice Example <alice@example.org>"
    message["To"] = "reader@example.net"
    message["Subject"] = subject
    message["Date"] = format_datetime(date or datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc))
    message["Message-ID"] = message_id
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return bytes(message)


def multipart(parts: list[str], subtype: str = "mixed", boundary: str = "B") -> bytes:
    body = "".join(f"--{boundary}\r\n{part}\r\n" for part in parts) + f"--{boundary}--\r\n"
    return raw(f"From: a@b.example\nContent-Type: multipart/{subtype}; boundary={boundary}", body)


ALTERNATIVE = multipart([
    "Content-Type: text/plain; charset=utf-8\r\n\r\nThe plain version is long enough to win.",
    "Content-Type: text/html; charset=utf-8\r\n\r\n<p>The <b>HTML</b> version, which says a good "
    "deal more than the plain one, <a href='https://html.example/'>here</a></p>",
], subtype="alternative")

HTML_ONLY = raw(
    """From: Shop <deals@shop.example>
Subject: Sale
Content-Type: text/html; charset=utf-8
""",
    """<html><head><title>T</title><style>p {color: red}</style>
<script>var x = "secret";</script></head>
<body><div style="display:none;max-height:0">preheader one</div>
<h1>Big&nbsp;sale &amp; more</h1><p>Shoes   and
boots</p><span hidden>preheader two</span><img src="https://cdn.shop.example/a.png">
<a href="https://www.shop.example/x">Shop</a> <a href="https://bit.ly/abc">short</a>
<a href="https://WWW.Shop.example/y">again</a> <a href="mailto:x@shop.example">mail</a>
<!--[if mso]><a href="https://outlook.example/">dup</a><![endif]--></body></html>""",
)


# --- body text --------------------------------------------------------------------------


def test_multipart_alternative_prefers_plain_text():
    message = parse(ALTERNATIVE)
    assert message.text == "The plain version is long enough to win."
    assert message.html and message.has_text_plain


def test_trivial_plain_part_defers_to_a_much_longer_html_part():
    short = ALTERNATIVE.replace(b"The plain version is long enough to win.", b"View online")
    message = parse(short)
    assert message.text == ("The HTML version, which says a good deal more than the plain one, "
                            "here")


def test_trivial_plain_part_stays_when_html_says_no_more():
    data = multipart(["Content-Type: text/plain\r\n\r\nThanks, see you",
                      "Content-Type: text/html\r\n\r\n<p>Thanks, see you!</p>"], "alternative")
    assert parse(data).text == "Thanks, see you"


def test_html_only_drops_scripts_styles_and_hidden_text():
    message = parse(HTML_ONLY)
    assert message.text == "Big sale & more\n\nShoes and boots\nShop short again mail"
    assert message.html and not message.has_text_plain


def test_html_links_and_images_are_counted_outside_comments():
    message = parse(HTML_ONLY)
    assert message.link_count == 3  # http(s) hrefs only; the Outlook comment is skipped
    assert message.link_domains == ("www.shop.example", "bit.ly")
    assert message.image_count == 1


@pytest.mark.parametrize(
    ("attributes", "visible"),
    [
        ('style="display: none !important"', False),
        ('style="visibility:hidden"', False),
        ("hidden", False),
        ('style="font-size:0px;line-height:0"', False),
        ('style="max-height:0;overflow:hidden"', False),
        ('style="opacity:0"', False),
        ('style="mso-hide:all"', False),
        ('style="font-size:12px"', True),
        ('style="max-height:0"', True),  # without overflow:hidden the text still shows
        ('style="opacity:0.8"', True),
        ('class="hidden"', True),
    ],
)
def test_hidden_elements_are_dropped(attributes, visible):
    html = f"<p>Shown</p><div {attributes}>Maybe <b>shown</b></div><p>End</p>"
    text = parse(raw("From: a@b.example\nContent-Type: text/html", html)).text
    assert text == ("Shown\n\nMaybe shown\n\nEnd" if visible else "Shown\n\nEnd")


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<div>one</div><div>two</div>", "one\n\ntwo"),
        ("line<br>break<br/>again", "line\nbreak\nagain"),
        ("<ul><li>a</li><li>b</li></ul>", "a\n\nb"),
        ("<table><tr><td>Price:</td><td>5 &euro;</td></tr><tr><td>Tax</td></tr></table>",
         "Price: 5 €\n\nTax"),
        ("<h2>Title</h2>text &lt;b&gt; &#8212; &#x41;", "Title\ntext <b> — A"),
        ("pre&zwnj;&nbsp;&zwnj;&nbsp;head\u200ber&#847;s", "pre headers"),  # invisible: gone
        ("<html><head><title>x</title><body>unclosed head", "unclosed head"),
        ("<p>a<script>if (a < b) { x = '</p>' }</script>b</p>", "ab"),
        ("<template><p>t</p></template><noscript>n</noscript>ok", "ok"),
        ("2 < 3 and 5 > 4", "2 < 3 and 5 > 4"),
        ("<!DOCTYPE html><?xml x?><p>doc</p>", "doc"),
    ],
)
def test_html_becomes_readable_text(html, expected):
    assert parse(raw("From: a@b.example\nContent-Type: text/html", html)).text == expected


@pytest.mark.parametrize("unit", ["<a ", "<!--", '<a x="', '<a b="x>" ', "<div>", "</", "<!"])
def test_hostile_html_is_read_in_linear_time(unit):
    # CPython 3.11's HTMLParser alone takes over a minute on 64 KB of "<a ".
    html = unit * (60_000 // len(unit))
    started = time.perf_counter()
    message = parse(raw("From: a@b.example\nContent-Type: text/html", html))
    assert time.perf_counter() - started < 10
    assert message.from_address == "a@b.example" and message.html


def test_plain_text_urls_count_as_links_when_there_is_no_html():
    message = parse(raw("From: a@b.example\nSubject: x", "See https://docs.example.org/a, "
                        "http://user:pw@Other.example/b?q=1 and https://docs.example.org/c."))
    assert message.link_count == 3
    assert message.link_domains == ("docs.example.org", "other.example")


def test_link_domains_come_from_plain_and_html_parts_but_html_is_counted():
    data = multipart(["Content-Type: text/plain\r\n\r\nA long enough plain part: "
                      "https://plain.example/",
                      "Content-Type: text/html\r\n\r\n<a href='https://track.example/1'>x</a>"
                      "<a href=https://plain.example/>y</a>"], "alternative")
    message = parse(data)
    assert message.link_count == 2
    assert message.link_domains == ("plain.example", "track.example")


@pytest.mark.parametrize(
    ("encoding", "payload"),
    [
        ("base64", base64.b64encode("Grüße aus Köln, ça va?".encode()).decode()),
        ("quoted-printable", "Gr=C3=BC=C3=9Fe aus K=C3=B6ln, =\r\n=C3=A7a va?"),
        ("8bit", "Grüße aus Köln, ça va?"),
    ],
)
def test_transfer_encodings_are_decoded(encoding, payload):
    message = parse(raw(f"From: a@b.example\nContent-Type: text/plain; charset=utf-8\n"
                        f"Content-Transfer-Encoding: {encoding}", payload))
    assert message.text == "Grüße aus Köln, ça va?"


@pytest.mark.parametrize(
    ("charset", "body", "expected"),
    [
        ("iso-8859-1", "Gr\xfc\xdfe".encode("latin-1"), "Grüße"),
        ("koi8-r", "Привет".encode("koi8-r"), "Привет"),
        ("us-ascii", "naïve".encode(), "naïve"),  # declared ASCII, sent as UTF-8
        (None, "naïve".encode(), "naïve"),
        (None, "na\xefve".encode("latin-1"), "naïve"),  # not UTF-8: Latin-1
        ("gb2312", "中文".encode("gb18030"), "中文"),
    ],
)
def test_body_charsets(charset, body, expected):
    content_type = f"text/plain; charset={charset}" if charset else "text/plain"
    assert parse(raw(f"From: a@b.example\nContent-Type: {content_type}", body)).text == expected


@pytest.mark.parametrize("charset", ["x-bogus", "base64", "idna", "undefined"])
def test_unusable_charset_falls_back_to_utf8_and_is_a_defect(charset):
    message = parse(raw(f"From: a@b.example\nContent-Type: text/plain; charset={charset}",
                        "secret caf\xe9".encode("latin-1")))
    assert message.text == "secret café"
    assert [d for d in message.defects if d.startswith("undecodable charset")]
    assert not any("secret" in d for d in message.defects)


@pytest.mark.parametrize(
    ("charset", "body", "subject"),
    [
        ("utf-7", b"+2D0-", "Hello"),  # a lone high surrogate: the reported poison
        ("utf-7", b"+3gA-", "Hello"),  # a lone low surrogate
        ("unicode_escape", b"\\ud800 and \\udfff", "Hello"),
        ("utf-8", b"plain", "=?utf-7?Q?+2D0-?="),  # in an encoded word of the subject
    ],
)
def test_text_that_decodes_to_lone_surrogates_comes_out_encodable(charset, body, subject):
    message = parse(raw(f"From: a@b.example\nSubject: {subject}\n"
                        f"Content-Type: text/plain; charset={charset}", body))
    for text in (message.text, message.subject, message.text_for_embedding(),
                 message.text_for_words(), message.snippet):
        text.encode("utf-8")  # strict: raises on a surrogate
    assert "\ufffd" in message.text + message.subject
    assert any(d.startswith("unencodable characters") for d in message.defects)


# --- headers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("=?utf-8?B?w4RwZmVsIHVuZCBCaXJuZW4=?=", "Äpfel und Birnen"),
        ("=?UTF-8?q?caf=C3=A9_cr=C3=A8me?=", "café crème"),
        ("=?iso-8859-1?Q?Fr=E9d=E9ric?= says hi", "Frédéric says hi"),
        ("=?koi8-r?B?8NLJ18XU?=", "Привет"),
        ("=?shift_jis?B?k/qWe4zq?=", "日本語"),
        ("=?gb2312?B?1tDOxA==?=", "中文"),
        ("=?windows-1252?Q?=93quoted=94?=", "\u201cquoted\u201d"),
        ("=?x-unknown?Q?abc?=", "abc"),
        ("=?utf-8?Q?a?=\n =?utf-8?Q?b?= c", "ab c"),  # space between words is not text
        ("=?utf-8?Q?=E2=9C?= =?utf-8?Q?=93?= done", "✓ done"),  # a character split in two
        ("=?utf-8?B?4pyT?= =?iso-8859-1?Q?=E9t=E9?=", "✓été"),
        ("=?utf-8*en?Q?hi?=", "hi"),
        ("=?utf-8?B?w4R?=", "Ä"),  # missing padding
        ("plain   words\n\t folded", "plain words folded"),
    ],
)
def test_encoded_word_subjects_in_many_charsets(header, expected):
    assert parse(raw(f"From: a@b.example\nSubject: {header}")).subject == expected


@pytest.mark.parametrize("charset", ["latin-1", "utf-8"])
def test_raw_8bit_headers_are_read(charset):
    data = "From: Jürgen <j@b.example>\r\nSubject: Grüße\r\n\r\nbody".encode(charset)
    message = parse(data)
    assert (message.subject, message.from_name, message.text) == ("Grüße", "Jürgen", "body")


def test_raw_8bit_next_to_an_encoded_word():
    data = "Subject: 日本 =?utf-8?Q?caf=C3=A9?=\r\n\r\n".encode()
    assert parse(data).subject == "日本 café"


def test_addresses_and_thread_ids():
    message = parse(raw(
        """From: "Keller, Maria" <Maria.Keller@Example.ORG>
To: a@x.example, "B" <B@y.example>, =?utf-8?Q?M=C3=BCller=2C_Jo?= <jo@z.example>
Cc: c@z.example
Reply-To: r@x.example
Message-ID: <abc@example.org>
In-Reply-To: <prev@example.net>
References: <first@example.net>
 <prev@example.net>"""))
    assert (message.from_name, message.from_address, message.from_domain) == (
        "Keller, Maria", "maria.keller@example.org", "example.org")
    assert message.to == ("a@x.example", "b@y.example", "jo@z.example")
    assert message.cc == ("c@z.example",) and message.reply_to == ("r@x.example",)
    assert (message.message_id, message.in_reply_to) == ("abc@example.org", "prev@example.net")
    assert message.references == ("first@example.net", "prev@example.net")


def test_encoded_display_name_with_a_comma_stays_one_address():
    message = parse(raw("From: =?utf-8?Q?M=C3=BCller=2C_Jo?= <jo@z.example>"))
    assert (message.from_name, message.from_address) == ("Müller, Jo", "jo@z.example")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tue, 17 Nov 2026 18:42:10 +0100",
         datetime(2026, 11, 17, 18, 42, 10, tzinfo=timezone(timedelta(hours=1)))),
        ("17 Nov 2026 18:42:10 -0000", datetime(2026, 11, 17, 18, 42, 10, tzinfo=timezone.utc)),
        ("not a date", None),
        ("Mon, 99 Foo 2026 99:99:99 +9999", None),
        ("Mon, 32 Jan 2026 00:00:00 +0000", None),
    ],
)
def test_dates_are_timezone_aware_or_none(value, expected):
    date = parse(raw(f"From: a@b.example\nDate: {value}")).date
    assert date == expected
    assert date is None or date.tzinfo is not None


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n", b"Subject: only", b"just some words",
                                  b"\x00\xff\xfe", b"To: x@y.example\r\n\r\nbody"])
def test_missing_headers_give_empty_fields(data):
    message = parse(data)
    assert (message.from_address, message.from_name, message.from_domain) == ("", "", "")
    assert message.date is None and message.message_id == ""
    assert message.auth_results == AuthResults() and message.subject in ("", "only")
    assert message.size == len(data) and not message.truncated


def test_headers_without_body():
    message = parse(b"From: Ann <ann@example.org>\r\nSubject: Nothing else\r\n")
    assert (message.subject, message.text, message.from_address) == (
        "Nothing else", "", "ann@example.org")


def test_list_headers():
    message = parse(raw(
        """From: News <news@list.example>
List-Id: Weekly News <Weekly.List.Example>
List-Unsubscribe: <https://list.example/u/1?a=1&b=2>,
 <mailto:u@list.example?subject=unsubscribe>
List-Unsubscribe-Post: List-Unsubscribe=One-Click"""))
    assert message.list_id == "weekly.list.example"
    assert message.list_unsubscribe == ("https://list.example/u/1?a=1&b=2",
                                        "mailto:u@list.example?subject=unsubscribe")
    assert message.list_unsubscribe_post == "List-Unsubscribe=One-Click"
    assert message.is_bulk


def test_list_id_without_brackets_is_kept_as_written():
    assert parse(raw("From: a@b.example\nList-Id:  Odd.List ")).list_id == "Odd.List"


@pytest.mark.parametrize(
    ("headers", "bulk"),
    [
        ("Precedence: Bulk", True), ("Precedence: list", True), ("Precedence: junk", True),
        ("Precedence: first-class", False),
        ("Auto-Submitted: auto-generated", True), ("Auto-Submitted: auto-replied", True),
        ("Auto-Submitted: no", False),
        ("Feedback-ID: 1:camp:esp", True), ("X-Campaign: 12", True), ("X-Mailgun-Sid: x", True),
        ("List-Unsubscribe: <mailto:u@x.example>", True),
        ("X-Mailer: Thunderbird", False),
    ],
)
def test_bulk_markers(headers, bulk):
    message = parse(raw(f"From: a@b.example\n{headers}"))
    assert message.is_bulk is bulk


def test_precedence_and_auto_submitted_are_lower_case():
    message = parse(raw("From: a@b.example\nPrecedence: BULK\nAuto-Submitted: Auto-Generated"))
    assert (message.precedence, message.auto_submitted) == ("bulk", "auto-generated")


def test_first_authentication_results_header_wins():
    message = parse(raw(
        """From: a@b.example
Authentication-Results: mx.near.example;
\tspf=pass smtp.mailfrom=b.example;
\tdkim=fail (bad signature) header.d=b.example; dkim=pass header.d=esp.example;
\tdmarc=fail (p=reject) header.from=b.example
Authentication-Results: mx.far.example; spf=fail; dkim=pass; dmarc=pass
DKIM-Signature: v=1; a=rsa-sha256; d=B.example; s=s1; bh=x;
\tb=y
DKIM-Signature: v=1; a=rsa-sha256; s=s2; bh=x; b=y; d=esp.example"""))
    assert message.auth_results == AuthResults(spf="pass", dkim="fail", dmarc="fail")
    assert message.dkim_domains == ("b.example", "esp.example")


def test_authentication_results_without_authserv_id():
    message = parse(raw("From: a@b.example\nAuthentication-Results: spf=SoftFail (sender IP "
                        "is 192.0.2.1) smtp.mailfrom=b.example; dkim=none (message not signed)"
                        " header.d=none;dmarc=none action=none header.from=b.example;"))
    assert message.auth_results == AuthResults(spf="softfail", dkim="none", dmarc="none")


# --- attachments ------------------------------------------------------------------------


def test_attachments_are_listed_with_names_and_types():
    message = parse(multipart([
        "Content-Type: text/plain\r\n\r\nSee attached.",
        "Content-Type: application/pdf; name=\"r.pdf\"\r\nContent-Disposition: attachment; "
        "filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(b"%PDF-1.4 test").decode(),
        "Content-Type: image/png\r\nContent-Disposition: attachment; "
        "filename*=utf-8''%C3%BCbersicht.png\r\n\r\nPNGDATA",
        "Content-Type: text/plain; name=\"=?utf-8?Q?Gr=C3=BC=C3=9Fe.txt?=\"\r\n\r\nhi",
        "Content-Type: application/octet-stream\r\nContent-Disposition: attachment; "
        "filename*0*=utf-8''long%20; filename*1*=name.bin\r\n\r\nxyz",
        "Content-Type: image/gif\r\nContent-ID: <logo>\r\n\r\nGIF89a",  # inline, not attached
    ]))
    assert message.text == "See attached."
    assert message.attachments == (
        Attachment("report.pdf", "application/pdf", 13),
        Attachment("übersicht.png", "image/png", 7),
        Attachment("Grüße.txt", "text/plain", 2),
        Attachment("long name.bin", "application/octet-stream", 3),
    )
    assert message.image_count == 2


@pytest.mark.parametrize("charset", ["utf-8", "latin-1"])
def test_raw_8bit_file_names_are_read(charset):
    data = multipart([
        "Content-Type: text/plain\r\n\r\nSee attached.",
        'Content-Type: application/pdf; name="Übersicht.pdf"\r\n'
        'Content-Disposition: attachment; filename="Übersicht.pdf"\r\n\r\n%PDF',
    ]).decode().encode(charset)
    assert parse(data).attachments == (Attachment("Übersicht.pdf", "application/pdf", 4),)


def test_attached_message_is_an_attachment_not_body_text():
    forwarded = "Subject: old\r\n\r\nsecret old text"
    message = parse(multipart([
        "Content-Type: text/plain\r\n\r\nForwarding this.",
        f"Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename=old.eml"
        f"\r\n\r\n{forwarded}",
    ]))
    assert message.text == "Forwarding this."
    assert [(a.filename, a.content_type) for a in message.attachments] == [
        ("old.eml", "message/rfc822")]
    assert message.attachments[0].size >= len("secret old text")


# --- broken and hostile structure --------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "boundary_param", "text"),
    [
        ("no boundary line here at all", "; boundary=nope", "no boundary line here at all"),
        ("--B\r\nContent-Type: text/plain\r\n\r\nunterminated part", "; boundary=B",
         "unterminated part"),
        ("some text", "", "some text"),
    ],
)
def test_broken_boundaries_keep_the_text_and_record_defects(body, boundary_param, text):
    message = parse(raw(f"From: a@b.example\nContent-Type: multipart/mixed{boundary_param}", body))
    assert message.text == text
    assert message.from_address == "a@b.example"
    assert message.defects


def test_mbox_from_line_is_skipped():
    message = parse(b"From someone@example.org  Mon Jan  1 00:00:00 2002\n"
                    b"From: Real <real@example.org>\nSubject: Hi\n\nBody")
    assert (message.from_address, message.subject, message.text) == (
        "real@example.org", "Hi", "Body")


def test_ten_megabyte_message_is_truncated_at_the_body_cap():
    data = raw("From: a@b.example\nSubject: big", "word " * 2_000_000)
    message = parse(data)
    assert message.truncated and message.size == len(data) > 10_000_000
    assert message.text.startswith("word word") and 60_000 < len(message.text) <= 65_536
    assert "body truncated at 65536 bytes" in message.defects


def test_body_cap_is_a_parameter():
    message = parse(raw("From: a@b.example", "0123456789" * 10), max_body_bytes=25)
    assert message.text == "0123456789012345678901234" and message.truncated


def test_oversized_header_block_is_cut():
    message = parse(b"Subject: x\r\nX-Junk: " + b"a" * 300_000 + b"\r\n\r\nbody")
    assert message.truncated and message.subject == "x" and message.text == ""
    assert "header block longer than 262144 bytes; rest skipped" in message.defects


def test_thousand_parts_stop_at_the_part_cap():
    data = multipart([f"Content-Type: text/plain\r\n\r\npart {i}" for i in range(1000)])
    message = parse(data, max_body_bytes=10_000_000)
    assert "too many parts (1001 > 200); rest skipped" in message.defects
    assert message.text.startswith("part 0\n\npart 1\n\n") and "part 999" not in message.text
    assert message.text.count("part ") < 200


def test_thousand_parts_without_content_type_headers_also_stop():
    data = multipart(["\r\nshort" for _ in range(1000)])
    message = parse(data)
    assert "too many parts (more than 200); rest skipped" in message.defects
    assert message.text.count("short") == 199


def nested(levels: int) -> bytes:
    """`levels` multiparts, one inside the other, around a text part."""
    part = "Content-Type: text/plain\r\n\r\ninnermost text"
    for level in range(levels):
        part = (f"Content-Type: multipart/mixed; boundary=b{level}\r\n\r\n"
                f"--b{level}\r\n{part}\r\n--b{level}--\r\n")
    return b"From: a@b.example\r\n" + part.encode()


def test_deep_nesting_stops_at_the_caps():
    message = parse(nested(500), max_body_bytes=10_000_000)
    assert message.from_address == "a@b.example" and message.text == ""
    assert "nesting deeper than 10; rest skipped" in message.defects
    assert "too many parts (501 > 200); rest skipped" in message.defects


@pytest.mark.parametrize(("levels", "max_depth", "found"), [(10, 10, True), (11, 10, False),
                                                          (11, 11, True)])
def test_depth_cap_is_a_parameter(levels, max_depth, found):
    message = parse(nested(levels), max_depth=max_depth)
    assert (message.text == "innermost text") is found
    assert (f"nesting deeper than {max_depth}; rest skipped" in message.defects) is not found


def test_thousands_of_nested_messages_do_not_crash():
    data = raw("From: a@b.example\nSubject: deep\nContent-Type: message/rfc822",
               b"Content-Type: message/rfc822\r\n\r\n" * 3000 + b"Subject: x\r\n\r\nbody")
    capped = parse(data, max_body_bytes=10_000_000)
    assert capped.subject == "deep" and "nesting deeper than 10; rest skipped" in capped.defects
    # Without the part cap the stdlib parser runs out of stack: headers are still read.
    uncapped = parse(data, max_body_bytes=10_000_000, max_parts=100_000)
    assert (uncapped.subject, uncapped.from_address) == ("deep", "a@b.example")
    assert uncapped.defects == ("parse failed (RecursionError); headers only",)


@pytest.mark.parametrize("value", [None, 12, 3.5, ["From: a@b.example"]])
def test_input_that_is_not_bytes_gives_an_empty_message(value):
    message = parse(value)
    assert isinstance(message, Message) and message.text == "" and message.size == 0
    assert message.defects == (f"input is not bytes ({type(value).__name__})",)


@pytest.mark.parametrize("value", [bytearray(b"Subject: hi\r\n\r\nbody"),
                                   memoryview(b"Subject: hi\r\n\r\nbody")])
def test_bytes_like_input_is_read(value):
    assert (parse(value).subject, parse(value).text) == ("hi", "body")


# --- derived fields -----------------------------------------------------------------------


def test_content_hash_ignores_ids_and_dates_but_not_content():
    first = parse(build(subject="Sale", body="50% off today", message_id="<1@x>"))
    resend = parse(build(subject="Sale", body="50% off   today\n", message_id="<2@x>",
                         date=datetime(2027, 1, 1, tzinfo=timezone.utc)))
    other_body = parse(build(subject="Sale", body="60% off today"))
    other_subject = parse(build(subject="Sale!", body="50% off today"))
    assert first.content_hash == resend.content_hash
    assert len({first.content_hash, other_body.content_hash, other_subject.content_hash}) == 3
    assert first.text_for_embedding() == resend.text_for_embedding()


def test_text_for_embedding_is_subject_blank_line_then_folded_body():
    message = parse(build(subject="Launch  update", body="The rocket\n\nflew.  Again."))
    assert message.text_for_embedding() == "Launch update\n\nThe rocket flew. Again."


def test_text_for_embedding_is_capped():
    message = parse(build(subject="Launch", body="The rocket flew. " * 500))
    assert len(message.text_for_embedding()) == 2000
    assert message.text_for_embedding(max_chars=30) == "Launch\n\nThe rocket flew. The r"
    assert message.text_for_embedding(max_chars=0) == ""


def test_text_for_embedding_without_subject_is_the_body():
    assert parse(raw("From: a@b.example", "only   body")).text_for_embedding() == "only body"
    assert parse(raw("Subject: only subject", "")).text_for_embedding() == "only subject"


def test_snippet_is_folded_and_cut_at_a_word():
    message = parse(build(body="alpha beta\n\ngamma " * 40))
    assert message.snippet.endswith("…") and len(message.snippet) <= 201
    assert message.snippet == "alpha beta gamma " * 11 + "alpha beta…"


def test_short_text_is_its_own_snippet():
    assert parse(build(body="Short\n\nnote.")).snippet == "Short note."


def test_snippet_of_one_long_word_is_cut_hard():
    assert parse(build(body="x" * 500)).snippet == "x" * 200 + "…"


def test_header_tokens_name_the_sender_and_list_only():
    raw = (b"Received: from mx1.example by mx2.example\r\nFrom: News <news@Letters.example>\r\n"
           b"To: a@b.example\r\nSubject: Sale\r\nX-Mailer: Microsoft Outlook 16.0\r\n"
           b"X-Spam-Status: No, score=0.1\r\nList-Id: Weekly <weekly.letters.example>\r\n"
           b"Content-Type: text/html; charset=ISO-8859-1\r\n\r\n<p>Sale now</p>")
    message = parse(raw)
    assert message.header_tokens == ("fromdomain_letters.example", "listid_weekly.letters.example")
    words = message.text_for_words()
    assert words.startswith(message.text_for_embedding()) and words.endswith("listid_weekly.letters.example")
    assert "mx1" not in words and "score" not in words


def test_header_tokens_say_nothing_of_the_software_or_its_era():
    raw = (b"From: a@b.example\r\nMIME-Version: 1.0\r\nX-Priority: 3 (Normal)\r\n"
           b"X-Mailer: Microsoft Outlook Express 6.00\r\nContent-Transfer-Encoding: 7bit\r\n"
           b'Content-Type: multipart/alternative; boundary="----=_NextPart_000_0012_01C2"\r\n\r\n'
           b"------=_NextPart_000_0012_01C2\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
           b"------=_NextPart_000_0012_01C2--\r\n")
    words = parse(raw).text_for_words().lower()
    assert parse(raw).header_tokens == ("fromdomain_b.example",)
    for era in ("outlook", "nextpart", "7bit", "priority", "mime", "multipart"):
        assert era not in words


def test_words_read_far_past_the_models_text():
    body = " ".join(f"word{i}" for i in range(2000))
    message = parse(build(body=body))
    assert "word1999" in message.text_for_words()
    assert "word1999" not in message.text_for_embedding()


def test_header_tokens_of_a_bare_message():
    assert parse(b"hello").header_tokens == ()
