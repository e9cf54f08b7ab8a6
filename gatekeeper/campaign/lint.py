"""Deliverability checks for a campaign message, before it is sent.

Mailbox providers judge a message in milliseconds, on things its sender controls: is it
signed by the domain in From, can it be left in one click, is it text or a poster of
images, do its links lead home or elsewhere, will it be cut off. Since 2024 Gmail and
Yahoo junk or reject bulk mail that is not DKIM-signed, has no DMARC record that its SPF
or DKIM domain aligns with, or has no RFC 8058 one-click unsubscribe; the other checks
are signals spam filters have scored for years. `lint_message` reads them in the message
alone, offline; `lint_dns` reads the From domain's SPF and DMARC records (it needs
dnspython and a network).

Each problem is a `Finding`: a stable code (all listed in `CHECKS`), a severity, a title
naming what was found and a one-line fix. Each rule is one declaration (`@rule(code,
severity, checks, fix)` on its function), so code, severity and fix cannot drift apart. "error" is what receivers reject or junk by
itself, "warning" what filters count against a message, "info" a missed chance.

The HTML is scanned with linear regular expressions, not `html.parser`: on CPython 3.11
that parser takes quadratic time on unclosed tags (48 KB of `<a ` took 20 s), and a
linter has to survive the broken markup it reports.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from email import message_from_bytes
from email.policy import compat32
from urllib.parse import urlsplit

from ..core.features import SHORTENERS, registrable, same_organisation
from ..core.htmltext import html_to_text, links_and_images, strip_comments
from ..core.message import BULK_PRECEDENCE, Message, decode_text, parse
from .content_kind import PROMOTIONAL, TRANSACTIONAL, content_kind

logger = logging.getLogger(__name__)

SEVERITIES = ("error", "warning", "info")  # most severe first
GMAIL_CLIP_BYTES = 102 * 1024  # Gmail shows "[Message clipped]" past this, hiding the footer
TEXT_CHARS_PER_IMAGE = 400  # less visible text per image reads as an image mailing
IMAGE_ONLY_TEXT_CHARS = 100  # less text than this beside images: the message is its images
MAX_LINKS = 50  # past what even long newsletters hold; a link farm to filters
MAX_FOREIGN_LINK_SHARE = 0.5  # more than half the links lead away from the From domain
BULK_LINK_COUNT = 10  # this many links make a message look like a mailing
PREVIEW_CHARS = 100  # what an inbox list shows of the body beside the subject
MIN_PREVIEW_CHARS = 30  # a shorter preview is empty or a stray fragment
SHOUTING_SHARE = 0.7  # capitals among a subject's letters
SHOUTING_MIN_LETTERS = 8  # shorter subjects ("FYI", "NASA") are not shouting
MAX_SUBJECT_EXCLAMATIONS = 1  # one is emphasis; more reads as a sales pitch
LINT_BODY_BYTES = 32 * 1024 * 1024  # read the whole campaign, not the gatekeeper's 64 KiB
FAILING_VERDICTS = frozenset({"fail", "softfail", "permerror"})
ONE_CLICK = "list-unsubscribe=one-click"  # RFC 8058's only List-Unsubscribe-Post value
# Inbox previews that waste the line readers see first on how to read the message.
BOILERPLATE_PREVIEWS = ("view in browser", "view in your browser", "view this email",
                        "view this e-mail", "view online", "view as a web page",
                        "view as webpage", "web version", "having trouble viewing",
                        "trouble viewing this", "can't see this email", "open in browser")
# Elements whose end tag HTML never implies: unclosed, they swallow the rest of the layout.
REQUIRED_END_TAGS = frozenset({"a", "b", "center", "div", "em", "font", "i", "span",
                               "strong", "table", "u"})

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)(>?)")  # empty group 4: cut off
_IMG_ATTRIBUTES = re.compile(r"<img\b([^<>]*)", re.I)
_ALT = re.compile(r"(?<![\w-])alt\s*=", re.I)
_REMOTE_SRC = re.compile(r"(?<![\w-])src\s*=\s*[\"']?\s*https?:", re.I)
_STYLE_ATTRIBUTE = re.compile(r"(?<![\w-])style\s*=", re.I)
_TEXT_URL = re.compile(r"https?://[^\s<>\"'()]+", re.I)


@dataclass(frozen=True)
class Finding:
    """One problem found in a message or its domain's DNS."""

    code: str  # stable kebab-case id, a key of CHECKS, e.g. "dkim-not-aligned"
    severity: str  # "error" | "warning" | "info"
    title: str  # one line: what is wrong, naming the domains or sizes found
    fix: str  # one line: how to fix it

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Campaign:
    """What the checks read: the parsed message, and what `Message` does not keep."""

    message: Message
    header_names: frozenset[str]  # lower case
    html: str  # the text/html parts' source, joined
    html_bytes: int  # their size, transfer encoding undone
    size: int  # of the raw message
    text: str  # what a reader sees: the HTML's visible text, else the plain text
    preview: str  # what an inbox shows beside the subject, whitespace folded
    markup: str  # the HTML without comments
    comment_unclosed: bool
    images: tuple[str, ...]  # the attributes of every <img>, as written
    link_hosts: tuple[str, ...]  # the host of every http(s) link, one per link
    kind: str  # content_kind: transactional, promotional or editorial


