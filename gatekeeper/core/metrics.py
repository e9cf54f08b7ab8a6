"""Quality metrics of scores and decisions: pure functions of labels, scores and actions.

`wanted` is a boolean array (the reader wants the message), `p` the filter's P(wanted).
`metric_intervals` gives each headline figure a 95% interval (Wilson's for a share, a
bootstrap for a ranking or calibration figure), so a figure measured on a few hundred
messages says how far it could move on another few hundred.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from .policy import DELETE, HOLD, PASS

BOOTSTRAP_ROUNDS = 1000
INTERVAL_LEVEL = 0.95
Z_95 = 1.959964  # the standard normal's 97.5th percentile


def auc(wanted: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve: P(a random wanted message scores above a random unwanted)."""
    wanted, p = np.asarray(wanted, bool), np.asarray(p, float)
    ranks = _average_ranks(p)
    positives = wanted.sum()
    negatives = len(wanted) - positives
    if not positives or not negatives:
        return float("nan")
    return float((ranks[wanted].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing the mean of the ranks they span."""
    _, group, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return ((ends - counts + ends + 1) / 2.0)[group]


def removed_at_loss(wanted: np.ndarray, p: np.ndarray, max_lost: float) -> float:
    """Share of unwanted mail removable while losing at most `max_lost` of wanted mail."""
    unwanted_scores = p[~wanted]
    if not len(unwanted_scores) or not wanted.any():
        return float("nan")
    allowed = int(np.floor(max_lost * wanted.sum()))
    threshold = np.sort(p[wanted])[allowed] if allowed < wanted.sum() else np.inf
    return float((unwanted_scores < threshold).mean())


def calibration(wanted: np.ndarray, p: np.ndarray, bins: int = 10) -> dict:
    """Reliability curve (mean predicted vs observed per bin), expected calibration error, Brier."""
    index = _bin_of(p, bins)
    curve = []
    for b in range(bins):
        members = index == b
        if members.any():
            curve.append({"bin": b, "n": int(members.sum()), "predicted": float(p[members].mean()),
                          "observed": float(wanted[members].mean())})
    return {"curve": curve, "ece": expected_calibration_error(wanted, p, bins),
            "brier": float(((p - wanted) ** 2).mean())}


def expected_calibration_error(wanted: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Mean |predicted - observed| over equal-width bins of P(wanted), weighted by their size."""
    index = _bin_of(p, bins)
    predicted = np.bincount(index, weights=p, minlength=bins)
    observed = np.bincount(index, weights=np.asarray(wanted, float), minlength=bins)
    return float(np.abs(predicted - observed).sum() / max(len(p), 1))


def _bin_of(p: np.ndarray, bins: int) -> np.ndarray:
    return np.clip(np.digitize(p, np.linspace(0, 1, bins + 1)) - 1, 0, bins - 1)


def decision_counts(wanted: np.ndarray, actions: Sequence[str]) -> dict:
    """Messages per (wanted or not, action), and the shares the reader lives with."""
    chosen = np.asarray(actions)
    counts: dict[str, float] = {
        f"{kind}_{action}": int(((wanted == is_wanted) & (chosen == action)).sum())
        for kind, is_wanted in (("wanted", True), ("unwanted", False))
        for action in (PASS, HOLD, DELETE)}
    n_wanted, n_unwanted = max(wanted.sum(), 1), max((~wanted).sum(), 1)
    removed = counts["unwanted_hold"] + counts["unwanted_delete"]
    counts |= {
        "wanted_lost_share": counts["wanted_delete"] / n_wanted,
        "wanted_held_share": counts["wanted_hold"] / n_wanted,
        "unwanted_removed_share": removed / n_unwanted,
        "unwanted_left_share": counts["unwanted_pass"] / n_unwanted,
        # Of the unwanted mail kept out of the inbox, the share that went straight to Trash.
        "removed_to_trash_share": counts["unwanted_delete"] / removed if removed else float("nan"),
    }
    return counts


def score_metrics(wanted: np.ndarray, p: np.ndarray) -> dict:
    """How well scores rank and how well they are calibrated."""
    return {
        "auc": auc(wanted, p),
        "removed_at_0.1%_lost": removed_at_loss(wanted, p, 0.001),
        "removed_at_1%_lost": removed_at_loss(wanted, p, 0.01),
        "calibration": calibration(wanted, p),
    }


def slice_metrics(wanted: np.ndarray, p: np.ndarray, labels: Sequence[str],
                  actions: Sequence[str] | None = None) -> dict:
    """Per label of wanted mail (e.g. ordinary ham, commercial-but-wanted): its AUC against
    all the unwanted mail, and with actions the share of it held and deleted."""
    of = np.asarray(labels)
    result = {}
    for label in sorted(set(of[wanted].tolist())):
        chosen = (of == label) | ~wanted
        row = {"messages": int((of == label).sum()), "auc": auc(wanted[chosen], p[chosen])}
        if actions is not None:
            mine = np.asarray(actions)[of == label]
            row |= {"held_share": float((mine == HOLD).mean()),
                    "lost_share": float((mine == DELETE).mean())}
        result[label] = row
    return result


def bootstrap_interval(statistic: Callable[..., float], wanted: np.ndarray, *columns: np.ndarray,
                       senders: Sequence[str] | np.ndarray | None = None,
                       rounds: int = BOOTSTRAP_ROUNDS,
                       level: float = INTERVAL_LEVEL, seed: int = 0) -> list[float] | None:
    """The percentile bootstrap interval of `statistic(wanted, *columns)`.

    Drawn with replacement within the wanted and within the unwanted mail, so both stay
    (an AUC needs both). With `senders`, a sender's messages of one kind are drawn
    together: one newsletter misjudged is misjudged in every issue, so treating its
    issues as independent evidence would make the interval too narrow (the
    SpamAssassin commercial-but-wanted slice, new_kind split: 0.902 - 0.957 by message,
    0.879 - 0.965 by sender). None when no resample gives a number."""
    wanted = np.asarray(wanted, bool)
    columns = tuple(np.asarray(column) for column in columns)
    kinds = _clusters(wanted, senders)
    draw = np.random.default_rng(seed)
    values = []
    for _ in range(rounds):
        rows = np.concatenate([kind.draw(draw) for kind in kinds])
        value = statistic(wanted[rows], *(column[rows] for column in columns))
        if value == value:  # not NaN
            values.append(value)
    if not values:
        return None
    tail = 100 * (1 - level) / 2
    return [float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))]


