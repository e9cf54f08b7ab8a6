"""Filters people already trust, run side by side with gatekeeper in evaluations.

Evaluation only: the product never imports this module, so its scikit-learn import is
the one exception to "only profile.py imports scikit-learn". Each baseline learns from
raw messages labelled wanted or not and scores others with P(wanted); the external tools
(bogofilter, SpamAssassin and rspamd from Debian) train with their own commands or
protocol in a private temporary folder and classify natively. A tool that is not
installed is left out with a warning that says how to install it.
"""

from __future__ import annotations

import logging
import math
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import BaselineFailedError, BaselineUnavailableError, GatekeeperError
from . import corpus
from .rspamd import SPAM_SCORE, PrivateRspamd

logger = logging.getLogger(__name__)

_SCORE = re.compile(rb"score=(-?[\d.]+)\s+required=(-?[\d.]+)")


class Baseline:
    """A filter to compare with: `fit` on labelled raw mail, `score` gives P(wanted)."""

    name = "baseline"
    install_hint = ""

    @classmethod
    def available(cls) -> bool:
        return True

    def fit(self, raws: Sequence[bytes], wanted: Sequence[bool]) -> Baseline:
        raise NotImplementedError

    def score(self, raws: Sequence[bytes]) -> np.ndarray:
        raise NotImplementedError

    def _require_installed(self) -> None:
        if not self.available():
            raise BaselineUnavailableError(f"{self.name} is not installed: {self.install_hint}")


class NaiveBayesBaseline(Baseline):
    """TF-IDF + multinomial naive Bayes (scikit-learn) over the whole raw message.

    Like SpamBayes-style filters, it reads headers and body as text: raw bytes decoded
    as Latin-1 so no byte is lost.
    """

    name = "tf-idf + naive Bayes"

    def fit(self, raws, wanted):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.naive_bayes import MultinomialNB

        if len(set(wanted)) < 2:
            raise GatekeeperError("naive Bayes needs wanted and unwanted examples to learn from")
        self.vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=2, max_features=200_000)
        features = self.vectorizer.fit_transform(r.decode("latin-1") for r in raws)
        self.model = MultinomialNB(alpha=0.1).fit(features, np.asarray(wanted, dtype=int))
        return self

    def score(self, raws):
        features = self.vectorizer.transform(r.decode("latin-1") for r in raws)
        return self.model.predict_proba(features)[:, 1]


