"""The part of `dermatune export` that needs transformers and PEFT: the processor as the study
used it (its image size), a generation config with the study's decoding settings and stop tokens,
and, with `merge`, the adapter merged into the base model's weights (PEFT's `merge_and_unload`).

Run with the project venv's interpreter and the worker's folder on PYTHONPATH, so the base model
is found, checked for a supported family and loaded exactly as the worker does it. Reads one JSON request on stdin;
writes one JSON line on stdout (`{"ok": ...}` or `{"error": ...}`); exit 2 on an expected failure.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dermatune_worker.generate import decoding_options
from dermatune_worker.models import choose_placement, load_model, load_processor, supported_model, torch_dtype
from dermatune_worker.protocol import WorkerError


def main() -> int:
    request = json.load(sys.stdin)
    try:
        result = export(request)
    except WorkerError as error:
        print(json.dumps({"error": {"kind": error.kind, "message": str(error)}}))
        return 2
    print(json.dumps({"ok": result}))
    return 0


def export(request: dict) -> dict:
    from transformers import GenerationConfig

    settings = request["generate"]
    model_path = supported_model(request["base"], request["models_dir"], request["revision"] or None, request["allow_download"])
    processor = load_processor(model_path, request["image_size"])
    out = Path(request["out_dir"])
    processor.save_pretrained(out)

    tokenizer = processor.tokenizer
    base_generation = GenerationConfig.from_pretrained(model_path)
    # The worker's own decoding options (generate.py), so that plain `model.generate(**inputs)`
    # decodes and stops where the study's generate job did.
    decoding = decoding_options(settings, tokenizer, base_generation.eos_token_id)
    stop_ids = decoding["eos_token_id"]
    generation = GenerationConfig(bos_token_id=base_generation.bos_token_id, **decoding)
    generation.save_pretrained(out)

    merged_files: list[str] = []
    if request["merge"]:
        from peft import PeftModel

        placement = choose_placement("cpu", settings["precision"])
        base = load_model(model_path, torch_dtype(placement.precision))
        merged = PeftModel.from_pretrained(base, request["adapter_dir"]).merge_and_unload()
        merged_dir = out / request["merged_dir"]
        merged.save_pretrained(merged_dir, safe_serialization=True)
        processor.save_pretrained(merged_dir)
        generation.save_pretrained(merged_dir)
        merged_files = sorted(p.name for p in merged_dir.iterdir())
    return {"stop_ids": stop_ids, "merged_files": merged_files}


if __name__ == "__main__":
    sys.exit(main())
