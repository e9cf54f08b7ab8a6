"""The policy: cost-based thresholds, guard rails, block and allow lists, probes, screener."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekeeper.core.message import parse
from gatekeeper.core.policy import (DELETE, HOLD, PASS, History, PolicySettings, breakpoints, decide,
                               decide_within, expected_costs, pass_threshold)
from gatekeeper.testing import build_message

SETTINGS = PolicySettings(probe_share=0.0)
MESSAGE = parse(build_message(subject="Big sale", body="Everything must go."))
# A reader's history that allows deleting: a well-trained profile, junk from this sender before.
SEASONED = History(sender_messages=5, sender_thrown_away=3.0, profile_examples=500)


@pytest.mark.parametrize(
    ("p", "expected"),
    [(0.99, PASS), (0.81, PASS), (0.79, HOLD), (0.5, HOLD), (0.03, HOLD), (0.019, DELETE),
     (0.001, DELETE)],
)
def test_thresholds_follow_the_costs(p, expected):
    assert decide(p, MESSAGE, SEASONED, SETTINGS).action == expected


def test_expected_costs_use_the_configured_prices():
    costs = expected_costs(0.1, PolicySettings(cost_wanted_lost=20.0))
    assert costs == pytest.approx({PASS: 0.9, HOLD: 0.2, DELETE: 2.0})


@pytest.mark.parametrize(
    ("history", "code"),
    [
        (History(correspondent=True, sender_thrown_away=3, profile_examples=500), "correspondent"),
        (History(reply_to_reader=True, sender_thrown_away=3, profile_examples=500), "reply"),
        (History(thread_flagged=True, sender_thrown_away=3, profile_examples=500),
         "flagged_thread"),
        (History(sender_thrown_away=3, profile_examples=5), "little_evidence"),
        (History(profile_examples=500), "no_history"),
    ],
)
def test_guard_rails_turn_a_delete_into_a_hold(history, code):
    verdict = decide(0.001, MESSAGE, history, SETTINGS)
    assert verdict.action == HOLD
    assert code in {reason.code for reason in verdict.reasons}


def test_similar_mail_thrown_away_counts_as_history():
    history = History(similar_thrown_away=3, profile_examples=500)
    assert decide(0.001, MESSAGE, history, SETTINGS).action == DELETE


def test_block_list_deletes_but_not_a_correspondent():
    assert decide(0.99, MESSAGE, History(blocked=True), SETTINGS).action == DELETE
    assert decide(0.001, MESSAGE, History(blocked=True, correspondent=True),
                  SETTINGS).action == HOLD


def test_allow_list_always_passes():
    verdict = decide(0.001, MESSAGE, History(allowed=True, sender_thrown_away=9), SETTINGS)
    assert verdict.action == PASS
    assert verdict.reasons[0].code == "allowed"


def test_every_verdict_carries_reasons_and_numbers():
    verdict = decide(0.5, MESSAGE, SEASONED, SETTINGS)
    assert verdict.reasons and "50% likely wanted" in verdict.reasons[0].text
    assert verdict.costs == pytest.approx({PASS: 0.5, HOLD: 0.2, DELETE: 5.0})


def test_probes_pass_a_share_of_would_be_held_mail_reproducibly():
    settings = PolicySettings(probe_share=0.2)
    messages = [parse(build_message(message_id=f"<m{i}@example.org>")) for i in range(500)]
    verdicts = [decide(0.5, m, SEASONED, settings) for m in messages]
    probes = [v for v in verdicts if v.probe]
    assert 70 <= len(probes) <= 130
    assert all(v.action == PASS and v.reasons[-1].code == "probe" for v in probes)
    assert [decide(0.5, m, SEASONED, settings).probe for m in messages] == [v.probe for v in verdicts]


def test_a_probe_key_draws_instead_of_the_message_id():
    settings = PolicySettings(probe_share=0.2)
    message = parse(build_message(message_id="<one@example.org>"))
    assert decide(0.5, message, SEASONED, settings, probe_key="one@example.org").probe == \
        decide(0.5, message, SEASONED, settings).probe
    keyed = [decide(0.5, message, SEASONED, settings, probe_key=f"r{i}").probe for i in range(500)]
    assert 70 <= sum(keyed) <= 130


@pytest.mark.parametrize(("junk", "held", "lost"), [(1.0, 0.2, 10.0), (1.0, 0.5, 10.0),
                                                    (2.0, 0.2, 1.0), (2.0, 1.5, 1.0)])
def test_pass_threshold_is_where_passing_becomes_the_cheapest(junk, held, lost):
    settings = PolicySettings(cost_junk_passed=junk, cost_held=held, cost_wanted_lost=lost,
                              probe_share=0.0)
    threshold = pass_threshold(settings)
    assert decide(threshold + 1e-6, MESSAGE, SEASONED, settings).action == PASS
    assert decide(threshold - 1e-6, MESSAGE, SEASONED, settings).action != PASS


def test_probes_never_come_from_passed_or_deleted_mail():
    settings = PolicySettings(probe_share=1.0)
    assert not decide(0.95, MESSAGE, SEASONED, settings).probe
    assert decide(0.001, MESSAGE, SEASONED, settings).action == DELETE


def test_unsure_first_time_sender_goes_to_the_screener():
    verdict = decide(0.5, MESSAGE, History(profile_examples=500), SETTINGS)
    assert (verdict.action, verdict.queue) == (HOLD, "screener")
    assert decide(0.5, MESSAGE, SEASONED, SETTINGS).queue == ""
    assert decide(0.1, MESSAGE, History(profile_examples=500), SETTINGS).queue == ""


# -- deciding from a range of P(wanted) (the pipeline's first stage) ---------------------
def test_breakpoints_are_where_costs_cross_and_the_screener_band_ends():
    assert breakpoints(SETTINGS) == pytest.approx((0.02, 1 / 11, 0.25, 0.75, 0.8))


def test_a_range_wholly_above_the_pass_threshold_passes_and_says_the_model_did_not_read_it():
    verdict = decide_within(0.95, 0.85, 0.999, MESSAGE, (SEASONED,), SETTINGS)
    assert verdict.action == PASS
    assert 0.85 < verdict.probability < 0.999
    assert verdict.reasons[-1].code == "meaning_unread"
    assert "85% to 100%" in verdict.reasons[-1].text


def test_a_range_across_a_threshold_is_not_settled():
    assert decide_within(0.8, 0.7, 0.9, MESSAGE, (SEASONED,), SETTINGS) is None
    assert decide_within(0.005, 0.001, 0.03, MESSAGE, (SEASONED,), SETTINGS) is None


def test_a_hold_range_across_the_screener_band_is_not_settled():
    first_timer = History(profile_examples=500)
    assert decide_within(0.5, 0.3, 0.7, MESSAGE, (first_timer,), SETTINGS).queue == "screener"
    assert decide_within(0.3, 0.1, 0.5, MESSAGE, (first_timer,), SETTINGS) is None


def test_a_delete_that_depends_on_similar_mail_thrown_away_is_not_settled():
    unknown_sender = History(sender_messages=2, profile_examples=500)
    like_junk = History(sender_messages=2, profile_examples=500, similar_thrown_away=4)
    either = (unknown_sender, like_junk)
    assert decide_within(0.003, 0.001, 0.01, MESSAGE, either, SETTINGS) is None
    assert decide_within(0.003, 0.001, 0.01, MESSAGE, (SEASONED,), SETTINGS).action == DELETE


@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(0.0, 1.0),
       st.integers(0, 3), st.floats(0.0, 3.0), st.integers(0, 4), st.booleans(), st.booleans())
@settings(max_examples=400, deadline=None)
def test_a_settled_range_decides_every_probability_in_it_the_same_way(
        a, b, where, sender_messages, thrown_away, similar, correspondent, probe):
    low, high = sorted((a, b))
    histories = (History(sender_messages=sender_messages, sender_thrown_away=thrown_away,
                         correspondent=correspondent, profile_examples=100),
                 History(sender_messages=sender_messages, sender_thrown_away=thrown_away,
                         correspondent=correspondent, profile_examples=100,
                         similar_thrown_away=similar))
    policy = PolicySettings(probe_share=0.5 if probe else 0.0)
    verdict = decide_within((low + high) / 2, low, high, MESSAGE, histories, policy)
    if verdict is not None:
        p = low + where * (high - low)
        for history in histories:
            exact = decide(p, MESSAGE, history, policy)
            assert (exact.action, exact.probe, exact.queue) == \
                (verdict.action, verdict.probe, verdict.queue)
