"""The replay of the brain's learning equals the code it replays, reader by reader.

The profile's closed-form steps are checked against real `partial_fit` steps on real
profiles, the memory's counts and signals against a real `SenderMemory`: a change to
either side that the other does not follow fails here.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from gatekeeper.core.brain import learning_signal
from gatekeeper.core.features import MEMORY_SIGNAL_NAMES, SIGNAL_NAMES
from gatekeeper.core import profile as profile_module
from gatekeeper.core.profile import Evidence, InterestProfile, OnlineReplay, OnlineRows
from gatekeeper.core.replay import BEHAVIOURS, CODE, MemoryReplay, as_new_sender, message_rows
from gatekeeper.core.senders import SECONDS_PER_DAY, SenderMemory
from gatekeeper.core.vocabulary import THROWN_AWAY, Behaviour
from gatekeeper.testing import HashEmbedder

EMBEDDER = HashEmbedder()
WANTED = ["rocket launch to orbit", "satellite reaches orbit", "nasa moon lander mission",
          "mars rover lands", "astronauts board the space station"]
UNWANTED = ["huge discount on watches today", "win a free cruise now", "cheap pills offer",
            "limited offer buy now discount", "exclusive deal free gift today"]
MEMORY_COLUMNS = [SIGNAL_NAMES.index(name) for name in MEMORY_SIGNAL_NAMES]


def evidence(texts: list[str], signals: np.ndarray) -> Evidence:
    return Evidence(EMBEDDER.embed_many(texts), texts, signals, signal_names=SIGNAL_NAMES)


def random_signals(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.normal(0.0, 0.5, (n, len(SIGNAL_NAMES)))


def learned_profile(rng: np.random.Generator, interests: str) -> InterestProfile:
    texts = WANTED + UNWANTED
    profile = InterestProfile().set_statements(EMBEDDER.embed_many([interests]), np.zeros((0, 384)))
    return profile.fit(evidence(texts, random_signals(rng, len(texts))),
                       [1] * len(WANTED) + [0] * len(UNWANTED))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_closed_form_steps_equal_real_partial_fit_steps(seed, monkeypatch):
    """Readers of two profiles react to one message again and again, its sender signals
    different each time: the replay's log-odds before each reaction are the real
    profile's, within 1e-9, with the step bound both reached and not."""
    rng = np.random.default_rng(seed)
    profiles = [learned_profile(rng, "space flight and rockets"),
                learned_profile(rng, "shopping discounts and deals")]
    message = evidence(["rocket discount offer this week"], random_signals(rng, 1))
    owner = np.array([0, 0, 1, 1, 1])  # the profile each reader has
    readers = [copy.deepcopy(profiles[p]) for p in owner]
    replay = OnlineReplay(OnlineRows.stack([message_rows(p, message) for p in profiles]).take(owner))
    bounded = []
    for _ in range(8):
        # Sender signals past the profile's clipping limit too.
        values = rng.normal(0.0, 1.5, (len(readers), len(MEMORY_COLUMNS)))
        labels = rng.integers(0, 2, len(readers)).astype(float)
        weights = rng.choice([0.05, 0.5, 3.0], len(readers))
        rows = [message[[0]] for _ in readers]
        for row, value in zip(rows, values):
            row.signals = row.signals.copy()
            row.signals[0, MEMORY_COLUMNS] = value
        real = np.array([r.decision_function(row)[0] for r, row in zip(readers, rows)])
        replayed = replay.log_odds(replay.rows.log_odds, values)
        np.testing.assert_allclose(replayed, real, rtol=0, atol=1e-9)
        for reader, row, label, weight in zip(readers, rows, labels, weights):
            reader.partial_fit(row, [label], sample_weight=[weight])
        bounded += list(_bound_bites(replay, replayed, values, labels, weights, monkeypatch))
        replay.step(replayed, values, labels, weights)
    assert any(bounded) and not all(bounded)


