"""Where a large mailbox provider would put a campaign: primary inbox, promotions tab, spam.

A transparent model, not a learned one. Two logistic steps, each a sum of log-odds points:

1. spam or not: `SPAM_BASE` plus the points of every factor present. The factors are
   what providers publish that they check: Gmail's and Yahoo's 2024 bulk-sender
   requirements (SPF and DKIM, DMARC with From alignment, RFC 8058 one-click
   unsubscribe for subscribed mail, a spam-complaint rate under 0.1% and never 0.3%,
   RFC 5322 format), Microsoft's 2025 rules for Outlook.com (SPF, DKIM and an aligned
   DMARC for senders of more than 5,000 messages a day, else junk, then rejection), and
   the message-build signals their guidelines name or spam filters have long scored
   (HTML without a text part, image-only mail, URL shorteners, links to bare IPs,
   clipping size, shouting subjects). The deliverability checks (`gatekeeper.campaign.lint`) are
   its inputs: each finding code has its points here.
2. promotions or primary, for mail not in spam: `TAB_BASE` plus points for what makes
   mail look like a mailing (list headers, many links and images) and for its kind
   (`gatekeeper.campaign.content_kind`): promotional mail goes to the promotions tab, receipts
   and account notices stay in primary, personal-looking mail stays in primary.

The points were set by hand from the providers' own words ("required", "may be
rejected", "recommended") and checked on mail written for the tests
(`tests/test_placement.py`), never fitted to a collection of real placements: such
collections are kept aside to check the model. Every factor is reported with its points
and what it rests on, so a sender sees why, and a fix's gain is the forecast again with
the fix applied (`gatekeeper.campaign.verdict`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from ..core.message import Message
from .content_kind import PROMOTIONAL, TRANSACTIONAL, content_kind
from .lint import BULK_LINK_COUNT, Finding

SPAM_BASE = -3.5  # a clean message from a sender in good standing: ~3% in spam
TAB_BASE = 0.0
PLACES = ("primary", "promotions", "spam")

BULK_RULES = "Gmail and Yahoo bulk-sender requirements (2024)"
ALL_SENDERS = "Gmail sender guidelines, requirements for all senders (2024)"
MICROSOFT = "Microsoft Outlook.com requirements for high-volume senders (2025)"
BUILD = "message build: what providers' guidelines and spam filters score"
COMPLAINTS = "Gmail and Yahoo: keep spam complaints under 0.1%, never reach 0.3% (2024)"

# Points towards spam per lint finding code, and what each rests on. A code not listed
# (preheader, alt text, an empty subject, p=none) is about readers, not placement.
FINDING_POINTS: dict[str, tuple[float, str]] = {
    "from-missing": (3.0, f"{ALL_SENDERS}: messages follow RFC 5322"),
    "message-id-missing": (2.5, f"{ALL_SENDERS}: RFC 5322 format; Gmail rejects mail "
                                "without a Message-ID"),
    "date-missing": (1.0, f"{ALL_SENDERS}: RFC 5322 format"),
    "dkim-missing": (2.0, f"{ALL_SENDERS}: SPF or DKIM; {BULK_RULES}: both; {MICROSOFT}"),
    "dkim-not-aligned": (1.0, f"{BULK_RULES} and {MICROSOFT}: DMARC aligned with From"),
    "spf-fail": (1.5, f"{ALL_SENDERS}: SPF must pass"),
    "dkim-fail": (1.5, f"{ALL_SENDERS}: DKIM must pass"),
    "dmarc-fail": (3.0, f"{BULK_RULES}: mail failing DMARC is junked or rejected"),
    "spf-record-missing": (1.5, f"{ALL_SENDERS}: publish SPF; {MICROSOFT}"),
    "spf-record-multiple": (1.0, "RFC 7208: two SPF records make SPF fail (permerror)"),
    "spf-record-pass-all": (1.0, "an SPF record that lets any server pass proves nothing"),
    "dmarc-record-missing": (1.5, f"{BULK_RULES} and {MICROSOFT}: publish DMARC"),
    "list-unsubscribe-missing": (1.5, f"{BULK_RULES}: one-click unsubscribe in subscribed "
                                      "mail"),
    "one-click-unsubscribe-missing": (1.0, f"{BULK_RULES}: RFC 8058 List-Unsubscribe-Post"),
    "list-unsubscribe-no-https": (0.7, f"{BULK_RULES}: one-click needs an https URI; "
                                       "a mailto-only link is not one-click"),
    "html-images-only": (1.5, f"{BUILD}: image-only mail hides its text from filters"),
    "link-ip-address": (2.0, f"{BUILD}: links to bare IP addresses"),
    "link-shortener": (1.0, f"{BUILD}: public URL shorteners hide where links go"),
    "links-off-domain": (0.4, f"{BUILD}: links that do not lead to the sender's domain"),
    "too-many-links": (0.3, f"{BUILD}: a link farm"),
    "text-plain-missing": (0.2, f"{BUILD}: HTML without a text alternative"),
    "image-text-ratio": (0.3, f"{BUILD}: little text per image"),
    "html-malformed": (0.3, f"{ALL_SENDERS}: format messages to HTML standards"),
    "html-too-large": (0.3, f"{BUILD}: clipped past 102 KB, the unsubscribe link hidden"),
    "message-too-large": (0.2, f"{BUILD}: clipped past 102 KB"),
    "subject-shouting": (0.5, f"{BUILD}: a subject in capitals"),
    "subject-exclamations": (0.3, f"{BUILD}: a subject full of exclamation marks"),
}
# Complaint rate thresholds (share of delivered mail reported as spam) and their points.
COMPLAINT_STEPS = ((0.003, 3.0, "at or above the 0.3% ceiling"),
                   (0.002, 1.5, "above 0.2%, high"),
                   (0.001, 1.0, "above the 0.1% to stay under"),
                   (0.0008, 0.5, "above 0.08%, where it starts to hurt"))
SPIKE_STEPS = ((5.0, 1.2), (2.0, 0.7))  # send / usual daily volume, points
KIND_SPAM_POINTS = {PROMOTIONAL: 0.3, TRANSACTIONAL: -0.5}
# Promotions or primary, for mail that is not in spam.
KIND_TAB_POINTS = {PROMOTIONAL: 2.5, TRANSACTIONAL: -2.5}
EDITORIAL_TAB_POINTS = 1.0  # newsletters: subscribed content, mostly tabbed
LIST_HEADER_TAB_POINTS = 1.0
MANY_LINKS_TAB_POINTS = 0.5
MANY_IMAGES = 3
MANY_IMAGES_TAB_POINTS = 0.5
PERSONAL_TAB_POINTS = -3.5  # no list headers, few links, no images: written to a person


@dataclass(frozen=True)
class Factor:
    """One reason for the forecast: log-odds points towards a place, and their source."""

    name: str  # plain words, "No one-click unsubscribe (RFC 8058)"
    towards: str  # "spam", or "promotions" (negative points: towards primary)
    points: float
    source: str  # what it rests on
    code: str = ""  # the lint finding it comes from, if any


@dataclass(frozen=True)
class SenderFacts:
    """What a sender may tell about themselves; None: not known, not counted."""

    complaint_rate: float | None = None  # share of delivered mail reported as spam
    usual_volume: int | None = None  # messages a day the sender usually sends
    volume: int | None = None  # messages in this send


@dataclass(frozen=True)
class Placement:
    """The forecast for one message: the chance of each place, and why."""

    primary: float
    promotions: float
    spam: float
    kind: str  # transactional, promotional or editorial
    factors: tuple[Factor, ...]

    @property
    def inbox(self) -> float:
        """The chance it reaches the inbox at all: primary or a promotions tab."""
        return self.primary + self.promotions

    def main_risk(self) -> Factor | None:
        """The factor pushing hardest towards spam, None when nothing does."""
        risks = [f for f in self.factors if f.towards == "spam" and f.points > 0]
        return max(risks, key=lambda f: f.points) if risks else None

    def to_dict(self) -> dict:
        return {"primary": self.primary, "promotions": self.promotions, "spam": self.spam,
                "inbox": self.inbox, "kind": self.kind,
                "factors": [asdict(f) for f in self.factors]}


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def forecast(message: Message, findings: Iterable[Finding],
             facts: SenderFacts | None = None) -> Placement:
    """Where a large mailbox provider would put this message, with the reasons."""
    facts = facts or SenderFacts()
    kind = content_kind(message.subject, message.text)
    spam_factors = [*_finding_factors(findings), *_sender_factors(facts)]
    if kind in KIND_SPAM_POINTS:
        spam_factors.append(Factor(f"{kind.capitalize()} content", "spam",
                                   KIND_SPAM_POINTS[kind], BUILD))
    tab_factors = _tab_factors(message, kind)
    spam = _sigmoid(SPAM_BASE + sum(f.points for f in spam_factors))
    promotions_if_inbox = _sigmoid(TAB_BASE + sum(f.points for f in tab_factors))
    return Placement(primary=(1 - spam) * (1 - promotions_if_inbox),
                     promotions=(1 - spam) * promotions_if_inbox, spam=spam, kind=kind,
                     factors=tuple(spam_factors + tab_factors))


def _finding_factors(findings: Iterable[Finding]) -> list[Factor]:
    factors, seen = [], set()
    for finding in findings:
        if finding.code in FINDING_POINTS and finding.code not in seen:
            seen.add(finding.code)
            points, source = FINDING_POINTS[finding.code]
            factors.append(Factor(finding.title, "spam", points, source, finding.code))
    return factors


def _sender_factors(facts: SenderFacts) -> list[Factor]:
    factors = []
    if facts.complaint_rate is not None:
        for threshold, points, words in COMPLAINT_STEPS:
            if facts.complaint_rate >= threshold:
                factors.append(Factor(f"Spam complaints at {facts.complaint_rate:.2%}: {words}",
                                      "spam", points, COMPLAINTS))
                break
    if facts.usual_volume and facts.volume:
        ratio = facts.volume / facts.usual_volume
        for threshold, points in SPIKE_STEPS:
            if ratio >= threshold:
                factors.append(Factor(
                    f"Volume spike: {facts.volume:,} messages against a usual "
                    f"{facts.usual_volume:,} a day ({ratio:.1f}x)", "spam", points,
                    "Gmail sender guidelines: raise volume slowly; a sudden spike is "
                    "rate-limited and filtered"))
                break
    return factors


def _tab_factors(message: Message, kind: str) -> list[Factor]:
    factors = []
    if kind in KIND_TAB_POINTS:
        factors.append(Factor(f"{kind.capitalize()} content", "promotions",
                              KIND_TAB_POINTS[kind], "Gmail's tabs: promotions apart, "
                              "receipts and notices in primary"))
    listed = bool(message.list_id or message.is_bulk or message.list_unsubscribe)
    if listed:
        factors.append(Factor("Mailing-list headers (List-Id, List-Unsubscribe, bulk)",
                              "promotions", LIST_HEADER_TAB_POINTS, "Gmail's tabs"))
    if message.link_count >= BULK_LINK_COUNT:
        factors.append(Factor(f"{message.link_count} links", "promotions",
                              MANY_LINKS_TAB_POINTS, "Gmail's tabs"))
    if message.image_count >= MANY_IMAGES:
        factors.append(Factor(f"{message.image_count} images", "promotions",
                              MANY_IMAGES_TAB_POINTS, "Gmail's tabs"))
    if kind not in KIND_TAB_POINTS:
        if not listed and message.link_count < BULK_LINK_COUNT and not message.image_count:
            factors.append(Factor("Written like personal mail (no list headers, few links)",
                                  "promotions", PERSONAL_TAB_POINTS, "Gmail's tabs"))
        else:
            factors.append(Factor("Newsletter content", "promotions", EDITORIAL_TAB_POINTS,
                                  "Gmail's tabs: subscribed content"))
    return factors

