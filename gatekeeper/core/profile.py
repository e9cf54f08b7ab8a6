"""The interest profile: how much this reader wants a message, learned from behaviour.

`InterestProfile` follows scikit-learn's estimator contract: keyword hyperparameters and no
logic in `__init__`, `get_params` / `set_params`, `fit` / `partial_fit` return `self`,
learned state ends in `_`, and using it unfitted raises `NotFittedError`. It is one
logistic model over five blocks:

- the message's sentence embedding (meaning: topics, interests),
- a hashed bag of words, TF-IDF weighted (the spam-like surface that embeddings smooth
  away; the IDF comes from the kept examples at the last refit),
- header and sender signals (bulk markers, authentication, the sender's history),
- a prior from the reader's plain-language interests and disinterests: how close the
  message's meaning is to them, and how many of an interest's own words it uses,
- a prior from what nearly every reader throws away (`junk.JUNK_STATEMENTS`): how close
  the message's meaning is to the closest of those statements.

The coefficients are regularised toward a prior mean in which only the two priors
count, so on the first day the statements decide and, as evidence accumulates, the data
takes over. Labelled examples are kept (bounded, with their time and the id of the
reaction they came from) so that `consolidate` can refit exactly with recency decay, and
`forget` can refit without the ones the reader took back; `partial_fit` takes cheap
gradient steps in between.

Learning is bounded, so one reaction cannot turn the profile over: an online step moves
no message's log-odds by more than `MAX_STEP_LOG_ODDS` (the step is scaled down to fit
the most any message could move, `_reach`), it leaves the weight of the reader's own
statements alone (only a refit, over every example, estimates it), and a refit keeps
that weight at or above `STATEMENTS_WEIGHT_FLOOR`: learning may trust the statements
less, never turn them around.

It does not import scikit-learn, whose import alone costs a daemon 64 MB of its memory:
the words are hashed as scikit-learn's `HashingVectorizer` hashes them (a test holds the
two equal), and scipy's optimiser is loaded only when the profile is first refitted.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from scipy import sparse

from ..errors import NotFittedError, ProfileFormatError
from .features import HISTORY_SIGNALS
from .words import TOKEN_PATTERN, WORD_FEATURES, InterestWords, term_frequencies

# 2: examples keep term frequencies, weighted by IDF when used; 3: examples keep the id of
# their reaction, and the feature schema is saved with the profile.
FORMAT_VERSION = 3
EMBEDDING_DIMENSION = 384
BLOCKS = ("meaning", "words", "signals", "interests", "junk", "bias")  # the input, in order
# Where the two priors' weights and the bias sit at the end of the coefficients.
STATEMENTS_WEIGHT, JUNK_WEIGHT, BIAS = -3, -2, -1
ONLINE_STEPS = 3  # gradient steps `partial_fit` takes on each reaction
# The most one reaction's online step may move any message's log-odds: a factor of 4.5 in
# the odds. Before this bound one rescue of a message its statements scored at -19 moved
# the statements' weight from +1.58 to -1.09, and every message on a disinterest passed.
MAX_STEP_LOG_ODDS = 1.5
# Signals are clipped to [-3, 3], so the step bound holds for every message. No signal
# reaches it on real mail: the largest, a log count of links or of sender events, needs
# about 8,000 of them.
SIGNAL_LIMIT = 3.0
STATEMENTS_WEIGHT_FLOOR = 0.25  # a refit may weigh the reader's statements down to this
NO_REACTION = -1  # the id of an example that came from no stored reaction
CALIBRATION_FOLDS = 3  # held-out predictions for the refit's slope (`_held_out_slope`)
CALIBRATION_MIN_EXAMPLES = 60  # fewer: too few held-out predictions to trust a slope


@dataclass
class Evidence:
    """What the profile reads about a batch of messages: one row per message.

    `embeddings` are unit vectors from the embedder, `texts` the words the model reads
    (`Message.text_for_words`: subject, body start, header tokens), `signals` the header
    and sender features of `gatekeeper.core.features` (one fixed-width row per message),
    `notes` a short description per message that `explain` can quote ("Orbital Weekly:
    This week in spaceflight"), `signal_names` the name of each signal column (a profile
    is pinned to them; unnamed columns are called by their position). `words`, when
    given, are the texts' hashed term counts already (`term_frequencies`): a lesson
    kept in the store has no text.
    """

    embeddings: np.ndarray
    texts: Sequence[str]
    signals: np.ndarray
    notes: Sequence[str] = field(default_factory=list)
    signal_names: Sequence[str] = ()
    words: sparse.csr_matrix | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, index: slice | Sequence[int]) -> Evidence:
        rows = np.arange(len(self))[index]
        notes = [self.notes[i] for i in rows] if len(self.notes) else []
        words = None if self.words is None else self.words[rows]
        return Evidence(self.embeddings[rows], [self.texts[i] for i in rows],
                        self.signals[rows], notes, self.signal_names, words)

    def term_frequencies(self) -> sparse.csr_matrix:
        return self.words if self.words is not None else term_frequencies(self.texts)

    def names(self) -> tuple[str, ...]:
        """The signal columns' names, positional ones when none were given."""
        width = np.asarray(self.signals).shape[1]
        return tuple(self.signal_names) or tuple(f"signal {i}" for i in range(width))

    def without_signals(self, names: Sequence[str]) -> Evidence:
        """The same evidence with the signals named `names` at zero."""
        signals = np.array(self.signals, dtype=np.float64)
        signals[:, [self.names().index(name) for name in names]] = 0.0
        return replace(self, signals=signals)


@dataclass(frozen=True)
class Explanation:
    """Why the profile scored a message as it did."""

    probability: float  # P(wanted)
    contributions: dict[str, float]  # log-odds added by each block (and the bias)
    nearest: list[tuple[str, bool, float]]  # (note, wanted?, cosine) of the closest examples


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35.0, 35.0)))