@dataclass(frozen=True)
class Rule:
    """One check: its code, severity, what it checks, its fix, and (for a message check)
    the function that runs it. Declared once, next to its function, by `rule`."""

    code: str
    severity: str
    checks: str  # what is checked, for reports
    fix: str  # a str.format template over the values the check passes
    check: Callable[[_Campaign], Iterable[Finding]] | None = None  # None: a DNS rule


RULES: dict[str, Rule] = {}  # by code, in declaration order


def rule(code: str, severity: str, checks: str, fix: str):
    """Declare a message check: the decorated function takes the campaign and returns
    None (nothing found), a title, or (title, values for the fix template)."""
    def register(function: Callable[[_Campaign], str | tuple[str, dict] | None]):
        def check(campaign: _Campaign) -> Iterator[Finding]:
            found = function(campaign)
            if found:
                title, values = found if isinstance(found, tuple) else (found, {})
                yield _finding(code, title, **values)

        check.__name__ = function.__name__
        _declare(Rule(code, severity, checks, fix, check))
        return function

    return register


def _declare(declared: Rule) -> None:
    if declared.code in RULES or declared.severity not in SEVERITIES:
        raise ValueError(f"lint rule {declared.code!r} declared twice or with an unknown "
                         f"severity {declared.severity!r}")
    RULES[declared.code] = declared


def dns_rule(code: str, severity: str, checks: str, fix: str) -> None:
    """Declare a rule that `lint_dns` reports (the DNS checks share their lookups)."""
    _declare(Rule(code, severity, checks, fix))


def _finding(code: str, title: str, **values: object) -> Finding:
    declared = RULES[code]
    return Finding(code, declared.severity, title, declared.fix.format(**values))


def _most_severe_first(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda finding: SEVERITIES.index(finding.severity))


def lint_message(raw: bytes, message: Message | None = None) -> list[Finding]:
    """The problems found in a message, most severe first; [] when none. Offline, never raises.

    `message` saves a parse when the caller has one; parsed with `parse`'s default 64 KiB
    body cap it misses links past the cap, so by default the whole message is read.
    """
    if message is None:
        message = parse(raw, max_body_bytes=LINT_BODY_BYTES)
    campaign = _read_campaign(raw, message)
    findings: list[Finding] = []
    for check in (r.check for r in RULES.values() if r.check is not None):
        try:
            findings.extend(check(campaign))
        except Exception:  # a check tripped by hostile input must not take the others down
            logger.warning("lint check %s failed", check.__name__, exc_info=True)
    return _most_severe_first(findings)


def _read_campaign(raw: bytes, message: Message) -> _Campaign:
    header_names, htmls, html_bytes = _mime_facts(raw)
    html = "\n".join(htmls)
    text = html_to_text(html) if html else message.text
    markup, comment_unclosed = strip_comments(html)
    urls = links_and_images(html)[0] if html else _TEXT_URL.findall(message.text)
    return _Campaign(
        message=message, header_names=header_names, html=html, html_bytes=html_bytes,
        size=len(raw), text=text, preview=_preview(html, message.text), markup=markup,
        comment_unclosed=comment_unclosed, images=tuple(_IMG_ATTRIBUTES.findall(markup)),
        link_hosts=tuple(host for url in urls if (host := _link_host(url))),
        kind=content_kind(message.subject, text))


