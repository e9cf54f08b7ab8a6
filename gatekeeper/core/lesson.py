"""A lesson: what the brain learns from one reaction, fixed when the reaction happened.

The store keeps one with each reaction, and the brain's files are only a checkpoint of
the lessons applied so far. So learning survives a crash (the lessons after the
checkpoint are applied again), a profile saved for other features is relearned from the
lessons, and a reaction the reader takes back is forgotten exactly. A lesson holds no
message text: the embedding, the hashed word counts and the signals by name, as the
profile reads them, and the sender-memory keys it counts under.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse

from .features import SIGNAL_NAMES
from .profile import Evidence
from .words import WORD_FEATURES

SENT = "sent"  # the behaviour of a lesson about mail the reader sent


@dataclass(frozen=True)
class Example:
    """One labelled example for the profile, as it read the message then."""

    label: int  # 1 wanted, 0 unwanted
    weight: float
    embedding: np.ndarray  # (384,) float32, a unit vector
    words: sparse.csr_matrix  # (1, WORD_FEATURES) damped, hashed term counts
    signals: np.ndarray  # (k,) the header and sender signals before the reaction
    signal_names: tuple[str, ...]
    note: str  # a short description `explain` can quote (sender and subject)

    @classmethod
    def of(cls, label: int, weight: float, evidence: Evidence) -> Example:
        """The example of a one-message `Evidence`."""
        words = evidence.term_frequencies()
        return cls(label, float(weight), np.asarray(evidence.embeddings[0], np.float32),
                   words, np.asarray(evidence.signals[0], np.float64), evidence.names(),
                   evidence.notes[0] if len(evidence.notes) else "")

    def signals_as(self, names: Sequence[str]) -> np.ndarray:
        """The signals in the schema `names`, matched by name: a lesson kept before a
        signal existed reads 0 for it, as the memory reads a key it does not know, and
        a signal the code no longer has is dropped."""
        kept = dict(zip(self.signal_names, self.signals))
        return np.array([kept.get(name, 0.0) for name in names], np.float64)


@dataclass(frozen=True)
class Lesson:
    """What one reaction teaches: the sender memory's counts and, when the reaction says
    the reader wanted the message or not, an example for the profile."""

    behaviour: str  # a `Behaviour`, or SENT
    at: float  # when it happened (for history: when the message arrived)
    keys: tuple[str, ...] = ()  # the sender-memory keys it counts under
    message_id: str = ""
    arrived: bool = False  # its arrival counts too (history learned by `train`)
    recipients: tuple[str, ...] = ()  # for SENT: whom the reader wrote to
    example: Example | None = None

    def read_as(self, embedding: np.ndarray) -> Lesson:
        """This lesson with its example's embedding: drafted before the model read the
        message (training counts a whole history first, then reads it newest first)."""
        if self.example is None:
            return self
        return replace(self, example=replace(self.example,
                                             embedding=np.asarray(embedding, np.float32)))


def evidence_of(examples: Sequence[Example],
                signal_names: Sequence[str] = SIGNAL_NAMES) -> Evidence:
    """The profile's input for these examples, their signals in the schema `signal_names`
    (today's, unless told): lessons kept by an older version still teach."""
    names = tuple(signal_names)
    return Evidence(np.vstack([e.embedding for e in examples]) if examples else np.zeros((0, 384)),
                    [""] * len(examples),
                    np.vstack([e.signals_as(names) for e in examples]) if examples
                    else np.zeros((0, len(names))),
                    [e.note for e in examples], names,
                    words=sparse.vstack([e.words for e in examples], format="csr")
                    if examples else sparse.csr_matrix((0, WORD_FEATURES)))


def encode(lesson: Lesson) -> bytes:
    """The lesson as bytes for the store: numpy arrays and JSON, no pickle."""
    meta = {"behaviour": lesson.behaviour, "at": lesson.at, "keys": list(lesson.keys),
            "message_id": lesson.message_id, "arrived": lesson.arrived,
            "recipients": list(lesson.recipients)}
    arrays: dict[str, np.ndarray] = {}
    if lesson.example is not None:
        example = lesson.example
        meta["example"] = {"label": example.label, "weight": example.weight,
                           "signal_names": list(example.signal_names), "note": example.note}
        arrays = {"embedding": example.embedding.astype(np.float32),
                  "word_columns": example.words.indices.astype(np.int32),
                  "word_counts": example.words.data.astype(np.float64),
                  "signals": example.signals.astype(np.float64)}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, allow_pickle=False, **arrays)
    return buffer.getvalue()


def decode(data: bytes) -> Lesson:
    """The lesson `encode` wrote."""
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        meta = json.loads(arrays["meta"].tobytes())
        example = None
        if "example" in meta:
            about = meta["example"]
            columns = arrays["word_columns"]
            words = sparse.csr_matrix(
                (arrays["word_counts"].astype(np.float64), columns, [0, len(columns)]),
                shape=(1, WORD_FEATURES))
            example = Example(about["label"], about["weight"], arrays["embedding"], words,
                              arrays["signals"], tuple(about["signal_names"]), about["note"])
    return Lesson(meta["behaviour"], meta["at"], tuple(meta["keys"]), meta["message_id"],
                  meta["arrived"], tuple(meta["recipients"]), example)
