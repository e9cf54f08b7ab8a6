"""What a demo run did, set against what the reader wanted."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from ..core.policy import ACTIONS, DELETE, HOLD, PASS
from ..mail.store import DecisionRecord
from ..mail.training import TrainingReport
from .inbox import DemoMail
from .persona import Persona

DAY_SECONDS = 86400


@dataclass(frozen=True)
class DecidedMail:
    """One new message: what the gatekeeper did with it, and what the reader wanted."""

    day: int  # 0 for the first day of new mail
    sender: str
    subject: str
    kind: str
    wanted: bool  # the reader's truth
    verdict: str
    probability: float  # P(wanted) when decided
    probe: bool  # passed only to learn from the reader's reaction
    reason: str  # the most telling reason given
    rescued: bool  # the reader moved it back from the held folder

    @property
    def right(self) -> bool:
        """Wanted mail passed, unwanted mail held or deleted."""
        return self.wanted == (self.verdict == PASS)


def decided_mail(decision: DecisionRecord, mail: DemoMail, start: datetime,
                 rescued: set[str]) -> DecidedMail:
    """A stored decision joined with the generated message's truth."""
    return DecidedMail(
        day=int((decision.decided_at - start.timestamp()) // DAY_SECONDS), sender=mail.sender,
        subject=mail.subject, kind=mail.kind, wanted=mail.wanted, verdict=decision.action,
        probability=decision.probability, probe=decision.probe,
        reason=top_reason(decision.reasons), rescued=mail.message_id in rescued)


def top_reason(reasons: list[dict]) -> str:
    """The most specific reason (a guard rail, a list, a probe, the screener), else the
    score without its cost arithmetic."""
    if not reasons:
        return ""
    last = reasons[-1]
    return last["text"].split(";")[0] if last["code"] == "score" else last["text"]


@dataclass
class DemoResult:
    """The run, measured."""

    folder: Path  # holds the Maildir ("Mail") and the private gatekeeper home ("home")
    home: Path
    persona: Persona
    history: int  # earlier messages the profile was trained on
    sent: int  # messages the reader sent
    training: TrainingReport
    decided: list[DecidedMail]  # in the order decided
    reactions: Counter  # the reader's behaviours learned while the gatekeeper ran
    examples: int  # labelled examples in the profile at the end
    senders_known: int  # addresses in the sender memory
    correspondents: int
    start: datetime  # of the new mail
    seconds: float
    verdicts: dict[str, Counter] = field(init=False)

    def __post_init__(self) -> None:
        self.verdicts = {verdict: Counter() for verdict in ACTIONS}
        for mail in self.decided:
            counts = self.verdicts[mail.verdict]
            counts["messages"] += 1
            counts["wanted" if mail.wanted else "unwanted"] += 1
            counts["probes"] += mail.probe
            counts["rescued"] += mail.rescued

    @property
    def wanted_deleted(self) -> int:
        return self.verdicts[DELETE]["wanted"]

    @property
    def unwanted_removed(self) -> float:
        """Share of unwanted mail held or deleted."""
        unwanted = sum(counts["unwanted"] for counts in self.verdicts.values())
        return 1 - self.verdicts[PASS]["unwanted"] / unwanted if unwanted else 0.0

    def day_label(self, day: int) -> str:
        return (self.start + timedelta(days=day)).strftime("%a %d %b")

    def by_day(self) -> dict[int, Counter]:
        """Verdict counts per day of new mail."""
        days: dict[int, Counter] = {}
        for mail in self.decided:
            days.setdefault(mail.day, Counter())[mail.verdict] += 1
        return dict(sorted(days.items()))

    def hold_rates(self) -> list[float]:
        """Share of each week's new mail that was held, week by week."""
        weeks: dict[int, Counter] = {}
        for mail in self.decided:
            weeks.setdefault(mail.day // 7, Counter())[mail.verdict] += 1
        return [counts[HOLD] / sum(counts.values()) for _, counts in sorted(weeks.items())]

    def to_dict(self) -> dict:
        training = self.training
        return {
            "folder": str(self.folder), "home": str(self.home), "reader": self.persona.name,
            "history_messages": self.history, "sent_messages": self.sent,
            "trained": {"messages": training.messages, "examples": training.examples,
                        "behaviours": dict(training.behaviours),
                        "heldout_auc": training.heldout_auc},
            "verdicts": {verdict: dict(counts) for verdict, counts in self.verdicts.items()},
            "wanted_deleted": self.wanted_deleted, "unwanted_removed": self.unwanted_removed,
            "hold_rate_by_week": self.hold_rates(), "reactions": dict(self.reactions),
            "profile_examples": self.examples, "senders_known": self.senders_known,
            "correspondents": self.correspondents, "seconds": round(self.seconds, 1),
            "decided": [asdict(mail) | {"date": self.day_label(mail.day)}
                        for mail in self.decided],
        }

    def summary_rows(self) -> list[tuple[str, int, str, str]]:
        """(verdict, messages, right, wrong) for the summary table."""
        passed, held, deleted = (self.verdicts[v] for v in ACTIONS)
        probes = f" ({passed['probes']} as probes)" if passed["probes"] else ""
        right = sum(mail.right for mail in self.decided)
        return [
            ("passed", passed["messages"], f"{passed['wanted']} wanted",
             f"{passed['unwanted']} unwanted{probes}"),
            ("held", held["messages"], f"{held['unwanted']} unwanted",
             f"{held['wanted']} wanted ({held['rescued']} rescued by the reader)"),
            ("deleted", deleted["messages"], f"{deleted['unwanted']} unwanted",
             f"{deleted['wanted']} wanted"),
            ("all", len(self.decided), f"{right} right ({right / max(len(self.decided), 1):.0%})",
             f"{len(self.decided) - right} wrong"),
        ]

    def learning_lines(self) -> list[str]:
        """What was learned, in sentences."""
        behaviours = ", ".join(f"{b} {n}" for b, n in self.training.behaviours.most_common())
        reactions = ", ".join(f"{b} {n}" for b, n in self.reactions.most_common()) or "none"
        rates = " -> ".join(f"week {i + 1} {rate:.0%}" for i, rate in enumerate(self.hold_rates()))
        return [
            f"trained on {self.training.messages} messages of the earlier weeks (sent mail "
            f"included): {self.training.examples} examples ({behaviours})",
            f"learned from {sum(self.reactions.values())} reactions while running ({reactions})",
            f"the profile now holds {self.examples} examples; it knows {self.senders_known} "
            f"senders, {self.correspondents} of them correspondents",
            f"hold rate: {rates}",
        ]