def _mime_facts(raw: bytes) -> tuple[frozenset[str], list[str], int]:
    """The header names present; the text/html body parts, decoded, and their size.

    `Message` keeps neither. Unreadable MIME gives what was read before it failed.
    """
    try:
        tree = message_from_bytes(raw, policy=compat32)
        header_names = frozenset(name.strip().lower() for name in tree.keys())
    except Exception:
        return frozenset(), [], 0
    htmls: list[str] = []
    size = 0
    try:
        for part in tree.walk():
            if (part.get_content_type() == "text/html"
                    and part.get_content_disposition() != "attachment"):
                data = part.get_payload(decode=True)
                data = data if isinstance(data, bytes) else b""
                size += len(data)
                htmls.append(decode_text(data, part.get_content_charset()))
    except Exception as error:  # deep nesting, broken parts: the checks see what was read
        logger.debug("lint: MIME walk stopped: %r", error)
    return header_names, htmls, size


def _preview(html: str, plain_text: str) -> str:
    """The body's first characters as an inbox lists them. Hidden preheaders count: being
    shown there and nowhere else is what they are for, so styles are ignored."""
    text = html_to_text(_STYLE_ATTRIBUTE.sub("data-style=", html)) if html else plain_text
    return " ".join(text[:PREVIEW_CHARS * 4].split())[:PREVIEW_CHARS]


def _link_host(url: str) -> str:
    """The lower-case host of an http(s) URL; "" for other schemes and broken URLs."""
    try:
        parts = urlsplit(url.strip())
        return (parts.hostname or "").rstrip(".") if parts.scheme.lower() in (
            "http", "https") else ""
    except ValueError:  # a malformed IPv6 literal or port
        return ""


def _some(items: Iterable[str], limit: int = 3) -> str:
    """The first few distinct items, comma-separated, with how many more there are."""
    unique = list(dict.fromkeys(items))
    more = f" and {len(unique) - limit} more" if len(unique) > limit else ""
    return ", ".join(unique[:limit]) + more


def _kilobytes(size: int) -> str:
    return f"{size / 1024:.0f} KB"


# -- the message checks: one declaration each, in the order they are reported ------------

@rule("from-missing", "error", "From holds an address with a domain",
      "Set From to an address on the domain you send from")
def _from_missing(campaign: _Campaign):
    if not campaign.message.from_domain:
        return "From has no address with a domain" if "from" in campaign.header_names \
            else "No From header"


@rule("dkim-missing", "error", "the message carries a DKIM signature",
      "Sign as d={domain}: set up custom-domain DKIM at your sending service")
def _dkim_missing(campaign: _Campaign):
    if not campaign.message.dkim_domains:
        return ("No DKIM signature with a d= domain: the message is not signed",
                {"domain": campaign.message.from_domain or "<your domain>"})


@rule("dkim-not-aligned", "warning",
      "a DKIM signature's d= is the From domain or shares its organisation",
      "Sign as d={domain} (or a subdomain), not only as your sending service's domain")
def _dkim_not_aligned(campaign: _Campaign):
    domain, signers = campaign.message.from_domain, campaign.message.dkim_domains
    if signers and domain and not any(same_organisation(domain, s) for s in signers):
        return (f"DKIM signs as d={_some(signers)}, not as the From domain {domain}",
                {"domain": domain})


def _auth_verdict(method: str):
    """Verdicts a receiving server wrote, when the campaign is a copy received in a test."""
    def check(campaign: _Campaign):
        verdict = getattr(campaign.message.auth_results, method)
        if verdict in FAILING_VERDICTS:
            return (f"Authentication-Results says {method}={verdict}",
                    {"domain": campaign.message.from_domain or "your From domain"})

    check.__name__ = f"_{method}_fail"
    return check


rule("spf-fail", "error", "Authentication-Results shows no SPF fail, softfail or permerror",
     "Add the sending servers (your service's include:) to the envelope domain's SPF")(
    _auth_verdict("spf"))
rule("dkim-fail", "error", "Authentication-Results shows no DKIM fail or permerror",
     "Publish the selector's current public key; change nothing after signing")(
    _auth_verdict("dkim"))
rule("dmarc-fail", "error", "Authentication-Results shows no DMARC fail",
     "Make SPF or DKIM pass for {domain} or a subdomain of it")(_auth_verdict("dmarc"))