def _write_files(folder: Path, raws: Sequence[bytes]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, raw in enumerate(raws):
        path = folder / f"{index:06d}.eml"
        path.write_bytes(raw)
        paths.append(path)
    return paths


class BogofilterBaseline(Baseline):
    """bogofilter (Debian bogofilter-sqlite): Robinson-Fisher Bayesian filtering."""

    name = "bogofilter"
    install_hint = "apt-get install bogofilter-sqlite"

    @classmethod
    def available(cls) -> bool:
        return shutil.which("bogofilter") is not None

    def fit(self, raws, wanted):
        self._require_installed()
        self.home = Path(tempfile.mkdtemp(prefix="gk-bogofilter-"))
        for flag, label in (("-n", True), ("-s", False)):
            paths = _write_files(self.home / f"train-{flag}", [r for r, w in zip(raws, wanted) if w == label])
            subprocess.run(["bogofilter", "-d", str(self.home), flag, "-B", *map(str, paths)],
                           check=True, timeout=1800, capture_output=True)
        return self

    def score(self, raws):
        paths = _write_files(self.home / "score", raws)
        result = subprocess.run(["bogofilter", "-d", str(self.home), "-v", "-T", "-B",
                                 *map(str, paths)], capture_output=True, timeout=1800)
        spamicity = {}
        for line in result.stdout.decode(errors="replace").splitlines():
            parts = line.split()
            if len(parts) >= 3:
                spamicity[parts[0]] = float(parts[2])
        shutil.rmtree(self.home, ignore_errors=True)
        return np.array([1.0 - spamicity.get(str(p), 0.5) for p in paths])


class SpamAssassinBaseline(Baseline):
    """SpamAssassin (Debian) with its rules and Bayes, network tests off (-L).

    Bayes activates after 200 ham and 200 spam learned. P(wanted) is a logistic of the
    distance below the required score: 1 / (1 + exp(score - required)).
    """

    name = "SpamAssassin"
    install_hint = "apt-get install spamassassin"

    @classmethod
    def available(cls) -> bool:
        return shutil.which("spamassassin") is not None and shutil.which("sa-learn") is not None

    def _prefs(self) -> Path:
        prefs = self.home / "user_prefs"
        prefs.write_text(f"bayes_path {self.home}/bayes\nuse_bayes 1\nbayes_auto_learn 0\n")
        return prefs

    def fit(self, raws, wanted):
        self._require_installed()
        self.home = Path(tempfile.mkdtemp(prefix="gk-spamassassin-"))
        prefs = self._prefs()
        for flag, label in (("--ham", True), ("--spam", False)):
            folder = self.home / flag.strip("-")
            _write_files(folder, [r for r, w in zip(raws, wanted) if w == label])
            subprocess.run(["sa-learn", "-L", "-p", str(prefs), flag, str(folder)],
                           check=True, timeout=3600, capture_output=True)
        return self

    def score(self, raws):
        # One spamassassin process for all messages (an mbox on stdin): starting Perl and
        # loading the rules per message takes about a second each.
        result = subprocess.run(["spamassassin", "-L", "-p", str(self._prefs()), "--mbox"],
                                input=_mbox(raws), capture_output=True, timeout=6 * 3600)
        scores = np.full(len(raws), 0.5)
        for index, message in _split_mbox(result.stdout):
            match = _SCORE.search(message.split(b"\n\n", 1)[0])
            if match and index < len(raws):
                scores[index] = _p_wanted(float(match[1]), float(match[2]))
        shutil.rmtree(self.home, ignore_errors=True)
        return scores


class RspamdBaseline(Baseline):
    """rspamd (Debian) with its rules and its Bayes on redis, network checks off.

    Runs privately (`rspamd.PrivateRspamd`: own config, redis, resolver and ports). Its
    Bayes speaks once each class has `min_learns` messages learned (rspamd's default 200,
    as SpamAssassin's); with fewer it scores by its rules alone, and a warning says so.
    P(wanted) is a logistic of the distance below the score from which rspamd files mail
    as spam (6, "add header").
    """

    name = "rspamd"
    install_hint = "apt-get install rspamd redis-server"

    def __init__(self, min_learns: int = 200, cache_dir: Path | None = None) -> None:
        self.min_learns = min_learns
        self.cache_dir = cache_dir  # its compiled regular expressions are kept here

    @classmethod
    def available(cls) -> bool:
        return all(shutil.which(tool) for tool in ("rspamd", "redis-server"))

    def fit(self, raws, wanted):
        self._require_installed()
        self.server = PrivateRspamd(min_learns=self.min_learns,
                                    cache_dir=self.cache_dir or corpus.default_cache_dir()).start()
        try:
            learned = [self.server.learn([r for r, w in zip(raws, wanted) if w == label],
                                         spam=not label) for label in (True, False)]
        except BaseException:
            self.server.stop()
            raise
        self._check_learned(learned, len(raws))
        return self

    def _check_learned(self, learned: list[int], total: int) -> None:
        if total and not any(learned):
            self.server.stop()
            raise BaselineFailedError(f"rspamd learned none of {total} messages")
        if min(learned) < self.min_learns:
            logger.warning("rspamd learned %d wanted and %d unwanted messages, fewer than the "
                           "%d of each its Bayes needs: it scores by its rules alone",
                           *learned, self.min_learns)

    def score(self, raws):
        try:
            scores = self.server.scan(raws)
        finally:
            self.server.stop()
        return np.array([0.5 if s is None else _p_wanted(s, SPAM_SCORE) for s in scores])


def _p_wanted(score: float, spam_line: float) -> float:
    """A spam score as P(wanted): 1/2 on the filter's spam line, lower above it."""
    return 1.0 / (1.0 + math.exp(min(score - spam_line, 50.0)))


_FROM_LINE = re.compile(rb"^(>*From )", re.M)
_SEPARATOR = re.compile(rb"^From gk-(\d+)@evaluation .*\n", re.M)


def _mbox(raws: Sequence[bytes]) -> bytes:
    """Messages as one mboxrd file, each introduced by a From line naming its index."""
    parts = []
    for index, raw in enumerate(raws):
        body = _FROM_LINE.sub(rb">\1", raw.replace(b"\r\n", b"\n")).rstrip(b"\n")
        parts.append(b"From gk-%d@evaluation Thu Jan  1 00:00:00 1970\n%s\n\n" % (index, body))
    return b"".join(parts)


def _split_mbox(data: bytes) -> list[tuple[int, bytes]]:
    """(index, message) for each message of an mbox written by `_mbox` and passed through."""
    marks = list(_SEPARATOR.finditer(data))
    return [(int(mark[1]), data[mark.end(): marks[i + 1].start() if i + 1 < len(marks) else None])
            for i, mark in enumerate(marks)]


ALL = (NaiveBayesBaseline, BogofilterBaseline, SpamAssassinBaseline, RspamdBaseline)


def available_baselines() -> list[Baseline]:
    """One of each baseline that is installed; the others are named in a warning."""
    for cls in ALL:
        if not cls.available():
            logger.warning("%s is left out: it is not installed (%s)", cls.name, cls.install_hint)
    return [cls() for cls in ALL if cls.available()]
