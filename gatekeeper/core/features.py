"""The header and sender signals the profile reads beside the text.

Only features that mean the same next year: list and bulk markers, authentication
verdicts, links and images, the sender's history with this reader. Nothing from Received
lines, dates or hosts, which drift with time and overfit to the year they were learned in.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .message import Message
from .senders import KEY_KINDS, SenderMemory, sender_keys

VERDICT = {"pass": 1.0, "fail": -1.0, "softfail": -0.5, "permerror": -0.5, "temperror": 0.0}
SHORTENERS = frozenset({"bit.ly", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly",
                        "rebrand.ly", "cutt.ly", "shorturl.at", "t.ly"})
# Second-level labels under which countries register organisations (co.uk, com.au, ac.jp).
COUNTRY_SECOND_LEVEL = frozenset({"co", "com", "net", "org", "ac", "edu", "gov", "ne", "or",
                                  "go", "ltd", "plc", "nom", "gen", "asn", "id", "oz"})
_IP_HOST = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
# Subject prefixes: a reply's (Re, and AW, SV, Antw in other languages) and a forward's
# (Fwd, WG, TR), each perhaps counted ("Re[2]:"), and the list tags between them.
REPLY_WORDS, FORWARD_WORDS = ("re", "aw", "sv", "antw"), ("fwd", "fw", "wg", "tr")
_COUNTED = r"\s*(?:\[\d{1,6}\]|\(\d{1,6}\))?\s*:"
_SUBJECT_PREFIXES = re.compile(  # the whole run a subject starts with: "Re: [SAtalk] Fwd: "
    rf"^(?:\s*(?:(?:{'|'.join(REPLY_WORDS + FORWARD_WORDS)}){_COUNTED}|\[[^\]]{{0,60}}\]))+",
    re.IGNORECASE)
_REPLY_PREFIX = re.compile(rf"(?:^|[\s\]:])(?:{'|'.join(REPLY_WORDS)}){_COUNTED}", re.IGNORECASE)
# A thread's subject shorter than this ("Re: hi", "Re: lunch?") is shared by unrelated
# threads. A judgement, not tuned: 8 was the only value tried.
THREAD_SUBJECT_MIN_CHARS = 8
# The list and reply markers are scaled down: the bag of words reads the same markers as
# header tokens (h_list-id, h_list-unsubscribe, h_in-reply-to), and a dense duplicate at
# full scale lets the model lean on them far harder than their worth. On the SpamAssassin
# task, where the earlier mail's lists were mostly wanted, a logistic regression over the
# same blocks went from AUC 0.990 with the markers at full scale to 0.995 at a tenth.
MARKER_SCALE = 0.05


@dataclass(frozen=True)
class Signal:
    """One signal the profile reads from a message: its name, how it is read, and the
    scale it enters the profile at. Add a signal here, and only here."""

    name: str
    read: Callable[[Message], float]
    scale: float = 1.0


def _auth(part: str) -> Callable[[Message], float]:
    return lambda message: VERDICT.get(getattr(message.auth_results, part), 0.0)


def _dkim_aligned(message: Message) -> float:
    return float(any(same_organisation(message.from_domain, signer)
                     for signer in message.dkim_domains))


def _foreign_link_share(message: Message) -> float:
    hosts = message.link_domains
    foreign = sum(1 for host in hosts if not same_organisation(host, message.from_domain))
    return foreign / len(hosts) if hosts else 0.0


def _shortener_or_ip_link(message: Message) -> float:
    return float(any(h in SHORTENERS or _IP_HOST.match(h) for h in message.link_domains))


def _subject_shouting(message: Message) -> float:
    letters = [c for c in message.subject if c.isalpha()]
    return sum(c.isupper() for c in letters) / len(letters) if len(letters) >= 8 else 0.0


MESSAGE_SIGNALS = (
    Signal("bulk", lambda m: float(m.is_bulk), MARKER_SCALE),
    Signal("list_id", lambda m: float(bool(m.list_id)), MARKER_SCALE),
    Signal("unsubscribe", lambda m: float(bool(m.list_unsubscribe)), MARKER_SCALE),
    Signal("one_click_unsubscribe", lambda m: float(bool(m.list_unsubscribe_post)),
           MARKER_SCALE),
    Signal("reply", lambda m: float(bool(m.in_reply_to)), MARKER_SCALE),
    Signal("spf", _auth("spf")),
    Signal("dkim", _auth("dkim")),
    Signal("dmarc", _auth("dmarc")),
    Signal("dkim_aligned", _dkim_aligned),
    Signal("links", lambda m: math.log1p(m.link_count) / 3.0),
    Signal("foreign_link_share", _foreign_link_share),
    Signal("shortener_or_ip_link", _shortener_or_ip_link),
    Signal("images", lambda m: math.log1p(m.image_count) / 2.0),
    Signal("attachments", lambda m: float(bool(m.attachments))),
    Signal("html_only", lambda m: float(m.html and not m.has_text_plain)),
    Signal("subject_shouting", _subject_shouting),
    Signal("subject_exclamations", lambda m: min(m.subject.count("!"), 3) / 3.0),
)
# The trailing signals describe the sender's history with this reader: whether the reader
# writes to it, then `SenderMemory.features` (per key kind, in its order).
MEMORY_SIGNALS = ("engagement", "support", "trend")
MEMORY_SIGNAL_NAMES = tuple(f"{kind}_{signal}" for kind in KEY_KINDS for signal in MEMORY_SIGNALS)
HISTORY_SIGNAL_NAMES = ("correspondent", *MEMORY_SIGNAL_NAMES)
SIGNAL_NAMES = (*(signal.name for signal in MESSAGE_SIGNALS), *HISTORY_SIGNAL_NAMES)
HISTORY_SIGNALS = len(HISTORY_SIGNAL_NAMES)


def header_signals(message: Message) -> list[float]:
    """The message's own signals, `MESSAGE_SIGNALS` in order, each at its scale."""
    return [signal.scale * signal.read(message) for signal in MESSAGE_SIGNALS]


