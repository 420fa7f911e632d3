"""Resumable state of a train or generate job, kept in the job's `checkpoint_dir`.

The runner gives each train and generate stage a folder tied to the stage's key that outlives a
killed attempt (unlike the output folder, which a crash discards). Layout:

    <checkpoint_dir>/state.json                    what the runner shows: job type, step / total
    <checkpoint_dir>/train/step-00000040/          one training checkpoint (state.pt, meta.json)
    <checkpoint_dir>/generate/batch-000003.json    one finished generation batch

Every checkpoint is written under a hidden temporary name, flushed to disk, and renamed into
place, so a kill (or a preempted machine) mid-write leaves the previous one intact; a folder or
file that bears a final name is complete. Each carries the digest of what decides the job's
result, so state left by a different job is never resumed, whatever folder it is found in.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import re
import shutil
import time
from pathlib import Path
from typing import Any

# Two, not one: should the newest fail to load (a disk that lied about a flush), the one before it
# still saves all but one interval of work.
KEEP_TRAIN_CHECKPOINTS = 2
STATE_FILE = "state.json"
_STEP_DIR = re.compile(r"^step-(\d{8})$")
_BATCH_FILE = re.compile(r"^batch-(\d{6})\.json$")


def file_digest(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def job_digest(parts: dict[str, Any]) -> str:
    """sha256 of canonical JSON of what decides a job's result (settings, seed, data digests)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def write_progress(root: Path, job_type: str, done: int, total: int, unit: str) -> None:
    """The summary the runner's `status` reads; written aside and renamed like everything here."""
    _write_atomic(
        root / STATE_FILE,
        json.dumps({"job_type": job_type, "done": done, "total": total, "unit": unit, "written_at": time.time()}).encode(),
    )


class TrainCheckpoints:
    def __init__(self, root: str | Path, digest: str, keep: int = KEEP_TRAIN_CHECKPOINTS):
        self.root = Path(root)
        self.dir = self.root / "train"
        self.digest = digest
        self.keep = keep
        self.dir.mkdir(parents=True, exist_ok=True)
        # Leftovers of writes that a kill cut short: never complete, never read.
        for leftover in self.dir.glob(".step-*"):
            shutil.rmtree(leftover, ignore_errors=True)

    def steps(self) -> list[int]:
        return sorted(int(m.group(1)) for p in self.dir.iterdir() if (m := _STEP_DIR.match(p.name)))

    def latest(self, warn) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(meta, state) of the newest checkpoint that loads and belongs to this job, else None."""
        import torch

        for step in reversed(self.steps()):
            folder = self.dir / f"step-{step:08d}"
            try:
                meta = json.loads((folder / "meta.json").read_text())
                if meta.get("digest") != self.digest:
                    warn(f"checkpoint at step {step} belongs to another job; not resumed", "checkpoint-foreign")
                    continue
                # weights_only: a checkpoint on shared storage is data, never code to run.
                state = torch.load(folder / "state.pt", map_location="cpu", weights_only=True)
                return meta, state
            except (OSError, ValueError, RuntimeError, KeyError, EOFError) as error:
                warn(f"checkpoint at step {step} is unreadable ({error}); trying an older one", "checkpoint-unreadable")
        return None

    def save(self, step: int, total: int, meta: dict[str, Any], state: dict[str, Any]) -> float:
        """Writes one checkpoint and prunes older ones; returns the seconds it took."""
        import torch

        started = time.perf_counter()
        final = self.dir / f"step-{step:08d}"
        temporary = self.dir / f".step-{step:08d}.tmp-{os.getpid()}"
        shutil.rmtree(temporary, ignore_errors=True)
        temporary.mkdir()
        with open(temporary / "state.pt", "wb") as handle:
            torch.save(state, handle)
            handle.flush()
            os.fsync(handle.fileno())
        _write_synced(temporary / "meta.json", json.dumps({**meta, "digest": self.digest, "step": step}).encode())
        _fsync_dir(temporary)
        if final.exists():  # an unreadable one passed over on resume, now superseded
            shutil.rmtree(final)
        os.rename(temporary, final)
        _fsync_dir(self.dir)
        write_progress(self.root, "train", step, total, "step")
        for old in self.steps()[: -self.keep]:
            shutil.rmtree(self.dir / f"step-{old:08d}", ignore_errors=True)
        return time.perf_counter() - started


class GenerateBatches:
    """Finished generation batches, one file each; a resumed job starts at the first missing one."""

    def __init__(self, root: str | Path, digest: str):
        self.root = Path(root)
        self.dir = self.root / "generate"
        self.digest = digest
        self.dir.mkdir(parents=True, exist_ok=True)
        for leftover in self.dir.glob(".batch-*"):
            leftover.unlink(missing_ok=True)

    def finished(self, warn) -> tuple[list[dict[str, Any]], bytes | None]:
        """The lines of the leading run of finished batches, and the RNG state after the last one."""
        lines: list[dict[str, Any]] = []
        rng: bytes | None = None
        present = sorted(int(m.group(1)) for p in self.dir.iterdir() if (m := _BATCH_FILE.match(p.name)))
        for expected, index in enumerate(present):
            if index != expected:
                break
            try:
                record = json.loads((self.dir / f"batch-{index:06d}.json").read_text())
            except (OSError, ValueError) as error:
                warn(f"generation batch {index} is unreadable ({error}); generating from there", "checkpoint-unreadable")
                break
            if record.get("digest") != self.digest or record.get("start") != len(lines):
                warn(f"generation batch {index} belongs to another job; generating from there", "checkpoint-foreign")
                break
            lines.extend(record["lines"])
            rng = base64.b64decode(record["rng"])
        return lines, rng

    def save(self, index: int, start: int, lines: list[dict[str, Any]], rng: bytes, total: int) -> None:
        record = {"digest": self.digest, "start": start, "lines": lines, "rng": base64.b64encode(rng).decode()}
        _write_atomic(self.dir / f"batch-{index:06d}.json", json.dumps(record, ensure_ascii=False).encode())
        write_progress(self.root, "generate", start + len(lines), total, "item")


def rng_states(include_cuda: bool) -> dict[str, Any]:
    """Every RNG the job draws from: Python's, NumPy's, torch's CPU one and each CUDA device's."""
    import numpy as np
    import torch

    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {
        # Plain lists and tensors only, so that torch.load(weights_only=True) reads them back.
        "python": [version, list(internal), gauss_next],
        "numpy": [kind, torch.from_numpy(keys.copy()), pos, has_gauss, gauss],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if include_cuda else [],
    }


def restore_rng_states(states: dict[str, Any]) -> None:
    import numpy as np
    import torch

    version, internal, gauss_next = states["python"]
    random.setstate((version, tuple(internal), gauss_next))
    kind, keys, pos, has_gauss, gauss = states["numpy"]
    np.random.set_state((kind, keys.numpy(), pos, has_gauss, gauss))
    torch.set_rng_state(states["torch"])
    if states["cuda"]:
        torch.cuda.set_rng_state_all(states["cuda"])


def _write_atomic(path: Path, data: bytes) -> None:
    temporary = path.parent / f".{path.stem}.tmp-{os.getpid()}{path.suffix}"
    _write_synced(temporary, data)
    os.replace(temporary, path)


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
