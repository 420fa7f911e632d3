"""Writes tests/fixtures/parity/golden.json: the Python reference values the TypeScript
metrics must reproduce. Run through `node scripts/parity/make-golden.ts`, which provides the
pinned venv. The output is committed, so CI never needs these packages.

References, and how each is reached offline:
- sacreBLEU: `sacrebleu.corpus_bleu` itself (13a, exp smoothing: its defaults).
- ROUGE: `rouge_score.rouge_scorer.RougeScorer` itself, `score` / `score_multi` exactly as
  `evaluate`'s `rouge` metric calls them; nltk's `PorterStemmer` itself for the stemmer.
- evaluate's `bleu`: its code is a hub metric script (`evaluate-metric/bleu`), not part of the
  `evaluate` wheel, and the hub is unreachable here. We try `evaluate.load("bleu")` first; when
  that fails we compute it from the same parts the script is made of: the 13a tokenizer
  (the script carries a verbatim copy of sacreBLEU's `Tokenizer13a`, which we call) and the
  tensorflow/nmt `compute_bleu` it imports, restated below (`nmt_compute_bleu`). That restatement
  is checked against nltk's `corpus_bleu` wherever the two must agree (one reference, no
  smoothing), and the golden file records which path produced the numbers.
"""

import argparse
import collections
import json
import math
import os
import random
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import nltk  # noqa: E402
import rouge_score  # noqa: E402
import sacrebleu  # noqa: E402
from nltk.stem.porter import PorterStemmer  # noqa: E402
from nltk.translate.bleu_score import corpus_bleu as nltk_corpus_bleu  # noqa: E402
from rouge_score import rouge_scorer, tokenize as rouge_tokenize  # noqa: E402
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a  # noqa: E402

from pairs import make_pairs  # noqa: E402

ROUGE_TYPES = ["rouge1", "rouge2", "rougeL", "rougeLsum"]
_tok13a = Tokenizer13a()


def evaluate_tokenizer(line):
    """evaluate's bleu tokenizer: the 13a tokenizer returning `line.split()`, no rstrip."""
    return _tok13a(line).split()


def _ngrams(tokens, max_order):
    counts = collections.Counter()
    for n in range(1, max_order + 1):
        for i in range(len(tokens) - n + 1):
            counts[tuple(tokens[i : i + n])] += 1
    return counts


def nmt_compute_bleu(reference_corpus, translation_corpus, max_order=4, smooth=False):
    """tensorflow/nmt's compute_bleu (the code evaluate's bleu imports), restated."""
    matches = [0] * max_order
    possible = [0] * max_order
    ref_len = 0
    hyp_len = 0
    for references, translation in zip(reference_corpus, translation_corpus):
        ref_len += min(len(r) for r in references)
        hyp_len += len(translation)
        merged = collections.Counter()
        for reference in references:
            merged |= _ngrams(reference, max_order)
        overlap = _ngrams(translation, max_order) & merged
        for ngram, count in overlap.items():
            matches[len(ngram) - 1] += count
        for order in range(1, max_order + 1):
            if len(translation) - order + 1 > 0:
                possible[order - 1] += len(translation) - order + 1
    precisions = [0] * max_order
    for i in range(max_order):
        if smooth:
            precisions[i] = (matches[i] + 1.0) / (possible[i] + 1.0)
        elif possible[i] > 0:
            precisions[i] = float(matches[i]) / possible[i]
        else:
            precisions[i] = 0.0
    if min(precisions) > 0:
        geo_mean = math.exp(sum((1.0 / max_order) * math.log(p) for p in precisions))
    else:
        geo_mean = 0
    if ref_len == 0 or hyp_len == 0:
        ratio, bp = 0.0, 0.0
    else:
        ratio = float(hyp_len) / ref_len
        bp = 1.0 if ratio > 1.0 else math.exp(1 - 1.0 / ratio)
    return {
        "bleu": geo_mean * bp,
        "precisions": precisions,
        "brevity_penalty": bp,
        "length_ratio": ratio,
        "translation_length": hyp_len,
        "reference_length": ref_len,
    }


def load_evaluate_bleu():
    """The real evaluate metric when it can be loaded (hub or cache), else None."""
    try:
        import evaluate

        return evaluate.load("bleu")
    except Exception as error:  # offline: FileNotFoundError / ConnectionError
        print(f"evaluate.load('bleu') unavailable ({type(error).__name__}); using nmt_compute_bleu", file=sys.stderr)
        return None


def evaluate_bleu(metric, predictions, references, smooth):
    if metric is not None:
        return metric.compute(predictions=predictions, references=references, smooth=smooth)
    return nmt_compute_bleu(
        [[evaluate_tokenizer(r) for r in refs] for refs in references],
        [evaluate_tokenizer(p) for p in predictions],
        smooth=smooth,
    )


def check_against_nltk(pairs):
    """nmt_compute_bleu must equal nltk's corpus_bleu on single-reference corpora whose
    hypotheses all have 4+ tokens (nltk counts at least one n-gram per order per sentence)."""
    checked = 0
    rng = random.Random(1)
    single = [
        p for p in pairs if len(p["references"]) == 1 and len(evaluate_tokenizer(p["prediction"])) >= 4
    ]
    for _ in range(40):
        subset = rng.sample(single, 25)
        refs = [[evaluate_tokenizer(p["references"][0])] for p in subset]
        hyps = [evaluate_tokenizer(p["prediction"]) for p in subset]
        ours = nmt_compute_bleu(refs, hyps)["bleu"]
        theirs = nltk_corpus_bleu(refs, hyps)
        assert abs(ours - theirs) < 1e-12, (ours, theirs)
        checked += 1
    return checked


