"""lint: every check fails on a crafted campaign and passes on its near miss; DNS checks
run against a fake resolver, never the network."""

from __future__ import annotations

import re
import sys
from email.message import EmailMessage
from types import SimpleNamespace

import pytest
from hypothesis import given, settings, strategies as st

from gatekeeper.campaign.lint import CHECKS, MAX_LINKS, SEVERITIES, Finding, lint_dns, lint_message
from gatekeeper.core.message import parse
from gatekeeper.testing import build_message

SIGNATURE = "v=1; a=rsa-sha256; d={domain}; s=mail; h=from:subject; bh=abc=; b=def="
GOOD_HEADERS = {
    "From": "Example Books <news@example.org>",
    "To": "reader@example.net",
    "Subject": "Spring reading: three new titles picked for you",
    "Date": "Fri, 20 Nov 2026 09:00:00 +0000",
    "Message-ID": "<spring-2026@example.org>",
    "List-Id": "Example Books news <news.example.org>",
    "List-Unsubscribe": "<https://example.org/unsubscribe?u=1>, <mailto:unsubscribe@example.org>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    "DKIM-Signature": SIGNATURE.format(domain="example.org"),
}
PREHEADER = "Three new titles picked for you, and a reading guide for the spring."
STORY = ("Our booksellers read forty new titles this month and picked three for the spring. "
         "The first is a quiet novel about a lighthouse keeper who starts writing letters to "
         "the ships she sees. The second is a history of the bicycle told through the people "
         "who built, raced and repaired them. The third is a cookbook of soups from twelve "
         "countries, each with a story from the family that gave us the recipe. Every title "
         "comes with a reading guide and questions for book clubs.")
LINKS = ('<p><a href="https://example.org/books/1">The lighthouse letters</a> and '
         '<a href="https://www.example.org/books/2">The bicycle history</a></p>')
FOOTER = '<p><a href="https://example.org/unsubscribe?u=1">Unsubscribe</a></p>'
LOGO = '<img src="https://example.org/logo.png" alt="Example Books" width="120">'
PLAIN = f"{PREHEADER}\n\n{STORY}\n\nUnsubscribe: https://example.org/unsubscribe?u=1\n"


def page(body: str = "", *, preheader: str = PREHEADER, footer: str = FOOTER) -> str:
    """A campaign's HTML: a hidden preheader, then the body and the footer."""
    hidden = (f'<span style="display:none;max-height:0;overflow:hidden">{preheader}</span>'
              if preheader else "")
    return ("<!DOCTYPE html><html><head><style>p { margin: 0 }</style></head><body>"
            f"{hidden}{body}{footer}</body></html>")


GOOD_HTML = page(f"{LOGO}<h1>Spring reading</h1><p>{STORY}</p>{LINKS}")


def campaign(*, html: str | None = GOOD_HTML, text: str | None = PLAIN,
             headers: dict[str, str | None] | None = None, prepend: str = "") -> bytes:
    """A well-built campaign. `headers` replace its headers (None drops one); `prepend`
    puts raw header lines first, for values the stdlib would not write."""
    message = EmailMessage()
    for name, value in {**GOOD_HEADERS, **(headers or {})}.items():
        if value is not None:
            message[name] = value
    if text is not None:
        message.set_content(text)
    if html is not None and text is not None:
        message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    return prepend.encode() + bytes(message)


def codes(raw: bytes) -> set[str]:
    return {finding.code for finding in lint_message(raw)}


def links(count: int, host: str = "example.org") -> str:
    return "".join(f'<a href="https://{host}/b/{i}">Book {i}</a> ' for i in range(count))


def without_unsubscribe(**headers: str | None) -> dict[str, str | None]:
    return {"List-Unsubscribe": None, "List-Unsubscribe-Post": None, **headers}


BANNERS = "".join(f'<img src="https://example.org/banner{i}.png" alt="Sale {i}">'
                  for i in range(3))
PERSONAL_NOTE = build_message()

