"""The demo's inbox, written by us: several weeks of realistic mail for one reader.

`generate_inbox` is deterministic for a seed. It builds real RFC 5322 messages with the
headers real mail carries (Message-ID, Date, Received, Authentication-Results and
DKIM-Signature; List-Id and one-click List-Unsubscribe on bulk mail; In-Reply-To and
References in threads; HTML parts with links and images) from the templates in `cast`.
Conversations are threads: colleagues reply to each other and to the reader, friends
answer what the reader sent (those messages of the reader are the Sent mail). Whether the
reader wants each message is kept beside it in `DemoMail.wanted`, never in the message.
"""

from __future__ import annotations

import base64
import random
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from html import escape

from ..testing import build_message

from .cast import (CAST, KIND_SHARES, PERSONAL, READER_STYLES, RECEIVING_HOST, STYLES, WORK,
                   Sender, Style)
from .persona import PERSONA
from .words import WORDS

CALENDAR_START = datetime(2026, 10, 12, tzinfo=timezone.utc)  # a Monday
CALENDAR_DAYS = 35
# Hours of the day mail of each kind arrives between (all before the evening look at 21:00).
HOURS = {WORK: (8.5, 18.0), PERSONAL: (7.0, 20.5)}
DEFAULT_HOURS = (6.0, 20.75)
THREAD_QUIET_DAYS = 6  # a conversation this long without a message is over
CONTINUES_THREAD = 0.55  # a colleague's or friend's message replies in an open thread
READER_ANSWERS = 0.4  # before such a reply, the reader wrote in the thread
READER_STARTS = {PERSONAL: 0.35, WORK: 0.15}  # a new thread answers the reader's message
SENT = "sent"  # the kind of the reader's own messages


@dataclass(frozen=True)
class DemoMail:
    """One message of the demo mailbox, with the reader's truth about it beside it."""

    message_id: str  # without angle brackets
    when: datetime
    kind: str  # a cast kind, or SENT for the reader's own mail
    sender: str  # "Name <address>"
    subject: str
    wanted: bool  # what the reader wants: never written into the message
    raw: bytes


@dataclass
class DemoInbox:
    """The generated mail, oldest first."""

    received: list[DemoMail]
    sent: list[DemoMail]  # written by the reader: threads the cast answers


@dataclass
class _Thread:
    subject: str
    people: list[Sender]
    message_ids: list[str] = field(default_factory=list)
    last: datetime = CALENDAR_START


def generate_inbox(messages: int = 400, seed: int = 1, start: datetime = CALENDAR_START,
                   days: int = CALENDAR_DAYS) -> DemoInbox:
    """That many received messages over `days` days from `start`, and the reader's Sent mail."""
    return _Writer(random.Random(seed), start, days).write(messages)


def kind_quotas(count: int) -> dict[str, int]:
    """How many messages of each kind make `count`, as close to KIND_SHARES as whole numbers go."""
    exact = {kind: share * count for kind, share in KIND_SHARES.items()}
    quotas = {kind: int(value) for kind, value in exact.items()}
    by_remainder = sorted(exact, key=lambda kind: quotas[kind] - exact[kind])
    for kind in by_remainder[:count - sum(quotas.values())]:
        quotas[kind] += 1
    return quotas


