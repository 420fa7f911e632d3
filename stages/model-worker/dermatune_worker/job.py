"""Validation and defaults of the worker's JSON job. An invalid job is a `bad-job` error event.

Field names follow the experiment spec (`train.lora.rank`, `generate.max_new_tokens`, ...), so the
stage code passes spec sections through nearly as they are. The resolved job (defaults applied)
is written next to the outputs.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from .protocol import WorkerError

# "examples" resolves like "train" but stops after building the training examples and writes them
# out (ids, tokens, label masks): for inspecting what the model will be trained on.
JOB_TYPES = ("train", "examples", "generate", "doctor")
SUPERVISION = ("qa", "caption", "qa_caption")
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
LOSS_ON = ("assistant", "all")
SCHEDULERS = ("linear", "cosine", "constant", "constant_with_warmup")

TRAIN_DEFAULTS: dict[str, Any] = {
    # The paper's settings: LoRA r8 / alpha 32 / dropout 0.1 on q_proj, v_proj; 2 epochs; batch 1 x 4.
    "lora": {"rank": 8, "alpha": 32, "dropout": 0.1, "target_modules": ["q_proj", "v_proj"]},
    "epochs": 2,
    "batch_size": 1,
    "grad_accum": 4,
    "learning_rate": 1e-4,
    "lr_scheduler": "linear",
    "warmup_ratio": 0.0,
    "weight_decay": 0.0,
    "max_grad_norm": 1.0,
    "max_seq_length": 2048,
    "image_size": None,
    "gradient_checkpointing": False,
    # Why assistant: the question (and the fixed caption instruction) is given at inference time;
    # spending loss on it teaches the model to reproduce a question bank, not to answer.
    "loss_on": "assistant",
    "device": "auto",
    "precision": "auto",
    "max_steps": None,
    # Optimizer steps between checkpoints into the job's checkpoint_dir; None: no checkpoints.
    # The runner passes the spec's value (its default lives in the train stage's schema).
    "checkpoint_every": None,
}

GENERATE_DEFAULTS: dict[str, Any] = {
    "max_new_tokens": 256,
    "batch_size": 4,
    "repetition_penalty": 1.0,
    "do_sample": False,
    "temperature": 1.0,
    "top_p": 1.0,
    "image_size": None,
    "device": "auto",
    "precision": "auto",
}

CAPTION_INSTRUCTION = "Describe this clinical image."


def resolve_job(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise WorkerError("bad-job", "the job must be a JSON object")
    job_type = raw.get("type")
    if job_type not in JOB_TYPES:
        raise WorkerError("bad-job", f"type must be one of {', '.join(JOB_TYPES)}, got {job_type!r}")
    job: dict[str, Any] = {"type": job_type}
    job["models_dir"] = _optional_str(raw, "models_dir")
    job["allow_download"] = _bool(raw, "allow_download", False)
    if job_type == "doctor":
        return job

    job["output_dir"] = _required_str(raw, "output_dir")
    job["seed"] = _int(raw, "seed", 42, minimum=0)
    model = raw.get("model")
    if not isinstance(model, dict):
        raise WorkerError("bad-job", "model must be an object with at least `base`")
    job["model"] = {
        "base": _required_str(model, "base", "model.base"),
        "revision": _optional_str(model, "revision", "model.revision"),
        "adapter": _optional_str(model, "adapter", "model.adapter"),
    }
    data = raw.get("data")
    if not isinstance(data, dict):
        raise WorkerError("bad-job", "data must be an object naming the JSONL file of records")
    split = "test" if job_type == "generate" else "train"
    job["data"] = {
        split: _existing_file(_required_str(data, split, f"data.{split}"), f"data.{split}"),
        "image_root": _optional_str(data, "image_root", "data.image_root"),
    }
    job["caption_instruction"] = _optional_str(raw, "caption_instruction") or CAPTION_INSTRUCTION
    # A folder that outlives a killed attempt (unlike output_dir): checkpoints, finished batches.
    job["checkpoint_dir"] = _optional_str(raw, "checkpoint_dir")

    if job_type in ("train", "examples"):
        if job["model"]["adapter"] is not None:
            raise WorkerError("bad-job", "model.adapter is for generation; training starts a new adapter")
        supervision = raw.get("supervision", "qa")
        if supervision not in SUPERVISION:
            raise WorkerError("bad-job", f"supervision must be one of {', '.join(SUPERVISION)}, got {supervision!r}")
        job["supervision"] = supervision
        job["train"] = _train_settings(raw.get("train", {}))
    else:
        job["generate"] = _generate_settings(raw.get("generate", {}))
    return job


def _train_settings(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise WorkerError("bad-job", "train must be an object")
    unknown = set(raw) - set(TRAIN_DEFAULTS)
    if unknown:
        raise WorkerError("bad-job", f"unknown train settings: {', '.join(sorted(unknown))}")
    out = copy.deepcopy(TRAIN_DEFAULTS)
    lora = raw.get("lora", {})
    if not isinstance(lora, dict) or set(lora) - set(out["lora"]):
        raise WorkerError("bad-job", "train.lora takes rank, alpha, dropout, target_modules")
    out["lora"].update(lora)
    _check(isinstance(out["lora"]["rank"], int) and out["lora"]["rank"] > 0, "train.lora.rank must be a positive integer")
    _check(_number(out["lora"]["alpha"]) and out["lora"]["alpha"] > 0, "train.lora.alpha must be positive")
    _check(_number(out["lora"]["dropout"]) and 0 <= out["lora"]["dropout"] < 1, "train.lora.dropout must be in [0, 1)")
    modules = out["lora"]["target_modules"]
    _check(
        isinstance(modules, list) and modules and all(isinstance(m, str) and m for m in modules),
        "train.lora.target_modules must be a non-empty list of module names",
    )
    if "epochs" in raw:
        out["epochs"] = raw["epochs"]
    # Fractional epochs are allowed (as in HF Trainer): the last epoch stops part-way.
    _check(_number(out["epochs"]) and out["epochs"] > 0, "train.epochs must be a positive number")
    for key in ("batch_size", "grad_accum", "max_seq_length"):
        if key in raw:
            out[key] = raw[key]
        _check(isinstance(out[key], int) and not isinstance(out[key], bool) and out[key] > 0, f"train.{key} must be a positive integer")
    for key in ("learning_rate", "warmup_ratio", "weight_decay", "max_grad_norm"):
        if key in raw:
            out[key] = raw[key]
        _check(_number(out[key]) and out[key] >= 0, f"train.{key} must be a non-negative number")
    _check(out["learning_rate"] > 0, "train.learning_rate must be positive")
    _check(out["warmup_ratio"] <= 1, "train.warmup_ratio must be at most 1")
    out["lr_scheduler"] = _choice(raw, "lr_scheduler", SCHEDULERS, out["lr_scheduler"])
    out["loss_on"] = _choice(raw, "loss_on", LOSS_ON, out["loss_on"])
    out["device"] = _choice(raw, "device", DEVICES, out["device"])
    out["precision"] = _choice(raw, "precision", PRECISIONS, out["precision"])
    out["gradient_checkpointing"] = _bool(raw, "gradient_checkpointing", False, "train.gradient_checkpointing")
    out["image_size"] = _optional_positive_int(raw, "image_size", "train.image_size")
    out["max_steps"] = _optional_positive_int(raw, "max_steps", "train.max_steps")
    out["checkpoint_every"] = _optional_positive_int(raw, "checkpoint_every", "train.checkpoint_every")
    return out


def _generate_settings(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise WorkerError("bad-job", "generate must be an object")
    unknown = set(raw) - set(GENERATE_DEFAULTS)
    if unknown:
        raise WorkerError("bad-job", f"unknown generate settings: {', '.join(sorted(unknown))}")
    out = copy.deepcopy(GENERATE_DEFAULTS)
    for key in ("max_new_tokens", "batch_size"):
        if key in raw:
            out[key] = raw[key]
        _check(isinstance(out[key], int) and not isinstance(out[key], bool) and out[key] > 0, f"generate.{key} must be a positive integer")
    for key in ("repetition_penalty", "temperature", "top_p"):
        if key in raw:
            out[key] = raw[key]
        _check(_number(out[key]) and out[key] > 0, f"generate.{key} must be a positive number")
    _check(out["top_p"] <= 1, "generate.top_p must be at most 1")
    out["do_sample"] = _bool(raw, "do_sample", False, "generate.do_sample")
    out["device"] = _choice(raw, "device", DEVICES, out["device"])
    out["precision"] = _choice(raw, "precision", PRECISIONS, out["precision"])
    out["image_size"] = _optional_positive_int(raw, "image_size", "generate.image_size")
    return out


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise WorkerError("bad-job", message)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _required_str(raw: dict, key: str, path: str | None = None) -> str:
    value = raw.get(key)
    _check(isinstance(value, str) and value != "", f"{path or key} must be a non-empty string")
    return value


def _optional_str(raw: dict, key: str, path: str | None = None) -> str | None:
    value = raw.get(key)
    _check(value is None or (isinstance(value, str) and value != ""), f"{path or key} must be a non-empty string or null")
    return value


def _int(raw: dict, key: str, default: int, minimum: int) -> int:
    value = raw.get(key, default)
    _check(isinstance(value, int) and not isinstance(value, bool) and value >= minimum, f"{key} must be an integer >= {minimum}")
    return value


def _bool(raw: dict, key: str, default: bool, path: str | None = None) -> bool:
    value = raw.get(key, default)
    _check(isinstance(value, bool), f"{path or key} must be true or false")
    return value


def _choice(raw: dict, key: str, choices: tuple[str, ...], default: str) -> str:
    value = raw.get(key, default)
    _check(value in choices, f"{key} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _optional_positive_int(raw: dict, key: str, path: str) -> int | None:
    value = raw.get(key)
    _check(
        value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0),
        f"{path} must be a positive integer or null",
    )
    return value


def _existing_file(path: str, name: str) -> str:
    _check(Path(path).is_file(), f"{name}: no such file {path}")
    return str(Path(path).resolve())
