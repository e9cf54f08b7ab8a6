"""The verdict a sender acts on: the changes that would get a campaign into more inboxes,
ranked by what each gains, every gain measured by forecasting again with the change made.

A change is applied to the message itself where it can be (headers added, a text part
written, shortened links spelled out, a subject in sentence case), then the message is
checked (`lint_message`) and placed (`placement.forecast`) again: the gain is the
difference in the share expected to reach the inbox, in percentage points. Where a change
is not in the message (publishing a DMARC record, bringing complaints down, spreading a
volume spike), the forecast is made again without the finding or with the better fact.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from email import message_from_bytes, policy
from email.utils import formatdate, make_msgid

from ..core.features import SHORTENERS, registrable
from ..core.message import parse
from .lint import Finding, lint_message
from .placement import SenderFacts, forecast

MIN_GAIN = 0.0005  # changes that move the inbox share by less are not worth listing
COMPLAINT_GOAL = 0.0005  # a healthy list's complaint rate, well under 0.08%
_URL = re.compile(r"https?://([^/\s\"'<>?#]+)[^\s\"'<>]*", re.I)
_IP_HOST = re.compile(r"^\d{1,3}(\.\d{1,3}){3}(:\d+)?$|^\[")


@dataclass(frozen=True)
class Change:
    """One change a sender can make, and what it does to the forecast."""

    action: str  # what to do, in plain words
    gain: float  # inbox share after minus before (0.12: twelve percentage points)
    inbox_after: float
    spam_after: float
    fixes: tuple[str, ...]  # the finding codes it clears

    def to_dict(self) -> dict:
        return asdict(self)


def _headers_changed(raw: bytes, changes: dict[str, str]) -> bytes:
    tree = message_from_bytes(raw, policy=policy.default)
    for name, value in changes.items():
        del tree[name]
        tree[name] = value
    return bytes(tree)


def _domain(raw: bytes) -> str:
    return parse(raw).from_domain or "example.com"


def _add_one_click(raw: bytes) -> bytes:
    message = parse(raw)
    https = [uri for uri in message.list_unsubscribe if uri.lower().startswith("https://")]
    uris = https or [f"https://{message.from_domain or 'example.com'}/unsubscribe"]
    others = [uri for uri in message.list_unsubscribe if uri not in uris]
    return _headers_changed(raw, {
        "List-Unsubscribe": ", ".join(f"<{uri}>" for uri in [*uris, *others]),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})


def _sign_aligned(raw: bytes) -> bytes:
    return _headers_changed(raw, {"DKIM-Signature": f"v=1; a=rsa-sha256; d={_domain(raw)}; "
                                                    "s=mail; h=from:to:subject:date; bh=; b="})


def _add_text_part(raw: bytes) -> bytes:
    """The HTML part turned into multipart/alternative with its text first."""
    from email.message import EmailMessage

    from ..core.htmltext import html_to_text

    tree = message_from_bytes(raw, policy=policy.default)
    html_part = tree.get_body(preferencelist=("html",))
    if html_part is None or tree.get_body(preferencelist=("plain",)) is not None:
        return raw
    text = EmailMessage()
    text.set_content(html_to_text(html_part.get_content()))
    html_part.make_alternative()
    parts = html_part.get_payload()
    assert isinstance(parts, list)  # a multipart/alternative now, holding the HTML
    parts.insert(0, text)
    return bytes(tree)


def _rewrite_links(raw: bytes, wanted: Callable[[str], bool]) -> bytes:
    """Each link whose host `wanted` picks written out on the sender's own domain."""
    domain = _domain(raw)
    tree = message_from_bytes(raw, policy=policy.default)

    def rewrite(text: str) -> str:
        return _URL.sub(lambda m: f"https://{domain}/go" if wanted(m[1].lower()) else m[0], text)

    for part in tree.walk():
        if part.get_content_type() in ("text/plain", "text/html") and not part.is_multipart():
            subtype = part.get_content_subtype()
            part.set_content(rewrite(part.get_content()), subtype=subtype)
    return bytes(tree)


