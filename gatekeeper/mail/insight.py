"""What gatekeeper did for the reader: counts, time saved, the review backlog, and how
its decisions fared over time.

The library behind `gatekeeper status` (activity per account) and `gatekeeper stats`
(decisions per day, score distributions, senders, reversals, and its HTML page). Everything
comes from the store, so it works without the mailbox and whether or not the daemon runs.
Days are local calendar days.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta

from ..core import htmlreport as html
from ..core.policy import ACTIONS, DELETE, HOLD, PASS
from ..core.vocabulary import WEIGHTS
from .actions import ACTIVE
from .store import DecisionOutcome, SenderBehaviour, Store

HISTOGRAM_BINS = 10

# Time saved is an estimate, so its assumptions are named, shown with it, and kept modest.
# Spotting an unwanted message in the inbox, glancing at or opening it and deleting it
# takes a few seconds; 10 s is a middle value between deleting from the list and opening.
SECONDS_TO_TRIAGE_UNWANTED = 10.0
# Held mail is not free: the reader still glances at it in a batched review.
SECONDS_TO_REVIEW_HELD = 3.0
TIME_SAVED_ASSUMPTION = (
    f"{SECONDS_TO_TRIAGE_UNWANTED:.0f} s for each unwanted message you no longer triage "
    f"by hand, less {SECONDS_TO_REVIEW_HELD:.0f} s for each held one you glance at in "
    "review; active mode only, decisions you undid or rescued excluded")


def local_midnight(now: float, days_back: int = 0) -> float:
    """The start of the local calendar day `days_back` days before the one `now` is in."""
    day = date.fromtimestamp(now) - timedelta(days=days_back)
    return datetime.combine(day, time()).timestamp()


def seconds_saved(outcomes: Iterable[DecisionOutcome]) -> float:
    """The estimated reader's time saved by these decisions, by the assumptions above."""
    saved: dict[str, float] = {DELETE: SECONDS_TO_TRIAGE_UNWANTED,
             HOLD: SECONDS_TO_TRIAGE_UNWANTED - SECONDS_TO_REVIEW_HELD}
    # Only active mode moves mail, so only its decisions save the reader time.
    return sum(saved.get(outcome.action, 0.0) for outcome in outcomes
               if outcome.mode == ACTIVE and not outcome.reversed)


def format_duration(seconds: float) -> str:
    """A duration as people say it: 40 s, 12 min, 3 h 5 min."""
    minutes = round(seconds / 60)
    if seconds < 60:
        return f"{seconds:.0f} s"
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def count_actions(outcomes: Iterable[DecisionOutcome]) -> dict[str, int]:
    counts = Counter(outcome.action for outcome in outcomes)
    return {action: counts[action] for action in ACTIONS}


# -- status: activity per account ------------------------------------------------------
@dataclass(frozen=True)
class PeriodActivity:
    """What gatekeeper decided for one account in one period."""

    since: float  # the period's start (Unix time); it runs until now
    decisions: dict[str, int]  # pass / hold / delete -> how many
    seconds_saved: float  # estimated, see TIME_SAVED_ASSUMPTION


@dataclass(frozen=True)
class AccountActivity:
    """One account's line in `gatekeeper status`."""

    account: str
    today: PeriodActivity  # since local midnight
    last_7_days: PeriodActivity  # today and the 6 days before, from local midnight
    waiting_in_review: int  # held, not yet released or discarded (as the store knows)


def _period(outcomes: list[DecisionOutcome], since: float) -> PeriodActivity:
    inside = [outcome for outcome in outcomes if outcome.decided_at >= since]
    return PeriodActivity(since, count_actions(inside), seconds_saved(inside))


def account_activity(store: Store, now: float) -> list[AccountActivity]:
    """Activity today and in the last 7 days of every account with decisions."""
    today, week = local_midnight(now), local_midnight(now, days_back=6)
    outcomes = store.decision_outcomes(since=week)
    activity = []
    for account in store.accounts():
        mine = [outcome for outcome in outcomes if outcome.account == account]
        activity.append(AccountActivity(account, _period(mine, today), _period(mine, week),
                                        len(store.waiting_holds(account))))
    return activity


