"""The quality report's tables, from a hand-made results dictionary."""

from __future__ import annotations

import pytest

from gatekeeper.errors import InputError
from gatekeeper.evaluation.quality_report import BEGIN, END, Figure, render_markdown, replace_tables, \
    target_rows, targets_table


def scores(auc: float) -> dict:
    return {"auc": auc, "removed_at_0.1%_lost": 0.5, "removed_at_1%_lost": 0.75,
            "calibration": {"ece": 0.02},
            "slices": {"easy_ham": {"messages": 9, "auc": 0.99, "held_share": 0.1, "lost_share": 0.0},
                       "hard_ham_dev": {"messages": 3, "auc": 0.7, "held_share": 0.5,
                                        "lost_share": 0.0}}}


def decisions() -> dict:
    return {"wanted_lost_share": 0.0, "wanted_held_share": 0.04, "unwanted_removed_share": 0.97}


RESULTS = {"roles": ["reporting"], "tasks": {"sa": {
    "slices": {"easy_ham": "ordinary ham", "hard_ham_dev": "commercial-but-wanted"},
    "splits": {"reporting": {
        "sender": {"batch": scores(0.995) | decisions(), "baselines": {"bogofilter": scores(0.98)}},
        "time": {"prequential": scores(0.99) | decisions() | {"cumulative": [
            {"share": 0.5, "messages": 50, "wanted_lost_share": 0.0, "wanted_held_share": 0.02,
             "unwanted_left_share": 0.04, "removed_to_trash_share": 0.85,
             "removed_to_trash_once_like_share": 0.9, "actions_per_100": 3.0}]},
            "online": scores(0.99) | decisions() | {"learning_curve": [
                {"reactions": 0, "auc": 0.9, "wanted_held_share": 0.5, "wanted_lost_share": 0.0}]}},
    }}}}}


def test_report_has_a_row_per_filter_and_split():
    markdown = render_markdown(RESULTS)
    assert "| reporting | sa | sender | gatekeeper (batch) | 0.9950 | 50.0% / 75.0% | 0.0% | 4.0% " \
           "| 97.0% | 0.020 |" in markdown
    assert "| reporting | sa | sender | bogofilter | 0.9800 | 50.0% / 75.0% | - | - | - | 0.020 |" \
           in markdown


def test_the_overview_gives_each_auc_its_interval_when_measured():
    split = {"batch": scores(0.995) | decisions() | {"intervals": {"auc": [0.99, 0.998]}}}
    results = {"roles": ["reporting"], "tasks": {"sa": {"splits": {"reporting": {"sender": split}}}}}
    assert "| reporting | sa | sender | gatekeeper (batch) | 0.9950 (0.9900-0.9980) | 50.0% / 75.0% |" \
        in render_markdown(results)


def test_report_names_the_slices_of_wanted_mail():
    markdown = render_markdown(RESULTS)
    assert "| reporting | sa | sender | gatekeeper (batch) | commercial-but-wanted | 3 | 0.7000 " \
           "| 50.0% | 0.0% |" in markdown
    assert "| reporting | sa | sender | bogofilter | ordinary ham | 9 | 0.9900 | - | - |" in markdown


def test_report_has_the_prequential_stream_and_the_learning_curve():
    markdown = render_markdown(RESULTS)
    assert "| reporting | sa | time | 50 (50.0%) | 0.0% | 2.0% | 4.0% | 85.0% / 90.0% | 3.0 |" in markdown
    assert "| reporting | sa | time | 0: 0.900, 50.0% held, 0.0% lost |" in markdown


def test_tables_replace_what_lies_between_the_markers_only():
    readme = f"intro\n{BEGIN}\nold table\n{END}\nafter\n"
    assert replace_tables(readme, "| new |\n") == f"intro\n{BEGIN}\n| new |\n{END}\nafter\n"


def test_tables_need_the_markers():
    with pytest.raises(InputError, match="quality tables"):
        replace_tables("no markers here", "| new |")


SPAM_SPLIT = {"batch": scores(0.995) | decisions() | {"calibration": {"ece": 0.05}},
              "baselines": {"SpamAssassin": scores(0.993)}}


@pytest.mark.parametrize(("target", "shown", "met"), [
    ("AUC above SpamAssassin's in the same run (goal 0.995)", "0.9950 (against 0.9930)", True),
    ("unwanted removed at 0.1% wanted lost >= 65% (goal 90%)", "50.0%", False),
    ("commercial-but-wanted against spam: AUC >= 0.95", "0.7000", False),
    ("batch: ECE <= 0.03", "0.050", False),
])
def test_targets_are_checked_on_the_reporting_splits(target, shown, met):
    results = {"roles": ["reporting"], "tasks": {"spamassassin": {"splits": {
        "reporting": {"sender": SPAM_SPLIT}}}}}
    rows = {row.target: row for row in target_rows(results) if row.where == "spamassassin, sender"}
    assert (rows[target].shown, rows[target].met) == (shown, met)
    assert rows[target].interval == "-"  # none measured in this hand-made split