def message_keys(message: Message) -> list[str]:
    """The sender-memory keys of a message."""
    return sender_keys(message.from_address, message.from_domain, message.list_id,
                       thread_key(message))


def thread_key(message: Message) -> str:
    """The thread a reply belongs to, for the memory: a hash of its subject without reply
    prefixes and list tags, so "Re: Re: [list] Shuttle launch" is "shuttle launch" however
    it was quoted. "" for mail that is not a reply (a first message, a newsletter, spam
    with a new subject), and for a subject too short to tell threads apart.

    Replies only: a thread is a conversation the reader has seen before, and keying every
    subject would let one unrelated message with a common subject speak for another (a
    trial keying every subject gained no more). Measured on 20 Newsgroups' tuning world,
    all 11,314 posts, time split: prequential wanted posts held 33.8% -> 28.6%, unwanted
    left in the inbox 0.5% -> 0.4%, AUC 0.9865 -> 0.9889; the SpamAssassin task's tuning
    world was unchanged (its mail has few replies from other senders)."""
    subject = message.subject[:1000]
    prefixes = _SUBJECT_PREFIXES.match(subject)
    prefix = prefixes.group(0) if prefixes else ""
    if not (_REPLY_PREFIX.search(prefix) or message.in_reply_to or message.references):
        return ""
    core = " ".join(subject[len(prefix):].lower().split())
    if len(core) < THREAD_SUBJECT_MIN_CHARS:
        return ""
    return hashlib.sha256(core.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def same_organisation(domain: str, other: str) -> bool:
    """Relaxed DMARC alignment, with `registrable` standing in for the public-suffix list."""
    return bool(domain and other) and registrable(domain) == registrable(other)


def registrable(domain: str) -> str:
    """The organisation's domain: its last two labels, or three under a country's
    second-level domain (list.theregister.co.uk -> theregister.co.uk); a cheap stand-in
    for the public-suffix list."""
    labels = domain.lower().strip(".").split(".")
    country_second_level = len(labels) >= 3 and len(labels[-1]) == 2 and \
        labels[-2] in COUNTRY_SECOND_LEVEL
    return ".".join(labels[-3:] if country_second_level else labels[-2:])


def signals(message: Message, memory: SenderMemory | None, now: float) -> np.ndarray:
    """One row of SIGNAL_NAMES for a message, given what the sender memory knows."""
    sender = [0.0] * HISTORY_SIGNALS
    if memory is not None:
        sender = [float(memory.is_correspondent(message.from_address)),
                  *memory.features(message_keys(message), now)]
    return np.array(header_signals(message) + sender, dtype=np.float64)


def signal_matrix(messages: list[Message], memory: SenderMemory | None, now: float) -> np.ndarray:
    """SIGNAL_NAMES rows for many messages."""
    if not messages:
        return np.zeros((0, len(SIGNAL_NAMES)))
    return np.vstack([signals(m, memory, now) for m in messages])
