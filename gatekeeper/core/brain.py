"""What the gatekeeper knows about its reader, and how it uses it, with no mailbox in sight.

`Brain` holds the interest profile, the sender memory and the allow and block lists. It
embeds messages (cached by content hash), scores them, gathers the `History` the policy
needs, decides, and learns from what the reader does. The daemon's pipeline, the
evaluation harness and the campaign simulator all go through it, so they measure exactly
the code that runs on a real mailbox.

Learning goes through lessons (`gatekeeper.core.lesson`): `lesson` fixes what a reaction
teaches when it happens, `apply` learns it and `forget` takes it back. The brain's saved
file is a checkpoint: it records how far through the store's reactions and decisions it
has come (`Applied`), so the rest can be applied on start.
"""

from __future__ import annotations

import io
import json
import logging
import os
import time
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from ..errors import ProfileFormatError
from .embed import Embedder
from .features import SIGNAL_NAMES, message_keys, signal_matrix
from .junk import JUNK_SIMILARITY, JUNK_STATEMENTS, closest_junk_statement, junk_similarity
from .lesson import SENT, Example, Lesson, evidence_of
from .message import Message
from .policy import History, PolicySettings, Verdict, decide, decide_within
from .profile import NO_REACTION, Evidence, Explanation, InterestProfile, sigmoid
from .words import InterestWords
from .senders import SenderMemory
from .vocabulary import THROWN_AWAY, Behaviour, VerdictAction

logger = logging.getLogger(__name__)

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
CHECKPOINT = "checkpoint.npz"  # the brain's file in its folder
CHECKPOINT_FORMAT = 1
LEGACY_STATE = "brain.json"  # what versions before checkpoints saved beside profile/


@dataclass(frozen=True)
class Assessment:
    """One message as the brain saw it: the score, the reasons, the verdict."""

    message: Message
    embedding: np.ndarray | None  # None when the verdict was settled without the model
    probability: float  # P(wanted)
    explanation: Explanation
    history: History
    verdict: Verdict

    def evidence(self) -> dict:
        """What `explain` shows of the reasoning, as plain data (kept with each decision,
        so it can be shown as it was at the time): the log-odds each kind of evidence
        added, the closest examples, the sender's history, the expected costs."""
        return {"evidence_log_odds": self.explanation.contributions,
                "nearest_examples": [{"note": note, "kept": kept, "similarity": cosine}
                                     for note, kept, cosine in self.explanation.nearest],
                "history": asdict(self.history), "expected_costs": self.verdict.costs}


