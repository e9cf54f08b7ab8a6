"""One reaction cannot turn the profile over: property tests over random reactions.

The bound (`MAX_STEP_LOG_ODDS`) is on what one reaction's online step does to every
message's log-odds, checked on random messages, on the reacted message itself and on the
message the step moves most (built from the step). The weight of the reader's own
statements is never moved by an online step, and a refit keeps it above its floor.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekeeper.core.brain import Brain
from gatekeeper.core.features import SIGNAL_NAMES
from gatekeeper.core.junk import JUNK_STATEMENTS
from gatekeeper.core.message import parse
from gatekeeper.core.policy import PolicySettings
from gatekeeper.core.profile import (
    JUNK_WEIGHT,
    MAX_STEP_LOG_ODDS,
    SIGNAL_LIMIT,
    STATEMENTS_WEIGHT,
    STATEMENTS_WEIGHT_FLOOR,
    Evidence,
    InterestProfile,
)
from gatekeeper.testing import HashEmbedder, build_message

EMBEDDER = HashEmbedder()
WORDS = ["rocket", "orbit", "launch", "discount", "offer", "gun", "politics", "car", "engine",
         "meeting", "report", "viagra", "free", "win", "mars", "budget", "school", "recipe"]
INTERESTS = ["space exploration, rockets and launches"]
DISINTERESTS = ["gun politics", "discount offers"]
N = len(SIGNAL_NAMES)

texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(" ".join)
signal_rows = st.lists(st.floats(-5.0, 5.0), min_size=N, max_size=N)  # beyond the limit too
reactions = st.lists(st.tuples(texts, signal_rows, st.sampled_from([0, 1]),
                               st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0])),
                     min_size=1, max_size=12)


def evidence(rows: list[tuple[str, list[float]]]) -> Evidence:
    return Evidence(EMBEDDER.embed_many([text for text, _ in rows]),
                    [text for text, _ in rows], np.array([s for _, s in rows], float),
                    signal_names=SIGNAL_NAMES)


def fitted_profile(seed: int) -> InterestProfile:
    """A profile with statements and the junk prior, fitted on 40 random labelled messages."""
    rng = np.random.default_rng(seed)
    rows = [(" ".join(rng.choice(WORDS, 5)), list(rng.uniform(-1, 1, N))) for _ in range(40)]
    profile = InterestProfile().set_statements(
        EMBEDDER.embed_many(INTERESTS), EMBEDDER.embed_many(DISINTERESTS),
        junk=EMBEDDER.embed_many(list(JUNK_STATEMENTS)))
    return profile.fit(evidence(rows), rng.integers(0, 2, 40))


def most_moved(profile: InterestProfile, change: np.ndarray) -> Evidence:
    """A message whose log-odds a change of the coefficients moves the most it can: an
    embedding along the change's meaning block, every signal at the limit with its sign,
    and its words (the step's own words, as no row can align with a sparse change)."""
    meaning = change[:384]
    embedding = meaning / (np.linalg.norm(meaning) or 1.0)
    start = 384 + 2**18
    signals = SIGNAL_LIMIT * np.sign(change[start:start + N])
    return Evidence(embedding[None, :].astype(np.float32), ["rocket orbit discount"],
                    signals[None, :], signal_names=SIGNAL_NAMES)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 1000), sequence=reactions,
       probes=st.lists(st.tuples(texts, signal_rows), min_size=3, max_size=8))
def test_no_reaction_moves_any_message_by_more_than_the_bound(seed, sequence, probes):
    profile = fitted_profile(seed)
    for text, signals, label, weight in sequence:
        before = profile.coef_.copy()
        reacted = evidence([(text, signals)])
        watched = [evidence(probes), reacted]
        scores = [profile.decision_function(x) for x in watched]
        priors_weights = profile.coef_[[STATEMENTS_WEIGHT, JUNK_WEIGHT]]

        profile.partial_fit(reacted, [label], sample_weight=[weight])

        for x, score in zip(watched, scores):
            assert np.abs(profile.decision_function(x) - score).max() <= MAX_STEP_LOG_ODDS + 1e-9
        worst = most_moved(profile, profile.coef_ - before)
        moved = (profile.coef_ - before) @ np.concatenate([
            profile._rows(worst).embeddings[0], np.zeros(2**18),
            profile._rows(worst).signals[0], [0.0, 0.0, 1.0]])  # priors, bias
        assert abs(moved) <= MAX_STEP_LOG_ODDS + 1e-9
        # Only refits, over every example, weigh the two priors.
        np.testing.assert_array_equal(profile.coef_[[STATEMENTS_WEIGHT, JUNK_WEIGHT]], priors_weights)



@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 1000), sequence=reactions)
def test_a_refit_keeps_the_statements_weight_above_its_floor(seed, sequence):
    profile = fitted_profile(seed)
    for text, signals, label, weight in sequence:
        profile.partial_fit(evidence([(text, signals)]), [label], sample_weight=[weight])
    profile.consolidate()
    assert profile.coef_[STATEMENTS_WEIGHT] >= STATEMENTS_WEIGHT_FLOOR - 1e-9


def disinterest_post(n: int) -> bytes:
    return build_message(sender=f"Guns Forum <list{n}@guns.example>",
                         subject=f"gun politics debate {n}",
                         body="The gun politics debate goes on: rights, laws and the vote.")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rescues=st.lists(st.sampled_from(WORDS), min_size=1, max_size=4))
def test_rescuing_borderline_mail_never_passes_mail_on_a_declared_disinterest(rescues):
    """The reproduction of the flip seen in use: after training, rescues of borderline
    mail (even mail on the disinterest itself) leave a disinterest post far from passing."""
    brain = Brain(EMBEDDER, settings=PolicySettings(probe_share=0.0))
    brain.set_interests(INTERESTS, DISINTERESTS)
    history = [parse(build_message(sender=f"s{i}@news{i % 5}.example", subject=f"{w} {i}",
                                   body=f"{w} news {i}"))
               for i, w in enumerate(WORDS * 3)]
    behaviours = ["read" if i % 3 else "deleted_unread" for i in range(len(history))]
    brain.learn_history(history, brain.embed(history), behaviours,
                        [i * 3600.0 for i in range(len(history))])
    probe = parse(disinterest_post(0))
    (before,) = brain.assess([probe], now=1e6)
    for n, word in enumerate(rescues):
        borderline = parse(build_message(sender=f"x{n}@autos.example",
                                         subject=f"{word} gun politics {n}",
                                         body=f"{word} and gun politics, {n}"))
        (seen,) = brain.assess([borderline], now=1e6 + n)
        brain.learn(seen, "rescued", now=1e6 + n)
    (after,) = brain.assess([probe], now=1e6 + 100)
    logit = lambda p: np.log(p) - np.log1p(-p)  # noqa: E731
    assert logit(after.probability) - logit(before.probability) <= \
        MAX_STEP_LOG_ODDS * len(rescues) + 1e-6
    assert after.explanation.contributions["interests"] < 0  # still against it
