"""Finding a base model (local folder, the project's models folder, or the Hugging Face cache),
choosing device and precision, and loading the processor and model."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .protocol import WorkerError

# The model families (config.json `model_type`) the worker trains and generates with, with a
# name and an example id for messages. Data, not code: the runner's preflight reads the same
# file, and a family added here changes no job's output, so no key.
FAMILIES_FILE = Path(__file__).with_name("families.json")

# Only what loading a VLM needs; hub repos of SmolVLM also carry ONNX exports we never use.
HUB_FILES = ["*.json", "*.safetensors", "*.jinja", "*.txt", "*.model", "tokenizer*"]


def resolve_model(base: str, models_dir: str | None, revision: str | None, allow_download: bool) -> str:
    """The local folder holding `base`: a path, a name under models_dir, or a hub id in the cache."""
    as_path = Path(base).expanduser()
    if as_path.is_dir():
        return str(as_path.resolve())
    if models_dir and (Path(models_dir) / base).is_dir():
        return str((Path(models_dir) / base).resolve())
    # A hub id is `name` or `owner/name`; anything else that is not a folder is a missing path.
    if base.startswith(("/", ".", "~")) or base.count("/") > 1:
        raise WorkerError("model-not-found", f"model folder {base} does not exist")
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(base, revision=revision, allow_patterns=HUB_FILES, local_files_only=True)
    except Exception as cached_error:  # noqa: BLE001 - any cache miss means: not here
        if not allow_download:
            raise WorkerError(
                "model-not-found",
                f"model {base} is neither a local folder, nor under {models_dir or 'the models folder'}, "
                f"nor in the Hugging Face cache, and downloads are off ({type(cached_error).__name__})",
            ) from cached_error
    try:
        return snapshot_download(base, revision=revision, allow_patterns=HUB_FILES)
    except Exception as error:  # noqa: BLE001 - unreachable hub, gated repo, unknown id
        raise WorkerError("model-not-found", f"could not download model {base}: {error}") from error


def supported_model(base: str, models_dir: str | None, revision: str | None, allow_download: bool) -> str:
    """The model's folder, once its config says it is of a family the worker supports."""
    path = resolve_model(base, models_dir, revision, allow_download)
    model_family(base, path)
    return path


def model_family(base: str, model_path: str) -> str:
    """The `model_type` of the model's config.json; a family the worker does not know is refused."""
    config = Path(model_path) / "config.json"
    try:
        model_type = json.loads(config.read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError, AttributeError) as error:
        raise WorkerError("model-not-found", f"model {base}: no readable config.json in {model_path} ({error})") from error
    families = json.loads(FAMILIES_FILE.read_text(encoding="utf-8"))
    if model_type not in families:
        known = "; ".join(f"{name}: {family['name']}, e.g. {family['example']}" for name, family in families.items())
        raise WorkerError(
            "bad-job",
            f"model.base {base} is a {model_type!r} model, not of a family the worker supports ({known})",
        )
    return model_type


@dataclass(frozen=True)
class Placement:
    device: str
    # The dtype computation runs in; trainable weights stay fp32 (autocast), frozen ones too on CPU.
    precision: str


def choose_placement(device: str, precision: str) -> Placement:
    import torch

    cuda = torch.cuda.is_available()
    if device == "auto":
        device = "cuda" if cuda else "cpu"
    if device == "cuda" and not cuda:
        raise WorkerError("bad-job", "device cuda was asked for, but torch sees no CUDA device")
    if precision == "auto":
        if device == "cuda":
            precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        else:
            precision = "fp32"
    if device == "cpu" and precision == "fp16":
        raise WorkerError("bad-job", "fp16 is not supported on the CPU; use fp32 or bf16")
    return Placement(device=device, precision=precision)


def torch_dtype(precision: str):
    import torch

    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def load_processor(model_path: str, image_size: int | None):
    from transformers import AutoProcessor

    try:
        processor = AutoProcessor.from_pretrained(model_path)
    except (OSError, ValueError) as error:
        raise WorkerError("model-not-found", f"no usable processor in {model_path}: {error}") from error
    if image_size is not None:
        # The longest edge images are resized to before splitting into encoder-sized tiles: the
        # knob that sets how many tiles (and so image tokens) an image costs.
        processor.image_processor.size = {"longest_edge": image_size}
    return processor


def load_model(model_path: str, dtype):
    from transformers import AutoModelForImageTextToText

    try:
        return AutoModelForImageTextToText.from_pretrained(model_path, dtype=dtype)
    except (OSError, ValueError) as error:
        raise WorkerError("model-not-found", f"no loadable model in {model_path}: {error}") from error
