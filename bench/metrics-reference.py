"""Python side of bench/metrics.ts: writes the benchmark's pairs, then times the reference
implementations on them (evaluate's bleu code path, sacreBLEU's corpus_bleu, rouge_score as
evaluate's rouge calls it) and writes their values and the seconds spent computing (imports
and pair generation excluded)."""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "parity"))

import importlib.util  # noqa: E402

import sacrebleu  # noqa: E402
from rouge_score import rouge_scorer  # noqa: E402

from pairs import make_pairs  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "make_golden", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "parity", "make-golden.py")
)
make_golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_golden)

ROUGE_TYPES = ["rouge1", "rouge2", "rougeL", "rougeLsum"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--answers", type=int, default=765)
    parser.add_argument("--pairs-out", required=True)
    parser.add_argument("--results-out", required=True)
    args = parser.parse_args()

    models = [make_pairs(seed=1000 + m, realistic=args.answers, edge_cases=False) for m in range(args.models)]
    with open(args.pairs_out, "w", encoding="utf-8") as f:
        json.dump(models, f, ensure_ascii=False)

    bleu_metric = make_golden.load_evaluate_bleu()
    started = time.perf_counter()
    cpu_started = time.process_time()
    results = []
    scorer = rouge_scorer.RougeScorer(ROUGE_TYPES, use_stemmer=False)
    for pairs in models:
        predictions = [p["prediction"] for p in pairs]
        references = [p["references"] for p in pairs]
        bleu = make_golden.evaluate_bleu(bleu_metric, predictions, references, smooth=False)["bleu"]
        sacre = sacrebleu.corpus_bleu(predictions, [[r[0] for r in references]]).score
        per_example = {t: [] for t in ROUGE_TYPES}
        for p in pairs:
            scores = scorer.score(p["references"][0], p["prediction"])
            for t in ROUGE_TYPES:
                per_example[t].append(scores[t].fmeasure)
        results.append({
            "bleu": bleu,
            "sacrebleu": sacre,
            "rouge_mean": {t: sum(v) / len(v) for t, v in per_example.items()},
            "rouge_per_example": per_example,
        })
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    with open(args.results_out, "w", encoding="utf-8") as f:
        json.dump({"seconds": seconds, "cpu_seconds": cpu_seconds, "models": results}, f)


if __name__ == "__main__":
    main()
