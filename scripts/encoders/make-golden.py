"""Golden files for the TypeScript encoders, from the Python reference implementations.

Runs sentence-transformers (sentence embeddings) and the `bert_score` package (BERTScore) on the
same local model the TypeScript side exports to ONNX, over the pairs in PAIRS_FILE (written by
make-golden.ts), and writes:
  sentence-embeddings.json  token ids and float32 embeddings (base64, little-endian) per text
  bertscore.json            token ids, and P/R/F1 per pair for: idf off, idf on, rescaled

Usage: python make-golden.py --model DIR --layer N --pairs PAIRS_FILE --out DIR
"""

import argparse
import base64
import json
import os
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from bert_score import score as bert_score  # noqa: E402
from bert_score.utils import get_tokenizer, sent_encode  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

# Baseline numbers for the rescaling check. bert_score ships none for this model, so the file
# is ours; only the arithmetic is under test. Row i is layer i, as in bert_score's own files.
BASELINE = {"P": 0.31, "R": 0.33, "F": 0.32}


def restore_build_inputs_with_special_tokens() -> None:
    """bert_score 0.3.13 encodes an empty text with `build_inputs_with_special_tokens([])`,
    which transformers 5 removed. Put back what transformers 4 did for a BERT single sequence
    ([CLS] ids [SEP]), so the real package runs unchanged in the project's venv."""
    from transformers import BertTokenizer

    if hasattr(BertTokenizer, "build_inputs_with_special_tokens"):
        return

    def build(self, ids, pair=None):
        out = [self.cls_token_id] + list(ids) + [self.sep_token_id]
        return out if pair is None else out + list(pair) + [self.sep_token_id]

    BertTokenizer.build_inputs_with_special_tokens = build


def write_golden(path: Path, document: dict, rows_key: str) -> None:
    """JSON with one row of `rows_key` per line: small, and diffs show which row changed."""
    rows = document[rows_key]
    head = {k: v for k, v in document.items() if k != rows_key}
    text = json.dumps(head, ensure_ascii=False, indent=1)[:-2]
    body = ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
    path.write_text(f'{text},\n "{rows_key}": [\n{body}\n ]\n}}\n')


def b64_float32(vector) -> str:
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--model-id", required=True)
    parser.add_argument("--layer", type=int, required=True)
    parser.add_argument("--pairs", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    restore_build_inputs_with_special_tokens()

    pairs = json.loads(Path(args.pairs).read_text())
    cands = [p["candidate"] for p in pairs]
    refs = [p["reference"] for p in pairs]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    versions = {
        name: version(name)
        for name in ["torch", "transformers", "sentence-transformers", "bert-score"]
    }

    # Sentence embeddings: every distinct text, in first-seen order.
    texts = list(dict.fromkeys(refs + cands))
    model = SentenceTransformer(args.model, device="cpu")
    embeddings = model.encode(texts, batch_size=32, convert_to_numpy=True)
    token_ids = [model.tokenize([t])["input_ids"][0].tolist() for t in texts]
    write_golden(
        out / "sentence-embeddings.json",
        {
            "model": args.model_id,
            "reference": "sentence-transformers SentenceTransformer.encode",
            "versions": versions,
            "maxSeqLength": model.max_seq_length,
            "texts": [
                {"text": t, "tokenIds": ids, "embedding": b64_float32(e)}
                for t, ids, e in zip(texts, token_ids, embeddings)
            ],
        },
        "texts",
    )

    # BERTScore, as a user of the package calls it with a local model.
    common = dict(
        model_type=args.model,
        num_layers=args.layer,
        device="cpu",
        batch_size=64,
        nthreads=0,
    )
    plain = bert_score(cands, refs, idf=False, **common)
    idf = bert_score(cands, refs, idf=True, **common)
    with tempfile.TemporaryDirectory() as tmp:
        baseline_path = Path(tmp) / "baseline.tsv"
        rows = ["LAYER,P,R,F"] + [
            f"{layer},{BASELINE['P']},{BASELINE['R']},{BASELINE['F']}"
            for layer in range(args.layer + 1)
        ]
        baseline_path.write_text("\n".join(rows) + "\n")
        rescaled = bert_score(
            cands,
            refs,
            idf=False,
            rescale_with_baseline=True,
            lang="en",
            baseline_path=str(baseline_path),
            **common,
        )
    tokenizer = get_tokenizer(args.model, use_fast=False)
    bert_ids = {t: sent_encode(tokenizer, t) for t in texts}

    def triples(result):
        # [precision, recall, f1] per pair; float() keeps each float32 exactly.
        return [[float(x) for x in row] for row in torch.stack(result, dim=-1).tolist()]

    write_golden(
        out / "bertscore.json",
        {
            "model": args.model_id,
            "layer": args.layer,
            "reference": "bert_score.score(model_type=<local path>, num_layers=layer)",
            "versions": versions,
            "batchSize": common["batch_size"],
            "baseline": {"precision": BASELINE["P"], "recall": BASELINE["R"], "f1": BASELINE["F"]},
            "scores": "[precision, recall, f1] per pair: idf off, idf on, idf off rescaled",
            "pairs": [
                {
                    "candidate": c,
                    "reference": r,
                    "candidateIds": bert_ids[c],
                    "referenceIds": bert_ids[r],
                    "idfOff": a,
                    "idfOn": b,
                    "rescaled": d,
                }
                for c, r, a, b, d in zip(
                    cands, refs, triples(plain), triples(idf), triples(rescaled)
                )
            ],
        },
        "pairs",
    )
    print(json.dumps({"texts": len(texts), "pairs": len(pairs), "versions": versions}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
