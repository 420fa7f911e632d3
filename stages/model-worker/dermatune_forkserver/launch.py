"""The runner's side of the fork server: `python -m dermatune_forkserver.launch SOCKET ARG...`.

Stands where `python -m dermatune_worker ARG...` stood: the server's child runs the worker on this
process's stdin, stdout and stderr, so the runner reads the same events, keeps the same log and
gets the same exit status. SIGTERM is passed on to the job; if this process is killed outright,
the job sees its connection close and exits. It writes to stderr only: stdout is the job's.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys

# Said on stderr (the stage log) when the server is gone before the job ended; the runner then
# reports a worker that ended without a result.
SERVER_GONE = 1


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: python -m dermatune_forkserver.launch SOCKET ARG...", file=sys.stderr)
        return 2
    # The same lifeline as a worker started on its own: gone with the runner, at once.
    from dermatune_worker.__main__ import _exit_with_parent

    _exit_with_parent()
    job_pid: int | None = None
    pending: list[int] = []

    def forward(signum, frame):
        if job_pid is None:
            pending.append(signum)
        else:
            _kill(job_pid, signum)

    signal.signal(signal.SIGTERM, forward)
    # Ctrl-C reaches the job directly (same process group); this process stays to report its end.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.connect(argv[0])
    request = (json.dumps({"argv": argv[1:]}) + "\n").encode()
    socket.send_fds(connection, [request], [0, 1, 2])
    for line in connection.makefile("r", encoding="utf-8"):
        message = json.loads(line)
        if "pid" in message:
            job_pid = int(message["pid"])
            for signum in pending:
                _kill(job_pid, signum)
        elif "exit" in message:
            return int(message["exit"])
        elif "signal" in message:
            signal.signal(message["signal"], signal.SIG_DFL)
            os.kill(os.getpid(), message["signal"])
    print("fork server: gone before the job ended", file=sys.stderr, flush=True)
    return SERVER_GONE


def _kill(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
