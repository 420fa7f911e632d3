"""Entry point: `python -m dermatune_worker JOB.json` (or `-` to read the job from stdin).

Exit codes: 0 after a `done` event, 2 after a `bad-job` error (the job breaks its contract: one
line names the setting and the rule, no traceback), 1 after any other `error` event, 143 after a
cancellation (SIGTERM). Tracebacks go to stderr, which the runner keeps in the stage log; stdout
carries only events.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
import traceback

from .protocol import Cancelled, EventStream, WorkerError


def main(argv: list[str]) -> int:
    _exit_with_parent()
    events = EventStream.take_stdout()
    signal.signal(signal.SIGTERM, _cancel)
    # Libraries' chatter (load reports, deprecations) belongs in the log, not on anyone's screen.
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "warning")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        job = _resolve(argv)
        result = _dispatch(job, events)
        events.emit("done", **result)
        return 0
    except Cancelled:
        events.emit("error", kind="cancelled", message="stopped by SIGTERM")
        return 143
    except WorkerError as error:
        if error.kind == "bad-job":
            print(f"bad job: {error.message}", file=sys.stderr)
            events.emit("error", kind=error.kind, message=error.message)
            return 2
        traceback.print_exc(file=sys.stderr)
        events.emit("error", kind=error.kind, message=error.message)
        return 1
    except MemoryError as error:
        traceback.print_exc(file=sys.stderr)
        events.emit("error", kind="out-of-memory", message=f"out of host memory: {error}")
        return 1
    except Exception as error:  # noqa: BLE001 - the last line of defence of the protocol
        traceback.print_exc(file=sys.stderr)
        if _is_oom(error):
            events.emit("error", kind="out-of-memory", message=str(error).splitlines()[0])
        else:
            events.emit("error", kind="internal", message=f"{type(error).__name__}: {error}")
        return 1


def _resolve(argv: list[str]):
    from .job import resolve_job

    if len(argv) != 1:
        raise WorkerError("bad-job", "usage: python -m dermatune_worker JOB.json  (or - for stdin)")
    try:
        text = sys.stdin.read() if argv[0] == "-" else open(argv[0], encoding="utf-8").read()
    except OSError as error:
        raise WorkerError("bad-job", f"cannot read the job: {error}") from error
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise WorkerError("bad-job", f"the job is not JSON: {error}") from error
    return resolve_job(raw)


def _dispatch(job, events: EventStream):
    """Runs the job type's entry point, imported by the name the contract gives it: only the
    code a job type runs is loaded, and the same names decide each job type's digest."""
    import importlib

    from .job import entry_point

    module, function = entry_point(job["type"])
    return getattr(importlib.import_module(f".{module}", __package__), function)(job, events)


def _exit_with_parent() -> None:
    """A runner killed with SIGKILL cannot stop its worker: the worker stops itself, at once.

    On Linux the kernel sends SIGKILL when the parent dies (PR_SET_PDEATHSIG); everywhere a
    thread also watches the parent pid the runner passed (DERMATUNE_PARENT_PID), which also
    covers a parent that died before this line ran. Nothing is lost: outputs go to a staging
    folder that only the runner commits.
    """
    expected = os.environ.get("DERMATUNE_PARENT_PID")
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if not expected or not expected.isdigit():
        return
    parent = int(expected)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(143)

    if os.getppid() != parent:
        os._exit(143)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _cancel(signum, frame):
    raise Cancelled()


def _is_oom(error: Exception) -> bool:
    try:
        import torch

        if isinstance(error, torch.OutOfMemoryError):
            return True
    except ImportError:
        pass
    return "out of memory" in str(error).lower()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
