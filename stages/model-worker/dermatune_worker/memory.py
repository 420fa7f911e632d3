"""How much GPU memory a training job needs, estimated before the model is loaded.

The parts, for the worker's own training loop (train.py: base weights loaded in fp32 and frozen,
compute under autocast, LoRA weights and AdamW state in fp32):
- weights: every parameter in fp32;
- weight casts: under bf16/fp16 autocast each frozen weight is cast for its matmul and the cast
  is kept for the backward pass: every parameter once more in 2 bytes;
- LoRA: the adapter's weights, gradients and two AdamW moments, fp32;
- activations: per layer and token, about 17 values of the hidden width kept for backward
  (Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models":
  34 bytes x hidden in half precision, less the attention-score term a fused attention kernel
  does not store); the vision tower counts every patch of every tile, and only when its modules
  are adapted (with `text_model` scope no gradient flows into it, so it keeps one layer's worth);
  gradient checkpointing keeps each layer's input and one layer's full set;
- logits: bf16 logits, their fp32 copy for the loss and its gradient, over the vocabulary;
- a fixed 1 GiB for the CUDA context and the allocator's slack.
An estimate, not a measurement: it errs high (square images, the longest sequence).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .known_models import KNOWN_MODELS

GIB = 1024**3
CUDA_CONTEXT_BYTES = 1 * GIB
ACTIVATION_VALUES_PER_TOKEN = 17
# Layout tokens per tile (framing tokens and the split row/col text) and the question + answer.
LAYOUT_TOKENS_PER_TILE = 8
TEXT_TOKENS = 256


# The config layout _from_config reads (vision_config, text_config, an Idefics3 processor).
ESTIMATED_FAMILIES = ("idefics3",)


def architecture(base: str, model_path: str | None) -> dict[str, Any] | None:
    """The shape the estimate needs: from the model's config.json when it is on disk, else known;
    None for a model of a family the estimate does not cover (no estimate, never a crash)."""
    if model_path and (Path(model_path) / "config.json").is_file():
        config = json.loads((Path(model_path) / "config.json").read_text())
        if config.get("model_type") not in ESTIMATED_FAMILIES:
            return None
        return _from_config(Path(model_path))
    return KNOWN_MODELS.get(base)


def _from_config(folder: Path) -> dict[str, Any]:
    config = json.loads((folder / "config.json").read_text())
    vision, text = config["vision_config"], config["text_config"]
    processor = _processor_sizes(folder)
    return {
        "parameters": _meta_parameter_count(folder),
        "vision": vision,
        "text": {**text, "head_dim": text.get("head_dim") or text["hidden_size"] // text["num_attention_heads"]},
        "scale_factor": config.get("scale_factor", 2),
        **processor,
    }


def _processor_sizes(folder: Path) -> dict[str, int]:
    for name in ("processor_config.json", "preprocessor_config.json"):
        path = folder / name
        if path.is_file():
            data = json.loads(path.read_text())
            data = data.get("image_processor", data)
            return {"longest_edge": data["size"]["longest_edge"], "max_image_size": data["max_image_size"]["longest_edge"]}
    raise ValueError(f"no image processor settings in {folder}")


def _meta_parameter_count(folder: Path) -> int:
    import torch
    from transformers import AutoConfig, AutoModelForImageTextToText

    with torch.device("meta"):
        model = AutoModelForImageTextToText.from_config(AutoConfig.from_pretrained(folder))
    return sum(p.numel() for p in model.parameters())


def tiles_per_image(arch: dict[str, Any], image_size: int | None) -> int:
    """Tiles of the largest (square) image: the split grid plus the global image, or 1 unsplit."""
    longest = image_size or arch["longest_edge"]
    tile = arch["max_image_size"]
    if longest <= tile:
        return 1
    return math.ceil(longest / tile) ** 2 + 1


def estimate_training_memory(arch: dict[str, Any], settings: dict[str, Any], device: str, precision: str) -> dict[str, Any]:
    vision, text = arch["vision"], arch["text"]
    batch = settings["batch_size"]
    tiles = tiles_per_image(arch, settings["image_size"])
    patches = (vision["image_size"] // vision["patch_size"]) ** 2
    image_tokens = patches // arch["scale_factor"] ** 2
    sequence = min(settings["max_seq_length"], tiles * (image_tokens + LAYOUT_TOKENS_PER_TILE) + TEXT_TOKENS)
    autocast = device == "cuda" and precision in ("bf16", "fp16")
    act_bytes = 2 if autocast else 4
    lora = settings["lora"]
    vision_adapted = lora["scope"] == "all" and any(m in _module_shapes(vision, text, "vision") for m in lora["target_modules"])

    def layer_activations(tokens: int, hidden: int, layers: int, kept: bool) -> int:
        per_layer = tokens * hidden * ACTIVATION_VALUES_PER_TOKEN * act_bytes
        if not kept:
            return per_layer  # forward only: one layer's worth alive at a time
        if settings["gradient_checkpointing"]:
            return layers * tokens * hidden * act_bytes + per_layer
        return layers * per_layer

    trainable = _lora_parameters(vision, text, lora)
    parts = {
        "weights": arch["parameters"] * 4,
        "weight_casts": arch["parameters"] * 2 if autocast else 0,
        "lora": trainable * 16,
        "vision_activations": layer_activations(
            batch * tiles * patches, vision["hidden_size"], vision["num_hidden_layers"], vision_adapted
        ),
        "text_activations": layer_activations(batch * sequence, text["hidden_size"], text["num_hidden_layers"], True),
        "logits": batch * sequence * text["vocab_size"] * (act_bytes + 8),
        "cuda_context": CUDA_CONTEXT_BYTES if device == "cuda" else 0,
    }
    return {
        "bytes": sum(parts.values()),
        "parts": parts,
        "tiles_per_image": tiles,
        "sequence_tokens": sequence,
        "batch_size": batch,
        "precision": precision,
        "lora_parameters": trainable,
    }


def _module_shapes(vision: dict[str, Any], text: dict[str, Any], tower: str) -> dict[str, tuple[int, int]]:
    if tower == "vision":
        h = vision["hidden_size"]
        return {"q_proj": (h, h), "k_proj": (h, h), "v_proj": (h, h), "out_proj": (h, h)}
    h, heads, kv, hd = text["hidden_size"], text["num_attention_heads"], text["num_key_value_heads"], text["head_dim"]
    return {"q_proj": (h, heads * hd), "k_proj": (h, kv * hd), "v_proj": (h, kv * hd), "o_proj": (heads * hd, h)}


def _lora_parameters(vision: dict[str, Any], text: dict[str, Any], lora: dict[str, Any]) -> int:
    total = 0
    towers = [("text", text["num_hidden_layers"])]
    if lora["scope"] == "all":
        towers.append(("vision", vision["num_hidden_layers"]))
    for tower, layers in towers:
        shapes = _module_shapes(vision, text, tower)
        for name in lora["target_modules"]:
            if name in shapes:
                fan_in, fan_out = shapes[name]
                total += layers * lora["rank"] * (fan_in + fan_out)
    return total


def describe(estimate: dict[str, Any]) -> str:
    parts = ", ".join(f"{name.replace('_', ' ')} {value / GIB:.1f}" for name, value in estimate["parts"].items() if value)
    return (
        f"about {estimate['bytes'] / GIB:.1f} GiB for batch {estimate['batch_size']}, "
        f"{estimate['tiles_per_image']} tiles an image, {estimate['sequence_tokens']} tokens, {estimate['precision']} ({parts})"
    )