class _Clusters:
    """Rows grouped into clusters that are drawn whole: `members` sorted by cluster, each
    cluster `lengths[i]` rows from `starts[i]`."""

    def __init__(self, rows: np.ndarray, keys: np.ndarray) -> None:
        order = np.argsort(keys, kind="stable")
        _, self.starts, self.lengths = np.unique(keys[order], return_index=True,
                                                 return_counts=True)
        self.members = rows[order]

    def draw(self, draw: np.random.Generator) -> np.ndarray:
        """As many clusters as there are, drawn with replacement: their rows."""
        chosen = draw.integers(0, len(self.starts), len(self.starts))
        lengths = self.lengths[chosen]
        offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return self.members[np.repeat(self.starts[chosen], lengths) + offsets]


def _clusters(wanted: np.ndarray,
              senders: Sequence[str] | np.ndarray | None) -> list[_Clusters]:
    """For the wanted and for the unwanted mail (when there is any), the rows drawn
    together: each sender's, or each message alone without senders."""
    keys = np.arange(len(wanted)) if senders is None else np.asarray(senders, dtype=str)
    return [_Clusters(rows, keys[rows])
            for rows in (np.flatnonzero(wanted), np.flatnonzero(~wanted)) if len(rows)]


def wilson(successes: float, trials: int) -> tuple[float, float]:
    """95% Wilson interval of a binomial share: unlike a bootstrap's, it is not [0, 0] for
    none of a few hundred (0 of 1,000 gives up to 0.38%)."""
    if trials <= 0:
        return 0.0, 0.0
    share = successes / trials
    centre = (share + Z_95 ** 2 / (2 * trials)) / (1 + Z_95 ** 2 / trials)
    half = Z_95 * math.sqrt(share * (1 - share) / trials + Z_95 ** 2 / (4 * trials ** 2)) \
        / (1 + Z_95 ** 2 / trials)
    low = 0.0 if successes <= 0 else max(0.0, centre - half)  # exact at the ends, where
    high = 1.0 if successes >= trials else min(1.0, centre + half)  # rounding leaves 1e-19
    return low, high


def share_interval(chosen: np.ndarray,
                   senders: Sequence[str] | np.ndarray | None = None) -> list[float] | None:
    """The interval of the share of True in `chosen`: Wilson's, widened to the sender
    bootstrap's where that is wider (mail of one sender moves together; Wilson's is
    the one that is not [0, 0] for none of many). None when `chosen` is empty."""
    chosen = np.asarray(chosen, bool)
    if not len(chosen):
        return None
    low, high = wilson(int(chosen.sum()), len(chosen))
    if senders is not None:
        resampled = bootstrap_interval(lambda _, c: float(c.mean()), np.ones(len(chosen), bool),
                                       chosen, senders=senders)
        if resampled is not None:
            low, high = min(low, resampled[0]), max(high, resampled[1])
    return [low, high]


def metric_intervals(wanted: np.ndarray, p: np.ndarray, labels: Sequence[str],
                     actions: Sequence[str] | None = None,
                     senders: Sequence[str] | None = None) -> dict:
    """95% intervals of the figures `score_metrics`, `slice_metrics` and `decision_counts`
    give, keyed as they key them: `bootstrap_interval` for AUC, ECE and the share removed
    at a loss (functions of the whole ranking), `share_interval` for a share of messages;
    with `senders`, each sender's mail is resampled as one."""
    wanted, p, of = np.asarray(wanted, bool), np.asarray(p, float), np.asarray(labels)
    by = None if senders is None else np.asarray(senders, dtype=str)
    result: dict = {
        "auc": bootstrap_interval(auc, wanted, p, senders=by),
        "removed_at_0.1%_lost": bootstrap_interval(
            lambda w, q: removed_at_loss(w, q, 0.001), wanted, p, senders=by),
        "calibration": {"ece": bootstrap_interval(expected_calibration_error, wanted, p,
                                                  senders=by)},
        "slices": {},
    }
    for label in sorted(set(of[wanted].tolist())):
        chosen = (of == label) | ~wanted
        result["slices"][label] = {"auc": bootstrap_interval(
            auc, wanted[chosen], p[chosen], senders=None if by is None else by[chosen])}
    if actions is not None:
        chosen = np.asarray(actions)
        for name, kind, action in (("wanted_lost_share", wanted, DELETE),
                                   ("wanted_held_share", wanted, HOLD),
                                   ("unwanted_left_share", ~wanted, PASS)):
            result[name] = share_interval(chosen[kind] == action,
                                          None if by is None else by[kind])
    return result
