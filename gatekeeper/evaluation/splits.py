"""Which mail is learned from and which is decided, and what each figure may be used for.

A corpus is first cut by sender into two worlds that share no sender organisation: the
**tuning** world, on which every choice (features, hyperparameters, thresholds) is made,
and the **reporting** world, whose decisions no choice has seen; only its figures are
published. Within them, splits imitate the future:

- **sender**: decide mail from senders the brain never saw. Tuning learns from one half
  of the tuning world's senders and decides the other; reporting learns from the whole
  tuning world and decides the whole reporting world.
- **time**: decide later mail. Everything before a cut in arrival order is learned (the
  reader's history); what comes after is decided. Tuning learns only the tuning world's
  earlier mail and decides its later mail; reporting learns all earlier mail (both
  worlds: the reader's history is all their mail) and decides the reporting world's
  later mail.
- **new_kind**: the sender split with a whole kind of wanted mail never learned (for
  SpamAssassin the commercial-but-wanted newsletters): the reader's history holds only
  ordinary mail and spam, and a first newsletter from a sender never seen must still
  rank above spam. This is how the check on later mail kept outside the project learns,
  and the sender split alone, which learns other senders' newsletters, read far easier
  than that check (commercial-but-wanted against spam: 0.969 here, 0.68 there).

Senders are assigned whole, the big ones first, each to the side that keeps every label's
share closest to the target, so a label held by few senders (the commercial-but-wanted
slice) is still cut about in half.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..core.features import registrable

TUNING, REPORTING = "tuning", "reporting"
SENDER, TIME, NEW_KIND = "sender", "time", "new_kind"
# Splits whose decided mail is not later than what they learn: no prequential stream.
BY_SENDER = (SENDER, NEW_KIND)
ROLES = (TUNING, REPORTING)
NO_SENDER = "(no sender domain)"


@dataclass(frozen=True)
class Split:
    """Messages to learn from and messages to decide, by index, each in arrival order."""

    name: str  # SENDER, TIME, NEW_KIND or "later"
    role: str  # TUNING or REPORTING
    learn: np.ndarray
    decide: np.ndarray
    description: str


def sender_organisation(domain: str) -> str:
    """The key senders are split by: the organisation's domain of the From address."""
    return registrable(domain) if domain else NO_SENDER


def _tie_breaker(key: str, salt: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{salt}:{key}".encode()).digest()[:8], "big")


def partition_by_sender(senders: Sequence[str], labels: Sequence[str], share: float = 0.5,
                        salt: str = "gatekeeper") -> np.ndarray:
    """True for the messages of the first group: about `share` of each label's messages,
    no sender on both sides. Deterministic; `salt` only orders senders of equal size."""
    members: dict[str, list[int]] = defaultdict(list)
    for index, sender in enumerate(senders):
        members[sender].append(index)
    kinds = sorted(set(labels))
    column = {label: kinds.index(label) for label in kinds}
    totals = np.zeros(len(kinds))
    for label in labels:
        totals[column[label]] += 1
    first, second = np.zeros(len(kinds)), np.zeros(len(kinds))
    chosen = np.zeros(len(senders), bool)
    for sender in sorted(members, key=lambda s: (-len(members[s]), _tie_breaker(s, salt))):
        counts = np.zeros(len(kinds))
        for index in members[sender]:
            counts[column[labels[index]]] += 1
        if (_imbalance(first + counts, second, share, totals)
                <= _imbalance(first, second + counts, share, totals)):
            first += counts
            chosen[members[sender]] = True
        else:
            second += counts
    return chosen


def _imbalance(first: np.ndarray, second: np.ndarray, share: float, totals: np.ndarray) -> float:
    """How far the two groups' label counts are from `share` : 1 - `share`, per label."""
    gap = ((1 - share) * first - share * second) / totals
    return float(gap @ gap)


def standard_splits(senders: Sequence[str], labels: Sequence[str],
                    time_cut: float = 0.5, new_kinds: Sequence[str] = ()) -> list[Split]:
    """The tuning and reporting splits of a corpus in arrival order (see the module).

    `senders` are sender organisations, `labels` what balances the worlds (folder or
    group), `time_cut` the earlier share of all mail that the time split learns from,
    `new_kinds` the labels the new_kind splits never learn (none: no new_kind splits).
    """
    n = len(senders)
    reporting = ~partition_by_sender(senders, labels, 0.5, salt="worlds")
    tuning = ~reporting
    early = np.arange(n) < int(n * time_cut)
    tuning_index = np.flatnonzero(tuning)
    first_half = partition_by_sender([senders[int(i)] for i in tuning_index],
                                     [labels[int(i)] for i in tuning_index], 0.5, salt="tuning")
    tuning_learn = np.zeros(n, bool)
    tuning_learn[tuning_index[first_half]] = True
    splits = [
        Split(SENDER, TUNING, np.flatnonzero(tuning_learn), np.flatnonzero(tuning & ~tuning_learn),
              "half of the tuning world's senders learned, the other half decided"),
        Split(TIME, TUNING, np.flatnonzero(tuning & early), np.flatnonzero(tuning & ~early),
              "the tuning world's earlier mail learned, its later mail decided"),
        Split(SENDER, REPORTING, np.flatnonzero(tuning), np.flatnonzero(reporting),
              "the tuning world learned, the reporting world's senders (never seen) decided"),
        Split(TIME, REPORTING, np.flatnonzero(early), np.flatnonzero(reporting & ~early),
              "all earlier mail learned, the reporting world's later mail decided"),
    ]
    if new_kinds:
        never = np.isin(np.asarray(labels), list(new_kinds))
        splits += [Split(NEW_KIND, split.role, split.learn[~never[split.learn]], split.decide,
                         f"as the sender split, without learning any {' or '.join(new_kinds)}")
                   for split in splits if split.name == SENDER]
    return splits


def later_split(learned: int, total: int) -> Split:
    """Learn the first `learned` messages (one corpus), decide the rest (a later one)."""
    return Split("later", REPORTING, np.arange(learned), np.arange(learned, total),
                 "one corpus learned, a later one decided")
