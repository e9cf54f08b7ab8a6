"""The quality benchmark's results as Markdown tables and a learning-curve PNG."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from .splits import REPORTING

logger = logging.getLogger(__name__)

# The README's evaluation tables lie between these lines (`scripts/bench_quality.py --readme`).
BEGIN, END = "<!-- quality tables: begin -->", "<!-- quality tables: end -->"
GATEKEEPER_ROWS = (("gatekeeper (batch)", "batch"), ("gatekeeper (online)", "online"))


def pct(value: float) -> str:
    """A share as a percentage, "-" when undefined."""
    return "-" if value is None or value != value else f"{100 * value:.1f}%"


def _number(value: float, digits: int) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"


def _with_interval(row: dict, figure: str, digits: int) -> str:
    """A figure of one filter's results, and its 95% interval when it was measured."""
    interval = _interval(row.get("intervals", {}).get(figure))
    shown = _number(row[figure], digits)
    return shown if interval is None else \
        f"{shown} ({_number(interval[0], digits)}-{_number(interval[1], digits)})"


def _splits(results: dict):
    """(role, task name, task, split name, split) for every split, roles in order."""
    for role in results.get("roles", ()):
        for name, task in results["tasks"].items():
            for split_name, split in task["splits"].get(role, {}).items():
                yield role, name, task, split_name, split


def _filters(split: dict):
    """(label, row, has decisions) for gatekeeper's protocols and each baseline."""
    for label, key in GATEKEEPER_ROWS:
        if key in split:
            yield label, split[key], True
    for label, row in split.get("baselines", {}).items():
        yield label, row, False