def _sentence_case_subject(raw: bytes) -> bytes:
    subject = parse(raw).subject
    letters = [c for c in subject if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) / len(letters) >= 0.7:
        subject = subject.capitalize()
    head, mark, _ = subject.partition("!")
    subject = (head + mark + subject[len(head) + 1:].replace("!", "")).strip()
    return _headers_changed(raw, {"Subject": subject})


def _add_required_headers(raw: bytes) -> bytes:
    message = parse(raw)
    changes = {}
    if not message.message_id:
        changes["Message-ID"] = make_msgid(domain=message.from_domain or None)
    if message.date is None:
        changes["Date"] = formatdate(localtime=False)
    return _headers_changed(raw, changes) if changes else raw


# (what to do, the codes it clears, how it changes the message)
MESSAGE_FIXES: tuple[tuple[str, tuple[str, ...], Callable[[bytes], bytes]], ...] = (
    ("Add a one-click unsubscribe (List-Unsubscribe with an https URI and "
     "List-Unsubscribe-Post, RFC 8058)",
     ("list-unsubscribe-missing", "one-click-unsubscribe-missing", "list-unsubscribe-no-https"),
     _add_one_click),
    ("Sign with DKIM as your own From domain", ("dkim-missing", "dkim-not-aligned"),
     _sign_aligned),
    ("Add a Message-ID and a Date header", ("message-id-missing", "date-missing"),
     _add_required_headers),
    ("Spell out shortened links on your own domain", ("link-shortener",),
     lambda raw: _rewrite_links(raw, lambda host: registrable(host) in SHORTENERS)),
    ("Link to host names on your domain, not bare IP addresses", ("link-ip-address",),
     lambda raw: _rewrite_links(raw, lambda host: bool(_IP_HOST.match(host)))),
    ("Add a text/plain part beside the HTML", ("text-plain-missing",), _add_text_part),
    ("Write the subject in sentence case, one exclamation mark at most",
     ("subject-shouting", "subject-exclamations"), _sentence_case_subject),
)
# Findings outside the message: fixed by publishing DNS records.
DNS_FIXES: dict[str, str] = {
    "spf-record-missing": "Publish an SPF record for your From domain",
    "spf-record-multiple": "Merge your SPF records into one",
    "spf-record-pass-all": "End your SPF record in -all or ~all",
    "dmarc-record-missing": "Publish a DMARC record (p=none is enough to start)",
}


def ranked_changes(raw: bytes, findings: Sequence[Finding], facts: SenderFacts,
                   dns_findings: Sequence[Finding] = ()) -> list[Change]:
    """The changes that raise the inbox share, best first, each forecast again."""
    message = parse(raw)
    before = forecast(message, [*findings, *dns_findings], facts)
    present = {f.code for f in [*findings, *dns_findings]}
    changes: list[Change] = []

    def measure(action: str, codes: Sequence[str], after) -> None:
        gain = after.inbox - before.inbox
        if gain >= MIN_GAIN:
            changes.append(Change(action, gain, after.inbox, after.spam, tuple(codes)))

    for action, codes, apply in MESSAGE_FIXES:
        cleared = [code for code in codes if code in present]
        if not cleared:
            continue
        try:
            fixed = apply(raw)
        except Exception:  # noqa: BLE001 - a message the fix cannot rewrite: no gain shown
            continue
        measure(action, cleared, forecast(parse(fixed), [*lint_message(fixed), *dns_findings],
                                          facts))
    for code, action in DNS_FIXES.items():
        if code in present:
            measure(action, [code], forecast(message, [*findings, *(
                f for f in dns_findings if f.code != code)], facts))
    if facts.complaint_rate is not None and facts.complaint_rate > COMPLAINT_GOAL:
        measure(f"Bring spam complaints under 0.08% (now {facts.complaint_rate:.2%}): mail "
                "only people who engaged lately, make leaving easy", [],
                forecast(message, [*findings, *dns_findings],
                         replace(facts, complaint_rate=COMPLAINT_GOAL)))
    if facts.usual_volume and facts.volume and facts.volume >= 2 * facts.usual_volume:
        measure("Spread the send over several days, ramping up from your usual volume", [],
                forecast(message, [*findings, *dns_findings], replace(facts, volume=None)))
    return sorted(changes, key=lambda change: change.gain, reverse=True)