def sacrebleu_corpus(predictions, references):
    width = max(len(r) for r in references)
    streams = [[refs[k] if k < len(refs) else None for refs in references] for k in range(width)]
    s = sacrebleu.corpus_bleu(predictions, streams)
    return {
        "score": s.score,
        "counts": list(s.counts),
        "totals": list(s.totals),
        "precisions": list(s.precisions),
        "bp": s.bp,
        "sys_len": s.sys_len,
        "ref_len": s.ref_len,
    }


def rouge_scores(scorer, pair):
    refs = pair["references"]
    scores = scorer.score(refs[0], pair["prediction"]) if len(refs) == 1 else scorer.score_multi(refs, pair["prediction"])
    return {t: [scores[t].precision, scores[t].recall, scores[t].fmeasure] for t in ROUGE_TYPES}


def stemmer_vocabulary(pairs, rng):
    words = set()
    for p in pairs:
        for text in [p["prediction"], *p["references"]]:
            words.update(rouge_tokenize.tokenize(text, None))
    stems = ["connect", "relat", "condit", "general", "hope", "form", "sens", "electr", "adjust",
             "depend", "adopt", "commun", "activ", "effect", "bowdler", "control", "troubl", "conflat",
             "siz", "hop", "tann", "fall", "hiss", "fizz", "fail", "fil", "happ", "sk", "d", "l", "t",
             "infect", "inflam", "crust", "lesion", "diagnos", "bacteri", "erythem", "theo", "geo",
             "archaeo", "radic", "analog", "vietnam", "predic", "oper", "feud", "decis", "callous"]
    suffixes = ["", "s", "es", "ies", "ied", "ed", "ing", "ly", "y", "ies", "eed", "ational", "tional",
                "enci", "anci", "izer", "bli", "alli", "entli", "eli", "ousli", "ization", "ation",
                "ator", "alism", "iveness", "fulness", "ousness", "aliti", "iviti", "biliti", "fulli",
                "logi", "logy", "icate", "ative", "alize", "iciti", "ical", "ful", "ness", "al", "ance",
                "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "sion", "tion", "ou",
                "ism", "ate", "iti", "ous", "ive", "ize", "e", "ll", "ally", "ities", "ings", "edly"]
    for stem in stems:
        for suffix in suffixes:
            words.add(stem + suffix)
    letters = "abcdeilmnorstuy"
    for _ in range(3000):
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(1, 12))) + rng.choice(suffixes))
    words.update(["y" * n for n in range(1, 30)] + ["yyyy" * 300])
    return sorted(words)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    pairs = make_pairs(seed=20260, realistic=180)
    rng = random.Random(7)
    bleu_metric = load_evaluate_bleu()
    nltk_checks = check_against_nltk(pairs)

    # Corpora for corpus-level BLEU: every pair alone, the whole set, and seeded subsets.
    corpora = [{"name": f"pair:{p['id']}", "ids": [p["id"]]} for p in pairs]
    corpora.append({"name": "all", "ids": [p["id"] for p in pairs]})
    for i in range(30):
        corpora.append({"name": f"subset-{i}", "ids": [p["id"] for p in rng.sample(pairs, rng.randint(2, 60))]})
    by_id = {p["id"]: p for p in pairs}
    for corpus in corpora:
        chosen = [by_id[i] for i in corpus["ids"]]
        predictions = [p["prediction"] for p in chosen]
        references = [p["references"] for p in chosen]
        corpus["bleu"] = evaluate_bleu(bleu_metric, predictions, references, smooth=False)
        corpus["bleu_smooth"] = evaluate_bleu(bleu_metric, predictions, references, smooth=True)
        corpus["sacrebleu"] = sacrebleu_corpus(predictions, references)

    plain = rouge_scorer.RougeScorer(ROUGE_TYPES, use_stemmer=False)
    stemmed = rouge_scorer.RougeScorer(ROUGE_TYPES, use_stemmer=True)
    porter = PorterStemmer()
    texts = sorted({t for p in pairs for t in [p["prediction"], *p["references"]]})

    golden = {
        "generator": "scripts/parity/make-golden.py",
        "versions": {
            "python": sys.version.split()[0],
            "sacrebleu": sacrebleu.__version__,
            "rouge_score": "0.1.2",
            "nltk": nltk.__version__,
        },
        "bleu_reference": (
            "evaluate.load('bleu')" if bleu_metric is not None
            else "nmt_compute_bleu (tensorflow/nmt compute_bleu restated) on sacrebleu's Tokenizer13a; "
            f"agrees with nltk corpus_bleu on {nltk_checks} single-reference corpora"
        ),
        "pairs": pairs,
        "tokens": [
            {
                "text": t,
                "tok13a": evaluate_tokenizer(t),
                "rouge": rouge_tokenize.tokenize(t, None),
                "rouge_stemmed": rouge_tokenize.tokenize(t, porter),
            }
            for t in texts
        ],
        "rouge": [
            {"id": p["id"], "plain": rouge_scores(plain, p), "stemmed": rouge_scores(stemmed, p)} for p in pairs
        ],
        "rouge_mean": {
            variant: {
                t: sum(rouge_scores(scorer, p)[t][2] for p in pairs) / len(pairs) for t in ROUGE_TYPES
            }
            for variant, scorer in [("plain", plain), ("stemmed", stemmed)]
        },
        "bleu_corpora": corpora,
        "porter": {w: porter.stem(w) for w in stemmer_vocabulary(pairs, rng)},
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {args.out}: {len(pairs)} pairs, {len(corpora)} BLEU corpora, "
          f"{len(golden['porter'])} stemmer words, nltk cross-checks {nltk_checks}", file=sys.stderr)


if __name__ == "__main__":
    main()