class InterestProfile:
    """P(wanted) for a message, from the reader's statements and behaviour.

    Hyperparameters:
        alpha: strength of the pull toward the prior mean (higher: learns more slowly).
        prior_scale: log-odds per unit of interest-minus-disinterest similarity.
        prior_offset: similarity at which the interest prior is neutral.
        interest_word_weight: log-odds the interest prior adds per unit of log(1 + the
            most content words of one interest statement that the message uses).
        junk_offset: cosine to the closest junk statement above which the junk prior
            counts against a message (`prior_scale` log-odds per unit above it).
        embedding_weight, word_weight, signal_weight: the scale of each block; a smaller
            scale asks for larger coefficients, so the block is regularised harder.
        half_life_days: evidence this old counts half in `consolidate`.
        history_signals: how many trailing signals describe the sender's history rather
            than the message (`features.HISTORY_SIGNALS`).
        unseen_sender_weight: weight of each example's copy in `consolidate` as if its
            sender were new (history signals zero); 0 leaves the copies out.
        learning_rate: step size of the online updates in `partial_fit`.
        max_examples: labelled examples kept for refits (oldest dropped first).
        neighbours: examples quoted by `explain`.

    The defaults come from the tuning world of `scripts/bench_quality.py`'s two tasks
    (`gatekeeper.evaluation.splits`; the published figures come from the other world): a grid over
    the embedding and word weights (0.5, 1, 2 and 1, 2, 4), then the signal weight (0.25,
    0.5, 1) and alpha (0.01, 0.03, 0.1), batch protocol, senders never seen and later
    mail. Alpha 0.01 held the least wanted mail on both tasks (SpamAssassin, new senders
    6.1% -> 4.9%; newsgroups, later posts 34.6% -> 31.2%). The embedding at full scale
    ranked mail from new senders better (AUC 0.9926 -> 0.9946, removed at 0.1% wanted
    lost 62% -> 78%) but widened `meaning_bounds` so far that the daemon's pipeline read
    97% of messages with the model instead of 22% (deciding 402 -> 111 messages/s; 67%
    read at 0.7): the embedding stays at half scale. Words at 4 held less but ranked
    worse; signals at 1 removed less spam at 0.1% wanted lost.
    """

    # Learned state (scikit-learn's trailing _), absent before `set_statements` or `fit`.
    # With statements only, the coefficients, signals and examples are None.
    interests_: np.ndarray
    disinterests_: np.ndarray
    interest_words_: InterestWords
    junk_: np.ndarray
    signal_names_: tuple[str, ...] | None
    n_signals_: int | None
    coef_: np.ndarray | None
    prior_coef_: np.ndarray
    idf_: np.ndarray | None
    examples_: _Examples | None
    _calibration: tuple[float, int, float] | None  # (newest example time, examples, slope)

    def __init__(
        self,
        *,
        alpha: float = 0.01,
        prior_scale: float = 12.0,
        prior_offset: float = 0.25,
        interest_word_weight: float = 1.0,
        junk_offset: float = 0.35,
        embedding_weight: float = 0.5,
        word_weight: float = 2.0,
        signal_weight: float = 0.5,
        half_life_days: float = 120.0,
        history_signals: int = HISTORY_SIGNALS,
        unseen_sender_weight: float = 1.0,
        learning_rate: float = 0.5,
        max_examples: int = 20000,
        neighbours: int = 4,
    ) -> None:
        self.alpha = alpha
        self.prior_scale = prior_scale
        self.prior_offset = prior_offset
        self.interest_word_weight = interest_word_weight
        self.junk_offset = junk_offset
        self.embedding_weight = embedding_weight
        self.word_weight = word_weight
        self.signal_weight = signal_weight
        self.half_life_days = half_life_days
        self.history_signals = history_signals
        self.unseen_sender_weight = unseen_sender_weight
        self.learning_rate = learning_rate
        self.max_examples = max_examples
        self.neighbours = neighbours

    # -- hyperparameters ------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict:
        """The hyperparameters, by name (`deep` is scikit-learn's; nothing is nested)."""
        return {name: getattr(self, name) for name in _hyperparameter_names()}

    def set_params(self, **params) -> InterestProfile:
        unknown = set(params) - set(_hyperparameter_names())
        if unknown:
            raise ValueError(f"InterestProfile has no hyperparameter {', '.join(sorted(unknown))}")
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = inspect.signature(type(self)).parameters
        changed = {name: value for name, value in self.get_params().items()
                   if value != defaults[name].default}
        return f"InterestProfile({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    # -- statements -----------------------------------------------------------------
    def set_statements(self, interests: np.ndarray, disinterests: np.ndarray,
                       interest_words: InterestWords | None = None,
                       junk: np.ndarray | None = None) -> InterestProfile:
        """Use these embedded interest and disinterest statements as the prior, and the
        interests' content words (`words.InterestWords.of` their texts) when given; `junk`
        are the embedded `junk.JUNK_STATEMENTS` of the junk prior (none: no junk prior)."""
        self.interests_ = np.asarray(interests, dtype=np.float32).reshape(-1, 384)
        self.disinterests_ = np.asarray(disinterests, dtype=np.float32).reshape(-1, 384)
        self.interest_words_ = interest_words or InterestWords.none()
        self.junk_ = np.zeros((0, 384), np.float32) if junk is None else \
            np.asarray(junk, dtype=np.float32).reshape(-1, 384)
        if not hasattr(self, "coef_"):
            self._start(signal_names=None)
        return self

    def interest_prior(self, embeddings: np.ndarray,
                       term_counts: sparse.csr_matrix | None = None) -> np.ndarray:
        """Log-odds from the statements alone (0 when there are none): the meaning's
        closeness to them, plus the interests' own words in `term_counts` when given."""
        gap = np.zeros(len(embeddings), dtype=np.float64)
        if len(self.interests_):
            gap += (embeddings @ self.interests_.T).max(axis=1) - self.prior_offset
        if len(self.disinterests_):
            gap -= np.maximum((embeddings @ self.disinterests_.T).max(axis=1) - self.prior_offset, 0)
        prior = self.prior_scale * gap
        return prior if term_counts is None else prior + self.interest_words_prior(term_counts)

    def interest_words_prior(self, term_counts: sparse.csr_matrix) -> np.ndarray:
        """The interest prior's log-odds from the interests' own words: it reads no
        embedding, so the daemon knows it before the model runs.

        Chosen on the 20 Newsgroups task's tuning world (`scripts/bench_quality.py`; the
        SpamAssassin task has no statements). With the statements alone, weight 0 -> 1 -> 2:
        AUC 0.909 -> 0.921 -> 0.914 (senders never seen), 0.903 -> 0.912 -> 0.902 (later
        posts); after 100 reactions 0.917 -> 0.927 and 0.911 -> 0.917 at weight 1;
        prequential, wanted posts held 28.6% -> 26.8%, unwanted left 0.5% -> 0.2%, ECE
        0.007 -> 0.016; batch AUC 0.978 / 0.985 either way."""
        return self.interest_word_weight * np.log1p(self.interest_words_.matches(term_counts))

    def junk_prior(self, embeddings: np.ndarray) -> np.ndarray:
        """Log-odds from the junk statements (0 without them): minus `prior_scale` times
        how far the cosine to the closest one passes `junk_offset`.

        Evidence that carries over to senders and kinds of mail never seen: on the
        SpamAssassin task's tuning world the cosine alone tells the commercial mail a
        reader wanted from spam at AUC 0.818, learning nothing from the corpus. Offset
        chosen there (batch; no junk prior / 0.30 / 0.35 / 0.40): senders never seen, AUC
        0.9927 / 0.9921 / 0.9929 / 0.9924, spam removed at 0.1% wanted lost 61.6% / 75.2%
        / 76.0% / 68.0%, wanted held 4.8% / 5.3% / 4.1% / 3.9%; a kind of mail never
        seen (the commercial mail wanted, against spam), AUC 0.875 / 0.909 / 0.897 /
        0.885, held 74% / 57% / 57% / 57%; later mail, AUC 0.9999 / 0.9995 / 0.9996 /
        0.9998. Its weight is learned like the statements', and stays at or above 0.
        """
        if not len(self.junk_):
            return np.zeros(len(embeddings))
        closest = (np.asarray(embeddings, np.float32) @ self.junk_.T).max(axis=1)
        return -self.prior_scale * np.maximum(closest.astype(np.float64) - self.junk_offset, 0)

    # -- features -------------------------------------------------------------------
    def _rows(self, X: Evidence, counts: sparse.csr_matrix | None = None) -> _Rows:
        """The model's input, block by block: [embedding | words | signals | prior | junk | 1]."""
        embeddings = np.asarray(X.embeddings, dtype=np.float32)
        counts = X.term_frequencies() if counts is None else counts
        return _Rows(embeddings * self.embedding_weight, self._tf_idf(counts),
                     self._scaled_signals(X.signals), self.interest_prior(embeddings, counts),
                     self.junk_prior(embeddings))

    def _scaled_signals(self, signals: np.ndarray) -> np.ndarray:
        """Signals clipped to the limit the step bound counts on, times their weight."""
        clipped = np.clip(np.asarray(signals, dtype=np.float64), -SIGNAL_LIMIT, SIGNAL_LIMIT)
        return clipped * self.signal_weight

    def _tf_idf(self, term_frequencies: sparse.csr_matrix,
                idf: np.ndarray | None = None) -> sparse.csr_matrix:
        """Term frequencies weighted by `idf` (default `idf_`), each row scaled to length
        `word_weight`."""
        idf = getattr(self, "idf_", None) if idf is None else idf
        words = term_frequencies.copy()
        words.data *= 0.0 if idf is None else idf[words.indices]
        lengths = np.sqrt(np.asarray(words.multiply(words).sum(axis=1)).ravel())
        scale = np.divide(self.word_weight, lengths, out=np.zeros_like(lengths), where=lengths > 0)
        return sparse.diags(scale) @ words

    def _start(self, signal_names: Sequence[str] | None) -> None:
        """Set the prior mean: only the two priors count, everything else is zero."""
        self.signal_names_ = None if signal_names is None else tuple(signal_names)
        self.n_signals_ = None if signal_names is None else len(signal_names)
        self._calibration = None  # of the last calibration
        self.examples_ = None
        self.idf_ = None
        if signal_names is None:
            self.coef_ = None
            return
        n_signals = len(signal_names)
        self.prior_coef_ = np.zeros(EMBEDDING_DIMENSION + WORD_FEATURES + n_signals + 3)
        self.prior_coef_[[STATEMENTS_WEIGHT, JUNK_WEIGHT]] = 1.0
        self.coef_ = self.prior_coef_.copy()
        self.examples_ = _Examples.empty(n_signals)
        self.idf_ = np.zeros(WORD_FEATURES)

    def _ensure_started(self, X: Evidence) -> None:
        if not hasattr(self, "interests_"):
            self.set_statements(np.zeros((0, 384)), np.zeros((0, 384)))
        if getattr(self, "coef_", None) is None:
            self._start(X.names())
        else:
            self._check_signals(X)

    def _check_signals(self, X: Evidence) -> None:
        """The evidence must carry the signals the profile learned, in the same order."""
        names = X.names()
        if names != self.signal_names_:
            raise ProfileFormatError(
                f"the profile learned the signals {', '.join(self.signal_names_ or ())}; this "
                f"evidence has {', '.join(names)}: relearn the profile from the reactions")

    # -- learning -------------------------------------------------------------------
    def fit(self, X: Evidence, y, sample_weight=None, times=None, ids=None) -> InterestProfile:
        """Forget earlier examples, learn from these (labels: 1 wanted, 0 unwanted).

        `ids` name the reaction each example came from, so `forget` can take it back.
        """
        interests = getattr(self, "interests_", None)
        disinterests = getattr(self, "disinterests_", None)
        self._start(signal_names=None)
        if interests is not None and disinterests is not None:  # set together
            self.set_statements(interests, disinterests, self.interest_words_, self.junk_)
        return self.add_examples(X, y, sample_weight, times, ids).consolidate()

    def add_examples(self, X: Evidence, y, sample_weight=None, times=None,
                     ids=None) -> InterestProfile:
        """Keep these examples for the next refit, without learning from them yet (many
        examples at once are learned better by one `consolidate` than by online steps)."""
        self._ensure_started(X)
        self._remember(X, y, sample_weight, times, ids)
        return self

    def partial_fit(self, X: Evidence, y, sample_weight=None, times=None,
                    ids=None) -> InterestProfile:
        """Learn from a few new examples now, one bounded online step each (see
        `online_error`), and keep them for refits. The campaign simulator replays these
        steps in closed form (`OnlineReplay`, below): change both together."""
        self._ensure_started(X)
        rows, labels, weights = self._remember(X, y, sample_weight, times, ids)
        coef = self._coef  # stepped in place
        for index in range(len(labels)):
            row = rows.select([index])
            online = row.without_prior()
            error = online_error(float(row.dot(coef)[0]), labels[index], weights[index],
                                 self.learning_rate, float(online.squared_norms()[0]),
                                 float(self._reach(online)[0]))
            coef -= self.learning_rate * online.transpose_dot(np.array([error]))
        return self

    def forget(self, ids: Sequence[int]) -> InterestProfile:
        """Drop the examples learned from these reactions and refit without them; what
        the profile learned from them is taken back."""
        self._check_fitted()
        kept = self.examples_.keep_except(ids) if self.examples_ is not None else None
        if kept is not None:
            self.examples_ = kept
            if not len(kept.labels):
                self.coef_ = self.prior_coef_.copy()
                self.idf_ = np.zeros(WORD_FEATURES)
                return self
            self.consolidate()
        return self

    def _reach(self, rows: _Rows) -> np.ndarray:
        """Per row r, the most |r . x| can be for any message's row x: the largest change
        in any message's log-odds that a step of coefficients along r per unit makes.
        Cauchy-Schwarz per block: embeddings are unit vectors (times their weight), word
        rows have length `word_weight`, signals stay within `SIGNAL_LIMIT`, bias 1."""
        embedding = self.embedding_weight * np.linalg.norm(rows.embeddings, axis=1)
        words = self.word_weight * np.sqrt(np.asarray(rows.words.multiply(rows.words).sum(axis=1)).ravel())
        signals = self.signal_weight * SIGNAL_LIMIT * np.abs(rows.signals).sum(axis=1)
        return embedding + words + signals + 1.0

    def consolidate(self, now: float | None = None) -> InterestProfile:
        """Refit on every kept example, older ones decayed by `half_life_days`, and
        soften the refit where its held-out predictions say it is over-confident."""
        self._check_fitted()
        examples = self.examples_
        if examples is None or not len(examples.labels):
            return self
        now = examples.times.max() if now is None else now
        age_days = np.maximum(now - examples.times, 0) / 86400.0
        decayed = examples.weights * 0.5 ** (age_days / self.half_life_days)
        self.idf_ = self._inverse_document_frequencies(examples.words)
        everything = np.arange(len(examples.labels))
        self.coef_ = self._fit(everything, decayed, self.idf_, start=self._coef)
        self.coef_ = self._coef * self._held_out_slope(decayed)
        floor = self._statements_floor()
        if floor is not None:  # the calibrating slope may trust them less, not below this
            self._coef[STATEMENTS_WEIGHT] = max(self._coef[STATEMENTS_WEIGHT], floor)
        return self

    def _example_rows(self, chosen: np.ndarray, idf: np.ndarray) -> _Rows:
        examples = self._examples
        return _Rows(examples.embeddings[chosen] * self.embedding_weight,
                     self._tf_idf(examples.words[chosen], idf), examples.signals[chosen],
                     self.interest_prior(examples.embeddings[chosen], examples.words[chosen]),
                     self.junk_prior(examples.embeddings[chosen]))

    def _fit(self, chosen: np.ndarray, weights: np.ndarray, idf: np.ndarray,
             start: np.ndarray) -> np.ndarray:
        """Coefficients fitted on the chosen examples (with their unseen-sender copies)."""
        rows, labels, weights = self._with_unseen_sender_copies(
            self._example_rows(chosen, idf), self._examples.labels[chosen], weights[chosen])
        return _fit_logistic(rows, labels, weights, self.prior_coef_, self.alpha, start=start,
                             statements_floor=self._statements_floor())

    def _statements_floor(self) -> float | None:
        """The least weight a refit gives the reader's statements (None without any)."""
        return STATEMENTS_WEIGHT_FLOOR if len(self.interests_) or len(self.disinterests_) \
            else None

    def _held_out_slope(self, weights: np.ndarray) -> float:
        """How far to shrink the refit's log-odds (at most 1: never sharpened): the slope
        that calibrates its predictions on examples it did not learn from.

        Each of `CALIBRATION_FOLDS` interleaved folds is predicted by a fit on the others.
        A rich vocabulary lets the words explain every example, and the log-odds come out
        too sure: 20 Newsgroups tuning world, later posts, ECE 0.028 -> 0.010 and wanted
        posts below the 2% delete threshold 16 -> 3 with the slope (0.55); SpamAssassin's
        slope is about 1, so its scores stay as they were. Recomputed once a tenth of the
        examples are new since the last calibration; the slope is folded into `coef_`.
        """
        examples = self._examples
        n = len(examples.labels)
        if n < CALIBRATION_MIN_EXAMPLES:
            return 1.0
        last = getattr(self, "_calibration", None)
        if last is not None and (examples.times > last[0]).mean() < 0.1 and \
                abs(n - last[1]) < 0.1 * last[1]:
            return last[2]
        folds = np.arange(n) % CALIBRATION_FOLDS
        log_odds = np.zeros(n)
        for fold in range(CALIBRATION_FOLDS):
            train, test = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
            if len(np.unique(examples.labels[train])) < 2:
                return 1.0
            idf = self._inverse_document_frequencies(examples.words[train])
            coef = self._fit(train, weights, idf, start=self.prior_coef_)
            log_odds[test] = self._example_rows(test, idf).dot(coef)
        slope = _calibrating_slope(log_odds, examples.labels, weights)
        self._calibration = (float(examples.times.max()), n, slope)
        return slope

    def _with_unseen_sender_copies(self, rows: _Rows, labels: np.ndarray,
                                   weights: np.ndarray) -> tuple[_Rows, np.ndarray, np.ndarray]:
        """The examples, and each again as if its sender were new to the reader.

        Most wanted mail comes from senders the reader knows and most junk from strangers,
        so a refit on the examples alone explains "wanted" by the sender's history and
        starves the blocks that read the message: mail from a new sender then scores low
        whatever it says. The copies make the message's own evidence carry each label
        too. Measured on the SpamAssassin task's tuning world (batch, senders never seen):
        wanted mail held 98.5% -> 13.7%, ECE 0.59 -> 0.07, AUC 0.986 -> 0.993. An example
        that already has no history is its own copy: it gains the copy's weight instead.
        """
        columns = min(self.history_signals, rows.signals.shape[1])
        if not self.unseen_sender_weight or not columns:
            return rows, labels, weights
        known = np.flatnonzero(np.any(rows.signals[:, -columns:] != 0, axis=1))
        weights = np.where(np.isin(np.arange(len(labels)), known), weights,
                           (1.0 + self.unseen_sender_weight) * weights)
        unseen = rows.signals[known].copy()
        unseen[:, -columns:] = 0.0
        both = _Rows(np.vstack([rows.embeddings, rows.embeddings[known]]),
                     sparse.vstack([rows.words, rows.words[known]], format="csr"),
                     np.vstack([rows.signals, unseen]),
                     np.concatenate([rows.prior, rows.prior[known]]),
                     np.concatenate([rows.junk, rows.junk[known]]))
        return (both, np.concatenate([labels, labels[known]]),
                np.concatenate([weights, self.unseen_sender_weight * weights[known]]))

    @staticmethod
    def _inverse_document_frequencies(words: sparse.csr_matrix) -> np.ndarray:
        """Smoothed IDF of each hashed word among these examples, 0 for words none of
        them contains: the model knows nothing about those, and they would only dilute
        the words it does know (a vocabulary leaves them out). Fixed between refits, so
        the coefficients always meet the weighting they were fitted on (and the campaign
        simulator can replay online steps exactly)."""
        frequency = np.bincount(words.indices, minlength=WORD_FEATURES)
        documents = words.shape[0]
        idf = np.zeros(WORD_FEATURES)
        seen = frequency > 0
        idf[seen] = np.log((1.0 + documents) / (1.0 + frequency[seen])) + 1.0
        return idf

    def _remember(self, X: Evidence, y, sample_weight, times,
                  ids) -> tuple[_Rows, np.ndarray, np.ndarray]:
        labels = np.asarray(y, dtype=np.float64).reshape(-1)
        weights = np.ones(len(labels)) if sample_weight is None else np.asarray(sample_weight, float)
        times = np.zeros(len(labels)) if times is None else np.asarray(times, float)
        ids = np.full(len(labels), NO_REACTION) if ids is None else np.asarray(ids, np.int64)
        counts = X.term_frequencies()
        notes = list(X.notes) if len(X.notes) else [""] * len(labels)
        self.examples_ = self._examples.extend(
            X.embeddings, counts, self._scaled_signals(X.signals), notes,
            labels, weights, times, ids, self.max_examples)
        return self._rows(X, counts), labels, weights

    @property
    def _coef(self) -> np.ndarray:
        """The coefficients, once the profile has learned from examples (or `_start`ed)."""
        if self.coef_ is None:
            raise NotFittedError("the profile has statements but no coefficients yet")
        return self.coef_

    @property
    def _examples(self) -> _Examples:
        """The kept examples, once the profile has learned from examples (or `_start`ed)."""
        if self.examples_ is None:
            raise NotFittedError("the profile has statements but no examples yet")
        return self.examples_

    # -- scoring --------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "interests_"):
            raise NotFittedError(
                "the profile has neither statements nor examples yet: call set_statements "
                "(an empty list is fine: every message then scores 0.5) or fit"
            )

    def decision_function(self, X: Evidence) -> np.ndarray:
        """Log-odds that each message is wanted."""
        self._check_fitted()
        coef = getattr(self, "coef_", None)
        if coef is None:
            priors = self._block_contributions(X)
            return priors["interests"] + priors["junk"]
        self._check_signals(X)
        return self._rows(X).dot(coef)

    def predict_proba(self, X: Evidence) -> np.ndarray:
        """(n, 2) array: P(unwanted), P(wanted)."""
        wanted = sigmoid(self.decision_function(X))
        return np.column_stack([1.0 - wanted, wanted])

    def predict(self, X: Evidence) -> np.ndarray:
        return (self.decision_function(X) > 0).astype(int)

    @property
    def classes_(self) -> np.ndarray:
        return np.array([0, 1])

    @property
    def n_examples_(self) -> int:
        examples = getattr(self, "examples_", None)
        return 0 if examples is None else len(examples.labels)

    def explain(self, X: Evidence) -> list[Explanation]:
        """Per message: P(wanted), the log-odds of each block, and the nearest examples."""
        self._check_fitted()
        probabilities = self.predict_proba(X)[:, 1]
        blocks = self._block_contributions(X)
        return [
            Explanation(float(p), {k: float(v[i]) for k, v in blocks.items()}, self._nearest(X, i))
            for i, p in enumerate(probabilities)
        ]

    def contributions_without_meaning(self, texts: Sequence[str],
                                      signals: np.ndarray) -> dict[str, np.ndarray]:
        """The log-odds of what does not read the embedding (words, signals, bias, and
        the interest prior's share from the interests' own words): with
        `meaning_bounds`, what a message can score before the model runs."""
        self._check_fitted()
        n = len(texts)
        counts = term_frequencies(texts)
        coef = getattr(self, "coef_", None)
        interest_words = self.interest_words_prior(counts)
        if coef is None:
            return {"words": np.zeros(n), "signals": np.zeros(n), "bias": np.zeros(n),
                    "interests": interest_words}
        # The model's rows with the embedding left at zero, the prior its words' share.
        rows = _Rows(np.zeros((n, 384), np.float32), self._tf_idf(counts),
                     self._scaled_signals(signals), interest_words, np.zeros(n))
        blocks = rows.contributions(coef)
        return {name: blocks[name] for name in ("words", "signals", "bias", "interests")}

    def meaning_bounds(self) -> tuple[float, float]:
        """The least and most log-odds the embedding-reading blocks (the meaning, and both
        priors' closeness to their statements) can add for any unit vector e. Sound, so a
        verdict that holds across them holds whatever the model would say.

        With m the meaning's coefficients, k and j the priors' scale times their weights,
        those blocks add `max_i (m + k s_i).e - k*offset` minus the penalties
        `k*max(max_d d.e - offset, 0)` and `j*max(max_u u.e - junk_offset, 0)`.
        Cauchy-Schwarz on each joint vector `m + k s_i`, less the penalties' vectors where
        they bite, bounds the sum far tighter than bounding each block apart: meaning and
        statements rarely point the same way, so no vector scores the best of both (on
        `bench_pipeline`'s reader with two statements, 13.7 -> 9.5 log-odds wide).
        """
        self._check_fitted()
        coef = getattr(self, "coef_", None)
        meaning = np.zeros(384) if coef is None else self.embedding_weight * coef[:384]
        k, j = (self.prior_scale * (1.0 if coef is None else float(coef[index]))
                for index in (STATEMENTS_WEIGHT, JUNK_WEIGHT))
        if k < 0 or j < 0:  # a prior the reader's behaviour turned around
            return self._separate_meaning_bounds(float(np.linalg.norm(meaning)), k, j)
        if len(self.interests_):
            joint, shift = meaning + k * self.interests_.astype(np.float64), -k * self.prior_offset
        else:
            joint, shift = meaning[None, :], 0.0
        # Each penalty either does not bite (no vector, no credit) or bites through one
        # of its statements (that vector, and the offset it starts from as credit).
        bites, credits = np.zeros((1, 384)), np.zeros(1)
        for statements, weight, offset in ((self.disinterests_, k, self.prior_offset),
                                           (self.junk_, j, self.junk_offset)):
            vectors = np.vstack([np.zeros((1, 384)), weight * statements.astype(np.float64)])
            credit = np.concatenate([[0.0], np.full(len(statements), weight * offset)])
            bites = (bites[:, None, :] + vectors[None, :, :]).reshape(-1, 384)
            credits = (credits[:, None] + credit[None, :]).ravel()
        lows = (credits[None, :] - np.linalg.norm(joint[:, None, :] - bites[None, :, :], axis=2)
                ).min(axis=1)
        return float(shift + lows.max()), float(shift + np.linalg.norm(joint, axis=1).max())

    def _separate_meaning_bounds(self, meaning: float, k: float, j: float) -> tuple[float, float]:
        """Cauchy-Schwarz for the meaning, cosines in [-1, 1] for the priors: sound for
        either sign of their weights, and wider than the joint bound."""
        low = high = 0.0
        if len(self.interests_):
            low, high = -1.0 - self.prior_offset, 1.0 - self.prior_offset
        if len(self.disinterests_):
            low -= 1.0 - self.prior_offset
        statements = sorted((k * low, k * high))
        junk = sorted((-j * (1.0 - self.junk_offset), 0.0)) if len(self.junk_) else [0.0, 0.0]
        return statements[0] + junk[0] - meaning, statements[1] + junk[1] + meaning

    def _block_contributions(self, X: Evidence) -> dict[str, np.ndarray]:
        coef = getattr(self, "coef_", None)
        if coef is None:  # the prior mean's weights: 1 for either prior
            embeddings = np.asarray(X.embeddings, np.float32)
            return {"interests": self.interest_prior(embeddings, X.term_frequencies()),
                    "junk": self.junk_prior(embeddings)}
        return self._rows(X).contributions(coef)

    def _nearest(self, X: Evidence, index: int) -> list[tuple[str, bool, float]]:
        examples = getattr(self, "examples_", None)
        if examples is None or not len(examples.labels) or not self.neighbours:
            return []
        cosines = examples.embeddings @ np.asarray(X.embeddings[index], np.float32)
        order = np.argsort(-cosines)[: self.neighbours]
        return [(examples.notes[i], bool(examples.labels[i]), float(cosines[i])) for i in order]

    # -- persistence ----------------------------------------------------------------
    def schema(self) -> dict:
        """What the coefficients mean, block by block: a saved profile is only read back
        by code whose features have this same layout."""
        return {"blocks": list(BLOCKS), "embedding_dimension": EMBEDDING_DIMENSION,
                "word_features": WORD_FEATURES, "token_pattern": TOKEN_PATTERN,
                "signals": list(getattr(self, "signal_names_", None) or ())}

    def state(self) -> tuple[dict[str, np.ndarray], dict]:
        """The profile as numpy arrays and JSON-able metadata: no pickle, no message text."""
        self._check_fitted()
        arrays: dict[str, np.ndarray] = {"interests": self.interests_,
                                         "disinterests": self.disinterests_,
                                         "junk": self.junk_,
                                         **self.interest_words_.arrays()}
        meta = {"format": FORMAT_VERSION, "params": self.get_params(), "schema": self.schema()}
        if self.coef_ is not None and self.idf_ is not None:  # set together, by `_start`
            arrays |= {"coef": self.coef_, "prior_coef": self.prior_coef_, "idf": self.idf_}
            arrays |= self._examples.arrays()
            meta["notes"] = self._examples.notes
        return arrays, meta

    @classmethod
    def from_state(cls, arrays, meta: dict, signal_names: Sequence[str] | None = None,
                   where: str = "the saved profile") -> InterestProfile:
        """The profile `state` gave; ProfileFormatError when it was written in another
        format or for other features (`signal_names`, when given, are those of the code
        that will use it): relearn it from the reactions then."""
        if meta.get("format") == 2:  # the same model, before reaction ids and schemas
            arrays, meta = _from_format_2(arrays, meta, signal_names)
        if meta.get("format") != FORMAT_VERSION:
            raise ProfileFormatError(f"{where} has format {meta.get('format')}, this version "
                                     f"reads {FORMAT_VERSION}")
        schema = meta["schema"]
        expected = dict(cls().schema(), signals=list(signal_names or schema["signals"]))
        if schema != expected:
            changed = sorted(k for k in expected if schema.get(k) != expected[k])
            raise ProfileFormatError(f"{where} was learned with other features "
                                     f"({', '.join(changed)} changed)")
        profile = cls(**meta["params"]).set_statements(
            arrays["interests"], arrays["disinterests"], InterestWords.from_arrays(arrays),
            arrays["junk"])
        if "coef" in arrays:
            profile._start(schema["signals"])
            profile.coef_, profile.prior_coef_ = arrays["coef"], arrays["prior_coef"]
            profile.examples_ = _Examples.from_arrays(arrays, meta["notes"])
            profile.idf_ = arrays["idf"]
        return profile

    def save(self, folder: Path) -> None:
        """Write the profile to `folder` (profile.npz and profile.json)."""
        arrays, meta = self.state()
        folder.mkdir(parents=True, exist_ok=True)
        # Each file whole or not at all: a full disk mid-write keeps the last saved copy.
        with open(folder / "profile.npz.tmp", "wb") as handle:
            np.savez_compressed(handle, allow_pickle=False, **arrays)
        (folder / "profile.json.tmp").write_text(json.dumps(meta))
        (folder / "profile.npz.tmp").replace(folder / "profile.npz")
        (folder / "profile.json.tmp").replace(folder / "profile.json")

    @classmethod
    def load(cls, folder: Path, signal_names: Sequence[str] | None = None) -> InterestProfile:
        meta = json.loads((folder / "profile.json").read_text())
        with np.load(folder / "profile.npz", allow_pickle=False) as data:
            return cls.from_state(dict(data), meta, signal_names, where=f"the profile in {folder}")


