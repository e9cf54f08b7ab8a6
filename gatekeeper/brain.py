"""What the gatekeeper knows about its reader, and how it uses it, with no mailbox in sight.

`Brain` holds the interest profile, the sender memory and the allow and block lists. It
embeds messages (cached by content hash), scores them, gathers the `History` the policy
needs, decides, and learns from what the reader does. The daemon's pipeline, the
evaluation harness and the campaign simulator all go through it, so they measure exactly
the code that runs on a real mailbox.
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .embed import Embedder
from .errors import ProfileFormatError
from .features import message_keys, signal_matrix
from .junk import JUNK_SIMILARITY, JUNK_STATEMENTS, junk_similarity
from .message import Message
from .policy import History, PolicySettings, Verdict, decide, decide_within
from .profile import Evidence, Explanation, InterestProfile, sigmoid
from .senders import BEHAVIOUR, SenderMemory

logger = logging.getLogger(__name__)

THROWN_AWAY = ("deleted_unread", "junked", "deleted_from_held", "moved_to_held")
# Cosine above which a kept example counts as "mail like this"; `RELATED` for mail that
# reads like junk (`junk`). With 0.80 alone, hardly any spam from a new sender had two
# thrown-away neighbours that close, so it was held however sure the profile was; with
# 0.5 for all mail, posts the 20 Newsgroups reader wanted were deleted beside posts of the
# groups it did not (tuning world, later posts: 6 of 272 before calibration, 1 after).
# SpamAssassin tuning world, prequential, spam kept out that went to Trash (senders never
# seen / later mail): 11% / 27% at 0.80 alone, 53% / 70% at 0.5 for all mail.
SIMILAR = 0.80
RELATED = 0.5
_JUNK_VECTORS: dict[str, np.ndarray] = {}  # the junk statements embedded, by model id


@dataclass(frozen=True)
class Assessment:
    """One message as the brain saw it: the score, the reasons, the verdict."""

    message: Message
    embedding: np.ndarray | None  # None when the verdict was settled without the model
    probability: float  # P(wanted)
    explanation: Explanation
    history: History
    verdict: Verdict


def learning_signal(behaviour: str) -> tuple[int, float] | None:
    """(label, weight) the profile learns from a behaviour; None when it says nothing."""
    positive, negative = BEHAVIOUR[behaviour]
    if positive == negative == 0:
        return None
    return (1, positive) if positive > negative else (0, negative)


def similar_thrown_away(explanation: Explanation, reads_like_junk: bool = False) -> int:
    """How many of the nearest examples the reader threw away were mail like this one:
    within cosine `SIMILAR`, or `RELATED` when the message reads like junk."""
    least = RELATED if reads_like_junk else SIMILAR
    return sum(1 for _, wanted, cosine in explanation.nearest if not wanted and cosine >= least)


def describe(message: Message) -> str:
    """A short note about a message for explanations (never its body)."""
    sender = message.from_name or message.from_address or "unknown sender"
    return f"{sender}: {message.subject or '(no subject)'}"[:120]


@dataclass
class Lists:
    """The reader's allow and block lists: addresses or whole domains, lower case."""

    allowed: set[str] = field(default_factory=set)
    blocked: set[str] = field(default_factory=set)

    @staticmethod
    def _matches(entries: set[str], message: Message) -> bool:
        return message.from_address in entries or message.from_domain in entries


