"""InterestProfile: the scikit-learn contract, cold start, learning, decay, persistence."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.metrics import roc_auc_score

from gatekeeper.core import profile as profile_module
from gatekeeper.core.profile import (
    JUNK_WEIGHT,
    SIGNAL_LIMIT,
    STATEMENTS_WEIGHT,
    Evidence,
    InterestProfile,
    _calibrating_slope,
    sigmoid,
)
from gatekeeper.core.words import TOKEN_PATTERN, WORD_FEATURES, InterestWords, term_frequencies
from gatekeeper.errors import NotFittedError, ProfileFormatError
from gatekeeper.testing import HashEmbedder

EMBEDDER = HashEmbedder()
N_SIGNALS = 3

SPACE = ["rocket launch to orbit", "satellite reaches orbit", "nasa moon lander mission",
         "mars rover lands", "astronauts board the space station", "rocket engine test fire"]
CARS = ["new engine oil for my car", "replacing brake pads on the sedan",
        "car dealership price offer", "timing belt of the engine"]
PROMOS = ["huge discount on watches today", "win a free cruise now", "cheap pills discount offer",
          "limited offer buy now discount", "exclusive deal free gift today"]


def evidence(texts: list[str], signal: float = 0.0, notes: list[str] | None = None) -> Evidence:
    return Evidence(EMBEDDER.embed_many(texts), texts,
                    np.full((len(texts), N_SIGNALS), signal), notes or [])


def statements(profile: InterestProfile, interests: list[str], disinterests: list[str] = ()):
    return profile.set_statements(EMBEDDER.embed_many(interests),
                                  EMBEDDER.embed_many(list(disinterests)))


def column(word: str) -> int:
    return term_frequencies([word]).indices[0]


def test_unfitted_profile_raises_not_fitted():
    with pytest.raises(NotFittedError) as raised:
        InterestProfile().predict_proba(evidence(["anything"]))
    assert isinstance(raised.value, (ValueError, AttributeError))  # as scikit-learn's
    assert not isinstance(raised.value, SklearnNotFittedError)


def test_init_only_stores_hyperparameters_and_clones():
    profile = InterestProfile(alpha=3.0, neighbours=2)
    assert profile.get_params()["alpha"] == 3.0
    assert clone(profile).get_params() == profile.get_params()
    assert not [name for name in vars(profile) if name.endswith("_")]
    assert repr(profile) == "InterestProfile(alpha=3.0, neighbours=2)"


def test_set_params_changes_hyperparameters_and_refuses_unknown_ones():
    profile = InterestProfile().set_params(alpha=0.5, word_weight=1.0)
    assert (profile.alpha, profile.word_weight) == (0.5, 1.0)
    with pytest.raises(ValueError, match="no hyperparameter alphaa"):
        profile.set_params(alphaa=1.0)


def test_words_are_hashed_exactly_as_scikit_learns_hashing_vectorizer():
    """Saved profiles' word columns must keep their meaning: same tokens, same columns."""
    texts = ["Hello hello WORLD", "e-mail v1.2.3 don't stop", "Ünïcödé naïve café 東京 x",
             "", "a b c", "www.example.com/path?q=1 $100 50% off!!!", "x" * 300]
    reference = HashingVectorizer(n_features=WORD_FEATURES, alternate_sign=False, norm=None,
                                  token_pattern=TOKEN_PATTERN, lowercase=True).transform(texts)
    reference.data = 1.0 + np.log(reference.data)
    ours = term_frequencies(texts)
    assert ours.shape == reference.shape
    assert abs(ours - reference).max() == 0
    assert term_frequencies([]).shape == (0, WORD_FEATURES)


