"""Validation of the worker's JSON job. An invalid job is a `bad-job` error event.

Field names follow the experiment spec (`train.lora.rank`, `generate.max_new_tokens`, ...), so the
stage code passes spec sections through nearly as they are. The resolved job is written next to the
outputs. Training and generation settings have no defaults here: the spec schema owns them.
"""

from __future__ import annotations

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

LORA_SCOPES = ("all", "text_model")

# Every training and generation setting comes in the job: the spec schema (stages/train/kind.ts,
# stages/generate/kind.ts) is the one place their defaults live, and the runner sends them all.
# A job that lacks one is refused rather than completed here with a second, silently different,
# default. Only `max_steps` (a cap for benchmarks and smoke runs, absent from the spec) and
# `checkpoint_every` (absent: no checkpoints, for jobs run without a resume folder) are optional.
TRAIN_KEYS = (
    "lora",
    "epochs",
    "batch_size",
    "grad_accum",
    "learning_rate",
    "lr_scheduler",
    "warmup_ratio",
    "weight_decay",
    "max_grad_norm",
    "max_seq_length",
    "image_size",
    "gradient_checkpointing",
    "loss_on",
    "device",
    "precision",
)
TRAIN_OPTIONAL = ("max_steps", "checkpoint_every")
LORA_KEYS = ("rank", "alpha", "dropout", "target_modules", "scope")
GENERATE_KEYS = (
    "max_new_tokens",
    "batch_size",
    "repetition_penalty",
    "no_repeat_ngram_size",
    "do_sample",
    "temperature",
    "top_p",
    "image_size",
    "device",
    "precision",
)

CAPTION_INSTRUCTION = "Describe this clinical image."

# What a job writes, by role: the runner sends the file names (the train and generate stages'
# contracts, TRAIN_OUTPUT and GENERATE_OUTPUT in stages/*/contract.ts, are the one place they are
# spelled), the worker writes exactly those and refuses a job that lacks one, as it refuses a
# missing setting. adapterWeights and adapterConfig are what PEFT writes into the adapter folder.
TRAIN_OUTPUTS = ("adapter", "adapterWeights", "adapterConfig", "job", "trainerLog", "summary")
GENERATE_OUTPUTS = ("predictions", "job")