# -- stats: decisions over time and how the reader took them ------------------------------
@dataclass(frozen=True)
class SenderEngagement:
    """How the reader treated one sender's decided mail, by `Behaviour` weights."""

    sender: str
    positive: float  # summed weight of behaviours for (read, replied, rescued, ...)
    negative: float  # and against (deleted unread, junked, ...)
    net: float  # positive - negative: what the senders are ranked by
    behaviours: dict[str, int]  # behaviour -> times


@dataclass(frozen=True)
class Stats:
    """Everything `gatekeeper stats` shows, for one account or for all."""

    account: str | None  # None: every account
    days: list[str]  # local dates with decisions, ISO format, oldest first
    per_day: dict[str, list[int]]  # action -> decisions per day, aligned with `days`
    quiet_days: int  # days of the period without a decision, left out of `days`
    bin_edges: list[float]  # P(wanted) histogram edges, 0.0 to 1.0
    histograms: dict[str, list[int]]  # action -> decisions per bin
    engaged: list[SenderEngagement]  # most engaged first
    disengaged: list[SenderEngagement]  # most dis-engaged first
    moved: dict[str, int]  # hold / delete -> made in active mode (the reversible ones)
    reversed: dict[str, int]  # hold / delete -> of those, undone or rescued by the reader
    seconds_saved: float  # estimated, see TIME_SAVED_ASSUMPTION

    @property
    def total(self) -> int:
        return sum(sum(counts) for counts in self.per_day.values())

    @property
    def reversed_share(self) -> float | None:
        """Share of active holds and deletes the reader undid or rescued; None when none."""
        moved = sum(self.moved.values())
        return sum(self.reversed.values()) / moved if moved else None

    def to_dict(self) -> dict:
        return {**asdict(self), "total": self.total, "reversed_share": self.reversed_share,
                "time_saved_assumption": TIME_SAVED_ASSUMPTION}


def _histogram(probabilities: Iterable[float]) -> list[int]:
    counts = [0] * HISTOGRAM_BINS
    for probability in probabilities:
        counts[min(max(int(probability * HISTOGRAM_BINS), 0), HISTOGRAM_BINS - 1)] += 1
    return counts


def _per_day(outcomes: Iterable[DecisionOutcome], dates: list[date]) -> tuple[list[date], dict[str, list[int]]]:
    """The days with decisions, and the decisions of each action on each of them (a new
    install's month is mostly days without any: they say nothing)."""
    index = {day: n for n, day in enumerate(dates)}
    per_day = {action: [0] * len(dates) for action in ACTIONS}
    for outcome in outcomes:  # a clock that ran ahead stamps a decision after today: count it today
        day = index.get(date.fromtimestamp(outcome.decided_at), len(dates) - 1)
        per_day[outcome.action][day] += 1
    busy = [n for n in range(len(dates)) if any(per_day[action][n] for action in ACTIONS)]
    return [dates[n] for n in busy], {action: [counts[n] for n in busy]
                                      for action, counts in per_day.items()}


def _ranked_senders(rows: Iterable[SenderBehaviour], top: int) -> tuple[list[SenderEngagement],
                                                                       list[SenderEngagement]]:
    """The `top` most engaged and most dis-engaged senders."""
    behaviours: dict[str, Counter] = {}
    for row in rows:
        behaviours.setdefault(row.sender, Counter())[row.behaviour] += row.times
    senders = []
    for sender, times in behaviours.items():
        weights = [(WEIGHTS.get(b, (0.0, 0.0)), n) for b, n in times.items()]
        positive = sum(plus * n for (plus, _), n in weights)
        negative = sum(minus * n for (_, minus), n in weights)
        senders.append(SenderEngagement(sender, positive, negative, positive - negative,
                                        dict(times)))
    engaged = sorted((s for s in senders if s.net > 0), key=lambda s: (-s.net, s.sender))
    disengaged = sorted((s for s in senders if s.net < 0), key=lambda s: (s.net, s.sender))
    return engaged[:top], disengaged[:top]