def test_targets_are_never_checked_on_the_tuning_world():
    results = {"roles": ["tuning"], "tasks": {"spamassassin": {"splits": {
        "tuning": {"sender": SPAM_SPLIT}}}}}
    assert target_rows(results) == []
    assert "Targets" not in render_markdown(results)


def test_the_learning_curve_targets_read_the_point_after_their_reactions():
    curve = [{"reactions": n, "auc": auc, "wanted_held_share": 0.1, "wanted_lost_share": 0.0}
             for n, auc in ((0, 0.91), (50, 0.93), (100, 0.94))]
    results = {"roles": ["reporting"], "tasks": {"20news": {"splits": {
        "reporting": {"time": {"online": {"learning_curve": curve}}}}}}}
    rows = {row.target: (row.shown, row.met) for row in target_rows(results)}
    assert rows["zero-shot AUC >= 0.90 (the interest statements alone)"] == ("0.910", True)
    assert rows["AUC >= 0.95 after 100 reactions"] == ("0.940", False)


def test_targets_show_their_interval_and_whether_it_holds_the_bound():
    split = {"batch": {"calibration": {"ece": 0.032}, "wanted_lost_share": 0.0,
                       "intervals": {"calibration": {"ece": [0.021, 0.047]},
                                     "wanted_lost_share": [0.0, 0.0]}},
             "online": {"learning_curve": [{"reactions": 100, "auc": 0.93,
                                            "intervals": {"auc": [0.91, 0.94]}}]}}
    results = {"roles": ["reporting"], "tasks": {"20news": {"splits": {
        "reporting": {"time": split}}}}}
    rows = {row.target: row for row in target_rows(results)}
    ece = rows["batch: ECE <= 0.03"]
    assert (ece.shown, ece.interval, ece.met, ece.undecided) == ("0.032", "0.021 - 0.047", False, True)
    after = rows["AUC >= 0.95 after 100 reactions"]
    assert (after.interval, after.met, after.undecided) == ("0.910 - 0.940", False, False)
    lost = rows["batch: wanted deleted <= 0.1%"]
    assert (lost.interval, lost.met, lost.undecided) == ("0.0% - 0.0%", True, False)
    assert "| batch: ECE <= 0.03 | 20news, time | 0.032 | 0.021 - 0.047 | **no** (within noise) |" \
        in targets_table(results)


@pytest.mark.parametrize(("gain", "shown", "undecided"), [
    ([-0.001, 0.004], "difference -0.0010 to +0.0040", True),
    ([0.0005, 0.004], "difference +0.0005 to +0.0040", False),
])
def test_beating_a_peer_is_judged_by_the_paired_difference(gain, shown, undecided):
    peer = scores(0.993) | {"gatekeeper_auc_gain": 0.002,
                            "intervals": {"auc": [0.985, 0.998], "gatekeeper_auc_gain": gain}}
    split = {"batch": scores(0.995) | {"intervals": {"auc": [0.99, 0.998]}},
             "baselines": {"SpamAssassin": peer}}
    results = {"roles": ["reporting"], "tasks": {"spamassassin": {"splits": {
        "reporting": {"sender": split}}}}}
    (row,) = [r for r in target_rows(results) if r.target.startswith("AUC above")]
    assert (row.shown, row.interval, row.met, row.undecided) == (
        "0.9950 (against 0.9930)", shown, True, undecided)


def test_the_report_says_how_it_was_measured():
    results = RESULTS | {"model": "m", "run": {"date": "2026-12-03", "machine": "x86_64 Linux",
                                               "cores": 2, "python": "3.11.7", "limit": 4000}}
    assert render_markdown(results).startswith(
        "sa: measured 2026-12-03 on x86_64 Linux (2 cores, Python 3.11.7), model m, at most 4,000 "
        "messages per task.")


def test_merged_runs_say_how_each_task_was_measured():
    run = {"date": "2026-12-03", "machine": "x86_64 Linux", "cores": 2, "python": "3.11.7"}
    results = {"model": "m", "roles": ["reporting"], "tasks": {
        "a": {"splits": {}, "run": run | {"limit": 4000}}, "b": {"splits": {}, "run": run}}}
    assert render_markdown(results).splitlines()[:2] == [
        "a: measured 2026-12-03 on x86_64 Linux (2 cores, Python 3.11.7), model m, at most "
        "4,000 messages per task.",
        "b: measured 2026-12-03 on x86_64 Linux (2 cores, Python 3.11.7), model m."]


def test_a_figure_finds_its_interval_beside_its_filters_results():
    split = {"batch": {"slices": {"hard_ham_dev": {"auc": 0.93}},
                       "intervals": {"slices": {"hard_ham_dev": {"auc": [0.88, 0.97]}}}},
             "baselines": {"bogofilter": {"auc": 0.96, "intervals": {"auc": [0.94, 0.98]}}}}
    commercial = Figure("batch", "slices", "hard_ham_dev", "auc")
    assert (commercial(split), commercial.interval(split)) == (0.93, [0.88, 0.97])
    peer = Figure("baselines", "bogofilter", "auc", depth=2)
    assert (peer(split), peer.interval(split)) == (0.96, [0.94, 0.98])
    assert Figure("online", "auc").interval(split) is None