def _bulk_cue(campaign: _Campaign) -> str:
    """What makes a message look like a mailing, in words; "" when nothing does."""
    message = campaign.message
    precedence = (message.precedence.replace(";", " ").split() or [""])[0]
    if message.list_id:
        return "it has a List-Id"
    if precedence in BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    if message.is_bulk:
        return "bulk-mail headers"
    if campaign.kind == TRANSACTIONAL:
        return ""  # a receipt with many links is still a receipt: no list to leave
    if len(campaign.link_hosts) >= BULK_LINK_COUNT:
        return f"{len(campaign.link_hosts)} links"
    if "unsubscribe" in campaign.text.lower():
        return "an unsubscribe link in the body"
    if campaign.kind == PROMOTIONAL:
        return "promotional wording"
    return ""


@rule("list-unsubscribe-missing", "error",
      "bulk or promotional mail has a List-Unsubscribe header (transactional mail needs none)",
      "Add List-Unsubscribe: <https://...> and "
      "List-Unsubscribe-Post: List-Unsubscribe=One-Click")
def _list_unsubscribe_missing(campaign: _Campaign):
    if not campaign.message.list_unsubscribe and (cue := _bulk_cue(campaign)):
        return f"Bulk-looking mail ({cue}) has no List-Unsubscribe <URI>"


@rule("list-unsubscribe-no-https", "error",
      "List-Unsubscribe has an https URI (one-click needs one)",
      "Add an https:// unsubscribe URI to List-Unsubscribe; a mailto: may stay beside it")
def _list_unsubscribe_no_https(campaign: _Campaign):
    uris = campaign.message.list_unsubscribe
    if uris and not any(uri.lower().startswith("https://") for uri in uris):
        schemes = _some(uri.partition(":")[0].lower() + ":" for uri in uris)
        return f"List-Unsubscribe has no https URI, only {schemes}"


@rule("one-click-unsubscribe-missing", "error",
      "List-Unsubscribe comes with List-Unsubscribe-Post: List-Unsubscribe=One-Click "
      "(RFC 8058)",
      "Add List-Unsubscribe-Post: List-Unsubscribe=One-Click; accept POSTs at the https URI")
def _one_click_missing(campaign: _Campaign):
    message = campaign.message
    posted = message.list_unsubscribe_post
    if message.list_unsubscribe and "".join(posted.split()).lower() != ONE_CLICK:
        found = f"List-Unsubscribe-Post is {posted!r}" if posted else "No List-Unsubscribe-Post"
        return f"{found}: no RFC 8058 one-click unsubscribe"


@rule("text-plain-missing", "warning", "HTML mail has a text/plain alternative",
      "Add a text/plain part with the same content (multipart/alternative)")
def _text_plain_missing(campaign: _Campaign):
    if campaign.message.html and not campaign.message.has_text_plain:
        return "HTML only: no text/plain alternative part"


@rule("html-images-only", "error",
      f"the HTML has at least {IMAGE_ONLY_TEXT_CHARS} characters of text beside its images",
      "Write the message as HTML text; keep images for illustration")
def _html_images_only(campaign: _Campaign):
    images, text_chars = len(campaign.images), len(campaign.text)
    if images and text_chars < IMAGE_ONLY_TEXT_CHARS:
        remote = sum(bool(_REMOTE_SRC.search(image)) for image in campaign.images)
        return (f"The HTML is {images} image(s), {remote} of them remote, and {text_chars} "
                "characters of text")


@rule("image-text-ratio", "warning",
      f"promotional or bulk HTML has at least {TEXT_CHARS_PER_IMAGE} characters of text per "
      "image (receipts and notices show products and logos: not checked)",
      "Add text or drop images: {needed} characters of text for {images} image(s)")
def _image_text_ratio(campaign: _Campaign):
    images, text_chars = len(campaign.images), len(campaign.text)
    if campaign.kind == TRANSACTIONAL or not _bulk_cue(campaign):
        return None
    if images and IMAGE_ONLY_TEXT_CHARS <= text_chars < TEXT_CHARS_PER_IMAGE * images:
        return (f"{images} image(s) and {text_chars} characters of text: "
                f"{text_chars // images} per image, under {TEXT_CHARS_PER_IMAGE}",
                {"needed": TEXT_CHARS_PER_IMAGE * images, "images": images})


