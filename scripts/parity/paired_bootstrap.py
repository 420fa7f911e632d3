"""sacreBLEU's own paired tests on the systems in a JSON file, for
scripts/parity/paired-bootstrap.ts: `PairedTest` is what `sacrebleu REF -i BASE SYS... -m bleu
--paired-bs` (and `--paired-ar`) runs, called here through its API so the figures come back
as JSON. The first system is the baseline. Seeded by SACREBLEU_SEED (sacreBLEU's default 12345).

Input: {"references": [...], "systems": [[name, [hypotheses...]], ...]}
Output: {"bs": [...], "ar": [...]}, one entry per system: score, p, mean, ci (half-width).
"""

import json
import sys

from sacrebleu.metrics import BLEU
from sacrebleu.significance import PairedTest


def run(data, test_type, n_samples):
    named = [(name, hyps) for name, hyps in data["systems"]]
    test = PairedTest(
        named,
        {"BLEU": BLEU(references=[data["references"]])},
        references=None,
        test_type=test_type,
        n_samples=n_samples,
    )
    _, scores = test()
    (metric,) = [k for k in scores if k != "System"]
    return [
        {"system": name, "score": r.score, "p": r.p_value, "mean": r.mean, "ci": r.ci}
        for name, r in zip(scores["System"], scores[metric])
    ]


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        data = json.load(f)
    print(json.dumps({"bs": run(data, "bs", 1000), "ar": run(data, "ar", 10000)}))


if __name__ == "__main__":
    main()
