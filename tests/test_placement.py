"""The placement model and the verdict: mail written here for each kind a provider sorts,
checked against what the providers' published rules say should happen to it."""

from __future__ import annotations

import pytest

from gatekeeper.campaign.content_kind import EDITORIAL, PROMOTIONAL, TRANSACTIONAL, content_kind
from gatekeeper.campaign.lint import lint_message
from gatekeeper.campaign.lint import CHECKS
from gatekeeper.campaign.placement import FINDING_POINTS, SenderFacts, forecast
from gatekeeper.campaign.verdict import ranked_changes
from gatekeeper.core.message import parse
from gatekeeper.testing import build_message

SIGNED = "v=1; a=rsa-sha256; d={domain}; s=mail; h=from:subject; bh=abc=; b=def="
ONE_CLICK = {"List-Unsubscribe": "<https://shop.example/u?id=7>",
             "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
SALE_HTML = ("<html><body><p>Spring sale: 30% off every jacket and boot until Sunday. "
             "Free shipping on orders over 50. Shop now before your size sells out.</p>"
             + "".join(f'<p><a href="https://shop.example/p/{i}">Jacket {i}</a></p>'
                       for i in range(12)) + "</body></html>")
SALE_TEXT = "Spring sale: 30% off every jacket and boot until Sunday. Shop now."


def mail(subject: str, body: str, *, sender: str = "Shop <news@shop.example>",
         html: str | None = None, headers: dict | None = None, signed: str | None = "shop.example"):
    all_headers = dict(headers or {})
    if signed:
        all_headers["DKIM-Signature"] = SIGNED.format(domain=signed)
    return build_message(sender=sender, subject=subject, body=body, html=html,
                         headers=all_headers)


def placed(raw: bytes, facts: SenderFacts | None = None, dns=()):
    return forecast(parse(raw), [*lint_message(raw), *dns], facts)


GOOD_SALE = mail("Spring sale: 30% off jackets", SALE_TEXT, html=SALE_HTML,
                 headers={"List-Id": "<news.shop.example>", **ONE_CLICK})
UNSIGNED_MAILTO_SALE = mail("Spring sale: 30% off jackets", SALE_TEXT, html=SALE_HTML,
                            signed=None, headers={"List-Id": "<news.shop.example>",
                                                  "List-Unsubscribe": "<mailto:u@shop.example>"})
RECEIPT = mail("Your receipt for order #48213",
               "Thank you for your order #48213. Your order has shipped; the tracking number "
               "is 1Z999AA10123456784. Amount paid: 54.20. Questions? Reply to this email.",
               sender="Shop <orders@shop.example>")
PASSWORD_RESET = mail("Reset your password",
                      "Someone asked to reset your password. Your verification code is 318 442; "
                      "it expires in 15 minutes. If it was not you, ignore this message.",
                      sender="Shop accounts <no-reply@shop.example>")
PERSONAL = mail("Dinner on Friday?", "Hi Sam, are you free on Friday? We could try the new "
                "place on Mill Lane around eight. Let me know. Alex",
                sender="Alex Moreno <alex@moreno.example>", signed="moreno.example")
NEWSLETTER = mail("This week in urban gardening: soil, seeds and shade",
                  "Our editors tested three seed-starting mixes and visited a rooftop garden "
                  "that grows forty kinds of herbs in shade. Plus reader questions on compost.",
                  sender="Green Patch <letters@greenpatch.example>", signed="greenpatch.example",
                  headers={"List-Id": "<letters.greenpatch.example>",
                           "List-Unsubscribe": "<https://greenpatch.example/u>",
                           "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})


@pytest.mark.parametrize("raw, kind", [
    (GOOD_SALE, PROMOTIONAL), (RECEIPT, TRANSACTIONAL), (PASSWORD_RESET, TRANSACTIONAL),
    (PERSONAL, EDITORIAL), (NEWSLETTER, EDITORIAL)])
def test_content_kind_reads_what_the_mail_is(raw, kind):
    message = parse(raw)
    assert content_kind(message.subject, message.text) == kind


@pytest.mark.parametrize("raw", [RECEIPT, PASSWORD_RESET, PERSONAL], ids=["receipt", "reset",
                                                                          "personal"])
def test_transactional_and_personal_mail_lands_in_primary(raw):
    placement = placed(raw)
    assert placement.primary > 0.8 and placement.spam < 0.05, placement


def test_a_well_built_sale_lands_in_promotions():
    placement = placed(GOOD_SALE)
    assert placement.promotions > 0.8 and placement.spam < 0.1
    assert placed(NEWSLETTER).promotions > 0.6


def test_a_transactional_message_without_list_unsubscribe_is_not_penalised():
    codes = {f.code for f in lint_message(RECEIPT)}
    assert "list-unsubscribe-missing" not in codes
    assert all(f.towards != "spam" or f.points <= 0 for f in placed(RECEIPT).factors)


def test_breaking_the_bulk_sender_rules_sends_the_same_sale_to_spam():
    good, bad = placed(GOOD_SALE), placed(UNSIGNED_MAILTO_SALE)
    assert bad.spam > 0.3 and bad.spam > 5 * good.spam
    assert {"dkim-missing", "one-click-unsubscribe-missing", "list-unsubscribe-no-https"} <= {
        f.code for f in bad.factors}
    assert bad.main_risk().code == "dkim-missing"  # the heaviest factor is named


def test_complaint_rates_count_against_the_published_thresholds():
    spam = [placed(GOOD_SALE, SenderFacts(complaint_rate=rate)).spam
            for rate in (0.0002, 0.0009, 0.0015, 0.0025, 0.004)]
    assert spam == sorted(spam) and len(set(spam)) == 5
    assert spam[-1] > 0.2 > spam[0]


def test_a_volume_spike_against_the_senders_history_is_a_risk():
    usual = placed(GOOD_SALE, SenderFacts(usual_volume=10_000, volume=12_000))
    spike = placed(GOOD_SALE, SenderFacts(usual_volume=10_000, volume=80_000))
    assert spike.spam > usual.spam
    assert any("Volume spike" in f.name for f in spike.factors)


def test_dns_findings_feed_the_forecast():
    from gatekeeper.campaign.lint import Finding

    missing = Finding("dmarc-record-missing", "error", "No DMARC record", "publish one")
    assert placed(GOOD_SALE, dns=[missing]).spam > placed(GOOD_SALE).spam


def test_every_finding_with_points_is_a_lint_code():
    assert set(FINDING_POINTS) <= dict(CHECKS).keys()


def test_same_sender_pairs_rank_the_better_built_one_first():
    """Pairs of one sender's mail, one built to the rules and one not: the forecast puts
    the first in the inbox more often, for every kind of mail."""
    pairs = [
        (GOOD_SALE, UNSIGNED_MAILTO_SALE),
        (RECEIPT, mail("Your receipt for order #48213", parse(RECEIPT).text, signed=None,
                       sender="Shop <orders@shop.example>")),
        (NEWSLETTER, mail(parse(NEWSLETTER).subject, parse(NEWSLETTER).text,
                          sender="Green Patch <letters@greenpatch.example>",
                          signed="mailer.example", headers={"List-Id": "<l.greenpatch.example>"})),
        (GOOD_SALE, mail("HUGE SALE!!! 30% OFF", SALE_TEXT + " https://bit.ly/xyz",
                         html=SALE_HTML.replace("https://shop.example/p/1", "https://bit.ly/a"),
                         headers={"List-Id": "<news.shop.example>", **ONE_CLICK})),
    ]
    for good, bad in pairs:
        assert placed(good).inbox > placed(bad).inbox


# -- the verdict --------------------------------------------------------------------------
def test_changes_are_ranked_by_their_gain_each_forecast_again():
    findings = lint_message(UNSIGNED_MAILTO_SALE)
    changes = ranked_changes(UNSIGNED_MAILTO_SALE, findings, SenderFacts())
    actions = [change.action for change in changes]
    assert any("one-click unsubscribe" in a for a in actions)
    assert any("DKIM" in a for a in actions)
    gains = [change.gain for change in changes]
    assert gains == sorted(gains, reverse=True) and gains[0] > 0.05
    before = placed(UNSIGNED_MAILTO_SALE).inbox
    for change in changes:
        assert change.inbox_after == pytest.approx(before + change.gain)
    one_click = next(c for c in changes if "one-click" in c.action)
    assert set(one_click.fixes) == {"one-click-unsubscribe-missing", "list-unsubscribe-no-https"}


def test_a_clean_message_needs_no_change_and_complaints_are_one():
    assert ranked_changes(GOOD_SALE, lint_message(GOOD_SALE), SenderFacts()) == []
    changes = ranked_changes(GOOD_SALE, lint_message(GOOD_SALE),
                             SenderFacts(complaint_rate=0.004))
    assert len(changes) == 1 and "complaints under 0.08%" in changes[0].action


def test_fixes_rewrite_the_message_itself():
    from gatekeeper.campaign.verdict import _add_text_part, _rewrite_links, _sentence_case_subject

    html_only = build_message(subject="Hi", body="", html="<p>Read <a href='https://bit.ly/q'>"
                              "this</a> now.</p>", sender="A <a@shop.example>")
    with_text = parse(_add_text_part(html_only))
    assert with_text.has_text_plain and with_text.html and "Read this now" in with_text.text
    rewritten = _rewrite_links(html_only, lambda host: host == "bit.ly")
    assert "bit.ly" not in rewritten.decode() and "https://shop.example/go" in rewritten.decode()
    quiet = parse(_sentence_case_subject(mail("HUGE SALE TODAY!!!", "x")))
    assert quiet.subject == "Huge sale today!"
