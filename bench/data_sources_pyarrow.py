"""pyarrow's side of bench/data-sources.ts.

  write <out.parquet> <rows> <image-bytes> <rows-per-group> [<jpeg>]
      synthetic rows as the hub's `datasets` writes them (image a {bytes, path} struct, then
      id, caption, question, answer, patient_id, diagnosis), snappy; the image is the given JPEG,
      or random bytes of the given size (incompressible, as photographs are)
  read <file.parquet>
      every row as a Python dict, row group by row group (what a reader that hands records on
      must do), printing {"rows", "seconds"} as JSON
"""

import json
import os
import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq


def write(out: str, rows: int, image_bytes: int, group_rows: int, jpeg: str | None) -> None:
    image = open(jpeg, "rb").read() if jpeg else None
    schema = pa.schema(
        [("image", pa.struct([("bytes", pa.binary()), ("path", pa.string())]))]
        + [(name, pa.string()) for name in ("id", "caption", "question", "answer", "patient_id", "diagnosis")]
    )
    with pq.ParquetWriter(out, schema, compression="snappy") as writer:
        for start in range(0, rows, group_rows):
            ids = range(start, min(rows, start + group_rows))
            writer.write_table(
                pa.table(
                    {
                        "image": [{"bytes": image or os.urandom(image_bytes), "path": f"{i}.jpg"} for i in ids],
                        "id": [f"r{i}" for i in ids],
                        "caption": [f"A synthetic lesion number {i} on the forearm." for i in ids],
                        "question": ["What condition does this photograph most likely show?" for _ in ids],
                        "answer": [f"Answer {i % 17}." for i in ids],
                        "patient_id": [f"p{i // 4}" for i in ids],
                        "diagnosis": ["Bacterial Infections" for _ in ids],
                    },
                    schema=schema,
                ),
                row_group_size=group_rows,
            )


def read(path: str) -> None:
    started = time.perf_counter()
    rows = 0
    parquet = pq.ParquetFile(path)
    for group in range(parquet.num_row_groups):
        rows += len(parquet.read_row_group(group).to_pylist())
    print(json.dumps({"rows": rows, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6] if len(sys.argv) > 6 else None)
    else:
        read(sys.argv[2])
