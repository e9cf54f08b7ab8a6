"""The baselines: the mbox plumbing, and bogofilter, SpamAssassin and rspamd really run."""

from __future__ import annotations

import logging
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatekeeper.errors import BaselineUnavailableError
from gatekeeper.evaluation.baselines import (
    BogofilterBaseline, NaiveBayesBaseline, RspamdBaseline, SpamAssassinBaseline,
    available_baselines, _mbox, _split_mbox)
from gatekeeper.evaluation.rspamd import PrivateRspamd, nxdomain_reply, post
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


@pytest.fixture(scope="module")
def rspamd_cache(tmp_path_factory):
    """One cache of rspamd's compiled expressions for this module (compiling takes ~8 s)."""
    return tmp_path_factory.mktemp("rspamd-cache")


def require(baseline) -> None:
    if not baseline.available():
        pytest.fail(f"{baseline.name} is not installed: {baseline.install_hint} "
                    "(./scripts/test does this when run as root)", pytrace=False)


@pytest.mark.parametrize("baseline", [NaiveBayesBaseline, BogofilterBaseline, SpamAssassinBaseline,
                                      RspamdBaseline])
def test_each_baseline_learns_and_ranks_wanted_mail_higher(baseline, rspamd_cache):
    require(baseline)
    raws, wanted = training_mail()
    # 20 of each class: below rspamd's default of 200 learns before its Bayes speaks.
    model = (RspamdBaseline(min_learns=20, cache_dir=rspamd_cache) if baseline is RspamdBaseline
             else baseline())
    model = model.fit(raws[:40], wanted[:40])
    scores = model.score(raws[40:])
    assert len(scores) == 20 and ((0 <= scores) & (scores <= 1)).all()
    kept = [s for s, w in zip(scores, wanted[40:]) if w]
    junk = [s for s, w in zip(scores, wanted[40:]) if not w]
    assert min(kept) > max(junk), (kept, junk)


def test_rspamd_learns_to_put_the_junk_over_its_spam_line(rspamd_cache):
    require(RspamdBaseline)
    raws, wanted = training_mail()
    # By its rules alone rspamd leaves this junk under its spam line (P(wanted) 0.97).
    scores = RspamdBaseline(min_learns=20, cache_dir=rspamd_cache).fit(
        raws[:40], wanted[:40]).score(raws[40:])
    assert max(scores[~np.array(wanted[40:])]) < 0.5 < min(scores[np.array(wanted[40:])])


def test_an_installed_rspamd_runs_in_the_evaluation():
    require(RspamdBaseline)
    assert RspamdBaseline in [type(baseline) for baseline in available_baselines()]


def test_a_missing_rspamd_is_left_out_with_how_to_install_it(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("PATH", str(tmp_path))  # no rspamd, no redis-server
    assert not RspamdBaseline.available()
    with caplog.at_level(logging.WARNING, logger="gatekeeper.evaluation.baselines"):
        names = [baseline.name for baseline in available_baselines()]
    assert "rspamd" not in names
    assert "rspamd is left out: it is not installed (apt-get install rspamd redis-server)" \
        in caplog.text
    raws, wanted = training_mail()
    with pytest.raises(BaselineUnavailableError, match="apt-get install rspamd redis-server"):
        RspamdBaseline().fit(raws, wanted)


def test_rspamd_asks_no_network_check_and_its_lookups_get_an_instant_answer(rspamd_cache):
    require(RspamdBaseline)
    server = PrivateRspamd(min_learns=200, cache_dir=rspamd_cache).start()
    try:
        relayed = build_message(
            body="Offer at http://deals.example.com/win and https://bit.ly/x1 now",
            headers={"Received": "from mx.example.com (mx.example.com [198.51.100.7]) by "
                                 "mail.example.net with ESMTP id 1; Fri, 20 Nov 2026 09:00:00"})
        # Network checks off: no DNS list, SPF, DKIM or URL lookup for relay IPs and links.
        assert server.scan([relayed]) != [None] and server.resolver.questions == 0
        # The client's reverse DNS, asked when an MTA names the client: our resolver answers.
        status, _ = post(server.scan_port, "/checkv2", relayed, {"IP": "192.0.2.1"})
        assert status == 200 and server.resolver.questions >= 1
    finally:
        server.stop()
    assert not server.folder.exists()


def dns_query(labels: list[bytes], qtype: int, ident: int, flags: int) -> bytes:
    name = b"".join(bytes([len(label)]) + label for label in labels) + b"\0"
    return struct.pack(">HHHHHH", ident, flags, 1, 0, 0, 1) + name + struct.pack(">HH", qtype, 1) \
        + b"\0\0\x29\x10\0\0\0\0\0\0\0"  # an EDNS record, which the reply leaves out


@given(st.lists(st.binary(min_size=1, max_size=63), max_size=5),
       st.integers(0, 65535), st.integers(0, 65535), st.integers(0, 0x7FFF))
def test_nxdomain_reply_answers_the_question_no_such_name(labels, qtype, ident, flags):
    query = dns_query(labels, qtype, ident, flags)
    reply = nxdomain_reply(query)
    question = query[12:-11]
    assert reply[:2] == query[:2] and reply[12:] == question
    assert reply[2] & 0x80 and reply[3] & 0x0F == 3  # a reply; no such name
    assert struct.unpack(">HHHH", reply[4:12]) == (1, 0, 0, 0)


@given(st.binary(max_size=80))
def test_nxdomain_reply_never_raises_on_garbage(data):
    reply = nxdomain_reply(data)
    assert reply is None or reply[:2] == data[:2]
