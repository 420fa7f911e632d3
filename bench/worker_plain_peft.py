"""The benchmark's reference: the model worker's LoRA training written as a plain PEFT script.

Same model, same examples (the processor's chat template, labels on the assistant turn only),
same seed and example order, same optimizer, schedule and loss normalisation, but no protocol,
no job validation, no per-step events or trainer log. bench/worker.ts runs it beside the worker
and compares training throughput.

usage: python worker_plain_peft.py MODEL_DIR TRAIN_JSONL IMAGE_ROOT SETTINGS_JSON
prints one JSON object: tokens, seconds and cpu_seconds (training loop only), tokens_per_second, losses.
"""

import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from peft import LoraConfig, get_peft_model
from PIL import Image
from transformers import AutoModelForImageTextToText, AutoProcessor, get_scheduler


def main(model_dir, train_jsonl, image_root, settings):
    seed = settings["seed"]
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)

    processor = AutoProcessor.from_pretrained(model_dir)
    processor.image_processor.size = {"longest_edge": settings["image_size"]}
    tok = processor.tokenizer
    layout = {tok.convert_tokens_to_ids(t) for t in ["<image>", "<fake_token_around_image>", "<global-img>"]}
    layout |= {tok.convert_tokens_to_ids(f"<row_{r}_col_{c}>") for r in range(1, 7) for c in range(1, 7)}

    examples = []
    for line in Path(train_jsonl).read_text().splitlines():
        row = json.loads(line)
        image = Image.open(Path(image_root) / row["image"]).convert("RGB")
        user = {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": row["question"].strip()}]}
        bot = {"role": "assistant", "content": [{"type": "text", "text": row["answer"].strip()}]}
        full = processor(text=[processor.apply_chat_template([user, bot])], images=[[image]], add_special_tokens=False, return_tensors="pt")
        prompt = processor(text=[processor.apply_chat_template([user], add_generation_prompt=True)], images=[[image]], add_special_tokens=False)
        ids = full["input_ids"][0].tolist()
        n = 0
        for a, b in zip(ids, prompt["input_ids"][0]):
            if a != b:
                break
            n += 1
        labels = [-100 if i < n or t in layout else t for i, t in enumerate(ids)]
        examples.append((ids, labels, full["pixel_values"][0], full["pixel_attention_mask"][0]))

    model = AutoModelForImageTextToText.from_pretrained(model_dir, dtype=torch.float32)
    lora = settings["lora"]
    model = get_peft_model(
        model,
        LoraConfig(r=lora["rank"], lora_alpha=lora["alpha"], lora_dropout=lora["dropout"], target_modules=lora["target_modules"], bias="none"),
    )
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    bs, accum = settings["batch_size"], settings["grad_accum"]
    steps = math.ceil(math.ceil(len(examples) / bs) / accum) * settings["epochs"]
    optimizer = torch.optim.AdamW(params, lr=settings["learning_rate"], weight_decay=settings["weight_decay"])
    scheduler = get_scheduler("linear", optimizer, num_warmup_steps=0, num_training_steps=steps)

    order_rng = torch.Generator().manual_seed(seed)
    losses, tokens = [], 0
    started = time.perf_counter()
    cpu_started = time.process_time()
    for _ in range(settings["epochs"]):
        order = torch.randperm(len(examples), generator=order_rng).tolist()
        batches = [order[i : i + bs] for i in range(0, len(order), bs)]
        for g in range(0, len(batches), accum):
            group = batches[g : g + accum]
            group_tokens = sum(sum(1 for x in examples[i][1][1:] if x != -100) for b in group for i in b)
            step_loss = 0.0
            for b in group:
                items = [examples[i] for i in b]
                length = max(len(x[0]) for x in items)
                tiles = max(x[2].shape[0] for x in items)
                input_ids = torch.full((len(items), length), tok.pad_token_id)
                labels = torch.full((len(items), length), -100)
                mask = torch.zeros((len(items), length), dtype=torch.long)
                pixels = torch.zeros((len(items), tiles, *items[0][2].shape[1:]))
                pmask = torch.zeros((len(items), tiles, *items[0][3].shape[1:]), dtype=items[0][3].dtype)
                for r, (ids, lab, pv, pm) in enumerate(items):
                    input_ids[r, : len(ids)] = torch.tensor(ids)
                    labels[r, : len(ids)] = torch.tensor(lab)
                    mask[r, : len(ids)] = 1
                    pixels[r, : pv.shape[0]] = pv
                    pmask[r, : pm.shape[0]] = pm
                tokens += int(mask.sum())
                logits = model(input_ids=input_ids, attention_mask=mask, pixel_values=pixels, pixel_attention_mask=pmask).logits
                loss = torch.nn.functional.cross_entropy(
                    logits[:, :-1].float().reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1), ignore_index=-100, reduction="sum"
                ) / max(group_tokens, 1)
                loss.backward()
                step_loss += float(loss.detach())
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(step_loss)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    print(json.dumps({"tokens": tokens, "seconds": seconds, "cpu_seconds": cpu_seconds, "tokens_per_second": tokens / seconds, "losses": losses}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]))
