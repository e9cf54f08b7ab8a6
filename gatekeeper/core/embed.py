"""Sentence embeddings: text in, one L2-normalised 384-d float32 vector per text out.

`Embedder` has one abstract method, `embed_batch`; batching and single-text helpers come
from the base. `OnnxEmbedder` runs the shipped int8 MiniLM with onnxruntime and is the
default; `SentenceTransformerEmbedder` runs the fp32 model through sentence-transformers
when the `[st]` extra is installed. The config chooses one by name (`embedder`, see
`EMBEDDERS`); `embedder_for(settings)` makes it. This module is the only importer of
onnxruntime, tokenizers and sentence-transformers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..errors import BackendUnavailableError, ModelCorruptError, ModelMissingError

logger = logging.getLogger(__name__)

DIMENSION = 384
DEFAULT_MAX_LENGTH = 256  # sentence-transformers' setting for this model
FAST_MAX_LENGTH = 128
DEFAULT_BATCH_SIZE = 8  # texts per embed_batch call from embed_many: bounds memory
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"
# Lone surrogates are valid in a Python str but not in UTF-8: the tokenizer raises
# TypeError on them (a UTF-7 body "+2D0-" decodes to one), so they become U+FFFD.
_UNENCODABLE = re.compile("[\ud800-\udfff]")


def tokenizable(text: str) -> str:
    """`text` as the tokenizer can take it: every code point encodable as UTF-8."""
    return _UNENCODABLE.sub("\ufffd", text)


@dataclass(frozen=True, slots=True)
class ModelFiles:
    """Where the shipped model lives, and what its manifest promises."""

    folder: Path
    name: str  # e.g. "all-MiniLM-L6-v2-int8"
    sha256: dict[str, str]  # file name -> expected SHA-256


def default_model_dir() -> Path:
    """The model folder: inside the installed package, else at the top of a checkout."""
    package = Path(__file__).resolve().parent.parent  # gatekeeper/, this module is in core/
    packaged = package / "models"
    if (packaged / MANIFEST_FILE).exists():
        return packaged
    return package.parent / "models"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_model(folder: Path | None = None) -> ModelFiles:
    """Check every file named in the manifest against its SHA-256; raise if any is wrong."""
    folder = folder or default_model_dir()
    manifest_path = folder / MANIFEST_FILE
    if not manifest_path.is_file():
        raise ModelMissingError(
            f"no model manifest at {manifest_path}; reinstall gatekeeper "
            "or rebuild the model with scripts/export_model.py"
        )
    manifest = json.loads(manifest_path.read_text())
    for name, expected in manifest["sha256"].items():
        path = folder / name
        if not path.is_file():
            raise ModelMissingError(f"model file {path} is missing; reinstall gatekeeper")
        if _sha256(path) != expected:
            raise ModelCorruptError(
                f"model file {path} is corrupt (its SHA-256 does not match the manifest); "
                "reinstall gatekeeper or rebuild the model with scripts/export_model.py"
            )
    return ModelFiles(folder=folder, name=manifest["name"], sha256=manifest["sha256"])


class Embedder(ABC):
    """Turns texts into L2-normalised float32 vectors of `dimension` values."""

    dimension: int = DIMENSION
    batch_size: int = DEFAULT_BATCH_SIZE

    @property
    @abstractmethod
    def model_id(self) -> str:
        """Names the model and its settings; stored with every vector so stale ones are found."""

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts in one go: an (n, dimension) float32 array with unit-length rows."""

    def embed(self, text: str) -> np.ndarray:
        """Embed one text: a (dimension,) vector."""
        return self.embed_batch([text])[0]

    def embed_many(self, texts: Sequence[str]) -> np.ndarray:
        """Embed any number of texts, `batch_size` at a time (bounded memory)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        chunks = [
            self.embed_batch(texts[start : start + self.batch_size])
            for start in range(0, len(texts), self.batch_size)
        ]
        return np.concatenate(chunks)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


class OnnxEmbedder(Embedder):
    """The shipped int8 MiniLM on onnxruntime, with mean pooling built into the graph.

    `threads` is how many cores it may use: 1 by default, because a background daemon
    shares the machine. One text runs on onnxruntime's intra-op threads; several run that
    many texts side by side instead, which for a model this small gets more from each core
    (scripts/bench_embed.py). Spinning threads are turned off so an idle daemon uses no CPU.
    """

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        max_length: int = DEFAULT_MAX_LENGTH,
        threads: int = 1,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        if not 8 <= max_length <= 512:
            raise ValueError(f"max_length must be between 8 and 512, not {max_length}")
        self.files = verify_model(model_dir)
        self.max_length = max_length
        self.threads = threads
        self.batch_size = batch_size

    @property
    def model_id(self) -> str:
        return f"{self.files.name}@{self.files.sha256[MODEL_FILE][:12]}/len{self.max_length}"

    @cached_property
    def tokenizer(self):
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.files.folder / TOKENIZER_FILE))
        # The upstream file pads and truncates to a fixed 128: pad to the longest text of
        # the batch instead, and truncate at our own maximum.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=self.max_length)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        return tokenizer

    @cached_property
    def session(self):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        return ort.InferenceSession(
            str(self.files.folder / MODEL_FILE), options, providers=["CPUExecutionProvider"]
        )

    @cached_property
    def _workers(self) -> ThreadPoolExecutor:
        # onnxruntime and the tokenizer release the GIL, so threads run texts in parallel.
        return ThreadPoolExecutor(self.threads, thread_name_prefix="embed")

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        # One text per forward pass: dynamic int8 quantises activations over the whole
        # input tensor, so a padded batch would make a vector depend on its batch-mates
        # (cosine down to 0.987), and on CPU batch 1 measured faster too (scripts/bench_embed.py).
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.threads == 1 or len(texts) == 1:
            return np.concatenate([self.forward([text]) for text in texts])
        return np.concatenate(list(self._workers.map(lambda text: self.forward([text]), texts)))

    def forward(self, texts: Sequence[str]) -> np.ndarray:
        """One forward pass over `texts` padded to the longest (for benchmarks)."""
        encodings = self.tokenizer.encode_batch([tokenizable(text) for text in texts])
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        (vectors,) = self.session.run(["sentence_embedding"], feeds)
        # The graph normalises already; renormalising absorbs int8 rounding in the norm.
        return _normalise(vectors)


class SentenceTransformerEmbedder(Embedder):
    """The fp32 model through sentence-transformers (the `[st]` extra).

    `model` is a local folder or an already-loaded SentenceTransformer; nothing is fetched
    from a model hub.
    """

    def __init__(
        self,
        model: object,
        *,
        max_length: int = DEFAULT_MAX_LENGTH,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as error:
            raise BackendUnavailableError(
                "the sentence-transformers backend needs the [st] extra: "
                "pip install torch==2.13.0 && pip install 'gatekeeper[st]'"
            ) from error
        loaded: Any = model  # sentence-transformers ships no types
        if isinstance(model, SentenceTransformer):
            self.name = type(loaded[0].auto_model).__name__
        else:
            self.name = Path(str(model)).name
            loaded = SentenceTransformer(str(model), device="cpu", local_files_only=True)
        loaded.max_seq_length = max_length
        self.model = loaded
        self.max_length = max_length
        self.batch_size = batch_size

    @property
    def model_id(self) -> str:
        return f"sentence-transformers:{self.name}/len{self.max_length}"

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            [tokenizable(text) for text in texts], batch_size=len(texts), normalize_embeddings=True, convert_to_numpy=True
        )
        return _normalise(np.asarray(vectors, dtype=np.float32))


class EmbedderSettings(Protocol):
    """The settings an embedder is made from (`config.Settings` has them)."""

    @property
    def embedder(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def max_length(self) -> int: ...
    @property
    def threads(self) -> int: ...


def _onnx(model: str, max_length: int, threads: int) -> Embedder:
    return OnnxEmbedder(Path(model) if model else None, max_length=max_length, threads=threads)


def _sentence_transformers(model: str, max_length: int, threads: int) -> Embedder:
    if not model:
        raise BackendUnavailableError(
            "the sentence-transformers embedder needs `model`: the folder of a "
            "sentence-transformers model on this machine (nothing is downloaded)")
    return SentenceTransformerEmbedder(model, max_length=max_length)


# The embedders the config can name (`embedder = "..."`), each made from (model, max_length,
# threads); `model` is "" for the default. Add an embedder here, and only here.
EMBEDDERS: dict[str, Callable[[str, int, int], Embedder]] = {
    "onnx": _onnx,
    "sentence-transformers": _sentence_transformers,
}
DEFAULT_EMBEDDER = "onnx"


def make_embedder(name: str = DEFAULT_EMBEDDER, *, model: str = "",
                  max_length: int = DEFAULT_MAX_LENGTH, threads: int = 1) -> Embedder:
    """The embedder registered as `name`, reading `max_length` tokens on `threads` cores."""
    if name not in EMBEDDERS:
        raise BackendUnavailableError(
            f"unknown embedder {name!r}; known: {', '.join(EMBEDDERS)}")
    return EMBEDDERS[name](model, max_length, threads)


def embedder_for(settings: EmbedderSettings, *, max_length: int | None = None,
                 threads: int | None = None) -> Embedder:
    """The embedder the settings choose; `max_length` or `threads` override theirs."""
    return make_embedder(settings.embedder, model=settings.model,
                         max_length=settings.max_length if max_length is None else max_length,
                         threads=settings.threads if threads is None else threads)