@rule("image-alt-missing", "warning", "every <img> has an alt attribute",
      "Give every <img> an alt text (alt=\"\" for spacers): clients that block images "
      "show it")
def _image_alt_missing(campaign: _Campaign):
    missing = sum(not _ALT.search(image) for image in campaign.images)
    if missing:
        return f"{missing} of {len(campaign.images)} <img> tags have no alt attribute"


def _markup_problems(markup: str) -> list[str]:
    """Tags cut off before their `>`, and elements of REQUIRED_END_TAGS opened and closed
    a different number of times (`<div/>` opens a div: HTML ignores the slash). One linear
    pass."""
    cut_off: list[str] = []
    open_minus_closed: Counter[str] = Counter()
    for match in _TAG.finditer(markup):
        closing, name, end = match[1], match[2].lower(), match[4]
        if not end:
            cut_off.append(f"<{closing}{name}> cut off before its >")
        elif name in REQUIRED_END_TAGS:
            open_minus_closed[name] += -1 if closing else 1
    return cut_off + [f"{count} <{name}> never closed" if count > 0
                      else f"{-count} stray </{name}>"
                      for name, count in open_minus_closed.items() if count]


@rule("html-malformed", "warning", "HTML tags are complete and balanced, comments closed",
      "Close the tags named and validate the template: clients repair broken markup "
      "differently")
def _html_malformed(campaign: _Campaign):
    problems = _markup_problems(campaign.markup)
    if campaign.comment_unclosed:
        problems.append("a <!-- comment never closed")
    if problems:
        return f"Malformed HTML: {_some(problems)}"


@rule("too-many-links", "warning", f"at most {MAX_LINKS} links",
      "Link less: keep the links readers use and drop repeated ones")
def _too_many_links(campaign: _Campaign):
    if len(campaign.link_hosts) > MAX_LINKS:
        return f"{len(campaign.link_hosts)} links, more than {MAX_LINKS}"


@rule("links-off-domain", "warning", "most links go to the From domain's organisation",
      "Link to {domain}, or click-track through a subdomain of it (click.{domain})")
def _links_off_domain(campaign: _Campaign):
    """Counted per link, not per domain: twenty links home and four social icons are fine."""
    domain, hosts = campaign.message.from_domain, campaign.link_hosts
    foreign = [host for host in hosts if not same_organisation(host, domain)]
    if domain and len(foreign) > MAX_FOREIGN_LINK_SHARE * len(hosts):
        return (f"{len(foreign)} of {len(hosts)} links go to other domains than {domain}: "
                f"{_some(foreign)}", {"domain": domain})


@rule("link-shortener", "warning", "no link goes through a public URL shortener",
      "Link to the full URL on your own domain: spammers hide behind shorteners")
def _link_shortener(campaign: _Campaign):
    shorteners = [host for host in campaign.link_hosts if registrable(host) in SHORTENERS]
    if shorteners:
        return f"Links through URL shorteners: {_some(shorteners)}"


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@rule("link-ip-address", "error", "no link goes to a bare IP address",
      "Link to a host name on your own domain")
def _link_ip_address(campaign: _Campaign):
    addresses = [host for host in campaign.link_hosts if _is_ip_address(host)]
    if addresses:
        return f"Links to bare IP addresses: {_some(addresses)}"


def _boilerplate_preview(campaign: _Campaign) -> bool:
    lowered = campaign.preview.lower().replace("\u2019", "'")
    return any(phrase in lowered for phrase in BOILERPLATE_PREVIEWS)


@rule("preheader-boilerplate", "warning",
      f"the first {PREVIEW_CHARS} characters of text are not 'view in browser' boilerplate",
      "Put a preheader summing up the message first; move 'view in browser' after it")
def _preheader_boilerplate(campaign: _Campaign):
    if _boilerplate_preview(campaign):
        return f"The inbox preview is boilerplate: {campaign.preview!r}"


@rule("preheader-missing", "info",
      f"the HTML gives the inbox preview at least {MIN_PREVIEW_CHARS} characters",
      "Start the body with a one-line preheader that sums up the message")
def _preheader_missing(campaign: _Campaign):
    if (campaign.html and len(campaign.preview) < MIN_PREVIEW_CHARS
            and not _boilerplate_preview(campaign)):
        return f"No preheader: the inbox preview is {campaign.preview!r}"


