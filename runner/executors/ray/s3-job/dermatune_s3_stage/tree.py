"""Folders to and from S3 with a manifest of each file's size and sha256, written last.

The same format as the runner's `runner/executors/ray/s3-transfer.ts`: a prefix whose manifest
exists is complete, and every file read back is checked against it. boto3's transfer manager
does the bytes: multipart uploads with a CRC32 per part, ranged downloads, and retries of each
part or range that fails (TransferConfig.num_download_attempts, botocore's standard retries), so
what arrived is not sent again.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from boto3.s3.transfer import TransferConfig

# The runner's PART_BYTES: S3 parts of 8 MiB on both sides.
PART_BYTES = 8 * 1024 * 1024
TRANSFER = TransferConfig(multipart_threshold=PART_BYTES, multipart_chunksize=PART_BYTES, max_concurrency=4)


class TransferError(Exception):
    pass


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def local_files(root: Path, final_only: bool = False) -> list[str]:
    """Files under root; `final_only` leaves out hidden names (checkpoints are written under
    hidden names and renamed, so a hidden one is still being written)."""
    found = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not (final_only and any(part.startswith(".") for part in relative.parts)):
            found.append(relative.as_posix())
    return found


# Files moved at once (the runner's FILES_AT_ONCE): a train subset is thousands of small images.
FILES_AT_ONCE = 8


def _each_at_once(items, work) -> None:
    """Runs work over items on a few threads (boto3 clients are thread-safe); the first error is raised."""
    with ThreadPoolExecutor(max_workers=FILES_AT_ONCE) as pool:
        for future in [pool.submit(work, item) for item in items]:
            future.result()


class Tree:
    def __init__(self, client, bucket: str, manifest_name: str):
        self.client = client
        self.bucket = bucket
        self.manifest_name = manifest_name

    def read_manifest(self, prefix: str) -> dict | None:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=f"{prefix}/{self.manifest_name}")["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None
        return json.loads(body)

    def write_manifest(self, prefix: str, files: dict) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=f"{prefix}/{self.manifest_name}",
            Body=json.dumps({"files": files}).encode(),
            ContentType="application/json",
        )

    def upload_file(self, path: Path, key: str) -> None:
        self.client.upload_file(str(path), self.bucket, key, Config=TRANSFER, ExtraArgs={"ChecksumAlgorithm": "CRC32"})

    def upload(self, root: Path, prefix: str) -> None:
        files = {}

        def one(relative: str) -> None:
            path = root / relative
            files[relative] = {"size": path.stat().st_size, "sha256": file_sha256(path)}
            self.upload_file(path, f"{prefix}/{relative}")

        _each_at_once(local_files(root), one)
        self.write_manifest(prefix, files)

    def download(self, prefix: str, root: Path, required: bool = True) -> None:
        manifest = self.read_manifest(prefix)
        if manifest is None:
            if required:
                raise TransferError(f"s3://{self.bucket}/{prefix}/ has no {self.manifest_name}")
            return

        def one(item: tuple[str, dict]) -> None:
            relative, entry = item
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            part = target.with_name(f".{target.name}.part")
            self.client.download_file(self.bucket, f"{prefix}/{relative}", str(part), Config=TRANSFER)
            digest = file_sha256(part)
            if digest != entry["sha256"]:
                part.unlink(missing_ok=True)
                raise TransferError(
                    f"s3://{self.bucket}/{prefix}/{relative}: sha256 {digest[:12]} is not the manifest's {entry['sha256'][:12]}"
                )
            os.replace(part, target)

        _each_at_once(sorted(manifest["files"].items()), one)

    def download_loose(self, prefix: str, root: Path, skip: str) -> None:
        """The objects directly under prefix/ (a job's own files), but not those under skip/."""
        listed = self.client.list_objects_v2(Bucket=self.bucket, Prefix=f"{prefix}/")
        for item in listed.get("Contents", []):
            relative = item["Key"][len(prefix) + 1 :]
            if relative.startswith(f"{skip}/"):
                continue
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            self.client.download_file(self.bucket, item["Key"], str(target), Config=TRANSFER)

    def delete_except(self, prefix: str, keep: set[str]) -> None:
        listed = self.client.list_objects_v2(Bucket=self.bucket, Prefix=f"{prefix}/")
        stale = [
            {"Key": item["Key"]}
            for item in listed.get("Contents", [])
            if item["Key"][len(prefix) + 1 :] not in keep and not item["Key"].endswith(f"/{self.manifest_name}")
        ]
        if stale:
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": stale, "Quiet": True})


class Mirror:
    """Keeps a prefix equal to a local folder that a running job writes (its checkpoints)."""

    def __init__(self, tree: Tree, root: Path, prefix: str):
        self.tree = tree
        self.root = root
        self.prefix = prefix
        self.sent: dict[str, tuple[int, int, str]] = {}

    def sync(self) -> None:
        if not self.root.exists():
            return
        files = {}
        changed = False
        for relative in local_files(self.root, final_only=True):
            path = self.root / relative
            try:
                info = path.stat()
                known = self.sent.get(relative)
                if known is None or known[:2] != (info.st_size, info.st_mtime_ns):
                    digest = file_sha256(path)
                    self.tree.upload_file(path, f"{self.prefix}/{relative}")
                    known = (info.st_size, info.st_mtime_ns, digest)
                    self.sent[relative] = known
                    changed = True
            except FileNotFoundError:
                continue  # an older checkpoint pruned while we looked
            files[relative] = {"size": known[0], "sha256": known[2]}
        if changed or set(files) != set(self.sent):
            self.sent = {k: v for k, v in self.sent.items() if k in files}
            # The manifest names only files that are up; then what it no longer names goes.
            self.tree.write_manifest(self.prefix, files)
            self.tree.delete_except(self.prefix, set(files))
