"""parse never raises and always returns a sane Message, on any bytes at all."""

from __future__ import annotations

import base64

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekeeper.message import Message, parse
from gatekeeper.testing import build_message

SEEDS = [
    build_message(subject="=?utf-8?Q?caf=C3=A9?= news", body="Plain body https://a.example/x",
                  html="<p>HTML <a href='https://b.example'>link</a></p><img src=x>"),
    (b"From: Ann <ann@example.org>\r\nSubject: files\r\nContent-Type: multipart/mixed; "
     b"boundary=B\r\n\r\n--B\r\nContent-Type: text/plain; charset=koi8-r\r\n"
     b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode("Привет".encode("koi8-r"))
     + b"\r\n--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
     b"filename=a.pdf\r\n\r\n%PDF\r\n--B--\r\n"),
    (b"From x@y  Mon Jan  1 00:00:00 2002\nFrom: x@y.example\nList-Id: <l.example>\n"
     b"Authentication-Results: mx; spf=pass; dkim=fail\nDate: Tue, 1 Jan 2002 00:00:00 +0000\n\n"
     b"quoted=20printable=\nsoft break"),
]


def check(message: Message, raw: bytes) -> None:
    assert isinstance(message, Message)
    assert message.size == len(raw)
    assert len(message.snippet) <= 201
    assert isinstance(message.text, str) and isinstance(message.subject, str)
    assert all(isinstance(d, str) for d in message.defects)
    assert len(message.content_hash) == 64
    assert isinstance(message.text_for_embedding(), str)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_parse_never_raises_on_arbitrary_bytes(data):
    check(parse(data), data)


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "insert", "truncate", "duplicate", "drop_line"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "truncate":
            del data[at:]
        elif kind == "duplicate":
            end = draw(st.integers(at, len(data)))
            data[at:at] = data[at:end]
        elif kind == "drop_line":
            end = data.find(b"\n", at)
            del data[at : end if end >= 0 else len(data)]
    return bytes(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_parse_never_raises_on_mutated_real_looking_mail(data):
    check(parse(data), data)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200), st.text(max_size=500))
def test_any_subject_and_body_round_trip_through_a_built_message(subject, body):
    subject = " ".join(subject.split()) or "x"
    try:
        data = build_message(subject=subject, body=body)
    except (ValueError, TypeError):  # the stdlib refuses some header text; not our input
        return
    message = parse(data)
    check(message, data)
    assert message.subject == subject