# (code, raw message, a part of the finding's title naming what was found)
FAILING = [
    pytest.param("from-missing", campaign(headers={"From": None}), "No From header",
                 id="no-from"),
    pytest.param("from-missing", campaign(headers={"From": "undisclosed"}), "no address",
                 id="from-without-domain"),
    pytest.param("dkim-missing", campaign(headers={"DKIM-Signature": None}), "not signed",
                 id="unsigned"),
    pytest.param("dkim-not-aligned",
                 campaign(headers={"DKIM-Signature": SIGNATURE.format(domain="esp-mail.net")}),
                 "d=esp-mail.net, not as the From domain example.org", id="esp-signature"),
    pytest.param("spf-fail", campaign(headers={
        "Authentication-Results": "mx.example.net; spf=softfail smtp.mailfrom=example.org"}),
        "spf=softfail", id="spf-softfail"),
    pytest.param("dkim-fail", campaign(headers={
        "Authentication-Results": "mx.example.net; spf=pass; dkim=permerror"}),
        "dkim=permerror", id="dkim-permerror"),
    pytest.param("dmarc-fail", campaign(headers={
        "Authentication-Results": "mx.example.net; dkim=pass; dmarc=fail"}),
        "dmarc=fail", id="dmarc-fail"),
    pytest.param("list-unsubscribe-missing", campaign(headers=without_unsubscribe()),
                 "List-Id", id="list-id-without-unsubscribe"),
    pytest.param("list-unsubscribe-missing",
                 campaign(headers=without_unsubscribe(**{"List-Id": None,
                                                         "Precedence": "bulk"})),
                 "Precedence: bulk", id="precedence-bulk"),
    pytest.param("list-unsubscribe-missing",
                 build_message(html=page(links(10), preheader="", footer="")), "10 links",
                 id="many-links"),
    pytest.param("list-unsubscribe-missing",
                 build_message(html=page(f"<p>{STORY}</p>", preheader="")),
                 "unsubscribe link", id="unsubscribe-link-in-body"),
    pytest.param("one-click-unsubscribe-missing",
                 campaign(headers={"List-Unsubscribe-Post": None}),
                 "No List-Unsubscribe-Post", id="no-post-header"),
    pytest.param("one-click-unsubscribe-missing",
                 campaign(headers={"List-Unsubscribe-Post": "List-Unsubscribe=Yes"}),
                 "'List-Unsubscribe=Yes'", id="wrong-post-value"),
    pytest.param("list-unsubscribe-no-https",
                 campaign(headers={"List-Unsubscribe": "<mailto:u@example.org>"}),
                 "only mailto:", id="mailto-only"),
    pytest.param("list-unsubscribe-no-https",
                 campaign(headers={"List-Unsubscribe": "<http://example.org/u>"}),
                 "only http:", id="http-only"),
    pytest.param("text-plain-missing", campaign(text=None), "no text/plain", id="html-only"),
    pytest.param("html-images-only", campaign(html=page(BANNERS, preheader="", footer="")),
                 "3 image(s), 3 of them remote, and 0 characters", id="remote-images-only"),
    pytest.param("image-text-ratio",
                 campaign(html=page(f"{LOGO}{BANNERS}<p>{STORY}</p>{LINKS}")),
                 "4 image(s)", id="four-images-little-text"),
    pytest.param("image-alt-missing", campaign(html=page(
        f'<img src="https://example.org/a.png" data-alt="x"><p>{STORY}</p>')),
        "1 of 1 <img>", id="no-alt"),
    pytest.param("html-malformed", campaign(html=page(f"<div><p>{STORY}</p>")),
                 "1 <div> never closed", id="unclosed-div"),
    pytest.param("html-malformed",
                 campaign(html=page(f'<a href="https://example.org/x"<p>{STORY}</p>')),
                 "<a> cut off", id="cut-off-tag"),
    pytest.param("html-malformed", campaign(html=f"<p>{STORY}</p><!-- footer"),
                 "comment never closed", id="unclosed-comment"),
    pytest.param("html-malformed", campaign(html=page(f"<p>{STORY}</p></table>")),
                 "1 stray </table>", id="stray-end-tag"),
    pytest.param("html-malformed", campaign(html=page(f"<span/><p>{STORY}</p>")),
                 "1 <span> never closed", id="self-closed-span-stays-open"),
    pytest.param("too-many-links", campaign(html=page(f"<p>{STORY}</p>{links(MAX_LINKS + 1)}",
                                                 footer="")),
                 f"{MAX_LINKS + 1} links", id="link-farm"),
    pytest.param("links-off-domain",
                 campaign(html=page(f"<p>{STORY}</p>{links(4, 'partner-store.com')}")),
                 "4 of 5 links go to other domains than example.org: partner-store.com",
                 id="partner-links"),
    pytest.param("link-shortener",
                 campaign(html=page(f'<p>{STORY}</p><a href="https://bit.ly/x">Shop</a>')),
                 "bit.ly", id="bit-ly"),
    pytest.param("link-ip-address",
                 campaign(html=page(f'<p>{STORY}</p><a href="http://192.0.2.1/x">Log in</a>')),
                 "192.0.2.1", id="ipv4"),
    pytest.param("link-ip-address", campaign(
        html=page(f'<p>{STORY}</p><a href="http://[2001:db8::1]/x">Log in</a>')),
        "2001:db8::1", id="ipv6"),
    pytest.param("preheader-missing",
                 campaign(html=page("<p>See you soon.</p>", preheader="", footer="")),
                 "'See you soon.'", id="almost-no-text"),
    pytest.param("preheader-boilerplate",
                 campaign(html=page(f"<p>{STORY}</p>", preheader="View this email in your "
                                                                   "browser")),
                 "View this email", id="hidden-view-in-browser"),
    pytest.param("preheader-boilerplate", campaign(html=page(
        f'<a href="https://example.org/web">Having trouble viewing?</a><p>{STORY}</p>',
        preheader="")), "Having trouble viewing", id="visible-trouble-viewing"),
    pytest.param("subject-empty", campaign(headers={"Subject": ""}), "empty", id="empty"),
    pytest.param("subject-empty", campaign(headers={"Subject": None}), "empty",
                 id="no-subject-header"),
    pytest.param("subject-shouting", campaign(headers={"Subject": "HUGE SPRING SALE ON NOW"}),
                 "100% capitals", id="all-caps"),
    pytest.param("subject-exclamations", campaign(headers={"Subject": "Sale now!! Go!"}),
                 "3 exclamation marks", id="three-marks"),
    pytest.param("html-too-large", campaign(html=page(f"<p>{STORY}</p>" * 250)),
                 "Gmail clips it", id="big-html"),
    pytest.param("message-too-large", campaign(text=f"{STORY}\n" * 250), "(HTML 1 KB)",
                 id="big-text-part"),
    pytest.param("message-id-missing", campaign(headers={"Message-ID": None}),
                 "No Message-ID", id="no-message-id"),
    pytest.param("date-missing", campaign(headers={"Date": None}), "No Date", id="no-date"),
    pytest.param("date-missing", campaign(headers={"Date": None}, prepend="Date: soon\n"),
                 "cannot be read", id="unreadable-date"),
]

