"""Each persona of the built-in audience behaves as described, on the real model: it passes
mail on its interests and does not pass mail on its disinterests, and fund-raising, casino
and other people's mailings do not get through for most of them (tests/persona_mail.py)."""

from __future__ import annotations

import pytest

from gatekeeper.campaign.audience import default_audience
from gatekeeper.campaign.segments import build_segments
from gatekeeper.campaign.simulate import read_campaign, simulate
from gatekeeper.core.policy import PolicySettings
from gatekeeper.testing import build_message
from persona_mail import APPEALS, OFF_TOPIC, ON_TOPIC

pytestmark = pytest.mark.model
RECIPIENTS = 3600  # 200 per persona
PASSES = 0.8  # of a persona's recipients, for mail on its interests
DOES_NOT_PASS = 0.2  # at most, for mail it should not get (5% are probes by design)


@pytest.fixture(scope="module")
def pass_shares():
    """Mail name -> persona -> first-send pass share, every mail to the same recipients."""
    from gatekeeper.core.embed import OnnxEmbedder

    embedder, audience = OnnxEmbedder(), default_audience()
    segments = build_segments(audience, embedder, PolicySettings())
    mails = {**{f"on:{k}": v for k, v in ON_TOPIC.items()},
             **{f"off:{k}": v for k, v in OFF_TOPIC.items()}, **APPEALS}
    campaigns = [read_campaign(name, build_message(
        sender=sender, subject=subject, body=body,
        headers={"List-Id": "<news.sender.example>", "Precedence": "bulk"}))
        for name, (sender, subject, body) in mails.items()]
    report = simulate(campaigns, audience, embedder, recipients=RECIPIENTS, segments=segments,
                      explain=False).to_dict()
    return {variant["name"]: {s["name"]: s["actions"]["pass"]["share"]
                              for s in variant["segments"]} for variant in report["variants"]}


def test_every_persona_has_mail_written_for_it():
    names = {persona.name for persona in default_audience().personas}
    assert set(ON_TOPIC) == names == set(OFF_TOPIC)


@pytest.mark.parametrize("persona", sorted(ON_TOPIC))
def test_a_persona_passes_mail_on_its_interests(pass_shares, persona):
    assert pass_shares[f"on:{persona}"][persona] >= PASSES


@pytest.mark.parametrize("persona", sorted(OFF_TOPIC))
def test_a_persona_does_not_pass_mail_on_its_disinterests(pass_shares, persona):
    assert pass_shares[f"off:{persona}"][persona] <= DOES_NOT_PASS


@pytest.mark.parametrize("persona", sorted(ON_TOPIC))
def test_a_persona_does_not_pass_most_mail_written_for_others(pass_shares, persona):
    others = [pass_shares[f"on:{other}"][persona] for other in ON_TOPIC if other != persona]
    passed = sum(share > 0.5 for share in others)
    assert passed <= 2, f"{persona} passes {passed} of {len(others)} other personas' mail"


def test_the_developer_does_not_pass_appeals_or_casino_offers(pass_shares):
    for mail in APPEALS:
        assert pass_shares[mail]["software developer"] <= DOES_NOT_PASS, mail


@pytest.mark.parametrize("mail", sorted(APPEALS))
def test_most_personas_do_not_pass_appeals(pass_shares, mail):
    passing = [name for name, share in pass_shares[mail].items() if share > DOES_NOT_PASS]
    assert len(passing) <= 3, passing