def resolve_job(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise WorkerError("bad-job", "the job must be a JSON object")
    job_type = raw.get("type")
    if job_type not in JOB_TYPES:
        raise WorkerError("bad-job", f"type must be one of {', '.join(JOB_TYPES)}, got {job_type!r}")
    job: dict[str, Any] = {"type": job_type}
    job["models_dir"] = _optional_str(raw, "models_dir")
    job["allow_download"] = _bool(raw, "allow_download", default=False)
    if job_type == "doctor":
        # Optional: training jobs whose GPU memory to estimate ({name, model, train} each).
        estimates = raw.get("estimates", [])
        _check(isinstance(estimates, list), "estimates must be a list")
        job["estimates"] = [_estimate_request(item, index) for index, item in enumerate(estimates)]
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
        supervision = raw.get("supervision")
        if supervision not in SUPERVISION:
            raise WorkerError("bad-job", f"supervision must be one of {', '.join(SUPERVISION)}, got {supervision!r}")
        job["supervision"] = supervision
        job["train"] = _train_settings(raw.get("train"))
        if job_type == "train":
            job["outputs"] = _outputs(raw.get("outputs"), TRAIN_OUTPUTS)
    else:
        job["generate"] = _generate_settings(raw.get("generate"))
        job["outputs"] = _outputs(raw.get("outputs"), GENERATE_OUTPUTS)
    return job


def _outputs(raw: Any, roles: tuple[str, ...]) -> dict[str, str]:
    """The output names, each a relative path inside output_dir (no `..`, not absolute)."""
    if not isinstance(raw, dict):
        raise WorkerError("bad-job", f"outputs must be an object naming the files to write ({', '.join(roles)})")
    unknown = set(raw) - set(roles)
    if unknown:
        raise WorkerError("bad-job", f"unknown outputs: {', '.join(sorted(unknown))}")
    missing = [role for role in roles if role not in raw]
    if missing:
        raise WorkerError(
            "bad-job",
            f"outputs lacks {', '.join(missing)}: the runner names every file the job writes, from the stage's contract",
        )
    for role in roles:
        name = raw[role]
        _check(isinstance(name, str) and name != "", f"outputs.{role} must be a non-empty string")
        path = Path(name)
        _check(not path.is_absolute() and ".." not in path.parts, f"outputs.{role} must be a path inside output_dir, got {name!r}")
    return {role: raw[role] for role in roles}


def _train_settings(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise WorkerError("bad-job", "train must be an object")
    _exact_keys(raw, TRAIN_KEYS, TRAIN_OPTIONAL, "train")
    out: dict[str, Any] = {}
    lora = raw["lora"]
    _check(isinstance(lora, dict), "train.lora must be an object")
    _exact_keys(lora, LORA_KEYS, (), "train.lora")
    out["lora"] = dict(lora)
    _check(_integer(lora["rank"]) and lora["rank"] > 0, "train.lora.rank must be a positive integer")
    _check(_number(lora["alpha"]) and lora["alpha"] > 0, "train.lora.alpha must be positive")
    _check(_number(lora["dropout"]) and 0 <= lora["dropout"] < 1, "train.lora.dropout must be in [0, 1)")
    modules = lora["target_modules"]
    _check(
        isinstance(modules, list) and modules and all(isinstance(m, str) and m for m in modules),
        "train.lora.target_modules must be a non-empty list of module names",
    )
    _check(lora["scope"] in LORA_SCOPES, f"train.lora.scope must be one of {', '.join(LORA_SCOPES)}")
    # Fractional epochs are allowed (as in HF Trainer): the last epoch stops part-way.
    out["epochs"] = raw["epochs"]
    _check(_number(out["epochs"]) and out["epochs"] > 0, "train.epochs must be a positive number")
    for key in ("batch_size", "grad_accum", "max_seq_length"):
        out[key] = raw[key]
        _check(_integer(out[key]) and out[key] > 0, f"train.{key} must be a positive integer")
    for key in ("learning_rate", "warmup_ratio", "weight_decay", "max_grad_norm"):
        out[key] = raw[key]
        _check(_number(out[key]) and out[key] >= 0, f"train.{key} must be a non-negative number")
    _check(out["learning_rate"] > 0, "train.learning_rate must be positive")
    _check(out["warmup_ratio"] <= 1, "train.warmup_ratio must be at most 1")
    out["lr_scheduler"] = _choice(raw, "lr_scheduler", SCHEDULERS)
    out["loss_on"] = _choice(raw, "loss_on", LOSS_ON)
    out["device"] = _choice(raw, "device", DEVICES)
    out["precision"] = _choice(raw, "precision", PRECISIONS)
    out["gradient_checkpointing"] = _bool(raw, "gradient_checkpointing", "train.gradient_checkpointing")
    out["image_size"] = _optional_positive_int(raw, "image_size", "train.image_size")
    out["max_steps"] = _optional_positive_int(raw, "max_steps", "train.max_steps")
    out["checkpoint_every"] = _optional_positive_int(raw, "checkpoint_every", "train.checkpoint_every")
    return out


def _generate_settings(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise WorkerError("bad-job", "generate must be an object")
    _exact_keys(raw, GENERATE_KEYS, (), "generate")
    out: dict[str, Any] = {}
    for key in ("max_new_tokens", "batch_size"):
        out[key] = raw[key]
        _check(_integer(out[key]) and out[key] > 0, f"generate.{key} must be a positive integer")
    for key in ("repetition_penalty", "temperature", "top_p"):
        out[key] = raw[key]
        _check(_number(out[key]) and out[key] > 0, f"generate.{key} must be a positive number")
    _check(out["top_p"] <= 1, "generate.top_p must be at most 1")
    out["no_repeat_ngram_size"] = raw["no_repeat_ngram_size"]
    _check(
        _integer(out["no_repeat_ngram_size"]) and out["no_repeat_ngram_size"] >= 0,
        "generate.no_repeat_ngram_size must be a non-negative integer",
    )
    out["do_sample"] = _bool(raw, "do_sample", "generate.do_sample")
    out["device"] = _choice(raw, "device", DEVICES)
    out["precision"] = _choice(raw, "precision", PRECISIONS)
    out["image_size"] = _optional_positive_int(raw, "image_size", "generate.image_size")
    return out


def _estimate_request(raw: Any, index: int) -> dict[str, Any]:
    where = f"estimates[{index}]"
    _check(isinstance(raw, dict), f"{where} must be an object")
    model = raw.get("model")
    _check(isinstance(model, dict) and isinstance(model.get("base"), str), f"{where}.model.base must be a string")
    return {
        "name": _required_str(raw, "name", f"{where}.name"),
        "model": {"base": model["base"], "revision": model.get("revision") or None},
        "train": _train_settings(raw.get("train")),
    }


def _exact_keys(raw: dict, required: tuple[str, ...], optional: tuple[str, ...], where: str) -> None:
    unknown = set(raw) - set(required) - set(optional)
    if unknown:
        raise WorkerError("bad-job", f"unknown {where} settings: {', '.join(sorted(unknown))}")
    missing = [key for key in required if key not in raw]
    if missing:
        raise WorkerError(
            "bad-job",
            f"{where} lacks {', '.join(missing)}: the runner sends every setting, with the spec schema's defaults",
        )


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


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bool(raw: dict, key: str, path: str | None = None, default: bool | None = None) -> bool:
    value = raw.get(key, default)
    _check(isinstance(value, bool), f"{path or key} must be true or false")
    return value


def _choice(raw: dict, key: str, choices: tuple[str, ...]) -> str:
    value = raw.get(key)
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
