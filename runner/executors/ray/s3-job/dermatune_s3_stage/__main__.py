"""`python -m dermatune_s3_stage --storage s3://bucket/prefix --root ROOT ... -- COMMAND...`

Runs a Ray job's command against S3 storage: downloads the job's own files, the inputs it reads
(`--fetch`) and its key's checkpoints (`--resume`) into a scratch folder, maps ROOT (the path the
runner wrote into the job) onto that folder, runs the command with the job's log as its stdout,
mirrors the checkpoints to S3 while it runs, and on success uploads its output, manifest last.

Credentials come from the cluster's own environment (boto3's chain: environment, profiles,
instance roles); nothing here prints or stores them. A failure of the stager itself is reported
as the worker's protocol does, an `error` event on stdout, so the runner sees it as the job's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import boto3
from botocore.config import Config

from .tree import Mirror, TransferError, Tree

# How often the checkpoints folder is mirrored while the job runs; a lost node loses at most this
# much beyond the worker's own checkpoint interval.
SYNC_SECONDS = 5.0


def main(argv: list[str]) -> int:
    if "--" not in argv:
        return _error("bad-job", "usage: python -m dermatune_s3_stage OPTIONS -- COMMAND...")
    split = argv.index("--")
    args = _parser().parse_args(argv[:split])
    command = argv[split + 1 :]
    bucket, _, prefix = args.storage[len("s3://") :].partition("/")
    prefix = prefix.strip("/")

    def key(relative: str) -> str:
        return f"{prefix}/{relative}" if prefix else relative

    client = boto3.session.Session().client(
        "s3",
        endpoint_url=args.endpoint_url,
        region_name=args.region or ("us-east-1" if args.endpoint_url else None),
        config=Config(
            s3={"addressing_style": "path" if args.path_style else "auto"},
            retries={"max_attempts": 5, "mode": "standard"},
        ),
    )
    tree = Tree(client, bucket, args.manifest)
    scratch = Path(tempfile.mkdtemp(prefix="dermatune-s3-"))
    try:
        try:
            for relative in args.fetch:
                tree.download(key(relative), scratch / relative)
            tree.download_loose(key(args.job), scratch / args.job, skip="output")
            tree.download(key(args.resume), scratch / args.resume, required=False)
        except Exception as error:  # noqa: BLE001 - boto3 raises several families; the job reports any
            return _error("internal", f"fetching the job's files from S3: {_describe(error)}")
        (scratch / args.job / "output").mkdir(parents=True, exist_ok=True)
        (scratch / args.resume).mkdir(parents=True, exist_ok=True)
        root = args.root.rstrip("/")
        _localize_file(scratch / args.job / "job.json", root, str(scratch))
        local_command = [_localize(part, root, str(scratch)) for part in command]

        mirror = Mirror(tree, scratch / args.resume, key(args.resume))
        code = _run(local_command, mirror)
        try:
            mirror.sync()
            if code == 0:
                tree.upload(scratch / args.job / "output", key(f"{args.job}/output"))
        except Exception as error:  # noqa: BLE001 - as above
            return _error("internal", f"uploading the job's output to S3: {_describe(error)}")
        return code
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run(command: list[str], mirror: Mirror) -> int:
    child = subprocess.Popen(command)
    # A stop (ray job stop, Ctrl-C on the runner) is the job's to handle: pass it on and wait.
    signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signal.SIGTERM))
    stop = threading.Event()

    def mirror_loop() -> None:
        while not stop.wait(SYNC_SECONDS):
            try:
                mirror.sync()
            except Exception as error:  # noqa: BLE001 - a failed mirror round is tried again next round
                print(f"dermatune_s3_stage: mirroring checkpoints failed, will retry: {type(error).__name__}", file=sys.stderr)

    thread = threading.Thread(target=mirror_loop, name="checkpoint-mirror", daemon=True)
    thread.start()
    try:
        return child.wait()
    finally:
        stop.set()
        thread.join()


def _localize(value, root: str, local: str):
    if isinstance(value, str) and (value == root or value.startswith(f"{root}/")):
        return local + value[len(root) :]
    if isinstance(value, list):
        return [_localize(item, root, local) for item in value]
    if isinstance(value, dict):
        return {name: _localize(item, root, local) for name, item in value.items()}
    return value


def _localize_file(path: Path, root: str, local: str) -> None:
    if path.exists():
        path.write_text(json.dumps(_localize(json.loads(path.read_text()), root, local)))


def _describe(error: Exception) -> str:
    """The error's S3 code or own message; never a server's text that may echo a signature."""
    if isinstance(error, TransferError):
        return str(error)
    code = getattr(error, "response", {}).get("Error", {}).get("Code")
    return f"{type(error).__name__}: {code}" if code else f"{type(error).__name__}: {error}"


def _error(kind: str, message: str) -> int:
    print(json.dumps({"event": "error", "kind": kind, "message": message}), flush=True)
    return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dermatune_s3_stage")
    parser.add_argument("--storage", required=True)
    parser.add_argument("--root", required=True)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--endpoint-url")
    parser.add_argument("--region")
    parser.add_argument("--path-style", action="store_true")
    parser.add_argument("--job", required=True)
    parser.add_argument("--resume", required=True)
    parser.add_argument("--fetch", action="append", default=[])
    return parser


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