def overview_table(results: dict) -> list[str]:
    lines = ["| role | task | split | filter | AUC (95% interval) | unwanted removed at 0.1% / "
             "1% wanted lost | wanted lost | wanted held | unwanted removed | ECE |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for role, name, _, split_name, split in _splits(results):
        for label, row, decided in _filters(split):
            decisions = (f"{pct(row['wanted_lost_share'])} | {pct(row['wanted_held_share'])} | "
                         f"{pct(row['unwanted_removed_share'])}") if decided else "- | - | -"
            lines.append(
                f"| {role} | {name} | {split_name} | {label} | {_with_interval(row, 'auc', 4)} | "
                f"{pct(row['removed_at_0.1%_lost'])} / {pct(row['removed_at_1%_lost'])} | "
                f"{decisions} | {_number(row['calibration']['ece'], 3)} |")
    return lines


def slices_table(results: dict) -> list[str]:
    """Each slice of wanted mail against all the unwanted mail, where a task names slices."""
    lines = ["| role | task | split | filter | slice | messages | AUC against unwanted "
             "| held | deleted |", "|---|---|---|---|---|---|---|---|---|"]
    for role, name, task, split_name, split in _splits(results):
        names = task.get("slices") or {}
        for label, row, decided in _filters(split):
            for key, slice_row in row.get("slices", {}).items():
                if key not in names:
                    continue
                held = pct(slice_row.get("held_share")) if decided else "-"
                lost = pct(slice_row.get("lost_share")) if decided else "-"
                lines.append(f"| {role} | {name} | {split_name} | {label} | {names[key]} | "
                             f"{slice_row['messages']} | {_number(slice_row['auc'], 4)} | "
                             f"{held} | {lost} |")
    return lines if len(lines) > 2 else []


def prequential_table(results: dict) -> list[str]:
    lines = ["| role | task | split | messages decided | wanted deleted | wanted held "
             "| unwanted left in the inbox | unwanted kept out that went to Trash: all "
             "/ once the reader had thrown away mail like it | reader actions per 100 messages |",
             "|---|---|---|---|---|---|---|---|---|"]
    for role, name, _, split_name, split in _splits(results):
        for point in split.get("prequential", {}).get("cumulative", []):
            lines.append(
                f"| {role} | {name} | {split_name} | {point['messages']} "
                f"({pct(point['share'])}) | {pct(point['wanted_lost_share'])} | "
                f"{pct(point['wanted_held_share'])} | {pct(point['unwanted_left_share'])} | "
                f"{pct(point['removed_to_trash_share'])} / "
                f"{pct(point.get('removed_to_trash_once_like_share'))} | "
                f"{point['actions_per_100']:.1f} |")
    return lines if len(lines) > 2 else []


def curve_table(results: dict) -> list[str]:
    rows = []
    for role, name, _, split_name, split in _splits(results):
        curve = split.get("online", {}).get("learning_curve", [])
        if curve:
            rows.append((f"| {role} | {name} | {split_name} | " + " | ".join(
                f"{p['reactions']}: {_number(p['auc'], 3)}, {pct(p['wanted_held_share'])} held, "
                f"{pct(p['wanted_lost_share'])} lost" for p in curve) + " |", len(curve)))
    if not rows:
        return []
    width = max(n for _, n in rows)
    return (["| role | task | split | " + " | ".join(["after N reactions"] * width) + " |",
             "|---|---|---|" + "---|" * width] + [row for row, _ in rows])


class Figure:
    """Where one figure lies in a split's results, and its 95% interval: the first `depth`
    keys of `path` name one filter's results (a protocol, or "baselines" and a peer),
    whose "intervals" key the figure as the results do (`metrics.metric_intervals`)."""

    def __init__(self, *path: str, depth: int = 1) -> None:
        self.path, self.depth = path, depth

    def __call__(self, split: dict) -> float | None:
        value = _lookup(split, self.path)
        return value if isinstance(value, (int, float)) else None

    def interval(self, split: dict) -> list[float] | None:
        filter_path, figure = self.path[: self.depth], self.path[self.depth :]
        return _interval(_lookup(split, (*filter_path, "intervals", *figure)))


class AfterReactions(Figure):
    """The online learning curve's AUC after this many reactions."""

    def __init__(self, reactions: int) -> None:
        super().__init__("online", "learning_curve")
        self.reactions = reactions

    def _point(self, split: dict) -> dict:
        curve = _lookup(split, self.path)
        points = curve if isinstance(curve, list) else []
        return next((p for p in points if p["reactions"] == self.reactions), {})

    def __call__(self, split: dict) -> float | None:
        return self._point(split).get("auc")

    def interval(self, split: dict) -> list[float] | None:
        return _interval(_lookup(self._point(split), ("intervals", "auc")))


def _lookup(tree: object, path: tuple[str, ...]) -> object:
    for key in path:
        if not isinstance(tree, dict) or key not in tree:
            return None
        tree = tree[key]
    return tree


def _interval(found: object) -> list[float] | None:
    return list(found) if isinstance(found, (list, tuple)) and len(found) == 2 else None


@dataclass(frozen=True)
class Target:
    """One target of the quality issue (16), checked on each reporting split of its task."""

    task: str  # the standard task it concerns (`quality.load_tasks`)
    text: str
    measured: Figure
    bound: float | Callable[[dict], float | None]  # a number, or one from the same split
    at_least: bool = True
    digits: int = 0  # 0: a share shown as a percentage, else an AUC or ECE with these digits
    # Against another filter's figure: the difference, resampled on the same messages,
    # whose interval says whether the two can be told apart (0 inside: they cannot).
    difference: Figure | None = None

    def show(self, value: float) -> str:
        return pct(value) if not self.digits else _number(value, self.digits)


TARGETS = (
    Target("spamassassin", "AUC above SpamAssassin's in the same run (goal 0.995)",
           Figure("batch", "auc"), Figure("baselines", "SpamAssassin", "auc", depth=2), digits=4,
           difference=Figure("baselines", "SpamAssassin", "gatekeeper_auc_gain", depth=2)),
    Target("spamassassin", "unwanted removed at 0.1% wanted lost >= 65% (goal 90%)",
           Figure("batch", "removed_at_0.1%_lost"), 0.65),
    Target("spamassassin", "commercial-but-wanted against spam: AUC >= 0.95",
           Figure("batch", "slices", "hard_ham_dev", "auc"), 0.95, digits=4),
    Target("spamassassin", "prequential: >= 80% of the spam kept out goes to Trash once the "
           "reader has thrown away mail like it",
           Figure("prequential", "removed_to_trash_once_like_share"), 0.80),
    *(target for task in ("spamassassin", "20news") for target in (
        Target(task, "prequential: wanted deleted <= 0.1%",
               Figure("prequential", "wanted_lost_share"), 0.001, at_least=False),
        Target(task, "prequential: wanted held <= 5%",
               Figure("prequential", "wanted_held_share"), 0.05, at_least=False),
        Target(task, "prequential: unwanted left in the inbox <= 5%",
               Figure("prequential", "unwanted_left_share"), 0.05, at_least=False),
        Target(task, "batch: ECE <= 0.03", Figure("batch", "calibration", "ece"), 0.03,
               at_least=False, digits=3))),
    Target("20news", "zero-shot AUC >= 0.90 (the interest statements alone)",
           AfterReactions(0), 0.90, digits=3),
    Target("20news", "AUC >= 0.95 after 100 reactions", AfterReactions(100), 0.95, digits=3),
    Target("20news", "batch: wanted deleted <= 0.1%", Figure("batch", "wanted_lost_share"), 0.001,
           at_least=False),
)


@dataclass(frozen=True)
class TargetRow:
    target: str
    where: str  # task and split
    shown: str  # the measured figure (and the bound it is held against, when measured too)
    interval: str  # its 95% bootstrap interval, "-" when not measured
    met: bool
    undecided: bool  # the interval holds the bound (or a difference's holds 0): within noise


def target_rows(results: dict) -> list[TargetRow]:
    """A row for each target measured on a reporting split."""
    rows = []
    for target in TARGETS:
        task = results.get("tasks", {}).get(target.task, {})
        for split_name, split in task.get("splits", {}).get(REPORTING, {}).items():
            value = target.measured(split)
            bound = target.bound(split) if callable(target.bound) else target.bound
            if value is None or bound is None or value != value:
                continue
            shown = target.show(value)
            if callable(target.bound):
                shown += f" (against {_number(bound, target.digits)})"
            met = value >= bound if target.at_least else value <= bound
            interval = target.measured.interval(split)
            gain = target.difference.interval(split) if target.difference else None
            if gain is not None:  # the paired difference decides whether `met` could turn
                shown_interval = "difference " + " to ".join(
                    f"{v:+.{target.digits or 3}f}" for v in gain)
                undecided = gain[0] <= 0.0 <= gain[1]
            else:
                shown_interval = "-" if interval is None else \
                    " - ".join(target.show(v) for v in interval)
                undecided = interval is not None and interval[0] <= bound <= interval[1]
            rows.append(TargetRow(target.text, f"{target.task}, {split_name}", shown,
                                  shown_interval, met, undecided))
    return rows


def targets_table(results: dict) -> list[str]:
    rows = target_rows(results)
    if not rows:
        return []
    lines = ["| target | task, reporting split | measured | 95% interval | met |",
             "|---|---|---|---|---|"]
    for row in rows:
        met = "yes" if row.met else "**no**"
        if row.undecided:
            met += " (within noise)"
        lines.append(f"| {row.target} | {row.where} | {row.shown} | {row.interval} | {met} |")
    return lines


def provenance(results: dict) -> str:
    """How and where the figures were measured: one line per run (several runs, each
    with its own tasks, when saved runs were merged)."""
    runs = [(list(results.get("tasks", {})), results["run"])] if results.get("run") else [
        ([name], task["run"]) for name, task in results.get("tasks", {}).items() if "run" in task]
    lines = []
    for names, run in runs:
        limit = f", at most {run['limit']:,} messages per task" if run.get("limit") else ""
        lines.append(f"{', '.join(names)}: measured {run['date']} on {run['machine']} "
                     f"({run['cores']} cores, Python {run['python']}), model "
                     f"{results.get('model', '?')}{limit}.")
    return "\n".join(lines)


def render_markdown(results: dict) -> str:
    """The tables: the targets, every filter per split, the slices, the prequential stream,
    the learning curve."""
    sections = [
        ("Targets of the quality issue, each on the reporting splits it concerns, with a 95% "
         "interval over the decided messages (each sender's mail resampled as one; for a "
         "share, the wider of that and Wilson's):",
         targets_table(results)),
        ("Every filter on every split; the peers trained and tested on the same split in the "
         "same run:", overview_table(results)),
        ("Kinds of wanted mail, each against all the unwanted mail of the decided part:",
         slices_table(results)),
        ("Prequential: the decided part as a stream after the learned part as history; "
         "cumulative figures after the first N messages, each counted as it was decided:",
         prequential_table(results)),
        ("Learning curve (online: the interest statements, then only the reader's "
         "reactions): AUC on the decided part, wanted mail held and deleted:",
         curve_table(results)),
    ]
    measured = provenance(results)
    lines = [measured, ""] if measured else []
    for title, table in sections:
        if table:
            lines += ([title, ""] if title else []) + table + [""]
    return "\n".join(lines)


def plot_learning_curves(results: dict, path: Path) -> bool:
    """Draw AUC against reactions per task and split; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        logger.warning("matplotlib is not installed: no learning-curve PNG (pip install matplotlib)")
        return False
    figure, axis = plt.subplots(figsize=(6, 4))
    for role, name, _, split_name, split in _splits(results):
        curve = split.get("online", {}).get("learning_curve", [])
        if curve:
            axis.plot([p["reactions"] for p in curve], [p["auc"] for p in curve], marker="o",
                      label=f"{name}, {split_name} ({role})")
    axis.set(xlabel="reader reactions learned", ylabel="AUC on the decided mail",
             title="gatekeeper learning curve")
    axis.set_xscale("symlog", linthresh=10)
    axis.grid(alpha=0.3)
    axis.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return True


def replace_tables(text: str, markdown: str) -> str:
    """`text` (a README) with what lies between the quality markers replaced by `markdown`."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise InputError(f"no {BEGIN} ... {END} lines to put the tables between")
    return text[: start + len(BEGIN)] + "\n" + markdown.strip() + "\n" + text[end:]
