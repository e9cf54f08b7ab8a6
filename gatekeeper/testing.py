"""Fakes shipped with the code, for tests here and in projects that build on gatekeeper.

`HashEmbedder` is a deterministic, model-free embedder: texts that share words get close
vectors, which is enough to test learning and decisions in milliseconds. `build_message`
writes a real RFC 5322 message from a few keyword arguments.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from datetime import datetime, timezone

import numpy as np

from .core.embed import DIMENSION, Embedder

_WORD = re.compile(r"\w+")


class HashEmbedder(Embedder):
    """Sum of one fixed random unit vector per lower-cased word, normalised."""

    model_id = "hash-embedder/test"

    def __init__(self, dimension: int = DIMENSION) -> None:
        self.dimension = dimension

    def _word_vector(self, word: str) -> np.ndarray:
        rng = np.random.default_rng(zlib.crc32(word.encode()))
        return rng.standard_normal(self.dimension)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension))
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                vectors[row] += self._word_vector(word)
            if not vectors[row].any():
                vectors[row, 0] = 1.0
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors.astype(np.float32)


def build_message(
    *,
    sender: str = "Alice Example <alice@example.org>",
    to: str = "reader@example.net",
    subject: str = "Hello",
    body: str = "Just saying hello.",
    html: str | None = None,
    date: datetime | None = None,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """The bytes of a message with these parts; `html` adds an HTML alternative."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(date or datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc))
    message["Message-ID"] = message_id or make_msgid(domain="example.org")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return bytes(message)
