"""The decision: pass, hold or delete one message. Pure: data in, a `Verdict` out.

Thresholds come from costs, not from 0.5. Losing a wanted message costs far more than
holding it, which costs more than letting junk through (SpamBayes' weighting: 10 per
wanted message lost, 1 per junk passed, 0.20 per message held; the unit is one junk
message left in the inbox, not money). With a calibrated
P(wanted) = p, the expected costs are pass (1 - p) * 1, hold 0.20, delete p * 10, and
the cheapest wins; guard rails then cap what the reader's own relationships allow.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from .message import Message
from .vocabulary import VerdictAction

PASS, HOLD, DELETE = VerdictAction.PASS, VerdictAction.HOLD, VerdictAction.DELETE
ACTIONS: tuple[str, ...] = tuple(VerdictAction)


@dataclass(frozen=True)
class PolicySettings:
    """The reader's costs and safety settings (see the default config for each)."""

    cost_wanted_lost: float = 10.0  # a wanted message deleted
    cost_junk_passed: float = 1.0  # an unwanted message left in the inbox
    cost_held: float = 0.20  # any message held for review
    probe_share: float = 0.05  # share of would-be-held mail passed as a probe
    min_examples_to_delete: int = 30  # profile evidence needed before anything is deleted
    screener_band: tuple[float, float] = (0.25, 0.75)  # "unsure" for first-time senders
    seed: str = "gatekeeper"  # makes probe choice reproducible per message


@dataclass(frozen=True)
class History:
    """What the reader's past says about this message, beyond the profile's score."""

    correspondent: bool = False  # the reader has written to the sender
    reply_to_reader: bool = False  # In-Reply-To / References name a message the reader sent
    thread_flagged: bool = False  # the reader flagged a message of this thread
    allowed: bool = False  # sender or domain on the allow list
    blocked: bool = False  # sender or domain on the block list
    sender_messages: int = 0  # earlier messages from this sender
    sender_thrown_away: float = 0.0  # of those, (decayed) deleted unread / junked
    similar_thrown_away: int = 0  # nearest examples of the profile the reader threw away
    profile_examples: int = 0  # labelled examples the profile has learned from


@dataclass(frozen=True)
class Reason:
    """One reason for a verdict: a code for programs, words for people."""

    code: str
    text: str


@dataclass(frozen=True)
class Verdict:
    """What to do with a message, and why, with the numbers behind it."""

    action: str  # a `VerdictAction`
    probability: float  # P(wanted) the decision used
    reasons: tuple[Reason, ...]
    costs: dict[str, float] = field(default_factory=dict)  # expected cost per action
    probe: bool = False  # passed only to learn what the reader does with it
    queue: str = ""  # "screener" for an unsure first-time sender


def expected_costs(p: float, settings: PolicySettings) -> dict[str, float]:
    return {
        PASS: (1.0 - p) * settings.cost_junk_passed,
        HOLD: settings.cost_held,
        DELETE: p * settings.cost_wanted_lost,
    }


def pass_threshold(settings: PolicySettings) -> float:
    """The P(wanted) above which passing is the cheapest action (before guard rails, lists
    and probes): passing beats holding above 1 - held/junk, and deleting above
    junk / (junk + lost)."""
    junk = settings.cost_junk_passed
    return max(1.0 - settings.cost_held / junk, junk / (junk + settings.cost_wanted_lost))


def breakpoints(settings: PolicySettings) -> tuple[float, ...]:
    """Every P(wanted) at which the verdict can change: where two expected costs cross,
    and the edges of the screener band. Between two of them `decide` is constant."""
    junk, held, lost = settings.cost_junk_passed, settings.cost_held, settings.cost_wanted_lost
    return tuple(sorted({1.0 - held / junk, held / lost, junk / (junk + lost),
                         *settings.screener_band}))


