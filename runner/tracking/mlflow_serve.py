"""Runs `mlflow server` on the store's SQLite database, creating that database safely first.

MLflow builds a new database with `create_all` and then some forty Alembic migrations, which
are not one transaction (`mlflow db upgrade`'s own help says so). A server stopped in the
middle, as a run shorter than the server's start-up stops it, left a database that every later
server refused ("table secrets already exists"). So the schema is built in a file of its own
and linked into place only once complete: `link` never replaces a database another runner made
first, and a creation cut short leaves only a partial file, which the next creation removes.

It runs in the server's own process, so the creation costs no second interpreter start.
Usage: python mlflow_serve.py <database-file> server [mlflow server options...]
"""

import os
import re
import sys
import uuid

# A partial database, and SQLite's files beside it (its rollback journal after a kill).
PARTIAL = re.compile(r"^(?P<db>.+)\.(?P<pid>\d+)\.[0-9a-f]+\.partial(-journal|-wal|-shm)?$")
SQLITE_SIDE_FILES = ("", "-journal", "-wal", "-shm")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_abandoned_partials(database: str) -> None:
    folder, name = os.path.split(database)
    for entry in os.listdir(folder):
        match = PARTIAL.match(entry)
        if match and match["db"] == name and not alive(int(match["pid"])):
            try:
                os.unlink(os.path.join(folder, entry))
            except FileNotFoundError:
                pass


def ensure_database(database: str) -> None:
    # Every start clears what earlier creations left, not only a start that creates: a creation
    # cut short is often followed at once by a start that finds the database another run made.
    remove_abandoned_partials(database)
    if os.path.exists(database):
        return
    partial = f"{database}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial"
    from mlflow.cli import cli

    try:
        # The public command: on an empty database it creates every table at the latest schema.
        cli.main(args=["db", "upgrade", f"sqlite:///{partial}"], standalone_mode=False)
        try:
            os.link(partial, database)
        except FileExistsError:
            pass  # another runner on this store linked its complete database first: use that one
    finally:
        for suffix in SQLITE_SIDE_FILES:
            try:
                os.unlink(partial + suffix)
            except FileNotFoundError:
                pass


def main() -> int:
    database = sys.argv[1]
    ensure_database(database)
    from mlflow.cli import cli

    return cli.main(args=sys.argv[2:], prog_name="mlflow")


if __name__ == "__main__":
    sys.exit(main())
