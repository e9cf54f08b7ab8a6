"""The baselines: the mbox plumbing, and bogofilter and SpamAssassin really run."""

from __future__ import annotations


import pytest

from gatekeeper.baselines import (
    BogofilterBaseline, NaiveBayesBaseline, SpamAssassinBaseline, _mbox, _split_mbox)
from gatekeeper.testing import build_message


def test_mbox_round_trip_escapes_from_lines():
    raws = [build_message(body="From here on\nit is fine.\n>From quoted"),
            build_message(subject="second", body="plain")]
    parts = _split_mbox(_mbox(raws))
    assert [index for index, _ in parts] == [0, 1]
    assert b"\n>From here on\n" in parts[0][1] and b"\n>>From quoted" in parts[0][1]
    assert b"Subject: second" in parts[1][1]


def training_mail() -> tuple[list[bytes], list[bool]]:
    raws, wanted = [], []
    for n in range(30):
        raws.append(build_message(sender="colleague@work.example", subject=f"Agenda {n}",
                                  body=f"Notes for the project meeting {n}: review the design."))
        wanted.append(True)
        raws.append(build_message(sender=f"promo{n}@casino.example", subject=f"WIN {n} $$$",
                                  body=f"Casino bonus! Claim your free money now {n}!!! viagra"))
        wanted.append(False)
    return raws, wanted


@pytest.mark.parametrize("baseline", [NaiveBayesBaseline, BogofilterBaseline, SpamAssassinBaseline])
def test_each_baseline_learns_and_ranks_wanted_mail_higher(baseline):
    if not baseline.available():
        pytest.fail(f"{baseline.name} is not installed: {baseline.install_hint} "
                    "(./scripts/test does this when run as root)", pytrace=False)
    raws, wanted = training_mail()
    model = baseline().fit(raws[:40], wanted[:40])
    scores = model.score(raws[40:])
    assert len(scores) == 20 and ((0 <= scores) & (scores <= 1)).all()
    kept = [s for s, w in zip(scores, wanted[40:]) if w]
    junk = [s for s, w in zip(scores, wanted[40:]) if not w]
    assert min(kept) > max(junk), (kept, junk)