def decide_within(p: float, p_low: float, p_high: float, message: Message,
                  histories: Sequence[History], settings: PolicySettings) -> Verdict | None:
    """The verdict for a message whose P(wanted) is only known to lie in [p_low, p_high]
    (`p` the best guess within it) and whose history is one of `histories`: when `decide`
    gives the same action, probe and queue for all of them, its verdict at `p`; None when
    it may not. Sound because `decide` only changes at `breakpoints`, so the range's
    ends, the breakpoints inside it and one point between each pair cover it."""
    edges = sorted({p_low, p_high, *(b for b in breakpoints(settings) if p_low < b < p_high)})
    points = edges + [(a + b) / 2 for a, b in zip(edges, edges[1:])]
    outcomes = {(v.action, v.probe, v.queue)
                for v in (decide(p, message, h, settings) for p in points for h in histories)}
    if len(outcomes) != 1:
        return None
    verdict = decide(p, message, histories[0], settings)
    unread = Reason("meaning_unread", f"decided before reading it for meaning: its words and "
                    f"sender alone put it at {p_low:.0%} to {p_high:.0%} likely wanted")
    return replace(verdict, reasons=verdict.reasons + (unread,))


def _is_probe(probe_key: str, settings: PolicySettings) -> bool:
    key = f"{settings.seed}:{probe_key}".encode()
    draw = int.from_bytes(hashlib.sha256(key).digest()[:8], "big") / 2**64
    return draw < settings.probe_share


def thrown_away_like(history: History) -> bool:
    """The reader has thrown away mail like this: from its sender, or at least two of the
    profile's nearest examples to it."""
    return history.sender_thrown_away >= 1 or history.similar_thrown_away >= 2


def _guard_rails(history: History, settings: PolicySettings) -> list[Reason]:
    """Reasons this message may at most be held, never deleted."""
    rails = [
        (history.correspondent, "correspondent", "you have written to this sender"),
        (history.reply_to_reader, "reply", "it replies to a message you sent"),
        (history.thread_flagged, "flagged_thread", "you flagged a message in this thread"),
        (history.profile_examples < settings.min_examples_to_delete, "little_evidence",
         f"the profile has learned from {history.profile_examples} examples so far"),
        (not thrown_away_like(history), "no_history",
         "you have not thrown away mail like this before"),
    ]
    return [Reason(code, text) for applies, code, text in rails if applies]


def decide(p: float, message: Message, history: History, settings: PolicySettings,
           probe_key: str = "") -> Verdict:
    """Pass, hold or delete a message whose P(wanted) is `p`. Whether a would-be hold
    passes as a probe is drawn from `probe_key`, by default the message's Message-ID (or
    its content hash): the same message is always drawn the same way."""
    costs = expected_costs(p, settings)
    if history.allowed:
        return Verdict(PASS, p, (Reason("allowed", "the sender is on your allow list"),), costs)
    if history.blocked and not (history.correspondent or history.reply_to_reader):
        return Verdict(DELETE, p, (Reason("blocked", "the sender is on your block list"),), costs)
    action = min(costs, key=lambda candidate: costs[candidate])
    reasons = [Reason("score", f"{p:.0%} likely wanted; expected cost, counted in junk "
                      "messages left in your inbox: "
                      + ", ".join(f"{a} {c:.2f}" for a, c in costs.items()))]
    if action == DELETE:
        rails = _guard_rails(history, settings)
        if rails:
            action = HOLD
            reasons += [Reason(r.code, f"held, not deleted: {r.text}") for r in rails]
    if action == HOLD:
        key = probe_key or message.message_id or message.content_hash
        return _hold_or_probe(p, key, history, settings, costs, reasons)
    return Verdict(action, p, tuple(reasons), costs)


def _hold_or_probe(p, probe_key, history, settings, costs, reasons) -> Verdict:
    if _is_probe(probe_key, settings):
        reasons.append(Reason("probe", "passed as a probe, to learn whether you want mail like it"))
        return Verdict(PASS, p, tuple(reasons), costs, probe=True)
    low, high = settings.screener_band
    if history.sender_messages == 0 and low <= p <= high:
        reasons.append(Reason("screener", "a first-time sender the profile is unsure about"))
        return Verdict(HOLD, p, tuple(reasons), costs, queue="screener")
    return Verdict(HOLD, p, tuple(reasons), costs)