# (code, a message close to failing that passes that check)
PASSING = [
    pytest.param("from-missing", PERSONAL_NOTE, id="personal-note"),
    pytest.param("dkim-not-aligned",
                 campaign(headers={"DKIM-Signature": SIGNATURE.format(domain="mail.example.org")}),
                 id="signed-by-subdomain"),
    pytest.param("dkim-not-aligned", campaign(headers={
        "From": "news@shop.example.org", "DKIM-Signature": SIGNATURE.format(domain="example.org")}),
        id="sent-from-subdomain"),
    *(pytest.param(code, campaign(headers={"Authentication-Results": "mx.example.net; spf=pass "
                                           "smtp.mailfrom=example.org; dkim=pass; dmarc=pass"}),
                   id=f"{code}-pass") for code in ("spf-fail", "dkim-fail", "dmarc-fail")),
    pytest.param("list-unsubscribe-missing", PERSONAL_NOTE, id="personal-note"),
    pytest.param("list-unsubscribe-missing",
                 build_message(html=page(links(9), preheader="", footer="")), id="nine-links"),
    pytest.param("one-click-unsubscribe-missing",
                 campaign(headers={"List-Unsubscribe-Post": "list-unsubscribe = one-click"}),
                 id="post-value-case-and-spaces"),
    pytest.param("list-unsubscribe-no-https",
                 campaign(headers={"List-Unsubscribe": "<mailto:u@example.org>, "
                                                       "<https://example.org/u>"}),
                 id="mailto-beside-https"),
    pytest.param("text-plain-missing", campaign(html=None), id="plain-only"),
    pytest.param("html-images-only", campaign(html=page(f"{BANNERS}<p>{STORY}</p>"
                                                        f"<p>{STORY}</p><p>{STORY}</p>")),
                 id="images-with-text"),
    pytest.param("image-text-ratio", campaign(html=page(f"{LOGO}<p>{STORY}</p>")),
                 id="one-image-one-story"),
    pytest.param("image-alt-missing",
                 campaign(html=page(f'<img src="cid:spacer" alt=""><p>{STORY}</p>')),
                 id="empty-alt-for-spacer"),
    pytest.param("html-malformed", campaign(html=page(
        f"<p>{STORY}<ul><li>one<li>two</ul><br><hr/><img alt=''/><!-- <div> --><o:p></o:p>")),
        id="optional-end-tags-void-and-commented"),
    pytest.param("too-many-links",
                 campaign(html=page(f"<p>{STORY}</p>{links(MAX_LINKS)}", footer="")),
                 id="fifty-links"),
    pytest.param("links-off-domain", campaign(html=page(
        f"<p>{STORY}</p>{links(20)}{links(4, 'social.example.com')}")),
        id="four-social-icons-among-twenty-links-home"),
    pytest.param("link-shortener", campaign(html=page(
        f'<p>{STORY}</p><a href="https://notbit.ly/x">Shop</a>')), id="lookalike-host"),
    pytest.param("link-ip-address", campaign(html=page(
        f'<p>{STORY}</p><a href="https://192.example.org/x">Shop</a>')), id="digits-in-host"),
    pytest.param("preheader-missing", campaign(html=page(f"<p>{STORY}</p>", preheader="")),
                 id="body-text-is-the-preview"),
    pytest.param("preheader-boilerplate", campaign(html=page(
        f'<p>{STORY}</p><a href="https://example.org/web">View in browser</a>')),
        id="view-in-browser-after-the-preheader"),
    pytest.param("subject-shouting", campaign(headers={"Subject": "NASA and ESA news"}),
                 id="acronyms"),
    pytest.param("subject-shouting", campaign(headers={"Subject": "FYI NOW"}),
                 id="short-capitals"),
    pytest.param("subject-exclamations", campaign(headers={"Subject": "One sale today!"}),
                 id="one-mark"),
    pytest.param("html-too-large", campaign(html=page(f"<p>{STORY}</p>" * 180), text=STORY),
                 id="html-under-the-limit"),
    pytest.param("message-too-large", campaign(text=f"{STORY}\n" * 150), id="text-part-75kb"),
    pytest.param("date-missing", campaign(), id="good-date"),
    pytest.param("message-id-missing", campaign(), id="good-message-id"),
]


