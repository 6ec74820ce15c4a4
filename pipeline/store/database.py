"""The product's database: one DuckDB file, its locks, and the one transaction helper.

DuckDB lets one process hold a file open for writing and locks everyone else out, readers
included. So connections here are short-lived (opened per transaction, closed straight after),
and every callqa process coordinates through two OS file locks beside the database, which the
kernel releases even on kill -9:

    <db>.access   shared while a connection reads, exclusive while one writes. A process that
                  finds it taken waits with back-off (`wait_s`), then raises `StoreBusy`. "Busy"
                  is known from the lock itself, never guessed from an error message.
    <db>.lock     held for a whole scoring run (score, rescore, import, retention): a second run
                  is refused at once, saying who holds it. Short writers that do not change scores
                  (a reviewer's verdict in the web app) skip it and interleave with the run
                  between its per-call transactions.

All writes go through `Store.transaction()`; the statements themselves live in
`pipeline.store.writes`, the read queries in `pipeline.store.reads`.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import time
from contextlib import contextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Iterator

import duckdb
import pandas as pd

from pipeline.settings import default_db


def schema_sql() -> str:
    """The schema (tables and views), shipped as package data beside this module."""
    return resources.files("pipeline.store").joinpath("schema.sql").read_text(encoding="utf-8")


def schema_stamp() -> str:
    """A hash of the schema: a database stamped with another one has not been migrated to it yet."""
    return hashlib.sha256(schema_sql().encode("utf-8")).hexdigest()[:16]


class StoreBusy(RuntimeError):
    """Another callqa process holds the database (a scoring run, or a writer that did not let go)."""


class NoDatabase(FileNotFoundError):
    """A reader was pointed at a database that does not exist yet."""


class StorageError(RuntimeError):
    """The database cannot be used at all: not a DuckDB file, a directory, no space, no access.

    Told apart from `StoreBusy` at once: callqa's own lock says whether a callqa process holds
    the file, and a probe of DuckDB's own file lock whether any other process does.
    """


def _held_by_another_process(path: Path, exclusive: bool) -> bool:
    """Whether another process holds DuckDB's lock on the file (a non-callqa DuckDB client)."""
    try:
        with open(path, "rb+" if exclusive else "rb") as probe:
            fcntl.lockf(probe, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


class Store:
    """One callqa DuckDB file: short-lived connections, transactions and the run lock."""

    def __init__(self, path: str | Path | None = None, wait_s: float = 120.0, read_only: bool = False) -> None:
        """Open (writers: create or migrate) the database; readers never create or change it."""
        self.path = Path(path).expanduser() if path is not None else default_db()
        self.wait_s = wait_s
        if read_only:
            if not self.path.is_file():
                raise NoDatabase(f"no callqa database at {self.path}: run `callqa score` first, or pass --db")
            self._migrate_if_outdated()
            return
        if self.path.is_dir():
            raise StorageError(f"{self.path} is a directory, not a database file: pass --db FOLDER/callqa.duckdb")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the database folder {self.path.parent}: {exc.strerror}") from None
        self._migrate()

    def _migrate(self) -> None:
        """Apply the schema (CREATE ... IF NOT EXISTS, ALTER ... IF NOT EXISTS, backfills that insert
        only what is missing): idempotent, so it brings any earlier database up to date."""
        with self.transaction() as con:
            con.execute(schema_sql())
            con.execute("DELETE FROM callqa_schema")
            con.execute("INSERT INTO callqa_schema VALUES (?)", [schema_stamp()])

    def _migrate_if_outdated(self) -> None:
        """A reader of a database written by an earlier callqa migrates it once (new tables and
        views, no data changed), so read commands never meet a missing table. A file that cannot
        be written (read-only media) is read as it is."""
        try:
            with self.connect(read_only=True) as con:
                stamp = con.execute("SELECT max(stamp) FROM callqa_schema").fetchone()[0]
        except duckdb.CatalogException:
            stamp = None
        except (duckdb.Error, StorageError):
            return  # not readable as a database: the caller's first read says why
        if stamp == schema_stamp():
            return
        try:
            self._migrate()
        except StorageError:
            pass

    # --- locks ---------------------------------------------------------------------------------

    def _lock_path(self, suffix: str) -> Path:
        return self.path.with_name(f"{self.path.name}.{suffix}")

    def _open_lock_file(self, suffix: str):
        try:
            return open(self._lock_path(suffix), "a+")
        except OSError as exc:
            raise StorageError(f"cannot write beside the database ({self._lock_path(suffix)}): {exc.strerror}") from None

    @contextmanager
    def _access(self, exclusive: bool) -> Iterator[None]:
        """Hold the access lock (shared to read, exclusive to write), waiting up to `wait_s`."""
        handle = self._open_lock_file("access")
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        deadline, delay = time.monotonic() + self.wait_s, 0.02
        try:
            while True:
                try:
                    fcntl.flock(handle, mode | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise StoreBusy(
                            f"{self.path} is in use by another callqa process; gave up after {self.wait_s:.0f} s"
                        ) from None
                    time.sleep(delay)
                    delay = min(delay * 2, 1.0)
            yield
        finally:
            handle.close()  # closing releases the lock

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection under the access lock (shared for readers)."""
        read_only = read_only and self.path.exists()
        deadline, delay = time.monotonic() + self.wait_s, 0.05
        with self._access(exclusive=not read_only):
            while True:
                try:
                    con = duckdb.connect(str(self.path), read_only=read_only)
                    break
                except duckdb.Error as exc:
                    if not _held_by_another_process(self.path, exclusive=not read_only):
                        raise StorageError(f"cannot open {self.path}: {exc}") from None
                    if time.monotonic() > deadline:
                        raise StoreBusy(f"{self.path} is held by another program; gave up after {self.wait_s:.0f} s") from None
                    time.sleep(delay)
                    delay = min(delay * 2, 1.0)
            try:
                yield con
            finally:
                con.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The one way to write: a connection inside BEGIN ... COMMIT, rolled back on any error."""
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException as exc:
                self._rollback(con)
                if isinstance(exc, duckdb.IOException):
                    raise StorageError(f"could not write to {self.path}: {exc}") from exc
                raise
            try:
                con.execute("COMMIT")
            except duckdb.Error as exc:  # the statements all ran: only writing them out can fail (disk full)
                self._rollback(con)
                raise StorageError(f"could not write to {self.path} (disk full?): {exc}") from exc

    @staticmethod
    def _rollback(con: duckdb.DuckDBPyConnection) -> None:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass  # DuckDB already aborted it: nothing of the transaction was committed

    @contextmanager
    def run_lock(self) -> Iterator[None]:
        """Hold the database for one run that changes scores; a second one refuses at once."""
        handle = self._open_lock_file("lock")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                handle.close()
                raise
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise StoreBusy(f"another callqa run is writing to {self.path} ({holder}); run again when it has finished") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now():%Y-%m-%d %H:%M:%S}")
        handle.flush()
        try:
            yield
        finally:
            handle.close()

    # --- reading -------------------------------------------------------------------------------

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """Run a read query (parameters bound, never formatted in) and return a DataFrame."""
        with self.connect(read_only=True) as con:
            return con.execute(sql, params or []).df()