def test_scoring_does_not_import_scikit_learn():
    """The daemon's memory: scikit-learn alone would cost it 64 MB."""
    code = ("import sys; from gatekeeper.core.brain import Brain; from gatekeeper.testing import "
            "HashEmbedder, build_message; from gatekeeper.core.message import parse; "
            "b = Brain(HashEmbedder()); b.assess([parse(build_message())]); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy'}), "
            "'scipy.optimize' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split() == ["['scipy']", "False"]


def test_fit_and_partial_fit_return_self():
    profile = InterestProfile()
    X = evidence(SPACE + PROMOS)
    y = [1] * len(SPACE) + [0] * len(PROMOS)
    assert profile.fit(X, y) is profile
    assert profile.partial_fit(evidence(["rocket"]), [1]) is profile


def test_cold_start_from_statements_alone_ranks_interests_first():
    profile = statements(InterestProfile(), ["rocket orbit space launch"], ["discount offer"])
    wanted = profile.predict_proba(evidence(SPACE[:2]))[:, 1]  # share words with it
    unwanted = profile.predict_proba(evidence(PROMOS[:3]))[:, 1]
    assert wanted.min() > unwanted.max()


def test_interest_words_count_the_content_words_of_the_best_statement():
    words = InterestWords.of(["Space exploration: NASA, rockets and the moon",
                              "cars: engines and dealers"])
    assert len(words) == 5 + 3  # function words ("and", "the") left out
    counts = term_frequencies(["NASA rocket to the Moon", "a new engine, two cars",
                               "the and of", "spaces"])
    # plural and singular forms match; one statement's words at a time, each once
    np.testing.assert_array_equal(words.matches(counts), [3, 2, 0, 1])
    assert not InterestWords.none().matches(counts).any()
    assert not len(InterestWords.of(["the and of", "!!! 42", ""]))  # nothing to match


def test_the_interests_own_words_raise_the_prior_and_are_known_before_the_model():
    interests = ["rocket launch schedule"]
    texts = ["rocket launch schedule for friday", "weather for friday"]
    X = evidence(texts)
    plain = statements(InterestProfile(), interests)
    worded = InterestProfile().set_statements(EMBEDDER.embed_many(interests), np.zeros((0, 384)),
                                              InterestWords.of(interests))
    gain = worded.decision_function(X) - plain.decision_function(X)
    np.testing.assert_allclose(gain, [np.log1p(3), 0.0])
    for profile in (worded, InterestProfile().set_statements(
            worded.interests_, worded.disinterests_, worded.interest_words_).fit(
            evidence(SPACE + PROMOS), [1] * 6 + [0] * 5)):
        early = profile.contributions_without_meaning(texts, np.zeros((2, N_SIGNALS)))
        whole = profile.explain(X)
        semantic = profile.interest_prior(X.embeddings) * (
            1.0 if profile.coef_ is None else profile.coef_[STATEMENTS_WEIGHT])
        np.testing.assert_allclose([e.contributions["interests"] for e in whole],
                                   early["interests"] + semantic)


def test_interest_words_survive_fit_save_and_load(tmp_path):
    interests = ["rocket launch schedule"]
    profile = InterestProfile().set_statements(EMBEDDER.embed_many(interests), np.zeros((0, 384)),
                                               InterestWords.of(interests))
    profile.fit(evidence(SPACE + PROMOS), [1] * 6 + [0] * 5)
    assert len(profile.interest_words_) == 3
    profile.save(tmp_path / "p")
    probe = evidence(["rocket launch schedule", "huge discount"])
    np.testing.assert_allclose(InterestProfile.load(tmp_path / "p").predict_proba(probe),
                               profile.predict_proba(probe))


JUNK_TEXTS = ["cheap pills discount offer", "win a free cruise now"]


def test_the_junk_prior_counts_against_mail_that_reads_like_junk():
    profile = InterestProfile().set_statements(np.zeros((0, 384)), np.zeros((0, 384)),
                                               junk=EMBEDDER.embed_many(JUNK_TEXTS))
    probe = evidence(["cheap pills discount offer", "rocket launch schedule"])
    junk = [e.contributions["junk"] for e in profile.explain(probe)]
    # The first is a junk statement (cosine 1), the second shares no word with either.
    assert junk == pytest.approx([-profile.prior_scale * (1 - profile.junk_offset), 0.0])
    assert profile.predict_proba(probe)[:, 1] == pytest.approx([sigmoid(junk[0]), 0.5])


def test_a_reader_who_wants_mail_like_junk_can_weigh_the_junk_prior_down_not_around(tmp_path):
    profile = InterestProfile().set_statements(np.zeros((0, 384)), np.zeros((0, 384)),
                                               junk=EMBEDDER.embed_many(JUNK_TEXTS))
    profile.fit(evidence(PROMOS + SPACE), [1] * 5 + [0] * 6)  # wants the promotions
    assert 0.0 <= profile.coef_[JUNK_WEIGHT] < 0.5
    profile.save(tmp_path / "p")
    loaded = InterestProfile.load(tmp_path / "p")
    np.testing.assert_array_equal(loaded.junk_, profile.junk_)
    np.testing.assert_allclose(loaded.decision_function(evidence(PROMOS)),
                               profile.decision_function(evidence(PROMOS)))


def test_learns_from_labelled_examples():
    X = evidence(SPACE + CARS + PROMOS)
    y = [1] * len(SPACE) + [1] * len(CARS) + [0] * len(PROMOS)
    profile = InterestProfile(alpha=0.1).fit(X, y)
    scores = profile.predict_proba(evidence(["rocket to the moon", "free discount deal"]))[:, 1]
    assert scores[0] > 0.5 > scores[1]


def test_behaviour_overrides_a_wrong_statement():
    profile = statements(InterestProfile(alpha=0.3), ["discount offer deal"])
    before = profile.predict_proba(evidence(["discount deal on watches"]))[0, 1]
    profile.fit(evidence(PROMOS * 4), [0] * len(PROMOS) * 4)
    after = profile.predict_proba(evidence(["discount deal on watches"]))[0, 1]
    assert after < before - 0.2


def test_partial_fit_moves_the_score_in_the_direction_of_the_label():
    profile = InterestProfile().fit(evidence(SPACE + PROMOS), [1] * 6 + [0] * 5)
    probe = evidence(["cheap pills discount offer"])
    before = profile.predict_proba(probe)[0, 1]
    profile.partial_fit(probe, [1], sample_weight=[3.0])
    assert profile.predict_proba(probe)[0, 1] > before


def test_partial_fit_is_cheap_per_event():
    profile = InterestProfile().fit(evidence(SPACE + PROMOS), [1] * 6 + [0] * 5)
    one = evidence(["rocket engine test"])
    start = time.perf_counter()
    for _ in range(20):
        profile.partial_fit(one, [1])
    per_event = (time.perf_counter() - start) / 20
    # Not a benchmark: a generous bound that only catches an accidental full refit.
    assert per_event < 0.25


def test_older_evidence_decays_so_interests_can_drift():
    day = 86400.0
    X = evidence(SPACE * 3)
    profile = InterestProfile(half_life_days=10.0, alpha=0.3)
    profile.fit(X, [1] * len(X), times=np.zeros(len(X)))
    profile.partial_fit(X, [0] * len(X), times=np.full(len(X), 60 * day))
    profile.consolidate(now=60 * day)
    assert profile.predict_proba(evidence(["rocket launch to orbit"]))[0, 1] < 0.5


def test_sample_weight_strengthens_a_label():
    light = InterestProfile(alpha=1.0).fit(evidence(["rocket launch", "discount"]), [1, 0])
    heavy = InterestProfile(alpha=1.0).fit(evidence(["rocket launch", "discount"]), [1, 0],
                                           sample_weight=[10.0, 10.0])
    probe = evidence(["rocket launch"])
    assert heavy.predict_proba(probe)[0, 1] > light.predict_proba(probe)[0, 1]


def test_explain_names_blocks_and_nearest_examples():
    notes = [f"space {i}" for i in range(len(SPACE))] + [f"promo {i}" for i in range(5)]
    profile = InterestProfile(neighbours=3).fit(evidence(SPACE + PROMOS, notes=notes),
                                                [1] * 6 + [0] * 5)
    (explanation,) = profile.explain(evidence(["huge discount on watches today"]))
    assert set(explanation.contributions) == {"meaning", "words", "signals", "interests", "junk",
                                                 "bias"}
    note, wanted, cosine = explanation.nearest[0]
    assert note == "promo 0" and wanted is False and cosine > 0.99
    total = sum(explanation.contributions.values())
    assert explanation.probability == pytest.approx(1 / (1 + np.exp(-total)))


def test_save_and_load_round_trip_without_pickle(tmp_path):
    profile = statements(InterestProfile(alpha=0.5), ["rocket"], ["discount"])
    profile.fit(evidence(SPACE + PROMOS, notes=["n"] * 11), [1] * 6 + [0] * 5)
    profile.save(tmp_path / "p")
    loaded = InterestProfile.load(tmp_path / "p")
    probe = evidence(CARS)
    np.testing.assert_allclose(loaded.predict_proba(probe), profile.predict_proba(probe))
    assert loaded.get_params() == profile.get_params()
    assert loaded.n_examples_ == 11


def test_statement_only_profile_saves_and_loads(tmp_path):
    profile = statements(InterestProfile(), ["rocket"])
    profile.save(tmp_path / "p")
    probe = evidence(SPACE)
    np.testing.assert_allclose(InterestProfile.load(tmp_path / "p").predict_proba(probe),
                               profile.predict_proba(probe))


def test_a_profile_is_pinned_to_the_signals_it_learned():
    profile = InterestProfile().fit(evidence(SPACE + PROMOS), [1] * 6 + [0] * 5)
    wider = Evidence(EMBEDDER.embed_many(["x"]), ["x"], np.zeros((1, N_SIGNALS + 1)))
    renamed = Evidence(EMBEDDER.embed_many(["x"]), ["x"], np.zeros((1, N_SIGNALS)),
                       signal_names=[f"other {i}" for i in range(N_SIGNALS)])
    for wrong in (wider, renamed):
        with pytest.raises(ProfileFormatError, match="signals"):
            profile.partial_fit(wrong, [1])
        with pytest.raises(ProfileFormatError, match="signals"):
            profile.predict_proba(wrong)


def test_a_saved_profile_is_refused_by_code_with_other_signals(tmp_path):
    profile = InterestProfile().fit(evidence(SPACE + PROMOS), [1] * 6 + [0] * 5)
    profile.save(tmp_path / "p")
    names = [f"signal {i}" for i in range(N_SIGNALS)]
    assert InterestProfile.load(tmp_path / "p", names).n_examples_ == 11
    with pytest.raises(ProfileFormatError, match="other features"):
        InterestProfile.load(tmp_path / "p", names + ["a new signal"])


def test_word_block_separates_what_meaning_alone_cannot():
    rng = np.random.default_rng(0)
    topics = ["meeting agenda for monday", "quarterly report review", "code review request"]
    texts = [rng.choice(topics) + (" viagra" if i % 2 else " notes") for i in range(80)]
    y = [0 if "viagra" in t else 1 for t in texts]
    X = Evidence(np.tile(EMBEDDER.embed("meeting report"), (80, 1)), texts, np.zeros((80, 3)))
    profile = InterestProfile(alpha=0.1).fit(X[:60], y[:60])
    assert roc_auc_score(y[60:], profile.predict_proba(X[60:])[:, 1]) > 0.95


def test_words_every_example_contains_weigh_less_than_rare_ones():
    texts = [f"newsletter issue {i} rocket" for i in range(5)] + ["newsletter discount"]
    profile = InterestProfile().fit(evidence(texts), [1] * 5 + [0])
    words = profile._rows(evidence(["newsletter rocket discount"])).words
    weight = {word: words[0, column(word)]
              for word in ("newsletter", "rocket", "discount")}
    assert weight["newsletter"] < weight["rocket"] < weight["discount"]


def test_words_no_example_contains_weigh_nothing():
    profile = InterestProfile().fit(evidence(SPACE + PROMOS), [1] * 6 + [0] * 5)
    unseen = profile._rows(evidence(["zyzzyva quux"])).words
    assert unseen.nnz == 0 or not unseen.data.any()
    # An unseen word beside known ones does not dilute them.
    known = profile._rows(evidence(["rocket orbit"])).words
    mixed = profile._rows(evidence(["rocket orbit zyzzyva quux"])).words
    np.testing.assert_allclose(mixed.toarray(), known.toarray())


def test_inverse_document_frequencies_come_from_the_kept_examples_only():
    profile = InterestProfile(max_examples=6).fit(evidence(SPACE + PROMOS), [1] * 6 + [0] * 5)
    profile.partial_fit(evidence(CARS), [1] * 4).consolidate()
    kept = profile.examples_.words
    assert kept.shape[0] == 6
    frequency = np.bincount(kept.indices, minlength=kept.shape[1])
    np.testing.assert_allclose(profile.idf_[frequency > 0],
                               np.log(7 / (1 + frequency[frequency > 0])) + 1)
    assert not profile.idf_[frequency == 0].any()
    assert profile.idf_[column("rocket")] == 0  # only dropped ones had it


def test_a_profile_of_another_format_is_refused_with_what_to_do(tmp_path):
    profile = statements(InterestProfile(), ["rocket"]).fit(evidence(SPACE + PROMOS),
                                                           [1] * 6 + [0] * 5)
    profile.save(tmp_path / "p")
    meta = json.loads((tmp_path / "p" / "profile.json").read_text())
    (tmp_path / "p" / "profile.json").write_text(json.dumps(meta | {"format": 1}))
    with pytest.raises(ProfileFormatError, match="has format 1"):
        InterestProfile.load(tmp_path / "p")


def test_word_weights_hold_still_between_refits():
    profile = InterestProfile().fit(evidence(SPACE + PROMOS), [1] * 6 + [0] * 5)
    probe = evidence(["rocket discount zyzzyva"])
    before = profile._rows(probe).words.toarray()
    profile.partial_fit(evidence(["zyzzyva rocket"]), [1])
    np.testing.assert_array_equal(profile._rows(probe).words.toarray(), before)
    profile.consolidate()
    assert profile._rows(probe).words[0, column("zyzzyva")] > 0


def test_blocks_without_meaning_are_those_explain_gives():
    profile = statements(InterestProfile(), ["rocket"], ["discount"]).fit(
        evidence(SPACE + PROMOS, signal=0.3), [1] * 6 + [0] * 5)
    probe = evidence(["rocket discount today", "orbit news"], signal=0.3)
    full = profile.explain(probe)
    without = profile.contributions_without_meaning(probe.texts, probe.signals)
    for row, explanation in enumerate(full):
        for block in ("words", "signals", "bias"):
            assert without[block][row] == pytest.approx(explanation.contributions[block])


def meaning_reading(profile: InterestProfile, vectors: np.ndarray) -> np.ndarray:
    """What the embedding-reading blocks add for each of these unit vectors."""
    X = Evidence(vectors, ["rocket"] * len(vectors), np.zeros((len(vectors), N_SIGNALS)))
    return np.array([e.contributions.get("meaning", 0.0) + e.contributions["interests"]
                     + e.contributions["junk"] for e in profile.explain(X)])


def unit(vectors: np.ndarray) -> np.ndarray:
    """The nonzero vectors, scaled to length 1."""
    vectors = np.atleast_2d(vectors)
    vectors = vectors[np.linalg.norm(vectors, axis=1) > 0]
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("junk", [(), ("huge discount offer", "win a prize")])
@pytest.mark.parametrize("told", [((), ()), (("rocket",), ()), ((), ("discount",)),
                                  (("rocket",), ("discount",)),
                                  (("rocket", "orbit"), ("discount", "coupon"))])
def test_meaning_bounds_hold_for_any_unit_vector(told, junk):
    profile = InterestProfile().set_statements(
        EMBEDDER.embed_many(list(told[0])), EMBEDDER.embed_many(list(told[1])),
        junk=EMBEDDER.embed_many(list(junk)))
    for _ in range(2):  # before and after learning
        low, high = profile.meaning_bounds()
        coef = profile.coef_ if profile.coef_ is not None else np.ones(3)
        meaning = profile.embedding_weight * coef[:384] if profile.coef_ is not None \
            else np.zeros(384)
        k, j = profile.prior_scale * coef[STATEMENTS_WEIGHT], profile.prior_scale * coef[JUNK_WEIGHT]
        # Random vectors, and the ones each part of the bound is worst at.
        joint = [meaning + k * s for s in profile.interests_] or [meaning]
        bitten = [t - k * d for t in joint for d in [0 * meaning, *profile.disinterests_]]
        bitten = [b - j * u for b in bitten for u in [0 * meaning, *profile.junk_]]
        vectors = unit(np.vstack([np.random.default_rng(0).normal(size=(2000, 384)),
                                  *profile.interests_, *profile.disinterests_, *profile.junk_,
                                  *joint, *[-b for b in bitten]]))
        reading = meaning_reading(profile, vectors)
        assert low - 1e-5 <= reading.min() and reading.max() <= high + 1e-5
        profile.fit(evidence(SPACE + PROMOS), [1] * 6 + [0] * 5)


def test_meaning_bounds_are_reached_with_one_interest():
    # Sound is not enough: a loose bound makes the model read every message. With one
    # interest and no disinterest, both ends are reached, by the joint vector and its opposite.
    profile = statements(InterestProfile(), ["rocket"]).fit(evidence(SPACE + PROMOS),
                                                           [1] * 6 + [0] * 5)
    joint = profile.embedding_weight * profile.coef_[:384] \
        + profile.prior_scale * profile.coef_[STATEMENTS_WEIGHT] * profile.interests_[0]
    lowest, highest = meaning_reading(profile, unit(np.vstack([-joint, joint])))
    assert profile.meaning_bounds() == pytest.approx((lowest, highest), abs=1e-4)


def test_mail_from_a_new_sender_is_judged_by_what_it_says():
    # Every wanted example came from a sender the reader knew well (a strong history
    # signal), every unwanted one from a stranger (0): without the unseen-sender copies
    # the refit explains "wanted" by familiarity, and wanted mail from a new sender scores low.
    texts = SPACE + CARS + PROMOS
    signals = np.zeros((len(texts), N_SIGNALS))
    signals[: len(SPACE + CARS), -1] = SIGNAL_LIMIT  # the most a signal says
    examples = Evidence(EMBEDDER.embed_many(texts), texts, signals)
    labels = [1] * len(SPACE + CARS) + [0] * len(PROMOS)
    new_sender = evidence(["rocket launch reaches orbit on the moon mission"])
    scores = {weight: InterestProfile(history_signals=1, unseen_sender_weight=weight)
              .fit(examples, labels).predict_proba(new_sender)[0, 1] for weight in (0.0, 1.0)}
    assert scores[0.0] < 0.6 and scores[1.0] > 0.9


def test_unseen_sender_copies_leave_examples_without_history_alone():
    texts = SPACE + PROMOS
    examples = evidence(texts)  # no history at all: each example is its own copy
    labels = [1] * len(SPACE) + [0] * len(PROMOS)
    with_copies = InterestProfile(history_signals=1, unseen_sender_weight=1.0, alpha=0.06)
    doubled = InterestProfile(history_signals=1, unseen_sender_weight=0.0, alpha=0.03)
    probe = evidence(CARS)
    np.testing.assert_allclose(with_copies.fit(examples, labels).decision_function(probe),
                               doubled.fit(examples, labels).decision_function(probe), atol=1e-3)


def test_refits_soften_log_odds_their_held_out_predictions_call_over_confident(monkeypatch):
    # Labels that no word predicts: every example's own words explain it, so the refit
    # is sure of everything; its held-out predictions say it should not be.
    rng = np.random.default_rng(0)
    vocabulary = [f"w{i}" for i in range(400)]
    texts = [" ".join(rng.choice(vocabulary, 12)) for _ in range(120)]
    labels = rng.integers(0, 2, 120)
    probe = evidence([" ".join(rng.choice(vocabulary, 12)) for _ in range(40)])
    calibrated = InterestProfile().fit(evidence(texts), labels)
    monkeypatch.setattr(profile_module, "CALIBRATION_MIN_EXAMPLES", 10**9)  # never calibrate
    raw = InterestProfile().fit(evidence(texts), labels)
    assert np.abs(calibrated.decision_function(probe)).mean() < \
        0.5 * np.abs(raw.decision_function(probe)).mean()


@pytest.mark.parametrize(("scale", "expected"), [(0.5, 0.5), (1.0, 1.0), (3.0, 1.0)])
def test_calibrating_slope_undoes_over_confidence_and_never_sharpens(scale, expected):
    rng = np.random.default_rng(1)
    true_log_odds = rng.normal(0, 2, 20000)
    labels = (rng.random(20000) < 1 / (1 + np.exp(-true_log_odds))).astype(float)
    # Log-odds 1/scale too sure: the calibrating slope is `scale`, capped at 1.
    slope = _calibrating_slope(true_log_odds / scale, labels, np.ones(20000))
    assert slope == pytest.approx(expected, abs=0.05)


def test_calibration_is_reused_until_a_tenth_of_the_examples_are_new():
    texts = (SPACE + CARS + PROMOS) * 8
    labels = ([1] * len(SPACE + CARS) + [0] * len(PROMOS)) * 8
    times = np.arange(len(texts)) * 3600.0
    profile = InterestProfile().fit(evidence(texts), labels, times=times)
    first = profile._calibration
    assert first is not None and first[1] == len(texts)
    profile.partial_fit(evidence(SPACE[:2]), [1, 1], times=[times[-1] + 1] * 2).consolidate()
    assert profile._calibration is first  # 2 new of 122: the slope stands
    more = SPACE * 3
    profile.partial_fit(evidence(more), [1] * len(more), times=[times[-1] + 2] * len(more))
    assert profile.consolidate()._calibration[1] == len(texts) + 2 + len(more)