def _from_format_2(arrays, meta: dict, signal_names: Sequence[str] | None) -> tuple[dict, dict]:
    """A format-2 profile in format 3: its examples came from no stored reaction, and its
    signals are taken to be `signal_names` when there are as many (format 2 kept only
    their number)."""
    width = meta.get("n_signals")
    names = list(signal_names or ())
    if width is not None and len(names) != width:
        names = [f"signal {i}" for i in range(width)]  # refused as other features
    arrays = dict(arrays)
    if "labels" in arrays:
        arrays["ids"] = np.full(len(arrays["labels"]), NO_REACTION, np.int64)
    schema = dict(InterestProfile().schema(), signals=names)
    return arrays, {**meta, "format": FORMAT_VERSION, "schema": schema}


def _hyperparameter_names() -> list[str]:
    return [name for name in inspect.signature(InterestProfile).parameters]


# -- partial_fit's online steps, and their replay on one fixed row --------------------
# The campaign simulator replays, for a whole audience at once, the steps the daemon takes
# when each reader reacts to the same message again and again (`gatekeeper.core.replay`
# builds on this). The replay is here, beside the step it replays, because it relies on
# how `partial_fit` moves the coefficients: change one, change the other
# (tests/test_replay.py holds them equal).

def online_error(z, label, weight, rate, norm, reach):
    """The error of one reaction's online step, already bounded: the coefficients move by
    -rate * error * row (the row without the interest prior).

    `z` is the message's log-odds, `norm` the row's squared length and `reach` the most
    one unit along it moves any message (`InterestProfile._reach`). `ONLINE_STEPS`
    gradient steps are summed, then scaled down when they would move some message's
    log-odds by more than `MAX_STEP_LOG_ODDS`. Takes numbers or arrays alike: the
    campaign simulator replays a whole audience's steps with it (`OnlineReplay`).
    """
    total = 0.0
    for _ in range(ONLINE_STEPS):
        error = weight * (sigmoid(z) - label)
        z = z - rate * error * norm
        total = total + error
    moved = rate * np.abs(total) * reach
    return total * np.minimum(1.0, MAX_STEP_LOG_ODDS / np.maximum(moved, 1e-12))