@rule("subject-empty", "warning", "the subject is not empty",
      "Write a subject that says what the message is about")
def _subject_empty(campaign: _Campaign):
    if not campaign.message.subject:
        return "The subject is empty"


@rule("subject-shouting", "warning",
      f"less than {SHOUTING_SHARE:.0%} of the subject's letters are capitals",
      "Write the subject in sentence case")
def _subject_shouting(campaign: _Campaign):
    subject = campaign.message.subject
    letters = [char for char in subject if char.isalpha()]
    capitals = sum(char.isupper() for char in letters) / max(len(letters), 1)
    if len(letters) >= SHOUTING_MIN_LETTERS and capitals >= SHOUTING_SHARE:
        return f"The subject is {capitals:.0%} capitals: {subject!r}"


@rule("subject-exclamations", "warning",
      f"at most {MAX_SUBJECT_EXCLAMATIONS} exclamation mark in the subject",
      "Use one exclamation mark at most")
def _subject_exclamations(campaign: _Campaign):
    if (marks := campaign.message.subject.count("!")) > MAX_SUBJECT_EXCLAMATIONS:
        return f"The subject has {marks} exclamation marks"


@rule("html-too-large", "warning",
      f"the HTML is at most {GMAIL_CLIP_BYTES // 1024} KB (Gmail clips beyond)",
      "Trim the HTML (inline CSS, comments, repeated blocks): clipping hides the "
      "unsubscribe link")
def _html_too_large(campaign: _Campaign):
    if campaign.html_bytes > GMAIL_CLIP_BYTES:
        return (f"The HTML is {_kilobytes(campaign.html_bytes)}: Gmail clips it at "
                f"{GMAIL_CLIP_BYTES // 1024} KB")


@rule("message-too-large", "warning",
      f"the whole message is at most {GMAIL_CLIP_BYTES // 1024} KB",
      "Link images and files from the web instead of embedding them; trim the text part")
def _message_too_large(campaign: _Campaign):
    if campaign.html_bytes <= GMAIL_CLIP_BYTES < campaign.size:
        return (f"The message is {_kilobytes(campaign.size)} (HTML "
                f"{_kilobytes(campaign.html_bytes)}): over {GMAIL_CLIP_BYTES // 1024} KB, "
                "Gmail may clip it")


@rule("message-id-missing", "error", "the message has a Message-ID",
      "Add a Message-ID header (<unique@{domain}>); Gmail rejects mail without one")
def _message_id_missing(campaign: _Campaign):
    if not campaign.message.message_id:
        return ("The Message-ID header is empty" if "message-id" in campaign.header_names
                else "No Message-ID header",
                {"domain": campaign.message.from_domain or "your.domain"})


@rule("date-missing", "error", "the message has a valid Date header",
      "Add a Date header in RFC 5322 form, e.g. 'Fri, 20 Nov 2026 09:00:00 +0000'")
def _date_missing(campaign: _Campaign):
    if campaign.message.date is None:
        return ("The Date header cannot be read as a date" if "date" in campaign.header_names
                else "No Date header")


# -- the DNS rules: `lint_dns` reports them from shared lookups -------------------------
dns_rule("spf-record-missing", "error", "the From domain publishes an SPF record",
         "Publish a TXT record on {domain}: v=spf1 include:<your service> -all")
dns_rule("spf-record-multiple", "error", "the From domain publishes one SPF record, not several",
         "Merge the SPF records of {domain} into one TXT record")
dns_rule("spf-record-pass-all", "error", "the SPF record does not let every server pass (+all)",
         "End the SPF record of {domain} in -all or ~all")
dns_rule("dmarc-record-missing", "error",
         "the From domain (or its organisation) publishes a DMARC record",
         "Publish a TXT record at _dmarc.{domain}: v=DMARC1; p=none; rua=mailto:<reports>")
dns_rule("dmarc-policy-none", "info", "the DMARC policy is quarantine or reject, not none",
         "Once reports show your mail passes, raise the DMARC policy to p=quarantine")
dns_rule("dns-unavailable", "info",
         "the DNS checks could run (dnspython installed, network reachable)",
         "Install dnspython (pip install 'gatekeeper[dns]') and run with network access")

CHECKS: tuple[tuple[str, str], ...] = tuple((code, r.checks) for code, r in RULES.items())


