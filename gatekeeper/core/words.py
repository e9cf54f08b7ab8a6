"""Words as the profile reads them: hashed term counts, and the words of the reader's
interests.

Tokens are lower-cased words, numbers and dotted names, hashed to columns exactly as
scikit-learn's HashingVectorizer(alternate_sign=False) hashes them: |MurmurHash3_32(utf-8,
seed 0)| mod WORD_FEATURES, so saved profiles keep their meaning (a test holds the two
equal).

`InterestWords` are the content words of the reader's interest statements. The interest
prior reads a statement for its meaning, by the cosine of two embeddings, and a long
message's embedding is about its whole topic, so a post that names what the reader named
("NASA", "rockets") can still sit far from "space exploration". Counting the statement's
own words in the message adds that evidence (`InterestProfile.interest_prior`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import mmh3
import numpy as np
from scipy import sparse

WORD_FEATURES = 2**18
# Words, numbers and dotted names (domains, versions) as tokens.
TOKEN_PATTERN = r"(?u)\b\w[\w'.-]*\w\b|\b\w\b"
_TOKENS = re.compile(TOKEN_PATTERN)

# Words that carry no topic of their own: a statement's other words are its content.
FUNCTION_WORDS = frozenset("""
a about after all also an and any are as at be been but by can could do does each for from
had has have how i if in into is it its just like me more most my no not of on only or other
our out over own same so some such than that the their them then there these they this
those to too under up us very was we were what when where which while who why will with
would you your
""".split())


def word_column(token: str) -> int:
    """The hashed column of one lower-cased token."""
    return abs(mmh3.hash(token)) % WORD_FEATURES


def term_frequencies(texts: Sequence[str]) -> sparse.csr_matrix:
    """Hashed word counts, damped as 1 + log(count): a word said ten times is not ten
    times the evidence."""
    indptr, indices, counts = [0], [], []
    for text in texts:
        hashes = np.fromiter((mmh3.hash(token) for token in _TOKENS.findall(text.lower())),
                             np.int64)
        columns, count = np.unique(np.abs(hashes) % WORD_FEATURES, return_counts=True)
        indices.append(columns)
        counts.append(count)
        indptr.append(indptr[-1] + len(columns))
    data = 1.0 + np.log(np.concatenate(counts)) if counts else np.zeros(0)
    columns = np.concatenate(indices) if indices else np.zeros(0, np.int64)
    return sparse.csr_matrix((data, columns, np.array(indptr)), shape=(len(texts), WORD_FEATURES))


def _forms(word: str) -> set[str]:
    """A content word and its plain plural or singular: "rocket" and "rockets" match."""
    forms = {word, word + "s"}
    if word.endswith("s") and len(word) > 3:
        forms.add(word[:-1])
    return forms


@dataclass(frozen=True)
class InterestWords:
    """The content words of each interest statement, as hashed columns.

    `columns[i]` is a column one of the words can take, `keyword_of[i]` that word's
    number, and `statement_of[k]` the statement word k belongs to.
    """

    columns: np.ndarray  # (c,) int64
    keyword_of: np.ndarray  # (c,) int64
    statement_of: np.ndarray  # (k,) int64

    @classmethod
    def of(cls, statements: Sequence[str]) -> InterestWords:
        columns: list[int] = []
        keyword_of: list[int] = []
        statement_of: list[int] = []
        for number, statement in enumerate(statements):
            words = dict.fromkeys(  # in order, once each
                token for token in _TOKENS.findall(statement.lower())
                if len(token) > 1 and not token.isdigit() and token not in FUNCTION_WORDS)
            for word in words:
                forms = sorted({word_column(form) for form in _forms(word)})
                columns += forms
                keyword_of += [len(statement_of)] * len(forms)
                statement_of.append(number)
        return cls(np.array(columns, np.int64), np.array(keyword_of, np.int64),
                   np.array(statement_of, np.int64))

    @classmethod
    def none(cls) -> InterestWords:
        return cls.of([])

    def __len__(self) -> int:
        """How many content words the statements have."""
        return len(self.statement_of)

    @cached_property
    def _forms_of_words(self) -> sparse.csr_matrix:
        """(WORD_FEATURES, words): 1 where a column is a form of the word."""
        return sparse.csr_matrix((np.ones(len(self.columns)), (self.columns, self.keyword_of)),
                                 shape=(WORD_FEATURES, len(self)))

    @cached_property
    def _words_of_statements(self) -> sparse.csr_matrix:
        """(words, statements): 1 where the word is one of the statement's."""
        return sparse.csr_matrix((np.ones(len(self)), (np.arange(len(self)), self.statement_of)),
                                 shape=(len(self), int(self.statement_of.max()) + 1))

    def matches(self, term_counts: sparse.csr_matrix) -> np.ndarray:
        """Per message, the most content words of any one statement that it uses."""
        if not len(self):
            return np.zeros(term_counts.shape[0])
        present = (term_counts > 0).astype(np.float64) @ self._forms_of_words  # forms used
        counts = (present > 0).astype(np.float64) @ self._words_of_statements
        return np.asarray(counts.max(axis=1).todense()).ravel()

    def arrays(self) -> dict[str, np.ndarray]:
        return {"interest_word_columns": self.columns, "interest_word_keywords": self.keyword_of,
                "interest_word_statements": self.statement_of}

    @classmethod
    def from_arrays(cls, arrays) -> InterestWords:
        """The words `arrays` gave; none for a profile saved before they were kept."""
        if "interest_word_columns" not in arrays:
            return cls.none()
        return cls(np.asarray(arrays["interest_word_columns"], np.int64),
                   np.asarray(arrays["interest_word_keywords"], np.int64),
                   np.asarray(arrays["interest_word_statements"], np.int64))
