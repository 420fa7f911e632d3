"""LoRA fine-tuning with PEFT: base weights frozen, causal-LM loss on the assistant turn.

A hand-written loop rather than HF Trainer, for two reasons: every optimizer step reports its
metrics on the protocol the moment it ends (no callback plumbing or logging_steps rounding), and
everything that decides the result (example order, dropout, loss normalisation) is seeded and
visible here, so the same job on the same CPU gives the same losses and the same adapter bytes,
which the runner's crash-and-resume relies on. With a `checkpoint_dir` and
`train.checkpoint_every`, every that many optimizer steps the whole training state (adapter
weights, optimizer, scheduler, grad scaler, every RNG, the epoch's example order and position,
the metrics so far) goes to a checkpoint (`checkpoint.py`); a job that finds one of its own
there resumes from it and ends with the same adapter bytes and losses as an uninterrupted run.

Outputs (all inside output_dir, named by the job's `outputs`, from the contract): `adapter`
(the folder PEFT writes `adapterWeights` and `adapterConfig` into), `job` (the resolved job),
`trainerLog` (one line per optimizer step) and `summary`.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from pathlib import Path
from typing import Any

from .examples import (
    ChatExample,
    EncodedExample,
    chat_examples,
    collate,
    encode,
    image_layout_ids,
    image_path,
    read_records,
)
from .checkpoint import TrainCheckpoints, file_digest, job_digest, restore_rng_states, rng_states
from .images import load_image
from .models import choose_placement, load_model, load_processor, supported_model, torch_dtype
from .protocol import EventStream, WorkerError


def run_train(job: dict[str, Any], events: EventStream) -> dict[str, Any]:
    settings = job["train"]
    outputs = job["outputs"]
    out = Path(job["output_dir"])
    out.mkdir(parents=True, exist_ok=True)
    (out / outputs["job"]).write_text(json.dumps(job, indent=2, sort_keys=True) + "\n")

    # Cheap checks first: a missing model or a bad image fails before torch is even imported.
    model_path = supported_model(job["model"]["base"], job["models_dir"], job["model"]["revision"], job["allow_download"])
    check_images(job)
    import torch

    seed_everything(job["seed"])
    placement = choose_placement(settings["device"], settings["precision"])
    if placement.device == "cuda":
        refuse_if_gpu_too_small(job, model_path, placement)
    processor = load_processor(model_path, settings["image_size"])

    encoded = [item for _, item in training_examples(job, processor, events)]

    model = load_model(model_path, torch.float32)
    model = add_lora(model, settings["lora"], model_path)
    if settings["gradient_checkpointing"]:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.to(placement.device)
    model.train()

    batches_per_epoch = math.ceil(len(encoded) / settings["batch_size"])
    steps_per_epoch = math.ceil(batches_per_epoch / settings["grad_accum"])
    total_steps = math.ceil(steps_per_epoch * settings["epochs"])
    if settings["max_steps"] is not None:
        total_steps = min(total_steps, settings["max_steps"])
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=settings["learning_rate"], weight_decay=settings["weight_decay"])
    scheduler = make_scheduler(optimizer, settings, total_steps)
    scaler = torch.amp.GradScaler("cuda", enabled=placement.precision == "fp16")
    autocast_on = placement.device == "cuda" and placement.precision != "fp32"
    pad_id = processor.tokenizer.pad_token_id
    if pad_id is None:
        pad_id = processor.tokenizer.eos_token_id

    events.emit(
        "started",
        job_type="train",
        device=placement.device,
        precision=placement.precision,
        model=job["model"]["base"],
        model_path=model_path,
        examples=len(encoded),
        total_steps=total_steps,
        trainable_parameters=sum(p.numel() for p in trainable),
        parameters=sum(p.numel() for p in model.parameters()),
    )

    checkpoints = None
    if job["checkpoint_dir"] is not None and settings["checkpoint_every"] is not None:
        checkpoints = TrainCheckpoints(job["checkpoint_dir"], train_digest(job))
    include_cuda = placement.device == "cuda"
    order_rng = torch.Generator().manual_seed(job["seed"])
    step = 0
    metrics: list[dict[str, Any]] = []
    tokens_seen = 0
    first_epoch, first_group = 0, 0
    resumed_order: list[int] | None = None
    resumed_from = None
    resumed_tokens = 0
    resumed = checkpoints.latest(events.warning) if checkpoints is not None else None
    if resumed is not None:
        meta, state = resumed
        restore_trainable(model, state["trainable"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        order_rng.set_state(state["order_rng"])
        # Last of all, so that nothing drawn while setting up shifts the streams.
        restore_rng_states(state["rng"])
        step, metrics, tokens_seen = meta["step"], meta["metrics"], meta["tokens_seen"]
        resumed_tokens = tokens_seen
        first_epoch, first_group, resumed_order = meta["epoch"], meta["next_group"], meta["order"]
        resumed_from = step
        events.emit("resumed", job_type="train", step=step, total_steps=total_steps)

    log = (out / outputs["trainerLog"]).open("w", encoding="utf-8")
    # The resumed steps' lines as the first attempt wrote them, so the log reads as one run.
    for metric in metrics:
        log.write(json.dumps(metric) + "\n")
    started = time.perf_counter()
    cpu_started = time.process_time()
    # Time spent telling the runner (events, trainer log): the worker's own overhead, measured.
    protocol_seconds = 0.0
    checkpoint_seconds = 0.0
    checkpoints_written = 0
    try:
        for epoch in range(first_epoch, math.ceil(settings["epochs"])):
            if epoch == first_epoch and resumed_order is not None:
                order = resumed_order  # drawn before the checkpoint; order_rng is past it already
            else:
                order = torch.randperm(len(encoded), generator=order_rng).tolist()
            batches = [order[i : i + settings["batch_size"]] for i in range(0, len(order), settings["batch_size"])]
            for group_start in range(first_group if epoch == first_epoch else 0, len(batches), settings["grad_accum"]):
                if step >= total_steps:
                    break
                group = batches[group_start : group_start + settings["grad_accum"]]
                step_started = time.perf_counter()
                # Normalise by the group's target tokens, so grad_accum x batch_size equals one big batch.
                group_tokens = sum(encoded[i].label_tokens for batch in group for i in batch)
                loss_sum = 0.0
                step_tokens = 0
                for batch_ids in group:
                    batch = {k: v.to(placement.device) for k, v in collate([encoded[i] for i in batch_ids], pad_id).items()}
                    labels = batch.pop("labels")
                    step_tokens += int(batch["attention_mask"].sum())
                    with torch.autocast(placement.device, dtype=torch_dtype(placement.precision), enabled=autocast_on):
                        logits = model(**batch).logits
                    loss = token_loss_sum(logits, labels) / max(group_tokens, 1)
                    scaler.scale(loss).backward()
                    loss_sum += float(loss.detach())
                scaler.unscale_(optimizer)
                grad_norm = float(torch.nn.utils.clip_grad_norm_(trainable, settings["max_grad_norm"]))
                learning_rate = scheduler.get_last_lr()[0]
                scaler.step(optimizer)
                scaler.update()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                elapsed = time.perf_counter() - step_started
                tokens_seen += step_tokens
                metric = {
                    "step": step,
                    "total_steps": total_steps,
                    "epoch": round(epoch + (group_start + len(group)) / len(batches), 4),
                    "loss": loss_sum,
                    "learning_rate": learning_rate,
                    "grad_norm": grad_norm,
                    "tokens": step_tokens,
                    "tokens_per_second": step_tokens / elapsed if elapsed > 0 else 0.0,
                }
                metrics.append(metric)
                reporting_started = time.perf_counter()
                events.emit("metric", **metric)
                log.write(json.dumps(metric) + "\n")
                log.flush()
                protocol_seconds += time.perf_counter() - reporting_started
                if not math.isfinite(loss_sum):
                    events.warning(f"loss is not finite at step {step}", "loss-not-finite")
                # Not after the last step: the adapter is saved right after it, and a checkpoint
                # there would cost a short training (the demo's) more than it could save.
                if checkpoints is not None and step % settings["checkpoint_every"] == 0 and step < total_steps:
                    meta = {
                        "epoch": epoch,
                        "next_group": group_start + settings["grad_accum"],
                        "order": order,
                        "metrics": metrics,
                        "tokens_seen": tokens_seen,
                    }
                    state = {
                        "trainable": trainable_state(model),
                        "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(),
                        "scaler": scaler.state_dict(),
                        "order_rng": order_rng.get_state(),
                        "rng": rng_states(include_cuda),
                    }
                    checkpoint_seconds += checkpoints.save(step, total_steps, meta, state)
                    checkpoints_written += 1
    finally:
        log.close()

    train_seconds = time.perf_counter() - started
    # CPU seconds of all threads: a throughput figure that other processes on the machine disturb less.
    train_cpu_seconds = time.process_time() - cpu_started
    model.save_pretrained(out / outputs["adapter"], safe_serialization=True)
    # PEFT names the adapter's files itself: the job's names for them must be what it wrote.
    for role in ("adapterWeights", "adapterConfig"):
        if not (out / outputs[role]).is_file():
            raise WorkerError("internal", f"PEFT did not write outputs.{role} ({outputs[role]}) into {out / outputs['adapter']}")
    name_base_portably(out / outputs["adapterConfig"], job["model"]["base"], job["model"]["revision"])
    losses = [metric["loss"] for metric in metrics]
    summary = {
        "steps": step,
        "examples": len(encoded),
        "supervision": job["supervision"],
        "first_loss": losses[0] if losses else None,
        "final_loss": losses[-1] if losses else None,
        "train_seconds": train_seconds,
        "tokens": tokens_seen,
        # This attempt's tokens over this attempt's seconds (a resumed run's earlier steps aside).
        "tokens_per_second": (tokens_seen - resumed_tokens) / train_seconds if train_seconds > 0 else 0.0,
        "train_cpu_seconds": train_cpu_seconds,
        "protocol_seconds": protocol_seconds,
        # This attempt's figures: a resumed run's seconds count from its resume.
        "resumed_from_step": resumed_from,
        "checkpoints_written": checkpoints_written,
        "checkpoint_seconds": checkpoint_seconds,
        "device": placement.device,
        "precision": placement.precision,
    }
    (out / outputs["summary"]).write_text(json.dumps(summary, indent=2) + "\n")
    return {"outputs": outputs, "summary": summary}


def refuse_if_gpu_too_small(job: dict[str, Any], model_path: str, placement) -> None:
    """Before the model is loaded: a job whose estimate exceeds the GPU fails now, saying why,
    instead of an out-of-memory error after minutes of loading and preparing."""
    import torch

    from .memory import GIB, architecture, describe, estimate_training_memory

    arch = architecture(job["model"]["base"], model_path)
    if arch is None:
        return
    estimate = estimate_training_memory(arch, job["train"], "cuda", placement.precision)
    total = torch.cuda.get_device_properties(0).total_memory
    if estimate["bytes"] > total:
        raise WorkerError(
            "out-of-memory",
            f"this job needs {describe(estimate)}; {torch.cuda.get_device_name(0)} has {total / GIB:.1f} GiB. "
            "Lower train.batch_size, set train.image_size (fewer tiles), turn on train.gradient_checkpointing, "
            "or set train.lora.scope: text_model",
        )


def run_examples(job: dict[str, Any], events: EventStream) -> dict[str, Any]:
    """The training examples exactly as training would see them, written to `outputs.examples`."""
    out = Path(job["output_dir"])
    out.mkdir(parents=True, exist_ok=True)
    model_path = supported_model(job["model"]["base"], job["models_dir"], job["model"]["revision"], job["allow_download"])
    processor = load_processor(model_path, job["train"]["image_size"])
    pairs = training_examples(job, processor, events)
    tokenizer = processor.tokenizer
    with (out / job["outputs"]["examples"]).open("w", encoding="utf-8") as handle:
        for example, item in pairs:
            row = {
                "source": example.source,
                "record_index": example.record_index,
                "image": example.image,
                "prompt": example.prompt,
                "target": example.target,
                "input_ids": item.input_ids,
                "labels": item.labels,
                "tokens": tokenizer.convert_ids_to_tokens(item.input_ids),
                "image_tiles": int(item.pixel_values.shape[0]),
                "truncated": item.truncated,
            }
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return {"outputs": job["outputs"], "summary": {"examples": len(pairs)}}


def check_images(job: dict[str, Any]) -> None:
    records = read_records(job["data"]["train"])
    image_root = job["data"]["image_root"] or str(Path(job["data"]["train"]).parent)
    seen = set()
    for index, record in enumerate(records):
        path = image_path(record, image_root, f"train data record {index + 1}")
        if path not in seen:
            seen.add(path)
            load_image(path)


def training_examples(job: dict[str, Any], processor, events: EventStream) -> list[tuple[ChatExample, EncodedExample]]:
    settings = job["train"]
    records = read_records(job["data"]["train"])
    image_root = job["data"]["image_root"] or str(Path(job["data"]["train"]).parent)
    examples = chat_examples(records, job["supervision"], job["caption_instruction"], image_root, "train data")
    layout_ids = image_layout_ids(processor)
    pairs: list[tuple[ChatExample, EncodedExample]] = []
    dropped = truncated = 0
    for number, example in enumerate(examples, start=1):
        item = encode(processor, example, settings["loss_on"], settings["max_seq_length"], layout_ids)
        if item is None:
            dropped += 1
        else:
            truncated += item.truncated
            pairs.append((example, item))
        events.emit("progress", phase="prepare", done=number, total=len(examples), unit="example")
    if dropped:
        events.warning(f"{dropped} examples dropped: image and prompt alone exceed max_seq_length", "examples-dropped")
    if truncated:
        events.warning(f"{truncated} examples truncated to max_seq_length {settings['max_seq_length']}", "examples-truncated")
    if not pairs:
        raise WorkerError("bad-job", "no training example fits max_seq_length")
    return pairs


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    # Read when cuBLAS makes its first handle, so before any CUDA work; older CUDA versions need
    # it for deterministic matrix products, newer ones ignore it.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    # Deterministic kernels where torch has them; warn (not fail) where an op has none on this device.
    torch.use_deterministic_algorithms(True, warn_only=True)
    # The same cuDNN algorithm every run: benchmarking picks by timing, which varies.
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True


def name_base_portably(config_path: Path, base: str, revision: str | None) -> None:
    """The stored adapter names its base model as the job did (a hub id and its revision, a
    stand-in's name, or the folder the user gave), not the folder it was resolved to here, so
    that the adapter loads on another machine (PEFT's `base_model_name_or_path` and `revision`)."""
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["base_model_name_or_path"] = base
    config["revision"] = revision
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def add_lora(model, lora: dict[str, Any], base_path: str):
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=lora["rank"],
        lora_alpha=lora["alpha"],
        lora_dropout=lora["dropout"],
        target_modules=lora_targets(lora["target_modules"], lora["scope"]),
        bias="none",
    )
    try:
        peft_model = get_peft_model(model, config)
    except ValueError as error:  # target modules that match nothing
        raise WorkerError("bad-job", f"train.lora.target_modules: {error}") from error
    # The resolved folder, not the job's name: PEFT looks the base up by this name when saving,
    # and a bare name would send it to the hub. The saved config names the job's model instead
    # (name_base_portably).
    peft_model.peft_config["default"].base_model_name_or_path = base_path
    return peft_model


def lora_targets(names: list[str], scope: str):
    """PEFT's target_modules for a scope. A list matches a name anywhere in the model: in Idefics3
    q_proj and v_proj exist in the SigLIP vision tower as well as in the Llama text model, so the
    paper's [q_proj, v_proj] adapts both. text_model narrows it with a regex on the module path."""
    import re

    if scope == "all":
        return list(names)
    alternatives = "|".join(re.escape(name) for name in names)
    return rf"(.*\.)?text_model\..*\.({alternatives})"


def make_scheduler(optimizer, settings: dict[str, Any], total_steps: int):
    from transformers import get_scheduler

    warmup = math.ceil(settings["warmup_ratio"] * total_steps)
    return get_scheduler(settings["lr_scheduler"], optimizer, num_warmup_steps=warmup, num_training_steps=total_steps)


def train_digest(job: dict[str, Any]) -> str:
    """What decides a training's result (not where it writes, nor how often it checkpoints)."""
    settings = {k: v for k, v in job["train"].items() if k != "checkpoint_every"}
    return job_digest(
        {
            "type": "train",
            "seed": job["seed"],
            "model": job["model"],
            "supervision": job["supervision"],
            "caption_instruction": job["caption_instruction"],
            "train": settings,
            "data": file_digest(job["data"]["train"]),
        }
    )


def trainable_state(model) -> dict[str, Any]:
    """The adapter's weights as they stand (the only parameters training changes)."""
    return {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}


def restore_trainable(model, weights: dict[str, Any]) -> None:
    import torch

    params = dict(model.named_parameters())
    missing = [name for name in params if params[name].requires_grad and name not in weights]
    if missing or set(weights) - set(params):
        raise WorkerError("internal", f"checkpoint does not match the model ({len(missing)} adapter weights missing)")
    with torch.no_grad():
        for name, value in weights.items():
            params[name].copy_(value)


def token_loss_sum(logits, labels):
    """Summed next-token cross-entropy over the labelled positions (IGNORE is skipped)."""
    import torch

    shifted_logits = logits[:, :-1, :].float().reshape(-1, logits.shape[-1])
    shifted_labels = labels[:, 1:].reshape(-1)
    return torch.nn.functional.cross_entropy(shifted_logits, shifted_labels, ignore_index=-100, reduction="sum")
