"""Insight: activity per account, time saved, the review backlog and stats over time,
from a store filled with decisions at known local times."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from gatekeeper.mail.insight import (
    SECONDS_TO_REVIEW_HELD,
    SECONDS_TO_TRIAGE_UNWANTED,
    account_activity,
    collect_stats,
    describe_reversals,
    format_duration,
    local_midnight,
    seconds_saved,
)
from gatekeeper.mail.mailbox import MessageRef
from gatekeeper.mail.store import DONE, UNDONE, DecisionOutcome, Store

HELD = "Gatekeeper/Held"
# Central European time with its summer time rule, spelled out so no tz database is needed:
# local midnight is 23:00 or 22:00 UTC, so a UTC day boundary would be caught.
CET = "CET-1CEST,M3.5.0,M10.5.0/3"


@pytest.fixture(autouse=True)
def central_european_time(monkeypatch):
    monkeypatch.setenv("TZ", CET)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def local(*moment: int) -> float:
    """A local wall-clock time (year, month, day, hour, minute, second) as a timestamp."""
    return datetime(*moment).timestamp()


def utc(*moment: int) -> float:
    return datetime(*moment, tzinfo=timezone.utc).timestamp()


def decide(store: Store, n: int, at: float, action: str, *, account: str = "personal",
           mode: str = "active", sender: str = "someone@example.org",
           probability: float = 0.5) -> str:
    message_id = f"m{n}@example.org"
    store.record_decision(account, "INBOX", MessageRef(f"1:{n}"), {
        "message_id": message_id, "content_hash": f"h{n}", "sender": sender,
        "subject": f"message {n}", "at": at, "action": action, "probability": probability,
        "mode": mode})
    return message_id


def move(store: Store, message_id: str, action: str, account: str = "personal") -> int:
    """Journal a completed hold or delete and track the message where it went."""
    target = HELD if action == "hold" else "Trash"
    entry = store.journal_intent(account, message_id, action, "INBOX", target)
    store.journal_finish(entry, DONE)
    store.track(account, message_id, target, MessageRef(""), frozenset(), 0.0, action)
    return entry


# -- local days ----------------------------------------------------------------------------
def test_local_midnight_is_the_start_of_the_local_day_not_the_utc_one():
    now = local(2026, 11, 23, 10, 0)
    assert local_midnight(now) == utc(2026, 11, 22, 23, 0)
    assert local_midnight(now, days_back=6) == utc(2026, 11, 16, 23, 0)
    assert local_midnight(utc(2026, 11, 22, 23, 30)) == utc(2026, 11, 22, 23, 0)


def test_the_week_reaches_back_across_the_end_of_summer_time():
    now = local(2026, 10, 27, 12, 0)  # clocks went back on 2026-10-25
    assert local_midnight(now) == utc(2026, 10, 26, 23, 0)
    assert local_midnight(now, days_back=6) == utc(2026, 10, 20, 22, 0)


# -- time saved ----------------------------------------------------------------------------
def outcome(action: str, mode: str, reversed_: bool = False) -> DecisionOutcome:
    return DecisionOutcome("acct", 0.0, action, mode, 0.5, reversed_)


@pytest.mark.parametrize("action, mode, reversed_, saved", [
    ("delete", "active", False, SECONDS_TO_TRIAGE_UNWANTED),
    ("hold", "active", False, SECONDS_TO_TRIAGE_UNWANTED - SECONDS_TO_REVIEW_HELD),
    ("pass", "active", False, 0.0),
    ("delete", "active", True, 0.0),
    ("hold", "active", True, 0.0),
    ("delete", "shadow", False, 0.0),
    ("hold", "tag", False, 0.0),
])
def test_time_saved_counts_only_moves_the_reader_kept(action, mode, reversed_, saved):
    assert seconds_saved([outcome(action, mode, reversed_)]) == saved


def test_time_saved_adds_up():
    outcomes = [outcome(action, "active") for action in ("delete", "hold", "delete")]
    assert seconds_saved(outcomes) == 2 * 10.0 + 7.0


@pytest.mark.parametrize("seconds, said", [
    (0, "0 s"), (44, "44 s"), (59.4, "59 s"), (60, "1 min"), (17 * 60 + 20, "17 min"),
    (3600, "1 h 0 min"), (3 * 3600 + 5 * 60, "3 h 5 min"),
])
def test_durations_read_as_people_say_them(seconds, said):
    assert format_duration(seconds) == said


# -- status: activity per account ------------------------------------------------------------
def fill_a_week(store: Store) -> float:
    """Decisions around today's and the week's boundaries; returns 'now'."""
    now = local(2026, 11, 23, 10, 0)
    decide(store, 1, local(2026, 11, 23, 0, 0), "pass")  # today, to the second
    move(store, decide(store, 2, local(2026, 11, 23, 9, 0), "delete"), "delete")
    move(store, decide(store, 3, local(2026, 11, 23, 8, 0), "hold"), "hold")  # still held
    rescued = decide(store, 4, local(2026, 11, 22, 23, 59, 59), "hold")  # yesterday
    move(store, rescued, "hold")
    store.record_reaction("personal", rescued, "rescued", "moved Held -> INBOX", now)
    store.update_tracked("personal", rescued, folder="INBOX")
    undone = move(store, decide(store, 5, local(2026, 11, 20, 12, 0), "delete"), "delete")
    store.journal_finish(undone, UNDONE)
    decide(store, 6, local(2026, 11, 19, 12, 0), "delete", mode="shadow")
    discarded = decide(store, 7, local(2026, 11, 17, 0, 0), "hold")  # the week's first second
    move(store, discarded, "hold")
    store.update_tracked("personal", discarded, folder="Trash")
    move(store, decide(store, 8, local(2026, 11, 16, 23, 59, 59), "delete"), "delete")
    work = decide(store, 9, local(2026, 11, 23, 9, 30), "hold", account="work")
    move(store, work, "hold", account="work")
    move(store, decide(store, 10, local(2026, 11, 13, 9, 0), "hold"), "hold")  # long held
    return now


def test_activity_counts_today_and_the_last_7_local_days(store):
    personal, work = account_activity(store, fill_a_week(store))

    assert personal.account == "personal"
    assert personal.today.since == local(2026, 11, 23, 0, 0)
    assert personal.today.decisions == {"pass": 1, "hold": 1, "delete": 1}
    assert personal.last_7_days.since == local(2026, 11, 17, 0, 0)
    assert personal.last_7_days.decisions == {"pass": 1, "hold": 3, "delete": 3}
    assert (work.account, work.today.decisions) == ("work", {"pass": 0, "hold": 1, "delete": 0})


def test_activity_time_saved_leaves_out_reversed_and_shadow_decisions(store):
    personal, work = account_activity(store, fill_a_week(store))

    assert personal.today.seconds_saved == 10.0 + 7.0  # m2 deleted, m3 held
    assert personal.last_7_days.seconds_saved == 10.0 + 7.0 + 7.0  # and m7 held
    assert work.last_7_days.seconds_saved == 7.0


def test_waiting_in_review_is_held_mail_still_in_the_held_folder(store):
    personal, work = account_activity(store, fill_a_week(store))

    assert [e.message_id for e in store.waiting_holds("personal")] == [
        "m3@example.org", "m10@example.org"]
    assert (personal.waiting_in_review, work.waiting_in_review) == (2, 1)


def test_no_decisions_means_no_activity(store):
    assert account_activity(store, local(2026, 11, 23, 10, 0)) == []


# -- stats -----------------------------------------------------------------------------------
def fill_three_days(store: Store) -> float:
    now = local(2026, 11, 23, 10, 0)
    decide(store, 1, local(2026, 11, 20, 23, 59, 59), "pass", probability=0.95)  # too early
    decide(store, 2, local(2026, 11, 21, 0, 0), "pass", probability=1.0, sender="friend@a.example")
    decide(store, 3, local(2026, 11, 21, 13, 0), "pass", probability=0.9, sender="friend@a.example")
    move(store, decide(store, 4, local(2026, 11, 22, 23, 59, 59), "delete", probability=0.0,
                       sender="promo@b.example"), "delete")
    held = decide(store, 5, local(2026, 11, 23, 0, 0), "hold", probability=0.1,
                  sender="news@c.example")
    move(store, held, "hold")
    move(store, decide(store, 6, local(2026, 11, 23, 9, 0), "hold", probability=0.35,
                       sender="promo@b.example"), "hold")
    decide(store, 7, local(2026, 11, 23, 9, 30), "delete", probability=0.05, mode="shadow")
    decide(store, 8, local(2026, 11, 22, 8, 0), "pass", account="work", probability=0.6)
    store.record_reaction("personal", "m2@example.org", "replied", "flags INBOX", now - 60)
    store.record_reaction("personal", "m3@example.org", "read_soon", "flags INBOX", now - 60)
    store.record_reaction("personal", held, "rescued", "review", now - 60)
    store.record_reaction("personal", "m4@example.org", "deleted_unread", "moved", now - 60)
    store.record_reaction("personal", "m6@example.org", "deleted_from_held", "review", now - 60)
    store.record_reaction("personal", "m1@example.org", "flagged", "flags INBOX",
                          local(2026, 11, 20, 12, 0))  # before the window
    store.record_reaction("personal", "m6@example.org", "read", "flags Held", now - 60)
    store.undo_feedback_of("personal", "m6@example.org", "flags Held", now - 60)  # a wrong one
    return now


def test_stats_counts_each_local_day_of_the_window(store):
    stats = collect_stats(store, 3, fill_three_days(store))

    assert stats.days == ["2026-11-21", "2026-11-22", "2026-11-23"]
    assert stats.per_day == {"pass": [2, 1, 0], "hold": [0, 0, 2], "delete": [0, 1, 1]}
    assert stats.total == 7


def test_stats_of_one_account(store):
    stats = collect_stats(store, 3, fill_three_days(store), account="work")

    # Only the day with a decision is shown; the other two are counted as quiet.
    assert stats.per_day == {"pass": [1], "hold": [0], "delete": [0]}
    assert len(stats.days) == 1 and stats.quiet_days == 2
    assert stats.engaged == stats.disengaged == []


def test_stats_histograms_bin_p_wanted_per_action(store):
    stats = collect_stats(store, 3, fill_three_days(store))

    assert stats.bin_edges[0] == 0.0 and stats.bin_edges[-1] == 1.0 and len(stats.bin_edges) == 11
    assert stats.histograms["pass"] == [0, 0, 0, 0, 0, 0, 1, 0, 0, 2]  # 0.6; 0.9 and 1.0
    assert stats.histograms["hold"] == [0, 1, 0, 1, 0, 0, 0, 0, 0, 0]  # 0.1 and 0.35
    assert stats.histograms["delete"] == [2, 0, 0, 0, 0, 0, 0, 0, 0, 0]  # 0.0 and 0.05


def test_stats_rank_senders_by_what_the_reader_did_in_the_window(store):
    stats = collect_stats(store, 3, fill_three_days(store))

    assert [(s.sender, s.positive, s.negative, s.behaviours) for s in stats.engaged] == [
        ("friend@a.example", 4.5, 0.0, {"replied": 1, "read_soon": 1}),
        ("news@c.example", 3.0, 0.0, {"rescued": 1})]
    assert [(s.sender, s.net) for s in stats.disengaged] == [("promo@b.example", -3.0)]


def test_stats_share_of_moves_the_reader_reversed(store):
    stats = collect_stats(store, 3, fill_three_days(store))

    assert stats.moved == {"hold": 2, "delete": 1}  # the shadow delete moved nothing
    assert stats.reversed == {"hold": 1, "delete": 0}
    assert stats.reversed_share == pytest.approx(1 / 3)
    assert describe_reversals(stats) == (
        "you undid or rescued 1 of 3 holds and deletes made in active mode (33%): "
        "1 of 2 holds, 0 of 1 deletes")
    assert stats.seconds_saved == 10.0 + 7.0  # m4 deleted, m6 held; m5 was rescued


def test_stats_json_form_has_the_derived_figures(store):
    report = collect_stats(store, 3, fill_three_days(store)).to_dict()

    assert (report["total"], report["reversed_share"]) == (7, pytest.approx(1 / 3))
    assert report["engaged"][0]["sender"] == "friend@a.example"
    assert "10 s for each unwanted message" in report["time_saved_assumption"]


def test_stats_of_an_empty_store(store):
    stats = collect_stats(store, 7, local(2026, 11, 23, 10, 0))

    assert stats.total == 0 and stats.days == [] and stats.quiet_days == 7
    assert stats.reversed_share is None
    assert describe_reversals(stats).startswith("no holds or deletes in active mode yet")
