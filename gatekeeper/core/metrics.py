"""Quality metrics of scores and decisions: pure functions of labels, scores and actions.

`wanted` is a boolean array (the reader wants the message), `p` the filter's P(wanted).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .policy import DELETE, HOLD, PASS


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
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    boundaries = np.flatnonzero(np.diff(sorted_values)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(values)]])
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + end + 1) / 2.0
    return ranks


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
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    curve, ece = [], 0.0
    for b in range(bins):
        members = index == b
        if members.any():
            predicted, observed = float(p[members].mean()), float(wanted[members].mean())
            curve.append({"bin": b, "n": int(members.sum()), "predicted": predicted,
                          "observed": observed})
            ece += members.mean() * abs(predicted - observed)
    return {"curve": curve, "ece": float(ece), "brier": float(((p - wanted) ** 2).mean())}


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