class _LookupFailed(Exception):
    """A DNS lookup failed for want of an answer (not because the record is absent)."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name, reason)
        self.name, self.reason = name, reason


# dnspython's errors, matched by class name so an injected resolver need not import them.
_NO_RECORD_ERRORS = frozenset({"NXDOMAIN", "NoAnswer"})  # the record is absent
_FAILURE_REASONS = {"NoNameservers": "no name server answered"}  # else "timed out" or the name


def lint_dns(domain: str, resolver=None, timeout: float = 3.0) -> list[Finding]:
    """The problems of `domain`'s SPF and DMARC records, most severe first. Never raises.

    `resolver` is anything with dnspython's `resolve(name, rdtype)`; by default
    dnspython's own, giving each lookup `timeout` seconds. Without dnspython or without
    an answer from DNS the result is one "dns-unavailable" finding saying why.
    """
    domain = domain.strip().rstrip(".").lower()
    if not domain:
        return [_finding("dns-unavailable", "DNS checks skipped: no domain to look up")]
    if resolver is None:
        try:
            resolver = _dnspython_resolver(timeout)
        except ImportError:
            return [_finding("dns-unavailable", "DNS checks skipped: dnspython is not "
                             "installed (pip install 'gatekeeper[dns]')")]
    try:
        return _most_severe_first([*_spf_findings(domain, _txt_records(resolver, domain)),
                                   *_dmarc_findings(domain, resolver)])
    except _LookupFailed as failure:
        return [_finding("dns-unavailable", f"DNS checks skipped: the TXT lookup of "
                         f"{failure.name} failed ({failure.reason})")]


def _dnspython_resolver(timeout: float):
    import dns.resolver  # the optional extra "dns"

    resolver = dns.resolver.Resolver()
    resolver.lifetime = timeout
    return resolver


def _txt_records(resolver, name: str) -> list[str]:
    """The TXT records at `name` ([] when there are none), each one's strings joined."""
    try:
        return [b"".join(record.strings).decode("utf-8", "replace")
                for record in resolver.resolve(name, "TXT")]
    except Exception as error:
        kind = type(error).__name__
        if kind in _NO_RECORD_ERRORS:
            return []
        reason = "timed out" if "timeout" in kind.lower() else _FAILURE_REASONS.get(kind, kind)
        raise _LookupFailed(name, reason) from error


def _spf_findings(domain: str, records: list[str]) -> list[Finding]:
    spf = [record for record in records if record.lower().split()[:1] == ["v=spf1"]]
    if not spf:
        return [_finding("spf-record-missing", f"No SPF record (TXT v=spf1) on {domain}",
                         domain=domain)]
    if len(spf) > 1:
        return [_finding("spf-record-multiple", f"{domain} has {len(spf)} SPF records: "
                         "receivers then fail SPF (permerror)", domain=domain)]
    if any(term in ("all", "+all") for term in spf[0].lower().split()):
        return [_finding("spf-record-pass-all", f"The SPF record of {domain} allows any "
                         f"server to send as it (+all): {spf[0]!r}", domain=domain)]
    return []


def _dmarc_findings(domain: str, resolver) -> list[Finding]:
    """The DMARC record of `domain`, else of its organisational domain, whose sp= (else
    p=) policy then covers `domain` (RFC 7489 section 6.6.3)."""
    organisation = registrable(domain)
    names = [f"_dmarc.{domain}"] + ([f"_dmarc.{organisation}"] if organisation != domain else [])
    for name in names:
        records = [record for record in _txt_records(resolver, name)
                   if record.replace(" ", "").lower().startswith("v=dmarc1")]
        if not records:
            continue
        tags = _dmarc_tags(records[0])
        policy = tags.get("p", "") if name == names[0] else tags.get("sp", tags.get("p", ""))
        if policy != "none":
            return []
        return [_finding("dmarc-policy-none", f"The DMARC policy for {domain} is none "
                         f"({name}): receivers only report, never reject")]
    return [_finding("dmarc-record-missing", f"No DMARC record at {' or '.join(names)}",
                     domain=domain)]


def _dmarc_tags(record: str) -> dict[str, str]:
    pairs = (part.partition("=") for part in record.split(";"))
    return {name.strip().lower(): value.strip().lower() for name, _, value in pairs}
