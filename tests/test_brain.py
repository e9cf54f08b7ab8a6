"""The brain: scoring, history for the policy, learning from behaviour, guard rails."""

from __future__ import annotations

import copy
import json
from dataclasses import replace

import numpy as np
import pytest

from gatekeeper.core.brain import Applied, Brain, Lists, learning_signal, similar_thrown_away
from gatekeeper.core.features import SIGNAL_NAMES, message_keys, signal_matrix
from gatekeeper.core.junk import JUNK_STATEMENTS
from gatekeeper.core.message import parse
from gatekeeper.core.policy import PolicySettings, decide
from gatekeeper.core.profile import Explanation
from gatekeeper.errors import ProfileFormatError
from gatekeeper.testing import HashEmbedder, build_message

DAY = 86400.0
JUNK_AND_NOT = [("Account suspended", "phishing: your account is suspended, verify your password "
                 "and bank details"),
                ("Minutes", "Minutes of the design review meeting")]


def news(i: int, topic: str = "rocket launch orbit satellite") -> bytes:
    return build_message(sender="Orbital <news@orbital.example>", subject=f"{topic} {i}",
                         body=f"Weekly {topic} news number {i}.",
                         message_id=f"<n{i}@orbital.example>")


def promo(i: int) -> bytes:
    return build_message(sender="Deals <deals@shop.example>", subject=f"discount sale {i}",
                         body="Huge discount, buy now, limited offer.",
                         message_id=f"<p{i}@shop.example>",
                         headers={"List-Unsubscribe": "<https://shop.example/u>"})


@pytest.fixture
def brain() -> Brain:
    return Brain(HashEmbedder(), settings=PolicySettings(probe_share=0.0))


@pytest.mark.parametrize(
    ("behaviour", "signal"),
    [("rescued", (1, 3.0)), ("read_soon", (1, 1.5)), ("deleted_unread", (0, 2.0)),
     ("delivered", None), ("held", None), ("ignored", (0, 0.5))],
)
def test_learning_signal_table(behaviour, signal):
    assert learning_signal(behaviour) == signal


def test_a_new_brain_scores_everything_neutral(brain):
    (assessment,) = brain.assess([parse(news(1))], now=0.0)
    assert assessment.probability == pytest.approx(0.5)
    assert assessment.verdict.action == "hold"


def test_interests_lift_matching_mail(brain):
    brain.set_interests(["rocket launch orbit satellite"], ["discount sale"])
    wanted, unwanted = brain.assess([parse(news(1)), parse(promo(1))], now=0.0)
    assert wanted.probability > 0.5 > unwanted.probability


def test_embeddings_are_cached_by_content(brain):
    calls = []
    original = brain.embedder.embed_batch
    brain.embedder.embed_batch = lambda texts: calls.append(len(texts)) or original(texts)
    same_content = [parse(promo(1)), parse(promo(1).replace(b"<p1@", b"<other@"))]
    brain.embed(same_content)
    brain.embed(same_content)
    assert calls == [1]


def test_learning_from_behaviour_moves_the_score_and_the_sender_memory(brain):
    message = parse(promo(1))
    before = brain.assess([message], now=0.0)[0]
    for i in range(2, 12):
        (seen,) = brain.assess([parse(promo(i))], now=i * DAY)
        brain.observe(seen, now=i * DAY)
        brain.learn(seen, "deleted_unread", now=i * DAY)
    brain.profile.consolidate()
    after = brain.assess([message], now=12 * DAY)[0]
    assert after.probability < before.probability - 0.2
    assert after.history.sender_thrown_away > 5
    assert after.history.sender_messages >= 9


def test_thrown_away_history_allows_delete_only_with_enough_evidence(brain):
    for i in range(40):
        (seen,) = brain.assess([parse(promo(i))], now=i * 3600.0)
        brain.observe(seen, now=i * 3600.0)
        brain.learn(seen, "deleted_unread", now=i * 3600.0)
        (kept,) = brain.assess([parse(news(i))], now=i * 3600.0)
        brain.learn(kept, "read_soon", now=i * 3600.0)
    brain.profile.consolidate()
    (verdict_for_promo,) = brain.assess([parse(promo(99))], now=41 * 3600.0)
    assert verdict_for_promo.verdict.action == "delete"
    assert verdict_for_promo.history.similar_thrown_away >= 2


def test_correspondents_are_never_learned_against_or_deleted(brain):
    sent = parse(build_message(sender="me@example.net", to="deals@shop.example",
                               message_id="<mine@example.net>"))
    brain.learn_sent(sent)
    (seen,) = brain.assess([parse(promo(1))], now=0.0)
    brain.learn(seen, "deleted_unread", now=0.0)
    assert brain.profile.n_examples_ == 0
    assert seen.history.correspondent


