"""The worker's side of its protocol with the runner: one JSON object per line on stdout.

Events: started, progress, metric (one per optimizer step), warning, error, done. The stream is
the only thing written to the real stdout: `EventStream.take_stdout` moves every other writer
(libraries' prints, progress bars, C-level output) to stderr, which the runner keeps in the
stage log together with tracebacks.
"""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Any

# Kinds of error event; the runner maps each to a stage failure reason.
ERROR_KINDS = ("model-not-found", "out-of-memory", "bad-image", "bad-job", "cancelled", "internal")


class WorkerError(Exception):
    """An expected failure that ends the job with a typed error event."""

    def __init__(self, kind: str, message: str):
        assert kind in ERROR_KINDS, kind
        super().__init__(message)
        self.kind = kind
        self.message = message


class Cancelled(BaseException):
    """Raised from the SIGTERM handler; a BaseException so that no `except Exception` swallows it."""


class EventStream:
    def __init__(self, stream):
        self._stream = stream

    @classmethod
    def take_stdout(cls) -> "EventStream":
        """Keeps fd 1 for events and points fd 1 (and sys.stdout) at stderr for everyone else."""
        events_fd = os.dup(1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        return cls(os.fdopen(events_fd, "w", buffering=1, encoding="utf-8"))

    def emit(self, event: str, **fields: Any) -> None:
        self._stream.write(json.dumps({"event": event, **_finite(fields)}, allow_nan=False) + "\n")
        self._stream.flush()

    def warning(self, message: str, code: str | None = None) -> None:
        self.emit("warning", message=message, **({"code": code} if code else {}))


def _finite(value: Any) -> Any:
    """NaN and infinities are not JSON: they travel as null (a diverged loss stays visible as null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
