"""The demo's reader: who they are, what they say they want, and how they treat their mail.

`Behaviour` models what the reader does in their mail client, both with the earlier weeks
of mail (which leaves the flags and folders `gatekeeper train` reads) and with what the
gatekeeper does to new mail (reading, replying, flagging, deleting, junking, rescuing
from the held folder). It is imperfect on purpose, as people are: the reader now and then
opens junk, never gets round to some wanted mail, and skims the held folder.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from .cast import NEWSLETTER, PERSONAL, PHISHING, TRANSACTIONAL, WORK

if TYPE_CHECKING:
    from .inbox import DemoMail

# What the reader does to a message in the mail client.
READ, READ_LATER, REPLY, FLAG, DELETE, JUNK, RESCUE = (
    "read", "read later", "reply", "flag", "delete", "junk", "rescue")


@dataclass(frozen=True)
class Persona:
    """The reader, and the interests they state in plain words."""

    name: str
    address: str
    interests: tuple[str, ...]
    disinterests: tuple[str, ...]

    @property
    def first_name(self) -> str:
        return self.name.split()[0]

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


PERSONA = Persona(
    "Alex Morgan", "alex.morgan@fernmail.example",
    interests=("cycling, club rides and bike maintenance",
               "growing vegetables on my allotment",
               "spaceflight, rocket launches and astronomy",
               "data engineering, Python and databases"),
    disinterests=("shopping discounts, sales and coupon codes",
                  "cryptocurrency and investment tips",
                  "celebrity gossip"),
)


def _frozen(mapping: dict[str, float]) -> Mapping[str, float]:
    return MappingProxyType(mapping)


@dataclass(frozen=True)
class Behaviour:
    """How likely the reader is to do each thing with a message."""

    read_wanted: float = 0.93  # wanted mail opened at all
    read_soon: float = 0.8  # of that, opened the evening it came (else the next day)
    reply: Mapping[str, float] = field(
        default_factory=lambda: _frozen({PERSONAL: 0.4, WORK: 0.3}))
    flag: Mapping[str, float] = field(
        default_factory=lambda: _frozen({WORK: 0.12, TRANSACTIONAL: 0.15, PERSONAL: 0.05,
                                         NEWSLETTER: 0.04}))
    open_unwanted: float = 0.05  # unwanted mail opened anyway: noise in what it teaches
    delete_unwanted: float = 0.6  # unwanted mail deleted unread; the rest is left unread
    junk_phishing: float = 0.7  # phishing reported as junk; the rest deleted unread
    review_every_days: int = 2  # how often the reader looks at the held folder
    rescue_wanted: float = 0.7  # at a look, a wanted held message is moved back
    delete_held: float = 0.5  # at a look, an unwanted held message is deleted

    def on_arrival(self, mail: DemoMail, rng: random.Random) -> tuple[str, ...]:
        """What the reader does with a message that reached the inbox (nothing: ())."""
        if mail.wanted:
            if rng.random() >= self.read_wanted:
                return ()
            actions = [READ if rng.random() < self.read_soon else READ_LATER]
            if rng.random() < self.reply.get(mail.kind, 0.0):
                actions.append(REPLY)
            if rng.random() < self.flag.get(mail.kind, 0.0):
                actions.append(FLAG)
            return tuple(actions)
        if mail.kind == PHISHING:
            return (JUNK,) if rng.random() < self.junk_phishing else (DELETE,)
        draw = rng.random()
        if draw < self.open_unwanted:
            return (READ,)
        return (DELETE,) if draw < self.open_unwanted + self.delete_unwanted else ()

    def on_review(self, mail: DemoMail, rng: random.Random) -> str | None:
        """What the reader does with a held message on a look at the held folder."""
        if mail.wanted:
            return RESCUE if rng.random() < self.rescue_wanted else None
        return DELETE if rng.random() < self.delete_held else None

    def looks_at_held(self, day: int) -> bool:
        """Whether the reader looks at the held folder on this day of the new mail."""
        return day % self.review_every_days == self.review_every_days - 1
