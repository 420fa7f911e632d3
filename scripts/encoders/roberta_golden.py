"""RoBERTa parity golden file: `bert_score` 0.3.13 on transformers 4.x, as its users run it.

Scores the pairs in PAIRS_FILE (written by make-roberta-golden.ts) with bert_score.score on the
tiny RoBERTa fixture folder, idf off and on, and writes the token ids bert_score feeds the model
and P/R/F1 per pair. Runs in its own venv (.dermatune/bert-score-venv): bert_score 0.3.13 calls
tokenizer methods transformers 5 removed, so no patch is needed or applied here.

Usage: python roberta_golden.py --model DIR --layer N --pairs PAIRS_FILE --out FILE
"""

import argparse
import hashlib
import json
import os
import sys
from importlib.metadata import version
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
from bert_score import score as bert_score  # noqa: E402
from bert_score.utils import get_tokenizer, sent_encode  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--model-id", required=True)
    parser.add_argument("--layer", type=int, required=True)
    parser.add_argument("--pairs", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))

    pairs = json.loads(Path(args.pairs).read_text())
    cands = [p["candidate"] for p in pairs]
    refs = [p["reference"] for p in pairs]
    common = dict(model_type=args.model, num_layers=args.layer, device="cpu", batch_size=64)
    plain = bert_score(cands, refs, idf=False, **common)
    idf = bert_score(cands, refs, idf=True, **common)
    tokenizer = get_tokenizer(args.model, use_fast=False)
    ids = {t: sent_encode(tokenizer, t) for t in dict.fromkeys(refs + cands)}

    def triples(result):
        # [precision, recall, f1] per pair; float() keeps each float32 exactly.
        return [[float(x) for x in row] for row in torch.stack(result, dim=-1).tolist()]

    weights = Path(args.model) / "model.safetensors"
    head = {
        "model": args.model_id,
        "layer": args.layer,
        "reference": "bert_score.score(model_type=<fixture folder>, num_layers=layer)",
        "versions": {n: version(n) for n in ["torch", "transformers", "tokenizers", "bert-score"]},
        "tokenizerClass": type(tokenizer).__name__,
        "weightsSha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "batchSize": common["batch_size"],
        "scores": "[precision, recall, f1] per pair: idf off, idf on",
    }
    rows = [
        {
            "candidate": c,
            "reference": r,
            "candidateIds": ids[c],
            "referenceIds": ids[r],
            "idfOff": a,
            "idfOn": b,
        }
        for c, r, a, b in zip(cands, refs, triples(plain), triples(idf))
    ]
    # One pair per line: small, and a diff shows which pair changed.
    text = json.dumps(head, ensure_ascii=False, indent=1)[:-2]
    body = ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
    Path(args.out).write_text(f'{text},\n "pairs": [\n{body}\n ]\n}}\n')
    print(json.dumps({"pairs": len(rows), "versions": head["versions"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
