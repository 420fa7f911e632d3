"""What `dermatune doctor` needs from Python: interpreter, torch, CUDA, and the models on disk."""

from __future__ import annotations

import json
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any


def run_doctor(job: dict[str, Any], events: Any = None) -> dict[str, Any]:
    import torch

    cuda = torch.cuda.is_available()
    report: dict[str, Any] = {
        "python": {"version": platform.python_version(), "executable": sys.executable},
        "packages": {name: _version(name) for name in ("torch", "transformers", "peft", "accelerate", "tokenizers", "safetensors")},
        "cuda": {
            "available": cuda,
            "version": torch.version.cuda,
            "devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else [],
            # Total memory per device, for preflight's "is the GPU big enough" line.
            "memory_bytes": [torch.cuda.get_device_properties(i).total_memory for i in range(torch.cuda.device_count())] if cuda else [],
            "bf16": bool(cuda and torch.cuda.is_bf16_supported()),
        },
        "cpu_threads": torch.get_num_threads(),
        "models": local_models(job.get("models_dir")) + cached_hub_models(),
        "gpu_memory": [torch.cuda.get_device_properties(i).total_memory for i in range(torch.cuda.device_count())] if cuda else [],
        "memory_estimates": [memory_estimate(request, job.get("models_dir"), cuda) for request in job.get("estimates", [])],
    }
    return {"summary": report}


def memory_estimate(request: dict[str, Any], models_dir: str | None, cuda: bool) -> dict[str, Any]:
    """A training job's GPU memory, from the model's config when it is on disk, else known shapes."""
    from .memory import architecture, describe, estimate_training_memory
    from .models import resolve_model
    from .protocol import WorkerError

    base = request["model"]["base"]
    try:
        path = resolve_model(base, models_dir, request["model"]["revision"], allow_download=False)
    except WorkerError:
        path = None
    arch = architecture(base, path)
    if arch is None:
        return {"name": request["name"], "model": base, "error": f"no estimate for {base}: it is not on disk and its shape is not known, or its family has no estimate"}
    settings = request["train"]
    device = "cuda" if settings["device"] in ("cuda", "auto") and cuda else settings["device"]
    # What `auto` picks on a GPU (bf16 where supported); the estimate is for the GPU case.
    precision = settings["precision"] if settings["precision"] != "auto" else "bf16"
    estimate = estimate_training_memory(arch, settings, "cuda" if device != "cpu" else "cpu", precision)
    return {"name": request["name"], "model": base, **estimate, "description": describe(estimate)}


def local_models(models_dir: str | None) -> list[dict[str, Any]]:
    if not models_dir or not Path(models_dir).is_dir():
        return []
    found = []
    for folder in sorted(Path(models_dir).iterdir()):
        if not (folder / "config.json").is_file():
            continue
        entry: dict[str, Any] = {"name": folder.name, "path": str(folder.resolve()), "source": "models-dir"}
        marker = folder / "stand-in.json"
        if marker.is_file():
            stand_in = json.loads(marker.read_text())
            entry["stand_in_for"] = stand_in.get("stand_in_for")
            entry["builder_digest"] = stand_in.get("builder_digest")
        found.append(entry)
    return found


def cached_hub_models() -> list[dict[str, Any]]:
    try:
        from huggingface_hub import scan_cache_dir

        cache = scan_cache_dir()
    except Exception:  # noqa: BLE001 - no cache folder yet is the common case
        return []
    return [
        {"name": repo.repo_id, "path": str(repo.repo_path), "source": "hf-cache", "revisions": sorted(r.commit_hash for r in repo.revisions)}
        for repo in sorted(cache.repos, key=lambda r: r.repo_id)
        if repo.repo_type == "model"
    ]


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
