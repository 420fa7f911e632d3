"""Writes rows read as JSON lines on stdin to a Parquet file, the way the hub's `datasets`
library stores an image column: a struct of `bytes` (binary) and `path` (string). Images come
base64-encoded under `image_base64`. Used by scripts/make-source-fixtures.ts with the project's
venv (pyarrow); arguments: the output file and the rows per row group."""

import base64
import json
import sys

import pyarrow as pa
import pyarrow.parquet as pq


def main() -> None:
    out, group_rows = sys.argv[1], int(sys.argv[2])
    rows = [json.loads(line) for line in sys.stdin if line.strip()]
    image_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    columns = {
        "image": pa.array(
            [{"bytes": base64.b64decode(r.pop("image_base64")), "path": r.pop("image_name")} for r in rows],
            type=image_type,
        )
    }
    for name in rows[0]:
        columns[name] = pa.array([r[name] for r in rows], type=pa.string())
    table = pa.table(columns)
    # Fixed writer settings, so that regenerating gives the same bytes.
    pq.write_table(table, out, row_group_size=group_rows, compression="snappy", write_statistics=False)


if __name__ == "__main__":
    main()
