"""Filters people already trust, run side by side with gatekeeper in evaluations.

Evaluation only: the product never imports this module, so its scikit-learn import is
the one exception to "only profile.py imports scikit-learn". Each baseline learns from
raw messages labelled wanted or not and scores others with P(wanted); the external tools
(bogofilter, SpamAssassin from Debian) train with their own commands in a private
temporary folder and classify natively.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import GatekeeperError

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
                scores[index] = 1.0 / (1.0 + math.exp(min(float(match[1]) - float(match[2]), 50.0)))
        shutil.rmtree(self.home, ignore_errors=True)
        return scores


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


ALL = (NaiveBayesBaseline, BogofilterBaseline, SpamAssassinBaseline)


def available_baselines() -> list[Baseline]:
    return [cls() for cls in ALL if cls.available()]
