"""The evaluation metrics, on tables of hand-checked cases."""

from __future__ import annotations

import numpy as np
import pytest

from gatekeeper.core.metrics import auc, bootstrap_interval, calibration, decision_counts, metric_intervals, \
    removed_at_loss, slice_metrics, wilson


@pytest.mark.parametrize(
    ("wanted", "p", "expected"),
    [
        ([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1], 1.0),
        ([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9], 0.0),
        ([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1], 0.75),
        ([1, 0], [0.5, 0.5], 0.5),
        ([1, 1, 0], [0.4, 0.6, 0.6], 0.25),
    ],
)
def test_auc_matches_hand_counts(wanted, p, expected):
    assert auc(np.array(wanted, bool), np.array(p)) == pytest.approx(expected)


def test_auc_of_one_class_is_undefined():
    assert np.isnan(auc(np.array([True, True]), np.array([0.1, 0.2])))


def test_auc_agrees_with_pairwise_definition_on_random_data():
    rng = np.random.default_rng(1)
    wanted = rng.random(300) < 0.3
    p = np.round(rng.random(300), 2)
    pairs = [(a > b) + 0.5 * (a == b) for a in p[wanted] for b in p[~wanted]]
    assert auc(wanted, p) == pytest.approx(np.mean(pairs))


def test_removed_at_loss_counts_unwanted_below_the_safe_threshold():
    wanted = np.array([1] * 1000 + [0] * 10, bool)
    p = np.concatenate([np.linspace(0.3, 1.0, 1000), np.linspace(0.0, 0.5, 10)])
    # Losing 0.1% of 1000 wanted = 1 message: threshold is the 2nd lowest wanted score.
    threshold = np.sort(p[wanted])[1]
    assert removed_at_loss(wanted, p, 0.001) == pytest.approx((p[~wanted] < threshold).mean())
    assert removed_at_loss(wanted, p, 0.0) == pytest.approx((p[~wanted] < 0.3).mean())


def test_calibration_of_a_perfectly_calibrated_score_is_near_zero():
    rng = np.random.default_rng(0)
    p = rng.random(20000)
    wanted = rng.random(20000) < p
    result = calibration(wanted, p)
    assert result["ece"] < 0.02
    assert len(result["curve"]) == 10
    assert result["brier"] == pytest.approx(1 / 6, abs=0.01)


def test_decision_counts_and_shares():
    wanted = np.array([1, 1, 1, 1, 0, 0], bool)
    counts = decision_counts(wanted, ["pass", "pass", "hold", "delete", "hold", "pass"])
    assert counts["wanted_pass"] == 2 and counts["wanted_delete"] == 1
    assert counts["wanted_lost_share"] == pytest.approx(0.25)
    assert counts["unwanted_removed_share"] == pytest.approx(0.5)


def test_decision_counts_say_what_was_left_in_the_inbox_and_what_went_to_trash():
    wanted = np.array([0, 0, 0, 0, 1], bool)
    counts = decision_counts(wanted, ["pass", "hold", "delete", "delete", "pass"])
    assert counts["unwanted_left_share"] == pytest.approx(0.25)
    assert counts["removed_to_trash_share"] == pytest.approx(2 / 3)
    assert np.isnan(decision_counts(wanted, ["pass"] * 5)["removed_to_trash_share"])


def test_slices_rank_each_kind_of_wanted_mail_against_all_unwanted_mail():
    wanted = np.array([1, 1, 1, 1, 0, 0], bool)
    p = np.array([0.9, 0.8, 0.3, 0.1, 0.2, 0.4])
    labels = ["ham", "ham", "newsletter", "newsletter", "spam", "spam"]
    slices = slice_metrics(wanted, p, labels, ["pass", "pass", "hold", "delete", "hold", "hold"])
    assert set(slices) == {"ham", "newsletter"}
    assert slices["ham"] == {"messages": 2, "auc": 1.0, "held_share": 0.0, "lost_share": 0.0}
    assert slices["newsletter"]["auc"] == pytest.approx(0.25)  # 0.3 beats 0.2 only
    assert slices["newsletter"]["held_share"] == 0.5 and slices["newsletter"]["lost_share"] == 0.5


