"""Sender memory: smoothing, recency, trend, correspondents, persistence."""

from __future__ import annotations

import pytest

from gatekeeper.core.features import MEMORY_SIGNAL_NAMES, message_keys, thread_key
from gatekeeper.core.message import parse
from gatekeeper.core.senders import SenderMemory, sender_keys
from gatekeeper.testing import build_message

DAY = 86400.0
KEYS = sender_keys("news@shop.example", "shop.example", "deals.shop.example")


def test_keys_cover_address_domain_and_list():
    assert KEYS == ["address:news@shop.example", "domain:shop.example", "list:deals.shop.example"]
    assert sender_keys("a@b.example", "b.example", "") == ["address:a@b.example", "domain:b.example"]


def subject(text: str, **headers: str) -> str:
    return thread_key(parse(build_message(subject=text, headers=headers)))


def test_a_reply_is_keyed_by_its_thread_however_its_subject_was_quoted():
    thread = subject("Re: Re: [SAtalk] Shuttle launch window")
    assert thread
    assert subject("[SAtalk] RE: shuttle   LAUNCH window") == thread
    assert subject("AW: Shuttle launch window") == thread  # a German mailer's reply
    assert subject("Shuttle launch window", **{"In-Reply-To": "<a@b.example>"}) == thread
    assert subject("Re: Shuttle launch delayed") not in ("", thread)


@pytest.mark.parametrize("text", [
    "Shuttle launch window",  # a first message: no thread the reader has seen
    "Fwd: Shuttle launch window",  # a forward starts a conversation of its own
    "Re: lunch?",  # too short to tell threads apart
    "Re: " * 5000,  # nothing but prefixes
    "[" * 5000,
])
def test_only_a_reply_with_a_telling_subject_has_a_thread(text):
    assert subject(text) == ""


def test_a_reply_counts_under_its_thread_beside_its_sender():
    reply = parse(build_message(sender="Bo <bo@space.example>", subject="Re: Shuttle launch window"))
    keys = message_keys(reply)
    assert keys[:2] == ["address:bo@space.example", "domain:space.example"]
    assert keys[2] == f"thread:{thread_key(reply)}"


def test_unknown_sender_is_neutral_with_no_evidence():
    assert SenderMemory().features(KEYS, now=0.0) == (0.0,) * len(MEMORY_SIGNAL_NAMES)


def test_one_read_does_not_make_a_friend_but_many_do():
    memory = SenderMemory()
    memory.record(KEYS, "read", at=0.0)
    once = memory.get(KEYS[0]).engagement(0.0)
    for day in range(1, 10):
        memory.record(KEYS, "replied", at=day * DAY)
    assert 0.5 < once < 0.7
    assert memory.get(KEYS[0]).engagement(10 * DAY) > 0.9


def test_deleting_unread_lowers_engagement():
    memory = SenderMemory()
    for day in range(5):
        memory.record(KEYS, "deleted_unread", at=day * DAY)
    assert memory.get(KEYS[1]).engagement(5 * DAY) < 0.2
    assert memory.get(KEYS[1]).count("deleted_unread", 5 * DAY) == pytest.approx(4.8, abs=0.2)


def test_old_evidence_fades():
    memory = SenderMemory(half_life_days=30)
    memory.record(KEYS, "junked", at=0.0)
    assert memory.get(KEYS[0]).evidence(0.0) == pytest.approx(3.0)
    assert memory.get(KEYS[0]).evidence(60 * DAY) == pytest.approx(0.75)


def test_trend_turns_negative_when_the_reader_dis_engages():
    memory = SenderMemory()
    for day in range(0, 60, 2):
        memory.record(KEYS, "read", at=day * DAY)
    for day in range(60, 80, 2):
        memory.record(KEYS, "ignored", at=day * DAY)
    assert memory.get(KEYS[2]).trend(80 * DAY) < -0.1


def test_correspondents_are_case_insensitive():
    memory = SenderMemory()
    memory.add_correspondent("Maria@Example.org")
    assert memory.is_correspondent("maria@example.org")
    assert not memory.is_correspondent("other@example.org")


def test_unknown_behaviour_is_refused():
    with pytest.raises(ValueError, match="unknown behaviour"):
        SenderMemory().record(KEYS, "liked", at=0.0)


def test_round_trip_through_plain_data():
    memory = SenderMemory()
    memory.record(KEYS, "read_soon", at=DAY)
    memory.add_correspondent("maria@example.org")
    copy = SenderMemory.from_dict(memory.to_dict())
    assert copy.features(KEYS, 2 * DAY) == memory.features(KEYS, 2 * DAY)
    assert copy.is_correspondent("maria@example.org")


@pytest.mark.parametrize(("behaviour", "times", "low", "high"), [
    ("read_soon", 12, 0.6, 1.0),  # engaged a dozen times: strongly for
    ("read_soon", 1, 0.05, 0.3),  # once: a little
    ("deleted_unread", 12, -1.0, -0.6),  # thrown away a dozen times: strongly against
    ("delivered", 12, 0.0, 0.0),  # only seen arriving: no support either way
])
def test_support_is_evidence_signed_by_engagement(behaviour, times, low, high):
    memory = SenderMemory()
    for _ in range(times):
        memory.record(KEYS, behaviour, at=0.0)
    engagement, support, _ = memory.features(KEYS, now=0.0)[:3]
    assert low <= support <= high
    assert support * engagement >= 0
