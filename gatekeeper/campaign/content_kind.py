"""What kind of mail a message is, as mailbox providers sort it: transactional, promotional
or editorial.

Gmail's and Yahoo's 2024 bulk-sender rules hold promotional and subscribed mail to more
(one-click unsubscribe, a complaint ceiling) than transactional mail (receipts, password
resets, account notices), which people expect and which has no list to leave; Gmail's
tabs put promotions apart from the primary inbox. So the deliverability checks and the
placement model both ask what a message is. The answer is read from its words: phrases a
receipt or an account notice uses against phrases a sale uses, the subject counting
double. Neither list is learned from real mail: they are the wording of the mail kinds
providers name, written out, and `tests/test_placement.py` holds examples of each.
"""

from __future__ import annotations

import re

TRANSACTIONAL = "transactional"
PROMOTIONAL = "promotional"
EDITORIAL = "editorial"  # newsletters, digests, announcements: subscribed content
KINDS = (TRANSACTIONAL, PROMOTIONAL, EDITORIAL)
MIN_CUES = 2  # a kind needs at least this many cue points (the subject's count double)

_TRANSACTIONAL_CUES = re.compile(r"\b(" + "|".join([
    r"receipt", r"invoice", r"order (?:number|no\.?|#|confirm\w*|has shipped|is on its way)",
    r"your order", r"order #?\d+", r"payment (?:received|confirm\w*|failed|due)",
    r"(?:booking|reservation|appointment) (?:confirm\w*|reference|details|reminder)",
    r"your (?:booking|reservation|appointment|statement|bill|subscription renewal)",
    r"confirm(?:ation)? (?:code|number)", r"verification code", r"verify your (?:email|account)",
    r"one-time (?:code|password|passcode)", r"password reset", r"reset your password",
    r"sign-?in (?:attempt|alert|code)", r"new sign-?in", r"security alert",
    r"two-factor", r"your account (?:has|was|is)", r"tracking number", r"has (?:been )?shipped",
    r"out for delivery", r"delivery (?:update|confirm\w*)", r"statement is (?:ready|available)",
    r"ticket(?:s)? (?:for|confirm\w*)", r"amount (?:paid|due)", r"refund(?:ed)?",
]) + r")\b", re.I)
_PROMOTIONAL_CUES = re.compile(r"(\b\d{1,2}\s?% off\b|\bsave (?:up to )?\d|\b(?:" + "|".join([
    r"sale", r"discount\w*", r"coupon", r"promo(?:tion)? code", r"voucher", r"deals?",
    r"special offer", r"limited[- ]time", r"ends? (?:tonight|today|soon|sunday|midnight)",
    r"last chance", r"don'?t miss", r"shop now", r"buy now", r"order now", r"book now",
    r"free (?:shipping|delivery|gift|trial)", r"clearance", r"black friday", r"cyber monday",
    r"exclusive (?:offer|access|deal)", r"while stocks? last", r"hurry", r"bestsellers?",
    r"new arrivals", r"members?-only (?:price|rate|sale)s?", r"flash sale", r"bogo",
    r"donate(?: now| today)?", r"give (?:today|now)", r"match(?:ed|ing)? gift",
]) + r")\b)", re.I)


def cue_points(subject: str, text: str) -> tuple[int, int]:
    """(transactional, promotional) cue points; the subject's cues count double."""
    def points(pattern: re.Pattern) -> int:
        return 2 * len(pattern.findall(subject)) + len(pattern.findall(text))

    return points(_TRANSACTIONAL_CUES), points(_PROMOTIONAL_CUES)


def content_kind(subject: str, text: str) -> str:
    """TRANSACTIONAL, PROMOTIONAL or EDITORIAL for a message with this subject and text."""
    transactional, promotional = cue_points(subject, text)
    if transactional >= MIN_CUES and transactional > promotional:
        return TRANSACTIONAL
    if promotional >= MIN_CUES:
        return PROMOTIONAL
    return EDITORIAL
