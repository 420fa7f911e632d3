"""Sentences per second of sentence-transformers on the CPU, for bench/encoders.ts.

Reads a JSON list of texts, loads the model once, warms up, then times `encode` `--repeats`
times and prints one JSON line with every timing (wall and CPU seconds).

Usage: python bench-sentence-transformers.py --model DIR --texts FILE --repeats N
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--texts", required=True)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    with open(args.texts, encoding="utf-8") as handle:
        texts = json.load(handle)
    model = SentenceTransformer(args.model, device="cpu")
    model.encode(texts[:64], batch_size=args.batch_size)
    seconds = []
    cpu_seconds = []
    for _ in range(args.repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        model.encode(texts, batch_size=args.batch_size, convert_to_numpy=True)
        seconds.append(time.perf_counter() - start)
        # CPU time of all the process's threads: steadier than wall time on a shared machine.
        cpu_seconds.append(time.process_time() - cpu_start)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpuSeconds": cpu_seconds,
                "threads": torch.get_num_threads(),
                "texts": len(texts),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