@pytest.mark.parametrize("code, raw, title_part", FAILING)
def test_each_check_reports_what_it_found(code, raw, title_part):
    found = [finding for finding in lint_message(raw) if finding.code == code]
    assert found, codes(raw)
    assert title_part in found[0].title


@pytest.mark.parametrize("code, raw", PASSING)
def test_each_check_passes_its_near_miss(code, raw):
    assert code not in codes(raw)


def test_a_well_built_campaign_has_no_findings():
    assert lint_message(campaign()) == []


def test_a_given_message_gives_the_same_findings():
    raw = campaign(headers={"DKIM-Signature": None}, text=None)
    assert lint_message(raw, parse(raw)) == lint_message(raw)


def test_sizes_count_the_whole_campaign_past_the_parse_cap():
    raw = campaign(html=page(f"<p>{STORY}</p>" * 180 + links(MAX_LINKS + 1)), text=STORY)
    assert len(raw) > 64 * 1024 and "too-many-links" in codes(raw)


def test_findings_come_most_severe_first_with_filled_fixes():
    raw = campaign(text=None, headers={"Subject": "SALE!!", "Message-ID": None,
                                       "List-Unsubscribe-Post": None})
    findings = lint_message(raw)
    ranks = [SEVERITIES.index(finding.severity) for finding in findings]
    assert ranks == sorted(ranks) and {"error", "warning"} <= {f.severity for f in findings}
    assert all(finding.fix and "{" not in finding.fix for finding in findings)


def test_finding_to_dict():
    finding = Finding("subject-empty", "warning", "The subject is empty", "Write one")
    assert finding.to_dict() == {"code": "subject-empty", "severity": "warning",
                                 "title": "The subject is empty", "fix": "Write one"}


