"""The models behind `dermatune serve`: each variant's model loaded once and kept, answering
questions (with the conversation so far) until stdin closes.

One JSON request per line on stdin, one JSON event per line on stdout:
  {"op": "load", "variant", "base", "revision", "models_dir", "allow_download", "adapter",
   "image_size", "generate"}                       -> {"event": "loaded", "variant", "seconds"}
  {"op": "ask", "id", "variant", "image", "turns": [{"question", "answer"}], "question"}
                                                   -> {"event": "answer", "id", "variant", "answer", "seconds"}
Failures are {"event": "error", "id"?, "variant"?, "message"}. The base model is found, checked
and loaded with the worker's own modules, the adapter attached and the answer decoded with the
generate job's settings, stop tokens and answer-only n-gram ban, so a first question about an
image is answered as the study's generate stage would answer it.
"""

from __future__ import annotations

import json
import sys
import time

from dermatune_worker.generate import answer_no_repeat, attach_adapter, decoding_options
from dermatune_worker.images import load_image
from dermatune_worker.models import choose_placement, load_model, load_processor, supported_model, torch_dtype
from dermatune_worker.protocol import WorkerError

loaded: dict[str, dict] = {}


def emit(event: dict) -> None:
    sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def load(request: dict) -> dict:
    started = time.perf_counter()
    settings = request["generate"]
    model_path = supported_model(request["base"], request["models_dir"], request["revision"] or None, request["allow_download"])
    placement = choose_placement(settings["device"], settings["precision"])
    processor = load_processor(model_path, request["image_size"])
    processor.tokenizer.padding_side = "left"
    model = load_model(model_path, torch_dtype(placement.precision))
    if request["adapter"] is not None:
        model = attach_adapter(model, request["adapter"])
    model.to(placement.device).eval()
    options = decoding_options(settings, processor.tokenizer, model.generation_config.eos_token_id)
    loaded[request["variant"]] = {
        "model": model,
        "processor": processor,
        "options": options,
        "no_repeat": settings["no_repeat_ngram_size"],
        "device": placement.device,
    }
    return {"event": "loaded", "variant": request["variant"], "seconds": time.perf_counter() - started}


def ask(request: dict) -> dict:
    import torch

    started = time.perf_counter()
    held = loaded.get(request["variant"])
    if held is None:
        raise WorkerError("bad-job", f"variant {request['variant']} is not loaded")
    # The image goes with the first question, as in the study's prompts; later turns are text.
    turns = [*request["turns"], {"question": request["question"]}]
    conversation = []
    for index, turn in enumerate(turns):
        content = [{"type": "image"}] if index == 0 else []
        conversation.append({"role": "user", "content": [*content, {"type": "text", "text": turn["question"].strip()}]})
        if "answer" in turn:
            conversation.append({"role": "assistant", "content": [{"type": "text", "text": turn["answer"]}]})
    processor = held["processor"]
    prompt = processor.apply_chat_template(conversation, add_generation_prompt=True)
    inputs = processor(text=[prompt], images=[[load_image(request["image"])]], padding=True, add_special_tokens=False, return_tensors="pt")
    inputs = {k: v.to(held["device"]) for k, v in inputs.items()}
    start = inputs["input_ids"].shape[1]
    processors = answer_no_repeat(held["no_repeat"], start) if held["no_repeat"] > 0 else None
    with torch.inference_mode():
        generated = held["model"].generate(**inputs, **held["options"], logits_processor=processors)
    answer = processor.tokenizer.decode(generated[0, start:], skip_special_tokens=True).strip()
    return {"event": "answer", "id": request["id"], "variant": request["variant"], "answer": answer, "seconds": time.perf_counter() - started}


def main() -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            emit({**(load(request) if request["op"] == "load" else ask(request)), "id": request.get("id")})
        except WorkerError as error:
            emit({"event": "error", "id": request.get("id"), "variant": request.get("variant"), "message": error.message})
        except Exception as error:  # noqa: BLE001 - one bad question must not end the server
            emit({"event": "error", "id": request.get("id"), "variant": request.get("variant"), "message": f"{type(error).__name__}: {error}"})


if __name__ == "__main__":
    main()
