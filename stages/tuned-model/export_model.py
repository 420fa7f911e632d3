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

from dermatune_worker.models import choose_placement, load_model, load_processor, supported_model, torch_dtype
from dermatune_worker.protocol import WorkerError

# The worker's generate job stops at the assistant's end of utterance as well as at the model's own
# end tokens (generate.py); the exported generation config carries the same stops, so that plain
# `model.generate(**inputs)` ends answers where the study's did.
END_OF_UTTERANCE = "<end_of_utterance>"


def stop_token_ids(tokenizer, eos) -> list[int]:
    """The assistant's end of utterance and the model's own end tokens (`serve_models.py` too)."""
    candidates = [tokenizer.convert_tokens_to_ids(END_OF_UTTERANCE), *(eos if isinstance(eos, list) else [eos])]
    return sorted({i for i in candidates if i is not None})


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
    stop_ids = stop_token_ids(tokenizer, base_generation.eos_token_id)
    decoding = {
        "max_new_tokens": settings["max_new_tokens"],
        "do_sample": settings["do_sample"],
        "repetition_penalty": settings["repetition_penalty"],
    }
    if settings["do_sample"]:
        decoding.update(temperature=settings["temperature"], top_p=settings["top_p"])
    generation = GenerationConfig(
        bos_token_id=base_generation.bos_token_id,
        eos_token_id=stop_ids,
        pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else stop_ids[0],
        **decoding,
    )
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
