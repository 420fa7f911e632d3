"""Runs `mlflow server` on the store's SQLite database, creating that database safely first.

MLflow builds a new database with `create_all` and then some forty Alembic migrations, which
are not one transaction (`mlflow db upgrade`'s own help says so). A server stopped in the
middle, as a run shorter than the server's start-up stops it, left a database that every later
server refused ("table secrets already exists"). So the schema is built in a file of its own
and linked into place only once complete: `link` never replaces a database another runner made
first, and a creation cut short leaves only a partial file, which the next start removes. A
database an older dermatune left half made in place is set aside, since it holds nothing.

It runs in the server's own process, so the creation costs no second interpreter start.
Usage: python mlflow_serve.py <database-file> server [mlflow server options...]
"""

import os
import re
import sqlite3
import sys
import time
import uuid

from server_guard import alive  # beside this file, so on the path of a script run from here

# A partial database, and SQLite's files beside it (its rollback journal after a kill).
PARTIAL = re.compile(r"^(?P<db>.+)\.(?P<pid>\d+)\.[0-9a-f]+\.partial(-journal|-wal|-shm)?$")
SQLITE_SIDE_FILES = ("", "-journal", "-wal", "-shm")
# Stamped into SQLite's user_version (which neither MLflow nor Alembic uses) once a creation is
# complete, before the link: a database without it and without any experiment is one an older
# dermatune left half made. A complete one gains MLflow's Default experiment only when a server
# first opens it, so "holds nothing" alone would also match a database just linked by a peer.
CREATED_COMPLETE = 0x6474


def remove_abandoned_partials(database: str) -> None:
    folder, name = os.path.split(database)
    for entry in os.listdir(folder):
        match = PARTIAL.match(entry)
        if match and match["db"] == name and not alive(int(match["pid"])):
            try:
                os.unlink(os.path.join(folder, entry))
            except FileNotFoundError:
                pass


def unfinished(database: str) -> bool:
    """True for a database not stamped complete that has no experiment and no run, not even the
    Default experiment every database an older dermatune's server finished creating has."""
    try:
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    except sqlite3.OperationalError:
        if os.path.exists(database):
            raise
        return False  # another runner's server set it aside a moment ago
    try:
        if connection.execute("PRAGMA user_version").fetchone()[0] == CREATED_COMPLETE:
            return False
        listed = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = {row[0] for row in listed}
        for table in ("experiments", "runs"):
            if table in tables and connection.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():
                return False
        return True
    finally:
        connection.close()


def set_aside_unfinished(database: str) -> None:
    """Moves away a database whose creation was cut short before this safe creation existed (a
    server stopped mid-migration wrote into mlflow.db itself). Such a file holds nothing, since
    no server ever served it, and every server refuses it; what the runs logged is still in the
    journal, which the next run or `dermatune sync` replays. It is kept beside, never deleted."""
    if os.path.exists(database) and unfinished(database):
        aside = f"{database}.unfinished-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
        try:
            os.rename(database, aside)
        except FileNotFoundError:
            return  # another runner's server set it aside first
        print(
            f"dermatune: set aside an MLflow database whose creation was cut short: {aside}",
            file=sys.stderr,
        )


def ensure_database(database: str) -> None:
    # Every start clears what earlier creations left, not only a start that creates: a creation
    # cut short is often followed at once by a start that finds the database another run made.
    remove_abandoned_partials(database)
    set_aside_unfinished(database)
    if os.path.exists(database):
        return
    partial = f"{database}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial"
    from mlflow.cli import cli

    try:
        # The public command: on an empty database it creates every table at the latest schema.
        cli.main(args=["db", "upgrade", f"sqlite:///{partial}"], standalone_mode=False)
        stamp = sqlite3.connect(partial)
        try:
            stamp.execute(f"PRAGMA user_version = {CREATED_COMPLETE}")
            stamp.commit()
        finally:
            stamp.close()
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
