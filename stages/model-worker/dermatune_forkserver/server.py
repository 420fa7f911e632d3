"""The fork server: `python -m dermatune_forkserver.server SOCKET`.

Imports the heavy libraries, listens on the Unix socket SOCKET, prints `ready` on stdout, and
then forks one child per connection. A connection brings one job: the launcher's stdin, stdout
and stderr as file descriptors, and the worker's argv as a JSON line. The server answers with
`{"pid": N}` once the child exists and `{"exit": code}` (or `{"signal": n}`) once it has ended.

It stays single-threaded on purpose: fork copies only the calling thread, so a lock held by any
other thread at that moment would stay held for ever in the child. For the same reason it never
runs a torch operation (that would start torch's thread pool, which a forked child cannot use).

The server ends when its stdin reaches end of file (the runner that started it is gone) or on
SIGTERM. The jobs' environment is the server's own: the runner starts one server per environment.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import sys
import threading

# What the train, generate and examples jobs import on their way to the first step. A module that
# fails to import is skipped: the job then imports it (and reports the failure) as it always did.
PRELOAD = (
    "torch",
    "PIL.Image",
    "safetensors.torch",
    "transformers",
    "transformers.models.idefics3.modeling_idefics3",
    "transformers.models.idefics3.processing_idefics3",
    "transformers.models.idefics3.image_processing_pil_idefics3",
    "transformers.generation.logits_process",
    "peft",
)
# Attribute lookups that make transformers' and PEFT's lazy modules import what jobs use.
PRELOAD_ATTRIBUTES = (
    ("transformers", "AutoModelForImageTextToText"),
    ("transformers", "AutoProcessor"),
    ("peft", "PeftModel"),
    ("peft", "LoraConfig"),
    ("peft", "get_peft_model"),
)
# The largest request: an argv of a few short strings, as one JSON line.
MAX_REQUEST_BYTES = 64 * 1024


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m dermatune_forkserver.server SOCKET", file=sys.stderr)
        return 2
    _die_with_parent()
    _preload()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(argv[0])
    listener.listen(16)
    # SIGCHLD wakes the selector through this pipe, so children are reaped without a thread.
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # Ctrl-C reaches the whole process group; the runner stops its jobs itself (SIGTERM through
    # their launchers), and this server must outlive them to report how they ended.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(wake_read, selectors.EVENT_READ, "reap")
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ, "stdin")
    jobs: dict[int, socket.socket] = {}
    print("ready", flush=True)
    try:
        while True:
            for key, _ in selector.select():
                if key.data == "accept":
                    connection, _ = listener.accept()
                    own = [listener.fileno(), wake_read, wake_write, selector.fileno()]
                    _start_job(connection, jobs, own)
                elif key.data == "reap":
                    _drain(wake_read)
                    _reap(jobs)
                elif not os.read(sys.stdin.fileno(), 4096):
                    return 0
    finally:
        try:
            os.unlink(argv[0])
        except OSError:
            pass


def _preload() -> None:
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the job will meet (and report) the same failure
            pass
    for module, attribute in PRELOAD_ATTRIBUTES:
        try:
            getattr(sys.modules[module], attribute)
        except Exception:  # noqa: BLE001 - as above
            pass


def _start_job(connection: socket.socket, jobs: dict[int, socket.socket], inherited: list[int]) -> None:
    fds: list[int] = []
    try:
        message, fds = _receive_request(connection)
        argv = json.loads(message).get("argv")
        if len(fds) != 3 or not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
            raise ValueError("a request is the launcher's three standard streams and a list argv")
    except (OSError, ValueError, AttributeError) as error:
        print(f"fork server: refused a request: {error}", file=sys.stderr, flush=True)
        for fd in fds:
            os.close(fd)
        connection.close()
        return
    try:
        pid = os.fork()
    except OSError as error:
        # Out of processes or memory: the job's own log says so, and it ends as a failed start.
        os.write(fds[2], f"fork server: could not fork the job: {error}\n".encode())
        for fd in fds:
            os.close(fd)
        _send(connection, {"exit": 1})
        connection.close()
        return
    if pid == 0:
        others = [c.fileno() for c in jobs.values()]
        _run_child(connection, fds, argv, inherited + others + [sys.stdin.fileno()])
    for fd in fds:
        os.close(fd)
    jobs[pid] = connection
    _send(connection, {"pid": pid})


def _receive_request(connection: socket.socket) -> tuple[bytes, list[int]]:
    data, fds, _, _ = socket.recv_fds(connection, MAX_REQUEST_BYTES, 3)
    while not data.endswith(b"\n"):
        more = connection.recv(MAX_REQUEST_BYTES)
        if not more or len(data) + len(more) > MAX_REQUEST_BYTES:
            for fd in fds:
                os.close(fd)
            raise ValueError("the request is not one JSON line")
        data += more
    return data, fds


def _run_child(connection: socket.socket, fds: list[int], argv: list[str], close: list[int]) -> None:
    """In the forked child: become the worker on the launcher's streams. Never returns."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for fd in close:
            if fd > 2:
                os.close(fd)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        # The worker watches its parent (dermatune_worker.__main__._exit_with_parent): here that is
        # this server, which ends with the runner. The launcher's end of the connection covers a
        # launcher killed on its own (the runner's SIGKILL after its grace period).
        os.environ["DERMATUNE_PARENT_PID"] = str(os.getppid())
        threading.Thread(target=_exit_when_closed, args=(connection,), daemon=True).start()
        sys.argv = ["-m", *argv]
        from dermatune_worker.__main__ import main as worker_main

        code = worker_main(argv)
    except BaseException:  # noqa: BLE001 - a child must never return into the server's loop
        import traceback

        traceback.print_exc(file=sys.stderr)
    finally:
        try:
            import logging

            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _exit_when_closed(connection: socket.socket) -> None:
    # The launcher never writes after its request: anything, end of file included, means it is gone.
    try:
        connection.recv(1)
    except OSError:
        pass
    os._exit(143)


def _reap(jobs: dict[int, socket.socket]) -> None:
    while jobs:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        connection = jobs.pop(pid, None)
        if connection is None:
            continue
        code = os.waitstatus_to_exitcode(status)
        _send(connection, {"exit": code} if code >= 0 else {"signal": -code})
        connection.close()


def _send(connection: socket.socket, message: dict) -> None:
    try:
        connection.sendall((json.dumps(message) + "\n").encode())
    except OSError:
        pass  # the launcher is gone; its job ends through _exit_when_closed


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