def test_replies_to_the_readers_mail_are_recognised(brain):
    brain.learn_sent(parse(build_message(message_id="<mine@example.net>")))
    reply = parse(build_message(headers={"In-Reply-To": "<mine@example.net>"}))
    assert brain.assess([reply], now=0.0)[0].history.reply_to_reader


def test_allow_and_block_lists_match_address_or_domain():
    brain = Brain(HashEmbedder(), lists=Lists(allowed={"orbital.example"},
                                              blocked={"deals@shop.example"}))
    allowed, blocked = brain.assess([parse(news(1)), parse(promo(1))], now=0.0)
    assert (allowed.verdict.action, blocked.verdict.action) == ("pass", "delete")


def test_explanations_quote_the_nearest_kept_or_thrown_away_mail(brain):
    (seen,) = brain.assess([parse(promo(1))], now=0.0)
    brain.learn(seen, "deleted_unread", now=0.0)
    (again,) = brain.assess([parse(promo(2))], now=DAY)
    note, wanted, cosine = again.explanation.nearest[0]
    assert note == "Deals: discount sale 1" and wanted is False and cosine > 0.8


def learned_history(brain: Brain) -> Brain:
    messages = [parse(news(i)) for i in range(3)] + [parse(promo(i)) for i in range(3)]
    brain.learn_sent(parse(build_message(sender="me@home.example", to="friend@pals.example")))
    brain.learn_history(messages, brain.embed(messages), ["read_soon"] * 3 + ["deleted_unread"] * 3,
                        [DAY * i for i in range(6)])
    return brain


def test_a_checkpoint_round_trips_the_whole_brain(tmp_path, brain):
    learned_history(brain).applied = Applied(7, 12, {9})
    brain.save(tmp_path)

    loaded = Brain.load(tmp_path, HashEmbedder())

    assert loaded.applied == Applied(7, 12, {9})
    assert loaded.memory.to_dict() == brain.memory.to_dict()
    assert loaded.memory.is_correspondent("friend@pals.example")
    probe = [parse(news(9))]
    assert loaded.assess(probe, now=DAY)[0].probability == pytest.approx(
        brain.assess(probe, now=DAY)[0].probability)
    assert Brain.saved_applied(tmp_path) == Applied(7, 12, {9})
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("damage", ["format", "signals", "garbage"])
def test_a_checkpoint_that_cannot_be_used_is_refused_so_it_can_be_relearned(tmp_path, brain,
                                                                            damage):
    learned_history(brain).save(tmp_path)
    path = tmp_path / "checkpoint.npz"
    with np.load(path) as data:
        arrays = dict(data)
    meta = json.loads(arrays["meta"].tobytes())
    if damage == "format":
        meta["format"] = 0
    elif damage == "signals":
        meta["profile"]["schema"]["signals"] = meta["profile"]["schema"]["signals"][:-1]
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(path, **arrays)
    if damage == "garbage":
        path.write_bytes(b"not a checkpoint")
    with pytest.raises(ProfileFormatError):
        Brain.load(tmp_path, HashEmbedder())


def test_a_brain_saved_before_checkpoints_keeps_its_memory_and_examples(tmp_path, brain):
    """What earlier versions wrote: brain.json beside a format-2 profile folder."""
    learned_history(brain)
    brain.profile.save(tmp_path / "profile")
    meta = json.loads((tmp_path / "profile" / "profile.json").read_text())
    legacy = {k: v for k, v in meta.items() if k != "schema"} | {"format": 2,
                                                                 "n_signals": len(SIGNAL_NAMES)}
    (tmp_path / "profile" / "profile.json").write_text(json.dumps(legacy))
    with np.load(tmp_path / "profile" / "profile.npz") as data:
        np.savez(tmp_path / "profile" / "profile.npz",
                 **{k: v for k, v in data.items() if k != "ids"})
    (tmp_path / "brain.json").write_text(json.dumps(
        {"memory": brain.memory.to_dict(), "sent_ids": [], "flagged_threads": []}))

    loaded = Brain.load(tmp_path, HashEmbedder())

    assert loaded.applied is None  # whatever the store holds is taken to be in it
    assert loaded.profile.n_examples_ == 6
    assert loaded.memory.to_dict() == brain.memory.to_dict()


def reply(sender: str, topic: str, i: int) -> bytes:
    return build_message(sender=sender, subject=f"Re: {topic}", message_id=f"<{topic[:4]}{i}@x>",
                         body=f"More on {topic}.")


