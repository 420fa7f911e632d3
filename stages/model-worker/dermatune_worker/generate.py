"""Answers to test questions from a base model or a base model plus a LoRA adapter.

Each question goes with its image through the model's chat template, with the generation prompt
("Assistant:") appended; decoding is greedy unless the job asks for sampling. Outputs (inside
output_dir, named by the job's `outputs`, from the contract): `predictions` (each record as given
plus `id`, `prediction`, `reference` (the record's answer) and `timing`) and `job` (the resolved
job). With a `checkpoint_dir`, each finished batch is kept
there too (`checkpoint.py`), and a job killed part-way starts again at the first missing batch.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from .checkpoint import GenerateBatches, file_digest, job_digest
from .examples import image_path, messages, read_records
from .images import load_image
from .job import output_name
from .models import choose_placement, load_model, load_processor, supported_model, torch_dtype
from .protocol import EventStream, WorkerError


def run_generate(job: dict[str, Any], events: EventStream) -> dict[str, Any]:
    settings = job["generate"]
    outputs = job["outputs"]
    out = Path(job["output_dir"])
    out.mkdir(parents=True, exist_ok=True)
    (out / outputs["job"]).write_text(json.dumps(job, indent=2, sort_keys=True) + "\n")

    model_path = supported_model(job["model"]["base"], job["models_dir"], job["model"]["revision"], job["allow_download"])
    adapter = job["model"]["adapter"]
    if adapter is not None and not train_output(adapter, "adapterConfig").is_file():
        raise WorkerError("model-not-found", f"no LoRA adapter ({train_output(adapter, 'adapterConfig').name}) in {adapter}")

    records = read_records(job["data"]["test"])
    image_root = job["data"]["image_root"] or str(Path(job["data"]["test"]).parent)
    items = []
    for index, record in enumerate(records):
        question = record.get("question")
        if not isinstance(question, str) or not question.strip():
            raise WorkerError("bad-job", f"test data record {index + 1} has no question")
        items.append((record, image_path(record, image_root, f"test data record {index + 1}"), question.strip()))
    # Open every image before loading the model, so a bad one fails in seconds, not mid-run.
    for _, path, _ in items:
        load_image(path)

    placement = choose_placement(settings["device"], settings["precision"])
    image_size = settings["image_size"] or trained_image_size(adapter)
    processor = load_processor(model_path, image_size)
    processor.tokenizer.padding_side = "left"  # generation continues every row from its last token

    import torch

    torch.manual_seed(job["seed"])
    model = load_model(model_path, torch_dtype(placement.precision))
    if adapter is not None:
        model = attach_adapter(model, adapter)
    model.to(placement.device).eval()

    tokenizer = processor.tokenizer
    options = decoding_options(settings, tokenizer, model.generation_config.eos_token_id)
    pad_id = options["pad_token_id"]
    no_repeat = settings["no_repeat_ngram_size"]

    events.emit(
        "started",
        job_type="generate",
        device=placement.device,
        precision=placement.precision,
        model=job["model"]["base"],
        model_path=model_path,
        adapter=adapter,
        image_size=image_size,
        items=len(items),
    )
    size = settings["batch_size"]
    batches = GenerateBatches(job["checkpoint_dir"], generate_digest(job)) if job["checkpoint_dir"] is not None else None
    done_lines: list[dict[str, Any]] = []
    if batches is not None:
        done_lines, rng = batches.finished(events.warning)
        if rng is not None:
            # Sampling continues from where the last finished batch left the generator.
            torch.set_rng_state(torch.frombuffer(bytearray(rng), dtype=torch.uint8))
        if done_lines:
            events.emit("resumed", job_type="generate", done=len(done_lines), total=len(items))
    predictions_path = out / outputs["predictions"]
    total_new_tokens = sum(line["timing"]["new_tokens"] for line in done_lines)
    started = time.perf_counter()
    with predictions_path.open("w", encoding="utf-8") as predictions:
        for line in done_lines:
            predictions.write(json.dumps(line, ensure_ascii=False) + "\n")
        for start in range(len(done_lines), len(items), size):
            batch = items[start : start + size]
            prompts = [processor.apply_chat_template(messages(q, None), add_generation_prompt=True) for _, _, q in batch]
            images = [[load_image(path)] for _, path, _ in batch]
            inputs = processor(text=prompts, images=images, padding=True, add_special_tokens=False, return_tensors="pt")
            inputs = {k: v.to(placement.device) for k, v in inputs.items()}
            batch_started = time.perf_counter()
            answer_start = inputs["input_ids"].shape[1]
            processors = answer_no_repeat(no_repeat, answer_start) if no_repeat > 0 else None
            with torch.inference_mode():
                generated = model.generate(**inputs, **options, logits_processor=processors)
            batch_ms = (time.perf_counter() - batch_started) * 1000
            new_tokens = generated[:, inputs["input_ids"].shape[1] :]
            texts = tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
            lines = []
            for index, (record, _, _), text, row in zip(range(start, start + len(batch)), batch, texts, new_tokens):
                count = int(sum(1 for t in row.tolist() if t != pad_id))
                total_new_tokens += count
                timing = {"batch_ms": round(batch_ms, 3), "batch_size": len(batch), "per_item_ms": round(batch_ms / len(batch), 3), "new_tokens": count}
                line = {**record, "id": item_id(record, index), "prediction": text.strip(), "timing": timing}
                if isinstance(record.get("answer"), str):
                    line["reference"] = record["answer"]
                lines.append(line)
                predictions.write(json.dumps(line, ensure_ascii=False) + "\n")
            predictions.flush()
            if batches is not None:
                batches.save(start // size, start, lines, torch.get_rng_state().numpy().tobytes(), len(items))
            events.emit("progress", phase="generate", done=start + len(batch), total=len(items), unit="item")
    seconds = time.perf_counter() - started
    summary = {
        "items": len(items),
        # Items read back from finished batches of an earlier attempt; seconds count this attempt's.
        "resumed_items": len(done_lines),
        "seconds": seconds,
        "new_tokens": total_new_tokens,
        "new_tokens_per_second": total_new_tokens / seconds if seconds > 0 else 0.0,
        "adapter": adapter is not None,
        "device": placement.device,
        "precision": placement.precision,
    }
    return {"outputs": outputs, "summary": summary}


# Where an answer ends besides the model's own end tokens: the end of the assistant's utterance.
END_OF_UTTERANCE = "<end_of_utterance>"


def stop_token_ids(tokenizer, eos) -> list[int]:
    """The assistant's end of utterance and the model's own end tokens."""
    candidates = [tokenizer.convert_tokens_to_ids(END_OF_UTTERANCE), *(eos if isinstance(eos, list) else [eos])]
    return sorted({i for i in candidates if i is not None})


def decoding_options(settings: dict[str, Any], tokenizer, eos) -> dict[str, Any]:
    """`model.generate` options for a job's generate settings: greedy unless sampling is asked
    for, stopping at stop_token_ids. The one place the study's decoding is spelled: the export's
    generation config and `serve` take it from here."""
    stop_ids = stop_token_ids(tokenizer, eos)
    options: dict[str, Any] = {
        "max_new_tokens": settings["max_new_tokens"],
        "do_sample": settings["do_sample"],
        "repetition_penalty": settings["repetition_penalty"],
        "eos_token_id": stop_ids,
        "pad_token_id": tokenizer.pad_token_id if tokenizer.pad_token_id is not None else stop_ids[0],
    }
    if settings["do_sample"]:
        options.update(temperature=settings["temperature"], top_p=settings["top_p"])
    return options


def answer_no_repeat(size: int, answer_start: int):
    """Bans a token that would repeat an n-gram of the answer so far. transformers' own
    `no_repeat_ngram_size` counts the prompt too (a decoder-only model's ids hold it), so it would
    forbid an answer to echo its question ("The morphology of this lesion indicates ..."), the
    opening the references use; this one looks only at the tokens after the (left-padded, so
    shared) prompt length."""
    from transformers import LogitsProcessor, LogitsProcessorList, NoRepeatNGramLogitsProcessor

    class AnswerNoRepeatNGram(LogitsProcessor):
        def __init__(self):
            self.inner = NoRepeatNGramLogitsProcessor(size)

        def __call__(self, input_ids, scores):
            return self.inner(input_ids[:, answer_start:], scores)

    return LogitsProcessorList([AnswerNoRepeatNGram()])


def generate_digest(job: dict[str, Any]) -> str:
    """What decides the predictions: settings, seed, model and adapter bytes, test data."""
    adapter = job["model"]["adapter"]
    weights = train_output(adapter, "adapterWeights") if adapter is not None else None
    return job_digest(
        {
            "type": "generate",
            "seed": job["seed"],
            "model": {k: v for k, v in job["model"].items() if k != "adapter"},
            "adapter": file_digest(weights) if weights is not None and weights.is_file() else None,
            "generate": job["generate"],
            "data": file_digest(job["data"]["test"]),
        }
    )


def trained_image_size(adapter: str | None) -> int | None:
    """The image size the adapter was trained with (its train job sits beside it), so that a
    tuned model sees test images as it saw training images unless the job says otherwise."""
    if adapter is None:
        return None
    try:
        job = json.loads(train_output(adapter, "job").read_text())
        size = job["train"]["image_size"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return size if isinstance(size, int) and size > 0 else None


def train_output(adapter: str, role: str) -> Path:
    """A file the train job wrote beside (or into) the adapter folder, by its contract name.

    The adapter folder is the train job's `outputs.adapter` inside its output folder, so the
    other outputs are found from that folder's parent."""
    root = Path(adapter).parent
    return root / output_name("TrainOutputs", role)


def item_id(record: dict[str, Any], index: int) -> str:
    """The record's own id, else image key and question id (split's QA rows), else its line."""
    if isinstance(record.get("id"), str):
        return record["id"]
    if isinstance(record.get("key"), str) and isinstance(record.get("question_id"), str):
        return f"{record['key']}:{record['question_id']}"
    return f"line-{index + 1}"


def attach_adapter(model, adapter: str):
    from peft import PeftModel

    return PeftModel.from_pretrained(model, adapter)