@pytest.mark.parametrize("raw", [
    b"", b"\x00\xff\xfe\x80 garbage", b"\r\n\r\n", b"From: \r\n\r\n<html><a href=",
    b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/html; "
    b"charset=no-such-charset\r\n\r\n<img src=http://[::1/>\r\n--x--",
    b"Content-Type: text/html\r\n\r\n" + b"<a " * 20000,
], ids=["empty", "garbage", "blank-headers", "cut-off-html", "bad-charset-and-url",
        "unclosed-tags"])
def test_bad_input_gives_findings_not_exceptions(raw):
    findings = lint_message(raw)
    assert findings and all(finding.severity in SEVERITIES for finding in findings)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=3000))
def test_lint_never_raises(raw):
    assert all(isinstance(finding, Finding) for finding in lint_message(raw))


class NXDOMAIN(Exception):
    """Named as dnspython's: lint_dns tells an absent name from a failure by class name."""


class FakeResolver:
    """TXT records by name; a name that is missing answers NXDOMAIN, an exception is raised."""

    def __init__(self, records: dict[str, list[str] | Exception]) -> None:
        self.records = records
        self.asked: list[tuple[str, str]] = []

    def resolve(self, name: str, rdtype: str):
        self.asked.append((name, rdtype))
        answer = self.records.get(name, NXDOMAIN(name))
        if isinstance(answer, Exception):
            raise answer
        # DNS splits TXT records into strings of at most 255 bytes; split them likewise.
        return [SimpleNamespace(strings=tuple(chunk.encode() for chunk in
                                              re.findall(r".{1,10}", text, re.S)))
                for text in answer]


GOOD_SPF = "v=spf1 include:_spf.esp.example -all"
GOOD_DMARC = "v=DMARC1; p=reject; rua=mailto:dmarc@example.org"
VERIFICATION = "site-verification=abc123"


def dns_codes(records: dict, domain: str = "example.org") -> set[str]:
    return {finding.code for finding in lint_dns(domain, resolver=FakeResolver(records))}


# (code, the domain's records, the domain)
DNS_FAILING = [
    pytest.param("spf-record-missing", {"example.org": [VERIFICATION],
                                        "_dmarc.example.org": [GOOD_DMARC]}, id="no-spf"),
    pytest.param("spf-record-pass-all", {"example.org": ["v=spf1 include:esp.example +all"],
                                         "_dmarc.example.org": [GOOD_DMARC]}, id="plus-all"),
    pytest.param("spf-record-pass-all", {"example.org": ["v=spf1 a mx all"],
                                         "_dmarc.example.org": [GOOD_DMARC]}, id="bare-all"),
    pytest.param("spf-record-multiple", {"example.org": [GOOD_SPF, "v=spf1 mx ~all"],
                                         "_dmarc.example.org": [GOOD_DMARC]}, id="two-spf"),
    pytest.param("dmarc-record-missing", {"example.org": [GOOD_SPF]}, id="no-dmarc"),
    pytest.param("dmarc-policy-none", {"example.org": [GOOD_SPF],
                                       "_dmarc.example.org": ["v=DMARC1; p=none"]},
                 id="p-none"),
    pytest.param("dns-unavailable", {"example.org": TimeoutError("timed out")}, id="timeout"),
]


@pytest.mark.parametrize("code, records", DNS_FAILING)
def test_dns_checks_report_bad_records(code, records):
    assert code in dns_codes(records)


def test_good_dns_records_have_no_findings():
    resolver = FakeResolver({"example.org": [VERIFICATION, GOOD_SPF],
                             "_dmarc.example.org": [GOOD_DMARC]})
    assert lint_dns("Example.org.", resolver=resolver) == []
    assert resolver.asked == [("example.org", "TXT"), ("_dmarc.example.org", "TXT")]


def test_a_subdomain_falls_back_to_its_organisations_dmarc_subdomain_policy():
    records = {"news.example.org": [GOOD_SPF],
               "_dmarc.example.org": ["v=DMARC1; p=reject; sp=none"]}
    findings = lint_dns("news.example.org", resolver=FakeResolver(records))
    assert [f.code for f in findings] == ["dmarc-policy-none"]
    assert "_dmarc.example.org" in findings[0].title
    assert dns_codes({"news.example.org": [GOOD_SPF], "_dmarc.example.org": [GOOD_DMARC]},
                     domain="news.example.org") == set()