@dataclass(frozen=True)
class OnlineRows:
    """One message's row as `partial_fit`'s steps see it, for n readers' profiles.

    The row splits into a fixed part and k *varying* signal columns (the sender's
    history: it differs from reader to reader and from one send to the next). Every
    field has n rows, one per profile (or per reader, after `take`).
    """

    log_odds: np.ndarray  # (n,) the profile's log-odds for the row, varying columns at 0
    weights: np.ndarray  # (n, k) log-odds per unit of each varying signal
    # The fixed part of the row a step moves along (without the interest prior, which
    # only refits move): its squared length, and its reach (`InterestProfile._reach`).
    fixed_norm: np.ndarray  # (n,)
    fixed_reach: np.ndarray  # (n,)
    signal_scale: np.ndarray  # (n,) signal_weight ** 2: what a unit of signal adds to both
    learning_rate: np.ndarray  # (n,)

    @classmethod
    def of(cls, profile: InterestProfile, X: Evidence, varying: Sequence[str]) -> OnlineRows:
        """The rows of `X`'s messages (one row each) for this profile, the signals named
        `varying` taken as varying (their values in `X` are ignored)."""
        profile._check_fitted()
        columns = [X.names().index(name) for name in varying]
        fixed = X.without_signals(varying)
        rows = profile._rows(fixed).without_prior()
        coef = getattr(profile, "coef_", None)
        start = EMBEDDING_DIMENSION + WORD_FEATURES
        weights = np.zeros(len(columns)) if coef is None else \
            coef[start:start + len(X.names())][columns] * profile.signal_weight
        n = len(X)
        return cls(profile.decision_function(fixed), np.tile(weights, (n, 1)),
                   rows.squared_norms(), profile._reach(rows),
                   np.full(n, profile.signal_weight ** 2), np.full(n, profile.learning_rate))

    @classmethod
    def stack(cls, rows: Sequence[OnlineRows]) -> OnlineRows:
        """Several profiles' rows as one."""
        return cls(*(np.concatenate([getattr(r, name) for r in rows])
                     for name in ("log_odds", "weights", "fixed_norm", "fixed_reach",
                                  "signal_scale", "learning_rate")))

    def take(self, index: np.ndarray) -> OnlineRows:
        """The rows at `index`: each reader's, given the profile each reader has."""
        return OnlineRows(self.log_odds[index], self.weights[index], self.fixed_norm[index],
                          self.fixed_reach[index], self.signal_scale[index],
                          self.learning_rate[index])


