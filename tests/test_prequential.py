"""The stream of decisions, reactions and learning that the prequential protocol measures."""

from __future__ import annotations

import numpy as np
import pytest

from gatekeeper.core.junk import JUNK_STATEMENTS, junk_similarity
from gatekeeper.core.metrics import auc
from gatekeeper.core.policy import PolicySettings
from gatekeeper.core.profile import InterestProfile
from gatekeeper.evaluation import quality
from gatekeeper.evaluation.corpus import LabelledMessage
from gatekeeper.evaluation.evaluate import Task, new_brain, prepare
from gatekeeper.evaluation.prequential import SimulatedReader, Stream, run_online, run_prequential
from gatekeeper.evaluation.splits import later_split
from gatekeeper.testing import HashEmbedder, build_message

from test_evaluate import make_corpus

HOLD_EVERYTHING = PolicySettings(cost_held=0.0, probe_share=0.0)
PASS_EVERYTHING = PolicySettings(cost_junk_passed=0.0, cost_held=1.0, probe_share=0.0)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = make_corpus(tmp_path_factory.mktemp("stream") / "corpus", n=80)
    return prepare(quality.task_from_path(root, "folders"), HashEmbedder())


def stream(prepared, settings, **reader) -> Stream:
    brain = new_brain(prepared, HashEmbedder(), settings)
    return Stream(brain, prepared, SimulatedReader(**reader))


def test_simulated_reader_reacts_like_a_person():
    reader = SimulatedReader()
    assert reader.react(True, "pass") == "read_soon"
    assert reader.react(False, "pass") == "deleted_unread"
    assert reader.react(True, "delete") is None and reader.react(True, "hold") is None
    assert (reader.review(True), reader.review(False)) == ("rescued", "deleted_from_held")


def test_held_mail_waits_for_the_daily_look_then_is_rescued_or_cleared(prepared):
    run = stream(prepared, HOLD_EVERYTHING)
    for index in range(40):  # the first day, one message every 36 minutes
        run.arrive(index)
    assert run.reactions == 0 and run.work.rescues == 0
    run.arrive(40)  # a day after the first arrival: the reader looked at the held folder
    assert run.reactions == 40
    assert run.work.rescues == int(prepared.wanted[:40].sum()) and run.work.held_clearouts == 1
    run.run(range(41, 80))
    assert run.reactions == 80 and run.work.rescues == int(prepared.wanted.sum())
    assert run.work.inbox_deletes == 0 and run.work.held_clearouts == 2


def test_passed_mail_is_read_or_deleted_a_little_after_it_arrives(prepared):
    run = stream(prepared, PASS_EVERYTHING, react_after=3 * 3600.0)
    run.arrive(0)
    run.arrive(1)  # 36 minutes later: the reader has not looked yet
    assert run.reactions == 0 and run.brain.profile.n_examples_ == 0
    run.run(range(2, 80))
    assert run.reactions == 80 and run.brain.profile.n_examples_ == 80
    assert run.work.inbox_deletes == int((~prepared.wanted).sum()) and run.work.rescues == 0
    assert run.work_after[-1] == run.work.actions


# Deleting costs nothing, so mail is deleted as soon as the guard rails allow: once the
# reader has thrown away mail from its sender, at the first look at the held folder.
DELETE_WHEN_ALLOWED = PolicySettings(cost_wanted_lost=0.0, cost_held=1.0, probe_share=0.0,
                                     min_examples_to_delete=0)


@pytest.fixture(scope="module")
def casino():
    items = [LabelledMessage(build_message(sender="deals@casino.example", subject=f"Bonus {i}",
                                           message_id=f"<{i}@casino.example>"),
                             False, "spam", str(i), i) for i in range(80)]
    return prepare(Task("casino", items), HashEmbedder())


def test_deleted_mail_is_never_seen_by_the_reader(casino):
    prepared = casino
    run = stream(prepared, DELETE_WHEN_ALLOWED)
    run.run(range(80))
    deleted = [a for a in run.assessments if a.verdict.action == "delete"]
    assert [a.verdict.action for a in run.assessments] == ["hold"] * 40 + ["delete"] * 40
    assert all(a.history.sender_thrown_away >= 1 for a in deleted)
    assert run.reactions == len(run.assessments) - len(deleted)


def test_prequential_counts_each_message_as_decided_before_learning_from_it(prepared):
    split = later_split(40, 80)
    result = run_prequential(prepared, split, HashEmbedder(), PolicySettings(probe_share=0.0))
    final = result["cumulative"][-1]
    assert final["messages"] == 40 and final["share"] == 1.0
    for key in ("wanted_lost_share", "wanted_held_share", "unwanted_left_share"):
        assert final[key] == pytest.approx(result[key])
    assert final["actions_per_100"] == pytest.approx(result["reader"]["actions_per_100"])
    assert [p["messages"] for p in result["cumulative"]] == [4, 10, 20, 40]
    assert result["reactions"] > 0 and 0 <= result["auc"] <= 1


def test_online_curve_starts_from_the_statements_alone(prepared):
    result = run_online(prepared, later_split(60, 80), HashEmbedder(),
                        PolicySettings(probe_share=0.0), curve_points=(0, 10))
    assert [p["reactions"] for p in result["learning_curve"]] == [0, 10]
    # No statements: before any reaction only the junk prior speaks, the closer a message
    # reads to what nearly every reader throws away the lower.
    closeness = junk_similarity(prepared.embeddings[60:80],
                                HashEmbedder().embed_many(list(JUNK_STATEMENTS)))
    junk_prior = -np.maximum(closeness - InterestProfile().junk_offset, 0)
    assert result["learning_curve"][0]["auc"] == pytest.approx(
        auc(prepared.wanted[60:80], junk_prior))
    assert result["stream"]["wanted_pass"] + result["stream"]["unwanted_pass"] > 0
    assert np.isfinite(result["auc"])


def test_trash_share_counts_all_unwanted_mail_kept_out_and_that_like_mail_thrown_away(casino):
    result = run_prequential(casino, later_split(0, 80), HashEmbedder(), DELETE_WHEN_ALLOWED)
    assert result["removed_to_trash_share"] == pytest.approx(0.5)  # the first day was held
    assert result["removed_to_trash_once_like_share"] == pytest.approx(1.0)
    assert result["cumulative"][0]["removed_to_trash_once_like_share"] != \
        result["cumulative"][0]["removed_to_trash_once_like_share"]  # none like it yet: nan
