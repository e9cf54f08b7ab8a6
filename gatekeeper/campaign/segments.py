"""Personas as brains: one real `Brain` per persona of an audience, cached by content.

Each persona's plain-language interests are its brain's cold start and the example
messages it engaged with or ignored are learned with `Brain.learn_history`, exactly as a
reader's history is. A reader's history also holds the mailings of other people's
interests that it left unread: the bulk mail the other personas engaged with, where this
persona's interests speak against it, is learned as ignored. Without it a persona that
ignored only mail matching its stated disinterests learned that everything else is
wanted (the software developer passed 91% of a fund-raising appeal and 77% of a casino
offer; with it, see `tests/test_personas.py`). Building the 18 brains of the built-in audience embeds ~150 texts
and costs ~3.5 s of CPU, more than the rest of a simulation; so they are kept, in the
process and as brain checkpoints on disk, under a key that changes whenever anything
they are built from changes: the audience's content (not its file name), the model
(`Embedder.model_id`, which names the weights and the token limit), the policy settings
and this module's build version.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from datetime import datetime, timezone
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from itertools import zip_longest
from pathlib import Path

import numpy as np

from ..core.brain import Brain
from ..core.embed import Embedder
from ..core.message import Message, parse
from ..core.policy import PolicySettings
from ..core.senders import SECONDS_PER_DAY
from ..errors import ProfileFormatError
from .audience import Audience, Example, Persona
from .campaign import SENT_AT

logger = logging.getLogger(__name__)

BUILD_VERSION = 2  # raise when `Segment.build` learns differently: old caches are ignored
_BUILT: dict[str, list[Brain]] = {}  # this process's brains, by cache key


def _example_bytes(example: Example, when: float) -> bytes:
    message = EmailMessage()
    message["From"] = example.sender or "Sender <news@sender.example>"
    message["To"] = "reader@example.net"
    message["Subject"] = example.subject
    message["Date"] = formatdate(when)
    message["Message-ID"] = make_msgid(domain="persona.example")
    if example.bulk:
        domain = message["From"].addresses[0].domain or "sender.example"
        message["List-Id"] = f"<news.{domain}>"
        message["Precedence"] = "bulk"
    message.set_content(example.body)
    return bytes(message)


@functools.lru_cache(maxsize=4096)
def _example_message(example: Example) -> Message:
    """The example as a parsed message dated at the start; built once per process (the
    email package's header parsing is most of the cost of building the personas)."""
    return parse(_example_bytes(example, SENT_AT))


def _dated(example: Example, when: float) -> Message:
    return replace(_example_message(example), date=datetime.fromtimestamp(when, timezone.utc))


@dataclass
class Segment:
    """One persona of the audience with its own brain."""

    persona: Persona
    brain: Brain

    @classmethod
    def build(cls, persona: Persona, embedder: Embedder, settings: PolicySettings,
              background: Sequence[Example] = ()) -> Segment:
        """The persona's brain; `background` is other mail on its list (the other
        personas' bulk examples), of which what its interests speak against is ignored."""
        brain = Brain(embedder, settings=settings)
        brain.set_interests(persona.interests, persona.disinterests)
        engaged = [(e, "read") for e in persona.engaged]
        ignored = [(e, "deleted_unread") for e in persona.ignored]
        ignored += [(e, "ignored") for e in _outside_interests(brain, background)]
        # Engaged and ignored interleaved, spread over the two months before the start.
        examples = [pair for both in zip_longest(engaged, ignored) for pair in both if pair]
        if examples:
            times = [SENT_AT - SECONDS_PER_DAY * 60 * (1 - i / len(examples))
                     for i in range(len(examples))]
            messages = [_dated(example, when) for (example, _), when in zip(examples, times)]
            brain.learn_history(messages, brain.embed(messages),
                                [behaviour for _, behaviour in examples], times)
        return cls(persona, brain)


def _outside_interests(brain: Brain, examples: Sequence[Example]) -> list[Example]:
    """The examples the brain's interest statements alone score as unwanted."""
    if not examples:
        return []
    messages = [_example_message(example) for example in examples]
    evidence = brain.evidence(messages, brain.embed(messages), SENT_AT)
    return [example for example, explanation in zip(examples, brain.profile.explain(evidence))
            if explanation.contributions.get("interests", 0.0) < 0]


class _TextMemo(Embedder):
    """An embedder that embeds each text once: the personas of an audience share their
    example mail (each persona reads the others' as background), so building them all
    embeds every example once, not once per persona."""

    def __init__(self, embedder: Embedder) -> None:
        self.inner, self.dimension = embedder, embedder.dimension
        self.batch_size = embedder.batch_size
        self._vectors: dict[str, np.ndarray] = {}

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        missing = [text for text in dict.fromkeys(texts) if text not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self.inner.embed_many(missing)))
        return np.stack([self._vectors[text] for text in texts])


def background_examples(audience: Audience, persona: Persona) -> list[Example]:
    """The bulk mail the other personas of the audience engaged with."""
    return [example for other in audience.personas if other is not persona
            for example in other.engaged if example.bulk]


def cache_key(audience: Audience, embedder: Embedder, settings: PolicySettings) -> str:
    """What the brains are built from, hashed: equal keys, equal brains."""
    content = {"build": BUILD_VERSION, "personas": [asdict(p) for p in audience.personas],
               "model": embedder.model_id,
               "max_length": getattr(embedder, "max_length", None),
               "settings": asdict(settings)}
    text = json.dumps(content, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def build_segments(audience: Audience, embedder: Embedder, settings: PolicySettings,
                   cache_dir: Path | None = None) -> list[Segment]:
    """One segment per persona; their brains come from this process's cache, else from
    checkpoints in `cache_dir` (when given), else are built (and then saved there)."""
    key = cache_key(audience, embedder, settings)
    brains = _BUILT.get(key)
    if brains is None and cache_dir is not None:
        brains = _load(cache_dir / key, embedder, settings, len(audience.personas))
    if brains is None:
        brains = _build_brains(audience, embedder, settings)
        if cache_dir is not None:
            _save(cache_dir / key, brains)
    _BUILT[key] = brains
    # Simulating never changes a persona's brain (the engine replays learning in closed
    # form), so segments may share the cached brains.
    return [Segment(persona, brain) for persona, brain in zip(audience.personas, brains)]


def _build_brains(audience: Audience, embedder: Embedder,
                  settings: PolicySettings) -> list[Brain]:
    memo = _TextMemo(embedder)
    brains = [Segment.build(p, memo, settings, background_examples(audience, p)).brain
              for p in audience.personas]
    for brain in brains:
        brain.embedder = embedder  # the memo served the build; simulating uses the model
    return brains


def _load(folder: Path, embedder: Embedder, settings: PolicySettings,
          count: int) -> list[Brain] | None:
    if not (folder / "complete").exists():
        return None
    try:
        return [Brain.load(folder / str(index), embedder, settings) for index in range(count)]
    except (ProfileFormatError, OSError, KeyError, ValueError) as error:
        logger.warning("persona cache %s unusable (%s); rebuilding", folder, error)
        return None


def _save(folder: Path, brains: Sequence[Brain]) -> None:
    try:
        for index, brain in enumerate(brains):
            brain.save(folder / str(index))
        (folder / "complete").touch()  # written last: a half-written cache is never read
    except OSError as error:  # a read-only home costs speed, not the simulation
        logger.warning("cannot cache persona profiles in %s: %s", folder, error)
