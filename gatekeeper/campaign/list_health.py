"""The list's health send by send: who leaves, who reports spam, who has gone quiet.

Mailbox providers hold bulk senders to their spam-complaint rate (reports over delivered
mail): Gmail's postmaster guidance says it starts to hurt from about 0.08%, more than 0.2%
is high, and 0.3% is the published ceiling of Gmail's and Yahoo's 2024 bulk-sender rules.
They also recycle addresses nobody has used for a long time into spam traps, so people
who have not engaged for 12 months are a risk of their own.

The model, with its assumptions named. Complaints are counted at the provider, over all
its users, not only readers with a gatekeeper like ours: a recipient finds the mail in
the inbox with the forecast's chance (primary or promotions); one who does not want it
gives up on it with their persona's dis-engagement speed; `ACT_SHARE` of those do
something about the sender, either unsubscribing or reporting spam. How many report rather than leave
depends on how easy leaving is (`COMPLAINT_SHARE`): with a one-click unsubscribe in the
mail client few report, with only a link in the body more do, with no way out most do
(the reason providers require one-click). These shares are assumptions stated here, not
measurements; the thresholds they are checked against are the providers' own. Those who
left or reported are not mailed again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.message import Message

ACT_SHARE = 0.01  # of recipients deleting unwanted mail unread, those who act on the sender
COMPLAINT_SHARE = {"one-click": 0.15, "link": 0.4, "none": 0.9}  # of those, who report spam
COMPLAINT_LEVELS = ((0.003, "over the 0.3% ceiling"), (0.002, "high (over 0.2%)"),
                    (0.0008, "hurting (over 0.08%)"))
DORMANT_DAYS = 365  # no engagement for this long: providers may recycle the address
SECONDS_PER_DAY = 86_400.0


def unsubscribe_kind(message: Message) -> str:
    """How easy leaving is: "one-click" (RFC 8058), "link" (a header or body link), "none"."""
    one_click = "".join(message.list_unsubscribe_post.split()).lower() == \
        "list-unsubscribe=one-click"
    if one_click and any(u.lower().startswith("https://") for u in message.list_unsubscribe):
        return "one-click"
    if message.list_unsubscribe or "unsubscribe" in message.text.lower():
        return "link"
    return "none"


def complaint_level(rate: float) -> str:
    """The rate in the providers' words: "ok", or how far over which threshold."""
    return next((words for threshold, words in COMPLAINT_LEVELS if rate >= threshold), "ok")


@dataclass
class SendHealth:
    """One send's effect on the list."""

    mailed: int  # recipients still on the list when it went out
    complaints: int
    unsubscribes: int
    dormant: int  # mailed recipients with no engagement for DORMANT_DAYS

    @property
    def complaint_rate(self) -> float:
        return self.complaints / self.mailed if self.mailed else 0.0

    @property
    def unsubscribe_rate(self) -> float:
        return self.unsubscribes / self.mailed if self.mailed else 0.0

    def to_dict(self) -> dict:
        return {"mailed": self.mailed, "complaint_rate": self.complaint_rate,
                "complaint_level": complaint_level(self.complaint_rate),
                "unsubscribe_rate": self.unsubscribe_rate,
                "dormant_share": self.dormant / self.mailed if self.mailed else 0.0}


class ListHealth:
    """Who is still on the list and when each last engaged, over a series."""

    def __init__(self, size: int, message: Message, start: float, seed: int,
                 days_since_engaged: np.ndarray | None = None) -> None:
        self.subscribed = np.ones(size, bool)
        # When each recipient last engaged; by default they all just did (a fresh list).
        ago = np.zeros(size) if days_since_engaged is None else days_since_engaged
        self.last_engaged = start - ago * SECONDS_PER_DAY
        self.complaint_share = COMPLAINT_SHARE[unsubscribe_kind(message)]
        self.rng = np.random.default_rng([seed, 18])  # apart from the readers' own draws

    def send(self, now: float, inbox: float, want: np.ndarray,
             disengage: np.ndarray) -> SendHealth:
        """Count one send that reaches the inbox with chance `inbox`, wanted by each
        recipient with chance `want`, given up on (when unwanted) with chance `disengage`."""
        mailed = self.subscribed.copy()
        dormant = mailed & (now - self.last_engaged >= DORMANT_DAYS * SECONDS_PER_DAY)
        draws = self.rng.random((5, len(mailed)))
        seen = mailed & (draws[0] < inbox)
        wanted = draws[1] < want
        acting = seen & ~wanted & (draws[2] < disengage) & (draws[3] < ACT_SHARE)
        complains = acting & (draws[4] < self.complaint_share)
        engaged = seen & wanted
        self.subscribed &= ~acting
        self.last_engaged[mailed & engaged] = now
        return SendHealth(int(mailed.sum()), int(complains.sum()),
                          int((acting & ~complains).sum()), int(dormant.sum()))