class _Writer:
    """Writes one inbox; holds the random source and the open conversations."""

    def __init__(self, rng: random.Random, start: datetime, days: int) -> None:
        self.rng = rng
        self.start = start
        self.days = days
        self.threads: list[_Thread] = []
        self.received: list[DemoMail] = []
        self.sent: list[DemoMail] = []

    def write(self, count: int) -> DemoInbox:
        for when, kind in sorted(self._arrivals(count)):
            sender = self._choose_sender(kind, when)
            if kind in (PERSONAL, WORK):
                self._converse(sender, when)
            else:
                self._receive(sender, when, *self._compose(STYLES[sender.style], sender, when))
        self.sent.sort(key=lambda mail: mail.when)
        return DemoInbox(self.received, self.sent)

    # -- when and who ------------------------------------------------------------------
    def _arrivals(self, count: int) -> list[tuple[datetime, str]]:
        arrivals = []
        for kind, quota in kind_quotas(count).items():
            arrivals += [(self._arrival(kind), kind) for _ in range(quota)]
        return arrivals

    def _arrival(self, kind: str) -> datetime:
        days = list(range(self.days))
        if kind == WORK:  # colleagues write on weekdays
            days = [d for d in days if (self.start + timedelta(days=d)).weekday() < 5]
        low, high = HOURS.get(kind, DEFAULT_HOURS)
        hour = self.rng.uniform(low, high)
        return self.start + timedelta(days=self.rng.choice(days), hours=hour,
                                      seconds=self.rng.randrange(60))

    def _choose_sender(self, kind: str, when: datetime) -> Sender:
        day = (when - self.start).days
        senders = [s for s in CAST if s.kind == kind and s.since_day <= day]
        return self.rng.choices(senders, weights=[s.weight for s in senders])[0]

    # -- conversations -----------------------------------------------------------------
    def _converse(self, sender: Sender, when: datetime) -> None:
        """A message in a conversation: a reply in an open thread (perhaps after the reader
        answered in it), an answer to something the reader sent, or a new thread."""
        thread = self._open_thread(sender, when)
        if thread is not None and self.rng.random() < READER_ANSWERS:
            to = thread.people[0]
            self._reader_writes(thread, thread.last + (when - thread.last) / 2,
                                self._fill(READER_STYLES[to.kind].replies, to, when))
        elif thread is None and self.rng.random() < READER_STARTS[sender.kind]:
            subject, body = self._compose(READER_STYLES[sender.kind], sender, when)
            thread = self._start_thread(subject, sender)
            self._reader_writes(thread, self._earlier(when), body)
        if thread is None:
            subject, body = self._compose(STYLES[sender.style], sender, when)
            self._add_to_thread(self._start_thread(subject, sender), sender, when, body)
        else:
            style = STYLES[sender.style]
            self._add_to_thread(thread, sender, when,
                                self._fill(style.replies or style.bodies, sender, when))

    def _open_thread(self, sender: Sender, when: datetime) -> _Thread | None:
        """Now and then, a recent thread the sender is in (a colleague may join any work
        thread)."""
        recent = [t for t in self.threads if when - t.last < timedelta(days=THREAD_QUIET_DAYS)
                  and (sender in t.people or sender.kind == WORK == t.people[0].kind)]
        if recent and self.rng.random() < CONTINUES_THREAD:
            return self.rng.choice(recent)
        return None

    def _start_thread(self, subject: str, sender: Sender) -> _Thread:
        thread = _Thread(subject, [sender])
        self.threads.append(thread)
        return thread

    def _earlier(self, when: datetime) -> datetime:
        """A waking hour before `when` (on its day or the day before), not before the start."""
        day = when - timedelta(days=self.rng.randint(0, 1))
        earlier = day.replace(hour=self.rng.randint(7, 21), minute=self.rng.randrange(60))
        return max(min(earlier, when - timedelta(hours=1)), self.start)

    def _add_to_thread(self, thread: _Thread, sender: Sender, when: datetime, body: str) -> None:
        if sender not in thread.people:
            thread.people.append(sender)
        subject = f"Re: {thread.subject}" if thread.message_ids else thread.subject
        cc = [p for p in thread.people if p is not sender and p.kind == WORK]
        mail = self._receive(sender, when, subject, body, thread=thread, cc=cc)
        thread.message_ids.append(mail.message_id)
        thread.last = when

    def _reader_writes(self, thread: _Thread, when: datetime, body: str) -> None:
        to = thread.people[0]
        subject = f"Re: {thread.subject}" if thread.message_ids else thread.subject
        message_id = self._message_id(PERSONA.domain)
        sender = formataddr((PERSONA.name, PERSONA.address))
        raw = build_message(sender=sender, to=formataddr((to.name, to.address)), subject=subject,
                            body=body, date=when, message_id=f"<{message_id}>",
                            headers=self._thread_headers(thread))
        self.sent.append(DemoMail(message_id, when, SENT, sender, subject, True, raw))
        thread.message_ids.append(message_id)
        thread.last = when

    # -- one received message ------------------------------------------------------------
    def _receive(self, sender: Sender, when: datetime, subject: str, body: str,
                 thread: _Thread | None = None, cc: Sequence[Sender] = ()) -> DemoMail:
        style = STYLES[sender.style]
        message = EmailMessage()
        message_id = self._message_id(sender.domain)
        message["Received"] = self._received_line(sender, when)
        message["Authentication-Results"] = self._auth_results(sender)
        if not sender.forged:
            message["DKIM-Signature"] = self._dkim_signature(sender)
        message["From"] = formataddr((sender.name, sender.address))
        message["To"] = formataddr((PERSONA.name, PERSONA.address))
        if cc:
            message["Cc"] = ", ".join(formataddr((p.name, p.address)) for p in cc)
        message["Subject"] = subject
        message["Date"] = format_datetime(when)
        message["Message-ID"] = f"<{message_id}>"
        for name, value in (self._thread_headers(thread) if thread else {}).items():
            message[name] = value
        if sender.bulk:
            self._list_headers(message, sender)
        if sender.forged and self.rng.random() < 0.5:
            message["Reply-To"] = f"{self._token(8).lower()}@mailbox-help.example"
        self._set_body(message, style, sender, subject, body)
        mail = DemoMail(message_id, when, sender.kind, message["From"], subject, sender.wanted,
                        bytes(message))
        self.received.append(mail)
        return mail

    def _set_body(self, message: EmailMessage, style: Style, sender: Sender, subject: str,
                  body: str) -> None:
        links = self._links(style, sender)
        text = body.replace("{link}", links[0])
        if not style.html:
            message.set_content(text)
            return
        html = _html(sender, subject, text, links, self._token(10).lower())
        if style.html_only:
            message.set_content(html, subtype="html")
        else:
            message.set_content(text + f"\n\nView online: {links[0]}\n")
            message.add_alternative(html, subtype="html")
            # The email package draws boundaries from the global random source.
            message.set_boundary(f"=_{self._token(24)}")

    def _links(self, style: Style, sender: Sender) -> list[str]:
        if style.link_hosts:
            return [f"http://{self.rng.choice(style.link_hosts)}/{self._token(7)}"]
        paths = ("read", "story", "offer", "view", "article")
        return [f"https://{sender.domain}/{self.rng.choice(paths)}/{self._token(8).lower()}"
                for _ in range(self.rng.randint(2, 5))]

    # -- headers ---------------------------------------------------------------------------
    @staticmethod
    def _thread_headers(thread: _Thread) -> dict[str, str]:
        if not thread.message_ids:
            return {}
        return {"In-Reply-To": f"<{thread.message_ids[-1]}>",
                "References": " ".join(f"<{m}>" for m in thread.message_ids[-8:])}

    def _list_headers(self, message: EmailMessage, sender: Sender) -> None:
        local = sender.address.partition("@")[0]
        message["List-Id"] = f"{sender.name} <{local}.{sender.domain}>"
        message["List-Unsubscribe"] = (f"<https://{sender.domain}/unsubscribe/{self._token(16)}>, "
                                       f"<mailto:unsubscribe@{sender.domain}>")
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message["Precedence"] = "bulk"

    def _received_line(self, sender: Sender, when: datetime) -> str:
        network = self.rng.choice(("192.0.2", "198.51.100", "203.0.113"))  # documentation ranges
        address = f"{network}.{self.rng.randint(2, 250)}"
        return (f"from mail.{sender.domain} (mail.{sender.domain} [{address}]) by {RECEIVING_HOST} "
                f"with ESMTPS id {self._token(12)}; {format_datetime(when)}")

    def _auth_results(self, sender: Sender) -> str:
        domain = sender.domain
        if not sender.forged:
            return (f"{RECEIVING_HOST}; dkim=pass header.d={domain} header.s=mail; "
                    f"spf=pass smtp.mailfrom={domain}; dmarc=pass header.from={domain}")
        if sender.style == "boss_phish":  # a lookalike domain of its own: SPF passes, no more
            return (f"{RECEIVING_HOST}; dkim=none; spf=pass smtp.mailfrom={domain}; "
                    f"dmarc=none header.from={domain}")
        spf = self.rng.choice(("fail", "softfail"))
        dkim = self.rng.choice(("none", "fail"))
        return (f"{RECEIVING_HOST}; dkim={dkim} header.d={domain}; spf={spf} "
                f"smtp.mailfrom={domain}; dmarc=fail header.from={domain}")

    def _dkim_signature(self, sender: Sender) -> str:
        digest = base64.b64encode(self.rng.randbytes(32)).decode()
        signature = base64.b64encode(self.rng.randbytes(96)).decode()
        # Spaces inside b= are allowed (and ignored) and let the header fold without
        # being encoded.
        folded = " ".join(signature[i:i + 64] for i in range(0, len(signature), 64))
        return (f"v=1; a=rsa-sha256; c=relaxed/relaxed; d={sender.domain}; s=mail; "
                f"h=from:to:subject:date:message-id; bh={digest}; b={folded}")

    # -- text ------------------------------------------------------------------------------
    def _compose(self, style: Style, sender: Sender, when: datetime) -> tuple[str, str]:
        """A subject and a body from a style, their slots filled alike."""
        index = self.rng.randrange(len(style.subjects))
        body = style.bodies[index] if style.paired else self.rng.choice(style.bodies)
        slots = self._slots(sender, when)
        subject = style.subjects[index].format_map(slots)
        return subject[0].upper() + subject[1:], body.format_map(slots)

    def _fill(self, templates: tuple[str, ...], sender: Sender, when: datetime) -> str:
        return self.rng.choice(templates).format_map(self._slots(sender, when))

    def _slots(self, sender: Sender, when: datetime) -> _Slots:
        return _Slots(self.rng, first=sender.first_name, reader=PERSONA.first_name,
                      reader_full=PERSONA.name, month=when.strftime("%B"), link="{link}")

    def _message_id(self, domain: str) -> str:
        return f"{self._token(16).lower()}.{self.rng.randrange(10**6):06d}@{domain}"

    def _token(self, length: int) -> str:
        return "".join(self.rng.choices(string.ascii_letters + string.digits, k=length))


class _Slots(dict):
    """Slot values for one message: given ones, else drawn from WORDS on first use (in
    the order the templates name them, so the same seed gives the same message)."""

    def __init__(self, rng: random.Random, **given: str) -> None:
        super().__init__(given)
        self.rng = rng

    def __missing__(self, name: str) -> str:
        self[name] = self.rng.choice(WORDS[name])
        return self[name]


def _html(sender: Sender, subject: str, text: str, links: list[str], image: str) -> str:
    """An HTML version of a bulk message: its paragraphs, its links, a banner image."""
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in text.split("\n\n") if p.strip())
    anchors = "".join(f'<p><a href="{escape(url)}">{label}</a></p>' for url, label in
                      zip(links, ("Read more", "See the details", "Find out more", "Open",
                                  "Browse")))
    return (f"<html><body><img src=\"https://{sender.domain}/img/{image}.png\" alt=\"\" "
            f"width=\"600\"/><h1>{escape(subject)}</h1>{paragraphs}{anchors}"
            f"<p style=\"font-size:small\">You are receiving this from {escape(sender.name)}."
            f"</p></body></html>")