def collect_stats(store: Store, days: int, now: float, account: str | None = None,
                  top: int = 10) -> Stats:
    """The last `days` local days (today included) of one account, or of all."""
    since = local_midnight(now, days_back=days - 1)
    outcomes = store.decision_outcomes(account, since)
    dates = [date.fromtimestamp(since) + timedelta(days=n) for n in range(days)]
    engaged, disengaged = _ranked_senders(store.sender_behaviours(account, since), top)
    # Only active mode moves mail, so only its holds and deletes can be undone or rescued.
    moves = [outcome for outcome in outcomes if outcome.mode == ACTIVE and outcome.action != PASS]
    busy, per_day = _per_day(outcomes, dates)
    return Stats(
        account=account, days=[day.isoformat() for day in busy], per_day=per_day,
        quiet_days=days - len(busy),
        bin_edges=[n / HISTOGRAM_BINS for n in range(HISTOGRAM_BINS + 1)],
        histograms={action: _histogram(outcome.probability for outcome in outcomes
                                       if outcome.action == action) for action in ACTIONS},
        engaged=engaged, disengaged=disengaged,
        moved={action: sum(move.action == action for move in moves) for action in (HOLD, DELETE)},
        reversed={action: sum(move.action == action and move.reversed for move in moves)
                  for action in (HOLD, DELETE)},
        seconds_saved=seconds_saved(outcomes))


def describe_reversals(stats: Stats) -> str:
    """One sentence on how often the reader undid gatekeeper's moves."""
    share = stats.reversed_share
    if share is None:
        return "no holds or deletes in active mode yet, so nothing you could have undone"
    return (f"you undid or rescued {sum(stats.reversed.values())} of "
            f"{sum(stats.moved.values())} holds and deletes made in active mode ({share:.0%}): "
            f"{stats.reversed[HOLD]} of {stats.moved[HOLD]} holds, "
            f"{stats.reversed[DELETE]} of {stats.moved[DELETE]} deletes")


# -- the HTML page ---------------------------------------------------------------------
def _sender_table(senders: Sequence[SenderEngagement]) -> str:
    if not senders:
        return html.paragraph("none yet", "note")
    return html.table(("sender", "for", "against", "what you did"), [
        (s.sender, s.positive, s.negative,
         ", ".join(f"{b} {n}" for b, n in sorted(s.behaviours.items()))) for s in senders])


def stats_page(stats: Stats) -> str:
    """`gatekeeper stats` as one self-contained HTML page with inline SVG charts."""
    scope = stats.account or "all accounts"
    decided = html.section(
        "Decisions per day",
        html.stacked_bars(stats.days, stats.per_day, title="pass / hold / delete per day",
                          unit="", total=None, label_width=90),
        html.table(("day", *ACTIONS), [(day, *(stats.per_day[a][n] for a in ACTIONS))
                                       for n, day in enumerate(stats.days)]))
    scores = html.section(
        "How sure it was: P(wanted) per action",
        *(html.histogram(stats.histograms[action], stats.bin_edges,
                         title=f"P(wanted) of {action} decisions: "
                               f"{sum(stats.histograms[action])}",
                         colour=html.ACTION_COLOURS[action]) for action in ACTIONS))
    senders = html.section(
        "Senders", html.paragraph("Most engaged (what you did with their mail, weighed as "
                                  "gatekeeper learns it)"), _sender_table(stats.engaged),
        html.paragraph("Most dis-engaged"), _sender_table(stats.disengaged))
    quality = html.section(
        "Quality and time saved", html.paragraph(describe_reversals(stats)),
        html.paragraph(f"time saved: about {format_duration(stats.seconds_saved)}"),
        html.paragraph(f"assumption: {TIME_SAVED_ASSUMPTION}", "note"))
    return html.page(f"gatekeeper stats: {scope}", [decided, scores, senders, quality],
                     subtitle=f"{stats.total} decisions from {stats.days[0]} to "
                              f"{stats.days[-1]} (local time)"
                              + (f"; {stats.quiet_days} days without any left out"
                                 if stats.quiet_days else ""))