def test_the_reader_s_threads_carry_over_to_other_senders_and_never_unlock_deletion(brain):
    """Replies in a thread the reader reads read as engaging, in a thread the reader
    deletes as not, from anyone; but only the sender's own history lets a message go to
    Trash, so a subject alone never deletes."""
    followed, dropped = "Shuttle launch window moved", "Cheap flights to Orlando"
    for i in range(4):
        for topic, behaviour in ((followed, "read_soon"), (dropped, "deleted_unread")):
            message = parse(reply(f"Poster {i} <p{i}@news.example>", topic, i))
            brain.memory.record(message_keys(message), behaviour, i * DAY)
    newcomer = [parse(reply("New <new@else.example>", topic, 9)) for topic in (followed, dropped)]
    signals = signal_matrix(newcomer, brain.memory, 5 * DAY)
    engagement = signals[:, SIGNAL_NAMES.index("thread_engagement")]
    assert engagement[0] > 0.25 and engagement[1] < -0.25
    assert signals[:, SIGNAL_NAMES.index("address_engagement")].tolist() == [0.0, 0.0]
    history = replace(brain.history(newcomer[1], 5 * DAY), profile_examples=1000)
    verdict = decide(0.0, newcomer[1], history, PolicySettings(probe_share=0.0))
    assert verdict.action == "hold" and "no_history" in {r.code for r in verdict.reasons}


def test_a_lesson_kept_before_a_signal_existed_still_teaches(brain):
    """A lesson stored by a version with fewer signals is read in today's, by name: the
    signals it predates read 0, as for a key the memory does not know."""
    lesson = brain.lesson(parse(news(1)), "read_soon", DAY)
    signals = lesson.example.signals + 1.0
    is_old = np.array([not name.startswith("thread_") for name in SIGNAL_NAMES])
    old = replace(lesson, example=replace(lesson.example, signals=signals[is_old],
                  signal_names=tuple(np.array(SIGNAL_NAMES)[is_old])))
    today = replace(lesson, example=replace(lesson.example, signals=np.where(is_old, signals, 0.0)))
    twin = copy.deepcopy(brain)

    brain.apply(old)
    twin.apply(today)

    assert brain.profile.signal_names_ == SIGNAL_NAMES
    np.testing.assert_array_equal(brain.profile.examples_.signals, twin.profile.examples_.signals)
    assert brain.profile.examples_.signals[0, is_old].any()


def test_a_lesson_fixes_the_sender_signals_as_they_were_before_the_reaction(brain):
    message = parse(promo(1))
    for i in range(3):
        brain.memory.record(message_keys(message), "deleted_unread", i * DAY)
    lesson = brain.lesson(message, "rescued", 3 * DAY)
    before = signal_matrix([message], brain.memory, 3 * DAY)[0]
    brain.apply(lesson)
    assert lesson.example.label == 1 and lesson.example.weight == 3.0
    np.testing.assert_array_equal(lesson.example.signals, before)
    assert brain.memory.get(f"address:{message.from_address}").count("rescued", 3 * DAY) == 1


def test_forgetting_a_lesson_takes_back_its_counts_and_its_example(brain):
    learned_history(brain)
    before = copy.deepcopy(brain)
    message = parse(promo(7))
    flag = brain.lesson(message, "flagged", 7 * DAY)
    brain.apply(flag, reaction=41)
    assert brain.profile.n_examples_ == 7 and message.message_id in brain.flagged_threads

    brain.forget([(41, flag)])

    assert brain.profile.n_examples_ == 6 and message.message_id not in brain.flagged_threads
    address = brain.memory.get(f"address:{message.from_address}")
    assert address.count("flagged", 7 * DAY) == pytest.approx(0.0, abs=1e-12)
    expected = before.memory.get(f"address:{message.from_address}")
    assert address.features(8 * DAY) == pytest.approx(expected.features(8 * DAY), abs=1e-9)
    probe = [parse(news(9))]
    before.profile.consolidate()
    assert brain.assess(probe, now=8 * DAY)[0].probability == pytest.approx(
        before.assess(probe, now=8 * DAY)[0].probability, abs=1e-4)


def test_forgetting_mail_the_reader_sent_forgets_the_correspondent(brain):
    sent = brain.sent_lesson(parse(build_message(sender="me@home.example",
                                                 to="friend@pals.example")))
    brain.apply(sent, reaction=1)
    brain.apply(sent, reaction=2)  # written to twice
    brain.forget([(1, sent)])
    assert brain.memory.is_correspondent("friend@pals.example")
    brain.forget([(2, sent)])
    assert not brain.memory.is_correspondent("friend@pals.example")


