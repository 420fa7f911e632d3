"""Runs a command and ends its whole process group when the process that started it dies.

dermatune starts the embedded MLflow server in a process group of its own, so that stopping it
reaches the uvicorn workers too. That also means a `dermatune run` killed with SIGKILL would
leave the server running forever; this guard polls the starter's pid and takes the group down
with it. Usage: python server_guard.py <starter-pid> <command> [args...]
"""

import os
import signal
import subprocess
import sys
import time


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main() -> int:
    starter = int(sys.argv[1])
    child = subprocess.Popen(sys.argv[2:])
    while child.poll() is None:
        if not alive(starter) or os.getppid() == 1:
            os.killpg(os.getpgid(0), signal.SIGTERM)
            try:
                return child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(os.getpgid(0), signal.SIGKILL)
        time.sleep(1)
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())
