"""What nearly every reader throws away, in plain words, shipped with the gatekeeper.

Trash is for junk. Mail is deleted only when the profile is sure the reader does not want
it and the reader has thrown away mail like it (`policy`'s guard rails). "Like it" is
strict for mail that reads like anything else (two of its nearest examples within cosine
`brain.SIMILAR`), and looser for mail that also reads like one of these statements: spam
from a sender never seen is rarely that close to earlier spam, while a post the reader
does not want is often that close to posts they do.
"""

from __future__ import annotations

import numpy as np

JUNK_STATEMENTS = (
    "get rich quick: make money fast from home, guaranteed income, financial freedom",
    "cheap pills and pharmacy without a prescription, weight loss, hair loss, anti-aging",
    "adult content: sex, porn, hot singles, dating, cheating wives",
    "advance-fee fraud: a stranger needs help moving millions of dollars out of their country",
    "phishing: your account is suspended, verify your password and bank details",
    "you have won a lottery or a prize, claim your reward now",
    "low mortgage rates, refinance, debt consolidation, credit repair, loans approved",
    "lists of millions of email addresses and bulk email marketing software",
    "unsolicited offers from strangers: buy now, limited time, act fast, click here",
    "online casino, gambling and poker bonus",
)
# Cosine to the closest statement above which a message reads like junk. On the tuning
# world of `scripts/bench_quality.py`: 41-47% of SpamAssassin's spam and 0.7-1.1% of the
# posts the 20 Newsgroups reader wants are above 0.4; at 0.35, 2-2.6% of those posts
# were, and the looser rail deleted two of them.
JUNK_SIMILARITY = 0.4


def junk_similarity(embeddings: np.ndarray, statements: np.ndarray) -> np.ndarray:
    """Each message's cosine to the closest junk statement (unit vectors in, one per row)."""
    return (np.asarray(embeddings, np.float32) @ np.asarray(statements, np.float32).T).max(axis=1)


def closest_junk_statement(embedding: np.ndarray, statements: np.ndarray) -> tuple[str, float]:
    """The junk statement closest to one message (its unit vector), and the cosine."""
    cosines = np.asarray(statements, np.float32) @ np.asarray(embedding, np.float32)
    closest = int(np.argmax(cosines))
    return JUNK_STATEMENTS[closest], float(cosines[closest])