def test_missing_dmarc_names_every_place_looked():
    findings = lint_dns("news.example.org", resolver=FakeResolver({"news.example.org": [GOOD_SPF]}))
    assert [f.title for f in findings] == [
        "No DMARC record at _dmarc.news.example.org or _dmarc.example.org"]


def test_a_failed_lookup_is_one_finding_naming_the_lookup():
    resolver = FakeResolver({"example.org": [GOOD_SPF], "_dmarc.example.org": TimeoutError()})
    [finding] = lint_dns("example.org", resolver=resolver)
    assert (finding.code, finding.severity) == ("dns-unavailable", "info")
    assert "_dmarc.example.org" in finding.title and "timed out" in finding.title


def test_dnspython_errors_are_told_apart():
    resolver_module = pytest.importorskip("dns.resolver")
    absent = {"example.org": resolver_module.NoAnswer(),
              "_dmarc.example.org": resolver_module.NXDOMAIN()}
    assert dns_codes(absent) == {"spf-record-missing", "dmarc-record-missing"}
    timeout = resolver_module.LifetimeTimeout(timeout=3.0, errors={})
    for failure, reason in ((timeout, "timed out"),
                            (resolver_module.NoNameservers(), "no name server answered")):
        [finding] = lint_dns("example.org", resolver=FakeResolver({"example.org": failure}))
        assert finding.code == "dns-unavailable"
        assert f"example.org failed ({reason})" in finding.title


def test_without_dnspython_dns_checks_say_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "dns", None)
    monkeypatch.setitem(sys.modules, "dns.resolver", None)
    [finding] = lint_dns("example.org")
    assert finding.code == "dns-unavailable" and "pip install" in finding.title


def test_no_domain_skips_the_dns_checks():
    assert [f.code for f in lint_dns("  ", resolver=FakeResolver({}))] == ["dns-unavailable"]


def test_checks_lists_every_code_lint_can_emit():
    emitted = {param.values[0] for param in FAILING + DNS_FAILING}
    listed = dict(CHECKS)
    assert emitted == set(listed)
    assert all(re.fullmatch(r"[a-z]+(-[a-z0-9]+)*", code) and listed[code] for code in listed)


# -- transactional mail is not held to a mailing list's rules ---------------------------
RECEIPT_HTML = page(
    "".join(f'<img src="https://example.org/p/{i}.jpg" alt="item {i}">' for i in range(4))
    + "<p>Thank you for your order #48213. Your receipt is below; your order has shipped "
      "and the tracking number is 1Z999AA10123456784. Amount paid: 54.20.</p>"
    + "".join(f'<a href="https://example.org/orders/48213/{i}">details {i}</a>'
              for i in range(12)), preheader="Your receipt for order #48213", footer="")


def test_a_receipt_without_list_unsubscribe_is_normal_mail():
    receipt = campaign(html=RECEIPT_HTML, text=None, headers={
        "Subject": "Your receipt for order #48213", "List-Id": None,
        "List-Unsubscribe": None, "List-Unsubscribe-Post": None})
    codes = {finding.code for finding in lint_message(receipt)}
    assert not codes & {"list-unsubscribe-missing", "image-text-ratio"}, codes
    sale = campaign(html=RECEIPT_HTML.replace("Thank you for your order #48213",
                                              "Spring sale: 30% off everything, shop now")
                    .replace("Your receipt", "30% off"), text=None, headers={
        "Subject": "Spring sale: 30% off, last chance", "List-Id": None,
        "List-Unsubscribe": None, "List-Unsubscribe-Post": None})
    assert {"list-unsubscribe-missing", "image-text-ratio"} <= {
        finding.code for finding in lint_message(sale)}


def test_each_rule_is_declared_once_with_its_function():
    from gatekeeper.campaign.lint import RULES, dns_rule

    assert all(r.severity in SEVERITIES and r.fix and r.checks for r in RULES.values())
    message_rules = [r for r in RULES.values() if r.check is not None]
    assert len(message_rules) >= 25
    with pytest.raises(ValueError, match="declared twice"):
        dns_rule("dkim-missing", "error", "again", "again")