class Brain:
    """Scores, decides and learns for one reader."""

    def __init__(
        self,
        embedder: Embedder,
        profile: InterestProfile | None = None,
        memory: SenderMemory | None = None,
        settings: PolicySettings | None = None,
        lists: Lists | None = None,
        cache_size: int = 4096,
    ) -> None:
        self.embedder = embedder
        self.profile = profile or InterestProfile()
        if not hasattr(self.profile, "interests_"):
            self._start_without_statements()
        self.memory = memory or SenderMemory()
        self.settings = settings or PolicySettings()
        self.lists = lists or Lists()
        self.sent_ids: set[str] = set()  # Message-IDs of mail the reader sent
        self.flagged_threads: set[str] = set()  # Message-IDs in threads the reader flagged
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    # -- what the reader told us -----------------------------------------------------
    def set_interests(self, interests: Sequence[str], disinterests: Sequence[str] = ()) -> None:
        """Plain-language interests and disinterests: the profile's cold start."""
        self.profile.set_statements(self.embedder.embed_many(list(interests)),
                                    self.embedder.embed_many(list(disinterests)))

    def _start_without_statements(self) -> None:
        """No statements yet: every message scores 0.5 until the reader's behaviour says more."""
        empty = np.zeros((0, self.embedder.dimension), np.float32)
        self.profile.set_statements(empty, empty)

    def learn_sent(self, message: Message) -> None:
        """The reader sent this message: its recipients are correspondents."""
        for address in (*message.to, *message.cc):
            self.memory.add_correspondent(address)
        if message.message_id:
            self.sent_ids.add(message.message_id)

    # -- scoring ---------------------------------------------------------------------
    def embed(self, messages: Sequence[Message]) -> np.ndarray:
        """Embeddings of messages, reusing those of identical content."""
        missing = [m for m in dict.fromkeys(m.content_hash for m in messages)
                   if m not in self._cache]
        if missing:
            texts = {m.content_hash: m.text_for_embedding() for m in messages}
            for key, vector in zip(missing, self.embedder.embed_many([texts[k] for k in missing])):
                self._remember(key, vector)
        return np.stack([self._cache[m.content_hash] for m in messages]) if messages else \
            np.zeros((0, self.embedder.dimension), np.float32)

    def _remember(self, key: str, vector: np.ndarray) -> None:
        self._cache[key] = vector
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def evidence(self, messages: Sequence[Message], embeddings: np.ndarray, now: float) -> Evidence:
        return Evidence(embeddings, [m.text_for_words() for m in messages],
                        signal_matrix(list(messages), self.memory, now),
                        [describe(m) for m in messages])

    def assess(self, messages: Sequence[Message], now: float | None = None,
               embeddings: np.ndarray | None = None,
               settle_early: bool = False) -> list[Assessment]:
        """Score and decide each message. Changes nothing: see `observe` and `learn`.

        With `settle_early` (the daemon's pipeline), a message whose words and sender
        settle its verdict whatever its embedding could add is decided without running
        the model (`_settle_early`); it is embedded only if the reader's reaction is
        learned from. Its verdict is the one the model would have led to.
        """
        now = time.time() if now is None else now
        settled = self._settle_early(messages, now) if settle_early and embeddings is None else {}
        rest = [i for i in range(len(messages)) if i not in settled]
        # Given embeddings are never settled early, so they are all read, in order.
        embeddings = self.embed([messages[i] for i in rest]) if embeddings is None else \
            np.asarray(embeddings)
        read = dict(zip(rest, self._assess_reading_meaning([messages[i] for i in rest],
                                                           embeddings, now)))
        return [settled[i] if i in settled else read[i] for i in range(len(messages))]

    def _assess_reading_meaning(self, messages: Sequence[Message], embeddings: np.ndarray,
                                now: float) -> list[Assessment]:
        explanations = self.profile.explain(self.evidence(messages, embeddings, now))
        junk = self.reads_like_junk(embeddings)
        assessments = []
        for message, vector, explanation, like_junk in zip(messages, embeddings, explanations,
                                                           junk):
            history = self.history(message, now, similar_thrown_away(explanation, like_junk))
            verdict = decide(explanation.probability, message, history, self.settings)
            assessments.append(Assessment(message, vector, explanation.probability,
                                          explanation, history, verdict))
        return assessments

    def reads_like_junk(self, embeddings: np.ndarray) -> np.ndarray:
        """Whether each message reads like what nearly every reader throws away (`junk`)."""
        if not len(embeddings):
            return np.zeros(0, bool)
        model = self.embedder.model_id
        if model not in _JUNK_VECTORS:  # once per model, not per brain (the simulator's many)
            _JUNK_VECTORS[model] = self.embedder.embed_many(list(JUNK_STATEMENTS))
        return junk_similarity(embeddings, _JUNK_VECTORS[model]) >= JUNK_SIMILARITY

    def _settle_early(self, messages: Sequence[Message], now: float) -> dict[int, Assessment]:
        """Assessments of the messages the model need not read, by position.

        The words, signals and bias are scored as usual, and the embedding's share is
        bounded over every vector the model could return (`meaning_bounds`); a message is
        settled when the policy gives one verdict across that whole range and whether or
        not its nearest examples were thrown away. Messages whose embedding is cached
        cost nothing to read, so they go the usual way.
        """
        candidates = [i for i, m in enumerate(messages) if m.content_hash not in self._cache]
        if not candidates:
            return {}
        chosen = [messages[i] for i in candidates]
        blocks = self.profile.contributions_without_meaning(
            [m.text_for_words() for m in chosen], signal_matrix(chosen, self.memory, now))
        known = sum(blocks.values())
        low, high = self.profile.meaning_bounds()
        middle = (low + high) / 2
        settled = {}
        for row, (index, message) in enumerate(zip(candidates, chosen)):
            least = self.history(message, now, similar_thrown_away=0)
            most = replace(least, similar_thrown_away=self.profile.neighbours)
            # The best guess is the middle of the range in log-odds.
            p_low, p, p_high = (float(sigmoid(known[row] + z)) for z in (low, middle, high))
            verdict = decide_within(p, p_low, p_high, message, (least, most), self.settings)
            if verdict is not None:
                explanation = Explanation(verdict.probability,
                                          {k: float(v[row]) for k, v in blocks.items()}, [])
                settled[index] = Assessment(message, None, verdict.probability, explanation,
                                            least, verdict)
        return settled

    def history(self, message: Message, now: float, similar_thrown_away: int = 0) -> History:
        """What the reader's past says about `message`; `similar_thrown_away` counts the
        profile's nearest examples to it that the reader threw away."""
        keys = message_keys(message)
        address = self.memory.get(keys[0]) if keys and keys[0].startswith("address:") else None
        thread = {message.in_reply_to, *message.references} - {""}
        return History(
            correspondent=self.memory.is_correspondent(message.from_address),
            reply_to_reader=bool(thread & self.sent_ids),
            thread_flagged=bool((thread | {message.message_id}) & self.flagged_threads),
            allowed=Lists._matches(self.lists.allowed, message),
            blocked=Lists._matches(self.lists.blocked, message),
            sender_messages=int(address.count("delivered", now)) if address else 0,
            sender_thrown_away=sum(address.count(b, now) for b in THROWN_AWAY) if address else 0.0,
            similar_thrown_away=similar_thrown_away,
            profile_examples=self.profile.n_examples_,
        )

    # -- learning --------------------------------------------------------------------
    def observe(self, assessment: Assessment, now: float) -> None:
        """Record that a message arrived and what was done with it."""
        keys = message_keys(assessment.message)
        self.memory.record(keys, "delivered", now)
        if assessment.verdict.action == "hold":
            self.memory.record(keys, "held", now)

    def learn(self, assessment: Assessment, behaviour: str, now: float) -> None:
        """The reader did `behaviour` with this message: update memory and profile."""
        message = assessment.message
        if behaviour == "flagged" and message.message_id:
            self.flagged_threads.add(message.message_id)
        signal = learning_signal(behaviour)
        if signal is not None and signal[0] == 0 and self.memory.is_correspondent(
                message.from_address):
            signal = None  # never learn to dislike someone the reader writes to
        if signal is not None:
            # The sender signals as they were before this behaviour: learning from a row
            # that already counts its own label would teach the profile to trust sender
            # history far more than it deserves on mail from anyone new.
            label, weight = signal
            embedding = self.embed([message]) if assessment.embedding is None else \
                assessment.embedding[None, :]
            evidence = self.evidence([message], embedding, now)
            self.profile.partial_fit(evidence, [label], sample_weight=[weight], times=[now])
        self.memory.record(message_keys(message), behaviour, now)

    def learn_history(self, messages: Sequence[Message], embeddings: np.ndarray,
                      behaviours: Sequence[str], times: Sequence[float]) -> int:
        """Learn from what the reader did with earlier mail, oldest first (a fresh fit).

        Each message's sender signals are taken as they were when it arrived, before
        the reader's reaction, exactly as `learn` sees them. Returns the examples learned.
        """
        rows, labels, weights, kept = [], [], [], []
        for index, (message, behaviour, when) in enumerate(zip(messages, behaviours, times)):
            signal = learning_signal(behaviour)
            if signal is not None and not (signal[0] == 0 and self.memory.is_correspondent(
                    message.from_address)):
                rows.append(signal_matrix([message], self.memory, when)[0])
                labels.append(signal[0])
                weights.append(signal[1])
                kept.append(index)
            self.memory.record(message_keys(message), "delivered", when)
            self.memory.record(message_keys(message), behaviour, when)
        if kept:
            chosen = [messages[i] for i in kept]
            evidence = Evidence(embeddings[kept], [m.text_for_words() for m in chosen],
                                np.array(rows), [describe(m) for m in chosen])
            self.profile.fit(evidence, labels, sample_weight=weights,
                             times=[times[i] for i in kept])
        return len(kept)

    def learn_many(self, items: Iterable[tuple[Assessment, str]], now: float) -> None:
        for assessment, behaviour in items:
            self.learn(assessment, behaviour, now)
        self.profile.consolidate(now=now)

    # -- persistence -----------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Write the profile and the sender memory (no message bodies)."""
        folder.mkdir(parents=True, exist_ok=True)
        self.profile.save(folder / "profile")
        state = {"memory": self.memory.to_dict(), "sent_ids": sorted(self.sent_ids),
                 "flagged_threads": sorted(self.flagged_threads)}
        temporary = folder / "brain.json.tmp"
        temporary.write_text(json.dumps(state))
        temporary.replace(folder / "brain.json")

    @classmethod
    def load(cls, folder: Path, embedder: Embedder, settings: PolicySettings | None = None,
             lists: Lists | None = None) -> Brain:
        """The brain saved in `folder`, or a new one when there is none yet."""
        if not (folder / "brain.json").exists():
            return cls(embedder, settings=settings, lists=lists)
        state = json.loads((folder / "brain.json").read_text())
        try:
            profile = InterestProfile.load(folder / "profile")
        except ProfileFormatError as error:
            # The sender memory, correspondents and threads still hold, and with them the
            # guard rails; only the learned examples start again.
            logger.warning("%s; starting a new profile until then", error)
            profile = None
        brain = cls(embedder, profile, SenderMemory.from_dict(state["memory"]), settings, lists)
        brain.sent_ids = set(state["sent_ids"])
        brain.flagged_threads = set(state["flagged_threads"])
        return brain