def test_calibration_error_is_the_size_weighted_gap_of_its_bins():
    wanted = np.array([1, 0, 1, 1, 0], bool)
    p = np.array([0.05, 0.05, 0.95, 0.95, 0.55])
    # bin 0: predicted 0.05, observed 0.5 (2 of 5); bin 5: 0.55 against 0 (1); bin 9: 0.95 against 1 (2)
    expected = (2 * 0.45 + 1 * 0.55 + 2 * 0.05) / 5
    assert calibration(wanted, p)["ece"] == pytest.approx(expected)


def _noisy_scores(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    wanted = rng.random(n) < 0.3
    return wanted, np.clip(0.35 * wanted + 0.65 * rng.random(n), 0, 1)


def test_a_bootstrap_interval_holds_its_figure_and_narrows_with_more_mail():
    wanted, p = _noisy_scores(200)
    low, high = bootstrap_interval(auc, wanted, p)
    assert low < auc(wanted, p) < high
    more_wanted, more_p = _noisy_scores(5000)
    more_low, more_high = bootstrap_interval(auc, more_wanted, more_p)
    assert more_high - more_low < (high - low) / 3  # about 1/sqrt(25) as wide
    assert bootstrap_interval(auc, wanted, p) == [low, high]  # the same draws each time


def test_a_bootstrap_resample_keeps_both_kinds_of_mail():
    wanted = np.array([True] + [False] * 30)  # one wanted message: a free draw would often lose it
    p = np.linspace(0, 1, 31)
    assert bootstrap_interval(auc, wanted, p, rounds=200) == [0.0, 0.0]  # it always scores lowest
    assert bootstrap_interval(auc, wanted[1:], p[1:]) is None  # no wanted mail: no AUC


def test_metric_intervals_are_keyed_as_the_figures_they_belong_to():
    wanted, p = _noisy_scores(300)
    labels = np.where(wanted, "easy_ham", "spam").astype(object)
    labels[np.flatnonzero(wanted)[:20]] = "hard_ham_dev"
    actions = np.where(p > 0.6, "pass", "hold")
    intervals = metric_intervals(wanted, p, labels, actions)
    figures = slice_metrics(wanted, p, labels, actions) | decision_counts(wanted, actions)
    for label in ("easy_ham", "hard_ham_dev"):
        low, high = intervals["slices"][label]["auc"]
        assert low <= figures[label]["auc"] <= high
    for share in ("wanted_held_share", "unwanted_left_share", "wanted_lost_share"):
        low, high = intervals[share]
        assert low <= figures[share] <= high
    low, high = intervals["calibration"]["ece"]
    assert low <= calibration(wanted, p)["ece"] <= high
    assert set(intervals) >= {"auc", "removed_at_0.1%_lost"}


def test_wilson_interval():
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson(0, 100)[0] == 0.0 and wilson(0, 100)[1] == pytest.approx(0.0370, abs=1e-4)
    assert wilson(0, 0) == (0.0, 0.0)


def test_none_of_a_thousand_wanted_deleted_is_no_proof_of_under_a_tenth_of_a_percent():
    wanted = np.arange(2000) < 1000
    actions = np.where(wanted, "pass", "delete")
    low, high = metric_intervals(wanted, wanted.astype(float), ["ham"] * 2000, actions)["wanted_lost_share"]
    assert low == 0.0 and 0.001 < high < 0.004  # a bootstrap would say [0, 0]


def test_a_senders_mail_is_resampled_as_one_when_senders_are_given():
    # Ten wanted senders and ten unwanted, twenty messages each, every sender's mail
    # scored alike: 400 messages, but only 20 independent verdicts.
    rng = np.random.default_rng(5)
    sender_scores = rng.random(20)
    wanted = np.repeat(np.arange(20) < 10, 20)
    p = np.repeat(sender_scores, 20) + rng.normal(0, 0.01, 400)
    senders = np.repeat([f"sender{i}.example" for i in range(20)], 20)
    by_message = bootstrap_interval(auc, wanted, p)
    by_sender = bootstrap_interval(auc, wanted, p, senders=senders)
    assert by_sender[0] <= auc(wanted, p) <= by_sender[1]
    assert by_sender[1] - by_sender[0] > 2 * (by_message[1] - by_message[0])
    held = np.repeat(sender_scores < 0.3, 20)  # whole senders held
    wilson_only = metric_intervals(wanted, p, ["x"] * 400, np.where(held, "hold", "pass"))
    widened = metric_intervals(wanted, p, ["x"] * 400, np.where(held, "hold", "pass"), senders)
    assert widened["wanted_held_share"][1] > wilson_only["wanted_held_share"][1]
