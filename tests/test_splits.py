"""The tuning and reporting splits: what is learned, what is decided, what is published."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekeeper.evaluation.splits import (
    NO_SENDER, REPORTING, TUNING, later_split, partition_by_sender, sender_organisation,
    standard_splits,
)


@pytest.mark.parametrize(("domain", "organisation"), [
    ("list.theregister.co.uk", "theregister.co.uk"),
    ("mail.example.com", "example.com"),
    ("example.com", "example.com"),
    ("cs.mu.oz.au", "mu.oz.au"),
    ("lists.sourceforge.net", "sourceforge.net"),
    ("", NO_SENDER),
])
def test_senders_are_split_by_their_organisation(domain, organisation):
    assert sender_organisation(domain) == organisation


senders_and_labels = st.lists(st.tuples(st.sampled_from([f"s{i}.example" for i in range(25)]),
                                        st.sampled_from(["ham", "spam", "hard"])),
                              min_size=2, max_size=200)


@given(senders_and_labels)
@settings(max_examples=60, deadline=None)
def test_no_sender_is_on_both_sides_of_a_partition(pairs):
    senders, labels = zip(*pairs)
    first = partition_by_sender(senders, labels)
    assert not {s for s, f in zip(senders, first) if f} & {s for s, f in zip(senders, first) if not f}


def test_partition_cuts_each_label_about_in_half_even_when_few_senders_hold_it():
    rng = np.random.default_rng(0)
    senders = [f"ham{rng.integers(200)}" for _ in range(2000)] + \
              [f"spam{rng.integers(100)}" for _ in range(500)] + \
              ["big-newsletter"] * 30 + [f"news{i % 20}" for i in range(77)]
    labels = ["ham"] * 2000 + ["spam"] * 500 + ["hard"] * 107
    first = partition_by_sender(senders, labels)
    for label in ("ham", "spam", "hard"):
        share = first[np.array(labels) == label].mean()
        assert 0.4 <= share <= 0.6, (label, share)


def test_partition_is_deterministic_and_follows_the_share():
    senders = [f"s{i % 97}" for i in range(1000)]
    labels = ["ham" if i % 3 else "spam" for i in range(1000)]
    first = partition_by_sender(senders, labels, share=0.25)
    assert (first == partition_by_sender(senders, labels, share=0.25)).all()
    assert 0.2 <= first.mean() <= 0.3


def corpus(n: int = 600) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(1)
    labels = [("spam" if rng.random() < 0.2 else "ham") for _ in range(n)]
    senders = [f"{label}{rng.integers(60)}.example" for label in labels]
    return senders, labels


def test_tuning_splits_never_touch_the_reporting_world():
    senders, labels = corpus()
    splits = standard_splits(senders, labels)
    reporting_decided = set().union(*(s.decide for s in splits if s.role == REPORTING))
    for split in (s for s in splits if s.role == TUNING):
        assert not set(split.learn) & reporting_decided
        assert not set(split.decide) & reporting_decided
    assert {(s.role, s.name) for s in splits} == {(r, n) for r in (TUNING, REPORTING)
                                                   for n in ("sender", "time")}


@pytest.mark.parametrize("role", [TUNING, REPORTING])
def test_sender_split_decides_only_senders_never_learned(role):
    senders, labels = corpus()
    (split,) = [s for s in standard_splits(senders, labels) if (s.role, s.name) == (role, "sender")]
    assert len(split.learn) and len(split.decide)
    assert not {senders[i] for i in split.learn} & {senders[i] for i in split.decide}


@pytest.mark.parametrize("role", [TUNING, REPORTING])
def test_time_split_decides_only_mail_later_than_all_it_learned(role):
    senders, labels = corpus()
    (split,) = [s for s in standard_splits(senders, labels, time_cut=0.6)
                if (s.role, s.name) == (role, "time")]
    assert split.learn.max() < split.decide.min()
    assert split.learn.max() < 0.6 * len(senders) <= split.decide.min()


def test_reporting_time_split_learns_the_whole_earlier_history():
    senders, labels = corpus()
    (split,) = [s for s in standard_splits(senders, labels) if (s.role, s.name) == (REPORTING, "time")]
    assert list(split.learn) == list(range(len(senders) // 2))


@pytest.mark.parametrize("role", [TUNING, REPORTING])
def test_new_kind_split_is_the_sender_split_without_ever_learning_the_new_kind(role):
    senders, labels = corpus()
    # Every seventh ham sender sends newsletters: a kind of wanted mail held by few senders.
    newsletter_senders = {f"ham{n}.example" for n in range(0, 60, 7)}
    labels = ["news" if sender in newsletter_senders else label
              for sender, label in zip(senders, labels)]
    by_name = {s.name: s for s in standard_splits(senders, labels, new_kinds=("news",))
               if s.role == role}
    sender, new_kind = by_name["sender"], by_name["new_kind"]
    assert "news" in {labels[i] for i in sender.learn}
    assert "news" not in {labels[i] for i in new_kind.learn}
    assert "news" in {labels[i] for i in new_kind.decide}
    assert list(new_kind.decide) == list(sender.decide)
    assert set(new_kind.learn) == {i for i in sender.learn if labels[i] != "news"}


def test_no_new_kind_split_unless_a_kind_is_named():
    senders, labels = corpus()
    assert "new_kind" not in {s.name for s in standard_splits(senders, labels)}


def test_later_split_learns_one_corpus_and_decides_the_next():
    split = later_split(3, 5)
    assert list(split.learn) == [0, 1, 2] and list(split.decide) == [3, 4]
    assert split.role == REPORTING
