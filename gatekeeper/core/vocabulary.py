"""The words gatekeeper stores and reads back: verdict actions, modes, the reader's behaviours.

Each is a `StrEnum`, so a member is the very string written to the database, the config
and the brain's checkpoint ("hold", "shadow", "read_soon"), and reading those back needs
no translation. A behaviour carries its meaning with it: what it says about the reader's
engagement, whether it threw the mail away, and the message flag that shows it.
"""

from __future__ import annotations

from enum import StrEnum

# The system flags every mailbox backend speaks (IMAP's names; Maildir maps its letters).
SEEN, ANSWERED, FLAGGED, DELETED = "\\Seen", "\\Answered", "\\Flagged", "\\Deleted"


class VerdictAction(StrEnum):
    """What a verdict does with a message."""

    PASS = "pass"
    HOLD = "hold"
    DELETE = "delete"


class Mode(StrEnum):
    """How far gatekeeper acts on its verdicts."""

    SHADOW = "shadow"  # decide and record, touch nothing
    TAG = "tag"  # set a keyword on the message, move nothing
    ACTIVE = "active"  # move held and deleted mail


class Behaviour(StrEnum):
    """What the reader did with a message, and what that says.

    `positive` and `negative` are the engagement it shows (the sender memory's counts and
    the profile's example weight); `thrown_away` marks the ways of getting rid of mail;
    `flag` is the message flag whose setting shows it ("" when no flag does).
    """

    positive: float
    negative: float
    thrown_away: bool
    flag: str

    # Defaults only so that looking a member up by value, `Behaviour("read")`, type-checks:
    # every member below gives its weights.
    def __new__(cls, value: str, positive: float = 0.0, negative: float = 0.0,
                thrown_away: bool = False, flag: str = "") -> Behaviour:
        member = str.__new__(cls, value)
        member._value_ = value
        member.positive, member.negative = positive, negative
        member.thrown_away, member.flag = thrown_away, flag
        return member

    # The order is the sender memory's and the simulator's: keep it.
    DELIVERED = "delivered", 0.0, 0.0  # it arrived (counts the sender's mail)
    READ = "read", 1.0, 0.0
    READ_SOON = "read_soon", 1.5, 0.0  # read within hours of arriving
    REPLIED = "replied", 3.0, 0.0, False, ANSWERED
    FLAGGED = "flagged", 3.0, 0.0, False, FLAGGED
    RESCUED = "rescued", 3.0, 0.0  # passed from Held by the reader
    IGNORED = "ignored", 0.0, 0.5  # bulk mail left unread for days
    HELD = "held", 0.0, 0.0  # gatekeeper held it (counts the sender's held mail)
    DELETED_FROM_HELD = "deleted_from_held", 0.0, 1.0, True
    DELETED_UNREAD = "deleted_unread", 0.0, 2.0, True
    JUNKED = "junked", 0.0, 3.0, True
    MOVED_TO_HELD = "moved_to_held", 0.0, 3.0, True  # the reader held it by hand

    @classmethod
    def shown_by(cls, flags: frozenset[str]) -> list[Behaviour]:
        """The behaviours these flags show, strongest first (replied before flagged)."""
        return [behaviour for behaviour in cls if behaviour.flag and behaviour.flag in flags]


THROWN_AWAY = tuple(b for b in Behaviour if b.thrown_away)
# (positive, negative) by stored name: the weights as a table, for counting stored rows.
WEIGHTS = {b.value: (b.positive, b.negative) for b in Behaviour}