def trained(brain: Brain) -> Brain:
    """A brain that has seen 40 promotions thrown away and 40 newsletters read."""
    for i in range(40):
        for raw, behaviour in ((promo(i), "deleted_unread"), (news(i), "read_soon")):
            (seen,) = brain.assess([parse(raw)], now=i * 3600.0)
            brain.observe(seen, now=i * 3600.0)
            brain.learn(seen, behaviour, now=i * 3600.0)
    brain.profile.consolidate()
    return brain


@pytest.mark.parametrize("told", [((), ()), (("rocket launches",), ("discount sales",))])
def test_settling_early_gives_the_verdicts_the_model_would_and_skips_it_where_it_can(
        brain, told):
    # A weak prior, so that some messages settle with statements too (the hashed test
    # embedder's cosines make the statements' fitted weight large).
    brain.profile.set_params(prior_scale=1.0)
    brain.set_interests(*told)
    trained(brain)
    incoming = [parse(raw) for i in range(100, 120) for raw in (news(i), promo(i))] + [
        parse(build_message(sender=f"Stranger {i} <s{i}@elsewhere.example>",
                            subject=f"question {i}", body="Are you free to talk next week?"))
        for i in range(5)]
    calls = []
    original = brain.embedder.embed_batch
    brain.embedder.embed_batch = lambda texts: calls.append(len(texts)) or original(texts)
    early = brain.assess(incoming, now=50 * 3600.0, settle_early=True)
    embedded = sum(calls)
    full = brain.assess(incoming, now=50 * 3600.0)
    assert [(a.verdict.action, a.verdict.probe, a.verdict.queue) for a in early] == \
        [(a.verdict.action, a.verdict.probe, a.verdict.queue) for a in full]
    unread = [a for a in early if a.embedding is None]
    assert unread and embedded == len(incoming) - len(unread)
    for assessment in unread:
        assert assessment.verdict.reasons[-1].code == "meaning_unread"
        assert assessment.explanation.nearest == []
        # "interests": the share of the interests' own words (none here), read before the model
        assert set(assessment.explanation.contributions) == {"words", "signals", "bias",
                                                             "interests"}


def test_learning_from_a_message_settled_early_embeds_it_then(brain):
    trained(brain)
    message = parse(news(200))
    (early,) = brain.assess([message], now=50 * 3600.0, settle_early=True)
    assert early.embedding is None
    twin = copy.deepcopy(brain)
    (full,) = twin.assess([message], now=50 * 3600.0)
    brain.learn(early, "read_soon", now=50 * 3600.0)
    twin.learn(full, "read_soon", now=50 * 3600.0)
    np.testing.assert_allclose(brain.profile.coef_, twin.profile.coef_)
    np.testing.assert_array_equal(brain.profile.examples_.embeddings[-1], full.embedding)


def test_cached_embeddings_are_read_not_bounded(brain):
    trained(brain)
    message = parse(news(300))
    brain.embed([message])
    (assessment,) = brain.assess([message], now=50 * 3600.0, settle_early=True)
    assert assessment.embedding is not None


def test_mail_that_reads_like_junk_is_told_from_mail_that_does_not(brain):
    texts = ["Your account is suspended: verify your password and bank details",
             "You have won the lottery! Claim your prize now",
             "Rocket launch to orbit this week", "Minutes of the design review meeting"]
    assert brain.reads_like_junk(HashEmbedder().embed_many(texts)).tolist() == \
        [True, True, False, False]
    assert brain.reads_like_junk(np.zeros((0, 384), np.float32)).shape == (0,)


@pytest.mark.parametrize("told", [(), ("rocket launches",)])
def test_every_reader_starts_with_the_junk_prior(brain, told):
    # With or without statements, before any reaction: mail that reads like what nearly
    # every reader throws away starts below mail that does not.
    if told:
        brain.set_interests(told)
    assert len(brain.profile.junk_) == len(JUNK_STATEMENTS)
    phishing, minutes = brain.assess([parse(build_message(subject=subject, body=body))
                                      for subject, body in JUNK_AND_NOT], now=0.0)
    assert phishing.explanation.contributions["junk"] < 0
    assert minutes.explanation.contributions["junk"] == 0
    assert phishing.probability < minutes.probability


@pytest.mark.parametrize(("reads_like_junk", "expected"), [(False, 1), (True, 3)])
def test_junk_counts_looser_neighbours_as_mail_like_it(reads_like_junk, expected):
    explanation = Explanation(0.01, {}, [("a", False, 0.9), ("b", False, 0.6),
                                         ("c", False, 0.55), ("d", True, 0.7)])
    assert similar_thrown_away(explanation, reads_like_junk) == expected