def _bound_bites(replay, log_odds, values, labels, weights, monkeypatch) -> np.ndarray:
    """Per reader, whether the step bound scales this step down."""
    with monkeypatch.context() as patch:
        patch.setattr(profile_module, "MAX_STEP_LOG_ODDS", np.inf)
        free = copy.deepcopy(replay)
        free.step(log_odds, values, labels, weights)
    bounded = copy.deepcopy(replay)
    bounded.step(log_odds, values, labels, weights)
    return ~np.isclose(free.error_sum, bounded.error_sum, rtol=1e-12, atol=0)


def test_a_profile_with_statements_only_replays_its_prior():
    profile = InterestProfile().set_statements(EMBEDDER.embed_many(["rockets"]), np.zeros((0, 384)))
    message = evidence(["rocket launch"], np.zeros((1, len(SIGNAL_NAMES))))
    rows = message_rows(profile, message)
    assert rows.log_odds == pytest.approx(profile.decision_function(message))
    assert not rows.weights.any()


def test_a_new_sender_has_no_memory_signals_and_keeps_the_others():
    rng = np.random.default_rng(0)
    original = evidence(["rocket launch"], random_signals(rng, 1))
    new = as_new_sender(original)
    assert not new.signals[0, MEMORY_COLUMNS].any()
    others = np.setdiff1d(np.arange(len(SIGNAL_NAMES)), MEMORY_COLUMNS)
    assert np.array_equal(new.signals[0, others], original.signals[0, others])
    assert original.signals[0, MEMORY_COLUMNS].all()  # the original is left as it was


@pytest.mark.parametrize("kinds", [{"list"}, set(), {"list", "thread"}, {"thread"}])
def test_memory_counts_and_signals_equal_the_sender_memory(kinds):
    """Readers get a sender's message every few days and do something with it: the
    replayed signals and counts are what each reader's `SenderMemory` holds."""
    rng = np.random.default_rng(7)
    keys = ["address:news@shop.example", "domain:shop.example"]
    keys += ["list:<offers.shop.example>"] if "list" in kinds else []
    keys += ["thread:84adeedaecd45a73"] if "thread" in kinds else []
    start, size = 1.7e9, 6
    memories = [SenderMemory() for _ in range(size)]
    replay = MemoryReplay(size, memories[0].half_life, memories[0].trend_half_life, start)
    now = start
    for _ in range(12):
        now += rng.uniform(0.5, 20.0) * SECONDS_PER_DAY
        replay.advance(now)
        expected = np.array([m.features(keys, now) for m in memories])
        np.testing.assert_allclose(replay.signals({"address", "domain", *kinds}), expected,
                                   rtol=0, atol=1e-12)
        address = [m.get(keys[0]) for m in memories]
        delivered = [s.count(Behaviour.DELIVERED, now) if s else 0.0 for s in address]
        thrown = [sum(s.count(b, now) for b in THROWN_AWAY) if s else 0.0 for s in address]
        np.testing.assert_allclose(replay.delivered, delivered, rtol=0, atol=1e-12)
        np.testing.assert_allclose(replay.thrown_away, thrown, rtol=0, atol=1e-12)
        behaviour = rng.integers(0, len(BEHAVIOURS), size)
        for memory, code in zip(memories, behaviour):
            memory.record(keys, Behaviour.DELIVERED, now)
            if BEHAVIOURS[code] != Behaviour.DELIVERED:  # as a reaction: none (never seen)
                memory.record(keys, BEHAVIOURS[code], now)
        replay.record(behaviour)
    assert replay.thrown_away.any() and replay.long_positive.any()


def test_each_behaviour_is_coded_once_with_its_meaning():
    assert [BEHAVIOURS[CODE[b]] for b in Behaviour] == list(Behaviour)
    # The profile learns only from behaviours that say something.
    assert {b for b in Behaviour if learning_signal(b) is None} == \
        {Behaviour.DELIVERED, Behaviour.HELD}