def learning_signal(behaviour: str) -> tuple[int, float] | None:
    """(label, weight) the profile learns from a behaviour; None when it says nothing."""
    known = Behaviour(behaviour)
    positive, negative = known.positive, known.negative
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
class Applied:
    """How far through the store's record a brain has come: its checkpoint's watermark."""

    decisions: int = 0  # the last decision whose arrival the sender memory counted
    reactions: int = 0  # the last reaction read
    forgotten: set[int] = field(default_factory=set)  # reactions up to there not in the brain

    def to_dict(self) -> dict:
        return {"decisions": self.decisions, "reactions": self.reactions,
                "forgotten": sorted(self.forgotten)}

    @classmethod
    def from_dict(cls, data: dict) -> Applied:
        return cls(data["decisions"], data["reactions"], set(data["forgotten"]))


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
        self.sent_to: Counter[str] = Counter()  # sent lessons naming each correspondent
        self.applied: Applied | None = Applied()  # None: a legacy brain, see `_load_legacy`
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    @property
    def watermark(self) -> Applied:
        """What the brain has applied of the store; a legacy brain has none until
        `learning.catch_up` gives it one."""
        if self.applied is None:
            raise RuntimeError("a legacy brain has no watermark before learning.catch_up")
        return self.applied

    # -- what the reader told us -----------------------------------------------------
    def set_interests(self, interests: Sequence[str], disinterests: Sequence[str] = ()) -> None:
        """Plain-language interests and disinterests: the profile's cold start (beside
        the junk prior, which every reader has)."""
        self.profile.set_statements(self.embedder.embed_many(list(interests)),
                                    self.embedder.embed_many(list(disinterests)),
                                    InterestWords.of(interests), self._junk_vectors())

    def _start_without_statements(self) -> None:
        """No statements yet: the junk prior alone speaks until the reader's behaviour
        says more."""
        empty = np.zeros((0, self.embedder.dimension), np.float32)
        self.profile.set_statements(empty, empty, junk=self._junk_vectors())

    def learn_sent(self, message: Message) -> None:
        """The reader sent this message: its recipients are correspondents."""
        self.apply(self.sent_lesson(message))

    @staticmethod
    def sent_lesson(message: Message) -> Lesson:
        when = message.date.timestamp() if message.date else 0.0
        return Lesson(SENT, when, message_id=message.message_id,
                      recipients=tuple(a.lower() for a in (*message.to, *message.cc) if a))

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
                        [describe(m) for m in messages], SIGNAL_NAMES)

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
        return junk_similarity(embeddings, self._junk_vectors()) >= JUNK_SIMILARITY

    def closest_junk(self, embedding: np.ndarray) -> tuple[str, float]:
        """The junk statement one message reads closest to, and the cosine."""
        return closest_junk_statement(embedding, self._junk_vectors())

    def _junk_vectors(self) -> np.ndarray:
        """The junk statements embedded: once per model, not per brain (the simulator's many)."""
        model = self.embedder.model_id
        if model not in _JUNK_VECTORS:
            _JUNK_VECTORS[model] = self.embedder.embed_many(list(JUNK_STATEMENTS))
        return _JUNK_VECTORS[model]

    def _settle_early(self, messages: Sequence[Message], now: float) -> dict[int, Assessment]:
        """Assessments of the messages the model need not read, by position.

        The words, signals, bias and the interests' own words are scored as usual, and
        the embedding's share is bounded over every vector the model could return
        (`meaning_bounds`); a message is settled when the policy gives one verdict across
        that whole range and whether or not its nearest examples were thrown away.
        Messages whose embedding is cached cost nothing to read, so they go the usual way.
        """
        candidates = [i for i, m in enumerate(messages) if m.content_hash not in self._cache]
        if not candidates:
            return {}
        chosen = [messages[i] for i in candidates]
        blocks = self.profile.contributions_without_meaning(
            [m.text_for_words() for m in chosen], signal_matrix(chosen, self.memory, now))
        known = sum(blocks.values(), np.zeros(len(chosen)))
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
            sender_messages=int(address.count(Behaviour.DELIVERED, now)) if address else 0,
            sender_thrown_away=sum(address.count(b, now) for b in THROWN_AWAY) if address else 0.0,
            similar_thrown_away=similar_thrown_away,
            profile_examples=self.profile.n_examples_,
        )

    # -- learning --------------------------------------------------------------------
    def observe(self, assessment: Assessment, now: float) -> None:
        """Record that a message arrived and what was done with it."""
        self.count_arrival(message_keys(assessment.message),
                           assessment.verdict.action == VerdictAction.HOLD, now)

    def count_arrival(self, keys: Sequence[str], held: bool, at: float) -> None:
        """The sender memory counts a message that arrived at `at` (and was held)."""
        self.memory.record(list(keys), Behaviour.DELIVERED, at)
        if held:
            self.memory.record(list(keys), Behaviour.HELD, at)

    def learn(self, assessment: Assessment, behaviour: str, now: float) -> None:
        """The reader did `behaviour` with this message: update memory and profile."""
        self.apply(self.lesson(assessment.message, behaviour, now, assessment.embedding))

    def lesson(self, message: Message, behaviour: str, now: float,
               embedding: np.ndarray | None = None, arrived: bool = False) -> Lesson:
        """What the reader doing `behaviour` with `message` at `now` teaches, as the brain
        sees it now: the sender signals as they were before this behaviour (learning from
        a row that already counts its own label would teach the profile to trust sender
        history far more than it deserves on mail from anyone new), and no example that
        would teach it to dislike someone the reader writes to."""
        signal = learning_signal(behaviour)
        if signal is not None and signal[0] == 0 and self.memory.is_correspondent(
                message.from_address):
            signal = None
        example = None
        if signal is not None:
            vector = self.embed([message]) if embedding is None else np.asarray(embedding)[None, :]
            example = Example.of(*signal, self.evidence([message], vector, now))
        return Lesson(behaviour, now, tuple(message_keys(message)), message.message_id,
                      arrived, example=example)

    def apply(self, lesson: Lesson, reaction: int = NO_REACTION, step: bool = True) -> None:
        """Learn a lesson (from the store's reaction `reaction`): count it in the sender
        memory and, when it has an example, take a bounded online step (`step`) or only
        keep the example for the next refit (many lessons at once)."""
        self._count(lesson, +1)
        example = lesson.example
        if example is None:
            return
        evidence = evidence_of([example])
        learn = self.profile.partial_fit if step else self.profile.add_examples
        learn(evidence, [example.label], sample_weight=[example.weight], times=[lesson.at],
              ids=[reaction])

    def forget(self, lessons: Sequence[tuple[int, Lesson]]) -> None:
        """Take back lessons learned from these reactions (id, lesson): their counts, and
        their examples, with a refit of the profile without them."""
        for _, lesson in lessons:
            self._count(lesson, -1)
        ids = [reaction for reaction, lesson in lessons if lesson.example is not None]
        if ids:
            self.profile.forget(ids)

    def _count(self, lesson: Lesson, sign: int) -> None:
        """What a lesson counts outside the profile, added (+1) or taken back (-1)."""
        if lesson.behaviour == SENT:
            self._count_sent(lesson, sign)
            return
        change = self.memory.record if sign > 0 else self.memory.forget
        if lesson.arrived:
            change(list(lesson.keys), Behaviour.DELIVERED, lesson.at)
        change(list(lesson.keys), lesson.behaviour, lesson.at)
        if lesson.behaviour == Behaviour.FLAGGED and lesson.message_id:
            (self.flagged_threads.add if sign > 0 else self.flagged_threads.discard)(
                lesson.message_id)

    def _count_sent(self, lesson: Lesson, sign: int) -> None:
        self.sent_to.update({address: sign for address in lesson.recipients})
        for address in lesson.recipients:
            if sign > 0:
                self.memory.add_correspondent(address)
            elif self.sent_to[address] <= 0:
                self.memory.correspondents.discard(address)
        if lesson.message_id:
            (self.sent_ids.add if sign > 0 else self.sent_ids.discard)(lesson.message_id)

    def history_lessons(self, messages: Sequence[Message], embeddings: np.ndarray,
                        behaviours: Sequence[str], times: Sequence[float],
                        sent: Sequence[Lesson] = ()) -> list[Lesson]:
        """Lessons of earlier mail, oldest first: each message's signals as they were when
        it arrived, after the mail the reader `sent` and the messages before it counted.
        The brain is left as it was: learn the lessons with `apply`, or record them."""
        counted = list(sent)
        for lesson in counted:
            self._count(lesson, +1)
        lessons = []
        for message, vector, behaviour, when in zip(messages, embeddings, behaviours, times):
            lesson = self.lesson(message, behaviour, when, vector, arrived=True)
            self._count(lesson, +1)
            lessons.append(lesson)
        for lesson in reversed(counted + lessons):
            self._count(lesson, -1)
        return lessons

    def learn_history(self, messages: Sequence[Message], embeddings: np.ndarray,
                      behaviours: Sequence[str], times: Sequence[float]) -> int:
        """Learn from what the reader did with earlier mail, oldest first (a fresh fit of
        the profile, as `history_lessons` sees each message). Returns the examples learned."""
        lessons = self.history_lessons(messages, embeddings, behaviours, times)
        for lesson in lessons:
            self._count(lesson, +1)
        taught = [lesson for lesson in lessons if lesson.example is not None]
        if taught:
            examples = [lesson.example for lesson in taught if lesson.example is not None]
            self.profile.fit(evidence_of(examples), [e.label for e in examples],
                             sample_weight=[e.weight for e in examples],
                             times=[lesson.at for lesson in taught])
        return len(taught)

    # -- persistence -----------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Write the checkpoint (profile, sender memory, watermark; no message bodies)
        into `folder`, atomically: a crash leaves the old one or the new one whole."""
        folder.mkdir(parents=True, exist_ok=True)
        arrays, profile = self.profile.state()
        meta = {"format": CHECKPOINT_FORMAT, "profile": profile, "memory": self.memory.to_dict(),
                "sent_ids": sorted(self.sent_ids), "flagged_threads": sorted(self.flagged_threads),
                "sent_to": dict(self.sent_to), "applied": self.watermark.to_dict()}
        arrays = {f"profile.{name}": value for name, value in arrays.items()}
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, allow_pickle=False, **arrays)
        temporary = folder / f"{CHECKPOINT}.tmp"
        with open(temporary, "wb") as handle:
            handle.write(buffer.getvalue())
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(folder / CHECKPOINT)

    @staticmethod
    def saved_applied(folder: Path) -> Applied | None:
        """The watermark of the checkpoint in `folder`, None when there is none readable."""
        try:
            with np.load(folder / CHECKPOINT, allow_pickle=False) as data:
                return Applied.from_dict(json.loads(data["meta"].tobytes())["applied"])
        except (OSError, ValueError, KeyError):
            return None

    @classmethod
    def load(cls, folder: Path, embedder: Embedder, settings: PolicySettings | None = None,
             lists: Lists | None = None) -> Brain:
        """The brain checkpointed in `folder`, or a new one when there is none yet.
        ProfileFormatError when the checkpoint cannot be used (another format, other
        features): relearn it from the store's reactions then."""
        path = folder / CHECKPOINT
        if not path.exists():
            if (folder / LEGACY_STATE).exists():
                return cls._load_legacy(folder, embedder, settings, lists)
            return cls(embedder, settings=settings, lists=lists)
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(data["meta"].tobytes())
                arrays = {name.removeprefix("profile."): data[name] for name in data.files
                          if name.startswith("profile.")}
        except (OSError, ValueError, KeyError) as error:
            raise ProfileFormatError(f"the checkpoint {path} cannot be read ({error})") from error
        if meta.get("format") != CHECKPOINT_FORMAT:
            raise ProfileFormatError(f"the checkpoint {path} has format {meta.get('format')}, "
                                     f"this version reads {CHECKPOINT_FORMAT}")
        profile = InterestProfile.from_state(arrays, meta["profile"], SIGNAL_NAMES,
                                             where=f"the profile in {path}")
        brain = cls(embedder, profile, SenderMemory.from_dict(meta["memory"]), settings, lists)
        brain.sent_ids = set(meta["sent_ids"])
        brain.flagged_threads = set(meta["flagged_threads"])
        brain.sent_to = Counter(meta["sent_to"])
        brain.applied = Applied.from_dict(meta["applied"])
        return brain

    @classmethod
    def _load_legacy(cls, folder: Path, embedder: Embedder, settings: PolicySettings | None,
                     lists: Lists | None) -> Brain:
        """A brain saved by a version before checkpoints (brain.json and profile/). It
        knows nothing of the store's order, so its `applied` is None: whatever the store
        holds when it is first caught up is taken to be in it already."""
        state = json.loads((folder / LEGACY_STATE).read_text())
        try:
            profile = InterestProfile.load(folder / "profile", SIGNAL_NAMES)
        except ProfileFormatError as error:
            # The sender memory, correspondents and threads still hold, and with them the
            # guard rails; only the learned examples start again.
            logger.warning("%s; starting a new profile", error)
            profile = None
        brain = cls(embedder, profile, SenderMemory.from_dict(state["memory"]), settings, lists)
        brain.sent_ids = set(state["sent_ids"])
        brain.flagged_threads = set(state["flagged_threads"])
        # Each correspondent it knew counts as mail sent to them that is never taken back.
        brain.sent_to = Counter(brain.memory.correspondents)
        brain.applied = None
        return brain