class OnlineReplay:
    """`partial_fit`'s online steps on one fixed row per reader, in closed form.

    A step on the row r (values v of the varying signals) moves the coefficients by
    -rate * e * r, which changes any row's log-odds by -rate * e * (r . row). On the
    same message's row with other varying values v', r . row' = fixed_norm +
    signal_scale * (v . v'). So the sums of the steps' errors, alone (`error_sum`) and
    times their varying values (`error_values`), give every later log-odds of that
    message exactly, without a quarter of a million coefficients per reader.
    """

    def __init__(self, rows: OnlineRows) -> None:
        self.rows = rows  # one per reader
        self.error_sum = np.zeros(len(rows.log_odds))
        self.error_values = np.zeros(rows.weights.shape)

    def log_odds(self, base: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Each reader's log-odds for the row with these varying signal values, after
        the steps so far; `base` is the log-odds with the varying columns at zero before
        any step (`rows.log_odds`, plus whatever the caller adds to it)."""
        rows, values = self.rows, _clipped(values)
        varying = np.einsum("ij,ij->i", values, rows.weights)
        cross = rows.signal_scale * np.einsum("ij,ij->i", self.error_values, values)
        learned = -rows.learning_rate * (self.error_sum * rows.fixed_norm + cross)
        return base + varying + learned

    def step(self, log_odds: np.ndarray, values: np.ndarray, label: np.ndarray,
             weight: np.ndarray) -> None:
        """Each reader's profile takes `partial_fit`'s step on its row for a reaction
        with this label and weight (weight 0: no step); `values` and `log_odds` are the
        row's before the reaction, as given to and returned by `log_odds`."""
        rows, values = self.rows, _clipped(values)
        norm = rows.fixed_norm + rows.signal_scale * (values ** 2).sum(1)
        reach = rows.fixed_reach + rows.signal_scale * SIGNAL_LIMIT * np.abs(values).sum(1)
        error = online_error(log_odds, label, weight, rows.learning_rate, norm, reach)
        self.error_sum += error
        self.error_values += error[:, None] * values


def _clipped(values: np.ndarray) -> np.ndarray:
    """Signals as the profile reads them (`InterestProfile._scaled_signals`)."""
    return np.clip(values, -SIGNAL_LIMIT, SIGNAL_LIMIT)



@dataclass
class _Rows:
    """The model's input for n messages, one block per kind of evidence."""

    embeddings: np.ndarray  # (n, 384)
    words: sparse.csr_matrix  # (n, WORD_FEATURES), hashed TF-IDF, rows of length word_weight
    signals: np.ndarray  # (n, k)
    prior: np.ndarray  # (n,) interest-prior log-odds
    junk: np.ndarray  # (n,) junk-prior log-odds

    def _edges(self) -> np.ndarray:
        return np.cumsum([0, 384, self.words.shape[1], self.signals.shape[1], 1, 1, 1])

    def select(self, rows: Sequence[int]) -> _Rows:
        return _Rows(self.embeddings[rows], self.words[rows], self.signals[rows],
                     self.prior[rows], self.junk[rows])

    def without_prior(self) -> _Rows:
        """The same rows with both priors at zero: what an online step moves."""
        return _Rows(self.embeddings, self.words, self.signals, np.zeros_like(self.prior),
                     np.zeros_like(self.junk))

    def squared_norms(self) -> np.ndarray:
        return (np.einsum("ij,ij->i", self.embeddings, self.embeddings, dtype=np.float64)
                + np.asarray(self.words.multiply(self.words).sum(axis=1)).ravel()
                + np.einsum("ij,ij->i", self.signals, self.signals) + self.prior ** 2
                + self.junk ** 2 + 1.0)

    def dot(self, coef: np.ndarray) -> np.ndarray:
        """Log-odds: the rows times the coefficients."""
        e = self._edges()
        return (self.embeddings @ coef[e[0]:e[1]] + self.words @ coef[e[1]:e[2]]
                + self.signals @ coef[e[2]:e[3]] + self.prior * coef[e[3]]
                + self.junk * coef[e[4]] + coef[e[5]])

    def transpose_dot(self, values: np.ndarray) -> np.ndarray:
        """The rows' transpose times a vector: the shape of a gradient."""
        return np.concatenate([
            self.embeddings.T.astype(np.float64) @ values, self.words.T @ values,
            self.signals.T @ values, [self.prior @ values], [self.junk @ values],
            [values.sum()],
        ])

    def contributions(self, coef: np.ndarray) -> dict[str, np.ndarray]:
        e = self._edges()
        return {
            "meaning": self.embeddings @ coef[e[0]:e[1]],
            "words": self.words @ coef[e[1]:e[2]],
            "signals": self.signals @ coef[e[2]:e[3]],
            "interests": self.prior * coef[e[3]],
            "junk": self.junk * coef[e[4]],
            "bias": np.full(len(self.prior), coef[e[5]]),
        }


@dataclass
class _Examples:
    """The labelled examples kept for refits, oldest first."""

    embeddings: np.ndarray
    words: sparse.csr_matrix  # term frequencies, 1 + log(count): the IDF is applied on use
    signals: np.ndarray  # already clipped and scaled by signal_weight
    notes: list[str]
    labels: np.ndarray
    weights: np.ndarray
    times: np.ndarray
    ids: np.ndarray  # the reaction each came from (NO_REACTION when none)

    @classmethod
    def empty(cls, n_signals: int) -> _Examples:
        return cls(np.zeros((0, 384), np.float32), sparse.csr_matrix((0, WORD_FEATURES)),
                   np.zeros((0, n_signals)), [], np.zeros(0), np.zeros(0), np.zeros(0),
                   np.zeros(0, np.int64))

    def extend(self, embeddings, words, signals, notes, labels, weights, times, ids,
               limit: int) -> _Examples:
        """These examples plus the new ones, the oldest dropped beyond `limit`."""
        keep = slice(max(0, len(self.labels) + len(labels) - limit), None)
        return _Examples(
            np.vstack([self.embeddings, np.asarray(embeddings, np.float32)])[keep],
            sparse.vstack([self.words, words], format="csr")[keep],
            np.vstack([self.signals, signals])[keep],
            (self.notes + list(notes))[keep],
            np.concatenate([self.labels, labels])[keep],
            np.concatenate([self.weights, weights])[keep],
            np.concatenate([self.times, times])[keep],
            np.concatenate([self.ids, ids])[keep],
        )

    def keep_except(self, ids: Sequence[int]) -> _Examples | None:
        """The examples without those of these reactions; None when none of them is here."""
        dropped = np.isin(self.ids, np.asarray(list(ids), np.int64)) & (self.ids != NO_REACTION)
        if not dropped.any():
            return None
        kept = np.flatnonzero(~dropped)
        return _Examples(self.embeddings[kept], self.words[kept], self.signals[kept],
                         [self.notes[i] for i in kept], self.labels[kept], self.weights[kept],
                         self.times[kept], self.ids[kept])

    def arrays(self) -> dict[str, np.ndarray]:
        return {"embeddings": self.embeddings, "signals": self.signals,
                "words_data": self.words.data, "words_indices": self.words.indices,
                "words_indptr": self.words.indptr, "labels": self.labels,
                "weights": self.weights, "times": self.times, "ids": self.ids}

    @classmethod
    def from_arrays(cls, data, notes: list[str]) -> _Examples:
        words = sparse.csr_matrix(
            (data["words_data"], data["words_indices"], data["words_indptr"]),
            shape=(len(data["labels"]), WORD_FEATURES))
        return cls(data["embeddings"], words, data["signals"], list(notes), data["labels"],
                   data["weights"], data["times"], data["ids"])


def _calibrating_slope(log_odds: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> float:
    """The a in [0.05, 1] that best calibrates sigmoid(a * log_odds) (weighted log loss,
    Newton's method: the loss is convex in a)."""
    slope = 1.0
    for _ in range(30):
        p = sigmoid(slope * log_odds)
        gradient = weights @ ((p - labels) * log_odds)
        curvature = weights @ (p * (1 - p) * log_odds ** 2)
        if curvature <= 1e-12:
            break
        step = gradient / curvature
        slope = float(np.clip(slope - step, 0.05, 1.0))
        if abs(step) < 1e-6:
            break
    return slope


def _fit_logistic(rows: _Rows, labels, weights, prior_mean, alpha, start,
                  statements_floor: float | None = None) -> np.ndarray:
    """Weighted logistic regression with a Gaussian prior around `prior_mean` (L-BFGS-B).

    Minimises sum(w * log_loss) + alpha/2 * |coef - prior_mean|^2, divided by sum(w) for a
    well-scaled problem: with little evidence the prior dominates, with much the data.
    Hashed words that no example contains keep their prior value, so only the columns in
    use are optimised (a few thousand of the 262,144). The interest prior's weight stays
    at or above `statements_floor` when one is given, the junk prior's at or above 0: the
    reader's mail may trust either less, never turn it around.
    """
    from scipy.optimize import minimize  # 28 MB: loaded when the daemon first learns

    active = np.unique(rows.words.indices)
    compact = _Rows(rows.embeddings, rows.words[:, active], rows.signals, rows.prior, rows.junk)
    edges = rows._edges()
    keep = np.concatenate([np.arange(edges[1]), edges[1] + active, np.arange(edges[2], edges[6])])
    total = max(weights.sum(), 1e-9)
    mean = prior_mean[keep]
    free_bias = np.ones(len(keep))
    free_bias[-1] = 0.01  # the bias may move freely

    def loss_and_gradient(coef: np.ndarray) -> tuple[float, np.ndarray]:
        z = compact.dot(coef)
        log_loss = np.logaddexp(0, z) - labels * z
        drift = (coef - mean) * free_bias
        loss = (weights @ log_loss + 0.5 * alpha * (drift @ drift)) / total
        gradient = (compact.transpose_dot(weights * (sigmoid(z) - labels)) + alpha * drift) / total
        return float(loss), gradient

    bounds: list[tuple[float | None, float | None]] = [(None, None)] * len(keep)
    bounds[JUNK_WEIGHT] = (0.0, None)
    if statements_floor is not None:
        bounds[STATEMENTS_WEIGHT] = (statements_floor, None)
    initial = start[keep].copy()
    initial[STATEMENTS_WEIGHT] = max(initial[STATEMENTS_WEIGHT], statements_floor or -np.inf)
    initial[JUNK_WEIGHT] = max(initial[JUNK_WEIGHT], 0.0)
    result = minimize(loss_and_gradient, initial, jac=True, method="L-BFGS-B", bounds=bounds,
                      options={"maxiter": 300})
    coef = start.copy()
    coef[keep] = result.x
    return coef
